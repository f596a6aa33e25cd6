"""The index engine (tính Bộ chỉ số) over the store: one grouped pass per fact table and period.

1. Facts at the period's scoring moment (its last second, or ``as_of`` while it runs):
   ``dossier_facts`` (one row per dossier received by then, with its status from
   :mod:`chiso.status.timeliness`), ``procedure_facts`` (procedures applicable to each unit) and
   ``feedback_facts``.
2. Every measure of the rule set is a ``count(...) FILTER (WHERE <measure>)`` over a fact table joined to
   the unit closure (each unit with all units below it), grouped by unit: a parent is counted from all
   dossiers of itself and its descendants, never by averaging children.
3. Indicators without dossier data come from ``indicator_inputs``; official scores there win.
4. The rule set's arithmetic (:mod:`chiso.scoring.results`) turns the counts into scores and ranks.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chiso.config import Config
from chiso.rules.model import Measure, RuleSet
from chiso.scoring import kept_groups
from chiso.scoring.period import Period
from chiso.scoring.results import IndicatorValue, UnitInput, assemble
from chiso.status.stored_due import Kept
from chiso.status.stored_due import kept as kept_dues
from chiso.status.timeliness import StatusQuery, ts_literal
from chiso.store.db import Store

CLOSURE_SQL = """
WITH RECURSIVE closure(ancestor, descendant, depth) AS (
    SELECT code, code, 0 FROM units
    UNION ALL
    SELECT c.ancestor, u.code, c.depth + 1 FROM closure c JOIN units u ON u.parent_code = c.descendant
    WHERE c.depth < 10)
SELECT DISTINCT ancestor, descendant FROM closure
"""
PAKN_WORKING_DAYS = 15
FACT_TABLES = {"dossiers": "dossier_facts", "procedures": "procedure_facts", "feedback": "feedback_facts"}


FLAGS = ("paid_online", "e_result", "digitized", "reused_data", "shared_to_citizen_store", "used_population_data",
         "synced_to_portal", "complained")  # the dossier's yes/no facts the measures read


CARRY = ("channel", "fee_amount", "rating", *FLAGS)  # the columns of the dossier row the facts read


def _bool(col: str) -> str:
    return f"COALESCE(s.{col}, FALSE) AS {col}"


def facts_select(status: str, timeliness: str, period_columns: str) -> str:
    """The fact row of each dossier of the ``status`` query (which carries :data:`CARRY`): its class
    (``timeliness``), what the period makes of it (``period_columns``), its own facts and its procedure's."""
    bools = ", ".join(_bool(c) for c in FLAGS)
    return f"""
SELECT s.dossier_id, s.unit_code, s.procedure_code, {timeliness} AS timeliness, s.end_at, s.due_at,
       {period_columns},
       s.channel, COALESCE(s.fee_amount, 0) AS fee_amount, s.rating, {bools},
       COALESCE(p.full_online_eligible, p.online_level = 'full', FALSE) AS p_full_online_eligible,
       COALESCE(p.fee_bearing, FALSE) AS p_fee_bearing, COALESCE(p.paper_result, FALSE) AS p_paper_result,
       COALESCE(p.data_replaceable, FALSE) AS p_data_replaceable, p.online_level AS p_online_level
FROM ({status}) s
JOIN procedures p ON p.code = s.procedure_code
"""


def feedback_due_sql() -> str:
    """The default PAKN deadline (hạn xử lý phản ánh, kiến nghị) of every feedback row: the end (17:00) of the
    15th working day after reception, on the unit's province calendar. Used where ``due_at`` is empty, by the
    index and by the one-stop evaluation alike."""
    return f"""
    SELECT f2.feedback_id, CAST(w.day AS TIMESTAMP) + INTERVAL '17 hours' AS due
    FROM feedback f2 JOIN units u2 ON u2.code = f2.unit_code
    JOIN calendar_days c ON c.calendar_key = COALESCE(u2.province_code, '') AND c.day = CAST(f2.received_at AS DATE)
    JOIN calendar_days w ON w.calendar_key = c.calendar_key AND w.is_working
         AND w.working_ordinal = c.working_ordinal + {PAKN_WORKING_DAYS}"""


