"""Administrative-reform report (báo cáo cải cách hành chính, CCHC) of a quarter, as seed ``003_…``: the
statistics forms Biểu mẫu 1–7 (.xlsx) and the narrative report with sections I–V (.docx).

1. **Rows as data.** The rows of the seven forms live in ``templates/bieu-mau-cchc.toml`` (:data:`FORMS`): STT,
   label, unit (đơn vị tính) and source — ``data`` (computed from the store), ``input`` (typed by staff),
   ``ratio`` / ``sum`` (worked out from other rows of the form) or ``heading``.
2. **Two levels from 1/7/2025.** District rows (``district = true``) are left out of periods that start on or
   after :data:`TWO_LEVEL_FROM`; a few labels change (``two_level_label``). STT codes are the Ministry's and stay.
3. **Computed rows** cover the reporting window (:func:`window`, Decree 09/2019 by default): procedures,
   resolved dossiers (:func:`computed_values`), feedback, online services, and the citizens' evaluation forms
   (:func:`evaluation_values`).
4. **Staff inputs** come from an input workbook, one sheet per form plus the report's texts
   (:func:`write_input_template`, :func:`read_inputs`), checked like a load (every problem with file, sheet,
   row and column) and kept per period in the store (:func:`save_inputs`, :func:`stored_inputs`).
5. :func:`build_forms` merges them; what is still missing is listed (:func:`missing_items`), never shown as 0.
   :func:`write_forms` fills the Excel template (percentages numeric, formatted ``0.00%``); :func:`report_context`
   builds the narrative's context from the same rows, one function per figure (:class:`Figures`).

A percentage is carried as a fraction everywhere (1.0 = 100%).
"""

from __future__ import annotations

import re
import tomllib
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from chiso.clock import now_local
from chiso.config import Config, ConfigError, load_config
from chiso.reports.common import ROMAN, province_name
from chiso.reports.numbers import NumberFormat
from chiso.reports.onestop import handling_counts, level_totals, report_window
from chiso.reports.templating import TemplateError, packaged_dir, set_cell, template_path
from chiso.rules.arithmetic import round_half_up
from chiso.scoring.period import Period, parse_period
from chiso.store.db import Store
from chiso.store.rows import first_row
from chiso.textnorm import fold

TEMPLATE_NAME = "bieu-mau-cchc.xlsx"
REPORT_TEMPLATE = "bao-cao-cchc-quy.docx"
ROWS_FILE = "bieu-mau-cchc.toml"
INPUT_SHEET = "Số liệu nhập"  # the single sheet of input files written before Biểu mẫu 1-7 (still read)
GUIDE_SHEET = "Hướng dẫn"
TEXT_SHEET = "Nội dung báo cáo"
MISSING_SHEET = "Chưa có số liệu"
NOT_ENTERED = "Chưa nhập"
NO_CASES = "Không phát sinh"
PLACEHOLDER = "…"  # a figure of the narrative that is still missing: visible, and listed
TWO_LEVEL_FROM = date(2025, 7, 1)  # two-level local government: no districts from this day
TEXT_FORM = "BC"  # the key of the report's texts in the input workbook and the store

Number = int | float
InputValues = dict[tuple[str, str], tuple[Number | None, str]]

PERCENT = "%"
AMOUNT_UNITS = ("Tỷ đồng",)
COUNT_UNITS = ("Thủ tục", "Hồ sơ", "PAKN", "Văn bản", "Nhiệm vụ", "Cơ quan, đơn vị", "Vấn đề", "Số lượng", "Ban",
               "Tổ chức", "Người", "Đơn vị")
SOURCES = ("heading", "data", "input", "ratio", "sum")


# --- row definitions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowDef:
    """One row of a form (chỉ tiêu thống kê). ``choices``: the allowed values of a coded row (Chưa = 0, …);
    ``parts``: the rows a ratio (numerator, denominator) or a sum is made of; ``district``: a district-level row
    (left out from 1/7/2025); ``fallback``: a data row that takes the staff figure when the data has none."""

    form: str
    code: str
    label: str
    unit: str
    source: str  # heading | data | input | ratio | sum
    choices: tuple[int, ...] = ()
    parts: tuple[str, ...] = ()
    district: bool = False
    two_level_label: str = ""
    fallback: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.form, self.code)

    @property
    def kind(self) -> str:
        """percent | count | amount | choice | none."""
        if self.unit == PERCENT:
            return "percent"
        if self.choices:
            return "choice"
        if self.unit in COUNT_UNITS:
            return "count"
        if self.unit in AMOUNT_UNITS:
            return "amount"
        return "none"

    @property
    def typed(self) -> bool:
        """Staff type this row in the input workbook."""
        return self.source == "input" or self.fallback


@dataclass(frozen=True)
class FormDef:
    form: str
    sheet: str
    title: str
    rows: tuple[RowDef, ...]


def _form_defs(path: Path) -> dict[str, FormDef]:
    """The forms of ``bieu-mau-cchc.toml``, checked: known sources, parts that exist in the same form."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    forms: dict[str, FormDef] = {}
    for spec in raw["form"]:
        form = str(spec["form"])
        rows = tuple(RowDef(form, str(r["code"]), str(r["label"]), str(r["unit"]), str(r["source"]),
                            tuple(int(c) for c in r.get("choices", ())), tuple(str(p) for p in r.get("parts", ())),
                            bool(r.get("district", False)), str(r.get("two_level_label", "")),
                            bool(r.get("fallback", False)))
                     for r in spec["rows"])
        codes = {r.code for r in rows}
        for r in rows:
            if r.source not in SOURCES or not set(r.parts) <= codes or (r.source in ("ratio", "sum")) != bool(r.parts):
                raise ValueError(f"{path}: Biểu mẫu {form}, STT {r.code}: định nghĩa dòng không hợp lệ")
        forms[form] = FormDef(form, f"Biểu mẫu {form}", str(spec["title"]), rows)
    return forms


FORMS: dict[str, FormDef] = _form_defs(packaged_dir() / ROWS_FILE)
ALL_ROWS: tuple[RowDef, ...] = tuple(r for f in FORMS.values() for r in f.rows)
ROWS_BY_KEY: dict[tuple[str, str], RowDef] = {r.key: r for r in ALL_ROWS}
# Percent rows = numerator row / denominator row (both of the same form).
PERCENT_PARTS: dict[tuple[str, str], tuple[str, str]] = {
    r.key: (r.parts[0], r.parts[1]) for r in ALL_ROWS if r.source == "ratio"}
FORM_3, FORM_7 = FORMS["3"], FORMS["7"]


def two_levels(period: Period) -> bool:
    """True for a period of the two-level local government (province and commune, from 1/7/2025)."""
    return period.start >= TWO_LEVEL_FROM


def rows_for(period: Period) -> list[RowDef]:
    """The rows of the forms for ``period``: without district rows and with the two-level labels from
    1/7/2025; the parts of a ratio or sum follow (a part that is gone is left out of a sum)."""
    if not two_levels(period):
        return list(ALL_ROWS)
    kept = {r.key for r in ALL_ROWS if not r.district}
    return [replace(r, label=r.two_level_label or r.label,
                    parts=r.parts if r.source == "ratio" else tuple(p for p in r.parts if (r.form, p) in kept))
            for r in ALL_ROWS if r.key in kept]


def dropped_rows(period: Period) -> list[tuple[str, str]]:
    """The rows of the template that a report of ``period`` removes (district rows from 1/7/2025)."""
    return [r.key for r in ALL_ROWS if r.district] if two_levels(period) else []


@dataclass
class FormRow:
    """A filled row: ``value`` is a count, a coded value, an amount or (unit %) a fraction; None when there is no
    figure (the note says why)."""

    form: str
    code: str
    label: str
    unit: str
    source: str
    value: Number | None = None
    note: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (self.form, self.code)


# --- reporting window -----------------------------------------------------------------------------------------


def window(period: Period, config: Config) -> tuple[date, date]:
    """First and last day (both inclusive) of the data a report of ``period`` covers.

    ``[report] window = "nd09"`` (default, Decree 09/2019 on reporting): from the 15th of the month before the
    period to the 14th of its last month, e.g. 2024-Q1 = 15/12/2023..14/03/2024, 2024-03 = 15/02..14/03/2024.
    ``"calendar"``: the period's own days. An explicit date range is always taken as given. The same convention
    as the one-stop quarterly report (:func:`chiso.reports.onestop.report_window`), which does the work.
    """
    return report_window(period, config)


# --- number format --------------------------------------------------------------------------------------------


NumberFormatLike = NumberFormat | Mapping[str, str] | None


def number_format_of(value: NumberFormatLike) -> NumberFormat:
    """The documents' :class:`~chiso.reports.numbers.NumberFormat` from itself, a dict with the keys ``decimal``
    and ``thousands`` (Vietnamese "," and "." by default), or None (Vietnamese)."""
    if value is None:
        return NumberFormat()
    if isinstance(value, NumberFormat):
        return value
    unknown = set(value) - {"decimal", "thousands"}
    if unknown:
        raise ConfigError(f"định dạng số: khóa không hợp lệ {', '.join(sorted(unknown))} (chỉ nhận decimal, "
                          "thousands)")
    return NumberFormat.from_config(dict(value))


def percent_text(fraction: float, nf: NumberFormat) -> str:
    """0.99874 -> '99,87%' (two decimals, rounded half up)."""
    return nf.fixed(fraction * 100, 2) + "%"


def excel_integer_format(nf: NumberFormat) -> str:
    """An Excel number format that shows the thousands separator as a literal character, so a count reads 2.835
    whatever the regional settings of the computer and stays a number Excel sums (up to 999.999.999)."""
    if not nf.thousands:
        return "0"
    t = f'"{nf.thousands}"'
    return f"[>=1000000]#{t}000{t}000;[>=1000]#{t}000;0"


EXCEL_PERCENT = "0.00%"  # a percentage is a number (0.9987) shown 99,87% (the decimal mark follows Excel's locale)
EXCEL_AMOUNT = "#,##0.00"


def display(value: Number | None, row: RowDef | FormRow, nf: NumberFormat) -> str:
    """A figure as people read it in the form: '2.835', '99,87%', '3.989.325,00' (Tỷ đồng), '' for no figure."""
    if value is None:
        return ""
    if row.unit == PERCENT:
        return percent_text(float(value), nf)
    if row.unit in AMOUNT_UNITS:
        return nf.fixed(float(value), 2)
    if isinstance(value, int) or float(value).is_integer():
        return nf.integer(int(value))
    return nf.fixed(float(value), 2)


# --- computed rows --------------------------------------------------------------------------------------------


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) timestamps of a window of whole days."""
    return datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time())


