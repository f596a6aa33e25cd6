"""Reading official results (kết quả chính thức) from the three shapes they come in.

* **The portal's evaluation JSON** (Cổng Dịch vụ công quốc gia): one unit object, a list of them, or an object
  holding such a list. Group scores under ``scores``, indicator figures under ``indicatorDetails``.
* **Tables of unit scores** as provinces circulate them (``.xlsx``, ``.xls``, ``.xlsb``, ``.ods``, ``.csv``):
  title rows above the header, headers in any of the usual spellings, decimals with a comma or a dot, numbers
  stored as text, section rows ("I. Các sở, ban, ngành") that set the level of the rows below.
* **Published letters** (``.docx``, text ``.pdf``, or the text of a scan, ``.txt``, without diacritics and with OCR
  errors): the issuer's own total, rank and group scores in the body ("Tổng số điểm Sơn La đạt: 71,31/100 điểm,
  xếp hạng 24/63"), and the appendix that ranks the units ("Phụ lục 2 — Kết quả đánh giá …"). Appendices that
  are not score tables (overdue counts, component indicators) are skipped, and the import says so.

Every reader returns :class:`Parsed`: the lines found, each with where it was found (line, row, JSON path), and
notes in Vietnamese for what was skipped. Matching the names to units is not done here
(:mod:`chiso.official.importer`).
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz

from chiso.rules.model import RuleSet
from chiso.textnorm import INVISIBLE, strip_diacritics

MAX_LINES = 20_000  # an official table has a few hundred units; a file beyond this is not one
MAX_FILE_MB = 50
LETTER_SUFFIXES = (".docx", ".pdf", ".txt")
TABLE_SUFFIXES = (".csv", ".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
LEVELS = ("province", "department", "district", "commune")
LEVEL_WORDS = {"province": "tỉnh", "department": "sở, ngành", "district": "huyện", "commune": "xã, phường"}


class OfficialError(ValueError):
    """A file that cannot be read as official results; the message names the file and where."""


@dataclass
class Figure:
    """One indicator as the portal gives it."""
    numerator: float | None = None
    denominator: float | None = None
    score: float | None = None
    max_score: float | None = None


@dataclass
class OfficialLine:
    name: str
    locator: str  # where in the file: "dòng 57", "hàng 12 (Sheet1)", "$[0]"
    level: str | None = None
    total: float | None = None
    max_total: float | None = None
    rank: int | None = None
    rank_of: int | None = None
    groups: dict[str, tuple[float, float | None]] = field(default_factory=dict)  # code -> (score, max)
    indicators: dict[str, Figure] = field(default_factory=dict)
    code: str | None = None  # a unit code written in the file (ours, not the portal's own)
    source_code: str | None = None  # the portal's code of the unit (departmentCode), kept for the record
    issuer: bool = False  # the letter's own province or district (its body), not an appendix line

    def payload(self) -> dict[str, Any]:
        return {"total": self.total, "max_total": self.max_total, "rank": self.rank, "rank_of": self.rank_of,
                "groups": {g: list(v) for g, v in self.groups.items()},
                "indicators": {k: [f.numerator, f.denominator, f.score, f.max_score]
                               for k, f in self.indicators.items()}}


@dataclass
class Parsed:
    kind: str  # portal-json · table · letter
    lines: list[OfficialLine]
    notes: list[str] = field(default_factory=list)


# --- text helpers -----------------------------------------------------------------------------------------

def _clean(text: str) -> str:
    return " ".join(INVISIBLE.sub(" ", unicodedata.normalize("NFC", text)).split())


def folded(text: str) -> str:
    """Lower case without diacritics, one character for one (so offsets into it are offsets into ``text``)."""
    out = []
    for ch in text:
        base = strip_diacritics(ch).replace("đ", "d").replace("Đ", "D").lower()
        out.append(base if len(base) == 1 else ch.lower()[:1] or ch)
    return "".join(out)


_NUMBER = re.compile(r"^\s*(\d{1,3})(?:[.,](\d{1,3}))?\s*(?:đi[eểé]m|di[eé]m|điểm)?\s*$", re.IGNORECASE)


def parse_score(value: Any) -> float | None:
    """'71,31' / '71.31' / 71.31 / '94' / '88,73 điểm' -> float; empty -> None; anything else raises ValueError.
    A score is at most 100 with at most three decimals, so a comma or a dot is always the decimal mark."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(str(value))
    if isinstance(value, int | float):
        if value != value or not 0 <= float(value) <= 1000:  # NaN, or no score
            raise ValueError(str(value))
        return float(value)
    text = _clean(str(value))
    if not text or text in ("-", "—", "–"):
        return None
    m = _NUMBER.match(text)
    if not m:
        raise ValueError(text)
    return float(f"{m.group(1)}.{m.group(2) or '0'}")


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        f = float(str(value).strip().replace(",", "."))
    except ValueError:
        return None
    return int(f) if f == int(f) and 0 < f < 100_000 else None


