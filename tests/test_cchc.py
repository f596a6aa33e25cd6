"""Administrative-reform statistics forms (Biểu mẫu 3 and 7, seed 003_…): computed rows, staff inputs, the
written workbook. Every expected figure is worked out by hand below from the rules (domain.md §6).

Period 2025-Q3 with the default Decree 09 window: 15/06/2025 00:00 .. 14/09/2025 23:59:59.
Every dossier carries its own due date, so the timeliness needs no working-day arithmetic:
early = ended on a date before the due date; on time = ended not after the due moment, same date; late = after.

Units: sở = department 14.STP and the province 14 itself; huyện = 14.D01 (loaded here); xã = commune 03646.

Procedures (level, online level, full-online eligible, fee):
  P1 province  full     yes    fee      P5 commune  partial  -      no fee
  P2 province  partial  -      no fee   P6 commune  none     no     no fee
  P3 district  none     -      fee      P7 (no level) none   -      no fee
  P4 commune   full     (empty -> full => eligible)  fee      P8 province none  yes (not offered)  fee
  1.4 = 8 procedures, one without a level; 1.4.1 = P1, P2, P8 = 3; 1.4.2 = P3 = 1; 1.4.3 = P4, P5, P6 = 3.
  6.1.1 = 6.1.2 = partial P2, P5 = 2 -> 6.1 = 100,00%
  6.2.1 = eligible P1, P4, P8 = 3; 6.2.2 = full P1, P4 = 2 -> 6.2 = 2/3 = 66,67%
  6.3.1 = partial + full = 4; 6.3.2 typed 3 -> 6.3 = 75,00%
  6.5.1 = fee P1, P3, P4, P8 = 4
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from chiso.config import Config, ConfigError
from chiso.reports import cchc
from chiso.reports.cchc import (
    InputError,
    build_forms,
    read_inputs,
    save_inputs,
    stored_inputs,
    window,
    write_forms,
    write_input_template,
)
from chiso.reports.numbers import NumberFormat
from chiso.reports.templating import TemplateError, packaged_dir
from chiso.scoring.period import parse_period
from conftest import Workspace

TEMPLATE = packaged_dir() / "bieu-mau-cchc.xlsx"

PROCS = [
    {"code": "P1", "name": "Thủ tục 1", "level": "province", "online_level": "full", "full_online_eligible": "true",
     "fee_bearing": "true"},
    {"code": "P2", "name": "Thủ tục 2", "level": "province", "online_level": "partial", "fee_bearing": "false"},
    {"code": "P3", "name": "Thủ tục 3", "level": "district", "online_level": "none", "fee_bearing": "true"},
    {"code": "P4", "name": "Thủ tục 4", "level": "commune", "online_level": "full", "fee_bearing": "true"},
    {"code": "P5", "name": "Thủ tục 5", "level": "commune", "online_level": "partial", "fee_bearing": "false"},
    {"code": "P6", "name": "Thủ tục 6", "level": "commune", "online_level": "none", "full_online_eligible": "false",
     "fee_bearing": "false"},
    {"code": "P7", "name": "Thủ tục 7", "level": "", "online_level": "none", "fee_bearing": "false"},
    {"code": "P8", "name": "Thủ tục 8", "level": "province", "online_level": "none", "full_online_eligible": "true",
     "fee_bearing": "true"},
]
for _p in PROCS:
    _p["time_limit"] = 5


def d(did: str, unit: str, proc: str, channel: str, received: str, due: str, finished: str = "",
      paid: bool = False) -> dict[str, Any]:
    return {"dossier_id": did, "unit_code": unit, "procedure_code": proc, "channel": channel,
            "received_at": received, "due_at": due, "finished_at": finished,
            "fee_amount": 50000 if paid else 0, "paid_online": "true" if paid else "false"}


DOSSIERS = [
    # --- sở (14.STP and the province 14)
    d("S1", "14.STP", "P1", "online", "2025-07-01 08:00", "2025-07-10 17:00", "2025-07-05 10:00", paid=True),  # early
    d("S2", "14.STP", "P2", "online", "2025-07-01 08:00", "2025-07-10 17:00", "2025-07-10 16:00"),  # on time
    d("S3", "14.STP", "P2", "online", "2025-07-02 08:00", "2025-07-10 17:00", "2025-07-11 09:00"),  # late
    d("S4", "14.STP", "P1", "direct", "2025-06-01 08:00", "2025-06-10 17:00", "2025-06-09 10:00"),  # ended before
    d("S5", "14.STP", "P1", "online", "2025-09-10 08:00", "2025-09-20 17:00"),  # open, within time
    d("S6", "14.STP", "P2", "direct", "2025-09-10 08:00", "2025-09-12 17:00", "2025-09-16 10:00"),  # ends after
    d("S7", "14", "P8", "direct", "2025-06-20 08:00", "2025-06-30 17:00", "2025-06-25 10:00"),  # early
    d("S8", "14.STP", "P1", "online", "2025-06-10 08:00", "2025-06-20 17:00", "2025-06-18 10:00"),  # carried, early
    # --- huyện (14.D01)
    d("H0", "14.D01", "P3", "direct", "2025-06-01 08:00", "2025-06-06 17:00", "2025-06-05 10:00", paid=True),  # before
    d("H1", "14.D01", "P3", "direct", "2025-06-16 08:00", "2025-06-20 17:00", "2025-06-20 17:00"),  # on time (=due)
    d("H2", "14.D01", "P3", "direct", "2025-06-16 08:00", "2025-06-20 17:00", "2025-06-23 08:00"),  # late
    # --- xã (03646)
    d("X1", "03646", "P4", "direct", "2025-08-01 09:00", "2025-08-08 17:00", "2025-08-05 10:00", paid=True),  # early
    d("X2", "03646", "P4", "direct", "2025-08-01 09:00", "2025-08-08 17:00", "2025-08-08 10:00"),  # on time
    d("X3", "03646", "P5", "online", "2025-08-04 09:00", "2025-08-06 17:00", "2025-08-07 09:00"),  # late
    d("X4", "03646", "P6", "direct", "2025-09-14 16:00", "2025-09-19 17:00", "2025-09-15 08:00"),  # ends after
    d("X5", "03646", "P5", "online", "2025-09-15 08:00", "2025-09-19 17:00", "2025-09-16 08:00"),  # after window
    d("X7", "03646", "P4", "online", "2025-06-14 23:00", "2025-06-20 17:00", "2025-06-19 10:00"),  # carried, early
]
# Resolved in the window (ended 15/06..14/09), on time = early or on time:
#   sở:   S1 early, S2 on time, S3 late, S7 early, S8 early -> 3.1.1 = 5, 3.1.2 = 4, 3.1 = 80,00%
#         (S4 ended 9/6, before; S5 open; S6 ends 16/9, after the window)
#   huyện: H1 on time, H2 late -> 3.2.1 = 2, 3.2.2 = 1, 3.2 = 50,00% (H0 ended 5/6, before)
#   xã:   X1 early, X2 on time, X3 late, X7 early -> 3.3.1 = 4, 3.3.2 = 3, 3.3 = 75,00% (X4 ends 15/9, X5 after)
# Received in the window for procedures offered online (P1, P2, P4, P5):
#   S1, S2, S3, S5, S6, X1, X2, X3 = 8 (S4, S8, X7 before the window, X5 after; S7, H*, X4 not offered online)
#   online among them: S1, S2, S3, S5, X3 = 5 -> 6.4 = 62,50%
# Procedures with an online dossier received in the window: partial P2 (S2, S3), P5 (X3) -> 6.1.3 = 2;
#   full P1 (S1, S5) -> 6.2.3 = 1 (P4's only online dossier X7 came before the window)
# Fee-bearing procedures with a dossier paid online received in the window: P1 (S1), P4 (X1) -> 6.5.2 = 2,
#   6.5 = 2/4 = 50,00% (P3's H0 paid online, but before the window)

FEEDBACK = [
    {"feedback_id": "F1", "unit_code": "14.STP", "received_at": "2025-07-01 08:00", "handled_at": "2025-07-10 10:00",
     "about": "procedure"},
    {"feedback_id": "F2", "unit_code": "14.STP", "received_at": "2025-09-01 08:00", "handled_at": "2025-09-20 10:00",
     "about": "procedure"},  # handled after the window: not resolved
    {"feedback_id": "F3", "unit_code": "03646", "received_at": "2025-07-01 08:00", "handled_at": "2025-07-02 10:00",
     "about": "staff"},  # about staff, not about procedure rules: left out
    {"feedback_id": "F4", "unit_code": "03646", "received_at": "2025-08-01 08:00", "handled_at": "2025-08-05 10:00",
     "about": ""},  # not classified: counted
    {"feedback_id": "F5", "unit_code": "14.STP", "received_at": "2025-06-01 08:00", "handled_at": "2025-06-20 10:00",
     "about": "procedure"},  # received before the window
]
# 3.4.1 = F1, F2, F4 = 3; 3.4.2 = F1, F4 = 2 -> 3.4 = 66,67%

# Staff inputs of the period (a percentage as a fraction).
INPUTS: dict[tuple[str, str], tuple[float | int | None, str]] = {
    ("3", "1.1"): (0, ""),
    ("3", "1.3"): (2835, "Quyết định công bố số 12/QĐ-UBND"),
    ("3", "2.1"): (60, ""),
    ("3", "2.2"): (224, ""),
    ("3", "2.3"): (0, ""),
    ("3", "1.4"): (2835, ""),  # a data row typed as well: the computed 8 stays, the typed one goes to the note
    ("7", "1"): (1, ""),
    ("7", "2"): (2, ""),
    ("7", "3"): (1.0, ""),
    ("7", "4"): (2, ""),
    ("7", "5.1.1"): (1.0, ""),
    ("7", "5.2.3"): (0.9987, ""),
    ("7", "6.3.2"): (3, ""),
}

# The forms as the seed has them: (STT, label, unit).
SEED_FORM_3 = [
    ("1", "Thống kê TTHC", None),
    ("1.1", "Số TTHC đã được phê duyệt phương án đơn giản hóa", "Thủ tục"),
    ("1.2", "Số TTHC công bố mới", "Thủ tục"),
    ("1.3", "Số TTHC sửa đổi bổ sung, bãi bỏ", "Thủ tục"),
    ("1.4", "Tổng số TTHC thuộc thẩm quyền giải quyết tại địa phương", "Thủ tục"),
    ("1.4.1", "Số TTHC cấp tỉnh (Bao gồm cả TTHC của cơ quan ngành dọc)", "Thủ tục"),
    ("1.4.2", "Số TTHC cấp huyện (Bao gồm cả TTHC của cơ quan ngành dọc)", "Thủ tục"),
    ("1.4.3", "Số TTHC cấp xã (Bao gồm cả TTHC của cơ quan ngành dọc)", "Thủ tục"),
    ("2", "Thực hiện cơ chế một cửa, một cửa liên thông", None),
    ("2.1", "Số TTHC liên thông cùng cấp", "Thủ tục"),
    ("2.2", "Số TTHC liên thông giữa các cấp chính quyền", "Thủ tục"),
    ("2.3", "Số TTHC đã thực hiện tiếp nhận và giải quyết hồ sơ không phụ thuộc vào địa giới hành chính.", "Thủ tục"),
    ("3", "Kết quả giải quyết TTHC", None),
    ("3.1", "Tỷ lệ hồ sơ TTHC do các sở, ngành tiếp nhận được giải quyết đúng hạn", "%"),
    ("3.1.1", "Tổng số hồ sơ TTHC đã giải quyết xong", "Hồ sơ"),
    ("3.1.2", "Số hồ sơ TTHC giải quyết đúng hạn", "Hồ sơ"),
    ("3.2", "Tỷ lệ hồ sơ TTHC do UBND cấp huyện tiếp nhận được giải quyết đúng hạn", "%"),
    ("3.2.1", "Tổng số hồ sơ TTHC đã giải quyết xong", "Hồ sơ"),
    ("3.2.2", "Số hồ sơ TTHC giải quyết đúng hạn", "Hồ sơ"),
    ("3.3", "Tỷ lệ hồ sơ TTHC do UBND cấp xã tiếp nhận được giải quyết đúng hạn", "%"),
    ("3.3.1", "Tổng số hồ sơ TTHC đã giải quyết xong", "Hồ sơ"),
    ("3.3.2", "Số hồ sơ TTHC giải quyết đúng hạn", "Hồ sơ"),
    ("3.4", "Tỷ lệ giải quyết phản ánh, kiến nghị (PAKN) về quy định TTHC", "%"),
    ("3.4.1", "Tổng số PAKN đã tiếp nhận (trực tiếp hoặc do cơ quan có thẩm quyền chuyển đến)", "PAKN"),
    ("3.4.2", "Số PAKN đã giải quyết xong", "PAKN"),
]
SEED_FORM_7 = [
    ("1", "Cập nhật Kiến trúc chính quyền điện tử phiên bản mới nhất", "Chưa = 0\nHoàn thành = 1"),
    ("2", "Xây dựng và vận hành Hệ thống họp trực tuyến\nLiên thông 2 cấp: Từ UBND tỉnh - 100% UBND các huyện.\n"
          "Liên thông 3 cấp: Từ UBND tỉnh - 100% UBND cấp huyện, cấp xã.", "Chưa có = 0\n2 cấp = 1\n3 cấp = 2"),
    ("3", "Tỷ lệ báo cáo định kỳ được gửi, nhận qua Hệ thống thông tin báo cáo quốc gia", "%"),
    ("4", "Triển khai xây dựng nền tảng chia sẻ, tích hợp dùng chung (LGSP).",
     "Chưa = 0\nĐang làm = 1\nHoàn thành = 2"),
    ("5", "Số liệu về trao đổi văn bản điện tử", None),
    ("5.1", "Thực hiện kết nối, liên thông các Hệ thống quản lý văn bản điều hành từ cấp tỉnh đến cấp xã", None),
    ("5.1.1", "Tỷ lệ sở, ngành đã kết nối, liên thông với UBND tỉnh", "%"),
    ("5.1.2", "Tỷ lệ UBND cấp huyện đã kết nối, liên thông với UBND tỉnh", "%"),
    ("5.1.3", "Tỷ lệ UBND cấp xã đã kết nối, liên thông với UBND huyện.", "%"),
    ("5.2", "Tỷ lệ sử dụng văn bản điện tử của địa phương (Chỉ thống kê tỷ lệ văn bản được gửi hoàn toàn dưới dạng "
            "điện tử; sử dụng chữ ký số, chứng thư số và gửi trên môi trường điện tử).", "%"),
    ("5.2.1", "Tỷ lệ sử dụng văn bản điện tử của các sở, ban, ngành cấp tỉnh", "%"),
    ("5.2.2", "Tỷ lệ sử dụng văn bản điện tử của UBND cấp huyện", "%"),
    ("5.2.3", "Tỷ lệ sử dụng văn bản điện tử của UBND cấp xã", "%"),
    ("5.3", "Xây dựng, vận hành Hệ thống thông tin một cửa điện tử tập trung của tỉnh", None),
    ("5.3.1", "Tỷ lệ sở, ngành đã kết nối liên thông với Hệ thống", "%"),
    ("5.3.2", "Tỷ lệ đơn vị cấp huyện đã kết nối liên thông với Hệ thống", "%"),
    ("5.3.3", "Tỷ lệ đơn vị cấp xã đã kết nối liên thông với Hệ thống", "%"),
    ("6", "Cung cấp dịch vụ công trực tuyến", None),
    ("6.1", "Tỷ lệ TTHC đủ điều kiện được cung cấp trực tuyến một phần", "%"),
    ("6.1.1", "Tổng số TTHC đủ điều kiện cung cấp trực tuyến một phần", "Thủ tục"),
    ("6.1.2", "Số TTHC đang cung cấp trực tuyến một phần", "Thủ tục"),
    ("6.1.3", "Số TTHC đang cung cấp trực tuyến một phần có phát sinh hồ sơ nộp trực tuyến", "Thủ tục"),
    ("6.2", "Tỷ lệ TTHC đủ điều kiện được cung cấp trực tuyến toàn trình", "%"),
    ("6.2.1", "Tổng số TTHC đủ điều kiện cung cấp trực tuyến toàn trình", "Thủ tục"),
    ("6.2.2", "Số TTHC đang cung cấp trực tuyến toàn trình", "Thủ tục"),
    ("6.2.3", "Số TTHC đang cung cấp trực tuyến toàn trình có phát sinh hồ sơ nộp trực tuyến", "Thủ tục"),
    ("6.3", "Tỷ lệ TTHC cung cấp trực tuyến một phần và toàn trình đã tích hợp, công khai trên Cổng DVC quốc gia",
     "%"),
    ("6.3.1", "Tổng số TTHC đang cung cấp trực tuyến một phần và toàn trình của địa phương", "Thủ tục"),
    ("6.3.2", "Số TTHC cung cấp trực tuyến một phần và toàn trình đã tích hợp, công khai trên Cổng DVC quốc gia",
     "Thủ tục"),
    ("6.4", "Tỷ lệ hồ sơ TTHC được tiếp nhận trực tuyến một phần và toàn trình\n(Chỉ thống kê đối với các TTHC một "
            "phần và toàn trình có phát sinh hồ sơ)", "%"),
    ("6.4.1", "Tổng số hồ sơ TTHC đã tiếp nhận (cả trực tiếp và trực tuyến)", "Hồ sơ"),
    ("6.4.2", "Số hồ sơ TTHC đã tiếp nhận trực tuyến", "Hồ sơ"),
    ("6.5", "Tỷ lệ TTHC được tích hợp, triển khai thanh toán trực tuyến", "%"),
    ("6.5.1", "Tổng số TTHC có yêu cầu nghĩa vụ tài chính (tất cả các TTHC có phát sinh phí, lệ phí, …)", "Thủ tục"),
    ("6.5.2", "Số TTHC đã được tích hợp, triển khai thanh toán trực tuyến trên Cổng DVC quốc gia hoặc trên Cổng DVC "
              "của tỉnh", "Thủ tục"),
]

VN_INT = '[>=1000000]#"."000"."000;[>=1000]#"."000;0'
# What the written workbook holds in "Số liệu", by hand from the comments above: numbers, a percentage as a
# fraction (shown 80,00% by the cell's format 0.00%), rounded here to 6 places; no district rows (2025-Q3).
EXPECTED_3 = {
    "1": None, "1.1": 0, "1.2": None, "1.3": 2835, "1.4": 8, "1.4.1": 3, "1.4.3": 3,
    "2": None, "2.1": 60, "2.2": 224, "2.3": 0,
    "3": None, "3.1": 0.8, "3.1.1": 5, "3.1.2": 4,
    "3.3": 0.75, "3.3.1": 4, "3.3.2": 3, "3.4": 0.666667, "3.4.1": 3, "3.4.2": 2,
}
EXPECTED_7 = {
    "1": 1, "2": 2, "3": 1.0, "4": 2, "5": None, "5.1": None, "5.1.1": 1.0,
    "5.1.3": None, "5.2": None, "5.2.1": None, "5.2.3": 0.9987, "5.3": None, "5.3.1": None,
    "5.3.3": None,
    "6": None, "6.1": 1.0, "6.1.1": 2, "6.1.2": 2, "6.1.3": 2, "6.2": 0.666667, "6.2.1": 3, "6.2.2": 2,
    "6.2.3": 1, "6.3": 0.75, "6.3.1": 4, "6.3.2": 3, "6.4": 0.625, "6.4.1": 8, "6.4.2": 5,
    "6.5": 0.5, "6.5.1": 4, "6.5.2": 2,
}


def rounded(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def load_province(ws: Workspace) -> None:
    ws.load("units", [{"code": "14.D01", "name": "UBND huyện Mai Sơn", "level": "district", "parent_code": "14",
                       "valid_to": "2025-06-30"}])
    ws.load("procedures", PROCS)
    ws.load("dossiers", DOSSIERS)
    ws.load("feedback", FEEDBACK)


DISTRICT_ROWS = {("3", "1.4.2"), ("3", "3.2"), ("3", "3.2.1"), ("3", "3.2.2"), ("7", "5.1.2"), ("7", "5.2.2"),
                 ("7", "5.3.2")}  # left out from 1/7/2025 (two-level local government)
TWO_LEVEL_LABELS = {("7", "2"): "Xây dựng và vận hành Hệ thống họp trực tuyến\nLiên thông 2 cấp: Từ UBND tỉnh - 100% "
                                "UBND cấp xã.",
                    ("7", "5.1.3"): "Tỷ lệ UBND cấp xã đã kết nối, liên thông với UBND tỉnh."}


def seed_rows(form: str, seed: list[tuple[str, str, str | None]]) -> list[tuple[str, str, str | None]]:
    """The seed's rows of a form as a 2025-Q3 report has them: no district rows, the two-level labels."""
    return [(c, TWO_LEVEL_LABELS.get((form, c), label), unit) for c, label, unit in seed
            if (form, c) not in DISTRICT_ROWS]