def _one(store: Store, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...]:
    row = first_row(store.con.execute(sql, list(params)))
    assert row is not None
    return tuple(row)


def computed_values(store: Store, first: date, last: date, config: Config) -> dict[str, tuple[Number, str]]:
    """The data rows' counts (not the percentages) for the window first..last, by STT code, with a note."""
    start, end = _bounds(first, last)
    out: dict[str, tuple[Number, str]] = {}

    (total, prov, dist, comm, partial, eligible_full, full, fee) = _one(store, """
        SELECT count(*),
               count(*) FILTER (WHERE level = 'province'),
               count(*) FILTER (WHERE level = 'district'),
               count(*) FILTER (WHERE level = 'commune'),
               count(*) FILTER (WHERE online_level = 'partial'),
               count(*) FILTER (WHERE COALESCE(full_online_eligible, online_level = 'full', FALSE)),
               count(*) FILTER (WHERE online_level = 'full'),
               count(*) FILTER (WHERE COALESCE(fee_bearing, FALSE))
        FROM procedures""")
    unleveled = int(total) - int(prov) - int(dist) - int(comm)
    out["1.4"] = (int(total), f"Trong đó {unleveled} TTHC chưa xác định cấp" if unleveled else "")
    out["1.4.1"], out["1.4.2"], out["1.4.3"] = (int(prov), ""), (int(dist), ""), (int(comm), "")
    out["6.1.1"] = (int(partial), "Bằng số TTHC đang cung cấp trực tuyến một phần")
    out["6.1.2"] = (int(partial), "")
    out["6.2.1"] = (int(eligible_full), "")
    out["6.2.2"] = (int(full), "")
    out["6.3.1"] = (int(partial) + int(full), "")
    out["6.5.1"] = (int(fee), "")

    received = "d.received_at >= ? AND d.received_at < ?"
    partial_online, full_online, paid = _one(store, f"""
        SELECT count(DISTINCT p.code) FILTER (WHERE p.online_level = 'partial' AND d.channel = 'online'),
               count(DISTINCT p.code) FILTER (WHERE p.online_level = 'full' AND d.channel = 'online'),
               count(DISTINCT p.code) FILTER (WHERE COALESCE(p.fee_bearing, FALSE) AND COALESCE(d.paid_online, FALSE))
        FROM dossiers d JOIN procedures p ON p.code = d.procedure_code
        WHERE {received}""", [start, end])
    out["6.1.3"] = (int(partial_online), "")
    out["6.2.3"] = (int(full_online), "")
    out["6.5.2"] = (int(paid), "")

    all_received, online_received = _one(store, f"""
        SELECT count(*), count(*) FILTER (WHERE d.channel = 'online')
        FROM dossiers d JOIN procedures p ON p.code = d.procedure_code
        WHERE p.online_level IN ('partial', 'full') AND {received}""", [start, end])
    out["6.4.1"] = (int(all_received), "")
    out["6.4.2"] = (int(online_received), "")

    # Resolved and resolved on time per level: the one-stop report's counts (withdrawn and cancelled dossiers
    # excluded), from the same function, so both documents print the same figures (docs/reports.md).
    totals = level_totals(handling_counts(store, first, last, config))
    no_district = "Từ 01/7/2025 không còn cấp huyện" if first >= date(2025, 7, 1) else ""
    for group, level in (("3.1", "centre"), ("3.2", "district"), ("3.3", "commune")):
        resolved, on_time = totals[level]["resolved"], totals[level]["in_time"]
        note = no_district if group == "3.2" else ""
        out[f"{group}.1"] = (resolved, note)
        out[f"{group}.2"] = (on_time, note)

    # PAKN about procedures (about = 'procedure', or not classified) received in the window; handled by its end.
    fb_received, fb_handled = _one(store, """
        SELECT count(*), count(*) FILTER (WHERE handled_at IS NOT NULL AND handled_at < ?)
        FROM feedback
        WHERE COALESCE(about, 'procedure') = 'procedure' AND received_at >= ? AND received_at < ?""",
                                   [end, start, end])
    out["3.4.1"] = (int(fb_received), "")
    out["3.4.2"] = (int(fb_handled), "")
    return out


def evaluation_values(store: Store, first: date, last: date) -> dict[str, tuple[Number | None, str]]:
    """Biểu mẫu 1, rows 6 and 6.1: the satisfaction survey of the window as the one-stop system holds it — the
    citizens' evaluation forms (``evaluations``, evaluator ``citizen``) plus the ratings given on dossiers
    received in the window that have no such form. None (the staff figure is used) when there is none: a survey
    on paper is not in the data, and no form is not the same as no survey."""
    start, end = _bounds(first, last)
    forms, ratings = _one(store, """
        SELECT (SELECT count(*) FROM evaluations
                WHERE evaluator = 'citizen' AND evaluated_at >= ? AND evaluated_at < ?),
               (SELECT count(*) FROM dossiers d
                WHERE d.rating IS NOT NULL AND d.received_at >= ? AND d.received_at < ?
                  AND NOT EXISTS (SELECT 1 FROM evaluations e
                                  WHERE e.dossier_id = d.dossier_id AND e.evaluator = 'citizen'))""",
                          [start, end, start, end])
    total = int(forms) + int(ratings)
    if not total:
        return {"6": (None, ""), "6.1": (None, "Hệ thống một cửa không có phiếu đánh giá trong kỳ")}
    return {"6": (1, ""), "6.1": (total, f"Phiếu đánh giá trên Hệ thống một cửa: {int(forms)} phiếu, "
                                         f"{int(ratings)} lượt đánh giá hồ sơ")}


# --- merging --------------------------------------------------------------------------------------------------


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def _fill_label(label: str, header: Mapping[str, str]) -> str:
    return _TAG.sub(lambda m: header.get(m[1], m[0]), label) if "{{" in label else label


def build_forms(store: Store, period: Period | str, config: Config,
                inputs: Mapping[tuple[str, str], tuple[Number | None, str]] | None = None) -> list[FormRow]:
    """Every row of the seven forms for the period, in order: computed rows from the store, the others from
    ``inputs`` (default: the inputs stored for the period), ratios and sums from their parts. A data row the staff
    also typed keeps the computed figure and notes the typed one (unless the data has none: ``fallback`` rows);
    an input row nobody typed stays empty with the note "Chưa nhập"."""
    from chiso.api import prepare  # the status query needs the calendar and deadline rules up to date

    p = parse_period(period) if isinstance(period, str) else period
    if inputs is None:
        inputs = stored_inputs(store, p.label)
    nf = NumberFormat.from_config(config.report)
    prepare(store, config)
    first, last = window(p, config)
    header = {"den_ngay": f"{last:%d/%m/%Y}", "tu_ngay": f"{first:%d/%m/%Y}"}
    computed: dict[tuple[str, str], tuple[Number | None, str]] = {}
    for code, value in computed_values(store, first, last, config).items():
        form = "3" if ("3", code) in ROWS_BY_KEY and ROWS_BY_KEY[("3", code)].source == "data" else "7"
        computed[(form, code)] = value
    computed.update({("1", c): v for c, v in evaluation_values(store, first, last).items()})
    defs = rows_for(p)
    if two_levels(p):
        _note_gone_districts(computed)

    rows: list[FormRow] = []
    for d in defs:
        typed_value, typed_note = inputs.get(d.key, (None, ""))
        row = FormRow(d.form, d.code, _fill_label(d.label, header), d.unit, d.source)
        if d.source == "input":
            row.value = typed_value
            row.note = typed_note if typed_value is not None else _join(NOT_ENTERED, typed_note)
        elif d.source == "data":
            row.value, note = computed.get(d.key, (None, ""))
            if row.value is None and d.fallback:
                row.value = typed_value
                row.note = _join(note, typed_note) if typed_value is not None else _join(NOT_ENTERED, note,
                                                                                          typed_note)
            else:
                typed = "" if typed_value is None else \
                    f"Số liệu nhập: {display(typed_value, d, nf)} (báo cáo dùng số liệu tính từ dữ liệu)"
                row.note = _join(note, typed, typed_note)
        else:
            row.note = typed_note
        rows.append(row)
    _derive(rows, defs)
    return rows


def _note_gone_districts(computed: dict[tuple[str, str], tuple[Number | None, str]]) -> None:
    """From 1/7/2025 the district rows are gone; what the data still holds of districts (procedures of the
    district level, dossiers a district resolved in the window's days before 1/7/2025) is noted, not moved."""
    procedures = computed.pop(("3", "1.4.2"), (0, ""))[0]
    resolved = computed.pop(("3", "3.2.1"), (0, ""))[0]
    computed.pop(("3", "3.2.2"), None)
    if procedures:
        value, note = computed[("3", "1.4")]
        computed[("3", "1.4")] = (value, _join(note, f"Trong đó {procedures} TTHC cấp huyện (trước 01/7/2025)"))
    if resolved:
        value, note = computed[("3", "3.3.1")]
        computed[("3", "3.3.1")] = (value, _join(note, f"Không gồm {resolved} hồ sơ UBND cấp huyện giải quyết "
                                                       "trước 01/7/2025"))