HANDLED = ("bool_or(handled) AS has_dossiers, bool_or(handled AND paid_online) AS paid_online, "
           "bool_or(handled AND used_population_data) AS used_population_data")
HANDLED_FROM_FACTS = (f"SELECT unit_code, procedure_code, {HANDLED} FROM dossier_facts "
                      "GROUP BY unit_code, procedure_code")
HANDLED_FROM_GROUPS = ("SELECT unit_code, procedure_code, has_dossiers, paid_online, used_population_data "
                       "FROM dossier_groups")


@dataclass(frozen=True)
class Facts:
    period: Period
    moment: datetime
    config: Config
    # What-if of the month-end forecast: dossiers in progress in time (not waiting for the citizen) whose due
    # moment is before this one count as open past their due date.
    late_if_due_before: datetime | None = None
    dialect: str | None = None  # the engine's (StatusQuery.dialect)
    stored_due: Kept | None = None  # StatusQuery.stored_due: from chiso.status.stored_due.kept

    def timeliness_sql(self) -> str:
        if self.late_if_due_before is None:
            return "s.timeliness"
        return (f"CASE WHEN s.timeliness = 'pending' AND s.waiting_since IS NULL AND s.due_at < "
                f"{ts_literal(self.late_if_due_before)} THEN 'pending_late' ELSE s.timeliness END")

    def dossiers_sql(self, kept: kept_groups.Use | None = None) -> str:
        """One row per dossier of the period at its moment; with ``kept``, only the dossiers its counts do not hold
        (the live part), read from the rows it says."""
        start = ts_literal(datetime.combine(self.period.start, datetime.min.time()))
        query = StatusQuery(as_of=self.moment, config=self.config,
                            ended_since=datetime.combine(self.period.start, datetime.min.time()),
                            carry=CARRY, dialect=self.dialect, stored_due=self.stored_due)
        if kept:
            query = replace(query, where=kept.live_where(), source=kept.source(), pauses=kept.pauses(), own_rows=True)
        status = query.sql()
        return facts_select(status, self.timeliness_sql(), f"s.received_at >= {start} AS received_in_period, "
                            f"(s.end_at IS NULL OR s.end_at >= {start}) AS handled")

    def procedures_sql(self, handled: str = HANDLED_FROM_FACTS, by_number: bool = False) -> str:
        """Procedures applicable to each unit (``applicable_procedures``, :data:`APPLICABLE_SQL`) with, from
        ``handled`` (per unit and procedure), whether the unit handled any dossier of it in the period, one paid
        online, one that used population data. ``procedure_key`` is what the counts group a procedure by.
        ``by_number``: ``handled`` and ``applicable_procedures`` carry the kept numbers of the pair and the procedure
        (``pair_id``, ``procedure_no``: :mod:`chiso.scoring.kept_groups`), joined and grouped by instead of texts."""
        key, on, applicable = ("a.procedure_no", "f.pair_id = a.pair_id", kept_groups.APPLICABLE) if by_number else (
            "a.procedure_code", "f.unit_code = a.unit_code AND f.procedure_code = a.procedure_code",
            "applicable_procedures")
        return f"""
SELECT a.unit_code, a.procedure_code, {key} AS procedure_key, a.fee_bearing,
       COALESCE(f.has_dossiers, FALSE) AS has_dossiers, COALESCE(f.paid_online, FALSE) AS paid_online,
       COALESCE(f.used_population_data, FALSE) AS used_population_data
FROM {applicable} a
LEFT JOIN ({handled}) f ON {on}
"""

    def feedback_sql(self) -> str:
        start = ts_literal(datetime.combine(self.period.start, datetime.min.time()))
        moment = ts_literal(self.moment)
        return f"""
SELECT f.feedback_id, f.unit_code, f.about, f.satisfied,
       f.received_at >= {start} AND f.received_at <= {moment} AS received_in_period,
       f.handled_at IS NOT NULL AND f.handled_at >= {start} AND f.handled_at <= {moment} AS handled_in_period,
       (f.handled_at IS NOT NULL AND f.handled_at >= {start} AND f.handled_at <= {moment})
         OR (f.handled_at IS NULL AND COALESCE(f.due_at, dd.due) <= {moment}
             AND COALESCE(f.due_at, dd.due) >= {start}) AS due_in_period,
       f.handled_at IS NOT NULL AND f.handled_at <= {moment}
         AND f.handled_at <= COALESCE(f.due_at, dd.due) AS handled_on_time
FROM feedback f
JOIN units u ON u.code = f.unit_code
LEFT JOIN feedback_due dd ON dd.feedback_id = f.feedback_id
WHERE f.received_at <= {moment}
"""