def values(rows: list[cchc.FormRow]) -> dict[tuple[str, str], Any]:
    return {r.key: r.value for r in rows}


# --- window ---------------------------------------------------------------------------------------------------


def test_window_conventions() -> None:
    nd09, calendar = Config(), Config(report={"window": "calendar"})
    # Decree 09: from the 15th of the month before to the 14th of the last month.
    assert window(parse_period("2024-Q1"), nd09) == (date(2023, 12, 15), date(2024, 3, 14))
    assert window(parse_period("2025-Q3"), nd09) == (date(2025, 6, 15), date(2025, 9, 14))
    assert window(parse_period("2024-01"), nd09) == (date(2023, 12, 15), date(2024, 1, 14))
    assert window(parse_period("2025"), nd09) == (date(2024, 12, 15), date(2025, 12, 14))
    assert window(parse_period("2024-Q1"), calendar) == (date(2024, 1, 1), date(2024, 3, 31))
    # An explicit range is taken as given whatever the convention.
    assert window(parse_period("2025-07-01..2025-09-30"), nd09) == (date(2025, 7, 1), date(2025, 9, 30))
    with pytest.raises(ConfigError, match="window"):
        window(parse_period("2024-Q1"), Config(report={"window": "lunar"}))


# --- computed rows --------------------------------------------------------------------------------------------