def _derive(rows: list[FormRow], defs: Sequence[RowDef]) -> None:
    """Ratios and sums from their parts; a row whose parts are themselves worked out comes after them (Biểu mẫu
    6: 2.1 = 2.2 + 2.3 + 2.4 + 2.5, where 2.4 is a sum)."""
    by_key = {r.key: r for r in rows}
    pending = [d for d in defs if d.source in ("ratio", "sum")]
    ordered: list[RowDef] = []
    while pending:
        waiting = {d.key for d in pending}
        ready = [d for d in pending if not any((d.form, c) in waiting for c in d.parts)]
        if not ready:  # a row that is its own part, through others: a mistake in bieu-mau-cchc.toml
            raise ValueError(f"{ROWS_FILE}: vòng lặp giữa các dòng {', '.join(sorted(map('/'.join, waiting)))}")
        ordered += ready
        pending = [d for d in pending if d not in ready]
    for d in ordered:
        row = by_key[d.key]
        parts = [by_key[(d.form, c)] for c in d.parts]
        absent = [r.code for r in parts if r.value is None and r.note != NO_CASES]
        if absent:
            row.value, row.note = None, _join(f"Chưa đủ số liệu ({', '.join(absent)} chưa nhập)", row.note)
        elif d.source == "sum":
            total = sum((float(r.value or 0) for r in parts), 0.0)
            row.value = int(total) if total.is_integer() else total
        else:
            num, den = parts
            if not den.value:
                row.value, row.note = None, _join(NO_CASES, row.note)
            else:
                row.value = float(num.value or 0) / float(den.value)
                if row.value > 1 + 1e-9:
                    row.note = _join(f"Số liệu chưa khớp: {num.code} lớn hơn {den.code}", row.note)


def missing_items(rows: Iterable[FormRow], texts: Mapping[tuple[str, str], tuple[Number | None, str]]
                  | None = None) -> list[tuple[str, str, str, str]]:
    """What the report still lacks: (where, STT, label, what to do) for every typed row without a figure and,
    when ``texts`` is given, every section of the narrative without the office's text."""
    out = [(f"Biểu mẫu {r.form}", r.code, r.label, "Chưa nhập số liệu")
           for r in rows if r.value is None and ROWS_BY_KEY[r.key].typed]
    if texts is not None:
        out += [(TEXT_SHEET, code, title, "Chưa có nội dung do cơ quan soạn" if code != "V"
                 else "Chưa có nội dung do cơ quan soạn (báo cáo dùng nội dung mặc định)")
                for code, title in TEXT_SECTIONS if not texts.get((TEXT_FORM, code), (None, ""))[1].strip()]
    return out


# --- staff inputs: Excel file ---------------------------------------------------------------------------------


class InputError(ValueError):
    """A staff input file that cannot be used: every problem names the file, the sheet, the row and the column."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


INPUT_COLUMNS = ("Biểu mẫu", "STT", "Chỉ tiêu", "Đơn vị tính", "Số liệu", "Ghi chú")
FORM_COLUMNS = INPUT_COLUMNS[1:]
TEXT_COLUMNS = ("Mục", "Tiêu đề", "Nội dung")
_HEADER_ROW = 5
# The narrative's sections whose text the office writes (mục, title); the figures are added by chiso.
TEXT_SECTIONS: tuple[tuple[str, str], ...] = (
    ("I.1", "Công tác chỉ đạo, điều hành"),
    ("I.2", "Công tác thông tin, tuyên truyền CCHC và kiểm tra"),
    ("I.3", "Kết quả thực hiện nhiệm vụ Chính phủ, Thủ tướng Chính phủ giao"),
    ("II.1", "Cải cách thể chế"),
    ("II.2", "Cải cách thủ tục hành chính (TTHC)"),
    ("II.3", "Cải cách tổ chức bộ máy"),
    ("II.4", "Cải cách chế độ công vụ"),
    ("II.5", "Cải cách tài chính công"),
    ("II.6", "Xây dựng và phát triển Chính quyền điện tử, Chính quyền số"),
    ("IV.1", "Ưu điểm"),
    ("IV.2.a", "Tồn tại, hạn chế"),
    ("IV.2.b", "Nguyên nhân"),
    ("V", "Phương hướng, nhiệm vụ trọng tâm quý tiếp theo"),
)
TEXT_CODES = {code for code, _ in TEXT_SECTIONS}
MAX_TEXT = 20_000  # characters of one section's text
# Bounds of an input workbook (a few hundred cells): checked on the zip before openpyxl builds it.
MAX_INPUT_BYTES = 20 << 20
MAX_INPUT_UNZIPPED = 32 << 20
MAX_INPUT_ENTRIES = 500
MAX_INPUT_ROWS = 1000
MAX_INPUT_COLUMNS = 26  # A..Z
FILL_FILL = "FFF2CC"  # the cells to fill: pale yellow


def period_title(p: Period) -> str:
    """'QUÝ III NĂM 2025', 'THÁNG 9 NĂM 2025', 'NĂM 2025', 'TỪ NGÀY 01/07/2025 ĐẾN NGÀY 30/09/2025'."""
    if p.kind == "quarter":
        q = (p.start.month - 1) // 3
        return f"QUÝ {ROMAN[q]} NĂM {p.start.year}"
    if p.kind == "month":
        return f"THÁNG {p.start.month} NĂM {p.start.year}"
    if p.kind == "year":
        return f"NĂM {p.start.year}"
    return f"TỪ NGÀY {p.start:%d/%m/%Y} ĐẾN NGÀY {p.last_day:%d/%m/%Y}"


def _how_to_type(d: RowDef, nf: NumberFormat) -> str:
    if d.unit == PERCENT:
        return f"tỷ lệ %, ví dụ 99{nf.decimal}5"
    if d.choices:
        return "một mã: " + d.unit.replace("\n", "; ")
    if d.unit in AMOUNT_UNITS:
        return f"số, ví dụ 3{nf.thousands}989{nf.decimal}5"
    return "số nguyên"


def write_input_template(path: Path, period: Period | str, rows: Sequence[RowDef] | None = None,
                         values: Mapping[tuple[str, str], tuple[Number | None, str]] | None = None,
                         number_format: NumberFormatLike = None) -> Path:
    """The workbook staff fill in once per quarter: a guide, one sheet per form ("Biểu mẫu 1" … "Biểu mẫu 7")
    with the form's group titles and the rows to type (the cells to fill in yellow, checked by Excel's data
    validation), and "Nội dung báo cáo" for the texts of the narrative. Pre-filled with ``values`` (what is
    stored for the period); district rows are left out from 1/7/2025."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    p = parse_period(period) if isinstance(period, str) else period
    nf = number_format_of(number_format)
    defs = list(rows) if rows is not None else rows_for(p)
    values = values or {}
    wb = Workbook()
    font, bold = Font(name="Times New Roman", size=12), Font(name="Times New Roman", size=12, bold=True)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")
    to_fill = PatternFill("solid", fgColor=FILL_FILL)
    grey = PatternFill("solid", fgColor="EDEDED")
    head_fill = PatternFill("solid", fgColor="DDEBF7")

    guide = wb.active
    guide.title = GUIDE_SHEET
    set_cell(guide["A1"], "SỐ LIỆU BÁO CÁO CẢI CÁCH HÀNH CHÍNH DO CƠ QUAN, ĐƠN VỊ NHẬP")
    guide["A1"].font = Font(name="Times New Roman", size=13, bold=True)
    set_cell(guide["A2"], "Kỳ báo cáo")
    set_cell(guide["C2"], p.label)
    set_cell(guide["D2"], period_title(p))
    lines = [
        "Cách nhập:",
        "1. Mỗi biểu mẫu một trang (Biểu mẫu 1 … Biểu mẫu 7). Chỉ nhập vào các ô tô vàng ở cột \"Số liệu\"; "
        "cột \"Ghi chú\" ghi thêm nếu cần.",
        f"2. Số nguyên cho văn bản, nhiệm vụ, thủ tục, người…; tỷ lệ % nhập số phần trăm (ví dụ 99{nf.decimal}5 "
        f"hoặc 99{nf.decimal}5%); dòng có mã (0, 1, 2) nhập đúng một mã. Dấu thập phân '{nf.decimal}'.",
        "3. Không nhập công thức; không sửa cột \"STT\". Để trống là chưa nhập: báo cáo liệt kê các chỉ tiêu còn "
        "thiếu, không ghi số 0.",
        "4. Các dòng tính từ dữ liệu (hồ sơ, thủ tục, phản ánh kiến nghị) và các tỷ lệ, tổng số không có ở đây: "
        "chiso tự tính.",
        f"5. Trang \"{TEXT_SHEET}\": nội dung từng mục của báo cáo do cơ quan soạn; chiso thêm số liệu từ các "
        "biểu mẫu.",
        "Nộp lại: chiso report cchc --period KỲ --out THƯ-MỤC --inputs TỆP-NÀY.xlsx",
    ]
    for i, line in enumerate(lines, start=4):
        set_cell(guide.cell(i, 1), line)
        guide.cell(i, 1).font = bold if i == 4 else font
    guide["A2"].font = bold
    guide.column_dimensions["A"].width = 120

    validations: dict[str, DataValidation] = {}

    def validation(d: RowDef) -> DataValidation:
        kind = d.kind if d.kind != "none" else "amount"
        if kind not in validations:
            if kind == "choice":
                dv = DataValidation(type="list", formula1='"' + ",".join(str(c) for c in d.choices) + '"',
                                    allow_blank=True)
            elif kind == "count":
                dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
            elif kind == "percent":
                dv = DataValidation(type="decimal", operator="between", formula1="0", formula2="100",
                                    allow_blank=True)
            else:
                dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True)
            dv.showErrorMessage, dv.errorTitle = True, "Giá trị không hợp lệ"
            dv.error = "Nhập " + _how_to_type(d, nf)
            validations[kind] = dv
        return validations[kind]

    for form in FORMS.values():
        form_rows = [d for d in defs if d.form == form.form and (d.typed or d.source == "heading")]
        if not any(d.typed for d in form_rows):
            continue
        ws = wb.create_sheet(form.sheet)
        validations = {}
        set_cell(ws["A1"], f"{form.sheet.upper()}: {form.title.upper()}")
        ws["A1"].font = Font(name="Times New Roman", size=13, bold=True)
        set_cell(ws["A2"], "Kỳ báo cáo")
        set_cell(ws["C2"], p.label)
        set_cell(ws["D2"], period_title(p))
        ws["A2"].font = bold
        set_cell(ws["A3"], "Nhập vào các ô tô vàng (cột \"Số liệu\"). Để trống là chưa nhập.")
        ws["A3"].font = Font(name="Times New Roman", size=12, italic=True)
        for col, title in enumerate(FORM_COLUMNS, start=1):
            cell = ws.cell(_HEADER_ROW, col)
            set_cell(cell, title)
            cell.font, cell.border, cell.fill = bold, border, head_fill
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        r = _HEADER_ROW
        for d in form_rows:
            r += 1
            value, note = values.get(d.key, (None, ""))
            shown: Number | None = value
            if value is not None and d.unit == PERCENT:
                shown = round_half_up(float(value) * 100, 4)
            label = d.label + (" (nhập khi Hệ thống một cửa không có số liệu)" if d.fallback else "")
            contents = (d.code, label, d.unit or None, shown if d.typed else None, (note or None) if d.typed else None)
            for col, content in enumerate(contents, 1):
                cell = ws.cell(r, col)
                set_cell(cell, content)
                cell.font, cell.border, cell.alignment = (bold if d.source == "heading" else font), border, wrap
                if d.source == "heading":
                    cell.fill = grey
            ws.cell(r, 1).number_format = "@"
            if d.typed:
                value_cell = ws.cell(r, 4)
                value_cell.fill = to_fill
                value_cell.alignment = Alignment(horizontal="right", vertical="center")
                if d.unit == PERCENT:
                    value_cell.number_format = '0.00"%"'
                elif d.kind == "count":
                    value_cell.number_format = excel_integer_format(nf)
                validation(d).add(value_cell.coordinate)
        for dv in validations.values():
            ws.add_data_validation(dv)
        for letter, width in zip("ABCDE", (8, 70, 16, 14, 40), strict=True):
            ws.column_dimensions[letter].width = width
        ws.freeze_panes = ws.cell(_HEADER_ROW + 1, 1)
        ws.page_setup.paperSize = ws.PAPERSIZE_A4
        ws.page_setup.orientation = "landscape"

    texts = wb.create_sheet(TEXT_SHEET)
    set_cell(texts["A1"], "NỘI DUNG BÁO CÁO DO CƠ QUAN SOẠN (mỗi đoạn một dòng trong ô; chiso thêm số liệu)")
    texts["A1"].font = Font(name="Times New Roman", size=13, bold=True)
    set_cell(texts["A2"], "Kỳ báo cáo")
    set_cell(texts["C2"], p.label)
    texts["A2"].font = bold
    for col, title in enumerate(TEXT_COLUMNS, start=1):
        cell = texts.cell(_HEADER_ROW, col)
        set_cell(cell, title)
        cell.font, cell.border, cell.fill = bold, border, head_fill
    for r, (code, title) in enumerate(TEXT_SECTIONS, start=_HEADER_ROW + 1):
        text = values.get((TEXT_FORM, code), (None, ""))[1]
        for col, content in enumerate((code, title, text or None), start=1):
            cell = texts.cell(r, col)
            set_cell(cell, content)
            cell.font, cell.border, cell.alignment = font, border, Alignment(wrap_text=True, vertical="top")
        texts.cell(r, 3).fill = to_fill
        texts.row_dimensions[r].height = 90
    for letter, width in zip("ABC", (8, 34, 110), strict=True):
        texts.column_dimensions[letter].width = width
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def input_file_period(path: Path) -> str | None:
    """The period an input file was made for (cell C2 of its first sheet), or None."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        value = wb.worksheets[0]["C2"].value
    finally:
        wb.close()
    return str(value).strip() if value not in (None, "") else None


def _other_period(wb: Any, path: Path, period: Period) -> list[str]:
    """The problem of an input workbook made for another period than ``period`` (cell C2 of its guide sheet, as
    :func:`write_input_template` writes it); none when the guide or the cell is absent (an older file)."""
    guide = next((ws for ws in wb.worksheets if fold(ws.title) == fold(GUIDE_SHEET)), None)
    value = guide["C2"].value if guide is not None else None
    if guide is None or value in (None, ""):
        return []
    written = str(value).strip()[:40]
    try:
        label = parse_period(written).label
    except ValueError:
        return [f"{path}, trang '{guide.title}', ô C2: kỳ báo cáo '{written}' không đọc được (ví dụ 2025-Q3)"]
    if label == period.label:
        return []
    return [f"{path}, trang '{guide.title}', ô C2: tệp nhập liệu của kỳ {label}, không phải kỳ {period.label}: "
            f"lấy mẫu của kỳ này bằng chiso report cchc --period {period.label} --empty-inputs"]


def _code_text(value: object) -> str:
    """An STT cell as text: 1 -> '1', 1.1 (a number, when Excel converted it) -> '1.1'."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value).strip().rstrip(".")


