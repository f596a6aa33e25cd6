"""Reconciling two dossier exports (đối chiếu hai nguồn dữ liệu hồ sơ): the province's own system ("ours", hệ thống
của tỉnh) against another source ("theirs", nguồn đối chiếu — usually the national portal, Cổng DVCQG), dossier
by dossier and indicator by indicator, without touching the workspace store.

1. Each export is loaded by the real loader (:class:`chiso.load.loader.Loader`: every format, Vietnamese headers
   and aliases, title blocks, units by name, row checks with file, row and column) into a scratch in-memory DuckDB
   store of its own. A scratch store holds copies of the workspace's reference tables (units and their confirmed
   names, procedures, calendar overrides and the derived working calendar and deadline rules, pauses, feedback,
   indicator inputs) and one export; the workspace store is only read.
2. Each scratch store is scored by the real engine (:func:`chiso.scoring.engine.score_period`) for the period at
   its scoring moment. The fact table the engine leaves behind (``dossier_facts``) says which dossiers count for
   the period — received or handled in it, the ``handled`` measure — and the status query
   (:mod:`chiso.status.timeliness`) gives every dossier's status at that moment.
3. The two sides' rows meet by ``dossier_id`` in one more in-memory DuckDB; each kind of difference (``KINDS``) is
   one condition over the joined rows, so a dossier is counted at most once per kind. Only dossiers that count on
   at least one side are compared. A field is compared only when both files have its column (an export without
   ``digitized`` says nothing about it); empty booleans read as false and an empty fee as 0, as the index counts
   them.
4. Counts per unit (a difference belongs to the dossier's unit on our side, else on theirs) and in total; the
   effect on the index: per unit (with the units below it, as the engine counts) and per dossier-based indicator,
   our and their numerator, denominator and computed score, and the difference (theirs − ours).
"""

from __future__ import annotations

import errno
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chiso.clock import now_local
from chiso.config import Config, read_mapping_file
from chiso.lazy import lazy_module
from chiso.load.contract import TABLES
from chiso.load.validate import q
from chiso.rules.arithmetic import round_half_up
from chiso.rules.model import RuleSet, for_period
from chiso.scoring.engine import CLOSURE_SQL, score_period
from chiso.scoring.period import Period, parse_period
from chiso.status.stored_due import kept as kept_dues
from chiso.status.timeliness import CLASS_LABELS, StatusQuery
from chiso.store.db import Store
from chiso.textnorm import fold

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

    from chiso.load import loader, readers
else:  # loaded when a comparison runs, not when the command line starts (chiso.lazy)
    duckdb = lazy_module("duckdb")
    pa = lazy_module("pyarrow")
    loader = lazy_module("chiso.load.loader")
    readers = lazy_module("chiso.load.readers")

SIDES = ("ours", "theirs")
SIDE_LABELS = {"ours": "Nguồn của tỉnh", "theirs": "Nguồn đối chiếu"}
SIDE_OPTIONS = {"ours": "--ours", "theirs": "--theirs"}
KINDS = ("missing_theirs", "missing_ours", "unit_differs", "status_differs", "dates_differ", "fields_differ")
KIND_LABELS = {
    "missing_theirs": "Thiếu ở nguồn đối chiếu",
    "missing_ours": "Thiếu ở nguồn của tỉnh",
    "unit_differs": "Khác đơn vị",
    "status_differs": "Khác tình trạng",
    "dates_differ": "Khác ngày",
    "fields_differ": "Khác thông tin",
}
# Timestamps that decide the due date and the end of processing (dates_differ).
DATE_FIELDS = ("received_at", "due_at", "finished_at", "returned_at", "stopped_at")
# Other fields an indicator reads (fields_differ).
OTHER_FIELDS = ("procedure_code", "channel", "supplement_count", "fee_amount", "paid_online", "e_result",
                "digitized", "reused_data", "shared_to_citizen_store", "used_population_data", "synced_to_portal",
                "rating", "complained")
BOOL_FIELDS = frozenset(c.name for c in TABLES["dossiers"].columns if c.type == "bool")
# Copied from the workspace store into each scratch store: everything scoring reads except the dossiers, and the
# unit names users confirmed (the loader reads units written by name through them).
REFERENCE_TABLES = ("units", "unit_aliases", "procedures", "calendar", "calendar_days", "deadline_rules",
                    "pauses", "feedback", "indicator_inputs")