def test_computed_rows(ws: Workspace) -> None:
    load_province(ws)
    rows = build_forms(ws.store, "2025-Q3", Config(), INPUTS)
    got = values(rows)
    keys = [r.key for r in rows if r.form in ("3", "7")]
    assert keys == [("3", c) for c, _, _ in seed_rows("3", SEED_FORM_3)] + \
        [("7", c) for c, _, _ in seed_rows("7", SEED_FORM_7)]
    assert not DISTRICT_ROWS & set(got)  # 2025-Q3 is after 1/7/2025: no district rows
    counts = {k: v for k, v in got.items() if not isinstance(v, float)}
    assert {c: counts[("3", c)] for c in ("1.4", "1.4.1", "1.4.3", "3.1.1", "3.1.2",
                                          "3.3.1", "3.3.2", "3.4.1", "3.4.2")} == {
        "1.4": 8, "1.4.1": 3, "1.4.3": 3, "3.1.1": 5, "3.1.2": 4,
        "3.3.1": 4, "3.3.2": 3, "3.4.1": 3, "3.4.2": 2}
    assert got[("3", "3.1")] == pytest.approx(4 / 5)
    assert got[("3", "3.4")] == pytest.approx(2 / 3)
    assert got[("7", "6.2")] == pytest.approx(2 / 3)
    assert got[("7", "6.3")] == pytest.approx(3 / 4)
    assert got[("7", "6.4")] == pytest.approx(5 / 8)
    notes = {r.key: r.note for r in rows}
    # the typed 1.4 is noted, the computed one kept; the procedure without a level is pointed out
    # the district procedure P3 and the district's dossiers H1, H2 (resolved 20/6 and 23/6) are noted, not moved
    assert notes[("3", "1.4")] == ("Trong đó 1 TTHC chưa xác định cấp; Trong đó 1 TTHC cấp huyện (trước 01/7/2025); "
                                   "Số liệu nhập: 2.835 (báo cáo dùng số liệu tính từ dữ liệu)")
    assert notes[("3", "3.3.1")] == "Không gồm 2 hồ sơ UBND cấp huyện giải quyết trước 01/7/2025"
    assert notes[("3", "1.3")] == "Quyết định công bố số 12/QĐ-UBND"
    assert got[("3", "1.2")] is None and notes[("3", "1.2")] == "Chưa nhập"
    assert notes[("7", "1")] == ""