def _form_key(value: object) -> str | None:
    """'Biểu mẫu 3', 'BM3', '3' or 3 -> '3'."""
    text = _code_text(value)
    digits: list[str] = re.findall(r"\d+", text)
    if len(digits) != 1 or digits[0] not in FORMS:
        return None
    return digits[0]


def _parse_number(text: str, nf: NumberFormat) -> float | None:
    """'2.835' -> 2835, '99,5' -> 99.5 with Vietnamese separators; None when it is not a number."""
    t = text.strip().replace("\u00a0", " ")
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("-").strip()
    dec, th = re.escape(nf.decimal), re.escape(nf.thousands)
    grouped = rf"\d{{1,3}}(?:{th}\d{{3}})+" if nf.thousands else r"(?!)"
    m = re.fullmatch(rf"({grouped}|\d+)(?:{dec}(\d+))?", t)
    if not m:
        return None
    whole = m[1].replace(nf.thousands, "") if nf.thousands else m[1]
    return sign * float(f"{whole}.{m[2] or '0'}")


def _percent_format(number_format: str) -> bool:
    """An Excel number format that scales by 100 ('0%', '0.00%'); a quoted or escaped '%' does not."""
    return "%" in re.sub(r'"[^"]*"|\\.', "", number_format)


def _check_value(raw: object, number_format: str, d: RowDef, nf: NumberFormat) -> tuple[Number | None, str | None]:
    """(value, problem). A percent row takes percent points (99.5 or '99,5%'), or a cell formatted as %."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, None
    if d.source == "heading":
        return None, f"mục {d.code} là tiêu đề nhóm, không nhập số liệu"
    value: float
    if isinstance(raw, bool):
        return None, f"'{raw}' không phải số"
    if isinstance(raw, int | float):
        value = float(raw)
        if value != value or value in (float("inf"), float("-inf")):
            return None, f"'{raw}' không phải số"
        if d.unit == PERCENT and not _percent_format(number_format):
            value /= 100
    elif isinstance(raw, datetime | date | time | timedelta):
        return None, f"'{raw}' là ngày giờ, không phải số"
    else:
        text = str(raw).strip()
        if len(text) > 40:
            text = text[:40] + "…"
        is_percent = text.endswith("%")
        if is_percent and d.unit != PERCENT:
            return None, f"'{text}' là tỷ lệ % nhưng chỉ tiêu tính bằng '{d.unit}'"
        parsed = _parse_number(text.removesuffix("%"), nf)
        if parsed is None:
            return None, (f"'{text}' không phải số (dấu phân cách hàng nghìn '{nf.thousands}', "
                          f"dấu thập phân '{nf.decimal}')")
        value = parsed / 100 if d.unit == PERCENT else parsed
    if d.choices:
        if not value.is_integer() or int(value) not in d.choices:
            allowed = ", ".join(str(c) for c in d.choices)
            return None, f"'{_code_text(raw)}' không hợp lệ: chỉ nhận {allowed} ({d.unit.replace(chr(10), '; ')})"
        return int(value), None
    if d.unit == PERCENT:
        if not 0 <= value <= 1 + 1e-9:
            return None, f"'{_code_text(raw)}' không hợp lệ: tỷ lệ phải từ 0 đến 100%"
        return value, None
    if value < 0 or value > 1e12:
        return None, f"'{_code_text(raw)}' không hợp lệ: số phải từ 0 đến 1.000.000.000.000"
    if d.unit in COUNT_UNITS and not value.is_integer():
        return None, f"'{_code_text(raw)}' không hợp lệ: số {d.unit.lower()} phải là số nguyên không âm"
    return (int(value) if value.is_integer() else value), None


_CELL_REF = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br=\"([A-Z]{1,3})(\d{1,7})\"")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\s[^>]*?\br=\"(\d{1,7})\"")


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_parts(zf: zipfile.ZipFile, path: Path) -> dict[str, str]:
    """{zip part of a worksheet: its sheet name}, read from the workbook's small parts (bounded)."""
    def small(name: str) -> str:
        try:
            with zf.open(name) as fh:
                data = fh.read(1 << 20)
        except KeyError:
            return ""
        return data.decode("utf-8", "replace")

    targets = {}
    for tag in re.findall(r"<(?:\w+:)?Relationship\s[^>]*>", small("xl/_rels/workbook.xml.rels")):
        rid, target = re.search(r'\bId="([^"]*)"', tag), re.search(r'\bTarget="([^"]*)"', tag)
        if rid and target:
            t = target[1].lstrip("/")
            targets[rid[1]] = t if t.startswith("xl/") else f"xl/{t}"
    names = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\s[^>]*>", small("xl/workbook.xml")):
        name, rid = re.search(r'\bname="([^"]*)"', tag), re.search(r'\b\w+:id="([^"]*)"', tag)
        if name and rid and rid[1] in targets:
            names[targets[rid[1]]] = name[1].replace("&amp;", "&").replace("&apos;", "'").replace("&quot;", '"')
    return names


