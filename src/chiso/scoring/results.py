"""Assembling unit results from indicator values: scores, group and total sums of the rounded parts,
ranks among peers, bands. The stable JSON shape of ``chiso score`` and ``chiso simulate``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chiso.rules.arithmetic import competition_rank, indicator_score, round_half_up
from chiso.rules.model import RuleSet


@dataclass
class IndicatorValue:
    numerator: float | None = None
    denominator: float | None = None
    official_score: float | None = None
    official_numerator: float | None = None  # the portal's counts, when imported (chiso import-official)
    official_denominator: float | None = None
    missing: bool = False  # a staff-entered input never entered for this unit (chưa có số liệu)


# Why our value and the official one differ (nguyên nhân chênh lệch), from the counts on both sides.
CAUSES = {
    "missing_dossiers": "thiếu hồ sơ so với Cổng DVCQG",
    "sync_gap": "hồ sơ chưa đồng bộ lên Cổng DVCQG",
    "status_differs": "trạng thái, thời hạn hồ sơ khác nhau",
    "rule": "khác cách tính (phiên bản bộ chỉ số)",
    "unknown": "không có tử số, mẫu số chính thức để đối chiếu",
}


def difference_cause(numerator: float | None, denominator: float | None, official_numerator: float | None,
                     official_denominator: float | None, rule_score: float | None,
                     official_score: float | None) -> str:
    """The likely cause of a difference: fewer dossiers here than on the portal (missing dossiers), more here
    (not synced to the portal), the same number counted differently (status or dates differ), or the same counts
    scored differently (the rule version)."""
    if official_numerator is None or official_denominator is None:
        return "unknown"
    if (numerator or 0.0) == official_numerator and (denominator or 0.0) == official_denominator:
        return "rule"
    if rule_score is not None and official_score is not None and rule_score != official_score:
        return "rule"
    if (denominator or 0.0) < official_denominator:
        return "missing_dossiers"
    if (denominator or 0.0) > official_denominator:
        return "sync_gap"
    return "status_differs"


@dataclass
class UnitInput:
    code: str
    name: str = ""
    level: str = ""
    parent_code: str | None = None
    peer_key: str = ""  # units with the same key are ranked together
    values: dict[str, IndicatorValue] = field(default_factory=dict)
    official_groups: dict[str, float] = field(default_factory=dict)


def unit_result(rs: RuleSet, unit: UnitInput) -> dict[str, Any]:
    places = rs.rounding
    indicators: dict[str, Any] = {}
    groups: dict[str, Any] = {}
    computed_groups: dict[str, float] = {}  # from the province's data only (no official value substituted)
    for g in rs.groups:
        group_sum = computed_sum = 0.0
        for ind in rs.group_indicators(g.code):
            v = unit.values.get(ind.code, IndicatorValue())
            computed = 0.0 if v.missing else indicator_score(ind, v.numerator, v.denominator, places)
            entry: dict[str, Any] = {
                "numerator": v.numerator, "denominator": v.denominator,
                "ratio": None if not v.denominator else round_half_up((v.numerator or 0) / v.denominator, 6),
                "score": computed, "max": ind.max,
            }
            counts = v.official_numerator is not None and v.official_denominator is not None
            rule_score = indicator_score(ind, v.official_numerator, v.official_denominator, places) if counts \
                else None
            if counts:
                entry["official_numerator"] = v.official_numerator
                entry["official_denominator"] = v.official_denominator
                entry["official_rule_score"] = rule_score  # our rules on the portal's counts
            theirs = v.official_score if v.official_score is not None else rule_score
            if v.official_score is not None:
                entry["official_score"] = v.official_score
                entry["computed_score"] = computed
                entry["difference"] = round_half_up(v.official_score - computed, places)
                entry["score"] = v.official_score
            if theirs is not None and round_half_up(theirs - computed, places) != 0:
                entry["cause"] = difference_cause(v.numerator, v.denominator, v.official_numerator,
                                                  v.official_denominator, rule_score, v.official_score)
            if ind.provisional and v.official_score is None:
                entry["provisional"] = True
            if v.missing:  # counted as 0 and said so: the total is provisional until it is entered
                entry["missing"] = True
                entry["provisional"] = True
            indicators[ind.code] = entry
            group_sum += entry["score"]
            computed_sum += computed
        group_score = round_half_up(group_sum, places)
        groups[g.code] = {"score": group_score, "max": g.max}
        computed_groups[g.code] = round_half_up(computed_sum, places)
        if computed_groups[g.code] != group_score:
            groups[g.code]["computed_score"] = computed_groups[g.code]
        if g.code in unit.official_groups:
            groups[g.code]["computed_score"] = group_score
            groups[g.code]["score"] = unit.official_groups[g.code]
            groups[g.code]["official"] = True
            for ind in rs.group_indicators(g.code):  # the official group score replaces any provisional part
                indicators[ind.code].pop("provisional", None)
    total = round_half_up(sum(x["score"] for x in groups.values()), places)
    out: dict[str, Any] = {
        "code": unit.code, "name": unit.name, "level": unit.level, "parent_code": unit.parent_code,
        "rule_set": rs.name, "total": total, "rank": None, "classification": rs.classify(total),
        "provisional": any(e.get("provisional") for e in indicators.values()),
        "groups": groups, "indicators": indicators,
    }
    missing = [code for code, e in indicators.items() if e.get("missing")]
    if missing:
        out["missing_inputs"] = missing
    computed_total = round_half_up(sum(computed_groups.values()), places)
    if computed_total != total:
        out["computed_total"] = computed_total
    return out


def rank(results: list[dict[str, Any]], peer_keys: list[str], rs: RuleSet) -> None:
    """Competition ranks among peers, overall and per group (in place)."""
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(peer_keys):
        if not key:  # not ranked (units.ranked = FALSE): no rank, and no place among the others
            results[i]["ranked"] = False
            continue
        by_key.setdefault(key, []).append(i)
    for members in by_key.values():
        for i, r in zip(members, competition_rank([results[m]["total"] for m in members]), strict=True):
            results[i]["rank"] = r
        for g in rs.groups:
            scores = [results[m]["groups"][g.code]["score"] for m in members]
            for i, r in zip(members, competition_rank(scores), strict=True):
                results[i]["groups"][g.code]["rank"] = r


def assemble(rs: RuleSet, units: list[UnitInput]) -> list[dict[str, Any]]:
    results = [unit_result(rs, u) for u in units]
    rank(results, [u.peer_key for u in units], rs)
    return results