COPIED_SETTINGS = ("province", "calendar_fingerprint", "deadline_rules_fingerprint")
NOT_RECEIVED = "chưa tiếp nhận tại thời điểm tính"
ABSENT = "không có"
EMPTY = "(trống)"

MappingArg = Path | Mapping[str, Mapping[str, str]] | None


class ExportError(Exception):
    """An export that cannot be read or has rows that break the contract; nothing was compared. ``side`` is
    ``ours`` or ``theirs``; ``report`` is the loader's, file by file, with row and column of every problem."""

    def __init__(self, side: str, report: loader.LoadReport):
        self.side = side
        self.report = report
        issues = "; ".join(str(i) for i in report.issues[:5])
        super().__init__(f"{SIDE_LABELS[side]} ({SIDE_OPTIONS[side]}): {issues}")


def reconcile(store: Store, ours: Path, theirs: Path, period: str, *, as_of: datetime | None = None,
              unit: str | None = None, mapping_ours: MappingArg = None, mapping_theirs: MappingArg = None
              ) -> dict[str, Any]:
    """Compare two dossier exports for ``period`` (text as people type it) at ``as_of`` (default: now); ``unit``
    (a code) keeps that unit and the units below it. The mappings are header mappings as ``chiso load
    --mapping`` takes them (a TOML path, or ``{table: {header: column}}``).

    Returns ``period``, ``as_of`` (the scoring moment), ``rule_set``, ``unit``, ``files`` (per side: file name,
    rows read, dossiers that count, the contract columns it has, the columns ignored, title rows skipped, units
    given by name and the code found), ``units`` (per unit counts), ``totals``, ``differences`` (one per dossier
    and kind) and ``indicators`` (per unit and indicator, ours and theirs). Raises :class:`ExportError` for an
    export that does not load, FileNotFoundError for one that does not exist, KeyError for an unknown unit."""
    from chiso.api import prepare

    per = parse_period(period)
    for path in (ours, theirs):
        if not Path(path).exists():
            raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))
    config = prepare(store)
    if unit is not None and not store.con.execute("SELECT 1 FROM units WHERE code = ?", [unit]).fetchall():
        raise KeyError(f"không có đơn vị '{unit}'")
    moment = per.moment(as_of or now_local())
    rs = for_period(per.start, store.workspace, None)
    sides = {side: _side(store, side, Path(path), mapping, config, rs, per, moment)
             for side, path, mapping in (("ours", ours, mapping_ours), ("theirs", theirs, mapping_theirs))}
    units = _units(store)
    scope = _subtree(store, unit) if unit else None
    differences, joined = _differences(sides["ours"], sides["theirs"], units, scope)
    summary, totals = _summary(joined, differences, units, sides)
    indicators = _indicators(store, rs, sides, joined, units, scope)
    return {"period": per.label, "as_of": moment.strftime("%Y-%m-%d %H:%M:%S"), "rule_set": rs.name, "unit": unit,
            "unit_name": units[unit][0] if unit else None,
            "files": {s: {"file": sides[s].path.name, "rows": sides[s].rows_read, "counted": totals[s],
                          "columns": sorted(sides[s].present), "ignored_columns": sides[s].report.ignored_columns,
                          "title_rows": sides[s].report.skipped_rows,
                          "units_by_name": [{"value": v, "code": c, "name": n}
                                            for v, c, n, _ in sides[s].report.units_by_name]} for s in SIDES},
            "kinds": {k: KIND_LABELS[k] for k in KINDS},
            "units": summary, "totals": totals, "differences": differences, "indicators": indicators}


# --- one side: load, score, status ---------------------------------------------------------------------------------


class _Side:
    def __init__(self, path: Path, report: loader.FileReport, present: set[str], rows: pa.Table,
                 results: dict[str, dict[str, Any]]):
        self.path = path
        self.report = report  # the loader's: rows read, columns ignored, title rows skipped
        self.rows_read = report.rows_read
        self.present = present  # contract columns the file has
        self.rows = rows  # every dossier of the export: fields, timeliness at the moment, counted
        self.results = results  # the engine's result per unit code


