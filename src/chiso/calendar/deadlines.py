"""Deadline arithmetic (tính hạn giải quyết) as set-based SQL over the materialised calendar.

Working time is measured on a single axis, the *working second* (giây làm việc): the number of working
seconds from the start of the calendar to a moment. With D seconds in a working day and the running
working-day ordinal ``o`` of ``calendar_days``::

    ws(t) = (o(day) - w(day)) * D + w(day) * intra(t)

where ``w`` is 1 on working days and ``intra`` clamps the time of day into the morning and afternoon
periods. Adding N working days is ``ws + N * D``; the way back is a join on the ordinal
``ceil(x / D)``. A boundary value maps to the *end* of a working day (17:00), never to the next
morning, which is what "due at 17:00" means. No Python loop over dossiers: every function here returns a
SQL expression, and the queries in :mod:`chiso.status.timeliness` join them over whole tables.

The SQL is the subset DuckDB and PostgreSQL share (EXTRACT, CASE, interval arithmetic).
"""

from __future__ import annotations

import hashlib
import json

from chiso.config import Config, DeadlineRule
from chiso.store.db import Store
from chiso.textnorm import fold

RULE_COLUMNS = ("morning_start", "morning_end", "afternoon_start", "afternoon_end", "cutoff", "supplement_mode")


def seconds_of_day(ts: str) -> str:
    return (
        f"(CAST(EXTRACT(HOUR FROM {ts}) AS BIGINT) * 3600 + CAST(EXTRACT(MINUTE FROM {ts}) AS BIGINT) * 60"
        f" + CAST(FLOOR(EXTRACT(SECOND FROM {ts})) AS BIGINT))"
    )


def day_seconds(r: str) -> str:
    """D: working seconds in one working day under rule alias ``r``."""
    return f"(({r}.morning_end - {r}.morning_start) + ({r}.afternoon_end - {r}.afternoon_start))"


def morning_seconds(r: str) -> str:
    return f"({r}.morning_end - {r}.morning_start)"


def intra_day(ts: str, r: str) -> str:
    """Working seconds elapsed on the day of ``ts`` up to ``ts``."""
    s = seconds_of_day(ts)
    m = morning_seconds(r)
    return (
        f"(CASE WHEN {s} < {r}.morning_start THEN 0"
        f" WHEN {s} < {r}.morning_end THEN {s} - {r}.morning_start"
        f" WHEN {s} < {r}.afternoon_start THEN {m}"
        f" WHEN {s} < {r}.afternoon_end THEN {m} + {s} - {r}.afternoon_start"
        f" ELSE {day_seconds(r)} END)"
    )


def work_seconds(ts: str, c: str, r: str) -> str:
    """ws(ts), with ``c`` the calendar_days row of ts's date and ``r`` the rule row."""
    w = f"(CASE WHEN {c}.is_working THEN 1 ELSE 0 END)"
    return f"((CAST({c}.working_ordinal AS BIGINT) - {w}) * {day_seconds(r)} + {w} * {intra_day(ts, r)})"


def start_seconds(ts: str, c: str, r: str) -> str:
    """ws of the moment counting starts: reception at or after the cut-off starts the next working day."""
    return (
        f"(CASE WHEN {c}.is_working AND {seconds_of_day(ts)} >= {r}.cutoff"
        f" THEN CAST({c}.working_ordinal AS BIGINT) * {day_seconds(r)} ELSE {work_seconds(ts, c, r)} END)"
    )


def ordinal_of(x: str, r: str) -> str:
    """The working-day ordinal a working second falls in (boundaries belong to the earlier day)."""
    return f"CAST(CEIL(CAST({x} AS DOUBLE PRECISION) / {day_seconds(r)}) AS BIGINT)"


def from_work_seconds(x: str, wd: str, r: str) -> str:
    """The timestamp of working second ``x``; ``wd`` is the working calendar_days row of ordinal_of(x)."""
    d = day_seconds(r)
    m = morning_seconds(r)
    off = f"({x} - (CAST({wd}.working_ordinal AS BIGINT) - 1) * {d})"
    secs = f"(CASE WHEN {off} <= {m} THEN {r}.morning_start + {off} ELSE {r}.afternoon_start + {off} - {m} END)"
    return f"(CAST({wd}.day AS TIMESTAMP) + CAST({secs} AS BIGINT) * INTERVAL '1 second')"


def due_work_seconds(start_ws: str, limit: str, unit: str, r: str) -> str:
    """Target working second for working-day, hour and same-day procedures (NULL for calendar days)."""
    d = day_seconds(r)
    return (
        f"(CASE {unit}"
        f" WHEN 'working_days' THEN {start_ws} + CAST(ROUND({limit} * {d}) AS BIGINT)"
        f" WHEN 'hours' THEN {start_ws} + CAST(ROUND({limit} * 3600) AS BIGINT)"
        f" WHEN 'same_day' THEN (CAST(FLOOR(CAST({start_ws} AS DOUBLE PRECISION) / {d}) AS BIGINT) + 1) * {d}"
        f" END)"
    )