def _scan_input_workbook(path: Path) -> None:
    """Refuse, before openpyxl builds it, a workbook larger than an input workbook can be: file size, zip
    entries, unzipped size (read, not declared), and every sheet's cells within A..Z and 1000 rows."""
    where = str(path)
    if path.stat().st_size > MAX_INPUT_BYTES:
        raise InputError([f"{where}: tệp lớn {path.stat().st_size >> 20} MB, quá lớn cho một tệp nhập liệu "
                          f"(tối đa {MAX_INPUT_BYTES >> 20} MB)"])
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        raise InputError([f"{where}: không phải tệp .xlsx hợp lệ (không đọc được như tệp nén zip)"]) from None
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_INPUT_ENTRIES:
            raise InputError([f"{where}: tệp Excel có {len(infos)} phần nén, bất thường: không đọc"])
        sheets = _sheet_parts(zf, path)
        budget = MAX_INPUT_UNZIPPED
        for info in infos:
            is_sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
            sheet = sheets.get(info.filename, info.filename)
            tail = b""
            try:
                with zf.open(info) as fh:
                    while chunk := fh.read(1 << 16):
                        budget -= len(chunk)
                        if budget < 0:
                            raise InputError([f"{where}: tệp Excel giải nén lớn hơn {MAX_INPUT_UNZIPPED >> 20} MB, "
                                              "quá lớn cho một tệp nhập liệu: không đọc"])
                        if not is_sheet:
                            continue
                        text = tail + chunk
                        for letters, digits in _CELL_REF.findall(text):
                            row, col = int(digits), _column_number(letters)
                            if row > MAX_INPUT_ROWS or col > MAX_INPUT_COLUMNS:
                                raise InputError([f"{where}, trang '{sheet}', ô {letters.decode()}{row}: ngoài vùng "
                                                  f"của tệp nhập liệu (tối đa {MAX_INPUT_ROWS} dòng, cột A–Z): "
                                                  "không đọc"])
                        for digits in _ROW_REF.findall(text):
                            if int(digits) > MAX_INPUT_ROWS:
                                raise InputError([f"{where}, trang '{sheet}', dòng {int(digits)}: ngoài vùng của tệp "
                                                  f"nhập liệu (tối đa {MAX_INPUT_ROWS} dòng): không đọc"])
                        tail = text[-256:]
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                raise InputError([f"{where}: phần '{info.filename}' của tệp Excel hỏng ({exc})"]) from None


def _header(ws: Any, wanted: Sequence[str], key: str) -> tuple[int, dict[str, int]]:
    """(row, {column title: column number}) of the first row (of the first 30) that has the column ``key``."""
    keys = {fold(c): c for c in wanted}
    for r in range(1, min(ws.max_row, 30) + 1):
        found = {keys[fold(str(c.value))]: c.column for c in ws[r]
                 if isinstance(c.value, str) and fold(c.value) in keys}
        if key in found:
            return r, found
    return 0, {}


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_inputs(path: Path, number_format: NumberFormatLike = None, period: Period | str | None = None
                ) -> InputValues:
    """The staff figures and texts of an input workbook: {(form, STT): (value, note)}, a percentage as a
    fraction; a section's text as {("BC", mục): (None, text)}.

    Sheets "Biểu mẫu N" hold form N (a column "Biểu mẫu" in a sheet, as in the older single-sheet file, names
    the form row by row); "Nội dung báo cáo" holds the texts; other sheets without such columns are skipped.
    Every problem (a non-number in "Số liệu", a formula, an unknown STT, the same row twice, a missing column) is
    collected and raised together as :class:`InputError`, each naming the file, the sheet, the row and the column.
    With ``period``, a workbook made for another period (cell C2 of its guide sheet) is refused: last quarter's
    figures are never stored as this quarter's.
    """
    from openpyxl import load_workbook

    nf = number_format_of(number_format)
    _scan_input_workbook(path)
    try:
        wb = load_workbook(path)  # not data_only: a formula is refused, never read as its cached value
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raise InputError([f"{path}: không đọc được tệp Excel ({exc})"]) from None

    problems: list[str] = []
    out: InputValues = {}
    seen: dict[tuple[str, str], str] = {}
    if period is not None:
        problems += _other_period(wb, path, parse_period(period) if isinstance(period, str) else period)
    for ws in wb.worksheets:
        if fold(ws.title) == fold(TEXT_SHEET):
            _read_texts(ws, path, out, problems)
            continue
        sheet_form = _form_key(ws.title) if fold(ws.title).startswith("bieu mau") else None
        header_row, columns = _header(ws, ("Biểu mẫu", "STT", "Số liệu", "Ghi chú"), "STT")
        if not columns:
            if sheet_form is not None:
                problems.append(f"{path}, trang '{ws.title}': không thấy dòng tiêu đề có các cột 'STT', 'Số liệu'")
            continue
        need = [c for c in ("STT", "Số liệu") if c not in columns]
        if sheet_form is None and "Biểu mẫu" not in columns:
            need.insert(0, "Biểu mẫu")
        if need:
            problems.append(f"{path}, trang '{ws.title}': không thấy dòng tiêu đề có các cột "
                            f"{', '.join(repr(c) for c in need)}")
            continue

        def where(r: int, col: str, ws: Any = ws, columns: dict[str, int] = columns) -> str:
            letter = ws.cell(r, columns[col]).column_letter
            return f"{path}, trang '{ws.title}', dòng {r}, cột {letter} ({col})"

        for r in range(header_row + 1, ws.max_row + 1):
            cells = {name: ws.cell(r, col) for name, col in columns.items()}
            if all(_blank(c.value) for c in cells.values()):
                continue
            formulas = [name for name, c in cells.items() if c.data_type == "f"]
            if formulas:
                for name in formulas:
                    problems.append(f"{where(r, name)}: ô có công thức '{str(cells[name].value)[:40]}': nhập số "
                                    "hoặc chữ, không nhập công thức")
                continue
            form = _form_key(cells["Biểu mẫu"].value) if "Biểu mẫu" in cells else sheet_form
            if form is None:
                shown = _code_text(cells["Biểu mẫu"].value)[:40]
                problems.append(f"{where(r, 'Biểu mẫu')}: '{shown}' không phải biểu mẫu của báo cáo này "
                                "(chỉ nhận Biểu mẫu 1 đến 7)")
                continue
            code = _code_text(cells["STT"].value)[:40]
            d = ROWS_BY_KEY.get((form, code))
            if d is None:
                problems.append(f"{where(r, 'STT')}: STT '{code}' không có trong {FORMS[form].sheet}")
                continue
            if d.key in seen:
                problems.append(f"{where(r, 'STT')}: STT '{code}' của {FORMS[form].sheet} đã có ở {seen[d.key]}")
                continue
            seen[d.key] = f"trang '{ws.title}' dòng {r}"
            value_cell = cells["Số liệu"]
            value, problem = _check_value(value_cell.value, str(value_cell.number_format or ""), d, nf)
            if problem is None and value is not None and not d.typed and d.source != "data":
                problem = f"mục {d.code} do chiso tự tính (tỷ lệ, tổng số), không nhập số liệu"
            if problem:
                problems.append(f"{where(r, 'Số liệu')}: {problem}")
                continue
            note_cell = cells.get("Ghi chú")
            note = "" if note_cell is None or note_cell.value is None else str(note_cell.value).strip()[:2000]
            if value is not None or note:
                out[d.key] = (value, note)
    wb.close()
    if problems:
        raise InputError(problems)
    return out


def _read_texts(ws: Any, path: Path, out: InputValues, problems: list[str]) -> None:
    header_row, columns = _header(ws, TEXT_COLUMNS, "Mục")
    if "Mục" not in columns or "Nội dung" not in columns:
        problems.append(f"{path}, trang '{ws.title}': không thấy dòng tiêu đề có các cột 'Mục', 'Nội dung'")
        return
    for r in range(header_row + 1, ws.max_row + 1):
        code_cell, text_cell = ws.cell(r, columns["Mục"]), ws.cell(r, columns["Nội dung"])
        if _blank(code_cell.value) and _blank(text_cell.value):
            continue
        where = f"{path}, trang '{ws.title}', dòng {r}"
        if text_cell.data_type == "f":
            problems.append(f"{where}, cột {text_cell.column_letter} (Nội dung): ô có công thức: nhập chữ, không "
                            "nhập công thức")
            continue
        code = _code_text(code_cell.value)[:40]
        if code not in TEXT_CODES:
            problems.append(f"{where}, cột {code_cell.column_letter} (Mục): mục '{code}' không có trong báo cáo "
                            f"(có: {', '.join(c for c, _ in TEXT_SECTIONS)})")
            continue
        text = "" if text_cell.value is None else str(text_cell.value).strip()
        if len(text) > MAX_TEXT:
            problems.append(f"{where}, cột {text_cell.column_letter} (Nội dung): dài {len(text)} ký tự, quá "
                            f"{MAX_TEXT} ký tự của một mục")
            continue
        if text:
            out[(TEXT_FORM, code)] = (None, text)


