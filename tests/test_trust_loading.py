"""The loader refuses every hostile value with file, row, column and reason, or gives it a documented meaning
that every later command handles (issue 14, items 4, 5 and 8; docs/loading.md lists the bounds).

Each test loads real files into a real workspace. Expected messages are written from the rules in
docs/loading.md, not copied from output."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chiso import api
from chiso.config import Limits
from chiso.load.contract import TABLES
from chiso.load.loader import LoadError, LoadReport
from chiso.load.validate import rules_table
from conftest import UNIT, Workspace, write_csv

DOCS = Path(__file__).parent.parent / "docs"

PROC = {"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": "5", "time_unit": "working_days"}
TIME_LIMIT_BOUNDS = "ngoài khoảng cho phép: lớn hơn 0 và không quá 730 (được bằng 0 khi time_unit là same_day)"
OUTSIDE_CALENDAR = ("ngoài lịch làm việc 2015–2035 ([calendar] years trong chiso.toml): "
                    "không tính được hạn, điểm cho ngày này")


def dossier(did: str, **changes: str) -> dict[str, Any]:
    row = {"dossier_id": did, "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
           "received_at": "2025-09-08 09:00"}
    row.update(changes)
    return row


def refused(ws: Workspace, table: str, rows: list[dict[str, Any]]) -> list[str]:
    """Load the rows (rejecting by default) and return the issues as ``file:row: column: reason`` after the
    file name."""
    with pytest.raises(LoadError) as info:
        ws.load(table, rows)
    return [str(i).split(":", 1)[1] for i in info.value.report.issues]


def rejected_rows(report: LoadReport) -> list[dict[str, str]]:
    path = report.files[0].rejected_file
    assert path is not None
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# --- item 4: numbers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "reason"), [
    ("nan", "'nan' không phải số"),
    ("inf", "'inf' không phải số"),
    ("-Infinity", "'-Infinity' không phải số"),
    ("1e400", "'1e400' không phải số"),  # overflows to infinity
    ("1e8", f"'1e8' {TIME_LIMIT_BOUNDS}"),
    ("731", f"'731' {TIME_LIMIT_BOUNDS}"),
    ("0", f"'0' {TIME_LIMIT_BOUNDS}"),  # due at the moment of reception
    ("-3", f"'-3' {TIME_LIMIT_BOUNDS}"),  # due before reception
])
def test_time_limit_must_be_a_finite_positive_number_of_days(ws: Workspace, value: str, reason: str) -> None:
    assert refused(ws, "procedures", [PROC | {"time_limit": value}]) == [f"2: time_limit: {reason}"]


def test_time_limit_bounds_hold_inclusive_and_same_day_may_say_zero(ws: Workspace) -> None:
    ws.load("procedures", [PROC | {"code": "MAX", "time_limit": "730"},
                           PROC | {"code": "SAME", "time_limit": "0", "time_unit": "same_day"},
                           PROC | {"code": "HALF", "time_limit": "0,5"}])
    rows = ws.store.con.execute("SELECT code, time_limit, time_unit FROM procedures ORDER BY code").fetchall()
    assert rows == [("HALF", 0.5, "working_days"), ("MAX", 730.0, "working_days"), ("SAME", 0.0, "same_day")]
    # Even ignored, a same-day limit is a finite number within the bounds: it can never overflow a later query.
    assert refused(ws, "procedures", [PROC | {"code": "S2", "time_limit": "1e300", "time_unit": "same_day"}]) == [
        f"2: time_limit: '1e300' {TIME_LIMIT_BOUNDS}"]


@pytest.mark.parametrize(("column", "value", "reason"), [
    ("fee_amount", "-1", "'-1' ngoài khoảng cho phép: từ 0 đến 1.000.000.000.000"),
    ("fee_amount", "nan", "'nan' không phải số"),
    ("supplement_count", "-2", "'-2' ngoài khoảng cho phép: từ 0 đến 1.000"),
    # Was a DuckDB conversion traceback (INT32 overflow) instead of a message.
    ("supplement_count", "99999999999", "'99999999999' ngoài khoảng cho phép: từ 0 đến 1.000"),
    ("supplement_count", "1e30", "'1e30' không phải số nguyên"),
    ("supplement_count", "2,5", "'2,5' không phải số nguyên"),
])
def test_negative_and_huge_counts_and_fees(ws: Workspace, column: str, value: str, reason: str) -> None:
    ws.load("procedures", [PROC])
    assert refused(ws, "dossiers", [dossier("D1"), dossier("D2", **{column: value})]) == [f"3: {column}: {reason}"]


def test_evaluation_items_and_indicator_values_are_bounded(ws: Workspace) -> None:
    assert refused(ws, "evaluations", [
        {"dossier_id": "D1", "unit_code": UNIT, "evaluated_at": "2025-09-10 10:00", "evaluator": "citizen",
         "i1": "2", "i2": "3", "i3": "-1"},
    ]) == ["2: i2: '3' ngoài khoảng cho phép: từ 0 đến 2", "2: i3: '-1' ngoài khoảng cho phép: từ 0 đến 2"]
    assert refused(ws, "indicator_inputs", [
        {"period": "2025-09", "unit_code": UNIT, "indicator": "X", "numerator": "-1", "denominator": "inf",
         "score": "101"},
    ]) == ["2: denominator: 'inf' không phải số",
           "2: numerator: '-1' ngoài khoảng cho phép: từ 0 đến 1.000.000.000.000",
           "2: score: '101' ngoài khoảng cho phép: từ 0 đến 100"]


# --- item 4: text ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "code", "position"), [
    ("D\x1b[2J", "U+001B", 2),  # a terminal escape
    ("D1\x00", "U+0000", 3),
    ("D\t1", "U+0009", 2),
    ("\u202eD1", "U+202E", 1),  # RIGHT-TO-LEFT OVERRIDE: shows the id reversed
    ("D\u200b1", "U+200B", 2),  # zero-width space: two ids that look the same
])
def test_control_and_invisible_characters_in_ids(ws: Workspace, value: str, code: str, position: int) -> None:
    ws.load("procedures", [PROC])
    assert refused(ws, "dossiers", [dossier(value)]) == [f"2: dossier_id: chứa ký tự điều khiển hoặc ký tự ẩn {code} "
                                                         f"ở vị trí {position} (không được phép trong dữ liệu)"]


def test_control_characters_and_bidi_overrides_in_names(ws: Workspace) -> None:
    assert refused(ws, "units", [
        {"code": "X1", "name": "Xã \u202eanờ", "level": "commune", "parent_code": "14"},
        {"code": "X2", "name": "Xã\nMới", "level": "commune", "parent_code": "14"},
    ]) == ["2: name: chứa ký tự điều khiển hoặc ký tự ẩn U+202E ở vị trí 4 (không được phép trong dữ liệu)",
           "3: name: chứa ký tự điều khiển hoặc ký tự ẩn U+000A ở vị trí 3 (không được phép trong dữ liệu)"]


def test_lengths_of_codes_and_names_are_bounded(ws: Workspace) -> None:
    # 300 characters: every file name made from this code would be too long.
    assert refused(ws, "units", [
        {"code": "C" * 300, "name": "Xã dài", "level": "commune", "parent_code": "14"},
        {"code": "C" * 64, "name": "N" * 501, "level": "commune", "parent_code": "14"},
    ]) == ["2: code: dài 300 ký tự, tối đa 64", "3: name: dài 501 ký tự, tối đa 500"]
    ws.load("units", [{"code": "C" * 64, "name": "N" * 500, "level": "commune", "parent_code": "14"}])
    assert ws.store.con.execute("SELECT count(*) FROM units WHERE code = ?", ["C" * 64]).fetchone() == (1,)


# --- item 4: dates --------------------------------------------------------------------------------------


def test_due_before_reception(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    assert refused(ws, "dossiers", [dossier("D1", due_at="2025-09-05 09:00")]) == [
        "2: due_at: thời điểm 2025-09-05 09:00:00 trước ngày tiếp nhận 2025-09-08 09:00:00"]
    assert refused(ws, "feedback", [
        {"feedback_id": "F1", "unit_code": UNIT, "received_at": "2025-09-08 09:00", "due_at": "2025-09-01"},
    ]) == ["2: due_at: thời điểm 2025-09-01 00:00:00 trước ngày tiếp nhận 2025-09-08 09:00:00"]


def test_dates_outside_the_working_calendar(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    assert refused(ws, "dossiers", [
        dossier("D1", received_at="2099-07-01 08:00"),
        dossier("D2", received_at="2014-12-31 08:00"),
        dossier("D3", finished_at="2036-01-02"),
    ]) == [f"2: received_at: '2099-07-01 08:00' {OUTSIDE_CALENDAR}",
           f"3: received_at: '2014-12-31 08:00' {OUTSIDE_CALENDAR}",
           f"4: finished_at: '2036-01-02' {OUTSIDE_CALENDAR}"]
    # A unit's lifetime is not counted in working days: an old unit keeps its founding date.
    ws.load("units", [{"code": "OLD", "name": "Huyện cũ", "level": "district", "parent_code": "14",
                       "valid_from": "1979-01-01", "valid_to": "2025-06-30"}])


def test_the_calendar_years_setting_moves_the_bound(ws: Workspace) -> None:
    ws.config("[calendar]\nyears = [2015, 2040]\n")
    ws.load("procedures", [PROC])
    ws.load("dossiers", [dossier("D1", received_at="2038-07-01 08:00")])
    assert refused(ws, "dossiers", [dossier("D2", received_at="2041-01-02 08:00")]) == [
        "2: received_at: '2041-01-02 08:00' ngoài lịch làm việc 2015–2040 ([calendar] years trong chiso.toml): "
        "không tính được hạn, điểm cho ngày này"]


@pytest.mark.parametrize(("text", "local"), [
    # UTC+7 wall time = the given time - its offset + 7 h.
    ("2025-09-01 10:00+09", datetime(2025, 9, 1, 8, 0)),      # hour-only offset: was silently ignored (10:00)
    ("2025-09-01 10:00+0930", datetime(2025, 9, 1, 7, 30)),
    ("2025-09-01T10:00:00+09:30", datetime(2025, 9, 1, 7, 30)),
    ("2025-09-01 10:00-05", datetime(2025, 9, 1, 22, 0)),
    ("2025-09-01 10:00 +07:00", datetime(2025, 9, 1, 10, 0)),
    ("2025-09-01T03:00Z", datetime(2025, 9, 1, 10, 0)),
    ("2025-09-01 10:00:00.250+07", datetime(2025, 9, 1, 10, 0, 0, 250_000)),
])
def test_every_offset_form(ws: Workspace, text: str, local: datetime) -> None:
    ws.load("procedures", [PROC])
    ws.load("dossiers", [dossier("D1", received_at=text)])
    assert ws.store.con.execute("SELECT received_at FROM dossiers").fetchone() == (local,)


@pytest.mark.parametrize("text", [
    "2025-09-01 10:00 abc",     # was accepted as 10:00
    "2025-09-01 10:00+15",      # offsets end at ±14:00
    "2025-09-01 10:00+07:60",
    "2025-09-01+07",            # an offset needs a time
    "2025-09-01 10:00+7",
    "2025-09-01 10:00 GMT",
    "2025-09-01 10:00:00 +07:00:00",
])
def test_anything_else_after_the_time_is_refused(ws: Workspace, text: str) -> None:
    ws.load("procedures", [PROC])
    hint = "yyyy-mm-dd[ HH:MM[:SS]][Z|+07|+0700|+07:00], dd/mm/yyyy[ HH:MM[:SS]] hoặc số ngày Excel"
    assert refused(ws, "dossiers", [dossier("D1", received_at=text)]) == [
        f"2: received_at: '{text}' không phải ngày giờ hợp lệ (dùng {hint})"]


# --- item 4: the unit hierarchy ---------------------------------------------------------------------------

CYCLE = "(một đơn vị không thể là cấp trên của chính nó)"


def test_unit_that_is_its_own_parent(ws: Workspace) -> None:
    assert refused(ws, "units", [{"code": "X1", "name": "Xã 1", "level": "commune", "parent_code": "X1"}]) == [
        f"2: parent_code: đơn vị cấp trên tạo vòng lặp: X1 → X1 {CYCLE}"]


def test_cycle_within_one_file(ws: Workspace) -> None:
    assert refused(ws, "units", [
        {"code": "A", "name": "Đơn vị A", "level": "department", "parent_code": "B"},
        {"code": "B", "name": "Đơn vị B", "level": "department", "parent_code": "A"},
        {"code": "C", "name": "Đơn vị C", "level": "department", "parent_code": "A"},  # below the cycle, not in it
    ]) == [f"2: parent_code: đơn vị cấp trên tạo vòng lặp: A → B → A {CYCLE}",
           f"3: parent_code: đơn vị cấp trên tạo vòng lặp: B → A → B {CYCLE}"]


def test_cycle_through_the_stored_units(ws: Workspace) -> None:
    # Stored: 14.STP (Sở Tư pháp) has the province 14 as parent. Giving the province 14.STP as parent closes a loop.
    assert refused(ws, "units", [{"code": "14", "name": "Tỉnh Sơn La", "level": "province",
                                  "parent_code": "14.STP"}]) == [
        f"2: parent_code: đơn vị cấp trên tạo vòng lặp: 14 → 14.STP → 14 {CYCLE}"]


def test_cycle_rows_are_rejected_and_the_rest_loads_with_partial(ws: Workspace) -> None:
    report = ws.load("units", [
        {"code": "A", "name": "Đơn vị A", "level": "department", "parent_code": "B"},
        {"code": "B", "name": "Đơn vị B", "level": "department", "parent_code": "A"},
        {"code": "D", "name": "Đơn vị D", "level": "department", "parent_code": "14"},
    ], partial=True)
    assert [(r["dong"], r["code"]) for r in rejected_rows(report)] == [("2", "A"), ("3", "B")]
    assert ws.store.con.execute("SELECT parent_code FROM units WHERE code IN ('A', 'B', 'D')").fetchall() == [("14",)]


# --- item 5: --partial keeps every row, with its true number ---------------------------------------------

HEADER = ["dossier_id", "unit_code", "procedure_code", "channel", "received_at"]


def csv_lines(n: int) -> list[str]:
    """Data rows 2 .. n + 1; the dossier id is the row number a spreadsheet shows."""
    return [f"R{row},{UNIT},P5,online,2025-09-08 09:00" for row in range(2, n + 2)]


def test_one_ragged_record_rejects_that_row_not_the_file(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", [PROC])
    lines = csv_lines(600)
    lines[502 - 2] += ",thừa"          # row 502: one field more than the header
    lines[550 - 2] = f"R550,{UNIT},P5"  # row 550: two fields fewer
    lines[10 - 2] = f'R10,{UNIT},P5,online,"2025-09-08 09:00"'
    path = tmp_path / "hoso.csv"
    path.write_text(",".join(HEADER) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        api.load(ws.store, [path])
    assert [str(i) for i in info.value.report.issues] == [
        "hoso.csv:502: (dòng): dòng có 6 trường nhưng tiêu đề có 5 cột",
        "hoso.csv:550: (dòng): dòng có 3 trường nhưng tiêu đề có 5 cột",  # and nothing else about its values
    ]
    assert ws.store.count("dossiers") == 0
    report = api.load(ws.store, [path], partial=True)
    f = report.files[0]
    assert (f.rows_read, f.inserted, f.rejected) == (600, 598, 2)
    assert [(r["dong"], r["dossier_id"]) for r in rejected_rows(report)] == [("502", "R502"), ("550", "R550")]
    assert ws.store.count("dossiers") == 598


def test_row_numbers_count_records_across_quoted_line_breaks_and_blank_lines(ws: Workspace,
                                                                              tmp_path: Path) -> None:
    ws.load("procedures", [PROC])
    lines = csv_lines(30)
    lines[5 - 2] = f'R5,{UNIT},P5,online,"2025-09-08\n09:00"'  # row 5 spans two lines in the file
    lines[12 - 2] = ""                                          # row 12 is blank: skipped, but counted
    lines[20 - 2] = f"R20,{UNIT},P5,online,hôm qua"
    lines[25 - 2] += ",x"
    path = tmp_path / "hoso.csv"
    path.write_text(",".join(HEADER) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    report = api.load(ws.store, [path], partial=True)
    assert [(r["dong"], r["dossier_id"]) for r in rejected_rows(report)] == [
        ("5", "R5"), ("20", "R20"), ("25", "R25")]
    stored = {r[0] for r in ws.store.con.execute("SELECT dossier_id FROM dossiers").fetchall()}
    assert stored == {f"R{row}" for row in range(2, 32)} - {"R5", "R12", "R20", "R25"}


def test_status_and_score_survive_a_partial_load_of_hostile_files(ws: Workspace, tmp_path: Path) -> None:
    hostile_procs = [PROC | {"code": f"H{i}", "time_limit": v} for i, v in enumerate(
        ["nan", "inf", "1e8", "0", "-5", "1e400"])]
    procs = ws.load("procedures", [PROC, *hostile_procs], partial=True)
    rows = [dossier("OK1"), dossier("OK2", finished_at="2025-09-09 10:00")]
    rows += [dossier(f"H{i}", procedure_code=f"H{i}") for i in range(6)]
    rows += [dossier("Y2099", received_at="2099-01-01 08:00"), dossier("NEG", supplement_count="-1"),
             dossier("FEE", fee_amount="-inf"), dossier("DUE", due_at="2025-01-01"),
             dossier("OFF", received_at="2025-09-08 10:00+09"), dossier("CTL\x07"), dossier("C" * 300)]
    dossiers = ws.load("dossiers", rows, partial=True)
    # Every later command runs (before, the NaN and 1e8 limits made each of them fail).
    status = api.status(ws.store, datetime(2025, 10, 15)).to_pylist()
    _, results = api.score(ws.store, "2025-09", as_of=datetime(2025, 10, 15), unit=UNIT)
    assert [r["code"] for r in results] == [UNIT]
    # OK1 and OFF (received 08:00 local) are open, due 15/9: late at 15/10. OK2 ended the next day: early.
    assert {r["dossier_id"]: r["timeliness"] for r in status} == {"OK1": "pending_late", "OK2": "early",
                                                              "OFF": "pending_late"}
    assert (procs.files[0].inserted, procs.files[0].rejected) == (1, 6)
    assert (dossiers.files[0].inserted, dossiers.files[0].rejected) == (3, 12)
    # The big supplement count was a conversion traceback: now a rejected row like the others.
    big = ws.load("dossiers", [dossier("BIG", supplement_count="99999999999")], partial=True)
    assert [(r["dong"], r["dossier_id"]) for r in rejected_rows(big)] == [("2", "BIG")]


# --- item 8: personal data -------------------------------------------------------------------------------

PERSONAL_HEADERS = [
    "Họ tên người nộp", "Tên công dân", "Người đứng tên", "Số CMND/CCCD", "Số giấy tờ tùy thân", "Số hộ chiếu",
    "Passport", "Địa chỉ thường trú", "Nơi cư trú", "SĐT", "Số điện thoại liên hệ", "Email người nộp", "Ngày sinh",
    "Giới tính", "Mã số thuế cá nhân", "Số định danh cá nhân", "Chủ hồ sơ", "Người nộp hồ sơ", "Họ và tên",
    "Full name", "Mobile", "Tel", "ID card", "Citizen ID", "Date of birth", "Gender", "Home address", "E-mail",
    "Điện thoại di động", "Quốc tịch", "applicant_name", "phone_number",
]


def personal_value(i: int) -> str:
    return f"Nguyễn Thị Bí Mật {i:02d} 09{i:08d}"


def personal_file(path: Path, rows: list[dict[str, str]]) -> Path:
    full = []
    for row in rows:
        full.append(row | {h: personal_value(i) for i, h in enumerate(PERSONAL_HEADERS)})
    return write_csv(path, full)


def test_every_common_spelling_of_personal_data_is_recognised_and_never_stored(ws: Workspace,
                                                                                tmp_path: Path) -> None:
    ws.load("procedures", [PROC])
    path = personal_file(tmp_path / "hoso.csv", [dossier("D1"), dossier("D2")])
    report = api.load(ws.store, [path])
    assert report.files[0].personal_columns == PERSONAL_HEADERS
    assert report.files[0].ignored_columns == []
    assert report.files[0].inserted == 2
    ws.store.con.execute("CHECKPOINT")
    raw = b"".join(p.read_bytes() for p in ws.store.workspace.rglob("*") if p.is_file())
    for i in range(len(PERSONAL_HEADERS)):
        assert personal_value(i).encode() not in raw


def test_contract_aliases_win_over_personal_phrases(ws: Workspace, tmp_path: Path) -> None:
    # "Mã định danh" is the units table's alias of `code`, though "định danh" marks personal data elsewhere.
    path = write_csv(tmp_path / "donvi.csv", [{"Mã định danh": "XNEW", "Tên đơn vị": "Xã Mới", "Cấp": "xã",
                                               "Mã cấp trên": "14", "Số định danh cá nhân": "001099012345"}])
    report = api.load(ws.store, [path], table="units")
    assert report.files[0].personal_columns == ["Số định danh cá nhân"]
    assert ws.store.con.execute("SELECT name FROM units WHERE code = 'XNEW'").fetchone() == ("Xã Mới",)


def test_no_error_message_quotes_a_personal_value(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", [PROC])
    path = personal_file(tmp_path / "hoso.csv", [dossier("D1"), dossier("D2", received_at="hôm qua"),
                                                 dossier("D3", channel="fax")])
    ragged = tmp_path / "ragged.csv"
    text = path.read_text(encoding="utf-8").splitlines()
    ragged.write_text("\n".join([*text, text[1] + ",thừa"]) + "\n", encoding="utf-8")  # pyarrow's message quotes rows
    cp1258 = tmp_path / "cp1258.csv"
    # The encoding hint used to print the row decoded as Windows-1258, the applicant's name included.
    cp1258.write_bytes("\n".join(text[:2]).encode() + b"\n" + text[1].replace("D1", "D9").encode("cp1258", "replace")
                       + b"\n")
    messages: list[str] = []
    for file in (path, ragged, cp1258):
        with pytest.raises(LoadError) as info:
            api.load(ws.store, [file])
        messages += [str(info.value), *(str(i) for i in info.value.report.issues)]
    assert_no_personal_value(messages)
    assert any("hoso.csv:3: received_at: 'hôm qua' không phải ngày giờ hợp lệ" in m for m in messages)
    assert any("ragged.csv:5: (dòng): dòng có 38 trường nhưng tiêu đề có 37 cột" in m for m in messages)
    assert any("cp1258.csv:3: Họ tên người nộp: tệp không phải UTF-8 (byte 0xED)" in m for m in messages)
    # The rejected-rows files hold the contract columns of the rejected rows, never the personal ones.
    for file in (path, ragged, cp1258):
        report = api.load(ws.store, [file], partial=True)
        assert report.files[0].rejected_file is not None
        messages.append(report.files[0].rejected_file.read_text(encoding="utf-8"))
    assert_no_personal_value(messages)


def assert_no_personal_value(messages: list[str]) -> None:
    for m in messages:
        for i in range(len(PERSONAL_HEADERS)):
            assert personal_value(i) not in m
        assert "Bí M" not in m  # nor a part of one, decoded as another code page


# --- the one place that lists the bounds -----------------------------------------------------------------


def test_docs_list_every_bound_of_the_contract_and_every_limit() -> None:
    """docs/loading.md shows the bounds table made from the contract, so a new bound cannot go undocumented."""
    loading = (DOCS / "loading.md").read_text(encoding="utf-8")
    assert rules_table(TABLES.values()) in loading
    configuration = (DOCS / "configuration.md").read_text(encoding="utf-8")
    for name, spec in Limits.__dataclass_fields__.items():
        assert f"| `{name}` | {spec.default} |" in loading
        assert f"| `{name}` | {spec.default} |" in configuration
        assert f"{name} = {spec.default}" in configuration


def test_an_unreadable_file_with_partial_is_named_not_sent_back_to_partial(ws: Workspace, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from chiso.cli import main

    bad = tmp_path / "hong.xlsx"
    bad.write_bytes(b"not a zip at all")
    workspace = ws.store.workspace
    ws.store.close()
    result = CliRunner().invoke(main, ["-w", str(workspace), "load", "--partial", str(bad)])
    assert result.exit_code == 1
    assert "không đọc được hong.xlsx" in result.output
    assert "dùng --partial" not in result.output
