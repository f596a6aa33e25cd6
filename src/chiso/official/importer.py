"""Importing official results into the store, showing them, and the review list of names not matched.

``import_official`` reads a file (:mod:`chiso.official.parse`), matches every unit name through
:mod:`chiso.units.names` against the units of the period, and stores in one transaction:

* ``official_results``: per unit the total, rank, group scores and indicator figures, each with the import it
  came from, where in the file, the name as written and how it was matched (method, confidence);
* ``indicator_inputs``: the indicator figures (numerator, denominator, official score), so that scoring shows the
  official value beside the computed one (the existing rule: official values win, the difference is shown);
  registered as a load (``loads``) so ``chiso unload`` and the audit trail see it;
* ``official_review``: every line whose name could not be matched without doubt, with its values and the closest
  units. Nothing is guessed and nothing is dropped: ``chiso official review`` confirms the unit once; the name
  is then remembered (``unit_aliases``) for every later file, load and ``--unit``.

The units a name may match are those valid during the period (communes after 1/7/2025 for a 2025-07 letter,
districts and old communes for 2024-03) plus every provincial department whatever its dates: the portal keeps
ranking a department the 2025 mergers dissolved (Sở Lao động - Thương binh và Xã hội in July 2025).
Two lines may not claim one unit: both go to review.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chiso.clock import now_local
from chiso.official.parse import LEVELS, OfficialLine, Parsed, read_official
from chiso.rules.model import RuleSet
from chiso.scoring.period import Period
from chiso.store import audit
from chiso.store.db import Store
from chiso.store.rows import first_row
from chiso.units.catalog import MERGER_DAY
from chiso.units.names import Match, UnitMatcher

LEVEL_NAMES = {"province": "tỉnh", "department": "sở, ngành", "district": "huyện", "commune": "xã, phường"}
AUTO_METHODS = ("code", "exact", "alias", "fuzzy", "ocr")
METHOD_LABELS = {"code": "theo mã", "exact": "khớp tên", "alias": "tên đã xác nhận", "fuzzy": "gần đúng",
                 "ocr": "gần đúng (bản quét)", "confirmed": "người dùng xác nhận"}


@dataclass
class LineResult:
    line: OfficialLine
    match: Match | None
    code: str | None = None
    method: str = ""
    reason: str = ""  # why it went to review


@dataclass
class ImportReport:
    file: str
    sha256: str
    kind: str
    period: str
    import_id: int = 0
    stored: list[LineResult] = field(default_factory=list)
    review: list[LineResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    indicator_inputs: int = 0
    replaced: int = 0

    def as_dict(self) -> dict[str, Any]:
        def one(r: LineResult) -> dict[str, Any]:
            return {"name": r.line.name, "locator": r.line.locator, "level": r.line.level, "code": r.code,
                    "method": r.method, "confidence": r.match.confidence if r.match else None,
                    "total": r.line.total, "rank": r.line.rank, "reason": r.reason or None,
                    "candidates": [[c.code, c.name, c.score] for c in r.match.candidates] if r.match else []}
        return {"file": self.file, "sha256": self.sha256, "kind": self.kind, "period": self.period,
                "import_id": self.import_id, "stored": [one(r) for r in self.stored],
                "review": [one(r) for r in self.review], "notes": self.notes,
                "indicator_inputs": self.indicator_inputs, "replaced": self.replaced}


def aliases(store: Store) -> dict[str, str]:
    """Names confirmed by users: name -> unit code (only codes still in the catalogue). A compute store over a
    lake has none (the names confirmed live in the workspace's store)."""
    if store.derived_ready:
        return {}
    return {str(a): str(c) for a, c in store.con.execute(
        "SELECT a.alias, a.unit_code FROM unit_aliases a JOIN units u ON u.code = a.unit_code").fetchall()}


def period_units(store: Store, period: Period) -> list[tuple[str, str, str]]:
    """(code, name, level) of the units a name of this period may stand for."""
    return [(str(c), str(n), str(lv)) for c, n, lv in store.con.execute(
        "SELECT code, name, level FROM units WHERE level = 'department' OR ("
        "(valid_from IS NULL OR valid_from < ?) AND (valid_to IS NULL OR valid_to >= ?)) ORDER BY code",
        [period.end, period.start]).fetchall()]


def matcher_for(store: Store, period: Period) -> UnitMatcher:
    return UnitMatcher(period_units(store, period), aliases(store))


def _match(matcher: UnitMatcher, line: OfficialLine, ocr: bool) -> Match:
    levels: list[str | None] = ["province", "district"] if line.issuer else [line.level]
    best: Match | None = None
    for level in levels:
        got = matcher.match(line.code or line.name, level) if line.code else matcher.match(line.name, level)
        if got.code is None and line.code:
            got = matcher.match(line.name, level)
        if got.code is None and ocr:
            got = matcher.match(line.name, level, ocr=True)
        if got.code is not None:
            return got
        best = best or got
    assert best is not None
    return best


def match_lines(matcher: UnitMatcher, parsed: Parsed) -> tuple[list[LineResult], list[LineResult]]:
    """Matched lines, and lines for review (not matched, or two lines claiming one unit)."""
    ocr = parsed.kind == "letter"
    results = []
    for line in parsed.lines:
        m = _match(matcher, line, ocr)
        results.append(LineResult(line, m, m.code, m.method,
                                  "" if m.code else ("nhiều đơn vị cùng khớp" if m.method == "ambiguous"
                                                     else "không nhận ra tên")))
    claims: dict[str, list[LineResult]] = {}
    for r in results:
        if r.code:
            claims.setdefault(r.code, []).append(r)
    for code, rs in claims.items():
        if len(rs) > 1:
            where = ", ".join(r.line.locator for r in rs)
            for r in rs:
                r.reason = f"{len(rs)} dòng cùng khớp đơn vị {code} ({where})"
                r.code = None
    return [r for r in results if r.code], [r for r in results if not r.code]


Item = tuple[str, str, float | None, float | None, float | None, float | None, int | None, int | None]


def _items(line: OfficialLine) -> list[Item]:
    """(item, kind, score, max, numerator, denominator, rank, rank_of) rows of one line."""
    out: list[Item] = []
    if line.total is not None:
        out.append(("TOTAL", "total", line.total, line.max_total, None, None, line.rank, line.rank_of))
    for g, (score, mx) in line.groups.items():
        out.append((g, "group", score, mx, None, None, None, None))
    for code, f in line.indicators.items():
        out.append((code, "indicator", f.score, f.max_score, f.numerator, f.denominator, None, None))
    return out


def _row_hash(values: list[Any]) -> str:
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()


def _store_line(con: Any, period: str, code: str, line: OfficialLine, import_id: int, method: str,
                confidence: float | None, load_id: int | None) -> tuple[int, int]:
    """The line's rows in official_results (replacing the same items) and its indicators in indicator_inputs;
    (indicator_inputs written, of which replaced)."""
    written = replaced = 0
    for item, kind, score, mx, num, den, rank, rank_of in _items(line):
        con.execute("DELETE FROM official_results WHERE period = ? AND unit_code = ? AND item = ?",
                    [period, code, item])
        con.execute(
            "INSERT INTO official_results (period, unit_code, item, kind, score, max_score, numerator, denominator, "
            "rank, rank_of, import_id, locator, matched_from, match_method, confidence) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [period, code, item, kind, score, mx, num, den, rank, rank_of, import_id, line.locator, line.name, method,
             confidence])
    for ind, f in line.indicators.items():
        old = first_row(con.execute(
            "SELECT 1 FROM indicator_inputs WHERE period = ? AND unit_code = ? AND indicator = ?", [period, code, ind]))
        if old:
            replaced += 1
            con.execute("DELETE FROM indicator_inputs WHERE period = ? AND unit_code = ? AND indicator = ?",
                        [period, code, ind])
        con.execute("INSERT INTO indicator_inputs (period, unit_code, indicator, numerator, denominator, score, "
                    "row_hash, load_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [period, code, ind, f.numerator, f.denominator, f.score,
                     _row_hash([period, code, ind, f.numerator, f.denominator, f.score]), load_id])
        written += 1
    return written, replaced


