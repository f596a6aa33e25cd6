"""The whole quarterly administrative-reform report of seed 003_… (issue 10 item 10): Biểu mẫu 1-7, the input
workbook (empty -> filled in the test -> used; what is missing listed), hostile input workbooks, the narrative
report (sections I-V) with the forms' figures, no district rows after 1/7/2025. Expected figures are worked out
by hand from the rules; the province, procedures, dossiers and feedback are those of test_cchc.py.

Evaluations (Biểu mẫu 1, 6.1 = citizens' forms of the window + ratings on dossiers received in the window without
such a form), 2025-Q3 Decree 09 window 15/06..14/09/2025:
  E1 S1 citizen 06/07 (counted), E2 X1 citizen 06/08 (counted), E3 S2 self (not a citizen's form),
  E4 S8 citizen 10/06 (before the window); ratings: S1 (has a citizen form: not twice), X2 (counted),
  S4 (received 01/06: before the window) -> 6.1 = 2 + 1 = 3, row 6 = 1 (Có).
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from chiso.cli import main
from chiso.config import Config, ConfigError
from chiso.reports import cchc
from chiso.reports.cchc import InputError, build_forms, read_inputs
from chiso.reports.documents import write_cchc
from conftest import Workspace
from docs_reader import docx_lines
from test_cchc import DOSSIERS, load_province

LETTER = date(2025, 9, 20)
RATED = {"S1": "satisfied", "X2": "dissatisfied", "S4": "satisfied"}
EVALUATIONS = [
    {"dossier_id": "S1", "unit_code": "14.STP", "evaluated_at": "2025-07-06 09:00", "evaluator": "citizen",
     "i1": 2, "i7": 2},
    {"dossier_id": "X1", "unit_code": "03646", "evaluated_at": "2025-08-06 09:00", "evaluator": "citizen",
     "i1": 2, "i7": 2},
    {"dossier_id": "S2", "unit_code": "14.STP", "evaluated_at": "2025-07-11 09:00", "evaluator": "self", "i1": 1},
    {"dossier_id": "S8", "unit_code": "14.STP", "evaluated_at": "2025-06-10 09:00", "evaluator": "citizen",
     "i1": 2},
]


def load_all(ws: Workspace) -> None:
    load_province(ws)
    ws.load("dossiers", [{**d, "rating": RATED.get(d["dossier_id"], "")} for d in DOSSIERS])
    ws.load("evaluations", EVALUATIONS)


def value_rows(path: Path, sheet: str) -> dict[str, Any]:
    """{STT: cell of "Số liệu"} of a form sheet of the written workbook."""
    ws = load_workbook(path)[sheet]
    return {str(ws.cell(r, 1).value): ws.cell(r, 4) for r in range(9, ws.max_row + 1) if ws.cell(r, 1).value}


def fill(path: Path, cells: dict[tuple[str, str], Any], texts: dict[str, str] | None = None) -> None:
    """Type figures into an input workbook as a person would, by sheet and STT."""
    wb = load_workbook(path)
    for (sheet, code), value in cells.items():
        ws = wb[sheet]
        row = next(r for r in range(6, ws.max_row + 1) if ws.cell(r, 1).value == code)
        ws.cell(row, 4).value = value
    for code, text in (texts or {}).items():
        ws = wb["Nội dung báo cáo"]
        row = next(r for r in range(6, ws.max_row + 1) if ws.cell(r, 1).value == code)
        ws.cell(row, 3).value = text
    wb.save(path)


TYPED = {
    ("Biểu mẫu 1", "1"): 85, ("Biểu mẫu 1", "2.1"): 81, ("Biểu mẫu 1", "2.2"): 19,
    ("Biểu mẫu 1", "5.1"): 23, ("Biểu mẫu 1", "5.2"): 17, ("Biểu mẫu 1", "5.3"): 0, ("Biểu mẫu 1", "5.4"): 0,
    ("Biểu mẫu 2", "1.1"): 3, ("Biểu mẫu 2", "1.3"): 2,
    ("Biểu mẫu 6", "1.1"): "3.989.325", ("Biểu mẫu 6", "1.2"): 454142,
    ("Biểu mẫu 6", "2.2"): 11, ("Biểu mẫu 6", "2.3"): 36, ("Biểu mẫu 6", "2.4.1"): 0, ("Biểu mẫu 6", "2.4.2"): 9,
    ("Biểu mẫu 6", "2.4.3"): 17, ("Biểu mẫu 6", "2.5"): 657,
    ("Biểu mẫu 7", "6.3.2"): 3,
}


@pytest.fixture
def report(ws: Workspace, tmp_path: Path) -> tuple[Workspace, Any]:
    """2025-Q3: the empty input workbook written, filled with TYPED and a text, read back by the report."""
    load_all(ws)
    empty = write_cchc(ws.store, "2025-Q3", tmp_path / "trong", empty_inputs=True)
    assert [p.name for p in empty.files] == ["nhap-lieu-cchc-2025-Q3.xlsx"]
    assert read_inputs(empty.files[0]) == {}  # nothing typed yet
    fill(empty.files[0], TYPED, {"I.1": "Ngay từ đầu năm, UBND tỉnh đã ban hành Kế hoạch CCHC.\nĐoạn thứ hai."})
    written = write_cchc(ws.store, "2025-Q3", tmp_path / "bao-cao", inputs_file=empty.files[0],
                         letter_date=LETTER, want_pdf=False)
    return ws, written


def test_every_form_from_data_and_inputs(report: tuple[Workspace, Any]) -> None:
    _, written = report
    forms = written.files[0]
    assert [p.name for p in written.files] == ["bieu-mau-cchc-2025-Q3.xlsx", "nhap-lieu-cchc-2025-Q3.xlsx",
                                               "bao-cao-cchc-2025-Q3.docx"]
    assert load_workbook(forms).sheetnames == [f"Biểu mẫu {n}" for n in range(1, 8)] + ["Chưa có số liệu"]
    f1 = value_rows(forms, "Biểu mẫu 1")
    assert (f1["1"].value, f1["2.1"].value, f1["2.2"].value) == (85, 81, 19)
    assert f1["2"].value == pytest.approx(19 / 81) and f1["2"].number_format == "0.00%"  # 23,46%, a number
    assert (f1["6"].value, f1["6.1"].value) == (1, 3)  # from the evaluations (module docstring)
    assert f1["3.1"].value is None  # not typed: empty, never 0
    f2 = value_rows(forms, "Biểu mẫu 2")
    assert f2["1"].value == 3 + 2  # sum of 1.1 and 1.3: the district row 1.2 is gone after 1/7/2025
    f6 = value_rows(forms, "Biểu mẫu 6")
    assert f6["1.1"].value == 3989325 and f6["1.1"].number_format == "#,##0.00"
    assert f6["1"].value == pytest.approx(454142 / 3989325)  # 11,38%
    assert f6["2.4"].value == 26 and f6["2.1"].value == 11 + 36 + 26 + 657  # sums of sums: 730, as the seed
    f3 = value_rows(forms, "Biểu mẫu 3")
    # resolved in the window (test_cchc): sở 5 (4 on time), xã 4 (3 on time); PAKN 3 received, 2 resolved
    assert (f3["3.1.1"].value, f3["3.1.2"].value, f3["3.3.1"].value, f3["3.3.2"].value) == (5, 4, 4, 3)
    assert f3["3.4"].value == pytest.approx(2 / 3)
    f7 = value_rows(forms, "Biểu mẫu 7")
    assert f7["6.3"].value == pytest.approx(3 / 4) and f7["6.4"].value == pytest.approx(5 / 8)


def test_missing_figures_are_listed(report: tuple[Workspace, Any]) -> None:
    _, written = report
    missing = [r for r in load_workbook(written.files[0])["Chưa có số liệu"].iter_rows(min_row=4, values_only=True)]
    listed = {(where, code) for where, code, _, _ in missing}
    assert ("Biểu mẫu 1", "3.1") in listed and ("Biểu mẫu 3", "1.1") in listed
    assert ("Biểu mẫu 1", "2.1") not in listed and ("Biểu mẫu 1", "6.1") not in listed  # typed / from the data
    assert ("Nội dung báo cáo", "IV.2.b") in listed and ("Nội dung báo cáo", "I.1") not in listed
    assert ("Biểu mẫu 2", "1.2") not in listed  # a district row: gone after 1/7/2025, not missing
    assert written.missing_items == [f"{w} {c}" for w, c, _, _ in missing]
    typed_rows = [r for r in cchc.rows_for(cchc.parse_period("2025-Q3")) if r.typed]
    assert written.missing_inputs == len(typed_rows) - len(TYPED) - 2  # 6 and 6.1 from the evaluations


def test_narrative_has_the_forms_figures(report: tuple[Workspace, Any]) -> None:
    _, written = report
    lines = docx_lines(written.files[2])
    text = "\n".join(lines)
    assert "Kết quả lãnh đạo, chỉ đạo thực hiện công tác cải cách hành chính quý III và nhiệm vụ trọng tâm quý IV " \
           "năm 2025" in text
    for heading in ("I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CẢI CÁCH HÀNH CHÍNH", "II. KẾT QUẢ THỰC HIỆN CÔNG TÁC CCHC",
                    "III. KẾT QUẢ THỐNG KÊ SỐ LIỆU BÁO CÁO CẢI CÁCH HÀNH CHÍNH QUÝ III NĂM 2025", "IV. ĐÁNH GIÁ CHUNG",
                    "V. PHƯƠNG HƯỚNG, NHIỆM VỤ TRỌNG TÂM CCHC QUÝ IV NĂM 2025", "a) Tồn tại, hạn chế"):
        assert any(line.startswith(heading) for line in lines), heading
    assert not re.search(r"\.\.|…\.|;\.|,\.|\.;", text)  # no doubled punctuation where texts and sentences meet
    # the guidance answered, as seed 003 cites it by default ([report] cchc_basis to change it)
    assert ("Thực hiện Công văn số 581/BNV-CCHC ngày 21/02/2022 của Bộ Nội vụ về việc hướng dẫn thực hiện chế độ "
            "báo cáo cải cách hành chính định kỳ, Ủy ban nhân dân tỉnh Sơn La báo cáo kết quả") in text
    # the office's text first, one paragraph per line, then chiso's sentence with the forms' figures
    i = lines.index("Ngay từ đầu năm, UBND tỉnh đã ban hành Kế hoạch CCHC.")
    assert lines[i + 1] == "Đoạn thứ hai."
    assert lines[i + 2].startswith("Trong quý III, các cơ quan, đơn vị đã tham mưu ban hành 85 văn bản chỉ đạo")
    assert "đã hoàn thành 19/81 nhiệm vụ theo Kế hoạch CCHC năm 2025, đạt 23,46%." in lines[i + 2]
    assert "Tổ chức khảo sát sự hài lòng của người dân, tổ chức với 3 phiếu." in text
    # 23 tasks: 17 on time, 0 late, 0 overdue -> 6 in time
    assert "quá hạn chưa hoàn thành 0 nhiệm vụ; 6 nhiệm vụ đang trong thời hạn thực hiện." in text
    # resolved 5 + 4 = 9, on time 4 + 3 = 7 -> 77,78% (sở 80,00%, xã 75,00%)
    assert "đã giải quyết xong 9 hồ sơ TTHC, trong đó 7 hồ sơ giải quyết đúng hạn, đạt 77,78% (sở, ngành " \
           "80,00%; UBND cấp xã 75,00%)." in text
    assert "giải ngân vốn đầu tư công 454.142,00 tỷ đồng/3.989.325,00 tỷ đồng kế hoạch giao, đạt 11,38%" in text
    assert "Toàn tỉnh có 730 đơn vị sự nghiệp công lập" in text
    assert "Vẫn còn 2 hồ sơ TTHC giải quyết quá hạn." in text
    assert "kiểm tra công tác CCHC tại … sở, ngành" in text  # a missing figure: visible, and listed
    assert "[Chưa có nội dung: điền mục IV.2.b" in text
    # the appendix repeats the forms with the same figures as the workbook, in the Word number format
    assert "2 | Tỷ lệ hoàn thành Kế hoạch CCHC năm (Lũy kế đến thời điểm báo cáo) | % | 23,46% | " in text
    assert "1.1 | Kế hoạch được giao | Tỷ đồng | 3.989.325,00 | " in text


def test_no_district_rows_after_july_2025(report: tuple[Workspace, Any], tmp_path: Path) -> None:
    ws, written = report
    for sheet in ("Biểu mẫu 1", "Biểu mẫu 2", "Biểu mẫu 3", "Biểu mẫu 4", "Biểu mẫu 5", "Biểu mẫu 7"):
        s = load_workbook(written.files[0])[sheet]
        labels = [str(s.cell(r, 2).value) for r in range(9, s.max_row + 1) if s.cell(r, 1).value]
        assert not [label for label in labels if "huyện" in label], sheet
    f3 = value_rows(written.files[0], "Biểu mẫu 3")
    assert "3.2" not in f3 and "1.4.2" not in f3 and "3.3" in f3
    text = "\n".join(docx_lines(written.files[2]))
    assert "cấp huyện" not in text.replace("Không gồm 2 hồ sơ UBND cấp huyện giải quyết trước 01/7/2025", "") \
        .replace("Trong đó 1 TTHC cấp huyện (trước 01/7/2025)", "")
    inputs = load_workbook(written.files[1])
    assert "3.2" not in [c.value for c in inputs["Biểu mẫu 1"]["A"]]
    # a quarter before 1/7/2025 keeps them: Q2 (calendar) has H0 early, H1 on time, H2 late at the district
    ws.config('[report]\nwindow = "calendar"\n')
    q2 = {r.key: r for r in build_forms(ws.store, "2025-Q2", Config(report={"window": "calendar"}), {})}
    assert (q2[("3", "3.2.1")].value, q2[("3", "3.2.2")].value) == (3, 2)
    assert q2[("3", "3.2")].value == pytest.approx(2 / 3) and ("1", "3.2") in q2 and ("4", "1.5.3") in q2
    older = write_cchc(ws.store, "2025-Q2", tmp_path / "q2", letter_date=LETTER, want_pdf=False)
    assert "3.2" in value_rows(older.files[0], "Biểu mẫu 3")
    assert "UBND cấp huyện 66,67%" in "\n".join(docx_lines(older.files[2]))


def test_hostile_input_workbooks(ws: Workspace, tmp_path: Path) -> None:
    load_all(ws)
    base = write_cchc(ws.store, "2025-Q3", tmp_path / "a", empty_inputs=True).files[0]
    # a huge sheet: a cell far outside the input area, in the second form sheet
    wb = load_workbook(base)
    wb["Biểu mẫu 3"]["XFD1048576"] = "x"
    huge = tmp_path / "huge.xlsx"
    wb.save(huge)
    with pytest.raises(InputError, match=r"huge\.xlsx, trang 'Biểu mẫu 3', ô XFD1048576: ngoài vùng"):
        read_inputs(huge)
    # text where a number is expected, a formula (as a formula and as typed text), a value in a computed row
    fill(base, {("Biểu mẫu 1", "2.1"): "tám mươi mốt", ("Biểu mẫu 1", "2.2"): "=B7*2",
                ("Biểu mẫu 6", "1.1"): "=1+1"})
    wb = load_workbook(base)
    text_formula = wb["Biểu mẫu 6"]
    row = next(r for r in range(6, text_formula.max_row + 1) if text_formula.cell(r, 1).value == "1.1")
    cell = text_formula.cell(row, 4)
    cell.value, cell.data_type = "=1+1", "s"  # a formula typed as text (Excel's quote prefix)
    wb.save(base)
    with pytest.raises(InputError) as info:
        read_inputs(base)
    problems = info.value.problems
    assert len(problems) == 3
    assert "trang 'Biểu mẫu 1', dòng" in problems[0] and "cột D (Số liệu): 'tám mươi mốt' không phải số" in problems[0]
    assert "trang 'Biểu mẫu 1'" in problems[1] and "ô có công thức '=B7*2'" in problems[1]
    assert "trang 'Biểu mẫu 6'" in problems[2] and "'=1+1' không phải số" in problems[2]
    # refused before anything is stored or written
    out = tmp_path / "out"
    with pytest.raises(InputError):
        write_cchc(ws.store, "2025-Q3", out, inputs_file=base, want_pdf=False)
    assert cchc.stored_inputs(ws.store, "2025-Q3") == {} and not list(out.glob("*"))


def test_cli_lists_what_is_missing(ws: Workspace, tmp_path: Path) -> None:
    load_all(ws)
    runner = CliRunner()
    args = ["--workspace", str(ws.store.workspace), "report", "cchc", "--period", "2025-Q3"]
    r = runner.invoke(main, [*args, "--out", str(tmp_path / "trong"), "--empty-inputs"])
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip().endswith("nhap-lieu-cchc-2025-Q3.xlsx") and r.stderr == ""
    r = runner.invoke(main, [*args, "--out", str(tmp_path / "bc"), "--no-pdf", "--date", "20/09/2025"])
    assert r.exit_code == 0, r.stderr
    assert "bao-cao-cchc-2025-Q3.docx" in r.stdout
    assert "chưa nhập số liệu" in r.stderr and "Biểu mẫu 1: 1, 2.1, 2.2, 3.1" in r.stderr
    assert "Nội dung báo cáo: I.1, I.2" in r.stderr and "Chưa có số liệu" in r.stderr


def test_an_input_workbook_of_another_quarter_is_refused(ws: Workspace, tmp_path: Path) -> None:
    """Last quarter's workbook given for this quarter: refused, naming the file, the sheet and cell C2 and both
    periods; nothing stored. The same workbook is accepted for its own quarter."""
    load_all(ws)
    q2 = write_cchc(ws.store, "2025-Q2", tmp_path / "q2", empty_inputs=True).files[0]
    fill(q2, {("Biểu mẫu 1", "1"): 85})
    with pytest.raises(InputError) as info:
        write_cchc(ws.store, "2025-Q3", tmp_path / "out", inputs_file=q2, want_pdf=False)
    (problem,) = info.value.problems
    assert "nhap-lieu-cchc-2025-Q2.xlsx, trang 'Hướng dẫn', ô C2: tệp nhập liệu của kỳ 2025-Q2, không phải kỳ " \
           "2025-Q3" in problem
    assert cchc.stored_inputs(ws.store, "2025-Q3") == {}
    write_cchc(ws.store, "2025-Q2", tmp_path / "ok", inputs_file=q2, want_pdf=False)
    assert cchc.stored_inputs(ws.store, "2025-Q2")[("1", "1")][0] == 85
    # An unreadable period in C2 is refused too; a guide without it (an older file) is read.
    wb = load_workbook(q2)
    wb["Hướng dẫn"]["C2"] = "quý trước"
    wb.save(q2)
    with pytest.raises(InputError, match="ô C2: kỳ báo cáo 'quý trước' không đọc được"):
        read_inputs(q2, period="2025-Q2")
    wb["Hướng dẫn"]["C2"] = None
    wb.save(q2)
    assert read_inputs(q2, period="2025-Q3")[("1", "1")][0] == 85


def test_the_guidance_answered_comes_from_the_settings(ws: Workspace, tmp_path: Path) -> None:
    load_all(ws)
    ws.config('[report]\nwindow = "calendar"\ncchc_basis = "Công văn số 99/BNV-CCHC ngày 02/01/2026 của Bộ Nội vụ."\n')
    written = write_cchc(ws.store, "2025-Q3", tmp_path, letter_date=LETTER, want_pdf=False)
    text = "\n".join(docx_lines(written.files[2]))
    assert "Thực hiện Công văn số 99/BNV-CCHC ngày 02/01/2026 của Bộ Nội vụ, Ủy ban nhân dân tỉnh Sơn La" in text
    assert "581/BNV" not in text
    ws.config('[report]\ncchc_basis = ""\n')
    with pytest.raises(ConfigError, match="cchc_basis"):
        write_cchc(ws.store, "2025-Q3", tmp_path / "x", letter_date=LETTER, want_pdf=False)


def test_a_hostile_guidance_setting_is_printed_as_typed(ws: Workspace, tmp_path: Path) -> None:
    """[report] cchc_basis is data: markup, a Jinja expression and a formula come out as the characters typed."""
    load_all(ws)
    hostile = "Công văn <b>số 1</b> & {{ 7*7 }} =1+1"
    ws.config(f'[report]\ncchc_basis = "{hostile}"\n')
    written = write_cchc(ws.store, "2025-Q3", tmp_path, letter_date=LETTER, want_pdf=False)
    text = "\n".join(docx_lines(written.files[2]))
    assert f"Thực hiện {hostile}, Ủy ban nhân dân tỉnh Sơn La" in text and "49" not in text.split("Thực hiện")[1][:60]