# --- the rule set's vocabulary ----------------------------------------------------------------------------

def _group_by_label(label: str, rs: RuleSet, floor: float = 78.0) -> str | None:
    """The group a label names ('Công khai, minh bạch', OCR'd 'Mtic d6 hai 1ong'), only when one group is clearly
    the one."""
    key = _ocr_words(folded(label))
    scored = sorted(((fuzz.partial_ratio(_ocr_words(folded(g.name)), key), g.code) for g in rs.groups),
                    reverse=True)
    if not scored or scored[0][0] < floor or (len(scored) > 1 and scored[0][0] - scored[1][0] < 10):
        return None
    return scored[0][1]


_OCR_DIGITS = str.maketrans({"0": "o", "1": "l", "3": "a", "4": "a", "6": "o", "&": "a", "¢": "e", "©": "e"})


def _ocr_words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", " ", text.translate(_OCR_DIGITS)).split())


# --- the portal's JSON ------------------------------------------------------------------------------------

PORTAL_GROUPS = {"transparency": "CKMB", "progress": "TDGQ", "onlineService": "CLGQ", "payment": "TTTT",
                 "digitized": "MDSH", "satisfaction": "MDHL"}
PORTAL_LEVELS = {"COMMUNE": "commune", "PROVINCE": "province", "DISTRICT": "district", "DEPARTMENT": "department",
                 "AGENCY": "department"}
# Figures inside a group's details that name one indicator (the others are by `code` or by name).
PORTAL_DETAIL_KEYS = {("progress", "onTime"): "PROGRESS_ON_TIME"}


def _portal_units(data: Any) -> list[tuple[str, dict[str, Any]]]:
    if isinstance(data, dict) and ("departmentName" in data or "name" in data and "scores" in data):
        return [("$", data)]
    if isinstance(data, list):
        return [(f"$[{i}]", u) for i, u in enumerate(data) if isinstance(u, dict)]
    if isinstance(data, dict):
        for key in ("data", "items", "result", "results", "content", "units", "list"):
            if isinstance(data.get(key), list):
                return [(f"$.{key}[{i}]", u) for i, u in enumerate(data[key]) if isinstance(u, dict)]
    return []