def _next(con: Any, seq: str) -> int:
    row = first_row(con.execute(f"SELECT nextval('{seq}')"))
    assert row is not None
    return int(row[0])


def import_official(store: Store, path: Path, period: Period, rs: RuleSet, level: str | None = None
                    ) -> ImportReport:
    if level is not None and level not in LEVELS:
        raise ValueError(f"cấp '{level}' không có; chọn một trong: {', '.join(LEVELS)}")
    from chiso.load.loader import file_sha256  # the loader and pyarrow: not imported by every command

    parsed = read_official(path, rs, level)
    matcher = matcher_for(store, period)
    stored, review = match_lines(matcher, parsed)
    sha = file_sha256(path)
    rep = ImportReport(str(path), sha, parsed.kind, period.label, stored=stored, review=review,
                       notes=list(parsed.notes))
    present = {lv for _, _, lv in period_units(store, period)}
    missing = sorted({str(r.line.level) for r in review if r.line.level and r.line.level not in present})
    for lv in missing:
        hint = (" (đơn vị trước 1/7/2025: chiso units init --province \"Tên tỉnh\" --before-2025)"
                if lv in ("district", "commune") and period.start < MERGER_DAY else "")
        rep.notes.append(f"danh mục không có đơn vị cấp {LEVEL_NAMES.get(lv, lv)} nào trong kỳ {period.label}{hint}")
    who = audit.actor()
    con = store.con
    with store.transaction():
        rep.import_id = _next(con, "official_import_seq")
        load_id = None
        if any(r.line.indicators for r in stored):
            load_id = _next(con, "load_seq")
            con.execute(
                "INSERT INTO loads (load_id, file, sha256, table_name, loaded_at, rows_read, rows_inserted, "
                "rows_updated, rows_unchanged, rows_rejected, rejected_file, user_name, host, command, history_kept) "
                "VALUES (?, ?, ?, 'indicator_inputs', ?, 0, 0, 0, 0, 0, NULL, ?, ?, ?, FALSE)",
                [load_id, str(path), sha, now_local(), who.user, who.host, who.command])
        for r in stored:
            assert r.code is not None
            w, rp = _store_line(con, period.label, r.code, r.line, rep.import_id, r.method,
                                r.match.confidence if r.match else None, load_id)
            rep.indicator_inputs += w
            rep.replaced += rp
        if load_id is not None:
            con.execute("UPDATE loads SET rows_read = ?, rows_inserted = ?, rows_updated = ? WHERE load_id = ?",
                        [rep.indicator_inputs, rep.indicator_inputs - rep.replaced, rep.replaced, load_id])
        for r in stored:  # a name left for review by an earlier import is now settled
            con.execute("UPDATE official_review SET status = 'superseded', resolved_code = ?, resolved_at = ? "
                        "WHERE period = ? AND name = ? AND status = 'open'",
                        [r.code, now_local(), period.label, r.line.name])
        for r in review:
            con.execute("DELETE FROM official_review WHERE period = ? AND name = ? AND status = 'open'",
                        [period.label, r.line.name])
            cands = [[c.code, c.name, c.score] for c in r.match.candidates] if r.match else []
            con.execute(
                "INSERT INTO official_review (review_id, import_id, period, level, name, locator, payload, candidates, "
                "status) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'open')",
                [_next(con, "official_review_seq"), rep.import_id, period.label, r.line.level, r.line.name,
                 r.line.locator, json.dumps(r.line.payload() | {"issuer": r.line.issuer}, ensure_ascii=False),
                 json.dumps(cands, ensure_ascii=False)])
        con.execute(
            "INSERT INTO official_imports (import_id, file, sha256, kind, period, imported_at, user_name, rows_read, "
            "rows_stored, rows_review, load_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [rep.import_id, str(path), sha, parsed.kind, period.label, now_local(), who.user,
             len(parsed.lines), len(stored), len(review), load_id])
        audit.record(con, "official_import", str(rep.import_id),
                     {"file": str(path), "sha256": sha, "kind": parsed.kind, "period": period.label,
                      "stored": len(stored), "review": len(review), "indicator_inputs": rep.indicator_inputs})
    return rep