def calendar_raw_due(start: str, limit: str) -> str:
    """N calendar days = N x 24 h from reception."""
    return f"({start} + CAST(ROUND({limit} * 86400) AS BIGINT) * INTERVAL '1 second')"


# --- the per-province, per-procedure rule table ---------------------------------------------------------


def _rule_row(province: str, procedure: str, rule: DeadlineRule) -> tuple[object, ...]:
    return (
        province,
        procedure,
        rule.morning_start,
        rule.morning_end,
        rule.afternoon_start,
        rule.afternoon_end,
        rule.cutoff,
        rule.supplement_mode,
    )


def sync_deadline_rules(store: Store, config: Config) -> None:
    """Write ``deadline_rules`` from the configuration: '' means any province / any procedure."""
    rows, fp = _deadline_rows(store, config)
    if store.get_setting("deadline_rules_fingerprint") == fp:
        return
    with store.transaction() as con:
        con.execute("DELETE FROM deadline_rules")
        con.executemany("INSERT INTO deadline_rules VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        store.set_setting("deadline_rules_fingerprint", fp)


def deadline_rules_current(store: Store, config: Config) -> bool:
    """True when ``deadline_rules`` already holds what the configuration says (nothing to write)."""
    return store.get_setting("deadline_rules_fingerprint") == _deadline_rows(store, config)[1]


def _deadline_rows(store: Store, config: Config) -> tuple[list[tuple[object, ...]], str]:
    provinces = store.con.execute("SELECT code, name FROM units WHERE level = 'province'").fetchall()

    def province_code(key: str) -> str:
        k = fold(key)
        for code, name in provinces:
            n = fold(name)
            if k in (fold(code), n, n.removeprefix("tinh "), n.removeprefix("thanh pho ")):
                return str(code)
        return key  # not loaded yet: kept by the given key, matches nothing until the province is loaded

    base = config.deadline
    rows = [_rule_row("", "", base)]
    prov_rules = {province_code(k): (k, v) for k, v in config.province_rules.items()}
    for code, (key, raw) in prov_rules.items():
        rows.append(_rule_row(code, "", base.merged(raw, f"deadline.province.{key}")))
    for proc, raw in config.procedure_rules.items():
        rows.append(_rule_row("", proc, base.merged(raw, f"deadline.procedure.{proc}")))
        for code, (key, praw) in prov_rules.items():
            merged = base.merged(praw, f"deadline.province.{key}").merged(raw, f"deadline.procedure.{proc}")
            rows.append(_rule_row(code, proc, merged))
    # Written only when they changed, in one transaction: reading commands (and every request of the web
    # server) call this, and must neither write each time nor see the table half written.
    return rows, hashlib.sha256(json.dumps(rows).encode()).hexdigest()


def rule_columns_sql() -> str:
    """The rule's columns in a row joined by :func:`rule_joins_sql`: the most specific rule that sets each."""
    return ", ".join(f"COALESCE(r1.{c}, r2.{c}, r3.{c}, r4.{c}) AS {c}" for c in RULE_COLUMNS)


def rule_joins_sql(province: str, procedure: str) -> str:
    """The deadline rules of (``province``, ``procedure``) joined to a row as r1 (P, X), r2 (P, ''), r3 ('', X) and
    r4 ('', ''): what :func:`resolved_rules_sql` resolves, without building every province-procedure pair first.
    Each join's other side is a handful of rules, so the dossiers stream past them (a join of 10 million dossiers
    with every resolved pair took 4 s)."""
    return f"""LEFT JOIN deadline_rules r1 ON r1.province_code = {province} AND r1.procedure_code = {procedure}
    LEFT JOIN deadline_rules r2 ON r2.province_code = {province} AND r2.procedure_code = ''
    LEFT JOIN deadline_rules r3 ON r3.province_code = '' AND r3.procedure_code = {procedure}
    LEFT JOIN deadline_rules r4 ON r4.province_code = '' AND r4.procedure_code = ''"""


def resolved_rules_sql() -> str:
    """One rule row per (province, procedure): the most specific of (P, X), (P, ''), ('', X), ('', '')."""
    cols = ", ".join(f"COALESCE(r1.{c}, r2.{c}, r3.{c}, r4.{c}) AS {c}" for c in RULE_COLUMNS)
    return f"""
    SELECT pv.province_code, p.code AS procedure_code, {cols}
    FROM procedures p
    CROSS JOIN (SELECT DISTINCT COALESCE(province_code, '') AS province_code FROM units
                UNION SELECT '' AS province_code) pv
    LEFT JOIN deadline_rules r1 ON r1.province_code = pv.province_code AND r1.procedure_code = p.code
    LEFT JOIN deadline_rules r2 ON r2.province_code = pv.province_code AND r2.procedure_code = ''
    LEFT JOIN deadline_rules r3 ON r3.province_code = '' AND r3.procedure_code = p.code
    LEFT JOIN deadline_rules r4 ON r4.province_code = '' AND r4.procedure_code = ''
    """