def _side(store: Store, side: str, path: Path, mapping: MappingArg, config: Config, rs: RuleSet, period: Period,
          moment: datetime) -> _Side:
    user = read_mapping_file(mapping) if isinstance(mapping, Path) else {t: dict(m) for t, m in (mapping or {}).items()}
    merged = {t: {**config.aliases.get(t, {}), **user.get(t, {})} for t in {*config.aliases, *user}}
    scratch = scratch_store(store)
    try:
        try:
            report = loader.Loader(scratch, mapping=merged, config=config).load([path], "dossiers")
        except loader.LoadError as exc:
            raise ExportError(side, exc.report) from None
        src = readers.open_source(path, "utf-8", config.limits, merged)
        present = set(loader.map_headers(src, "dossiers", merged).columns)
        results = {r["code"]: r for r in score_period(scratch, rs, period, moment, config)}
        status = StatusQuery(as_of=moment, config=config, dialect=scratch.dialect,
                             stored_due=kept_dues(scratch)).sql()
        fields = ", ".join(f"d.{q(f)}" for f in ("unit_code", *DATE_FIELDS, *OTHER_FIELDS))
        rows = scratch.con.sql(f"""
            SELECT d.dossier_id, {fields}, s.timeliness, f.dossier_id IS NOT NULL AS counted
            FROM dossiers d
            LEFT JOIN ({status}) s ON s.dossier_id = d.dossier_id
            LEFT JOIN (SELECT dossier_id FROM dossier_facts WHERE handled) f ON f.dossier_id = d.dossier_id
        """).to_arrow_table()
    finally:
        scratch.close()
    return _Side(path, report.files[0], present, rows, results)


def scratch_store(store: Store) -> Store:
    """An in-memory DuckDB store with the schema and the reference tables of ``store`` (which is only read), and
    no dossiers: what one export is loaded into and scored on."""
    scratch = Store(store.workspace, duckdb.connect(":memory:"))
    try:
        scratch.migrate()
        for table in REFERENCE_TABLES:
            data = store.con.sql(f"SELECT * FROM {table}").to_arrow_table()
            if data.num_rows == 0:
                continue
            cols = ", ".join(q(c) for c in data.column_names)
            scratch.con.register("reference_in", data)
            scratch.con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM reference_in")
            scratch.con.unregister("reference_in")
        for key in COPIED_SETTINGS:
            value = store.get_setting(key)
            if value is not None:
                scratch.set_setting(key, value)
        from chiso.api import prepare

        prepare(scratch)  # nothing to do when the copies are current; rebuilt in the scratch store otherwise
    except BaseException:
        scratch.close()
        raise
    return scratch


# --- comparing -----------------------------------------------------------------------------------------------------


def _units(store: Store) -> dict[str, tuple[str, str]]:
    """code -> (name, level) of every unit."""
    return {str(c): (str(n), str(lv)) for c, n, lv in store.con.execute("SELECT code, name, level FROM units")
            .fetchall()}


def _subtree(store: Store, unit: str) -> set[str]:
    return {str(r[0]) for r in store.con.execute(
        "WITH RECURSIVE t(code) AS (SELECT code FROM units WHERE code = ? "
        "UNION SELECT u.code FROM units u JOIN t ON u.parent_code = t.code) SELECT code FROM t", [unit]).fetchall()}


def _distinct(field: str) -> str:
    """SQL: the field differs between o_ and t_, read as the index reads it."""
    if field in BOOL_FIELDS:
        return f"COALESCE(o_{field}, FALSE) IS DISTINCT FROM COALESCE(t_{field}, FALSE)"
    if field == "fee_amount":
        return f"COALESCE(o_{field}, 0) IS DISTINCT FROM COALESCE(t_{field}, 0)"
    return f"o_{field} IS DISTINCT FROM t_{field}"