# --- showing ----------------------------------------------------------------------------------------------

LEVEL_ORDER = {lv: i for i, lv in enumerate(LEVELS)}


def official_results(store: Store, period: str, level: str | None = None) -> list[dict[str, Any]]:
    """Per unit: code, name, level, total, rank, groups {G: {score, max}}, indicators, source,
    matched_from, match_method, confidence."""
    rows = store.con.execute(
        "SELECT r.unit_code, u.name, u.level, r.item, r.kind, r.score, r.max_score, r.numerator, r.denominator, "
        "r.rank, r.rank_of, r.locator, r.matched_from, r.match_method, r.confidence, i.file, i.sha256, i.kind "
        "FROM official_results r JOIN official_imports i ON i.import_id = r.import_id "
        "LEFT JOIN units u ON u.code = r.unit_code WHERE r.period = ? ORDER BY r.unit_code, r.item",
        [period]).fetchall()
    units: dict[str, dict[str, Any]] = {}
    for (code, name, lv, item, kind, score, mx, num, den, rank, rank_of, locator, matched_from, method, conf, file, sha,
         _source_kind) in rows:
        if level is not None and lv != level:
            continue
        u = units.setdefault(str(code), {
            "code": str(code), "name": name, "level": lv, "total": None, "max_total": None, "rank": None,
            "rank_of": None, "groups": {}, "indicators": {}, "source": None, "matched_from": None,
            "match_method": None, "confidence": None})
        src = f"{Path(str(file)).name} ({str(sha)[:12]}), {locator}"
        if item == "TOTAL" or u["source"] is None:
            u.update(source=src, matched_from=matched_from, match_method=method, confidence=conf)
        if item == "TOTAL":
            u.update(total=score, max_total=mx, rank=rank, rank_of=rank_of)
        elif kind == "group":
            u["groups"][str(item)] = {"score": score, "max": mx}
        else:
            u["indicators"][str(item)] = {"numerator": num, "denominator": den, "score": score, "max": mx}
    return sorted(units.values(), key=lambda u: (LEVEL_ORDER.get(str(u["level"]), 9),
                                                 u["rank"] if u["rank"] is not None else 10**6, u["code"]))


