"""The monthly public letter and the unit detail letter on the hand-built province of test_scoring.py, whose
figures are worked out by hand there: province 65.89 (CKMB 13.70, TDGQ 13.33, CLGQ 8.00, TTTT 8.00, MDSH 9.42,
MDHL 13.44), Sở Tư pháp (14.STP) 93.90, commune X (03646) 57.23 rank 2 (August 43.00), commune Y (03667)
60.90 rank 1, the 73 other communes 22.90.

Overdue in September (figures read at the period's end, 30/9 23:59:59): X2 resolved late (16/9 10:00 after
its due 15/9 09:00) and X3 still open past its due date — 2 dossiers at one unit, commune X."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from chiso import api
from chiso.cli import main
from chiso.reports.documents import copy_templates, write_monthly, write_unit
from chiso.reports.templating import TemplateError
from conftest import Workspace
from docs_reader import docx_lines, xlsx_cells, xlsx_rows
from test_scoring import d, load_province

AS_OF = datetime(2025, 10, 15, 23, 59, 59)
LETTER = date(2025, 10, 6)  # Monday; + 5 working days = Monday 13/10/2025


def unit_name(ws: Workspace, code: str) -> str:
    return str(ws.store.con.execute("SELECT name FROM units WHERE code = ?", [code]).fetchone()[0])


@pytest.fixture
def province(ws: Workspace) -> Workspace:
    load_province(ws)
    from chiso.store.db import Store

    ws.store = Store.open(ws.store.workspace)
    return ws


def monthly(ws: Workspace, tmp: Path, **kw: object) -> tuple[Path, Path]:
    written = write_monthly(ws.store, "2025-09", tmp, as_of=AS_OF, letter_date=LETTER, want_pdf=False, **kw)
    word = next(p for p in written.files if p.suffix == ".docx")
    excel = next(p for p in written.files if p.suffix == ".xlsx")
    return word, excel


def test_monthly_letter_has_every_section_of_the_seeds(province: Workspace, tmp_path: Path) -> None:
    word, _ = monthly(province, tmp_path, national_rank="20/34")
    lines = docx_lines(word)
    text = "\n".join(lines)
    # Nghị định 30 layout: issuing body, motto and slogan, number/symbol, place and date, V/v summary.
    for expected in ("UBND TỈNH SƠN LA", "VĂN PHÒNG", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "/VPUB-TTPVHCC", "Sơn La, ngày 06 tháng 10 năm 2025",
                     "V/v công khai kết quả Bộ chỉ số phục vụ người dân, doanh nghiệp tháng 09/2025",
                     "Kính gửi:", "- Các sở, ban, ngành tỉnh;", "- UBND các xã, phường.", "Nơi nhận:",
                     "CHÁNH VĂN PHÒNG", "Phụ lục 1", "Phụ lục 2"):
        assert expected in text, expected
    # The basis: the province's own data (no official result imported), no method title in the text.
    assert ("Căn cứ kết quả tính Bộ chỉ số phục vụ người dân, doanh nghiệp từ dữ liệu trên Hệ thống thông tin giải "
            "quyết thủ tục hành chính của tỉnh") in text and "phương pháp" not in text
    # Section 1: the total with two decimals, provisional (two staff-entered inputs were never entered for the
    # province: counted 0, listed), the national rank given, the change against August, all six groups.
    assert "1. Tổng số điểm Sơn La đạt: 63,89/100 điểm (tạm tính), xếp hạng 20/34 tỉnh, thành phố" in text
    assert ("(Điểm tạm tính: chưa có số liệu TTHC công khai đầy đủ 7 thành phần (2 điểm); Cấp bản sao điện tử có "
            "chứng thực (2 điểm); các chỉ số này đang được tính 0 điểm.)") in lines
    import re

    from chiso import api

    change = re.search(r"thành phố, (tăng|giảm) (\d+),(\d\d) điểm so với tháng 08/2025 \(Số liệu tại thời điểm", text)
    assert change, "the change against the previous month"
    _, august = api.score(province.store, "2025-08", as_of=AS_OF, level="province")
    expected = round(63.89 - august[0]["total"], 2)
    assert (change.group(1) == "tăng") == (expected > 0)
    assert float(f"{change.group(2)}.{change.group(3)}") == abs(expected)
    assert "(Số liệu tại thời điểm 23h59' ngày 30/09/2025." in text
    groups = [line for line in lines if line.startswith("- ") and " đạt: " in line]
    assert groups == ["- Công khai, minh bạch đạt: 13,70/18 điểm (tạm tính);",
                      "- Tiến độ giải quyết đạt: 13,33/20 điểm;",
                      "- Dịch vụ công trực tuyến đạt: 8,00/12 điểm (tạm tính);",  # the conversion is provisional
                      "- Thanh toán trực tuyến đạt: 8,00/10 điểm;",
                      "- Số hóa hồ sơ đạt: 7,42/22 điểm (tạm tính);",
                      "- Mức độ hài lòng đạt: 13,44/18 điểm."]
    # Section 2: overdue dossiers and the explanation deadline (5 working days after the letter).
    assert ("- Trong tháng 9/2025, toàn tỉnh Sơn La có 2 hồ sơ quá hạn tại 01 cơ quan, đơn vị (Trong đó, gồm "
            "00 sở, ngành và 01 UBND các xã, phường).") in lines
    assert "trước ngày 13 tháng 10 năm 2025" in text
    # Section 3 and the appendices.
    assert "3. Kết quả đánh giá Bộ chỉ số phục vụ người dân, doanh nghiệp của các sở, ban, ngành; UBND các xã, " \
           "phường" in text
    x = unit_name(province, "03646")
    assert f"1 | {x} | 1 | 1 | 2" in lines  # Appendix 1: X2 resolved late, X3 open and overdue
    # Appendix 2: units in rank order, departments then communes; a serial number that runs on through ties and
    # the rank in its own column; only the departments the portal ranks (not VP, the service centre, Thanh tra).
    ranking = lines[lines.index("TT | Tên cơ quan, đơn vị | Điểm | Xếp hạng | Xếp loại"):]
    assert ranking[1] == "I | Các sở, ban, ngành |  |  | "
    assert ranking[2] == f"1 | {unit_name(province, '14.STP')} | 93,90 | 1 | Xuất sắc"
    communes = ranking[ranking.index("II | UBND các xã, phường |  |  | ") + 1:]
    departments = ranking[2:ranking.index("II | UBND các xã, phường |  |  | ")]
    for code in ("14.VP", "14.TTPVHCC", "14.TTRA"):
        assert not any(f"| {unit_name(province, code)} |" in d for d in departments)
    assert len(departments) == 14  # the shipped list valid in September 2025, less the three not ranked
    assert communes[0] == f"1 | {unit_name(province, '03667')} | 60,90 | 1 | Trung bình"
    assert communes[1] == f"2 | {x} | 57,23 | 2 | Trung bình"
    assert [c.split(" | ")[0] for c in communes[2:]] == [str(i) for i in range(3, 76)]
    assert all(c.endswith("| 22,90 | 3 | Yếu") for c in communes[2:])
    assert len(communes) == 75


def test_monthly_appendix_workbook(province: Workspace, tmp_path: Path) -> None:
    _, excel = monthly(province, tmp_path)
    rows = xlsx_rows(excel, "Phụ lục 2 - Xếp hạng")
    stp = next(r for r in rows if r[1] == unit_name(province, "14.STP"))
    assert stp[0] == 1 and stp[8] == 93.9 and stp[9] == 1 and stp[10] == "Xuất sắc"
    # Group scores of Sở Tư pháp, worked out in test_scoring: 14.90, 20, 12, 10, 22, 15.
    assert stp[2:8] == [14.9, 20, 12, 10, 22, 15]
    cells = xlsx_cells(excel, "Phụ lục 2 - Xếp hạng")
    stp_cells = next(r for r in cells if r[1].value == unit_name(province, "14.STP"))
    assert stp_cells[8].number_format == "#,##0.00"  # a number Excel can sum, shown as 93,90 in Vietnamese
    detail = xlsx_rows(excel, "Chi tiết chỉ số")
    progress = next(r for r in detail if r[0] == "03646" and r[3] == "PROGRESS_ON_TIME")
    assert progress[5:10] == [2, 4, 50, 10, 20]  # X1 early and X5 on time of 4 handled: 20 x 0.5
    overdue = xlsx_rows(excel, "Phụ lục 1 - Quá hạn")
    assert [unit_name(province, "03646"), 1, 1, 2] in [r[1:5] for r in overdue]
    criteria = xlsx_rows(excel, "Phụ lục 1 - Tiêu chí")
    x = next(r for r in criteria if r[1] == unit_name(province, "03646"))
    # X: received in September X1, X2, X3, of them online X1, X3 -> 66,67 %; overdue 2; satisfaction X1, X5
    # of 4 handled -> 50 %; synced X1, X2 of 3 received -> 66,67 %; digitised X1 of 4 -> 25 %.
    assert x[2] == 2 and round(x[3], 2) == 66.67 and x[4] == 50 and round(x[5], 2) == 66.67 and x[6] == 25


def test_appendix_of_differences_with_the_official_results(province: Workspace, tmp_path: Path) -> None:
    """Issue 11 §5: the official totals imported for the month beside ours (Sở Tư pháp 93,90 and commune X
    57,23, worked out in test_scoring), the largest difference first; no such sheet when nothing was imported."""
    from openpyxl import load_workbook

    from chiso import api

    scores = province.store.con.execute("SELECT indicator, score FROM indicator_inputs WHERE score IS NOT NULL"
                                        ).fetchall()
    province.store.con.execute("UPDATE indicator_inputs SET score = NULL")
    _, plain = monthly(province, tmp_path / "truoc")
    assert "Phụ lục 3 - Chính thức" not in load_workbook(plain).sheetnames  # nothing official: no such appendix
    for indicator, score in scores:
        province.store.con.execute("UPDATE indicator_inputs SET score = ? WHERE indicator = ?", [score, indicator])
    table = tmp_path / "chinh-thuc.csv"
    table.write_text("Mã đơn vị,Tên đơn vị,Tổng điểm\n14.STP,Sở Tư pháp,90\n03646,x,60\n", encoding="utf-8")
    assert api.import_official(province.store, table, "2025-09")["review"] == []
    _, excel = monthly(province, tmp_path / "sau")
    rows = xlsx_rows(excel, "Phụ lục 3 - Chính thức")
    data = [r for r in rows if isinstance(r[0], int)]
    # "From the province's data" leaves out every official value: test_scoring's 93,90 and 57,23 include the
    # official 3,5 for PUBLIC_UPDATE_ON_TIME where our arithmetic gives 3 (4 × 3/4): 93,40 and 56,73.
    assert [r[1:6] for r in data[:2]] == [
        [unit_name(province, "14.STP"), "Tổng điểm", 93.4, 90, -3.4],
        [unit_name(province, "03646"), "Tổng điểm", 56.73, 60, 3.27]]
    # Then the province's own official inputs that our arithmetic scores otherwise, once (not per unit).
    assert all(r[1] == unit_name(province, "14") for r in data[2:]) and len(data) == 2 + len(scores)


def test_number_format_is_configurable(province: Workspace, tmp_path: Path) -> None:
    province.config('[report]\ndecimal = "."\nthousands = ","\nlow_share = 0.5\n')
    word, _ = monthly(province, tmp_path)
    text = "\n".join(docx_lines(word))
    assert "63.89/100 điểm (tạm tính)" in text
    assert "- Số hóa hồ sơ đạt: 7.42/22 điểm (tạm tính);" in text.splitlines()


def test_unit_detail_letter(province: Workspace, tmp_path: Path) -> None:
    written = write_unit(province.store, "03646", "2025-09", tmp_path, as_of=AS_OF, letter_date=LETTER,
                         want_pdf=False)
    word = next(p for p in written.files if p.suffix == ".docx")
    lines = docx_lines(word)
    text = "\n".join(lines)
    x = unit_name(province, "03646")
    assert f"Kính gửi: {x}." in text
    assert "1. Tổng số điểm đạt: 57,23/100 điểm, xếp hạng 2/75 xã, phường, xếp loại Trung bình (tăng 14,23 điểm so " \
           "với tháng 08/2025)" in text
    # Every sub-indicator with numerator, denominator, ratio, score, maximum and the change against August,
    # when X's progress was 2/2 = 20 points (test_scoring.test_change_against_previous_month).
    assert "1 | Hồ sơ giải quyết đúng hạn và đang giải quyết trong hạn | 2 | 4 | 50 | 10,00 | 20 | -10" in lines
    # Never entered for X (inherited from the province, which has none): marked, not a silent 0.
    assert "3 | TTHC công khai đầy đủ 7 thành phần (chưa có số liệu) |  |  |  | 0,00 | 2 | 0" in lines
    assert "2. Hồ sơ giải quyết quá hạn: trong tháng có 1 hồ sơ giải quyết quá hạn và 1 hồ sơ đang xử lý quá hạn" \
        in text
    assert "3. Việc cần làm để tăng điểm:" in text
    excel = next(p for p in written.files if p.suffix == ".xlsx")
    late = xlsx_rows(excel, "Hồ sơ quá hạn")
    assert sorted(r[1] for r in late if r[1] in {"X2", "X3"}) == ["X2", "X3"]
    assert {r[7] for r in late if r[1] in {"X2", "X3"}} == {"Quá hạn", "Đang xử lý quá hạn"}


def _edit(path: Path, old: str, new: str) -> None:
    document = docx.Document(str(path))
    for p in document.paragraphs + [p for t in document.tables for row in t.rows for c in row.cells
                                    for p in c.paragraphs]:
        if old in p.text:
            text = p.text.replace(old, new)
            for run in p.runs[1:]:
                run.text = ""
            p.runs[0].text = text
    document.save(str(path))


def test_edited_workspace_template_is_used(province: Workspace, tmp_path: Path) -> None:
    copied = copy_templates(province.store)
    letter = next(p for p in copied if p.name == "cong-van-thang.docx")
    _edit(letter, "UBND TỈNH {{ province_upper }}", "UBND TỈNH SƠN LA - BẢN CỦA TỈNH")
    _edit(letter, "{{ signer_name }}", "Lò Văn Thử")
    word, _ = monthly(province, tmp_path)
    text = "\n".join(docx_lines(word))
    assert "UBND TỈNH SƠN LA - BẢN CỦA TỈNH" in text and "Lò Văn Thử" in text
    assert "UBND TỈNH SƠN LA" not in text.replace("UBND TỈNH SƠN LA - BẢN CỦA TỈNH", "")


def test_broken_template_names_the_template_and_the_tag(province: Workspace, tmp_path: Path) -> None:
    copied = copy_templates(province.store)
    letter = next(p for p in copied if p.name == "cong-van-thang.docx")
    _edit(letter, "{{ signer_name }}", "{{ signer_name }")
    with pytest.raises(TemplateError) as err:
        monthly(province, tmp_path)
    # "{{ signer_name }" does not end with "}}": the tag is left open (not a syntax error of a closed tag).
    assert "cong-van-thang.docx" in str(err.value) and "thẻ '{{ signer_name }' chưa đóng" in str(err.value)

    _edit(letter, "{{ signer_name }", "{{ ten_nguoi_ky }}")
    province.store.close()
    r = CliRunner().invoke(main, ["--workspace", str(province.store.workspace), "report", "monthly", "--period",
                                  "2025-09", "--out", str(tmp_path / "cli"), "--as-of", "2025-10-15", "--no-pdf"])
    assert r.exit_code == 1
    assert "cong-van-thang.docx" in r.stderr and "{{ ten_nguoi_ky }}" in r.stderr and "'ten_nguoi_ky'" in r.stderr


def test_broken_excel_template(province: Workspace, tmp_path: Path) -> None:
    import openpyxl

    copied = copy_templates(province.store)
    book = next(p for p in copied if p.name == "phu-luc-thang.xlsx")
    wb = openpyxl.load_workbook(book)
    wb["Phụ lục 2 - Xếp hạng"]["A1"] = "{% if x %}không đóng"
    wb.save(book)
    with pytest.raises(TemplateError, match=r"phu-luc-thang.xlsx.*trang 'Phụ lục 2 - Xếp hạng' ô A1.*thiếu thẻ đóng"):
        monthly(province, tmp_path)


def test_with_the_portals_result_the_letter_cites_the_portal(province: Workspace, tmp_path: Path) -> None:
    """Issue 10 §2–3: once the portal's result of the month is imported (chiso import-official), the letter cites
    the portal as the seeds do, prints its total, its national rank and its group figures with their maxima."""
    from chiso import api

    letter = tmp_path / "cong-van-cong.txt"
    letter.write_text("1. Tong so diem Son La dat: 75.8/100 diem, xep hang 15/34 tinh, thanh pho\n"
                      "- Cong khai, minh bach dat: 15.4/18 diem.\n- Dich vu cong truc tuyen dat: 8.39/22 diem;\n",
                      encoding="utf-8")
    assert api.import_official(province.store, letter, "2025-09")["review"] == []
    word, _ = monthly(province, tmp_path)
    lines = docx_lines(word)
    text = "\n".join(lines)
    assert ("Căn cứ kết quả trên Cổng Dịch vụ công quốc gia (https://dichvucong.gov.vn), tại mục “Kết quả đánh giá "
            "Bộ chỉ số phục vụ người dân và doanh nghiệp của bộ, ngành, địa phương”.") in text
    assert "1. Tổng số điểm Sơn La đạt: 75,80/100 điểm, xếp hạng 15/34 tỉnh, thành phố" in text
    assert "(tạm tính)" not in text.split("Một số tiêu chí")[0]  # the portal's figure is not provisional
    groups = [line for line in lines if line.startswith("- ") and " đạt: " in line]
    assert "- Công khai, minh bạch đạt: 15,40/18 điểm;" in groups  # the portal's
    assert "- Dịch vụ công trực tuyến đạt: 8,39/22 điểm;" in groups  # the portal's maximum that month
    assert "- Tiến độ giải quyết đạt: 13,33/20 điểm;" in groups  # not in the letter imported: ours


def test_the_national_rank_is_a_placeholder_to_fill_when_unknown(province: Workspace, tmp_path: Path) -> None:
    word, _ = monthly(province, tmp_path)
    assert "1. Tổng số điểm Sơn La đạt: 63,89/100 điểm (tạm tính), xếp hạng …/34 tỉnh, thành phố" in "\n".join(
        docx_lines(word))


def test_signer_and_recipients_come_from_the_configuration(province: Workspace, tmp_path: Path) -> None:
    """Issue 10 §5: ký thay (KT.) with the title signed for, the signer's name and the recipients, from
    chiso.toml; a wrong structure is refused with the key."""
    province.config('[report]\nsigner_authority = "KT."\nsigner_for = "CHÁNH VĂN PHÒNG"\n'
                    'signer_title = "PHÓ CHÁNH VĂN PHÒNG"\nsigner_name = "Nguyễn Văn A"\n'
                    'recipients = ["Như trên;", "Văn phòng Chính phủ (b/c);", "Lưu: VT, TTPVHCC."]\n')
    word, _ = monthly(province, tmp_path)
    lines = docx_lines(word)
    signature = next(line for line in lines if line.startswith("Nơi nhận:"))
    assert signature == ("Nơi nhận:\n- Như trên;\n- Văn phòng Chính phủ (b/c);\n- Lưu: VT, TTPVHCC. | "
                         "KT. CHÁNH VĂN PHÒNG\nPHÓ CHÁNH VĂN PHÒNG\n\n\n\n\nNguyễn Văn A")
    from chiso.config import ConfigError

    province.config('[report]\nsigner_authority = "THAY"\n')
    with pytest.raises(ConfigError, match="signer_authority"):
        monthly(province, tmp_path / "sai")


def test_the_letter_never_leaves_another_months_facts(province: Workspace, tmp_path: Path) -> None:
    """The letter's trend scores months before the period. The fact table a scoring leaves (``dossier_facts``,
    read by `chiso publish` and the reconciliation right after their own scoring) held the trend's oldest month
    after a letter: a reader that did not score again would have read June for September. Now the trend keeps no
    facts (each scoring drops the table first): the table is the period's or absent, never another month's."""
    # a dossier of June: the trend then scores July as well (the earlier months have no dossiers at all)
    province.load("dossiers", [d("J1", "03646", "PA", "direct", "2025-06-10 09:00", "2025-06-11 10:00", 0)])
    api.score_with_previous(province.store, "2025-09", as_of=AS_OF)  # as the letter scores it, facts kept
    facts = "SELECT dossier_id FROM dossier_facts ORDER BY 1"
    september = province.store.con.execute(facts).fetchall()
    assert ("X1",) in september and ("J1",) not in september
    monthly(province, tmp_path)
    tables = {r[0] for r in province.store.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
    assert "dossier_facts" not in tables or province.store.con.execute(facts).fetchall() == september