PAIRS_SQL = "SELECT DISTINCT unit_code, procedure_code FROM dossiers"  # every unit's procedures with dossiers
# Procedures applicable to each unit, whatever the period: communes and districts the procedures of their level that
# apply in their province (``procedure_scope``: every one, unless a national lake says which provinces publish it);
# every unit also the procedures it has handled dossiers for (``unit_procedures``; departments have no level list).
def applicable_sql(unit_procedures: str = "unit_procedures") -> str:
    """The procedures applicable to each unit, with ``unit_procedures`` naming every unit's procedures with dossiers
    (the command's temporary table, or the store's kept one: :data:`chiso.scoring.kept_groups.APPLICABLE`)."""
    return f"""
SELECT a.unit_code, a.procedure_code, COALESCE(p.fee_bearing, FALSE) AS fee_bearing
FROM (SELECT u.code AS unit_code, p.code AS procedure_code FROM units u JOIN procedures p ON p.level = u.level
      WHERE u.level IN ('commune', 'district')
        AND p.code NOT IN (SELECT procedure_code FROM procedure_scope)
      UNION SELECT u.code, p.code FROM units u
      JOIN procedure_scope here ON here.province_code = u.province_code
      JOIN procedures p ON p.code = here.procedure_code AND p.level = u.level
      WHERE u.level IN ('commune', 'district')
      UNION SELECT unit_code, procedure_code FROM {unit_procedures}) a
JOIN procedures p ON p.code = a.procedure_code
"""


APPLICABLE_SQL = applicable_sql()


def dossier_measures(rs: RuleSet) -> list[Measure]:
    """The measures over dossiers the rule set's indicators use."""
    used = {m for i in rs.indicators if i.source == "dossiers" for m in (i.numerator, i.denominator) if m}
    return [rs.measures[m] for m in sorted(used) if rs.measures[m].over == "dossiers"]


