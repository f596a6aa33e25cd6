"""The Python API: everything the CLI does, a script can do too (the CLI is a thin layer over this)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from chiso.calendar.deadlines import sync_deadline_rules
from chiso.calendar.workcal import ensure_calendar
from chiso.config import Config, load_config
from chiso.failures import check_free_space
from chiso.load.loader import Loader, LoadReport, Progress
from chiso.rules.arithmetic import round_half_up
from chiso.rules.model import RuleSet, for_period
from chiso.scoring import publish as publications
from chiso.scoring.engine import score_period
from chiso.scoring.period import parse_period
from chiso.status.timeliness import DETAIL_COLUMNS, OUTPUT_COLUMNS, StatusQuery
from chiso.store.db import DB_FILE, Store
from chiso.textnorm import fold
from chiso.units import catalog


def load(store: Store, paths: Sequence[Path], *, table: str | None = None, partial: bool = False,
         mapping: dict[str, dict[str, str]] | None = None, encoding: str = "utf-8",
         progress: Progress | None = None) -> LoadReport:
    if store.dialect == "duckdb":  # PostgreSQL's disk is the server's; the scratch of a load is in memory
        check_free_space(store.workspace, list(paths), store.workspace / DB_FILE)
    config = load_config(store.workspace)
    merged = {t: {**config.aliases.get(t, {}), **(mapping or {}).get(t, {})}
              for t in {*config.aliases, *(mapping or {})}}
    report = Loader(store, partial=partial, mapping=merged, encoding=encoding, progress=progress).load(
        list(paths), table)
    prepare(store, config)
    return report


def prepare(store: Store, config: Config | None = None) -> Config:
    """Bring the derived tables (calendar, resolved deadline rules) up to date with data and settings."""
    config = config or load_config(store.workspace)
    ensure_calendar(store, config)
    sync_deadline_rules(store, config)
    return config


def init_units(store: Store, province: str, *, before_2025: bool = False,
               departments: Path | None = None) -> LoadReport:
    """Fill the units table for one province from the official packages and the departments file."""
    p = catalog.find_province(province)
    folder = store.workspace / "units"
    folder.mkdir(parents=True, exist_ok=True)
    dept_file = store.workspace / "departments.csv"
    if departments is not None:
        dept_file = departments
    elif not dept_file.exists():
        shutil.copyfile(catalog.default_departments_path(), dept_file)
    rows = catalog.province_rows(p) + catalog.department_rows(p, dept_file)
    if before_2025:
        rows += catalog.legacy_rows(p)
    out = folder / f"{p.codename}.csv"
    catalog.write_units_csv(rows, out)
    store.set_setting("province", p.name)
    return load(store, [out], table="units")


def status_query(store: Store, as_of: datetime, unit: str | None = None) -> StatusQuery:
    config = prepare(store)
    return StatusQuery(as_of=as_of, config=config, unit=unit)


def status(store: Store, as_of: datetime, *, unit: str | None = None, details: bool = False) -> pa.Table:
    """Every dossier's due date and timeliness at ``as_of``, as an Arrow table."""
    query = status_query(store, as_of, unit)
    cols = ", ".join([*OUTPUT_COLUMNS, *(DETAIL_COLUMNS if details else ())])
    return store.con.sql(f"SELECT {cols} FROM ({query.sql()}) s ORDER BY dossier_id").to_arrow_table()


def status_relation(store: Store, as_of: datetime, *, unit: str | None = None,
                    details: bool = False) -> Any:
    """The status rows for output: timestamps as 'yyyy-mm-dd HH:MM:SS' text, local time."""
    query = status_query(store, as_of, unit)
    timestamps = {"received_at", "due_at", "end_at", "original_due_at", "waiting_since"}
    cols = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c in timestamps else c
                     for c in [*OUTPUT_COLUMNS, *(DETAIL_COLUMNS if details else ())])
    return store.con.sql(f"SELECT {cols} FROM ({query.sql()}) s ORDER BY dossier_id")