def test_missing_input_leaves_percentage_empty(ws: Workspace) -> None:
    load_province(ws)
    rows = {r.key: r for r in build_forms(ws.store, "2025-Q3", Config(), {})}
    assert rows[("7", "6.3.2")].value is None and rows[("7", "6.3.2")].note == "Chưa nhập"
    assert rows[("7", "6.3")].value is None
    assert rows[("7", "6.3")].note == "Chưa đủ số liệu (6.3.2 chưa nhập)"


def test_calendar_window_changes_the_figures(ws: Workspace) -> None:
    load_province(ws)
    rows = values(build_forms(ws.store, "2025-Q3", Config(report={"window": "calendar"}), INPUTS))
    # 1/7..30/9: sở resolved S1 early, S2 on time, S3 late, S6 (16/9, due 12/9) late; S7, S8 ended in June
    assert (rows[("3", "3.1.1")], rows[("3", "3.1.2")]) == (4, 2)
    assert ("3", "3.2.1") not in rows  # no district rows after 1/7/2025


# --- the written workbook -------------------------------------------------------------------------------------


def written(ws: Workspace, tmp_path: Path, number_format: dict[str, str] | None = None) -> Any:
    load_province(ws)
    period = parse_period("2025-Q3")
    rows = build_forms(ws.store, period, Config(), INPUTS)
    out = write_forms(rows, tmp_path / "out" / "bieu-mau.xlsx", TEMPLATE, number_format,
                      header=cchc.header_values(ws.store, period, Config()), dropped=cchc.dropped_rows(period))
    return load_workbook(out)