def _num(value: Any, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise OfficialError(f"{where}: '{str(value)[:40]}' không phải là số")
    try:
        out = float(str(value).replace(",", ".")) if isinstance(value, str) else float(value)
    except ValueError:
        raise OfficialError(f"{where}: '{str(value)[:40]}' không phải là số") from None
    if out != out or abs(out) > 1e12:
        raise OfficialError(f"{where}: '{str(value)[:40]}' không phải là số hợp lệ")
    return out


def _indicator_for(metric: dict[str, Any], rs: RuleSet, group: str) -> str | None:
    codes = {i.code for i in rs.group_indicators(group)}
    code = str(metric.get("code") or "")
    if code in codes:
        return code
    name = folded(_clean(str(metric.get("name") or "")))
    for ind in rs.group_indicators(group):
        if name and folded(ind.name) == name:
            return ind.code
    return None


def read_portal_json(path: Path, rs: RuleSet) -> Parsed:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OfficialError(f"{path.name}: không đọc được JSON ({exc})") from None
    units = _portal_units(data)
    if not units:
        raise OfficialError(f"{path.name}: không thấy đơn vị nào (cần đối tượng có departmentName và scores, "
                            "hoặc một danh sách các đối tượng đó)")
    parsed = Parsed("portal-json", [])
    for where, u in units:
        name = _clean(str(u.get("departmentName") or u.get("name") or ""))
        if not name:
            parsed.notes.append(f"{where}: không có tên đơn vị (departmentName), bỏ qua")
            continue
        line = OfficialLine(name, where, PORTAL_LEVELS.get(str(u.get("departmentLevel") or u.get("group") or "")),
                            total=_num(u.get("totalScore"), f"{path.name} {where}.totalScore"),
                            max_total=_num(u.get("maxScore"), f"{path.name} {where}.maxScore"),
                            rank=_int(u.get("rankInGroup") or u.get("rank")),
                            source_code=str(u["departmentCode"]) if u.get("departmentCode") else None)
        raw_details = u.get("indicatorDetails")
        details: dict[str, Any] = raw_details if isinstance(raw_details, dict) else {}
        for key, value in (u.get("scores") or {}).items():
            group = PORTAL_GROUPS.get(key)
            if group is None:
                parsed.notes.append(f"{where}.scores.{key}: nhóm chỉ số không biết, bỏ qua")
                continue
            score = _num(value, f"{path.name} {where}.scores.{key}")
            raw = details.get(key)
            group_detail: dict[str, Any] = raw if isinstance(raw, dict) else {}
            if score is not None:
                line.groups[group] = (score, _num(group_detail.get("maxScore"),
                                                  f"{path.name} {where}.{key}.maxScore"))
        for key, detail in details.items():
            detail_group = PORTAL_GROUPS.get(key)
            if detail_group is None or not isinstance(detail, dict):
                continue
            at = f"{path.name} {where}.indicatorDetails.{key}"
            figures: list[tuple[str | None, dict[str, Any], str]] = []
            for sub, ind_code in PORTAL_DETAIL_KEYS.items():
                if sub[0] == key and isinstance(detail.get(sub[1]), dict):
                    figures.append((ind_code, detail[sub[1]], f"{at}.{sub[1]}"))
            for i, metric in enumerate(detail.get("metrics") or []):
                if isinstance(metric, dict):
                    figures.append((_indicator_for(metric, rs, detail_group), metric, f"{at}.metrics[{i}]"))
            for found, metric, mat in figures:
                if found is None:
                    what = _clean(str(metric.get("code") or metric.get("name") or ""))[:60]
                    parsed.notes.append(f"{mat}: không nhận ra chỉ số '{what}', bỏ qua")
                    continue
                line.indicators[found] = Figure(_num(metric.get("numerator"), f"{mat}.numerator"),
                                               _num(metric.get("denominator"), f"{mat}.denominator"),
                                               _num(metric.get("score"), f"{mat}.score"),
                                               _num(metric.get("maxScore"), f"{mat}.maxScore"))
        if line.total is not None and not 0 <= line.total <= (line.max_total or 100):
            raise OfficialError(f"{path.name} {where}.totalScore: {line.total:g} ngoài khoảng 0–"
                                f"{(line.max_total or 100):g}")
        parsed.lines.append(line)
    return parsed


# --- tables -----------------------------------------------------------------------------------------------

def read_grid(path: Path) -> list[tuple[str, list[list[Any]]]]:
    """(sheet name, rows of cell values) for every sheet of a workbook, or the one 'sheet' of a CSV file."""
    size = path.stat().st_size
    if size > MAX_FILE_MB * 1024 * 1024:
        raise OfficialError(f"{path.name}: tệp lớn hơn {MAX_FILE_MB} MB, không phải bảng kết quả")
    if path.suffix.lower() == ".csv":
        from chiso.load.readers import detect_encoding

        raw = path.read_bytes()
        enc = detect_encoding(raw, whole=True) or "utf-8"
        py_enc = {"windows-1258": "cp1258", "utf-16": "utf-16"}.get(enc.lower(), enc)
        try:
            text = raw.decode(py_enc)
        except (UnicodeDecodeError, LookupError):
            raise OfficialError(f"{path.name}: không rõ bảng mã của tệp (hãy lưu lại dạng UTF-8)") from None
        text = unicodedata.normalize("NFC", text.lstrip("\ufeff"))
        sample = text[:4096]
        try:
            dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        rows = [r for _, r in zip(range(MAX_LINES + 1), csv.reader(io.StringIO(text), dialect), strict=False)]
        return [("", rows)]
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own error kinds for a damaged or wrong file
        raise OfficialError(f"{path.name}: không mở được bảng tính ({str(exc)[:120]})") from None
    out = []
    for name in book.sheet_names:
        sheet = book.get_sheet_by_name(name)
        if sheet.height > MAX_LINES or sheet.width > 200:
            raise OfficialError(f"{path.name} ({name}): {sheet.height} hàng × {sheet.width} cột, quá lớn cho một "
                                "bảng kết quả")
        out.append((name, [list(r) for r in sheet.to_python(skip_empty_area=False)]))
    return out


def _header_role(cell: str, rs: RuleSet) -> str | None:
    f = _ocr_words(folded(_clean(cell)))
    if not f:
        return None
    if f in ("stt", "tt", "so tt", "so thu tu"):
        return "serial"
    if re.fullmatch(r"(thu )?(xep )?hang( chung)?|thu hang|xep thu", f):
        return "rank"
    if re.fullmatch(r"ma( don vi| co quan| dinh danh)?", f):
        return "code"
    if re.fullmatch(r"cap( don vi)?|cap hanh chinh", f):
        return "level"
    if re.search(r"(ten )?(co quan|don vi|dia phuong)", f) and "diem" not in f:
        return "name"
    if re.fullmatch(r"(tong )?(so )?diem( so)?( dat duoc| dat)?( tong)?( \w+)?|ket qua|chi so|tong|tong cong", f):
        return "total"
    group = _group_by_label(cell, rs, floor=85.0)
    return f"group:{group}" if group else None


_ROMAN = re.compile(r"^(?:[ivxl]+|[a-d])\.?$")


def _section_level(text: str) -> str | None:
    f = _ocr_words(folded(text))
    if re.search(r"so\w* ban\w* nganh|cac so|co quan (chuyen mon|cap tinh)|khoi so", f):
        return "department"
    if re.search(r"huyen|cap huyen", f):
        return "district"
    if re.search(r"\bxa\b|phuong|cap xa|thi tran", f):
        return "commune"
    if re.search(r"\btinh\b|thanh pho", f):
        return "province"
    return None


def read_table(path: Path, rs: RuleSet, level: str | None) -> Parsed:
    parsed = Parsed("table", [])
    found = False
    for sheet, rows in read_grid(path):
        where = f" ({sheet})" if sheet else ""
        header_at, roles = None, {}
        for i, row in enumerate(rows[:30]):
            cand = {j: r for j, c in enumerate(row) if c is not None and (r := _header_role(str(c), rs))}
            if "name" in cand.values() and ({"total"} & set(cand.values()) or any(
                    v.startswith("group:") for v in cand.values())):
                header_at, roles = i, cand
                break
        if header_at is None:
            parsed.notes.append(f"{path.name}{where}: không thấy hàng tiêu đề (cần cột tên đơn vị và cột điểm)")
            continue
        found = True
        if header_at:
            parsed.notes.append(f"{path.name}{where}: bỏ qua {header_at} dòng tiêu đề phía trên")
        col = {r: j for j, r in sorted(roles.items(), reverse=True)}  # the first column of each role wins
        current = level
        for i, row in enumerate(rows[header_at + 1:], start=header_at + 2):
            def cell(role: str, row: list[Any] = row, col: dict[str, int] = col) -> Any:
                j = col.get(role)
                return row[j] if j is not None and j < len(row) else None
            name = _clean(str(cell("name") or ""))
            if not name:
                continue
            at = f"{path.name}{where} hàng {i}"
            try:
                total = parse_score(cell("total")) if "total" in col else None
                groups: dict[str, tuple[float, float | None]] = {
                    r[6:]: (s, None) for r, j in col.items()
                    if r.startswith("group:") and (s := parse_score(row[j] if j < len(row) else None)) is not None}
            except ValueError as exc:
                raise OfficialError(f"{at}: '{str(exc)[:40]}' không phải là điểm (số từ 0 đến 100, dấu phẩy "
                                    "hoặc dấu chấm thập phân)") from None
            if total is not None and total > 100:
                raise OfficialError(f"{at}: tổng điểm {str(cell('total'))[:20]} lớn hơn 100")
            if total is None and not groups:
                lv = _section_level(name)
                serial = _clean(str(cell("serial") or ""))
                if lv and (not serial or _ROMAN.match(folded(serial))):
                    current = lv if level is None else level
                    continue
                parsed.notes.append(f"{at}: '{name[:60]}' không có điểm, bỏ qua")
                continue
            rank = _int(cell("rank"))
            line = OfficialLine(name, at, current, total=total, rank=rank, groups=groups,
                                code=_clean(str(cell("code") or "")) or None)
            lv_text = _clean(str(cell("level") or ""))
            if lv_text:
                line.level = _section_level(lv_text) or line.level
            parsed.lines.append(line)
    if not found:
        raise OfficialError(f"{path.name}: không thấy bảng điểm (cần hàng tiêu đề có cột tên đơn vị, như 'Tên cơ "
                            "quan, đơn vị', và cột điểm, như 'Điểm' hoặc 'Tổng điểm')")
    return parsed


# --- letters ----------------------------------------------------------------------------------------------

def letter_text(path: Path) -> list[str]:
    """The letter's lines in reading order: paragraphs and table rows (cells joined by ' | ') of a .docx, the
    text of a PDF's pages, or a text file (the output of OCR)."""
    suffix = path.suffix.lower()
    if path.stat().st_size > MAX_FILE_MB * 1024 * 1024:
        raise OfficialError(f"{path.name}: tệp lớn hơn {MAX_FILE_MB} MB")
    if suffix == ".docx":
        from docx import Document
        from docx.table import Table
        from docx.text.paragraph import Paragraph

        try:
            doc = Document(str(path))
        except Exception as exc:  # python-docx raises several kinds for a file that is not a document
            raise OfficialError(f"{path.name}: không mở được văn bản Word ({str(exc)[:120]})") from None
        lines: list[str] = []
        for block in doc.iter_inner_content():
            if isinstance(block, Paragraph):
                lines += block.text.splitlines() or [""]
            elif isinstance(block, Table):
                for r in block.rows:
                    seen: set[int] = set()
                    texts = []
                    for c in r.cells:  # a merged cell is repeated in every grid column it spans: once
                        if id(c._tc) not in seen:
                            seen.add(id(c._tc))
                            texts.append(" ".join(c.text.split()))
                    lines.append(" | ".join(texts))
        return lines
    if suffix == ".pdf":
        from pypdf import PdfReader
        from pypdf.errors import PyPdfError

        try:
            reader = PdfReader(str(path))
            pages = [p.extract_text() or "" for p in reader.pages[:200]]
        except (PyPdfError, ValueError, KeyError) as exc:
            raise OfficialError(f"{path.name}: không đọc được PDF ({str(exc)[:120]})") from None
        text = "\n".join(pages)
        if len(text.strip()) < 20:
            raise OfficialError(f"{path.name}: PDF không có chữ (bản quét): hãy nhận dạng chữ (OCR) rồi nhập tệp .txt")
        return text.splitlines()
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "utf-16", "cp1258"):
        try:
            return unicodedata.normalize("NFC", raw.decode(enc)).splitlines()
        except UnicodeDecodeError:
            continue
    raise OfficialError(f"{path.name}: không rõ bảng mã của tệp văn bản (hãy lưu lại dạng UTF-8)")