# --- the review list --------------------------------------------------------------------------------------

def review_items(store: Store, period: str | None = None, status: str = "open") -> list[dict[str, Any]]:
    rows = store.con.execute(
        "SELECT r.review_id, r.period, r.level, r.name, r.locator, r.payload, r.candidates, r.status, "
        "r.resolved_code, i.file FROM official_review r JOIN official_imports i ON i.import_id = r.import_id "
        "WHERE (CAST(? AS TEXT) IS NULL OR r.period = ?) AND (CAST(? AS TEXT) = 'all' OR r.status = ?) "
        "ORDER BY r.review_id",
        [period, period, status, status]).fetchall()
    out = []
    for rid, per, lv, name, locator, payload, cands, st, resolved, file in rows:
        p = json.loads(payload)
        out.append({"id": int(rid), "period": per, "level": lv, "name": name,
                    "source": f"{Path(str(file)).name}, {locator}", "total": p.get("total"), "rank": p.get("rank"),
                    "candidates": json.loads(cands), "status": st, "resolved_code": resolved})
    return out


class ReviewError(ValueError):
    pass


def confirm(store: Store, review_id: int, code: str) -> dict[str, Any]:
    """The user says review line ``review_id`` is unit ``code`` (a code, or a name matched among the units of the
    line's period and level): its values are stored as official results and
    its name is remembered as an alias of the unit."""
    con = store.con
    row = first_row(con.execute("SELECT period, level, name, locator, payload, status, import_id FROM official_review "
                                "WHERE review_id = ?", [review_id]))
    if row is None:
        raise ReviewError(f"không có dòng cần xác nhận số {review_id} (xem chiso official review)")
    period, level, name, locator, payload, status, import_id = row
    if status != "open":
        raise ReviewError(f"dòng {review_id} đã được xử lý ({status})")
    unit = first_row(con.execute("SELECT name FROM units WHERE code = ?", [code.strip()]))
    if unit is None:  # a name: matched among the units of the line's period
        from chiso.scoring.period import parse_period

        matcher = matcher_for(store, parse_period(str(period)))
        found = matcher.match(code, level)
        if found.code is None:
            raise ReviewError(matcher.describe(found))
        code = found.code
        unit = (found.name,)
    code = code.strip()
    p = json.loads(payload)
    line = OfficialLine(str(name), str(locator), level, total=p.get("total"), max_total=p.get("max_total"),
                        rank=p.get("rank"), rank_of=p.get("rank_of"),
                        groups={g: (v[0], v[1]) for g, v in p.get("groups", {}).items()})
    from chiso.official.parse import Figure

    line.indicators = {k: Figure(*v) for k, v in p.get("indicators", {}).items()}
    who = audit.actor()
    with store.transaction():
        load_row = first_row(con.execute("SELECT load_id FROM official_imports WHERE import_id = ?", [import_id]))
        _store_line(con, str(period), code, line, int(import_id), "confirmed", 100.0,
                    load_row[0] if load_row else None)
        con.execute("DELETE FROM unit_aliases WHERE alias = ?", [str(name)])
        con.execute("INSERT INTO unit_aliases (alias, unit_code, confirmed_by, confirmed_at) VALUES (?, ?, ?, ?)",
                    [str(name), code, who.user, now_local()])
        con.execute("UPDATE official_review SET status = 'confirmed', resolved_code = ?, resolved_by = ?, "
                    "resolved_at = ? WHERE review_id = ?", [code, who.user, now_local(), review_id])
        audit.record(con, "official_confirm", str(review_id), {"name": name, "unit_code": code, "period": period})
    return {"id": review_id, "name": name, "code": code, "unit_name": unit[0], "period": period}


