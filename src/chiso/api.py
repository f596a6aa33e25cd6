"""The Python API: everything the CLI does, a script can do too (the CLI is a thin layer over this)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chiso.calendar.deadlines import sync_deadline_rules
from chiso.calendar.workcal import ensure_calendar
from chiso.clock import today_local
from chiso.config import Config, load_config
from chiso.failures import check_free_space
from chiso.rules.arithmetic import round_half_up
from chiso.rules.model import RuleSet, RuleSetError, for_period
from chiso.scoring import kept_groups
from chiso.scoring import publish as publications
from chiso.scoring.engine import score_period
from chiso.scoring.period import parse_period
from chiso.status.stored_due import DERIVED_COLUMNS
from chiso.status.stored_due import kept as kept_dues
from chiso.status.timeliness import DETAIL_COLUMNS, OUTPUT_COLUMNS, StatusQuery
from chiso.store.db import DB_FILE, Store, memory_budget_mb
from chiso.store.rows import first_row
from chiso.textnorm import fold
from chiso.units import catalog

if TYPE_CHECKING:  # the loader and pyarrow cost a scoring 0.2 s of imports: read when a command loads
    import pyarrow as pa

    from chiso.load.loader import LoadReport, Progress


def load(store: Store, paths: Sequence[Path], *, table: str | None = None, partial: bool = False,
         mapping: dict[str, dict[str, str]] | None = None, encoding: str = "utf-8",
         progress: Progress | None = None) -> LoadReport:
    from chiso.load.loader import Loader, after_commit

    config = load_config(store.workspace)
    if store.dialect == "duckdb":  # PostgreSQL's disk is the server's; the scratch of a load is in memory
        check_free_space(store.workspace, list(paths), store.workspace / DB_FILE,
                         memory_budget_mb(config.memory_mb) << 20)
    merged = {t: {**config.aliases.get(t, {}), **(mapping or {}).get(t, {})}
              for t in {*config.aliases, *(mapping or {})}}
    report = Loader(store, partial=partial, mapping=merged, encoding=encoding, progress=progress).load(
        list(paths), table)
    with after_commit(report):  # the derived data is then the next command's to finish
        prepare(store, config)
    return report


def prepared(store: Store, config: Config | None = None) -> bool:
    """True when the derived tables are current (``prepare`` would write nothing): a store opened read-only
    can then answer every reading command."""
    from chiso.calendar.deadlines import deadline_rules_current
    from chiso.calendar.workcal import fingerprint as calendar_fingerprint
    from chiso.status import stored_due

    config = config or load_config(store.workspace)
    if store.derived_ready:
        return True

    def check() -> bool:
        rs = _rules_now(store)
        return (store.get_setting("calendar_fingerprint") == calendar_fingerprint(store, config)
                and deadline_rules_current(store, config) and not stored_due.needs_refresh(store)
                and (rs is None or kept_groups.current(store, rs, config)))

    return store.checked(("prepared", repr(config)), check)


def _rules_now(store: Store) -> RuleSet | None:
    """The rule set in force today, whose measures the store keeps counted (:mod:`chiso.scoring.kept_groups`); None
    when the workspace's rule sets do not read (the scoring says why)."""
    try:
        return for_period(today_local(), store.workspace)
    except RuleSetError:
        return None


def prepare(store: Store, config: Config | None = None) -> Config:
    """Bring the derived data (calendar, resolved deadline rules, the dossiers' kept due dates, the kept measure
    counts) up to date with data and settings."""
    from chiso.status import stored_due

    config = config or load_config(store.workspace)
    if store.derived_ready or (store.lasting_checks is not None and prepared(store, config)):  # nothing to write
        return config
    ensure_calendar(store, config)
    sync_deadline_rules(store, config)
    stored_due.refresh(store, config)
    rs = _rules_now(store)
    if rs is not None:
        kept_groups.refresh(store, rs, config)
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