def build_sql(rs: RuleSet, facts: Facts, keep_facts: bool = True, pairs_ready: bool = False,
              kept: kept_groups.Use | None = None) -> tuple[list[str], dict[str, str]]:
    """The statements that build the fact tables, and one grouped count query per fact table.

    With ``keep_facts`` the period's dossiers are kept as ``dossier_facts``, one row each, for what reads them
    after the scoring (explain, publish, the letter's actions). Without it they stream once into
    ``dossier_groups``, one row per unit and procedure holding every measure's count: the dossier counts are
    additive, so a unit's count is the sum over its and its descendants' groups. At 10 million dossiers writing
    the per-dossier table was a third of the scoring.

    ``unit_procedures`` (every unit's procedures with dossiers, whatever the period: a read of every dossier),
    ``applicable_procedures`` (:data:`APPLICABLE_SQL`) and ``feedback_due`` (every feedback's default deadline) are
    built unless ``pairs_ready`` says the caller's scoring of another period of the same data just built them.
    Without ``keep_facts`` the procedures' and the feedback's fact rows are subqueries of their counts, not tables.

    With ``kept`` (only without ``keep_facts``) the groups add the counts kept in the store for the dossiers whose
    facts are final (:mod:`chiso.scoring.kept_groups`) to those of the others, counted live (:func:`_kept_tables`);
    ``unit_procedures`` comes from the store's kept pairs.

    Plain SQL in the subset DuckDB and PostgreSQL share (tests/test_store_postgres.py runs it on both).
    """
    used = {m for i in rs.indicators if i.source == "dossiers" for m in (i.numerator, i.denominator) if m}
    measures = dossier_measures(rs)
    if keep_facts:
        tables = [("dossier_facts", facts.dossiers_sql()), ("procedure_facts", facts.procedures_sql())]
    else:
        if kept:
            tables = _kept_tables(facts, kept, measures)
        else:
            counts = "".join(f', count(*) FILTER (WHERE {m.where}) AS "{m.name}"' for m in measures)
            groups = (f"SELECT unit_code, procedure_code{counts}, {HANDLED} FROM ({facts.dossiers_sql()}) f "
                      "GROUP BY unit_code, procedure_code")
            tables = [("dossier_groups", groups), ("procedure_facts", facts.procedures_sql(HANDLED_FROM_GROUPS))]
    setup = [f"DROP TABLE IF EXISTS {t}" for t in ("dossier_facts", "dossier_groups", "procedure_facts",
                                                   "feedback_facts")]  # none of another scoring left behind
    pairs = [] if pairs_ready else [("feedback_due", feedback_due_sql())]
    if kept and not pairs_ready:  # read from the store's (kept_groups.APPLICABLE) by this scoring; copied for a next
        # period's that cannot read the kept counts (a range of another first day)
        pairs.append(("applicable_procedures", f"SELECT unit_code, procedure_code, fee_bearing "
                                               f"FROM {kept_groups.APPLICABLE}"))
    elif not pairs_ready:
        pairs += [("unit_procedures", PAIRS_SQL), ("applicable_procedures", APPLICABLE_SQL)]
    tables.append(("feedback_facts", facts.feedback_sql()))
    # Without keep_facts the procedures' and the feedback's fact rows are read once, by their count: not written as
    # tables (explain and the letters' actions read all three tables of a kept scoring).
    inline = {} if keep_facts else dict(tables[1:])
    for name, select in (("unit_closure", CLOSURE_SQL), *pairs, *(t for t in tables if t[0] not in inline)):
        setup += [f"DROP TABLE IF EXISTS {name}", f"CREATE TEMP TABLE {name} AS {select}"]

    def facts_of(name: str) -> str:
        return f"({inline[name]})" if name in inline else name

    queries: dict[str, str] = {}
    for table in ("dossiers", "procedures", "feedback"):
        measures = [rs.measures[m] for m in sorted(used) if rs.measures[m].over == table]
        if not measures:
            continue
        if table == "dossiers" and not keep_facts:
            cols = ", ".join(f'sum(f."{m.name}") AS "{m.name}"' for m in measures)
            queries[table] = (f"SELECT c.ancestor, {cols} FROM dossier_groups f "
                              "JOIN unit_closure c ON c.descendant = f.unit_code GROUP BY c.ancestor")
            continue
        if table == "procedures":
            # Each procedure counted once per unit: one row per (unit, procedure) with each measure's condition
            # held by any of its rows, then counted. The same as count(DISTINCT procedure_code) FILTER (…), which
            # took 5 s for the 34 provinces' units and their procedures (a distinct set per unit and measure).
            # A unit with units below it flags each procedure over its own rows and theirs; a unit without any reads
            # its own rows, one per procedure already (the applicable procedures are a set per unit): half the rows
            # grouped by two keys.
            flags = ", ".join(f'bool_or(COALESCE({m.where}, FALSE)) AS "{m.name}"' for m in measures)
            own = ", ".join(f'COALESCE({m.where}, FALSE) AS "{m.name}"' for m in measures)
            cols = ", ".join(f'count(*) FILTER (WHERE g."{m.name}") AS "{m.name}"' for m in measures)
            parents = "(SELECT ancestor FROM unit_closure WHERE ancestor <> descendant)"
            queries[table] = (
                f"WITH pf AS MATERIALIZED (SELECT * FROM {facts_of('procedure_facts')} f), "
                f"g AS (SELECT c.ancestor, f.procedure_key, {flags} FROM pf f "
                f"JOIN unit_closure c ON c.descendant = f.unit_code WHERE c.ancestor IN {parents} "
                f"GROUP BY c.ancestor, f.procedure_key UNION ALL SELECT f.unit_code, f.procedure_key, {own} FROM pf f "
                f"WHERE f.unit_code NOT IN {parents}) SELECT g.ancestor, {cols} FROM g GROUP BY g.ancestor")
            continue
        cols = ", ".join(f'count(*) FILTER (WHERE {m.where}) AS "{m.name}"' for m in measures)
        queries[table] = (f"SELECT c.ancestor, {cols} FROM {facts_of(FACT_TABLES[table])} f "
                          f"JOIN unit_closure c ON c.descendant = f.unit_code GROUP BY c.ancestor")
    return setup, queries