def form_rows(sheet: Any) -> list[tuple[Any, ...]]:
    """(STT, label, unit, value, note) of every row below the two header rows (7 and 8)."""
    return [tuple(c.value for c in row[:5]) for row in sheet.iter_rows(min_row=9) if row[0].value is not None]


def test_written_forms(ws: Workspace, tmp_path: Path) -> None:
    wb = written(ws, tmp_path)
    assert wb.sheetnames == [f"Biểu mẫu {n}" for n in range(1, 8)]
    for sheet, seed, expected in (("Biểu mẫu 3", seed_rows("3", SEED_FORM_3), EXPECTED_3),
                                  ("Biểu mẫu 7", seed_rows("7", SEED_FORM_7), EXPECTED_7)):
        s = wb[sheet]
        assert s["A1"].value == "BIỂU THỐNG KÊ SỐ LIỆU BÁO CÁO CẢI CÁCH HÀNH CHÍNH"
        assert s["A2"].value == "QUÝ III NĂM 2025 CỦA ỦY BAN NHÂN DÂN TỈNH SƠN LA"
        assert s["A3"].value == "(Số liệu tính từ ngày 15/06/2025 đến ngày 14/09/2025)"
        assert s["A4"].value == sheet
        assert (s["A7"].value, s["C7"].value, s["C8"].value, s["D8"].value, s["E7"].value) == (
            "STT", "Kết quả thống kê", "Đơn vị tính", "Số liệu", "Ghi chú")
        assert "C7:D7" in {str(m) for m in s.merged_cells.ranges}
        got = form_rows(s)
        assert [(code, label, unit) for code, label, unit, _, _ in got] == seed  # every row, in order
        assert {code: rounded(value) for code, _, _, value, _ in got} == expected
    s3 = wb["Biểu mẫu 3"]
    by_code = {s3.cell(r, 1).value: r for r in range(9, s3.max_row + 1)}
    big = s3.cell(by_code["1.3"], 4)
    assert big.value == 2835 and big.number_format == VN_INT  # a number Excel sums, shown 2.835
    assert s3.cell(by_code["1.4"], 4).number_format == VN_INT
    assert s3.cell(by_code["1.3"], 5).value == "Quyết định công bố số 12/QĐ-UBND"
    assert s3.cell(by_code["1.2"], 5).value == "Chưa nhập"
    assert s3.cell(by_code["3.1"], 4).alignment.horizontal == "right"
    assert s3.cell(by_code["3.1"], 4).number_format == "0.00%"  # a number, shown 80,00%
    assert s3.cell(by_code["3.1.1"], 2).font.name == "Times New Roman"
    assert int(s3.page_setup.paperSize) == 9  # A4