_APPENDIX = re.compile(r"^\W{0,8}(?:phu\s*l[uy]c|pl)\s*\w{0,3}\s*(?:\d|[ivx]+\b)?")
_SCORE_HEADING = re.compile(r"ket qua danh gia|xep hang|bang diem|diem so|tong diem|chi so (tong hop|cap)")
_OTHER_HEADING = re.compile(r"qua han|thong ke|tieu chi thanh phan|danh sach ho so")
_TOTAL = re.compile(r"tong\s+(?:so\s+)?diem\s+(?:cua\s+)?(?P<name>.{2,80}?)\s+dat\s*:?\s*"
                    r"(?P<score>\d{1,3}(?:[.,]\d{1,3})?)\s*/\s*(?P<max>\d{2,3})")
_RANK = re.compile(r"xep\s+hang\s*(?:thu\s*)?:?\s*(?P<rank>\d{1,3})\s*/\s*(?P<of>\d{1,3})")
_FRACTION = re.compile(r"(?P<score>\d{1,3}(?:[.,]\d{1,3})?)\s*/\s*(?P<max>\d{1,3})\s*(?:diem|d\b)")
_ROW = re.compile(r"^\W{0,3}(?P<no>[0-9oOlI]{1,4})\s*[|.)\]:]?\s*(?P<name>.*?[^\W\d_].*?)\s*\(?\s*"
                  r"(?P<score>\d{1,3}(?:[.,]\d{1,3})?)\s*(?:đi[eểé]m|di[eé]m)?\s*\)?\W*$")