# --- staff inputs: the store ----------------------------------------------------------------------------------


def _encode(value: Number | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    return repr(float(value))


def _decode(text: str | None) -> Number | None:
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return float(text)


def _known_key(key: tuple[str, str]) -> bool:
    return key in ROWS_BY_KEY or (key[0] == TEXT_FORM and key[1] in TEXT_CODES)


def save_inputs(store: Store, period_label: str, inputs: Mapping[tuple[str, str], tuple[Number | None, str]],
                *, replace: bool = False) -> int:
    """Keep the staff figures and texts with the period (a later file wins row by row; ``replace`` drops the
    period's other rows first). Returns the number of rows written."""
    label = parse_period(period_label).label
    unknown = [f"{f}/{c}" for f, c in inputs if not _known_key((f, c))]
    if unknown:
        raise InputError([f"không có chỉ tiêu {', '.join(unknown)} trong Biểu mẫu 1-7 và nội dung báo cáo"])
    now = now_local()
    rows = [[label, form, code, _encode(value), note or None, now]
            for (form, code), (value, note) in sorted(inputs.items())]
    with store.transaction() as con:
        if replace:
            con.execute("DELETE FROM report_inputs WHERE period = ?", [label])
        if rows:
            con.executemany(
                "INSERT INTO report_inputs (period, form, code, value, note, loaded_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (period, form, code) DO UPDATE SET value = excluded.value, note = excluded.note, "
                "loaded_at = excluded.loaded_at", rows)
    return len(rows)


def stored_inputs(store: Store, period_label: str) -> InputValues:
    """The staff figures and texts kept for the period: {(form, STT): (value, note)}."""
    label = parse_period(period_label).label
    cur = store.con.execute(
        "SELECT form, code, value, note FROM report_inputs WHERE period = ? ORDER BY form, code", [label])
    return {(str(f), str(c)): (_decode(v), str(n or "")) for f, c, v, n in cur.fetchall()}


# --- the Excel forms ------------------------------------------------------------------------------------------

TAGS = ("ky_bao_cao", "tinh", "tu_ngay", "den_ngay")
_TAG = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")


def header_values(store: Store, period: Period | str, config: Config) -> dict[str, str]:
    """Values of the template tags: {{ky_bao_cao}} 'QUÝ III NĂM 2025', {{tinh}} 'TỈNH SƠN LA',
    {{tu_ngay}} / {{den_ngay}} the window ('15/06/2025')."""
    p = parse_period(period) if isinstance(period, str) else period
    first, last = window(p, config)
    name = province_name(store)
    kind = first_row(store.con.execute("SELECT name FROM units WHERE level = 'province' ORDER BY code LIMIT 1"))
    title = "THÀNH PHỐ" if kind and fold(str(kind[0])).startswith("thanh pho") else "TỈNH"
    return {"ky_bao_cao": period_title(p), "tinh": f"{title} {name.upper()}" if name else "",
            "tu_ngay": f"{first:%d/%m/%Y}", "den_ngay": f"{last:%d/%m/%Y}"}


def _fill_tags(wb: Any, header: Mapping[str, str], template: Path) -> None:
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if not isinstance(cell.value, str) or "{{" not in cell.value:
                    continue

                def sub(m: re.Match[str], cell: Any = cell, sheet: str = ws.title) -> str:
                    name = m[1]
                    if name not in TAGS:
                        raise TemplateError(f"{template}: trang '{sheet}', ô {cell.coordinate}: thẻ "
                                            f"'{m[0]}' không có; dùng " + ", ".join(f"{{{{{t}}}}}" for t in TAGS))
                    return header.get(name, m[0])

                set_cell(cell, _TAG.sub(sub, cell.value))  # the province name is data: text, never a formula


def _find_columns(ws: Any) -> tuple[int, int]:
    """Columns of "Số liệu" and "Ghi chú" in a form sheet (default D and E)."""
    value_col, note_col = 4, 5
    for row in ws.iter_rows(max_row=min(ws.max_row, 20)):
        for cell in row:
            if isinstance(cell.value, str):
                key = fold(cell.value)
                if key == "so lieu":
                    value_col = cell.column
                elif key == "ghi chu":
                    note_col = cell.column
    return value_col, note_col


def _stt_rows(ws: Any) -> dict[str, int]:
    where: dict[str, int] = {}
    for r in range(1, ws.max_row + 1):
        code = _code_text(ws.cell(r, 1).value)
        if code and code not in where:
            where[code] = r
    return where


def write_forms(rows: Sequence[FormRow], out_path: Path, template: Path,
                number_format: NumberFormatLike = None, *,
                header: Mapping[str, str] | None = None, dropped: Iterable[tuple[str, str]] = (),
                missing: Sequence[tuple[str, str, str, str]] = ()) -> Path:
    """Fill the template's sheets "Biểu mẫu 1" … "Biểu mẫu 7": each row is found by its STT in column A and
    gets its figure in "Số liệu" and its note in "Ghi chú"; a row whose label changed (two-level government)
    gets its label in column B; the rows ``dropped`` (district rows from 1/7/2025) are removed. Tags
    {{ky_bao_cao}}, {{tinh}}, {{tu_ngay}}, {{den_ngay}} in any cell are replaced from ``header`` (a tag not given
    stays as it is; an unknown tag is a :class:`TemplateError`). ``missing`` (:func:`missing_items`) becomes the
    sheet "Chưa có số liệu".

    Every figure is a number: counts with a number format that shows the thousands separator as a literal
    character (2.835 on any computer, and Excel still sums them), percentages as fractions formatted ``0.00%``
    (the decimal mark follows the computer's regional settings), amounts ``#,##0.00``, codes ``0``.
    """
    from openpyxl import load_workbook
    from openpyxl.styles import Alignment

    nf = number_format_of(number_format)
    try:
        wb = load_workbook(template)
    except Exception as exc:  # a missing or broken file: several exception types
        raise TemplateError(f"{template}: không mở được mẫu Excel ({exc})") from None
    _fill_tags(wb, header or {}, template)
    integer_format = excel_integer_format(nf)
    gone: dict[str, set[str]] = {}
    for form, code in dropped:
        gone.setdefault(form, set()).add(code)
    for form, form_rows in _group_by_form(rows).items():
        sheet = FORMS[form].sheet
        if sheet not in wb.sheetnames:
            raise TemplateError(f"{template}: không có trang '{sheet}' (mẫu cũ? chạy chiso report templates "
                                "--overwrite để lấy mẫu mới)")
        ws = wb[sheet]
        for r in sorted((r for c, r in _stt_rows(ws).items() if c in gone.get(form, ())), reverse=True):
            ws.delete_rows(r)
        value_col, note_col = _find_columns(ws)
        where = _stt_rows(ws)
        for row in form_rows:
            r = where.get(row.code, 0)
            if not r:
                raise TemplateError(f"{template}: trang '{sheet}' không có dòng STT '{row.code}' ở cột A")
            d = ROWS_BY_KEY.get(row.key)
            if d is not None and row.label != d.label and ws.cell(r, 2).value != row.label:
                set_cell(ws.cell(r, 2), row.label)
            value_cell, note_cell = ws.cell(r, value_col), ws.cell(r, note_col)
            alignment = copy(value_cell.alignment)
            if row.value is None:
                set_cell(value_cell, None)
            elif row.unit == PERCENT:
                set_cell(value_cell, float(row.value))
                value_cell.number_format = EXCEL_PERCENT
            elif row.unit in AMOUNT_UNITS:
                set_cell(value_cell, float(row.value))
                value_cell.number_format = EXCEL_AMOUNT
            elif isinstance(row.value, int) or float(row.value).is_integer():
                set_cell(value_cell, int(row.value))
                value_cell.number_format = integer_format if row.unit in COUNT_UNITS else "0"
            else:
                set_cell(value_cell, float(row.value))
                value_cell.number_format = "0.00"
            value_cell.alignment = Alignment(horizontal="right", vertical=alignment.vertical or "center",
                                             wrap_text=alignment.wrap_text)
            set_cell(note_cell, row.note or None)  # typed by staff: text, never a formula
    if missing:
        _missing_sheet(wb, missing)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out_path)
    return out_path


def _missing_sheet(wb: Any, missing: Sequence[tuple[str, str, str, str]]) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side

    if MISSING_SHEET in wb.sheetnames:
        del wb[MISSING_SHEET]
    ws = wb.create_sheet(MISSING_SHEET)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    set_cell(ws["A1"], f"CÁC CHỈ TIÊU, NỘI DUNG CHƯA CÓ SỐ LIỆU ({len(missing)}): nhập vào tệp nhập liệu rồi lập "
                       "lại báo cáo (chiso report cchc --inputs)")
    ws["A1"].font = Font(name="Times New Roman", size=13, bold=True)
    for col, title in enumerate(("Biểu mẫu / trang", "STT / mục", "Chỉ tiêu", "Còn thiếu"), start=1):
        cell = ws.cell(3, col)
        set_cell(cell, title)
        cell.font, cell.border = Font(name="Times New Roman", size=12, bold=True), border
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for r, item in enumerate(missing, start=4):
        for col, text in enumerate(item, start=1):
            cell = ws.cell(r, col)
            set_cell(cell, text)
            cell.font, cell.border = Font(name="Times New Roman", size=12), border
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            if col == 2:
                cell.number_format = "@"
    for letter, width in zip("ABCD", (18, 10, 80, 40), strict=True):
        ws.column_dimensions[letter].width = width