def test_written_forms_other_separators(ws: Workspace, tmp_path: Path) -> None:
    wb = written(ws, tmp_path, {"decimal": ".", "thousands": ","})
    s3 = wb["Biểu mẫu 3"]
    pct = next(s3.cell(r, 4) for r in range(9, s3.max_row + 1) if s3.cell(r, 1).value == "3.4")
    assert pct.value == pytest.approx(2 / 3) and pct.number_format == "0.00%"  # the same number either way
    cell = next(s3.cell(r, 4) for r in range(9, s3.max_row + 1) if s3.cell(r, 1).value == "1.3")
    assert cell.number_format == '[>=1000000]#","000","000;[>=1000]#","000;0'


def test_number_format() -> None:
    vn, en = NumberFormat(), cchc.number_format_of({"decimal": ".", "thousands": ","})
    assert (vn.integer(2835), vn.integer(28977), vn.integer(1234567), cchc.percent_text(0.99874, vn)) == (
        "2.835", "28.977", "1.234.567", "99,87%")
    assert (cchc.percent_text(0.99875, vn), cchc.percent_text(1.0, vn), cchc.percent_text(0.5184, en),
            en.integer(43597)) == ("99,88%", "100,00%", "51.84%", "43,597")
    assert cchc.excel_integer_format(vn) == VN_INT
    assert cchc.excel_integer_format(cchc.number_format_of({"thousands": ""})) == "0"
    with pytest.raises(ConfigError):
        cchc.number_format_of({"decimal": ",", "thousands": ","})
    with pytest.raises(ConfigError, match="separator"):
        cchc.number_format_of({"separator": ","})


