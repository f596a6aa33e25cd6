"""Administrative-reform statistics forms (biểu thống kê số liệu báo cáo cải cách hành chính): Biểu mẫu 3
"Cải cách thủ tục hành chính" and Biểu mẫu 7 "Xây dựng và phát triển Chính quyền điện tử, Chính quyền số" of the
quarterly report (seed ``003_…``).

* The rows of both forms are declared as data (:data:`FORMS`): STT code, label, unit (đơn vị tính) and source —
  ``data`` (computed from procedures, dossiers and feedback), ``input`` (typed in by staff) or ``heading``
  (a group title with no figure).
* Computed rows cover the reporting window (:func:`window`): by default the Decree 09/2019 convention (a quarter
  runs from the 15th of the month before it to the 14th of its last month), or calendar periods.
* Staff inputs go through an Excel file (:func:`write_input_template`, :func:`read_inputs`) and are kept per period
  in the store (:func:`save_inputs`, :func:`stored_inputs`).
* :func:`build_forms` merges both; :func:`write_forms` fills the Excel template (``bieu-mau-cchc.xlsx``), finding
  each row by its STT in column A.

A percentage is carried as a fraction everywhere (1.0 = 100%); the writer shows it with two decimals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from copy import copy
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from chiso.config import Config, ConfigError, load_config
from chiso.reports.common import ROMAN, province_name
from chiso.reports.numbers import NumberFormat
from chiso.reports.onestop import handling_counts, level_totals, report_window
from chiso.reports.templating import TemplateError, set_cell, template_path
from chiso.rules.arithmetic import round_half_up
from chiso.scoring.period import Period, parse_period
from chiso.store.db import Store
from chiso.textnorm import fold

TEMPLATE_NAME = "bieu-mau-cchc.xlsx"
INPUT_SHEET = "Số liệu nhập"
NOT_ENTERED = "Chưa nhập"
NO_CASES = "Không phát sinh"

Number = int | float
InputValues = dict[tuple[str, str], tuple[Number | None, str]]

PERCENT = "%"
COUNT_UNITS = ("Thủ tục", "Hồ sơ", "PAKN")


# --- row definitions ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowDef:
    """One row of a form (chỉ tiêu thống kê). ``choices``: the allowed values of a coded row (Chưa = 0, …)."""

    form: str
    code: str
    label: str
    unit: str
    source: str  # data | input | heading
    choices: tuple[int, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.form, self.code)

    @property
    def kind(self) -> str:
        """percent | count | choice | none."""
        if self.unit == PERCENT:
            return "percent"
        if self.choices:
            return "choice"
        if self.unit in COUNT_UNITS:
            return "count"
        return "none"


@dataclass(frozen=True)
class FormDef:
    form: str
    sheet: str
    title: str
    rows: tuple[RowDef, ...]


def _rows(form: str, specs: Iterable[tuple[Any, ...]]) -> tuple[RowDef, ...]:
    return tuple(RowDef(form, *spec) for spec in specs)


_H, _D, _I = "heading", "data", "input"
_TT, _HS = "Thủ tục", "Hồ sơ"

FORM_3 = FormDef("3", "Biểu mẫu 3", "Cải cách thủ tục hành chính", _rows("3", [
    ("1", "Thống kê TTHC", "", _H),
    ("1.1", "Số TTHC đã được phê duyệt phương án đơn giản hóa", _TT, _I),
    ("1.2", "Số TTHC công bố mới", _TT, _I),
    ("1.3", "Số TTHC sửa đổi bổ sung, bãi bỏ", _TT, _I),
    ("1.4", "Tổng số TTHC thuộc thẩm quyền giải quyết tại địa phương", _TT, _D),
    ("1.4.1", "Số TTHC cấp tỉnh (Bao gồm cả TTHC của cơ quan ngành dọc)", _TT, _D),
    ("1.4.2", "Số TTHC cấp huyện (Bao gồm cả TTHC của cơ quan ngành dọc)", _TT, _D),
    ("1.4.3", "Số TTHC cấp xã (Bao gồm cả TTHC của cơ quan ngành dọc)", _TT, _D),
    ("2", "Thực hiện cơ chế một cửa, một cửa liên thông", "", _H),
    ("2.1", "Số TTHC liên thông cùng cấp", _TT, _I),
    ("2.2", "Số TTHC liên thông giữa các cấp chính quyền", _TT, _I),
    ("2.3", "Số TTHC đã thực hiện tiếp nhận và giải quyết hồ sơ không phụ thuộc vào địa giới hành chính.", _TT, _I),
    ("3", "Kết quả giải quyết TTHC", "", _H),
    ("3.1", "Tỷ lệ hồ sơ TTHC do các sở, ngành tiếp nhận được giải quyết đúng hạn", PERCENT, _D),
    ("3.1.1", "Tổng số hồ sơ TTHC đã giải quyết xong", _HS, _D),
    ("3.1.2", "Số hồ sơ TTHC giải quyết đúng hạn", _HS, _D),
    ("3.2", "Tỷ lệ hồ sơ TTHC do UBND cấp huyện tiếp nhận được giải quyết đúng hạn", PERCENT, _D),
    ("3.2.1", "Tổng số hồ sơ TTHC đã giải quyết xong", _HS, _D),
    ("3.2.2", "Số hồ sơ TTHC giải quyết đúng hạn", _HS, _D),
    ("3.3", "Tỷ lệ hồ sơ TTHC do UBND cấp xã tiếp nhận được giải quyết đúng hạn", PERCENT, _D),
    ("3.3.1", "Tổng số hồ sơ TTHC đã giải quyết xong", _HS, _D),
    ("3.3.2", "Số hồ sơ TTHC giải quyết đúng hạn", _HS, _D),
    ("3.4", "Tỷ lệ giải quyết phản ánh, kiến nghị (PAKN) về quy định TTHC", PERCENT, _D),
    ("3.4.1", "Tổng số PAKN đã tiếp nhận (trực tiếp hoặc do cơ quan có thẩm quyền chuyển đến)", "PAKN", _D),
    ("3.4.2", "Số PAKN đã giải quyết xong", "PAKN", _D),
]))

FORM_7 = FormDef("7", "Biểu mẫu 7", "Xây dựng và phát triển Chính quyền điện tử, Chính quyền số", _rows("7", [
    ("1", "Cập nhật Kiến trúc chính quyền điện tử phiên bản mới nhất", "Chưa = 0\nHoàn thành = 1", _I, (0, 1)),
    ("2", "Xây dựng và vận hành Hệ thống họp trực tuyến\n"
          "Liên thông 2 cấp: Từ UBND tỉnh - 100% UBND các huyện.\n"
          "Liên thông 3 cấp: Từ UBND tỉnh - 100% UBND cấp huyện, cấp xã.",
     "Chưa có = 0\n2 cấp = 1\n3 cấp = 2", _I, (0, 1, 2)),
    ("3", "Tỷ lệ báo cáo định kỳ được gửi, nhận qua Hệ thống thông tin báo cáo quốc gia", PERCENT, _I),
    ("4", "Triển khai xây dựng nền tảng chia sẻ, tích hợp dùng chung (LGSP).",
     "Chưa = 0\nĐang làm = 1\nHoàn thành = 2", _I, (0, 1, 2)),
    ("5", "Số liệu về trao đổi văn bản điện tử", "", _H),
    ("5.1", "Thực hiện kết nối, liên thông các Hệ thống quản lý văn bản điều hành từ cấp tỉnh đến cấp xã", "", _H),
    ("5.1.1", "Tỷ lệ sở, ngành đã kết nối, liên thông với UBND tỉnh", PERCENT, _I),
    ("5.1.2", "Tỷ lệ UBND cấp huyện đã kết nối, liên thông với UBND tỉnh", PERCENT, _I),
    ("5.1.3", "Tỷ lệ UBND cấp xã đã kết nối, liên thông với UBND huyện.", PERCENT, _I),
    ("5.2", "Tỷ lệ sử dụng văn bản điện tử của địa phương (Chỉ thống kê tỷ lệ văn bản được gửi hoàn toàn dưới "
            "dạng điện tử; sử dụng chữ ký số, chứng thư số và gửi trên môi trường điện tử).", PERCENT, _I),
    ("5.2.1", "Tỷ lệ sử dụng văn bản điện tử của các sở, ban, ngành cấp tỉnh", PERCENT, _I),
    ("5.2.2", "Tỷ lệ sử dụng văn bản điện tử của UBND cấp huyện", PERCENT, _I),
    ("5.2.3", "Tỷ lệ sử dụng văn bản điện tử của UBND cấp xã", PERCENT, _I),
    ("5.3", "Xây dựng, vận hành Hệ thống thông tin một cửa điện tử tập trung của tỉnh", "", _H),
    ("5.3.1", "Tỷ lệ sở, ngành đã kết nối liên thông với Hệ thống", PERCENT, _I),
    ("5.3.2", "Tỷ lệ đơn vị cấp huyện đã kết nối liên thông với Hệ thống", PERCENT, _I),
    ("5.3.3", "Tỷ lệ đơn vị cấp xã đã kết nối liên thông với Hệ thống", PERCENT, _I),
    ("6", "Cung cấp dịch vụ công trực tuyến", "", _H),
    ("6.1", "Tỷ lệ TTHC đủ điều kiện được cung cấp trực tuyến một phần", PERCENT, _D),
    ("6.1.1", "Tổng số TTHC đủ điều kiện cung cấp trực tuyến một phần", _TT, _D),
    ("6.1.2", "Số TTHC đang cung cấp trực tuyến một phần", _TT, _D),
    ("6.1.3", "Số TTHC đang cung cấp trực tuyến một phần có phát sinh hồ sơ nộp trực tuyến", _TT, _D),
    ("6.2", "Tỷ lệ TTHC đủ điều kiện được cung cấp trực tuyến toàn trình", PERCENT, _D),
    ("6.2.1", "Tổng số TTHC đủ điều kiện cung cấp trực tuyến toàn trình", _TT, _D),
    ("6.2.2", "Số TTHC đang cung cấp trực tuyến toàn trình", _TT, _D),
    ("6.2.3", "Số TTHC đang cung cấp trực tuyến toàn trình có phát sinh hồ sơ nộp trực tuyến", _TT, _D),
    ("6.3", "Tỷ lệ TTHC cung cấp trực tuyến một phần và toàn trình đã tích hợp, công khai trên Cổng DVC quốc gia",
     PERCENT, _D),
    ("6.3.1", "Tổng số TTHC đang cung cấp trực tuyến một phần và toàn trình của địa phương", _TT, _D),
    ("6.3.2", "Số TTHC cung cấp trực tuyến một phần và toàn trình đã tích hợp, công khai trên Cổng DVC quốc gia",
     _TT, _I),
    ("6.4", "Tỷ lệ hồ sơ TTHC được tiếp nhận trực tuyến một phần và toàn trình\n"
            "(Chỉ thống kê đối với các TTHC một phần và toàn trình có phát sinh hồ sơ)", PERCENT, _D),
    ("6.4.1", "Tổng số hồ sơ TTHC đã tiếp nhận (cả trực tiếp và trực tuyến)", _HS, _D),
    ("6.4.2", "Số hồ sơ TTHC đã tiếp nhận trực tuyến", _HS, _D),
    ("6.5", "Tỷ lệ TTHC được tích hợp, triển khai thanh toán trực tuyến", PERCENT, _D),
    ("6.5.1", "Tổng số TTHC có yêu cầu nghĩa vụ tài chính (tất cả các TTHC có phát sinh phí, lệ phí, …)", _TT, _D),
    ("6.5.2", "Số TTHC đã được tích hợp, triển khai thanh toán trực tuyến trên Cổng DVC quốc gia hoặc trên Cổng "
              "DVC của tỉnh", _TT, _D),
]))

FORMS: dict[str, FormDef] = {"3": FORM_3, "7": FORM_7}
ALL_ROWS: tuple[RowDef, ...] = FORM_3.rows + FORM_7.rows
ROWS_BY_KEY: dict[tuple[str, str], RowDef] = {r.key: r for r in ALL_ROWS}

# Percent rows = numerator row / denominator row (both sub-rows of the same form).
PERCENT_PARTS: dict[tuple[str, str], tuple[str, str]] = {
    ("3", "3.1"): ("3.1.2", "3.1.1"),
    ("3", "3.2"): ("3.2.2", "3.2.1"),
    ("3", "3.3"): ("3.3.2", "3.3.1"),
    ("3", "3.4"): ("3.4.2", "3.4.1"),
    ("7", "6.1"): ("6.1.2", "6.1.1"),
    ("7", "6.2"): ("6.2.2", "6.2.1"),
    ("7", "6.3"): ("6.3.2", "6.3.1"),
    ("7", "6.4"): ("6.4.2", "6.4.1"),
    ("7", "6.5"): ("6.5.2", "6.5.1"),
}


@dataclass
class FormRow:
    """A filled row: ``value`` is a count, a coded value or (unit %) a fraction; None when there is no figure."""

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


def display(value: Number | None, row: RowDef | FormRow, nf: NumberFormat) -> str:
    """A figure as people read it in the form: '2.835', '99,87%', '' for no figure."""
    if value is None:
        return ""
    if row.unit == PERCENT:
        return percent_text(float(value), nf)
    if isinstance(value, int) or float(value).is_integer():
        return nf.integer(int(value))
    return nf.fixed(float(value), 2)


# --- computed rows --------------------------------------------------------------------------------------------


def _bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """[start, end) timestamps of a window of whole days."""
    return datetime.combine(first, time()), datetime.combine(last + timedelta(days=1), time())


def _one(store: Store, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...]:
    row = store.con.execute(sql, list(params)).fetchone()
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


# --- merging --------------------------------------------------------------------------------------------------


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def build_forms(store: Store, period: Period | str, config: Config,
                inputs: Mapping[tuple[str, str], tuple[Number | None, str]] | None = None) -> list[FormRow]:
    """Every row of both forms, in order: computed rows from the store, the others from ``inputs`` (default: the
    inputs stored for the period). A data row the staff also typed keeps the computed figure and notes the typed
    one; an input row nobody typed stays empty with the note "Chưa nhập"."""
    from chiso.api import prepare  # the status query needs the calendar and deadline rules up to date

    p = parse_period(period) if isinstance(period, str) else period
    if inputs is None:
        inputs = stored_inputs(store, p.label)
    nf = NumberFormat.from_config(config.report)
    prepare(store, config)
    first, last = window(p, config)
    computed = computed_values(store, first, last, config)

    rows: list[FormRow] = []
    for d in ALL_ROWS:
        typed_value, typed_note = inputs.get(d.key, (None, ""))
        row = FormRow(d.form, d.code, d.label, d.unit, d.source)
        if d.source == "input":
            row.value = typed_value
            row.note = typed_note if typed_value is not None else _join(NOT_ENTERED, typed_note)
        elif d.source == "data":  # counts now, percentages from their sub-rows below
            row.value, note = computed.get(d.code, (None, ""))
            typed = "" if typed_value is None else \
                f"Số liệu nhập: {display(typed_value, d, nf)} (báo cáo dùng số liệu tính từ dữ liệu)"
            row.note = _join(note, typed, typed_note)
        else:
            row.note = typed_note
        rows.append(row)

    by_key = {r.key: r for r in rows}
    for key, (num_code, den_code) in PERCENT_PARTS.items():
        row, num, den = by_key[key], by_key[(key[0], num_code)], by_key[(key[0], den_code)]
        if num.value is None or den.value is None:
            missing = ", ".join(r.code for r in (num, den) if r.value is None)
            row.value, row.note = None, _join(f"Chưa đủ số liệu ({missing} chưa nhập)", row.note)
        elif not den.value:
            row.value, row.note = None, _join(NO_CASES, row.note)
        else:
            row.value = num.value / den.value
    return rows


# --- staff inputs: Excel file ---------------------------------------------------------------------------------


class InputError(ValueError):
    """A staff input file that cannot be used: every problem names the file, the row and the column."""

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


INPUT_COLUMNS = ("Biểu mẫu", "STT", "Chỉ tiêu", "Đơn vị tính", "Số liệu", "Ghi chú")
_REQUIRED_COLUMNS = ("Biểu mẫu", "STT", "Số liệu")
_HEADER_ROW = 5


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


def write_input_template(path: Path, period: Period | str, rows: Sequence[RowDef] = ALL_ROWS,
                         values: Mapping[tuple[str, str], tuple[Number | None, str]] | None = None,
                         number_format: NumberFormatLike = None) -> Path:
    """The Excel file staff fill in: one line per input row of ``rows`` (data and heading rows are left out),
    pre-filled with ``values`` (e.g. what is already stored for the period)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.worksheet.datavalidation import DataValidation

    p = parse_period(period) if isinstance(period, str) else period
    nf = number_format_of(number_format)
    wb = Workbook()
    ws = wb.active
    ws.title = INPUT_SHEET
    font = Font(name="Times New Roman", size=12)
    bold = Font(name="Times New Roman", size=12, bold=True)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="center")

    # Every value through set_cell: a note typed by staff (stored, written back here) is text, never a formula.
    set_cell(ws["A1"], "SỐ LIỆU BÁO CÁO CẢI CÁCH HÀNH CHÍNH DO CƠ QUAN, ĐƠN VỊ NHẬP")
    ws["A1"].font = Font(name="Times New Roman", size=13, bold=True)
    set_cell(ws["A2"], "Kỳ báo cáo")
    set_cell(ws["C2"], p.label)
    set_cell(ws["D2"], period_title(p))
    set_cell(ws["A3"], f"Nhập số vào cột \"Số liệu\": số nguyên cho thủ tục, văn bản; tỷ lệ % nhập số phần trăm "
                       f"(ví dụ 99{nf.decimal}5 hoặc 99{nf.decimal}5%); dòng có mã (0, 1, 2) nhập đúng một mã. Dấu "
                       f"thập phân '{nf.decimal}'. Để trống là chưa nhập. Không sửa cột \"Biểu mẫu\" và \"STT\".")
    for cell in ("A2", "C2", "D2", "A3"):
        ws[cell].font = font
    ws["A2"].font = bold
    ws.merge_cells("A3:F3")
    ws["A3"].alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[3].height = 48

    fill = PatternFill("solid", fgColor="DDEBF7")
    for col, title in enumerate(INPUT_COLUMNS, start=1):
        cell = ws.cell(_HEADER_ROW, col)
        set_cell(cell, title)
        cell.font, cell.border, cell.fill = bold, border, fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)

    choice_rows: dict[tuple[int, ...], list[str]] = {}
    r = _HEADER_ROW
    for d in rows:
        if d.source != "input":
            continue
        r += 1
        value, note = (values or {}).get(d.key, (None, ""))
        shown: Number | None = value
        if value is not None and d.unit == PERCENT:
            shown = round_half_up(float(value) * 100, 4)
        for col, content in enumerate((FORMS[d.form].sheet, d.code, d.label, d.unit, shown, note or None), 1):
            cell = ws.cell(r, col)
            set_cell(cell, content)
            cell.font, cell.border, cell.alignment = font, border, wrap
        if d.unit == PERCENT:
            ws.cell(r, 5).number_format = '0.00"%"'
        if d.choices:
            choice_rows.setdefault(d.choices, []).append(f"E{r}")
    for choices, cells in choice_rows.items():
        dv = DataValidation(type="list", formula1='"' + ",".join(str(c) for c in choices) + '"', allow_blank=True,
                            showErrorMessage=True, errorTitle="Giá trị không hợp lệ",
                            error="Chỉ nhận " + ", ".join(str(c) for c in choices))
        for cell_ref in cells:
            dv.add(cell_ref)
        ws.add_data_validation(dv)
    for letter, width in zip("ABCDEF", (12, 8, 70, 16, 14, 40), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(_HEADER_ROW + 1, 1)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def input_file_period(path: Path) -> str | None:
    """The period an input file was made for (cell C2 of the template), or None."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        value = wb.worksheets[0]["C2"].value
    finally:
        wb.close()
    return str(value).strip() if value not in (None, "") else None


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
        if d.unit == PERCENT and not _percent_format(number_format):
            value /= 100
    else:
        text = str(raw).strip()
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
    if d.unit in COUNT_UNITS and (not value.is_integer() or value < 0):
        return None, f"'{_code_text(raw)}' không hợp lệ: số {d.unit.lower()} phải là số nguyên không âm"
    return (int(value) if value.is_integer() else value), None


def read_inputs(path: Path, number_format: NumberFormatLike = None) -> InputValues:
    """The staff figures of an input file: {(form, STT): (value, note)}; a percentage as a fraction.

    Every problem (unknown STT, a non-number in "Số liệu", a missing column, the same row twice) is collected and
    raised together as :class:`InputError`, each naming the file, the row and the column.
    """
    from openpyxl import load_workbook

    from chiso.config import Limits
    from chiso.load.readers import ReadError, scan_xlsx

    nf = number_format_of(number_format)
    try:
        scan_xlsx(path, Limits())  # the size the workbook unpacks to, checked before openpyxl builds it
    except ReadError as exc:
        raise InputError([str(exc.issue)]) from None
    try:
        wb = load_workbook(path, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types for a broken file
        raise InputError([f"{path}: không đọc được tệp Excel ({exc})"]) from None
    ws = wb[INPUT_SHEET] if INPUT_SHEET in wb.sheetnames else wb.worksheets[0]

    wanted = {fold(c): c for c in INPUT_COLUMNS}
    header_row, columns = 0, {}
    for r in range(1, min(ws.max_row, 30) + 1):
        found = {wanted[fold(str(c.value))]: c.column for c in ws[r]
                 if isinstance(c.value, str) and fold(c.value) in wanted}
        if "STT" in found:
            header_row, columns = r, found
            break
    missing = [c for c in _REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise InputError([f"{path}, trang '{ws.title}': không thấy dòng tiêu đề có các cột "
                          f"{', '.join(repr(c) for c in missing)}"])

    def where(r: int, col: str) -> str:
        letter = ws.cell(r, columns[col]).column_letter
        return f"{path}, trang '{ws.title}', dòng {r}, cột {letter} ({col})"

    problems: list[str] = []
    out: InputValues = {}
    seen: dict[tuple[str, str], int] = {}
    for r in range(header_row + 1, ws.max_row + 1):
        cells = {name: ws.cell(r, col) for name, col in columns.items()}
        if all(c.value is None or (isinstance(c.value, str) and not c.value.strip()) for c in cells.values()):
            continue
        form = _form_key(cells["Biểu mẫu"].value)
        if form is None:
            problems.append(f"{where(r, 'Biểu mẫu')}: '{_code_text(cells['Biểu mẫu'].value)}' không phải biểu mẫu "
                            "của báo cáo này (chỉ nhận Biểu mẫu 3, Biểu mẫu 7)")
            continue
        code = _code_text(cells["STT"].value)
        d = ROWS_BY_KEY.get((form, code))
        if d is None:
            problems.append(f"{where(r, 'STT')}: STT '{code}' không có trong {FORMS[form].sheet}")
            continue
        if d.key in seen:
            problems.append(f"{where(r, 'STT')}: STT '{code}' của {FORMS[form].sheet} đã có ở dòng {seen[d.key]}")
            continue
        seen[d.key] = r
        value_cell = cells["Số liệu"]
        value, problem = _check_value(value_cell.value, str(value_cell.number_format or ""), d, nf)
        if problem:
            problems.append(f"{where(r, 'Số liệu')}: {problem}")
            continue
        note_cell = cells.get("Ghi chú")
        note = "" if note_cell is None or note_cell.value is None else str(note_cell.value).strip()
        if value is not None or note:
            out[d.key] = (value, note)
    wb.close()
    if problems:
        raise InputError(problems)
    return out


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


def save_inputs(store: Store, period_label: str, inputs: Mapping[tuple[str, str], tuple[Number | None, str]],
                *, replace: bool = False) -> int:
    """Keep the staff figures with the period (a later file wins row by row; ``replace`` drops the period's
    other rows first). Returns the number of rows written."""
    label = parse_period(period_label).label
    unknown = [f"{f}/{c}" for f, c in inputs if (f, c) not in ROWS_BY_KEY]
    if unknown:
        raise InputError([f"không có chỉ tiêu {', '.join(unknown)} trong Biểu mẫu 3, 7"])
    now = datetime.now().replace(microsecond=0)
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
    """The staff figures kept for the period: {(form, STT): (value, note)}."""
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
    kind = store.con.execute("SELECT name FROM units WHERE level = 'province' ORDER BY code LIMIT 1").fetchone()
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


def write_forms(rows: Sequence[FormRow], out_path: Path, template: Path,
                number_format: NumberFormatLike = None, *,
                header: Mapping[str, str] | None = None) -> Path:
    """Fill the template's sheets "Biểu mẫu 3" and "Biểu mẫu 7": each row is found by its STT in column A and
    gets its figure in "Số liệu" and its note in "Ghi chú". Tags {{ky_bao_cao}}, {{tinh}}, {{tu_ngay}},
    {{den_ngay}} in any cell are replaced from ``header`` (a tag not given stays as it is; an unknown tag is a
    :class:`TemplateError`).

    Counts are written as numbers with a number format that shows the thousands separator as a literal character
    (2.835 on any computer, and Excel still sums them); percentages as text with two decimals ('99,87%'), because
    an Excel number format cannot force a decimal comma — it follows the computer's regional settings.
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
    for form, form_rows in _group_by_form(rows).items():
        sheet = FORMS[form].sheet
        if sheet not in wb.sheetnames:
            raise TemplateError(f"{template}: không có trang '{sheet}'")
        ws = wb[sheet]
        value_col, note_col = _find_columns(ws)
        where: dict[str, int] = {}
        for r in range(1, ws.max_row + 1):
            code = _code_text(ws.cell(r, 1).value)
            if code and code not in where:
                where[code] = r
        for row in form_rows:
            r = where.get(row.code, 0)
            if not r:
                raise TemplateError(f"{template}: trang '{sheet}' không có dòng STT '{row.code}' ở cột A")
            value_cell, note_cell = ws.cell(r, value_col), ws.cell(r, note_col)
            alignment = copy(value_cell.alignment)
            if row.value is None:
                set_cell(value_cell, None)
            elif row.unit == PERCENT:
                set_cell(value_cell, percent_text(float(row.value), nf))
                value_cell.number_format = "@"
            elif isinstance(row.value, int) or float(row.value).is_integer():
                set_cell(value_cell, int(row.value))
                value_cell.number_format = integer_format if row.unit in COUNT_UNITS else "0"
            else:
                set_cell(value_cell, float(row.value))
                value_cell.number_format = "0.00"
            value_cell.alignment = Alignment(horizontal="right", vertical=alignment.vertical or "center",
                                             wrap_text=alignment.wrap_text)
            set_cell(note_cell, row.note or None)  # typed by staff: text, never a formula
    out_path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out_path)
    return out_path