def _differences(ours: _Side, theirs: _Side, units: dict[str, tuple[str, str]], scope: set[str] | None
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One row per dossier and kind of difference, and the joined rows of every dossier compared."""
    both = ours.present & theirs.present
    dates = [f for f in DATE_FIELDS if f in both]
    others = [f for f in OTHER_FIELDS if f in both]
    con = duckdb.connect()
    try:
        con.register("ours", ours.rows)
        con.register("theirs", theirs.rows)
        names = ["unit_code", *DATE_FIELDS, *OTHER_FIELDS, "timeliness", "counted"]
        cols = ", ".join(f"o.{q(n)} AS o_{n}, t.{q(n)} AS t_{n}" for n in names)
        where = "COALESCE(o.counted, FALSE) OR COALESCE(t.counted, FALSE)"
        if scope is not None:
            con.register("scope", pa.table({"code": sorted(scope)}))
            where = (f"({where}) AND (o.unit_code IN (SELECT code FROM scope) "
                     "OR t.unit_code IN (SELECT code FROM scope))")

        def which(fields: Sequence[str]) -> str:
            if not fields:
                return "''"
            return "concat_ws(',', " + ", ".join(f"CASE WHEN {_distinct(f)} THEN '{f}' END" for f in fields) + ")"

        joined = con.sql(f"""
            SELECT j.*, {which(dates)} AS dates, {which(others)} AS others
            FROM (SELECT COALESCE(o.dossier_id, t.dossier_id) AS dossier_id, o.dossier_id IS NOT NULL AS in_ours,
                         t.dossier_id IS NOT NULL AS in_theirs, {cols}
                  FROM ours o FULL JOIN theirs t ON t.dossier_id = o.dossier_id
                  WHERE {where}) j
            ORDER BY dossier_id""")
        names_out = [d[0] for d in joined.description]
        rows = [dict(zip(names_out, r, strict=True)) for r in joined.fetchall()]
    finally:
        con.close()
    out: list[dict[str, Any]] = []
    for r in rows:
        r["unit"] = r["o_unit_code"] if r["in_ours"] else r["t_unit_code"]
        for kind in KINDS:
            fields = _kind_fields(kind, r)
            if fields is not None:
                out.append(_difference(kind, fields, r, units))
    return out, rows


def _kind_fields(kind: str, r: Mapping[str, Any]) -> list[str] | None:
    """The fields behind a difference of ``kind`` for the joined row ``r``; None when it has none of that kind."""
    present = bool(r["in_ours"] and r["in_theirs"])
    if kind == "missing_theirs":
        return [] if r["in_ours"] and not r["in_theirs"] else None
    if kind == "missing_ours":
        return [] if r["in_theirs"] and not r["in_ours"] else None
    if kind == "unit_differs":
        return ["unit_code"] if present and r["o_unit_code"] != r["t_unit_code"] else None
    if kind == "status_differs":
        return ["timeliness"] if present and r["o_timeliness"] != r["t_timeliness"] else None
    key = "dates" if kind == "dates_differ" else "others"
    fields = [f for f in str(r[key] or "").split(",") if f]
    return fields if present and fields else None


def _difference(kind: str, fields: list[str], r: Mapping[str, Any], units: Mapping[str, tuple[str, str]]
                ) -> dict[str, Any]:
    from chiso.api_web import FIELD_LABELS

    def side_text(prefix: str) -> str:
        if kind in ("missing_theirs", "missing_ours"):
            here = r["in_ours"] if prefix == "o" else r["in_theirs"]
            return _status_text(r[f"{prefix}_timeliness"]) if here else ABSENT
        if kind == "unit_differs":
            code = r[f"{prefix}_unit_code"]
            return f"{code} {units.get(code, ('', ''))[0]}".strip()
        if kind == "status_differs":
            return _status_text(r[f"{prefix}_timeliness"])
        return "; ".join(f"{FIELD_LABELS.get(f, f)}: {_value_text(f, r[f'{prefix}_{f}'])}" for f in fields)

    unit = r["unit"]
    return {"dossier_id": r["dossier_id"], "kind": kind, "kind_label": KIND_LABELS[kind], "unit_code": unit,
            "unit_name": units.get(unit, ("", ""))[0], "procedure_code": r["o_procedure_code"] or r["t_procedure_code"],
            "fields": fields, "field_labels": ", ".join(FIELD_LABELS.get(f, f) for f in fields
                                                        if kind in ("dates_differ", "fields_differ")),
            "ours": side_text("o"), "theirs": side_text("t"),
            "ours_values": {f: _plain(r[f"o_{f}"]) for f in fields},
            "theirs_values": {f: _plain(r[f"t_{f}"]) for f in fields}}


def _status_text(timeliness: str | None) -> str:
    return NOT_RECEIVED if timeliness is None else CLASS_LABELS.get(timeliness, timeliness)


def _value_text(field: str, value: Any) -> str:
    from chiso import vnformat
    from chiso.api_web import CHANNELS

    if value is None:
        return "không" if field in BOOL_FIELDS else EMPTY
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if field == "channel":
        return CHANNELS.get(str(value), str(value))
    if field == "rating":
        return {"satisfied": "hài lòng", "dissatisfied": "không hài lòng"}.get(str(value), str(value))
    if isinstance(value, int | float):
        return vnformat.number(value, 0) if float(value).is_integer() else vnformat.number(value)
    return str(value)


def _plain(value: Any) -> Any:
    return value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, datetime) else value


# --- counts and the effect on the index ------------------------------------------------------------------------------


def _summary(joined: list[dict[str, Any]], differences: list[dict[str, Any]], units: Mapping[str, tuple[str, str]],
             sides: Mapping[str, _Side]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per unit: dossiers that count on each side, dossiers in both files, and the differences of each kind; the
    totals (the same counts over every unit)."""
    def blank() -> dict[str, Any]:
        return {"ours": 0, "theirs": 0, "matched": 0, **{k: 0 for k in KINDS}, "differences": 0,
                "dossiers_differing": 0}

    per: dict[str, dict[str, Any]] = {}
    for r in joined:
        if r["o_counted"]:
            per.setdefault(r["o_unit_code"], blank())["ours"] += 1
        if r["t_counted"]:
            per.setdefault(r["t_unit_code"], blank())["theirs"] += 1
        if r["in_ours"] and r["in_theirs"]:
            per.setdefault(r["unit"], blank())["matched"] += 1
    differing: dict[str, set[str]] = {}
    for d in differences:
        row = per.setdefault(d["unit_code"], blank())
        row[d["kind"]] += 1
        row["differences"] += 1
        differing.setdefault(d["unit_code"], set()).add(d["dossier_id"])
    rows = []
    for code, counts in per.items():
        counts["dossiers_differing"] = len(differing.get(code, ()))
        name, level = units.get(code, ("", ""))
        totals = {s: sides[s].results.get(code, {}).get("total") for s in SIDES}
        rows.append({"unit_code": code, "unit_name": name, "level": level, **counts,
                     "total_ours": totals["ours"], "total_theirs": totals["theirs"]})
    rows.sort(key=lambda r: (fold(r["unit_name"]), r["unit_code"]))
    keys = ["ours", "theirs", "matched", *KINDS, "differences", "dossiers_differing"]
    totals = {k: sum(r[k] for r in rows) for k in keys}
    return rows, totals


def _indicators(store: Store, rs: RuleSet, sides: Mapping[str, _Side], joined: list[dict[str, Any]],
                units: Mapping[str, tuple[str, str]], scope: set[str] | None) -> list[dict[str, Any]]:
    """Per unit with a compared dossier in it or below it, and per indicator counted from dossiers: ours and
    theirs (the engine's computed score, before any official value) and the difference theirs − ours."""
    own = {r["o_unit_code"] for r in joined if r["o_counted"]} | {r["t_unit_code"] for r in joined if r["t_counted"]}
    ancestors = {str(a) for a, d in store.con.execute(CLOSURE_SQL).fetchall() if d in own}
    shown = ancestors if scope is None else ancestors & scope
    indicators = [i for i in rs.indicators if i.source == "dossiers" and i.denominator
                  and rs.measures[i.denominator].over in ("dossiers", "procedures")]
    out: list[dict[str, Any]] = []
    levels = {"province": 0, "department": 1, "district": 2, "commune": 3}
    for code in sorted(shown, key=lambda c: (levels.get(units.get(c, ("", ""))[1], 9), fold(units.get(c, ("", ""))[0]),
                                             c)):
        o, t = sides["ours"].results.get(code), sides["theirs"].results.get(code)
        if o is None or t is None:  # not valid during the period: not scored
            continue
        for ind in indicators:
            a, b = o["indicators"][ind.code], t["indicators"][ind.code]
            score_o, score_t = a.get("computed_score", a["score"]), b.get("computed_score", b["score"])
            out.append({
                "unit_code": code, "unit_name": o["name"], "level": o["level"], "code": ind.code,
                "group": ind.group, "name": ind.name, "max": ind.max,
                "numerator_ours": a["numerator"], "denominator_ours": a["denominator"], "score_ours": score_o,
                "numerator_theirs": b["numerator"], "denominator_theirs": b["denominator"], "score_theirs": score_t,
                "difference": round_half_up(score_t - score_o, rs.rounding),
                "changed": (a["numerator"], a["denominator"], score_o) != (b["numerator"], b["denominator"], score_t)})
    return out