def _kept_tables(facts: Facts, kept: kept_groups.Use, measures: list[Measure]) -> list[tuple[str, str]]:
    """``dossier_groups`` and ``procedure_facts`` from the kept counts and the live ones (:mod:`chiso.scoring.
    kept_groups`): the kept counts one row per unit (no procedure), the live dossiers (open at the moment and a few
    others) one row per unit and procedure with every measure's count and the flags; the procedures' flags from
    both."""
    counts = "".join(f', count(*) FILTER (WHERE {m.where}) AS "{m.name}"' for m in measures)
    live = (f"SELECT unit_code, procedure_code{counts}, {HANDLED} FROM ({facts.dossiers_sql(kept)}) f "
            "GROUP BY unit_code, procedure_code")
    names = "".join(f', "{m.name}"' for m in measures)
    units = (f"SELECT unit_code, CAST(NULL AS TEXT) AS procedure_code{names}, "
             "CAST(NULL AS BOOLEAN) AS has_dossiers, CAST(NULL AS BOOLEAN) AS paid_online, "
             f"CAST(NULL AS BOOLEAN) AS used_population_data FROM ({kept.units_sql(measures)}) k")
    if kept.nothing_received:  # no dossier by the moment: the groups empty, no procedure handled (the status
        # query's planning alone was most of such a scoring)
        return [("dossier_groups", f"{units} WHERE FALSE"), ("procedure_facts", facts.procedures_sql(
            "SELECT CAST(NULL AS INTEGER) AS pair_id, FALSE AS has_dossiers, FALSE AS paid_online, "
            "FALSE AS used_population_data WHERE FALSE", by_number=True))]
    handled = ("SELECT pair_id, bool_or(has_dossiers) AS has_dossiers, bool_or(paid_online) AS paid_online, "
               "bool_or(used_population_data) AS used_population_data "
               f"FROM (SELECT pair_id, has_dossiers, paid_online, used_population_data FROM ({kept.flags_sql()}) x "
               "UNION ALL SELECT i.pair_id, g.has_dossiers, g.paid_online, g.used_population_data "
               f"FROM dossier_groups g JOIN {kept_groups.PAIR_IDS} i "
               "ON i.unit_code = g.unit_code AND i.procedure_code = g.procedure_code "
               "WHERE g.procedure_code IS NOT NULL) h GROUP BY pair_id")
    return [("dossier_groups", f"{units} UNION ALL {live}"),
            ("procedure_facts", facts.procedures_sql(handled, by_number=True))]


