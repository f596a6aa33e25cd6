"""Daily use by office staff (issue 9), through the real command line: corrections that lose nothing, one dossier
and its versions, a publication fingerprint over every input, the period and moment forms people type, wrong
input as an error, and a command line that speaks Vietnamese end to end.

Expected values come from the files the tests write and from the rules in docs/cli.md and docs/loading.md."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from chiso import api
from chiso.cli import main
from conftest import UNIT, Workspace, write_csv

PROC = {"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": "5", "time_unit": "working_days"}
FULL = {"dossier_id": "H1", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
        "submitted_at": "2025-09-07 20:00", "received_at": "2025-09-08 09:00", "due_at": "2025-09-15 17:00",
        "fee_amount": "50000", "paid_online": "true", "e_result": "true", "digitized": "true",
        "reused_data": "false", "synced_to_portal": "true", "rating": "satisfied", "officer": "Nguyễn Văn A",
        "updated_at": "2025-09-08 09:00"}


def run(ws: Workspace | Path, *args: str, code: int = 0) -> Result:
    path = ws.store.workspace if isinstance(ws, Workspace) else ws
    r = CliRunner().invoke(main, ["--workspace", str(path), *args])
    assert r.exit_code == code, (r.exit_code, r.output, r.stderr if r.stderr_bytes is not None else "")
    return r


def closed(ws: Workspace) -> Workspace:
    ws.store.close()
    return ws


def show(ws: Workspace, dossier_id: str) -> dict[str, Any]:
    return dict(json.loads(run(ws, "dossier", "show", dossier_id, "--as-of", "2025-09-30 17:00",
                               "--format", "json").stdout))


# --- item 2: corrections lose nothing ----------------------------------------------------------------------


def test_a_correction_with_fewer_columns_changes_only_its_columns(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL])
    closed(ws)
    before = show(ws, "H1")["fields"]
    fix = write_csv(ws.tmp / "sua.csv", [{"dossier_id": "H1", "unit_code": UNIT, "procedure_code": "P5",
                                          "channel": "online", "received_at": "2025-09-08 09:00",
                                          "finished_at": "2025-09-12 10:00"}])
    out = run(ws, "load", str(fix)).stdout
    assert "cập nhật 1" in out and "xoá" not in out
    after = show(ws, "H1")["fields"]
    assert after["finished_at"] == "2025-09-12 10:00:00"
    for field, value in before.items():  # field by field: nothing else moved
        if field != "finished_at":
            assert after[field] == value, field
    assert after["due_at"] == "2025-09-15 17:00:00" and after["e_result"] is True and after["digitized"] is True
    assert after["paid_online"] is True and after["officer"] == "Nguyễn Văn A" and after["fee_amount"] == 50000


def test_an_empty_cell_clears_an_optional_field_and_is_counted(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL, FULL | {"dossier_id": "H2"}])
    closed(ws)
    fix = write_csv(ws.tmp / "xoa.csv", [
        {"dossier_id": "H1", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
         "received_at": "2025-09-08 09:00", "officer": "", "rating": ""},
        {"dossier_id": "H2", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
         "received_at": "2025-09-08 09:00", "officer": "Trần Thị B", "rating": ""}])
    out = run(ws, "load", str(fix)).stdout
    assert "xoá 3 giá trị theo ô để trống" in out  # H1: officer, rating; H2: rating
    h1, h2 = show(ws, "H1")["fields"], show(ws, "H2")["fields"]
    assert h1["officer"] is None and h1["rating"] is None and h1["due_at"] == "2025-09-15 17:00:00"
    assert h2["officer"] == "Trần Thị B" and h2["e_result"] is True


def test_a_required_column_cannot_be_cleared(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL])
    closed(ws)
    fix = write_csv(ws.tmp / "sai.csv", [{"dossier_id": "H1", "unit_code": UNIT, "procedure_code": "P5",
                                          "channel": "", "received_at": "2025-09-08 09:00"}])
    r = run(ws, "load", str(fix), code=1)
    assert "sai.csv:2: channel: thiếu giá trị bắt buộc" in r.stderr
    assert show(ws, "H1")["fields"]["channel"] == "online"


def test_checks_see_the_row_as_it_will_be_stored(ws: Workspace) -> None:
    """A correction of received_at alone is checked against the stored finished_at (the contract refuses a
    result before reception)."""
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL | {"finished_at": "2025-09-10 10:00"}])
    closed(ws)
    fix = write_csv(ws.tmp / "sua.csv", [{"dossier_id": "H1", "unit_code": UNIT, "procedure_code": "P5",
                                          "channel": "online", "received_at": "2025-09-11 09:00"}])
    r = run(ws, "load", str(fix), code=1)
    assert "sua.csv:2:" in r.stderr and "finished_at" in r.stderr


@pytest.mark.postgres
def test_a_correction_loses_nothing_on_postgres(pg_ws: Workspace) -> None:
    from chiso import api

    pg_ws.load("procedures", [PROC])
    pg_ws.load("dossiers", [FULL])
    pg_ws.load("dossiers", [{"dossier_id": "H1", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
                             "received_at": "2025-09-08 09:00", "finished_at": "2025-09-12 10:00",
                             "officer": ""}])
    fields = api.dossier(pg_ws.store, "H1", as_of=datetime(2025, 9, 30, 17))["fields"]
    assert fields["finished_at"] == "2025-09-12 10:00:00" and fields["officer"] is None
    assert fields["due_at"] == "2025-09-15 17:00:00" and fields["e_result"] is True and fields["rating"] == "satisfied"


@pytest.mark.postgres
def test_status_on_postgres_names_the_officer_and_the_days_overdue(pg_schema: Any, pg_ws: Workspace) -> None:
    _three(pg_ws)
    r = CliRunner().invoke(main, ["--workspace", str(pg_ws.store.workspace), "--database", pg_schema.url, "status",
                                  "--as-of", "2025-09-19 17:00", "--format", "json", "--timeliness",
                                  "late,pending_late"])
    assert r.exit_code == 0, r.output
    rows = {x["dossier_id"]: x for x in json.loads(r.stdout)}
    assert sorted(rows) == ["H1", "H2"] and (rows["H1"]["days_overdue"], rows["H2"]["days_overdue"]) == (3, 4)
    assert rows["H1"]["officer"] == "Nguyễn Văn A" and rows["H2"]["unit_name"] == "Sở Tư pháp"


def test_dossier_history_lists_each_version_and_what_changed(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL])
    ws.load("dossiers", [{"dossier_id": "H1", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
                          "received_at": "2025-09-08 09:00", "finished_at": "2025-09-12 10:00",
                          "updated_at": "2025-09-12 10:00"}])
    closed(ws)
    versions = json.loads(run(ws, "dossier", "history", "H1", "--format", "json").stdout)
    assert [v["current"] for v in versions] == [False, True]
    assert {c["field"]: (c["before"], c["after"]) for c in versions[1]["changes"]} == {
        "finished_at": (None, "2025-09-12 10:00:00"), "updated_at": ("2025-09-08 09:00:00", "2025-09-12 10:00:00")}
    detail = show(ws, "H1")
    assert detail["timeliness"] == "early" and detail["due_at"] == "2025-09-15 17:00:00"
    assert [e["event"] for e in detail["timeline"]] == ["Tiếp nhận hồ sơ", "Có kết quả", "Hạn giải quyết"]
    assert len(detail["versions"]) == 2
    table = run(ws, "dossier", "history", "H1").stdout
    assert "Xử lý xong lúc: (trống) → 2025-09-12 10:00:00" in table and "2 dòng" in table
    xlsx = ws.tmp / "lich-su.xlsx"
    run(ws, "dossier", "history", "H1", "--format", "xlsx", "--out", str(xlsx))
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).active
    assert sheet is not None and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:H3"
    assert sheet["A1"].value == "Phiên bản" and sheet["A3"].value == 2 and sheet["F3"].value == "hiện hành"


def test_an_unknown_dossier_is_wrong_use(ws: Workspace) -> None:
    r = run(closed(ws), "dossier", "show", "KHONG-CO", code=2)
    assert "không có hồ sơ 'KHONG-CO'" in r.stderr


# --- item 3: the publication fingerprint covers every input ---------------------------------------------------


def _fingerprint(ws: Workspace) -> str:
    out = run(ws, "publish", "--period", "2025-09", "--as-of", "2025-10-05").stdout
    m = re.search(r"dấu vân tay dữ liệu ([0-9a-f]{16})", out)
    assert m, out
    return m[1]


CHANGES = [
    ("feedback", {"feedback_id": "F1", "unit_code": UNIT, "received_at": "2025-09-09 09:00", "status": "resolved"}),
    ("calendar", {"date": "2025-09-15", "kind": "holiday", "note": "Nghỉ bù"}),
    ("indicator_inputs", {"period": "2025-09", "unit_code": UNIT, "indicator": "PUBLIC_CONTENT_FULL",
                          "numerator": "5", "denominator": "10"}),
    ("procedures", PROC | {"name": "Thủ tục 5 ngày (sửa tên)"}),
]


def test_the_fingerprint_changes_with_every_input(ws: Workspace) -> None:
    """One row of each input table, loaded one after the other: each changes the fingerprint (a feedback row left it
    unchanged before issue 9); publishing again without a change gives the same one."""
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL])
    closed(ws)
    before = _fingerprint(ws)
    assert _fingerprint(ws) == before  # nothing changed, the same fingerprint
    for table, row in CHANGES:
        run(ws, "load", "--table", table, str(write_csv(ws.tmp / f"{table}.csv", [row])))
        now = _fingerprint(ws)
        assert now != before, table
        before = now


def test_the_fingerprint_changes_with_the_configuration(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL])
    closed(ws)
    first = _fingerprint(ws)
    (ws.store.workspace / "chiso.toml").write_text("[calendar]\nyears = [2016, 2035]\n", encoding="utf-8")
    assert _fingerprint(ws) != first


# --- item 8: what people type ------------------------------------------------------------------------------


def test_period_forms_score_the_same_period(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL])
    closed(ws)
    for canonical_text, forms in (("2025-09", ["09/2025", "9/2025", "tháng 9/2025"]),
                                  ("2025-Q3", ["Q3/2025", "quý III/2025", "Quý 3 năm 2025", "2025-q3"])):
        canonical = run(ws, "score", "--period", canonical_text, "--unit", UNIT, "--as-of", "2025-09-30",
                        "--format", "json").stdout
        assert json.loads(canonical)[0]["period"] == canonical_text
        for text in forms:
            assert run(ws, "score", "--period", text, "--unit", UNIT, "--as-of", "2025-09-30", "--format",
                       "json").stdout == canonical, text


@pytest.mark.parametrize("text", ["13/2025", "quý V/2025", "2025-13"])
def test_a_period_that_is_none_is_wrong_use(ws: Workspace, text: str) -> None:
    r = run(closed(ws), "score", "--period", text, code=2)
    assert "không phải kỳ" in r.stderr and "quý III/2025" in r.stderr


def test_iso_moments_with_an_offset_are_local_time(ws: Workspace) -> None:
    """Due 15/09 17:00; unfinished. At 17:00 local it is still on time (pending); one minute later, late."""
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL])
    closed(ws)

    def timeliness(moment: str) -> str:
        rows = json.loads(run(ws, "status", "--as-of", moment, "--format", "json").stdout)
        return str(rows[0]["timeliness"])

    assert timeliness("2025-09-15 17:00") == "pending"
    assert timeliness("2025-09-15T17:00:00+07:00") == "pending"
    assert timeliness("2025-09-15T10:00:00Z") == "pending"
    assert timeliness("2025-09-15T10:01:00Z") == "pending_late"
    assert timeliness("2025-09-15T17:01:00+07:00") == "pending_late"


# --- item 9: wrong input is an error -------------------------------------------------------------------------


def test_a_unit_may_be_named_and_an_unknown_one_is_wrong_use(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL])
    closed(ws)
    by_code = run(ws, "status", "--as-of", "2025-09-30", "--unit", UNIT, "--format", "json").stdout
    assert json.loads(by_code)[0]["dossier_id"] == "H1"
    for name in ("Sở Tư pháp", "SỞ TƯ PHÁP TỈNH SƠN LA", "So Tu phap"):
        assert run(ws, "status", "--as-of", "2025-09-30", "--unit", name, "--format", "json").stdout == by_code
    r = run(ws, "status", "--unit", "Sở Không Có", code=2)
    assert "không nhận ra đơn vị 'Sở Không Có'" in r.stderr and "gần nhất:" in r.stderr
    r = run(ws, "score", "--period", "2025-09", "--unit", "XYZ.999", code=2)
    assert "gần nhất:" in r.stderr


def test_a_missing_workspace_is_an_error_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "khong-co"
    for args in (["status"], ["score", "--period", "2025-09"], ["units", "list"], ["audit"]):
        r = run(missing, *args, code=2)
        assert "không có thư mục dữ liệu" in r.stderr
    assert not missing.exists()


# --- item 7: the command line speaks Vietnamese ----------------------------------------------------------------

ENGLISH = re.compile(r"\b(Usage|Options|Commands|Error|Invalid value|Missing (option|argument|parameter)|required|"
                     r"default|Show this message|TEXT|INTEGER|FLOAT|OPTIONS|COMMAND|ARGS|FILE|DIRECTORY|PATH|"
                     r"Try '|No such (option|command)|is not one of|Got unexpected)\b")


def _commands(cmd: click.Command, path: list[str]) -> list[list[str]]:
    out = [path]
    if isinstance(cmd, click.Group):
        for name, sub in sorted(cmd.commands.items()):
            out += _commands(sub, [*path, name])
    return out


@pytest.mark.parametrize("path", _commands(main, []), ids=lambda p: " ".join(p) or "chiso")
def test_every_help_is_vietnamese_with_an_example(path: list[str]) -> None:
    r = CliRunner().invoke(main, [*path, "--help"])
    assert r.exit_code == 0
    assert "Cách dùng:" in r.stdout and "Ví dụ:" in r.stdout
    assert not ENGLISH.search(r.stdout), ENGLISH.search(r.stdout)


@pytest.mark.parametrize("args", [
    ["score"],  # a required option missing
    ["score", "--period", "2025-09", "--format", "x"],  # a value not among the choices
    ["scor"],  # no such command
    ["status", "--no-such-option"],
    ["load"],  # a required argument missing
    ["explain", "--unit", "U", "--period", "2025-09", "--limit", "nhiều"],  # not a number
])
def test_framework_errors_are_vietnamese(tmp_path: Path, args: list[str]) -> None:
    r = CliRunner().invoke(main, ["--workspace", str(tmp_path), *args])
    assert r.exit_code == 2
    assert "Lỗi:" in r.stderr and "Cách dùng:" in r.stderr
    assert not ENGLISH.search(r.stderr), (ENGLISH.search(r.stderr), r.stderr)


# --- items 4, 5, 6: tables in every format, status filters, score change, compare -----------------------------

def _status_rows(ws: Workspace, *args: str) -> list[dict[str, Any]]:
    return list(json.loads(run(ws, "status", "--format", "json", *args).stdout))


def _three(ws: Workspace) -> Workspace:
    """Due Monday 15/09/2025 17:00 (5 working days from Monday 08/09): H1 finished Thursday 18/09 (3 working days
    late), H2 still open, H3 finished on time."""
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL | {"finished_at": "2025-09-18 10:00"}, FULL | {"dossier_id": "H2"},
                         FULL | {"dossier_id": "H3", "finished_at": "2025-09-12 10:00"}])
    return closed(ws)


def test_status_names_officer_and_working_days_overdue(ws: Workspace) -> None:
    rows = {r["dossier_id"]: r for r in _status_rows(_three(ws), "--as-of", "2025-09-19 17:00")}
    assert rows["H1"]["timeliness"] == "late" and rows["H1"]["days_overdue"] == 3  # 16, 17, 18 September
    assert rows["H2"]["timeliness"] == "pending_late" and rows["H2"]["days_overdue"] == 4  # to Friday 19/09
    assert rows["H3"]["timeliness"] == "early" and rows["H3"]["days_overdue"] is None
    assert rows["H1"]["unit_name"] == "Sở Tư pháp" and rows["H1"]["procedure_name"] == "Thủ tục 5 ngày"
    assert rows["H1"]["officer"] == "Nguyễn Văn A"


def test_status_filters_by_timeliness_and_due_within(ws: Workspace) -> None:
    _three(ws)
    late = _status_rows(ws, "--as-of", "2025-09-19 17:00", "--timeliness", "late,pending_late")
    assert sorted(r["dossier_id"] for r in late) == ["H1", "H2"]
    assert [r["dossier_id"] for r in _status_rows(ws, "--as-of", "2025-09-19 17:00", "--timeliness", "quá hạn")] \
        == ["H1"]
    # On Wednesday 10/09 at 17:00 all three are open and due Monday 15/09: 3 working days ahead (11, 12, 15).
    assert sorted(r["dossier_id"] for r in _status_rows(ws, "--as-of", "2025-09-10 17:00", "--due-within", "3")) \
        == ["H1", "H2", "H3"]
    assert _status_rows(ws, "--as-of", "2025-09-10 17:00", "--due-within", "2") == []
    r = run(ws, "status", "--timeliness", "muộn", code=2)
    assert "không có tình trạng 'muộn'" in r.stderr


def test_status_table_is_drawn_with_vietnamese_headers_and_the_true_count(ws: Workspace) -> None:
    out = run(_three(ws), "status", "--as-of", "2025-09-19 17:00", "--format", "table").stdout
    assert "Mã hồ sơ" in out and "Số ngày làm việc quá hạn" in out and "Quá hạn" in out and "3 dòng" in out
    assert "18/09/2025 10:00" in out and "┌" not in out.split("\n")[0]  # rich, not the database's own box


def test_tables_as_excel_workbooks_and_csv_with_a_bom(ws: Workspace) -> None:
    from openpyxl import load_workbook

    _three(ws)
    book = ws.tmp / "tinh-trang.xlsx"
    run(ws, "status", "--as-of", "2025-09-19 17:00", "--format", "xlsx", "--out", str(book))
    sheet = load_workbook(book).active
    assert sheet is not None and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:K4"
    header = [c.value for c in sheet[1]]
    assert header[0] == "Mã hồ sơ" and "Số ngày làm việc quá hạn" in header
    row = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    assert row["Mã hồ sơ"] == "H1" and row["Số ngày làm việc quá hạn"] == 3  # a number, not text
    assert row["Hạn giải quyết"] == datetime(2025, 9, 15, 17, 0) and row["Tình trạng"] == "Quá hạn"
    csv_file = ws.tmp / "tinh-trang.csv"
    run(ws, "status", "--as-of", "2025-09-19 17:00", "--out", str(csv_file))
    assert csv_file.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the Vietnamese names
    assert not run(ws, "status", "--as-of", "2025-09-19 17:00").stdout_bytes.startswith(b"\xef\xbb\xbf")
    for args, first in ((["units", "list", "--level", "department"], "Mã"),
                        (["rules", "show", "vn-766-2026"], "Nhóm"),
                        (["score", "--period", "2025-09", "--as-of", "2025-09-30"], "Hạng"),
                        (["explain", "--unit", UNIT, "--period", "2025-09", "--as-of", "2025-09-30"], "Chỉ số")):
        out = ws.tmp / f"{args[0]}.xlsx"
        run(ws, *args, "--format", "xlsx", "--out", str(out))
        sheet = load_workbook(out).worksheets[0]
        assert sheet.freeze_panes == "A2" and sheet["A1"].value == first, args
    score = load_workbook(ws.tmp / "score.xlsx")
    assert score.sheetnames == ["Xếp hạng", "Chi tiết"]
    ranking = [[c.value for c in r] for r in score["Xếp hạng"].iter_rows(min_row=2)]
    stp = next(r for r in ranking if r[1] == UNIT)
    assert isinstance(stp[0], int) and isinstance(stp[-4], float)  # rank and total are numbers


def test_score_shows_the_change_against_the_previous_month(ws: Workspace) -> None:
    """H3 (received and finished early in September) against an August without dossiers: the progress indicator
    goes from 0 (no dossier, no points) to 20 of 20."""
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL | {"dossier_id": "H3", "finished_at": "2025-09-12 10:00"}])
    closed(ws)
    csv_text = run(ws, "score", "--period", "2025-09", "--unit", UNIT, "--as-of", "2025-09-30", "--format",
                   "csv").stdout
    import csv as csvlib
    import io

    rows = {r["item"]: r for r in csvlib.DictReader(io.StringIO(csv_text))}
    assert rows["PROGRESS_ON_TIME"]["item_name"] == "Hồ sơ giải quyết đúng hạn và đang giải quyết trong hạn"
    assert float(rows["PROGRESS_ON_TIME"]["score"]) == 20.0 and float(rows["PROGRESS_ON_TIME"]["previous_score"]) == 0
    assert float(rows["PROGRESS_ON_TIME"]["change"]) == 20.0
    total = rows["TOTAL"]
    assert float(total["change"]) == float(total["score"]) - float(total["previous_score"])
    table = run(ws, "score", "--period", "2025-09", "--unit", UNIT, "--as-of", "2025-09-30").stdout
    assert "Kỳ trước" in table and "Thay đổi" in table and "+20,00" in table and "so với kỳ trước" in table


def test_compare_two_months_names_the_dossiers_behind_a_shortfall(ws: Workspace) -> None:
    _three(ws)
    data = json.loads(run(ws, "compare", "--period", "2025-09", "--with", "2025-08", "--unit", "Sở Tư pháp",
                          "--as-of", "2025-09-30", "--format", "json").stdout)
    assert data["unit"] == UNIT and data["period"] == "2025-09" and data["with"] == "2025-08"
    progress = next(i for i in data["indicators"] if i["code"] == "PROGRESS_ON_TIME")
    # September: H1 late, H2 open and late at 30/09, H3 early: 1 of 3 on time -> 20 x 1/3 = 6,67; August: none.
    assert (progress["numerator_now"], progress["denominator_now"]) == (1, 3)
    assert progress["score_now"] == 6.67 and progress["score_then"] == 0 and progress["change"] == 6.67
    assert sorted(progress["items_now"]) == ["H1", "H2"]
    assert data["change"] == round(data["total_now"] - data["total_then"], 2)
    table = run(ws, "compare", "--period", "09/2025", "--with", "08/2025", "--as-of", "2025-09-30").stdout
    assert "Tỉnh Sơn La: kỳ 2025-09 so với kỳ 2025-08" in table and "Đơn vị tăng, giảm nhiều nhất" in table
    assert "Sở Tư pháp" in table  # the department that moved


# --- item 1: units by name, mapping profiles -------------------------------------------------------------------


def test_units_given_by_name_are_matched_and_a_doubtful_one_is_refused(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    closed(ws)
    rows = [FULL | {"dossier_id": "N1", "unit_code": "Sở Tư pháp"},
            FULL | {"dossier_id": "N2", "unit_code": "UBND PHƯỜNG TÔ HIỆU"},
            FULL | {"dossier_id": "N3", "unit_code": "P. To Hieu"}]
    r = run(ws, "load", str(write_csv(ws.tmp / "ten.csv", rows)))
    assert "'Sở Tư pháp' → 14.STP" in r.stderr and "'P. To Hieu' → 03646" in r.stderr
    assert {k: show(ws, k)["unit_code"] for k in ("N1", "N2", "N3")} == {"N1": UNIT, "N2": "03646", "N3": "03646"}
    bad = write_csv(ws.tmp / "sai.csv", [FULL | {"dossier_id": "N4", "unit_code": "UBND xã Chiềng Khoong Có"}])
    r = run(ws, "load", str(bad), code=1)
    assert "sai.csv:2: unit_code: 'UBND xã Chiềng Khoong Có' không có trong danh mục đơn vị; gần nhất: " in r.stderr


def test_a_mapping_profile_is_saved_once_and_reused(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    closed(ws)
    mapping = ws.tmp / "anh-xa.toml"
    mapping.write_text('[dossiers]\n"Số biên nhận" = "dossier_id"\n"Cơ quan xử lý" = "unit_code"\n', encoding="utf-8")

    def export(did: str) -> Path:
        return write_csv(ws.tmp / f"xuat-{did}.csv", [{"Số biên nhận": did, "Cơ quan xử lý": "Sở Tư pháp",
                                                        "Mã TTHC": "P5", "Kênh thực hiện": "online",
                                                        "Ngày tiếp nhận": "08/09/2025 09:00"}])

    out = run(ws, "load", str(export("M1")), "--mapping", str(mapping), "--save-profile", "mot-cua").stdout
    assert "Đã lưu hồ sơ ánh xạ 'mot-cua'" in out
    assert (ws.store.workspace / "profiles" / "mot-cua.toml").is_file()
    run(ws, "load", str(export("M2")), "--profile", "mot-cua")
    assert show(ws, "M2")["unit_code"] == UNIT
    r = run(ws, "load", str(export("M3")), "--profile", "khong-co", code=1)
    assert "không có hồ sơ ánh xạ 'khong-co'" in r.stderr and "mot-cua" in r.stderr
    wrong = ws.tmp / "sai.toml"
    wrong.write_text('[dossiers]\n"Số biên nhận" = "ma_ho_so"\n', encoding="utf-8")
    r = run(ws, "load", str(export("M4")), "--mapping", str(wrong), code=1)
    assert "không có cột 'ma_ho_so' trong bảng dossiers" in r.stderr


# --- items 10, 11: progress stays off a non-terminal; numbers in one format -------------------------------------


def test_no_progress_bar_when_not_on_a_terminal(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    closed(ws)
    r = run(ws, "load", str(write_csv(ws.tmp / "d.csv", [FULL])))
    assert r.stderr == "" and "Nạp d.csv" not in r.stdout and "━" not in r.stdout


def test_one_vietnamese_number_format() -> None:
    from chiso import vnformat
    from chiso.reports.numbers import NumberFormat

    assert (vnformat.integer(13597), vnformat.number(71.315), vnformat.number(60.9, trim=True)) == \
        ("13.597", "71,32", "60,9")  # half up, as the index rules round
    assert vnformat.percent(0.83125) == "83,13%" and vnformat.integer(1234567) == "1.234.567"
    assert NumberFormat().fixed(99.0) == "99,00" and NumberFormat(".", ",").number(1234.5) == "1,234.5"


def test_report_unit_takes_unit_like_every_command(ws: Workspace) -> None:
    ws.load("procedures", [PROC])
    ws.load("dossiers", [FULL])
    closed(ws)
    out = run(ws, "report", "unit", "--unit", "Sở Tư pháp", "--period", "09/2025", "--as-of", "2025-09-30",
              "--date", "06/10/2025", "--out", str(ws.tmp / "vb"), "--no-pdf").stdout
    assert "cong-van-don-vi-14.STP-2025-09.docx" in out
    r = run(ws, "report", "unit", "03646", "--unit", "14.STP", "--period", "2025-09", "--out", str(ws.tmp / "vb"),
            code=2)
    assert "hai đơn vị khác nhau" in r.stderr


def test_a_real_one_stop_export_loads(ws: Workspace) -> None:
    """tests/data/office/mot-cua-ten-don-vi.xls: an .xls as a one-stop system exports it (written with openpyxl,
    converted by LibreOffice Calc 7.4 with ``soffice --headless --convert-to xls``): a title block of 4 rows
    ("ỦY BAN NHÂN DÂN TỈNH SƠN LA", a merged "DANH SÁCH HỒ SƠ …", the export date, a blank row), the header on row
    5 with a serial-number column and the applicant's name, and the units by name, as they are written."""
    ws.load("procedures", [PROC])
    closed(ws)
    export = Path(__file__).parent / "data" / "office" / "mot-cua-ten-don-vi.xls"
    r = run(ws, "load", str(export))
    assert "thêm 4" in r.stdout and "loại 0" in r.stdout
    assert "bỏ qua 4 dòng tiêu đề phía trên (dòng tiêu đề cột là dòng 5)" in r.stderr
    assert "bỏ qua cột dữ liệu cá nhân (không lưu): Họ tên người nộp" in r.stderr
    units = {k: show(ws, k)["unit_code"] for k in ("H53-250908-0001", "H53-250909-0002", "H53-250910-0003",
                                                       "H53-250911-0004")}
    assert units == {"H53-250908-0001": UNIT, "H53-250909-0002": "03646", "H53-250910-0003": "03679",
                     "H53-250911-0004": "03667"}  # Sở Tư pháp, phường Tô Hiệu, phường Chiềng Sinh, phường Chiềng An
    h2 = show(ws, "H53-250909-0002")["fields"]
    assert h2["channel"] == "direct" and h2["due_at"] == "2025-09-16 10:30:00"
    assert "Lê Thị Bình" not in json.dumps(show(ws, "H53-250909-0002"), ensure_ascii=False)  # never stored