def status_query(store: Store, as_of: datetime, unit: str | None = None, *,
                 with_officer: bool = False) -> StatusQuery:
    config = prepare(store)
    return StatusQuery(as_of=as_of, config=config, unit=unit, with_officer=with_officer, dialect=store.dialect,
                       stored_due=kept_dues(store))


def status(store: Store, as_of: datetime, *, unit: str | None = None, details: bool = False) -> pa.Table:
    """Every dossier's due date and timeliness at ``as_of``, as an Arrow table."""
    query = status_query(store, as_of, unit)
    cols = ", ".join([*OUTPUT_COLUMNS, *(DETAIL_COLUMNS if details else ())])
    return store.con.sql(f"SELECT {cols} FROM ({query.sql()}) s ORDER BY dossier_id").to_arrow_table()


NAMED_COLUMNS = ("unit_name", "procedure_name", "officer", "days_overdue")


def status_relation(store: Store, as_of: datetime, *, unit: str | None = None, details: bool = False,
                    timeliness: Sequence[str] | None = None, due_within: int | None = None) -> Any:
    """The status rows for output: timestamps as 'yyyy-mm-dd HH:MM:SS' text, local time, with the unit's and the
    procedure's names, the officer and the working days overdue (late or pending late: working days from the due
    day to the day it ended, or to ``as_of``). ``timeliness`` keeps only those classes; ``due_within`` keeps
    the dossiers still open and not late whose due day is at most that many working days after ``as_of``."""
    from chiso.status.timeliness import CLASSES, ts_literal

    query = status_query(store, as_of, unit, with_officer=True)
    timestamps = {"received_at", "due_at", "end_at", "original_due_at", "waiting_since"}
    out = [*OUTPUT_COLUMNS, *NAMED_COLUMNS, *(DETAIL_COLUMNS if details else ())]
    cols = ", ".join(f"CAST(s.{c} AS VARCHAR) AS {c}" if c in timestamps else f"s.{c}" for c in out)
    t = ts_literal(as_of)
    where = []
    if timeliness:
        unknown = [c for c in timeliness if c not in CLASSES]
        if unknown:
            raise ValueError(f"không có tình trạng {', '.join(unknown)} (có: {', '.join(CLASSES)})")
        where.append("s.timeliness IN (" + ", ".join(f"'{c}'" for c in timeliness) + ")")
    now_ordinal, now_join = "NULL", ""
    if due_within is not None:  # the working ordinal of the as-of day, only when it is asked for
        where.append(f"s.timeliness = 'pending' AND s._due_ordinal - s._now_ordinal <= {int(due_within)}")
        now_ordinal = "cn.working_ordinal"
        now_join = ("LEFT JOIN calendar_days cn ON cn.calendar_key = COALESCE(u.province_code, '') "
                    f"AND cn.day = CAST({t} AS DATE)")
    return store.con.sql(f"""
        SELECT {cols} FROM (
            SELECT s.*, u.name AS unit_name, p.name AS procedure_name,
                   CASE WHEN s.timeliness IN ('late', 'pending_late') AND s.due_at IS NOT NULL
                        THEN GREATEST(ce.working_ordinal - cd.working_ordinal, 0) END AS days_overdue,
                   cd.working_ordinal AS _due_ordinal, {now_ordinal} AS _now_ordinal
            FROM ({query.sql()}) s
            JOIN units u ON u.code = s.unit_code
            LEFT JOIN procedures p ON p.code = s.procedure_code
            LEFT JOIN calendar_days cd ON cd.calendar_key = COALESCE(u.province_code, '')
                 AND cd.day = CAST(s.due_at AS DATE)
            LEFT JOIN calendar_days ce ON ce.calendar_key = COALESCE(u.province_code, '')
                 AND ce.day = CAST(COALESCE(s.end_at, {t}) AS DATE)
            {now_join}
        ) s
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY s.dossier_id""")


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
    rs, results, _ = score_with_previous(store, period_text, as_of=as_of, rules=rules, keep_facts=False)
    return rs, filter_results(store, results, level=level, unit=unit)