def measure_counts(store: Store, rs: RuleSet, facts: Facts, *, keep_facts: bool = True, pairs_ready: bool = False
                   ) -> dict[str, dict[str, float]]:
    """unit code -> measure name -> count, for every unit (with its descendants). Without ``keep_facts`` the counts
    kept in the store are read where they hold (:mod:`chiso.scoring.kept_groups`)."""
    con = store.con
    may_keep = not keep_facts and facts.late_if_due_before is None
    with kept_groups.snapshot(store) if may_keep else contextlib.nullcontext():
        kept = kept_groups.use(store, rs, facts.config, dossier_measures(rs), facts.period.start, facts.moment,
                               facts.stored_due) if may_keep else None
        setup, queries = build_sql(rs, facts, keep_facts, pairs_ready, kept)
        for statement in setup:
            con.execute(statement)
        out: dict[str, dict[str, float]] = {}
        for sql in queries.values():
            cur = con.execute(sql)
            names = [d[0] for d in cur.description][1:]
            for row in cur.fetchall():
                out.setdefault(str(row[0]), {}).update(dict(zip(names, (float(v) for v in row[1:]), strict=True)))
    return out


PARENT_LEVELS = ("province", "district")  # levels with communes below them


def score_period(store: Store, rs: RuleSet, period: Period, as_of: datetime, config: Config, *,
                 late_if_due_before: datetime | None = None, keep_facts: bool = True,
                 pairs_ready: bool = False) -> list[dict[str, Any]]:
    """Results for every unit valid during the period (units without dossiers included); with
    ``late_if_due_before``, the forecast's what-if (:class:`Facts`). ``keep_facts``: leave the period's
    ``dossier_facts`` behind for what reads them next; ``pairs_ready``: ``unit_procedures`` is current
    (:func:`build_sql`)."""
    facts = Facts(period, period.moment(as_of), config, late_if_due_before, store.dialect,
                  stored_due=kept_dues(store))
    counts = measure_counts(store, rs, facts, keep_facts=keep_facts, pairs_ready=pairs_ready)
    units = store.con.execute(
        "SELECT code, name, level, parent_code, COALESCE(province_code, ''), ranked IS DISTINCT FROM FALSE "
        "FROM units "
        "WHERE (valid_from IS NULL OR valid_from < ?) AND (valid_to IS NULL OR valid_to >= ?) ORDER BY code",
        [period.end, period.start]).fetchall()
    inputs: dict[tuple[str, str], tuple[float | None, float | None, float | None]] = {
        (str(r[0]), str(r[1])): (r[2], r[3], r[4]) for r in store.con.execute(
            "SELECT unit_code, indicator, numerator, denominator, score FROM indicator_inputs WHERE period = ?",
            [period.label]).fetchall()}
    groups = {g.code for g in rs.groups}
    unit_inputs = []
    for code, name, level, parent, province, ranked in units:
        # a unit the portal does not rank (ranked = FALSE) is scored but has no rank and takes none from others
        peer = (f"{level}:{province}" if level != "province" else "province") if ranked else ""
        u = UnitInput(code, name, level, parent, peer)
        c = counts.get(code, {})
        for ind in rs.indicators:
            official = inputs.get((code, ind.code))
            if ind.source == "input":
                row = official or (inputs.get((province, ind.code)) if ind.inherit else None)
                if row is None:
                    # Never entered. A rule that scores "nothing to count" in full (certified copies: no
                    # communes below the unit) gives the full score to a unit that has none below it; otherwise
                    # the input is missing: 0 points, marked, the total provisional (docs/index-engine.md).
                    structural = ind.zero_denominator == "full" and level not in PARENT_LEVELS
                    u.values[ind.code] = IndicatorValue(0.0, 0.0) if structural else IndicatorValue(missing=True)
                    continue
                # an input is the unit's own figure: the official counts are its counts
                u.values[ind.code] = IndicatorValue(*row, row[0], row[1]) if row[2] is not None else (
                    IndicatorValue(*row))
            else:
                assert ind.numerator and ind.denominator
                u.values[ind.code] = IndicatorValue(c.get(ind.numerator, 0.0), c.get(ind.denominator, 0.0),
                                                    *(official[2], official[0], official[1]) if official else ())
        for g in groups:
            if (code, g) in inputs and inputs[(code, g)][2] is not None:
                u.official_groups[g] = float(inputs[(code, g)][2])  # type: ignore[arg-type]
        unit_inputs.append(u)
    return assemble(rs, unit_inputs)