def test_template_tags_and_rows(tmp_path: Path) -> None:
    wb = load_workbook(TEMPLATE)
    s = wb["Biểu mẫu 7"]
    assert s["A2"].value == "{{ky_bao_cao}} CỦA ỦY BAN NHÂN DÂN {{tinh}}"
    assert s["A1"].font.name == "Times New Roman" and s["A1"].font.bold
    # an unknown tag in a province's copy of the template is named
    s["G2"] = "{{ky_bao_coa}}"
    broken = tmp_path / "broken.xlsx"
    wb.save(broken)
    with pytest.raises(TemplateError, match=r"G2.*ky_bao_coa"):
        write_forms([], tmp_path / "x.xlsx", broken)
    # a row missing from the template is named
    del wb["Biểu mẫu 7"]
    wb.save(broken)
    row = cchc.FormRow("7", "6.1", "x", "%", "data", 1.0)
    with pytest.raises(TemplateError, match="Biểu mẫu 7"):
        write_forms([row], tmp_path / "x.xlsx", broken)


def test_template_is_reproducible(tmp_path: Path) -> None:
    import runpy

    tool = Path(__file__).resolve().parent.parent / "tools" / "build_cchc_template.py"
    build = runpy.run_path(str(tool))["build"]
    out = build(tmp_path / "t.xlsx")
    assert out.read_bytes() == TEMPLATE.read_bytes()  # the committed template is the tool's output


# --- staff inputs ---------------------------------------------------------------------------------------------


def sheet_lines(wb: Any) -> dict[tuple[str, str], Any]:
    """{(sheet, STT): row cells} of every form sheet of an input workbook (header on row 5)."""
    return {(ws.title, r[0].value): r for ws in wb.worksheets if ws.title.startswith("Biểu mẫu")
            for r in ws.iter_rows(min_row=6)}


def test_input_template_round_trip(tmp_path: Path) -> None:
    path = write_input_template(tmp_path / "nhap.xlsx", "2025-Q3", values={("7", "3"): (0.5, "kỳ trước")})
    wb = load_workbook(path)
    assert wb.sheetnames == ["Hướng dẫn"] + [f"Biểu mẫu {n}" for n in range(1, 8)] + ["Nội dung báo cáo"]
    sheet = wb["Biểu mẫu 7"]
    assert [c.value for c in sheet[5]] == ["STT", "Chỉ tiêu", "Đơn vị tính", "Số liệu", "Ghi chú"]
    lines = sheet_lines(wb)
    typed = {k for k, r in lines.items() if r[3].fill.fgColor.rgb.endswith("FFF2CC")}  # the cells to fill
    # Biểu mẫu 3: 1.1-1.3, 2.1-2.3 (the headings 1, 2, 3 shown, not to fill); Biểu mẫu 7: 12 rows without the
    # district ones (5.1.2, 5.2.2, 5.3.2: 2025-Q3 is after 1/7/2025); no data rows, no ratios
    assert {c for f, c in typed if f == "Biểu mẫu 3"} == {"1.1", "1.2", "1.3", "2.1", "2.2", "2.3"}
    assert len({c for f, c in typed if f == "Biểu mẫu 7"}) == 12
    assert ("Biểu mẫu 3", "1.4") not in lines and ("Biểu mẫu 7", "6.3.2") in typed
    assert ("Biểu mẫu 7", "5.1") in lines and ("Biểu mẫu 7", "5.1") not in typed
    assert ("Biểu mẫu 7", "5.1.2") not in lines
    assert ("Biểu mẫu 1", "6.1") in typed  # a data row typed when the one-stop system has no evaluation form
    assert ("Biểu mẫu 1", "2") not in lines  # a ratio: computed
    assert lines[("Biểu mẫu 7", "3")][3].value == 50  # stored 0.5 shown as 50 (%)
    assert cchc.input_file_period(path) == "2025-Q3"

    lines[("Biểu mẫu 3", "1.1")][3].value = 0
    lines[("Biểu mẫu 3", "1.3")][3].value = "2.835"         # text with the thousands dot
    lines[("Biểu mẫu 3", "1.3")][4].value = "Theo Quyết định 12"
    lines[("Biểu mẫu 7", "1")][3].value = 1
    lines[("Biểu mẫu 7", "5.2.3")][3].value = "99,87%"      # text percent
    pct = lines[("Biểu mẫu 7", "5.1.1")][3]
    pct.value, pct.number_format = 0.95, "0%"               # typed as 95% in a percent cell
    lines[("Biểu mẫu 7", "6.3.2")][3].value = 644
    lines[("Biểu mẫu 6", "1.1")][3].value = "3.989.325,5"    # an amount (Tỷ đồng) with decimals
    text = wb["Nội dung báo cáo"]
    text["C6"] = "Đoạn một.\nĐoạn hai."                     # I.1
    wb.save(path)

    got = read_inputs(path)
    assert got[("3", "1.1")] == (0, "")
    assert got[("3", "1.3")] == (2835, "Theo Quyết định 12")
    assert got[("7", "1")] == (1, "")
    assert got[("7", "3")] == (pytest.approx(0.5), "kỳ trước")
    assert got[("7", "5.2.3")] == (pytest.approx(0.9987), "")
    assert got[("7", "5.1.1")] == (pytest.approx(0.95), "")
    assert got[("7", "6.3.2")] == (644, "")
    assert got[("6", "1.1")] == (pytest.approx(3989325.5), "")
    assert got[("BC", "I.1")] == (None, "Đoạn một.\nĐoạn hai.")
    assert ("3", "1.2") not in got  # left empty: not entered