def filter_results(store: Store, results: list[dict[str, Any]], *, level: str | None = None,
                   unit: str | None = None) -> list[dict[str, Any]]:
    """The results of one level, or of one unit and the units below it."""
    if unit:
        subtree = {str(x[0]) for x in store.con.execute(
            "WITH RECURSIVE t(code) AS (SELECT code FROM units WHERE code = ? "
            "UNION SELECT u.code FROM units u JOIN t ON u.parent_code = t.code) SELECT code FROM t", [unit]
        ).fetchall()}
        results = [r for r in results if r["code"] in subtree]
    if level:
        results = [r for r in results if r["level"] == level]
    return results


def score_with_previous(store: Store, period_text: str, *, as_of: datetime, rules: str | None = None,
                        compute: Store | None = None, keep_facts: bool = True
                        ) -> tuple[RuleSet, list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """All units' results for the period (with ``previous_total`` and ``change``) and the previous period's
    results by unit code. The previous period is scored first, so the fact tables left behind are the
    period's own (:func:`chiso.scoring.explain.actions_by_unit` reads them); with ``keep_facts=False`` none is
    kept (``chiso score``: the counts only, :func:`chiso.scoring.engine.build_sql`). ``compute``: the engine the
    rules run on (:func:`chiso.engines.compute_store`); publications and official results are read from
    ``store``."""
    config = prepare(store) if compute is None else load_config(store.workspace)
    engine = compute or store
    period = parse_period(period_text)
    rs = for_period(period.start, store.workspace, rules)
    # a publication of the period is compared dossier by dossier with the facts (publications.annotate)
    keep = keep_facts or publications.latest(store, period.label) is not None
    with kept_groups.snapshot(engine):  # both periods read one snapshot, the kept data checked once
        previous = {r["code"]: r for r in score_period(engine, rs, period.previous(), as_of, config,
                                                       keep_facts=False)}
        results = score_period(engine, rs, period, as_of, config, keep_facts=keep, pairs_ready=True)
    publications.annotate(results, store, period.label)
    from chiso.official.attach import attach_official

    attach_official(store, period.label, results, rs.rounding)
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
    return explain_unit(store, rs, results[unit], period, as_of, config, facts_ready=True)  # just scored


def publish(store: Store, period_text: str, *, as_of: datetime, rules: str | None = None) -> tuple[int, str]:
    """Freeze the period's results (rule set, data fingerprint, time). Returns (publication id, fingerprint)."""
    config = prepare(store)
    period = parse_period(period_text)
    rs = for_period(period.start, store.workspace, rules)
    results = score_period(store, rs, period, as_of, config)
    for r in results:
        r["period"] = period.label
    return publications.publish(store, period.label, rs, period.moment(as_of), results, config)


# --- one dossier ------------------------------------------------------------------------------------------------


def dossier(store: Store, dossier_id: str, *, as_of: datetime) -> dict[str, Any]:
    """One dossier (hồ sơ) as stored: every field, its due date and status at ``as_of``, its timeline in working
    days, why it is late, and its versions (``dossier_versions``). KeyError when no such dossier."""
    from chiso.api_web import dossier_detail

    prepare(store)
    detail = dossier_detail(store, dossier_id, as_of)
    detail["versions"] = dossier_versions(store, dossier_id)
    return detail


def dossier_versions(store: Store, dossier_id: str) -> list[dict[str, Any]]:
    """Every version of a dossier the store has kept, oldest first (by ``updated_at``, then by load): the load
    that brought it (number, time, file, user), whether it is the current one, and the fields that differ from the
    version before."""
    from chiso.api_web import FIELD_LABELS

    con = store.con
    cur = con.execute("SELECT * FROM dossiers WHERE dossier_id = ?", [dossier_id])
    names = [d[0] for d in cur.description]
    current = first_row(cur)
    if current is None:
        raise KeyError(f"không có hồ sơ '{dossier_id}'")
    fields = [n for n in names if n not in ("row_hash", "load_id", "original_due_at", *DERIVED_COLUMNS)]
    cols = ", ".join(fields)
    old = con.execute(f"SELECT {cols}, load_id, superseded_by_load FROM dossier_history WHERE dossier_id = ? "
                      "ORDER BY load_id", [dossier_id]).fetchall()
    row = dict(zip(names, current, strict=True))
    versions = [(dict(zip(fields, r[:-2], strict=True)), r[-2], r[-1]) for r in old]
    versions.append(({k: row[k] for k in fields}, row["load_id"], None))
    # In the order the source system wrote them (updated_at), then the order they arrived.
    versions.sort(key=lambda v: (v[0].get("updated_at") or datetime.min, v[1] or 0, v[2] is None))
    load_ids = sorted({int(v[1]) for v in versions if v[1] is not None})
    loads: dict[int, tuple[Any, ...]] = {}
    if load_ids:
        marks = ", ".join("?" for _ in load_ids)
        loads = {int(r[0]): r[1:] for r in con.execute(
            f"SELECT load_id, loaded_at, file, user_name FROM loads WHERE load_id IN ({marks})", load_ids).fetchall()}
    out: list[dict[str, Any]] = []
    before: dict[str, Any] | None = None
    for values, load_id, superseded in versions:
        info = loads.get(int(load_id)) if load_id is not None else None
        changes = [] if before is None else [
            {"field": k, "label": FIELD_LABELS.get(k, k), "before": _plain(before[k]), "after": _plain(values[k])}
            for k in fields if before[k] != values[k]]
        out.append({"load_id": load_id, "loaded_at": _plain(info[0]) if info else None,
                    "file": Path(str(info[1])).name if info else None, "user": info[2] if info else None,
                    "current": superseded is None,
                    "superseded_by_load": superseded, "fields": {k: _plain(v) for k, v in values.items()},
                    "changes": changes})
        before = values
    return out


def _plain(value: Any) -> Any:
    """A stored value as JSON shows it: timestamps as 'yyyy-mm-dd HH:MM:SS'."""
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


# --- comparing two periods ---------------------------------------------------------------------------------------


def compare(store: Store, period_text: str, with_text: str, *, as_of: datetime, unit: str | None = None,
            rules: str | None = None, movers: int = 5) -> dict[str, Any]:
    """Two periods side by side for one unit (default: the province): per indicator the score then and now, the
    change, and for an indicator that is not full now the dossiers behind the shortfall (as ``chiso explain``
    lists them); and among the units below it (or, for a unit without any, its peers) those that rose and fell
    most. Each period is scored with its own rule set, at ``as_of`` or its own end, whichever is earlier."""
    from chiso.scoring.explain import explain_unit

    config = prepare(store)
    now_p, then_p = parse_period(period_text), parse_period(with_text)
    rs_now = for_period(now_p.start, store.workspace, rules)
    rs_then = for_period(then_p.start, store.workspace, rules)
    then = {r["code"]: r for r in score_period(store, rs_then, then_p, as_of, config)}
    now = {r["code"]: r for r in score_period(store, rs_now, now_p, as_of, config, pairs_ready=True)}
    if unit is None:
        row = first_row(store.con.execute("SELECT code FROM units WHERE level = 'province' ORDER BY code LIMIT 1"))
        if row is None:
            raise KeyError("chưa có danh mục đơn vị (chiso units init)")
        unit = str(row[0])
    if unit not in now:
        raise KeyError(f"đơn vị '{unit}' không được tính điểm trong kỳ {now_p.label}")
    current, before = now[unit], then.get(unit)
    detail = explain_unit(store, rs_now, current, now_p, as_of, config, facts_ready=True)  # `now`, scored last
    behind = {s["code"]: s for s in detail["shortfalls"]}
    indicators = []
    for ind in rs_now.indicators:
        i = current["indicators"][ind.code]
        b = before["indicators"].get(ind.code) if before else None
        s = behind.get(ind.code)
        indicators.append({
            "code": ind.code, "group": ind.group, "name": ind.name, "max": i["max"],
            "score_then": b["score"] if b else None, "score_now": i["score"],
            "change": None if b is None else round_half_up(i["score"] - b["score"], rs_now.rounding),
            "numerator_then": b["numerator"] if b else None, "denominator_then": b["denominator"] if b else None,
            "numerator_now": i["numerator"], "denominator_now": i["denominator"],
            "lost_now": s["lost"] if s else 0.0, "reason": s["reason"] if s else "",
            "items_now": s["items"] if s else [], "item_count_now": s["item_count"] if s else 0,
            "items_over": s["over"] if s else ""})
    below = [str(r[0]) for r in store.con.execute("SELECT code FROM units WHERE parent_code = ?", [unit]).fetchall()]
    if not below:  # a unit without units below it: its peers
        below = [c for c, r in now.items() if r["level"] == current["level"] and c != unit]
    moved = [{"code": c, "name": now[c]["name"], "level": now[c]["level"], "total_then": then[c]["total"],
              "total_now": now[c]["total"],
              "change": round_half_up(now[c]["total"] - then[c]["total"], rs_now.rounding)}
             for c in below if c in now and c in then]
    rose = sorted((m for m in moved if m["change"] > 0), key=lambda m: (-m["change"], m["code"]))[:movers]
    fell = sorted((m for m in moved if m["change"] < 0), key=lambda m: (m["change"], m["code"]))[:movers]
    return {"unit": unit, "name": current["name"], "period": now_p.label, "with": then_p.label,
            "rule_set": rs_now.name, "rule_set_then": rs_then.name,
            "total_then": before["total"] if before else None, "total_now": current["total"],
            "change": None if before is None else round_half_up(current["total"] - before["total"], rs_now.rounding),
            "indicators": indicators, "rose": rose, "fell": fell}


# --- the rest of the command line, for scripts ----------------------------------------------------------------------
# Every command of ``chiso`` has its function here (tests/test_api_surface.py keeps the list whole). The heavier
# modules are imported when called, so ``import chiso.api`` stays light.


def import_official(store: Store, path: Path, period_text: str, *, level: str | None = None,
                    rules: str | None = None) -> dict[str, Any]:
    """Official results from the portal's JSON, a table of unit scores or a published letter (``chiso
    import-official``): stored with their source; names not matched without doubt go to the review list."""
    from chiso.official.importer import import_official as run

    period = parse_period(period_text)
    return run(store, Path(path), period, for_period(period.start, store.workspace, rules), level).as_dict()


def official(store: Store, period_text: str, *, level: str | None = None) -> list[dict[str, Any]]:
    """The official results of a period, per unit (``chiso official show``)."""
    from chiso.official.importer import official_results

    return official_results(store, parse_period(period_text).label, level)


def unit_history(store: Store, unit: str) -> dict[str, Any]:
    """A unit's results period by period, with its predecessors' before the 2025 reorganisation (``chiso score
    --history``): official totals and ranks when imported, published totals when published."""
    from chiso.official.history import unit_history as run

    return run(store, unit)


def official_review(store: Store, *, period: str | None = None, status: str = "open") -> list[dict[str, Any]]:
    """Names an import could not match (``chiso official review``)."""
    from chiso.official.importer import review_items

    return review_items(store, parse_period(period).label if period else None, status)


def confirm_official(store: Store, review_id: int, unit: str) -> dict[str, Any]:
    """Confirm the unit (code or name) of a review line: its values are stored and its name remembered."""
    from chiso.official.importer import confirm

    return confirm(store, review_id, unit)


def create_department(store: Store, key: str, name: str) -> str:
    """A department the catalogue lacks, created on confirmation (``official review --create KEY --name``)."""
    from chiso.official.importer import create_department as run

    return run(store, key, name)


def drop_official(store: Store, review_id: int) -> None:
    """Drop a review line (the values are not stored)."""
    from chiso.official.importer import drop

    drop(store, review_id)


def units(store: Store, *, level: str | None = None) -> list[dict[str, Any]]:
    """``chiso units list``: code, name, level, parent code and name, end of validity of every unit."""
    where = "WHERE u.level = ?" if level else ""
    cur = store.con.execute(
        "SELECT u.code, u.name, u.level, u.parent_code, p.name AS parent_name, u.valid_from, u.valid_to "
        f"FROM units u LEFT JOIN units p ON p.code = u.parent_code {where} ORDER BY u.level, u.code",
        [level] if level else [])
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def rule_sets(workspace: Path | None = None) -> dict[str, RuleSet]:
    """``chiso rules list``: the shipped rule sets and the workspace's own, by name."""
    from chiso.rules.model import available

    return available(workspace)


def rule_set(name: str, workspace: Path | None = None) -> RuleSet:
    """``chiso rules show NAME``."""
    from chiso.clock import today_local

    return for_period(today_local(), workspace, name)


def check_rule_set(path: Path) -> RuleSet:
    """``chiso rules check FILE``: the parsed rule set, or RuleSetError naming the file and the key."""
    from chiso.rules.model import load_rule_set

    return load_rule_set(path)


def simulate(path: Path, *, rules: str | None = None, workspace: Path | None = None) -> list[dict[str, Any]]:
    """``chiso simulate FILE``: scores from an indicator_inputs file alone."""
    from chiso.clock import today_local
    from chiso.scoring.simulate import simulate as run

    return run(for_period(today_local(), workspace, rules), path)


def generate(province: str, start: str, end: str, out: Path, *, scale: float = 1.0, seed: int = 1,
             fmt: str = "parquet") -> dict[str, int]:
    """``chiso generate``: a realistic province's contract files in ``out``."""
    from chiso.generate.province import generate_province

    return generate_province(province, start, end, out, scale=scale, seed=seed, fmt=fmt)


def upgrade(workspace: Path | None = None, *, database: str | None = None) -> list[str]:
    """``chiso db upgrade``: apply the pending migrations; their names."""
    with Store.open(workspace, database=database, upgrade=True) as store:
        return list(store.upgraded)


def check_keys(store: Store) -> list[Any]:
    """``chiso db check``: the loaded tables where a key has more than one row (:class:`chiso.store.keys.Duplicate`;
    none on a store only chiso wrote)."""
    from chiso.store.keys import duplicate_keys

    return duplicate_keys(store.con)


def report_monthly(store: Store, period_text: str, out_dir: Path, **options: Any) -> Any:
    """``chiso report monthly`` (options as :func:`chiso.reports.documents.write_monthly`)."""
    from chiso.reports.documents import write_monthly

    return write_monthly(store, period_text, out_dir, **options)


def report_unit(store: Store, unit: str, period_text: str, out_dir: Path, **options: Any) -> Any:
    """``chiso report unit``."""
    from chiso.reports.documents import write_unit

    return write_unit(store, unit, period_text, out_dir, **options)


def export_lake(store: Store | None, out: Path, *, merge: Sequence[Path] = ()) -> Any:
    """``chiso export --format parquet``: the store's tables as a Parquet lake at ``out`` (prepared first, so the
    calendar and deadline rules travel with the data), or with ``merge`` one lake of those lakes
    (:mod:`chiso.engines.lake`). Returns the lake's path and rows per table."""
    from chiso.engines import lake

    if merge:
        return lake.merge(list(merge), out)
    if store is None:
        raise ValueError("export_lake: cần kho dữ liệu, hoặc merge")
    prepare(store)
    return lake.export(store, out)


def report_all(store: Store, period_text: str, out_dir: Path, **options: Any) -> Any:
    """``chiso report all``."""
    from chiso.reports.documents import write_all

    return write_all(store, period_text, out_dir, **options)


def report_quarterly_onestop(store: Store, period_text: str, out_dir: Path, **options: Any) -> Any:
    """``chiso report quarterly-onestop``."""
    from chiso.reports.documents import write_quarterly_onestop

    return write_quarterly_onestop(store, period_text, out_dir, **options)


def report_cchc(store: Store, period_text: str, out_dir: Path, **options: Any) -> Any:
    """``chiso report cchc``."""
    from chiso.reports.documents import write_cchc

    return write_cchc(store, period_text, out_dir, **options)


def report_templates(store: Store, *, overwrite: bool = False) -> list[Path]:
    """``chiso report templates``: copy the templates into the workspace for the office to edit."""
    from chiso.reports.documents import copy_templates

    return copy_templates(store, overwrite=overwrite)


def backup(store: Store, out: Path | None = None) -> Any:
    """``chiso backup``."""
    from chiso import api_admin

    return api_admin.backup(store, out)


def restore(source: Path, workspace: Path | None = None) -> Any:
    """``chiso restore DIR``."""
    from chiso import api_admin

    return api_admin.restore(source, workspace)


def audit(store: Store, **options: Any) -> Any:
    """``chiso audit``."""
    from chiso import api_admin

    return api_admin.audit(store, **options)


def unload(store: Store, load_id: int) -> Any:
    """``chiso unload LOAD_ID``."""
    from chiso import api_admin

    return api_admin.unload(store, load_id)


def alerts(store: Store, as_of: datetime, **options: Any) -> Any:
    """``chiso alerts``: build and send the day's alerts (``dry_run`` and the rest as :func:`chiso.alerts.run`)."""
    from chiso import alerts as alerting

    return alerting.run(store, as_of, **options)


def add_user(store: Store, name: str, role: str, password: str, **options: Any) -> Any:
    """``chiso users add``."""
    from chiso import accounts

    return accounts.add_user(store, name, role, password, **options)


def list_users(store: Store) -> Any:
    """``chiso users list``."""
    from chiso import accounts

    return accounts.list_users(store)


def disable_user(store: Store, name: str) -> None:
    """``chiso users disable``."""
    from chiso import accounts

    accounts.disable_user(store, name)


def set_password(store: Store, name: str, password: str) -> None:
    """``chiso users password``."""
    from chiso import accounts

    accounts.set_password(store, name, password)


def issue_token(store: Store, name: str) -> str:
    """``chiso users token``."""
    from chiso import accounts

    return accounts.issue_token(store, name)


def web_app(workspace: Path | None = None, *, database: str | None = None, **settings: Any) -> Any:
    """``chiso serve``: the ASGI application (run it with any ASGI server, e.g. uvicorn)."""
    from chiso.store.db import workspace_path
    from chiso.web.app import WebSettings, create_app

    return create_app(WebSettings(workspace=workspace_path(workspace), database=database, **settings))


def reconcile(store: Store, ours: Path, theirs: Path, period: str, *, as_of: datetime | None = None,
              unit: str | None = None, mapping_ours: Any = None, mapping_theirs: Any = None) -> dict[str, Any]:
    """``chiso reconcile``: two dossier exports (ours, theirs) compared for a period, dossier by dossier and
    indicator by indicator, without changing the store (:func:`chiso.reconcile.reconcile`)."""
    from chiso.reconcile import reconcile as run

    return run(store, ours, theirs, period, as_of=as_of, unit=unit, mapping_ours=mapping_ours,
               mapping_theirs=mapping_theirs)