# A section heading inside an appendix: "I | Các sở, ban, ngành", "II. UBND các xã, phường", "Cấp huyện".
_SECTION = re.compile(r"^\W*(?:[ivxl1]{1,4}|[a-d])?\W*(?:cac|cap|khoi|ubnd cac|uy ban nhan dan cac)\b")
_PAGE_HEADER = re.compile(r"^\W*tt\W+ten\b|^\W*stt\b")


def _serial(text: str) -> int | None:
    digits = text.translate(str.maketrans("oOlI", "0011"))
    return int(digits) if digits.isdigit() else None


def read_letter(path: Path, rs: RuleSet, level: str | None) -> Parsed:
    lines = [_clean(x) for x in letter_text(path)][:MAX_LINES]
    parsed = Parsed("letter", [])
    body_end = next((i for i, t in enumerate(lines) if _APPENDIX.match(folded(t))), len(lines))
    issuer: OfficialLine | None = None
    for i, text in enumerate(lines[:body_end], start=1):
        f = folded(text)
        m = _TOTAL.search(f)
        if m and issuer is None:
            name = text[m.start("name"):m.end("name")] if len(f) == len(text) else m.group("name")
            issuer = OfficialLine(_clean(name), f"dòng {i}", level=None, total=parse_score(m.group("score")),
                                  max_total=float(m.group("max")), issuer=True)
            r = _RANK.search(f, m.end())
            if r:
                issuer.rank, issuer.rank_of = int(r.group("rank")), int(r.group("of"))
            parsed.lines.append(issuer)
            continue
        fr = _FRACTION.search(f)
        if issuer is not None and fr:
            label = re.sub(r"\b(dat|diem trung binh|diem)\b|[:;\-–•*]", " ", f[: fr.start()])
            group = _group_by_label(label, rs)
            if group is None:
                parsed.notes.append(f"dòng {i}: '{text[:60]}' không rõ là nhóm chỉ số nào, bỏ qua")
                continue
            if group in issuer.groups:
                parsed.notes.append(f"dòng {i}: nhóm {group} đã có ở trên, bỏ qua dòng này")
                continue
            issuer.groups[group] = (parse_score(fr.group("score")) or 0.0, float(fr.group("max")))
    # Appendices: each starts with "Phụ lục N"; the few lines after it say what it holds.
    starts = [i for i in range(body_end, len(lines)) if _APPENDIX.match(folded(lines[i]))]
    if not starts:
        starts = [0]  # a bare table of units without headings: every line may be a row
        kinds = {0: True}
    else:
        kinds = {}
        for s in starts:
            heading = " ".join(folded(t) for t in lines[s: s + 6])
            other = _OTHER_HEADING.search(heading)
            scores = _SCORE_HEADING.search(heading)
            kinds[s] = scores is not None and not (other is not None and other.start() < scores.start())
            if not kinds[s]:
                parsed.notes.append(f"dòng {s + 1}: bỏ qua phụ lục '{' '.join(lines[s: s + 3])[:90]}': không phải "
                                    "bảng điểm")
    bounds = [*starts, len(lines)]
    for s, e in zip(bounds, bounds[1:], strict=False):
        if not kinds.get(s):
            continue
        current = level or _section_level(" ".join(lines[s: s + 4])) if re.search(
            r"cap (huyen|xa|tinh)", " ".join(folded(t) for t in lines[s: s + 4])) else level
        expected = 0
        for i in range(s, e):
            text = lines[i]
            f = folded(text)
            if not text or _PAGE_HEADER.match(f) or i < s + 1:
                continue
            m = _ROW.match(text)
            if m is None or not re.search(r"[^\W\d_]{2}", m.group("name")):
                lv = _section_level(text) if _SECTION.match(f) else None
                if lv and len(text) < 80 and not re.search(r"\d{1,3}[.,]\d", text):
                    current, expected = (level or lv), 0
                continue
            name = m.group("name").strip(" |-–")
            if _section_level(name) and not re.search(r"\d", m.group("score")):
                continue
            try:
                score = parse_score(m.group("score"))
            except ValueError:
                continue
            if score is None or score > 100:
                parsed.notes.append(f"dòng {i + 1}: '{text[:60]}' có điểm lớn hơn 100, bỏ qua")
                continue
            expected += 1
            no = _serial(m.group("no"))
            if no != expected:
                parsed.notes.append(f"dòng {i + 1}: số thứ tự '{m.group('no')}' đọc là {expected}")
            parsed.lines.append(OfficialLine(name, f"dòng {i + 1}", current, total=score, rank=expected))
    if not parsed.lines:
        raise OfficialError(f"{path.name}: không thấy kết quả nào (cần câu 'Tổng số điểm … đạt …/100 điểm' hoặc một "
                            "phụ lục xếp hạng các đơn vị)")
    return parsed