def test_bad_input_file(tmp_path: Path) -> None:
    path = write_input_template(tmp_path / "nhap.xlsx", "2025-Q3")
    wb = load_workbook(path)
    lines = sheet_lines(wb)
    s3, s7 = wb["Biểu mẫu 3"], wb["Biểu mẫu 7"]
    r_text, r_count = lines[("Biểu mẫu 3", "1.1")][0].row, lines[("Biểu mẫu 3", "2.1")][0].row
    r_formula = lines[("Biểu mẫu 3", "1.2")][0].row
    r_choice = lines[("Biểu mẫu 7", "1")][0].row
    s3.cell(r_text, 4).value = "khoảng 5"
    s3.cell(r_formula, 4).value = "=SUM(D6:D7)"  # a formula: refused, never read as its cached value
    s3.cell(r_count, 4).value = 2.5
    s7.cell(r_choice, 4).value = 3
    extra = s3.max_row + 1
    s3.cell(extra, 1).value, s3.cell(extra, 4).value = "9.9", 1
    wb.save(path)

    with pytest.raises(InputError) as info:
        read_inputs(path)
    problems = info.value.problems
    assert len(problems) == 5
    assert all(str(path) in p for p in problems)
    assert r_text < r_formula < r_count < extra
    assert f"trang 'Biểu mẫu 3', dòng {r_text}, cột D (Số liệu): 'khoảng 5' không phải số" in problems[0]
    assert f"trang 'Biểu mẫu 3', dòng {r_formula}, cột D (Số liệu): ô có công thức '=SUM(D6:D7)'" in problems[1]
    assert f"dòng {r_count}, cột D (Số liệu)" in problems[2] and "số nguyên" in problems[2]
    assert f"trang 'Biểu mẫu 3', dòng {extra}, cột A (STT): STT '9.9' không có trong Biểu mẫu 3" in problems[3]
    assert f"trang 'Biểu mẫu 7', dòng {r_choice}, cột D (Số liệu)" in problems[4] and "chỉ nhận 0, 1" in problems[4]
    assert isinstance(info.value, ValueError)


def test_input_file_without_columns(tmp_path: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["STT", "Giá trị"])
    wb.save(tmp_path / "x.xlsx")
    with pytest.raises(InputError, match=r"x\.xlsx.*'Biểu mẫu', 'Số liệu'"):
        read_inputs(tmp_path / "x.xlsx")


def test_inputs_kept_per_period(ws: Workspace) -> None:
    store = ws.store
    assert save_inputs(store, "2025-Q3", INPUTS) == len(INPUTS)
    save_inputs(store, "2025-q2", {("3", "1.1"): (7, "quý II")})
    assert stored_inputs(store, "2025-Q3") == INPUTS
    assert stored_inputs(store, "2025-Q2") == {("3", "1.1"): (7, "quý II")}
    assert stored_inputs(store, "2025-Q1") == {}
    # a later file wins row by row; replace drops the period's other rows
    save_inputs(store, "2025-Q3", {("3", "1.1"): (5, "")})
    assert stored_inputs(store, "2025-Q3")[("3", "1.1")] == (5, "")
    assert len(stored_inputs(store, "2025-Q3")) == len(INPUTS)
    save_inputs(store, "2025-Q3", {("7", "6.3.2"): (None, "chờ số liệu")}, replace=True)
    assert stored_inputs(store, "2025-Q3") == {("7", "6.3.2"): (None, "chờ số liệu")}
    with pytest.raises(InputError, match="3/9.9"):
        save_inputs(store, "2025-Q3", {("3", "9.9"): (1, "")})


def test_build_forms_uses_stored_inputs(ws: Workspace, tmp_path: Path) -> None:
    load_province(ws)
    save_inputs(ws.store, "2025-Q3", {("7", "6.3.2"): (3, "")})
    rows = values(build_forms(ws.store, "2025-Q3", Config()))
    assert rows[("7", "6.3.2")] == 3 and rows[("7", "6.3")] == pytest.approx(0.75)
    report = cchc.make_report(ws.store, "2025-Q3", tmp_path / "bm.xlsx")
    assert report.window == (date(2025, 6, 15), date(2025, 9, 14))
    assert ("3", "1.1") in {r.key for r in report.missing}
    assert load_workbook(report.path)["Biểu mẫu 7"]["A2"].value.endswith("TỈNH SƠN LA")