_KEY = re.compile(r"[A-Z][A-Z0-9]{0,19}")


def create_department(store: Store, key: str, name: str) -> str:
    """A provincial department the portal evaluates and the catalogue lacks (Ban Quản lý khu kinh tế …), created
    on a user's confirmation: loaded into ``units`` as ``<province>.<KEY>`` (a load, audited) and added to the
    workspace's ``departments.csv`` so that ``chiso units init`` keeps it. Returns its code."""
    from chiso.textnorm import INVISIBLE

    key = key.strip().upper()
    name = " ".join(INVISIBLE.sub(" ", name).split())
    if not _KEY.fullmatch(key):
        raise ReviewError(f"mã viết tắt '{key[:30]}' không hợp lệ: chữ in hoa không dấu và chữ số, tối đa 20 ký tự "
                          "(ví dụ BQLKKT)")
    if not 3 <= len(name) <= 200:
        raise ReviewError("tên đơn vị mới cần từ 3 đến 200 ký tự (--name)")
    provinces = [str(r[0]) for r in store.con.execute("SELECT code FROM units WHERE level = 'province'").fetchall()]
    if len(provinces) != 1:
        raise ReviewError("kho có " + str(len(provinces)) + " tỉnh: không biết thêm đơn vị mới vào tỉnh nào")
    code = f"{provinces[0]}.{key}"
    if first_row(store.con.execute("SELECT 1 FROM units WHERE code = ?", [code])):
        raise ReviewError(f"đã có đơn vị mã {code}: dùng --unit {code}")
    import csv
    import tempfile

    from chiso import api
    from chiso.load.loader import LoadError

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "don-vi-moi.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([["code", "name", "level", "parent_code"],
                                      [code, name, "department", provinces[0]]])
        try:
            api.load(store, [path], table="units")
        except LoadError as exc:
            raise ReviewError("không thêm được đơn vị mới: " + "; ".join(str(i) for i in exc.report.issues[:3])
                              ) from None
    departments = store.workspace / "departments.csv"
    if departments.is_file():
        with departments.open("a", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerow([key, name, "", "", ""])
    return code


def drop(store: Store, review_id: int) -> None:
    con = store.con
    with store.transaction():
        n = first_row(con.execute("SELECT status FROM official_review WHERE review_id = ?", [review_id]))
        if n is None or n[0] != "open":
            raise ReviewError(f"không có dòng cần xác nhận số {review_id} đang mở")
        who = audit.actor()
        con.execute("UPDATE official_review SET status = 'dropped', resolved_by = ?, resolved_at = ? "
                    "WHERE review_id = ?", [who.user, now_local(), review_id])
        audit.record(con, "official_confirm", str(review_id), {"dropped": True})
