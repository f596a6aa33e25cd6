"""Explanations (giải thích điểm bị trừ): for one unit and period, the points lost on every indicator,
the dossiers (or procedures, or PAKN) behind the shortfall with the reason, and the three actions that
gain the most points for the fewest items.

The items behind an indicator are the rows of its denominator measure that are not in its numerator:
``<denominator where> AND NOT (<numerator where>)`` over the same facts the score was computed from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from chiso.config import Config
from chiso.rules.arithmetic import indicator_score, round_half_up
from chiso.rules.model import Indicator, RuleSet
from chiso.scoring.engine import FACT_TABLES, Facts, measure_counts
from chiso.scoring.period import Period
from chiso.status.stored_due import kept as kept_dues
from chiso.store.db import Store

ID_COLUMN = {"dossiers": "dossier_id", "procedures": "procedure_code", "feedback": "feedback_id"}
MAX_ITEMS = 1000


@dataclass
class Shortfall:
    code: str
    name: str
    lost: float
    numerator: float | None
    denominator: float | None
    reason: str
    items: list[str] = field(default_factory=list)
    item_count: int = 0
    over: str = ""


@dataclass
class Action:
    code: str
    text: str
    items: int
    gain: float


def items_needed(ind: Indicator, num: float, den: float) -> int:
    """Items to move into the numerator to reach the indicator's maximum (all of them when linear)."""
    if ind.kind == "threshold" and ind.threshold:
        return max(0, math.ceil(ind.threshold * den - 1e-9) - int(num))
    return int(den - num)


def best_actions(rs: RuleSet, shortfalls: list[Shortfall], count: int = 3) -> list[Action]:
    actions = []
    for s in shortfalls:
        ind = rs.indicator(s.code)
        if not ind.action or not s.denominator or s.numerator is None:
            continue
        n = min(items_needed(ind, s.numerator, s.denominator), s.item_count)
        if n <= 0:
            continue
        before = indicator_score(ind, s.numerator, s.denominator, rs.rounding)
        gain = round_half_up(indicator_score(ind, s.numerator + n, s.denominator, rs.rounding) - before, rs.rounding)
        if gain > 0:
            actions.append(Action(s.code, ind.action.format(n=n), n, gain))
    actions.sort(key=lambda a: (-a.gain / a.items, -a.gain, a.code))
    return actions[:count]


def _shortfall(rs: RuleSet, ind: Indicator, entry: dict[str, Any]) -> Shortfall | None:
    lost = round_half_up(ind.max - entry["score"], rs.rounding)
    if ind.kind == "display" or lost <= 0:
        return None
    return Shortfall(ind.code, ind.name, lost, entry["numerator"], entry["denominator"],
                     ind.shortfall or f"không đạt: {ind.name}")


def _missing_sql(rs: RuleSet, ind: Indicator, what: str, tail: str) -> str:
    """Rows of the indicator's denominator measure that are not in its numerator, per closure ancestor."""
    assert ind.numerator and ind.denominator
    num, den = rs.measures[ind.numerator], rs.measures[ind.denominator]
    return (f"SELECT {what} FROM {FACT_TABLES[den.over]} f "
            f"JOIN unit_closure c ON c.descendant = f.unit_code "
            f"WHERE ({den.where}) AND NOT COALESCE(({num.where}), FALSE) {tail}")


def explain_unit(store: Store, rs: RuleSet, result: dict[str, Any], period: Period, as_of: datetime,
                 config: Config, *, facts_ready: bool = False) -> dict[str, Any]:
    """``facts_ready``: the period was the last one scored on ``store`` (``score_period`` leaves its fact tables
    behind), so they are read as they are instead of being built again (half the time of `chiso explain`)."""
    if not facts_ready:
        # the fact tables of the period
        measure_counts(store, rs, Facts(period, period.moment(as_of), config, dialect=store.dialect,
                                          stored_due=kept_dues(store)))
    unit = result["code"]
    shortfalls: list[Shortfall] = []
    for ind in rs.indicators:
        s = _shortfall(rs, ind, result["indicators"][ind.code])
        if s is None:
            continue
        if ind.source == "dossiers" and ind.numerator and ind.denominator:
            den = rs.measures[ind.denominator]
            s.over = den.over
            ident = ID_COLUMN[den.over]
            sql = _missing_sql(rs, ind, f"DISTINCT f.{ident}", "AND c.ancestor = ? ORDER BY 1")
            rows = store.con.execute(sql, [unit]).fetchall()
            s.item_count = len(rows)
            s.items = [str(r[0]) for r in rows[:MAX_ITEMS]]
        elif ind.source == "input":
            s.reason = "số liệu nhập tay (indicator_inputs) hoặc kế thừa từ tỉnh"
        shortfalls.append(s)
    shortfalls.sort(key=lambda s: (-s.lost, s.code))
    actions = best_actions(rs, shortfalls)
    return {
        "code": unit, "name": result["name"], "period": period.label, "rule_set": rs.name,
        "total": result["total"], "lost": round_half_up(100 - result["total"], rs.rounding),
        "shortfalls": [s.__dict__ for s in shortfalls],
        "actions": [a.__dict__ for a in actions],
    }


def actions_by_unit(store: Store, rs: RuleSet, results: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The best three actions of every unit at once (what :func:`explain_unit` gives one unit), for letters to
    all units. Reads the fact tables of the period just scored (``score_period`` leaves them behind), with one
    grouped count per indicator instead of one item list per unit and indicator."""
    missing: dict[str, dict[str, int]] = {}
    for ind in rs.indicators:
        if ind.source != "dossiers" or not ind.numerator or not ind.denominator or not ind.action:
            continue
        ident = ID_COLUMN[rs.measures[ind.denominator].over]
        rows = store.con.execute(_missing_sql(rs, ind, f"c.ancestor, count(DISTINCT f.{ident})",
                                              "GROUP BY c.ancestor")).fetchall()
        missing[ind.code] = {str(r[0]): int(r[1]) for r in rows}
    out: dict[str, list[dict[str, Any]]] = {}
    for result in results:
        shortfalls = []
        for ind in rs.indicators:
            s = _shortfall(rs, ind, result["indicators"][ind.code])
            if s is not None:
                s.item_count = missing.get(ind.code, {}).get(result["code"], 0)
                shortfalls.append(s)
        shortfalls.sort(key=lambda s: (-s.lost, s.code))
        out[result["code"]] = [a.__dict__ for a in best_actions(rs, shortfalls)]
    return out