def _group_by_form(rows: Iterable[FormRow]) -> dict[str, list[FormRow]]:
    grouped: dict[str, list[FormRow]] = {}
    for row in rows:
        if row.form not in FORMS:
            raise ValueError(f"không có biểu mẫu '{row.form}' (chỉ có Biểu mẫu 1 đến 7)")
        grouped.setdefault(row.form, []).append(row)
    return grouped


# --- the narrative report (sections I-V): one function per figure -----------------------------------------------


class Figures:
    """The figures of the forms as the narrative writes them. Every figure shared by a form and the text is read
    here from the same :class:`FormRow` (``text``), and every figure the text works out from several rows has
    one method; a missing figure is written :data:`PLACEHOLDER` ('…'), visible, and listed by
    :func:`missing_items`."""

    def __init__(self, rows: Iterable[FormRow], nf: NumberFormat):
        self.rows = {r.key: r for r in rows}
        self.nf = nf

    def value(self, form: str, code: str) -> Number | None:
        row = self.rows.get((form, code))
        return None if row is None else row.value

    def has(self, form: str, code: str) -> bool:
        return (form, code) in self.rows

    def text(self, form: str, code: str) -> str:
        """'85', '2.835', '23,46' (a percentage without its sign), '3.989.325,00' (an amount)."""
        row = self.rows.get((form, code))
        if row is None or row.value is None:
            return PLACEHOLDER
        if row.unit == PERCENT:
            return self.nf.fixed(float(row.value) * 100, 2)
        return display(row.value, row, self.nf)

    def _total(self, form: str, codes: Iterable[str]) -> int | None:
        values = [self.value(form, c) for c in codes if self.has(form, c)]
        return None if not values or any(v is None for v in values) else int(sum(float(v or 0) for v in values))

    def _count(self, value: int | None) -> str:
        return PLACEHOLDER if value is None else self.nf.integer(value)

    def _rate(self, part: int | None, whole: int | None) -> str:
        if part is None or whole is None:
            return PLACEHOLDER
        return self.nf.fixed(100.0 * part / whole, 2) if whole else NO_CASES.lower()

    def resolved(self) -> int | None:
        """Dossiers resolved in the window, every level (Biểu mẫu 3: 3.1.1 + 3.2.1 + 3.3.1)."""
        return self._total("3", ("3.1.1", "3.2.1", "3.3.1"))

    def resolved_on_time(self) -> int | None:
        """Of them, resolved early or on time (3.1.2 + 3.2.2 + 3.3.2)."""
        return self._total("3", ("3.1.2", "3.2.2", "3.3.2"))

    def resolved_late(self) -> int | None:
        resolved, on_time = self.resolved(), self.resolved_on_time()
        return None if resolved is None or on_time is None else resolved - on_time

    def on_time_rate(self) -> str:
        return self._rate(self.resolved_on_time(), self.resolved())

    def online_services_used(self) -> int | None:
        """Online services (partial and full) that had an online dossier (Biểu mẫu 7: 6.1.3 + 6.2.3)."""
        return self._total("7", ("6.1.3", "6.2.3"))

    def online_services_used_rate(self) -> str:
        return self._rate(self.online_services_used(), self._total("7", ("6.3.1",)))

    def tasks_in_progress(self) -> int | None:
        """Government tasks still within their time (Biểu mẫu 1: 5.1 − 5.2 − 5.3 − 5.4)."""
        given, done = self._total("1", ("5.1",)), self._total("1", ("5.2", "5.3", "5.4"))
        return None if given is None or done is None or done > given else given - done

    def recruited(self, codes: tuple[str, ...]) -> str:
        return self._count(self._total("5", codes))


def _period_phrase(p: Period) -> tuple[str, str]:
    """('quý III', 'quý IV năm 2025') — the quarter and the next one, as the title writes them."""
    q = (p.start.month - 1) // 3
    nxt_q, nxt_y = (q + 1) % 4, p.start.year + (q == 3)
    return f"quý {ROMAN[q]}", f"quý {ROMAN[nxt_q]} năm {nxt_y}"


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


DEFAULT_TASKS = (
    "Các sở, ban, ngành, địa phương tiếp tục tổ chức thực hiện có hiệu quả Kế hoạch cải cách hành chính năm "
    "{year}; nâng cao trách nhiệm người đứng đầu; tăng cường kỷ luật, kỷ cương hành chính và công tác thông tin, "
    "tuyên truyền CCHC.",
    "Nâng cao chất lượng xây dựng, thẩm định, kiểm tra, rà soát văn bản quy phạm pháp luật; theo dõi thi hành pháp "
    "luật tại địa phương.",
    "Đẩy mạnh cải cách TTHC; rà soát, đơn giản hóa TTHC; nâng cao hiệu quả cơ chế một cửa, một cửa liên thông; "
    "giải quyết đúng hạn, không để hồ sơ quá hạn; thực hiện xin lỗi người dân, doanh nghiệp khi giải quyết quá hạn.",
    "Tiếp tục sắp xếp tổ chức bộ máy, tinh giản biên chế; cơ cấu lại đội ngũ cán bộ, công chức, viên chức theo vị "
    "trí việc làm.",
    "Thực hiện tốt cơ chế tự chủ tài chính của cơ quan hành chính, đơn vị sự nghiệp công lập; đẩy nhanh giải ngân "
    "vốn đầu tư công.",
    "Đẩy mạnh chuyển đổi số, cung cấp dịch vụ công trực tuyến toàn trình, số hóa hồ sơ, kết quả giải quyết TTHC và "
    "thanh toán trực tuyến.",
)