def test_reading_commands_run_beside_another_reader_and_name_a_writer(ws: Workspace) -> None:
    """Reading commands open the DuckDB store read-only (issue 9, item 9): they run while another process reads
    it, and a process writing it gives the Vietnamese busy message (status 75), not a DuckDB error."""
    import subprocess
    import sys

    _three(ws)
    run(ws, "status", "--as-of", "2025-09-19 17:00")  # the derived tables are up to date from here on
    db = ws.store.workspace / "chiso.duckdb"
    for read_only, code in ((True, 0), (False, 75)):
        holder = subprocess.Popen(
            [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only="
             f"{read_only}); print('ready', flush=True); time.sleep(30)", str(db)],
            stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
            r = run(ws, "status", "--as-of", "2025-09-19 17:00", "--format", "json", code=code)
            if read_only:
                assert len(json.loads(r.stdout)) == 3
                run(ws, "score", "--period", "2025-09", "--as-of", "2025-09-30", "--unit", UNIT)
            else:
                assert "đang được một tiến trình khác dùng" in r.stderr
        finally:
            holder.kill()
            holder.wait()


def test_hostile_values_stay_text_in_every_table_format(ws: Workspace) -> None:
    """An officer's name that is a formula, markup or a template expression is shown as typed: on the terminal (no
    rich markup), in the CSV (neutralised) and in the workbook (a text cell, never a formula)."""
    from openpyxl import load_workbook

    ws.load("procedures", [PROC | {"name": "[bold red]Thủ tục[/] <b>&amp;</b> {{ 7*7 }}"}])
    ws.load("dossiers", [FULL | {"officer": "=HYPERLINK(\"http://x\",\"y\")"}])
    closed(ws)
    table = run(ws, "status", "--as-of", "2025-09-19 17:00", "--format", "table").stdout
    assert "[bold red]Thủ tục[/]" in table and "{{ 7*7 }}" in table and "<b>&amp;</b>" in table
    csv_out = run(ws, "status", "--as-of", "2025-09-19 17:00").stdout
    assert "'=HYPERLINK" in csv_out
    book = ws.tmp / "h.xlsx"
    run(ws, "status", "--as-of", "2025-09-19 17:00", "--format", "xlsx", "--out", str(book))
    sheet = load_workbook(book).active
    assert sheet is not None
    officer = sheet["K2"]
    assert officer.value == "=HYPERLINK(\"http://x\",\"y\")" and officer.data_type == "s"
    assert sheet["E2"].value == "[bold red]Thủ tục[/] <b>&amp;</b> {{ 7*7 }}"


def test_a_saved_profile_reads_back_whatever_its_headers_hold(tmp_path: Path) -> None:
    """Headers with quotes, backslashes, line breaks, formulas or markup are written as TOML strings that read
    back to the same text: a profile never breaks nor changes what it maps."""
    from chiso.load.profiles import Profile, load_profile, save_profile

    mapping = {"dossiers": {'Số "biên"\nnhận\\': "dossier_id", "=1+1 [b]{{x}}": "unit_code"}}
    save_profile(tmp_path, Profile("mot-cua", mapping, "cp1258", "dossiers", 'xuất "Excel"'))
    assert load_profile(tmp_path, "mot-cua") == Profile("mot-cua", mapping, "cp1258", "dossiers", 'xuất "Excel"')
    for bad in ("../ra-ngoai", "a/b", ""):
        with pytest.raises(Exception, match="không hợp lệ"):
            save_profile(tmp_path, Profile(bad))


def test_one_dossier_s_status_is_its_row_of_the_whole_status(ws: Workspace) -> None:
    """`dossier show` (and the web's dossier page) computes its dossier alone: at 3·10⁷ dossiers the whole table
    took 1.2 s and 1.3 GB per page. What it says must be what `chiso status` says of that dossier, pauses included,
    for an id with a quote in it as well (the id is written into the query as a literal)."""
    ws.load("procedures", [PROC])
    base = {"unit_code": UNIT, "procedure_code": "P5", "channel": "online", "received_at": "2025-09-08 09:00"}
    ws.load("dossiers", [
        {**base, "dossier_id": "H1", "finished_at": "2025-09-10 10:00"},  # two days into five: early
        {**base, "dossier_id": "H'2"},  # open three weeks on: late in progress
        {**base, "dossier_id": "H3", "finished_at": "2025-09-25 10:00"},
        {**base, "dossier_id": "H4", "received_at": "2025-09-29 09:00"},  # open one day: in progress in time
    ])
    ws.load("pauses", [{"dossier_id": "H3", "kind": "supplement", "started_at": "2025-09-09 09:00",
                        "ended_at": "2025-09-22 09:00"}])
    whole = ws.status("2025-09-30 17:00")
    one = {did: api.dossier(ws.store, did, as_of=datetime(2025, 9, 30, 17)) for did in whole}
    assert sorted(one) == ["H'2", "H1", "H3", "H4"]
    assert [one[d]["timeliness"] for d in ("H1", "H'2", "H4")] == ["early", "pending_late", "pending"]
    for did, row in whole.items():
        assert one[did]["timeliness"] == row["timeliness"], did
        assert one[did]["due_at"] == str(row["due_at"]), did
        assert one[did]["supplements"] == row["supplements"], did