def _group_by_form(rows: Iterable[FormRow]) -> dict[str, list[FormRow]]:
    grouped: dict[str, list[FormRow]] = {}
    for row in rows:
        if row.form not in FORMS:
            raise ValueError(f"không có biểu mẫu '{row.form}' (chỉ có Biểu mẫu 3, 7)")
        grouped.setdefault(row.form, []).append(row)
    return grouped


@dataclass
class FormsReport:
    rows: list[FormRow]
    path: Path
    window: tuple[date, date]
    missing: list[FormRow] = field(default_factory=list)


def make_report(store: Store, period: Period | str, out_path: Path, config: Config | None = None,
                inputs: Mapping[tuple[str, str], tuple[Number | None, str]] | None = None) -> FormsReport:
    """Build both forms for the period and write them with the workspace's template (or the packaged one)."""
    config = config or load_config(store.workspace)
    p = parse_period(period) if isinstance(period, str) else period
    rows = build_forms(store, p, config, inputs)
    template = template_path(TEMPLATE_NAME, store.workspace)
    write_forms(rows, out_path, template, NumberFormat.from_config(config.report),
                header=header_values(store, p, config))
    missing = [r for r in rows if r.source == "input" and r.value is None]
    return FormsReport(rows, out_path, window(p, config), missing)