def narrative_sections(f: Figures, p: Period, texts: Mapping[tuple[str, str], tuple[Number | None, str]]
                       ) -> dict[str, list[str]]:
    """The paragraphs of every section (key 'I_1', 'II_2', 'IV_2_a' …): the office's text first, then the
    sentences chiso writes from the forms' figures."""
    quarter, _ = _period_phrase(p)
    two = two_levels(p)
    year = p.start.year
    t = f.text
    gen: dict[str, list[str]] = {code: [] for code, _ in TEXT_SECTIONS}

    gen["I.1"].append(f"Trong {quarter}, các cơ quan, đơn vị đã tham mưu ban hành {t('1', '1')} văn bản chỉ đạo, "
                      f"điều hành công tác CCHC. Tính đến thời điểm báo cáo, đã hoàn thành {t('1', '2.2')}/"
                      f"{t('1', '2.1')} nhiệm vụ theo Kế hoạch CCHC năm {year}, đạt {t('1', '2')}%.")
    survey, dialogue = f.value("1", "6"), f.value("1", "7")
    if survey == 1:
        forms = "" if f.value("1", "6.1") is None else f" với {t('1', '6.1')} phiếu"
        gen["I.1"].append(f"Tổ chức khảo sát sự hài lòng của người dân, tổ chức{forms}.")
    elif survey is None:
        gen["I.1"].append(f"Khảo sát sự hài lòng của người dân, tổ chức: {PLACEHOLDER}.")
    if dialogue == 1:
        gen["I.1"].append("Tổ chức đối thoại của lãnh đạo với người dân, cộng đồng doanh nghiệp.")
    elif dialogue is None:
        gen["I.1"].append(f"Tổ chức đối thoại của lãnh đạo với người dân, cộng đồng doanh nghiệp: {PLACEHOLDER}.")

    districts = "" if two else f", {t('1', '3.2')} UBND cấp huyện"
    if f.value("1", "3.3.1") == 0:
        found = "không phát hiện vấn đề phải xử lý"
    else:
        found = (f"phát hiện {t('1', '3.3.1')} vấn đề, đã xử lý xong {t('1', '3.3.2')} vấn đề "
                 f"(đạt {t('1', '3.3')}%)")
    gen["I.2"].append(f"Trong kỳ, đã kiểm tra công tác CCHC tại {t('1', '3.1')} sở, ngành{districts}; {found}. "
                      f"Thanh tra việc thực hiện quy định pháp luật về tuyển dụng, quản lý, sử dụng công chức, "
                      f"viên chức và tổ chức bộ máy tại {t('1', '4.1')} cơ quan, đơn vị; tỷ lệ cơ quan, đơn vị đã "
                      f"hoàn thành việc thực hiện kết luận thanh tra {t('1', '4.2')}%.")
    pending = f.tasks_in_progress()
    rest = "" if not pending else f"; {f._count(pending)} nhiệm vụ đang trong thời hạn thực hiện"
    gen["I.3"].append(f"Trong kỳ, UBND tỉnh tiếp nhận {t('1', '5.1')} nhiệm vụ do Chính phủ, Thủ tướng Chính phủ "
                      f"giao, trong đó đã hoàn thành đúng hạn {t('1', '5.2')} nhiệm vụ, hoàn thành nhưng quá hạn "
                      f"{t('1', '5.3')} nhiệm vụ, quá hạn chưa hoàn thành {t('1', '5.4')} nhiệm vụ{rest}.")

    by_level = _by_level(two, f"cấp tỉnh {t('2', '1.1')}", f"cấp huyện {t('2', '1.2')}", f"cấp xã {t('2', '1.3')}")
    gen["II.1"].append(f"Trong kỳ, trên địa bàn tỉnh ban hành {t('2', '1')} văn bản quy phạm pháp luật ({by_level}); "
                       f"kiểm tra theo thẩm quyền {t('2', '2.1')} văn bản, {t('2', '2.2.1')} văn bản phải xử lý sau "
                       f"kiểm tra, đã xử lý xong {t('2', '2.2.2')}; rà soát {t('2', '3.1')} văn bản, "
                       f"{t('2', '3.2.1')} văn bản phải xử lý sau rà soát, đã xử lý xong {t('2', '3.2.2')}.")

    levels = _by_level(two, f"cấp tỉnh {t('3', '1.4.1')}", f"cấp huyện {t('3', '1.4.2')}",
                       f"cấp xã {t('3', '1.4.3')}")
    gen["II.2"].append(f"Tổng số TTHC thuộc thẩm quyền giải quyết tại địa phương là {t('3', '1.4')} thủ tục "
                       f"({levels}). Trong kỳ, công bố mới {t('3', '1.2')} TTHC, sửa đổi, bổ sung, bãi bỏ "
                       f"{t('3', '1.3')} TTHC; phê duyệt phương án đơn giản hóa {t('3', '1.1')} TTHC. Thực hiện cơ "
                       f"chế một cửa, một cửa liên thông: {t('3', '2.1')} TTHC liên thông cùng cấp, "
                       f"{t('3', '2.2')} TTHC liên thông giữa các cấp chính quyền.")
    rates = _by_level(two, f"sở, ngành {t('3', '3.1')}%", f"UBND cấp huyện {t('3', '3.2')}%",
                      f"UBND cấp xã {t('3', '3.3')}%", sep="; ")
    gen["II.2"].append(f"Trong {quarter}, đã giải quyết xong {f._count(f.resolved())} hồ sơ TTHC, trong đó "
                       f"{f._count(f.resolved_on_time())} hồ sơ giải quyết đúng hạn, đạt {f.on_time_rate()}% "
                       f"({rates}).")
    gen["II.2"].append(f"Tiếp nhận {t('3', '3.4.1')} phản ánh, kiến nghị về quy định TTHC, đã giải quyết xong "
                       f"{t('3', '3.4.2')} phản ánh, kiến nghị.")

    gen["II.3"].append(f"Tổng số biên chế công chức được giao {t('4', '2.1')} người, có mặt {t('4', '2.2')} người; "
                       f"đã tinh giản {t('4', '2.4')} biên chế trong kỳ. Số người làm việc trong đơn vị sự nghiệp "
                       f"công lập được giao {t('4', '3.1')} người, có mặt {t('4', '3.2')} người; đã tinh giản "
                       f"{t('4', '3.3')} người. Toàn tỉnh có {t('4', '1.5')} đơn vị sự nghiệp công lập; "
                       f"{t('4', '1.4')} tổ chức liên ngành do cấp tỉnh thành lập.")
    gen["II.4"].append(f"Phê duyệt vị trí việc làm cho {t('5', '1.1')} cơ quan, tổ chức hành chính và "
                       f"{t('5', '1.2')} đơn vị sự nghiệp; tuyển dụng {f.recruited(('2.1', '2.2'))} công chức, "
                       f"{f.recruited(('2.4', '2.5'))} viên chức; {t('5', '4')} cán bộ, công chức, viên chức bị kỷ "
                       "luật.")
    gen["II.5"].append(f"Tính đến ngày {f.rows[('6', '1')].label.rsplit(' ', 1)[-1]}, giải ngân vốn đầu tư công "
                       f"{t('6', '1.2')} tỷ đồng/{t('6', '1.1')} tỷ đồng kế hoạch giao, đạt {t('6', '1')}%. Toàn "
                       f"tỉnh có {t('6', '2.1')} đơn vị sự nghiệp công lập, trong đó {t('6', '2.2')} đơn vị tự bảo "
                       f"đảm chi thường xuyên và chi đầu tư, {t('6', '2.3')} đơn vị tự bảo đảm chi thường xuyên, "
                       f"{t('6', '2.4')} đơn vị tự bảo đảm một phần chi thường xuyên, {t('6', '2.5')} đơn vị do "
                       "Nhà nước bảo đảm chi thường xuyên.")
    gen["II.6"].append(f"Tổng số dịch vụ công trực tuyến của tỉnh đang cung cấp là {t('7', '6.3.1')} dịch vụ "
                       f"({t('7', '6.1.2')} dịch vụ công trực tuyến một phần, {t('7', '6.2.2')} dịch vụ công trực "
                       f"tuyến toàn trình); tỷ lệ hồ sơ trực tuyến: {t('7', '6.4.2')}/{t('7', '6.4.1')} hồ sơ (đạt "
                       f"{t('7', '6.4')}%); tỷ lệ dịch vụ công phát sinh hồ sơ trực tuyến: "
                       f"{f._count(f.online_services_used())}/{t('7', '6.3.1')} dịch vụ (đạt "
                       f"{f.online_services_used_rate()}%). Đã tích hợp, triển khai thanh toán trực tuyến "
                       f"{t('7', '6.5.2')}/{t('7', '6.5.1')} TTHC có nghĩa vụ tài chính (đạt {t('7', '6.5')}%).")

    if f.resolved():
        gen["IV.1"].append(f"Tỷ lệ hồ sơ TTHC giải quyết đúng hạn đạt {f.on_time_rate()}%; tỷ lệ hồ sơ tiếp nhận "
                           f"trực tuyến đạt {t('7', '6.4')}%.")
    late = f.resolved_late()
    if late:
        gen["IV.2.a"].append(f"Vẫn còn {f._count(late)} hồ sơ TTHC giải quyết quá hạn.")
    received, handled = f.value("3", "3.4.1"), f.value("3", "3.4.2")
    if received is not None and handled is not None and handled < received:
        gen["IV.2.a"].append(f"Còn {f._count(int(received - handled))} phản ánh, kiến nghị về quy định TTHC chưa "
                             "giải quyết xong.")
    online = f.value("7", "6.4")
    if online is not None and online < 0.5:
        gen["IV.2.a"].append(f"Tỷ lệ hồ sơ TTHC tiếp nhận trực tuyến mới đạt {t('7', '6.4')}%.")

    out: dict[str, list[str]] = {}
    for code, _ in TEXT_SECTIONS:
        typed = _paragraphs(texts.get((TEXT_FORM, code), (None, ""))[1])
        # a placeholder that ends a sentence takes its full stop ("… văn bản, đã xử lý xong …", never "….")
        paragraphs = typed + [re.sub(rf"{PLACEHOLDER}\.(?=\s|$)", PLACEHOLDER, g) for g in gen[code]]
        if code == "V" and not typed:
            paragraphs = [f"{i}. {task.format(year=year if p.start.month < 10 else year + 1)}"
                          for i, task in enumerate(DEFAULT_TASKS, start=1)]
        if not paragraphs:
            paragraphs = [f"[Chưa có nội dung: điền mục {code} ở trang \"{TEXT_SHEET}\" của tệp nhập liệu]"]
        out[code.replace(".", "_")] = paragraphs
    return out


def report_context(store: Store, period: Period | str, config: Config, rows: Sequence[FormRow],
                   texts: Mapping[tuple[str, str], tuple[Number | None, str]], *, letter_date: date,
                   settings: Any) -> dict[str, Any]:
    """The context of the narrative report (``bao-cao-cchc-quy.docx``): the common words, the title's periods,
    the sections' paragraphs (:func:`narrative_sections`) and the forms as tables for its appendix — every figure
    from ``rows``, the same rows the Excel forms are written from."""
    from chiso.reports.common import base_context, local_words

    p = parse_period(period) if isinstance(period, str) else period
    nf = settings.numbers
    quarter, following = _period_phrase(p)
    first, last = window(p, config)
    figures = Figures(rows, nf)
    forms = []
    for form in FORMS.values():
        form_rows = [{"code": r.code, "label": r.label, "unit": r.unit, "value": display(r.value, r, nf),
                      "note": r.note, "heading": r.source == "heading" or "." not in r.code}
                     for r in rows if r.form == form.form]
        forms.append({"name": form.sheet, "title": form.title, "rows": form_rows})
    return {
        **base_context(store, settings, p, letter_date), **local_words(not two_levels(p)),
        "quarter": quarter, "quarter_upper": quarter.upper(), "next_quarter": following,
        "next_quarter_upper": following.upper(), "period_upper": period_title(p),
        "window": {"first": f"{first:%d/%m/%Y}", "last": f"{last:%d/%m/%Y}"},
        "sec": narrative_sections(figures, p, texts), "forms": forms, "cchc_basis": settings.cchc_basis,
    }


@dataclass
class FormsReport:
    rows: list[FormRow]
    path: Path
    window: tuple[date, date]
    missing: list[FormRow] = field(default_factory=list)
    missing_items: list[tuple[str, str, str, str]] = field(default_factory=list)


def make_report(store: Store, period: Period | str, out_path: Path, config: Config | None = None,
                inputs: Mapping[tuple[str, str], tuple[Number | None, str]] | None = None) -> FormsReport:
    """Build the seven forms for the period and write them with the workspace's template (or the packaged one);
    what is missing (figures, and the narrative's texts) goes to the sheet "Chưa có số liệu"."""
    config = config or load_config(store.workspace)
    p = parse_period(period) if isinstance(period, str) else period
    if inputs is None:
        inputs = stored_inputs(store, p.label)
    rows = build_forms(store, p, config, inputs)
    template = template_path(TEMPLATE_NAME, store.workspace)
    items = missing_items(rows, inputs)
    write_forms(rows, out_path, template, NumberFormat.from_config(config.report),
                header=header_values(store, p, config), dropped=dropped_rows(p), missing=items)
    missing = [r for r in rows if r.value is None and ROWS_BY_KEY[r.key].typed]
    return FormsReport(rows, out_path, window(p, config), missing, items)


def _by_level(two_levels: bool, province: str, district: str, commune: str, sep: str = ", ") -> str:
    """A figure by level in the text: the district part only while districts exist (before 1/7/2025)."""
    return sep.join([province, *([] if two_levels else [district]), commune])