def status_rows(store: Store, as_of: datetime, *, unit: str | None = None, details: bool = False,
                timeliness: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """The status rows as ``chiso status`` prints them (timestamps as text, local time), as dicts; optionally
    only the given timeliness classes."""
    query = status_query(store, as_of, unit)
    timestamps = {"received_at", "due_at", "end_at", "original_due_at", "waiting_since"}
    names = [*OUTPUT_COLUMNS, *(DETAIL_COLUMNS if details else ())]
    cols = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" if c in timestamps else c for c in names)
    where, params = "", list(timeliness or ())
    if timeliness:
        where = " WHERE timeliness IN (" + ", ".join("?" for _ in params) + ")"
    cur = store.con.execute(f"SELECT {cols} FROM ({query.sql()}) s{where} ORDER BY dossier_id", params)
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def status_summary(store: Store, as_of: datetime, *, unit: str | None = None) -> list[dict[str, object]]:
    query = status_query(store, as_of, unit)
    cur = store.con.execute(query.summary_sql())
    names = [d[0] for d in cur.description]
    rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    # Vietnamese alphabetical order within each level (the database collation is binary).
    levels = {"province": 0, "department": 1, "district": 2, "commune": 3}
    return sorted(rows, key=lambda r: (levels.get(str(r["level"]), 9), fold(str(r["unit_name"])), r["unit_name"]))


def score(store: Store, period_text: str, *, as_of: datetime, rules: str | None = None,
          level: str | None = None, unit: str | None = None) -> tuple[RuleSet, list[dict[str, Any]]]:
    """Every unit's index for a period (JSON shape of docs/index-engine.md), with the change against the
    previous period. ``level`` and ``unit`` filter the output; ranks are always among all peers."""
    rs, results, _ = score_with_previous(store, period_text, as_of=as_of, rules=rules)
    if unit:
        subtree = {str(x[0]) for x in store.con.execute(
            "WITH RECURSIVE t(code) AS (SELECT code FROM units WHERE code = ? "
            "UNION SELECT u.code FROM units u JOIN t ON u.parent_code = t.code) SELECT code FROM t", [unit]
        ).fetchall()}
        results = [r for r in results if r["code"] in subtree]
    if level:
        results = [r for r in results if r["level"] == level]
    return rs, results


def score_with_previous(store: Store, period_text: str, *, as_of: datetime, rules: str | None = None
                        ) -> tuple[RuleSet, list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """All units' results for the period (with ``previous_total`` and ``change``) and the previous period's
    results by unit code. The previous period is scored first, so the fact tables left behind are the
    period's own (:func:`chiso.scoring.explain.actions_by_unit` reads them)."""
    config = prepare(store)
    period = parse_period(period_text)
    rs = for_period(period.start, store.workspace, rules)
    previous = {r["code"]: r for r in score_period(store, rs, period.previous(), as_of, config)}
    results = score_period(store, rs, period, as_of, config)
    publications.annotate(results, store, period.label)
    for r in results:
        r["period"] = period.label
        before = previous.get(r["code"])
        r["previous_total"] = before["total"] if before else None
        r["change"] = None if before is None else round_half_up(r["total"] - before["total"], rs.rounding)
    return rs, results, previous


def explain(store: Store, unit: str, period_text: str, *, as_of: datetime, rules: str | None = None
            ) -> dict[str, Any]:
    """Points lost by one unit in a period, the items behind each shortfall, the best three actions."""
    from chiso.scoring.explain import explain_unit

    config = prepare(store)
    period = parse_period(period_text)
    rs = for_period(period.start, store.workspace, rules)
    results = {r["code"]: r for r in score_period(store, rs, period, as_of, config)}
    if unit not in results:
        raise KeyError(f"không có đơn vị '{unit}' trong kỳ {period.label}")
    return explain_unit(store, rs, results[unit], period, as_of, config)


def publish(store: Store, period_text: str, *, as_of: datetime, rules: str | None = None) -> tuple[int, str]:
    """Freeze the period's results (rule set, data fingerprint, time). Returns (publication id, fingerprint)."""
    config = prepare(store)
    period = parse_period(period_text)
    rs = for_period(period.start, store.workspace, rules)
    results = score_period(store, rs, period, as_of, config)
    for r in results:
        r["period"] = period.label
    pid = publications.publish(store, period.label, rs.name, period.moment(as_of), results)
    return pid, publications.fingerprint(store)