def read_official(path: Path, rs: RuleSet, level: str | None = None) -> Parsed:
    """Any of the three shapes, told by the file's suffix."""
    if not path.is_file():
        raise OfficialError(f"{path}: không có tệp này")
    suffix = path.suffix.lower()
    if suffix == ".json":
        parsed = read_portal_json(path, rs)
    elif suffix in TABLE_SUFFIXES:
        parsed = read_table(path, rs, level)
    elif suffix in LETTER_SUFFIXES:
        parsed = read_letter(path, rs, level)
    else:
        raise OfficialError(f"{path.name}: không nhận dạng được định dạng '{suffix}': nhận .json (Cổng DVCQG), "
                            f"{', '.join(TABLE_SUFFIXES)} (bảng điểm), {', '.join(LETTER_SUFFIXES)} (công văn)")
    if level is not None:
        for line in parsed.lines:
            if not line.issuer:
                line.level = level
    _infer_scale(parsed)
    return parsed


SMALL_SCALE = 25.0  # a whole level whose best unit has at most this is not scored out of 100


def _infer_scale(parsed: Parsed) -> None:
    """A list whose highest total is small (the July 2025 letter scores the new communes out of 20) is on another
    scale than the 100 points of the index: its maximum is set to its highest whole score so that nobody compares
    it with a total out of 100, and the import says so."""
    by_level: dict[str | None, list[OfficialLine]] = {}
    for line in parsed.lines:
        if not line.issuer and line.total is not None and line.max_total is None:
            by_level.setdefault(line.level, []).append(line)
    for lv, lines in by_level.items():
        top = max(line.total or 0.0 for line in lines)
        if len(lines) >= 3 and 0 < top <= SMALL_SCALE:
            scale = float(math.ceil(top))
            for line in lines:
                line.max_total = scale
            parsed.notes.append(f"{len(lines)} đơn vị{' cấp ' + LEVEL_WORDS.get(lv, lv) if lv else ''} có điểm cao "
                                f"nhất {top:g}: thang điểm của danh sách này không phải 100 (ghi là /{scale:g}), "
                                "không so tổng điểm với điểm tính theo bộ chỉ số")
