"""Official results (issue 11): the published letters of Sơn La (seeds 000 and 002), the portal's JSON, tables of
unit scores, the review list and confirmed names. Expected figures are read from the seeds by a person and written
here; unit codes come from the catalogue by the unit's correct name, never from the matcher."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chiso import api
from chiso.cli import main
from chiso.rules.arithmetic import indicator_score
from chiso.rules.model import for_period
from chiso.store.db import Store

# Copies of the seeds (../shared/seeds/002_…, 000_…) and of ../shared/data/portal-unit-sample.json.
LETTER_2025_07 = Path(__file__).parent / "data" / "names" / "son_la_2025_07_ocr.txt"
LETTER_2024_03 = Path(__file__).parent / "data" / "names" / "son_la_2024_03.txt"
PORTAL_SAMPLE = Path(__file__).parent / "data" / "official" / "portal-unit-sample.json"

# Phụ lục 2 of letter 1735/VPUB-TTPVHCC (07/2025): the 15 departments and their scores, as printed.
DEPARTMENTS_2025_07 = {
    "BQLKCN": 94, "SNV": 90.57, "SGDDT": 89.97, "SVHTTDL": 89.41, "SKHCN": 86.45, "SNNMT": 85.96, "SXD": 85.13,
    "CA": 80.97, "SYT": 80.38, "SCT": 71.47, "STC": 54.78, "STP": 54.41, "SDTTG": 32, "SLDTBXH": 32, "SNGV": 32}
# Some communes of the same appendix: (correct name, score, place in the list) — several on lines whose OCR
# damaged the name or the serial number ("UBND Xi Subi To", "772 | UBND Xa Poan Két", "o5 |", "372 |").
COMMUNES_2025_07 = [
    ("UBND xã Mường Bú", 20, 1), ("UBND xã Chiềng Sại", 19.93, 22), ("UBND xã Phiêng Khoài", 19.92, 25),
    ("UBND xã Pắc Ngà", 19.89, 29), ("UBND xã Chiềng Sung", 19.86, 32), ("UBND xã Suối Tọ", 19.67, 50),
    ("UBND xã Thuận Châu", 19.76, 44), ("UBND phường Tô Hiệu", 19.29, 61), ("UBND xã Đoàn Kết", 16.93, 72),
    ("UBND xã Mường Bám", 10.32, 75)]
# Phụ lục 2 of the March 2024 letter: the 12 districts in order.
DISTRICTS_2024_03 = [
    ("UBND thành phố Sơn La", 88.73), ("UBND huyện Bắc Yên", 83.76), ("UBND huyện Vân Hồ", 82.38),
    ("UBND huyện Phù Yên", 80.67), ("UBND huyện Thuận Châu", 79.42), ("UBND huyện Sông Mã", 78.87),
    ("UBND huyện Yên Châu", 75.43), ("UBND huyện Quỳnh Nhai", 74.61), ("UBND thị xã Mộc Châu", 72.75),
    ("UBND huyện Mai Sơn", 71.15), ("UBND huyện Mường La", 69.03), ("UBND huyện Sốp Cộp", 66.15)]


@pytest.fixture(scope="module")
def son_la_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sơn La with its units before and after 1/7/2025, made once."""
    ws = tmp_path_factory.mktemp("son-la")
    with Store.open(ws) as store:
        api.init_units(store, "Sơn La", before_2025=True)
    return ws


@pytest.fixture
def store(son_la_template: Path, tmp_path: Path) -> Iterator[Store]:
    target = tmp_path / "ws"
    shutil.copytree(son_la_template, target)
    with Store.open(target) as s:
        yield s


def code_of(store: Store, name: str, level: str) -> str:
    rows = store.con.execute("SELECT code FROM units WHERE name = ? AND level = ?", [name, level]).fetchall()
    assert len(rows) >= 1, name
    current = [r for r in rows if not str(r[0]).endswith("-2024")]
    return str((current or rows)[0][0])


def test_the_july_2025_letter_gives_every_department_and_commune(store: Store) -> None:
    rep = api.import_official(store, LETTER_2025_07, "2025-07")
    assert rep["review"] == []
    results = {u["code"]: u for u in api.official(store, "2025-07")}
    departments = {c: u for c, u in results.items() if u["level"] == "department"}
    communes = {c: u for c, u in results.items() if u["level"] == "commune"}
    assert {c.removeprefix("14.") for c in departments} == set(DEPARTMENTS_2025_07)
    for key, score in DEPARTMENTS_2025_07.items():
        assert departments[f"14.{key}"]["total"] == pytest.approx(score), key
    all_communes = {str(r[0]) for r in store.con.execute(
        "SELECT code FROM units WHERE level = 'commune' AND valid_from = DATE '2025-07-01'").fetchall()}
    assert len(all_communes) == 75 and set(communes) == all_communes
    for name, score, place in COMMUNES_2025_07:
        u = communes[code_of(store, name, "commune")]
        assert (u["total"], u["rank"]) == (pytest.approx(score), place), name
    # The province's own figures, from the body: total, national rank, the six groups.
    province = results["14"]
    assert (province["total"], province["rank"], province["rank_of"]) == (pytest.approx(75.8), 15, 34)
    assert {g: v["score"] for g, v in province["groups"].items()} == pytest.approx(
        {"CKMB": 15.4, "TDGQ": 19.55, "CLGQ": 8.39, "MDHL": 18, "MDSH": 14.82, "TTTT": 8.0})
    # Phụ lục 1 counts overdue dossiers (Sở Tài chính 27): not a score table, skipped and said so.
    assert any("Phụ lục" in n or "phụ lục" in n for n in rep["notes"])
    assert departments["14.STC"]["total"] == pytest.approx(54.78)
    # The communes are scored out of 20 in this letter (the best has 20): kept apart from totals out of 100.
    assert {u["max_total"] for u in communes.values()} == {20}
    assert departments["14.SNV"]["max_total"] is None and province["max_total"] == 100
    assert any("/20" in n for n in rep["notes"])
    # Where each figure came from: the file's fingerprint and its line, the name as written, the method.
    suoi_to = communes[code_of(store, "UBND xã Suối Tọ", "commune")]
    assert suoi_to["matched_from"] == "UBND Xi Subi To" and suoi_to["match_method"] == "ocr"
    assert "dòng" in suoi_to["source"] and rep["sha256"][:12] in suoi_to["source"]


def test_the_march_2024_letter_gives_the_twelve_districts(store: Store) -> None:
    rep = api.import_official(store, LETTER_2024_03, "03/2024")
    assert rep["review"] == []
    results = {u["code"]: u for u in api.official(store, "2024-03")}
    districts = [u for u in results.values() if u["level"] == "district"]
    assert len(districts) == 12
    for place, (name, score) in enumerate(DISTRICTS_2024_03, start=1):
        u = results[code_of(store, name, "district")]
        assert (u["total"], u["rank"]) == (pytest.approx(score), place), name
    assert (results["14"]["total"], results["14"]["rank"], results["14"]["rank_of"]) == (pytest.approx(71.31), 24, 63)
    assert {g: v["score"] for g, v in results["14"]["groups"].items()} == pytest.approx(
        {"CLGQ": 6.7, "TTTT": 6.3, "MDSH": 12})


def test_an_old_period_without_old_units_says_how_to_add_them(tmp_path: Path) -> None:
    with Store.open(tmp_path / "ws") as store:
        api.init_units(store, "Sơn La")
        rep = api.import_official(store, LETTER_2024_03, "2024-03")
        assert len(rep["review"]) == 12  # nothing guessed, nothing dropped
        assert any("--before-2025" in n for n in rep["notes"])
        assert len(api.official_review(store, period="2024-03")) == 12


@pytest.fixture(scope="module")
def dak_lak_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = tmp_path_factory.mktemp("dak-lak")
    with Store.open(ws) as store:
        api.init_units(store, "Đắk Lắk")
    return ws


def test_portal_json_and_our_rules_on_its_counts_agree(dak_lak_template: Path, tmp_path: Path) -> None:
    """The portal's own numerators and denominators, scored by our rules, give the portal's scores: indicator by
    indicator, group by group, and the total (the worked example of docs/domain.md)."""
    shutil.copytree(dak_lak_template, tmp_path / "ws")
    with Store.open(tmp_path / "ws") as store:
        rep = api.import_official(store, PORTAL_SAMPLE, "2026")
        assert rep["review"] == [] and len(rep["stored"]) == 1
        code = rep["stored"][0]["code"]
        assert store.con.execute("SELECT name FROM units WHERE code = ?", [code]).fetchone() == ("UBND xã Xuân Thọ",)
        assert store.con.execute(
            "SELECT numerator, denominator, score FROM indicator_inputs WHERE unit_code = ? AND period = '2026' "
            "AND indicator = 'PROGRESS_ON_TIME'", [code]).fetchone() == (795, 876, 18.15)
        official = api.official(store, "2026")[0]
        assert (official["total"], official["rank"]) == (70.11, 44)
        groups = {g: v["score"] for g, v in official["groups"].items()}
        assert groups == {"CKMB": 11.85, "TDGQ": 18.15, "CLGQ": 6.3, "TTTT": 6.82, "MDSH": 8.99, "MDHL": 18}
        assert sum(groups.values()) == pytest.approx(70.11)

        _, results = api.score(store, "2026", as_of=datetime(2026, 10, 10, 10), unit=code)
        r = next(x for x in results if x["code"] == code)
        rs = for_period(datetime(2026, 1, 1).date())
        counted = {k: v for k, v in r["indicators"].items() if "official_rule_score" in v}
        assert set(counted) >= {"PROGRESS_ON_TIME", "PAYMENT_ONLINE_DOSSIER", "PAYMENT_ONLINE_FORMALITY",
                                "PAYMENT_FEE_FORMALITY_WITH_DOSSIER", "ORIGINAL_RESULT_AVAILABLE"}
        for k, v in counted.items():
            if "official_score" in v:
                assert v["official_rule_score"] == v["official_score"], k  # no difference in the arithmetic
        payment = sum(counted[k]["official_rule_score"] for k in ("PAYMENT_ONLINE_DOSSIER", "PAYMENT_ONLINE_FORMALITY",
                                                                    "PAYMENT_FEE_FORMALITY_WITH_DOSSIER"))
        assert round(payment, 2) == groups["TTTT"]  # 5.50 + 0.81 + 0.51
        digitized = sum(v.get("official_rule_score", v.get("official_score", 0.0))
                        for k, v in r["indicators"].items() if rs.indicator(k).group == "MDSH")
        assert round(digitized, 2) == groups["MDSH"]
        assert indicator_score(rs.indicator("PROGRESS_ON_TIME"), 795, 876, 2) == 18.15
        # This workspace has no dossiers: ours is 0, the difference is blamed on missing dossiers.
        assert r["indicators"]["PROGRESS_ON_TIME"]["cause"] == "missing_dossiers"
        assert r["official"]["total"] == 70.11 and r["official"]["difference"] > 0


def _write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def test_a_circulated_table_with_title_rows_text_numbers_and_sections(store: Store, tmp_path: Path) -> None:
    path = _write_xlsx(tmp_path / "bang-diem.xlsx", [
        ["UBND TỈNH SƠN LA"], ["KẾT QUẢ ĐÁNH GIÁ BỘ CHỈ SỐ THÁNG 8/2025"], [],
        ["STT", "Tên cơ quan, đơn vị", "Tổng điểm", "Xếp hạng"],
        ["I", "Các sở, ban, ngành", None, None],
        [1, "Sở Tư pháp", "90,57", 1], [2, "Sở GD&ĐT", 88.1, 2], [3, "Sở Y tế tỉnh Sơn La", "80.38", "3"],
        ["II", "UBND các xã, phường", None, None],
        [1, "UBND xã Suối Tọ", "19,67 điểm", 1], [2, "P. Tô Hiệu", 19.29, 2]])
    rep = api.import_official(store, path, "08/2025")
    assert rep["review"] == [] and len(rep["stored"]) == 5
    got = {u["code"]: (u["level"], u["total"], u["rank"]) for u in api.official(store, "2025-08")}
    assert got == {"14.STP": ("department", 90.57, 1), "14.SGDDT": ("department", 88.1, 2),
                   "14.SYT": ("department", 80.38, 3),
                   code_of(store, "UBND xã Suối Tọ", "commune"): ("commune", 19.67, 1),
                   code_of(store, "UBND phường Tô Hiệu", "commune"): ("commune", 19.29, 2)}
    assert any("3 dòng tiêu đề" in n for n in rep["notes"])


def test_a_csv_table_with_semicolons_and_group_columns(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "diem.csv"
    path.write_text("Đơn vị;Công khai, minh bạch;Tiến độ giải quyết;Điểm\n"
                    "Sở Tư pháp;15,4;19,55;75,8\nSở Nội vụ;18;20;90\n", encoding="utf-8")
    rep = api.import_official(store, path, "2025-08", level="department")
    assert rep["review"] == []
    got = {u["code"]: u for u in api.official(store, "2025-08")}
    assert got["14.STP"]["total"] == 75.8
    assert {g: v["score"] for g, v in got["14.STP"]["groups"].items()} == {"CKMB": 15.4, "TDGQ": 19.55}


def test_unknown_names_go_to_review_and_a_confirmed_name_is_remembered(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "diem.csv"
    path.write_text("Tên đơn vị,Điểm\nUBND xã Suối Tọ,19.67\nTrung tâm Không Có Trong Danh Mục,50\n"
                    "\"=HYPERLINK(\"\"http://x\"\")\",40\n", encoding="utf-8")
    runner = CliRunner()
    ws = ["-w", str(store.workspace)]
    store.close()
    out = runner.invoke(main, [*ws, "import-official", str(path), "--period", "2025-08", "--level", "commune"])
    assert out.exit_code == 0, out.output
    assert "1 đơn vị đã nhận ra, 2 tên cần xác nhận" in out.output
    listed = runner.invoke(main, [*ws, "official", "review", "--format", "json"])
    items = json.loads(listed.output)
    assert [i["name"] for i in items] == ["Trung tâm Không Có Trong Danh Mục", "=HYPERLINK(\"http://x\")"]
    as_csv = runner.invoke(main, [*ws, "official", "review", "--format", "csv"]).output
    assert "'=HYPERLINK" in as_csv  # a formula stays text for a spreadsheet
    confirmed = runner.invoke(main, [*ws, "official", "review", "--confirm", str(items[0]["id"]), "--unit",
                                     "UBND phường Tô Hiệu"])
    assert confirmed.exit_code == 0 and "đã lưu" in confirmed.output, confirmed.output
    dropped = runner.invoke(main, [*ws, "official", "review", "--drop", str(items[1]["id"])])
    assert dropped.exit_code == 0
    assert runner.invoke(main, [*ws, "official", "review"]).output.strip() == "Không có tên nào cần xác nhận."
    with Store.open(store.workspace) as again:
        to_hieu = code_of(again, "UBND phường Tô Hiệu", "commune")
        assert {u["code"]: u["total"] for u in api.official(again, "2025-08")}[to_hieu] == 50
        # Remembered: the next file with that name matches it, and so does --unit.
        rep = api.import_official(again, path, "2025-09", level="commune")
        assert {r["name"]: r["method"] for r in rep["stored"]}["Trung tâm Không Có Trong Danh Mục"] == "alias"
        from chiso.cli import resolve_unit

        assert resolve_unit(again, "Trung tâm Không Có Trong Danh Mục") == to_hieu
    again_wrong = runner.invoke(main, [*ws, "official", "review", "--confirm", str(items[0]["id"]), "--unit", "03901"])
    assert again_wrong.exit_code == 2 and "đã được xử lý" in again_wrong.output


def test_two_lines_claiming_one_unit_both_wait_for_review(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "diem.csv"
    path.write_text("Tên đơn vị,Điểm\nSở Tư pháp,50\nSở Tư pháp tỉnh Sơn La,60\nSở Nội vụ,70\n", encoding="utf-8")
    rep = api.import_official(store, path, "2025-08", level="department")
    assert [r["code"] for r in rep["stored"]] == ["14.SNV"]
    assert sorted(r["name"] for r in rep["review"]) == ["Sở Tư pháp", "Sở Tư pháp tỉnh Sơn La"]
    assert all("cùng khớp" in r["reason"] for r in rep["review"])


def _letter_docx(path: Path) -> Path:
    from docx import Document

    doc = Document()
    doc.add_paragraph("V/v công khai kết quả Bộ chỉ số tháng 8/2025")
    doc.add_paragraph("1. Tổng số điểm Sơn La đạt: 80,12/100 điểm, xếp hạng 9/34 tỉnh, thành phố")
    doc.add_paragraph("- Tiến độ giải quyết đạt 19,9/20 điểm;")
    doc.add_paragraph("Phụ lục 2")
    doc.add_paragraph("KẾT QUẢ ĐÁNH GIÁ BỘ CHỈ SỐ CỦA CÁC SỞ, BAN, NGÀNH; UBND CÁC XÃ, PHƯỜNG")
    table = doc.add_table(rows=0, cols=3)
    for row in (["TT", "Tên cơ quan, đơn vị", "Điểm"], ["I", "Các sở, ban, ngành", ""], ["1", "Sở Tư pháp", "91,2"],
                ["II", "UBND các xã, phường", ""], ["1", "UBND xã Suối Tọ", "19,5"]):
        cells = table.add_row().cells
        for c, v in zip(cells, row, strict=True):
            c.text = v
    doc.save(str(path))
    return path


@pytest.mark.parametrize("as_pdf", [False, True], ids=["docx", "pdf"])
def test_a_letter_as_word_document_or_text_pdf(store: Store, tmp_path: Path, as_pdf: bool) -> None:
    path = _letter_docx(tmp_path / "cong-van.docx")
    if as_pdf:  # the same letter as the office would send it: converted by LibreOffice, text kept
        from chiso.reports import pdf
        from conftest import require

        require(pdf.office_binary(), "LibreOffice (Debian libreoffice-writer-nogui) not installed: `make setup`")
        path = pdf.to_pdf([path], tmp_path / "pdf")[0]
    rep = api.import_official(store, path, "2025-08")
    assert rep["review"] == [] and rep["kind"] == "letter"
    got = {u["code"]: u for u in api.official(store, "2025-08")}
    assert got["14"]["total"] == 80.12 and (got["14"]["rank"], got["14"]["rank_of"]) == (9, 34)
    assert got["14"]["groups"]["TDGQ"]["score"] == 19.9
    assert got["14.STP"]["total"] == 91.2 and got["14.STP"]["level"] == "department"
    assert got[code_of(store, "UBND xã Suối Tọ", "commune")]["total"] == 19.5


def test_bad_files_are_refused_with_where(store: Store, tmp_path: Path) -> None:
    from chiso.official.parse import OfficialError

    bad_json = tmp_path / "portal.json"
    bad_json.write_text(json.dumps({"departmentName": "UBND xã Suối Tọ", "scores": {"progress": "mười"}}),
                        encoding="utf-8")
    with pytest.raises(OfficialError, match=r"portal.json \$\.scores\.progress: 'mười' không phải là số"):
        api.import_official(store, bad_json, "2025-08")
    table = tmp_path / "diem.csv"
    table.write_text("Tên đơn vị,Điểm\nSở Tư pháp,chín mươi\n", encoding="utf-8")
    with pytest.raises(OfficialError, match=r"diem.csv hàng 2: 'chín mươi' không phải là điểm"):
        api.import_official(store, table, "2025-08")
    table.write_text("Tên đơn vị,Điểm\nSở Tư pháp,150\n", encoding="utf-8")
    with pytest.raises(OfficialError, match=r"diem.csv hàng 2: tổng điểm 150 lớn hơn 100"):
        api.import_official(store, table, "2025-08")
    no_header = tmp_path / "khac.csv"
    no_header.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(OfficialError, match="không thấy bảng điểm"):
        api.import_official(store, no_header, "2025-08")
    from PIL import Image

    scan = tmp_path / "ban-quet.pdf"
    Image.new("RGB", (200, 200), "white").save(scan)  # a scan: pictures, no text
    with pytest.raises(OfficialError, match=r"ban-quet.pdf: PDF không có chữ \(bản quét\)"):
        api.import_official(store, scan, "2025-08")
    assert store.count("official_results") == 0 and store.count("official_imports") == 0


def test_the_command_line_in_vietnamese(store: Store, tmp_path: Path) -> None:
    ws = ["-w", str(store.workspace)]
    store.close()
    runner = CliRunner()
    out = runner.invoke(main, [*ws, "import-official", str(LETTER_2025_07), "--period", "07/2025"])
    assert out.exit_code == 0, out.output
    assert "91 đơn vị đã nhận ra, 0 tên cần xác nhận" in out.output
    shown = runner.invoke(main, [*ws, "official", "show", "--period", "2025-07", "--level", "department",
                                 "--format", "csv"])
    rows = list(csv.DictReader(shown.output.splitlines()))
    assert len(rows) == 15 and rows[0]["code"] == "14.BQLKCN" and rows[0]["total"] == "94.0"
    xlsx = tmp_path / "chinh-thuc.xlsx"
    assert runner.invoke(main, [*ws, "official", "show", "--period", "2025-07", "--format", "xlsx", "--out",
                                str(xlsx)]).exit_code == 0
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx).active
    assert sheet is not None
    rows_x = list(sheet.iter_rows(values_only=True))
    header = list(rows_x[0])
    assert header[:6] == ["Mã đơn vị", "Tên đơn vị", "Cấp", "Tổng điểm", "Xếp hạng", "Trên số"]
    assert header[6:12] == ["CKMB", "TDGQ", "CLGQ", "TTTT", "MDSH", "MDHL"]
    assert len(rows_x) == 1 + 91
    province = rows_x[1]
    assert province[:6] == ("14", "Tỉnh Sơn La", "Tỉnh", 75.8, 15, 34) and province[6] == 15.4  # numbers numeric
    wrong = runner.invoke(main, [*ws, "import-official", str(tmp_path / "khong-co.json"), "--period", "2025-07"])
    assert wrong.exit_code == 2
    odd = tmp_path / "x.bin"
    odd.write_bytes(b"\x00\x01")
    refused = runner.invoke(main, [*ws, "import-official", str(odd), "--period", "2025-07"])
    assert refused.exit_code == 2 and "không nhận dạng được định dạng" in refused.output


def test_a_new_commune_shows_its_predecessors_trend(store: Store, tmp_path: Path) -> None:
    """Issue 11 §4: results before 1/7/2025 stay with the old units; the new ward shows them through the old→new
    mapping of the catalogue (vietnamadminunits)."""
    old = tmp_path / "xa-2024.csv"
    old.write_text("Tên đơn vị,Điểm\nUBND phường Tô Hiệu,77.25\nUBND phường Quyết Thắng,70.5\n", encoding="utf-8")
    rep = api.import_official(store, old, "2024-03", level="commune")
    assert rep["review"] == []
    api.import_official(store, LETTER_2025_07, "2025-07")
    new = code_of(store, "UBND phường Tô Hiệu", "commune")
    merged = {str(r[0]) for r in store.con.execute("SELECT code FROM units WHERE successor_code = ?",
                                                   [new]).fetchall()}
    assert {r["code"] for r in rep["stored"]} <= merged  # both old wards became the new one
    ws = ["-w", str(store.workspace)]
    store.close()
    out = CliRunner().invoke(main, [*ws, "score", "--period", "2025-09", "--unit", new, "--history", "--format",
                                    "json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert {p["code"] for p in data["predecessors"]} == merged
    points = [(p["period"], p["unit_name"], p["predecessor"], p["official_total"]) for p in data["points"]]
    assert points == [("2024-03", "UBND phường Tô Hiệu", True, 77.25),  # by code within a period
                      ("2024-03", "UBND phường Quyết Thắng", True, 70.5),
                      ("2025-07", "UBND phường Tô Hiệu", False, 19.29)]
    table = CliRunner().invoke(main, [*ws, "score", "--period", "2025-09", "--unit", new, "--history"])
    assert "đơn vị trước sắp xếp" in table.output and "77,25" in table.output
    assert CliRunner().invoke(main, [*ws, "score", "--period", "2025-09", "--history"]).exit_code == 2


def test_on_postgresql_the_same_import_review_and_scores(pg_ws: Any, tmp_path: Path) -> None:
    """The shared store: the July 2025 letter, a name confirmed, the official beside ours in scoring."""
    store = pg_ws.store
    rep = api.import_official(store, LETTER_2025_07, "2025-07")
    assert rep["review"] == [] and len(rep["stored"]) == 91
    got = {u["code"]: u["total"] for u in api.official(store, "2025-07")}
    assert got["14.BQLKCN"] == 94 and got[code_of(store, "UBND xã Đoàn Kết", "commune")] == 16.93
    table = tmp_path / "diem.csv"
    table.write_text("Tên đơn vị,Điểm\nTrung tâm Lạ,50\n", encoding="utf-8")
    pending = api.import_official(store, table, "2025-07", level="department")["review"]
    assert len(pending) == 1
    item = api.official_review(store, period="2025-07")[0]
    api.confirm_official(store, item["id"], "14.STP")
    assert {u["code"]: u["total"] for u in api.official(store, "2025-07")}["14.STP"] == 50
    _, results = api.score(store, "2025-07", as_of=datetime(2025, 8, 5, 10), unit="14.STP")
    assert results[0]["official"]["total"] == 50


def test_a_unit_the_catalogue_lacks_is_created_on_confirmation(store: Store, tmp_path: Path) -> None:
    """Issue 11 §3: a department the portal ranks and the catalogue does not have, created once by a user."""
    path = tmp_path / "diem.csv"
    path.write_text("Tên đơn vị,Điểm\nBan Quản lý Khu du lịch quốc gia Mộc Châu,77.7\n", encoding="utf-8")
    rep = api.import_official(store, path, "2025-08", level="department")
    assert len(rep["review"]) == 1
    ws = ["-w", str(store.workspace)]
    store.close()
    runner = CliRunner()
    item = json.loads(runner.invoke(main, [*ws, "official", "review", "--format", "json"]).output)[0]
    bad = runner.invoke(main, [*ws, "official", "review", "--confirm", str(item["id"]), "--create", "bql dl",
                               "--name", "Ban Quản lý Khu du lịch quốc gia Mộc Châu"])
    assert bad.exit_code == 2 and "không hợp lệ" in bad.output
    out = runner.invoke(main, [*ws, "official", "review", "--confirm", str(item["id"]), "--create", "BQLDL",
                               "--name", "Ban Quản lý Khu du lịch quốc gia Mộc Châu"])
    assert out.exit_code == 0, out.output
    with Store.open(store.workspace) as again:
        assert again.con.execute("SELECT name, level, parent_code FROM units WHERE code = '14.BQLDL'").fetchone() == (
            "Ban Quản lý Khu du lịch quốc gia Mộc Châu", "department", "14")
        assert {u["code"]: u["total"] for u in api.official(again, "2025-08")}["14.BQLDL"] == 77.7
        assert "BQLDL,Ban Quản lý Khu du lịch quốc gia Mộc Châu" in (again.workspace / "departments.csv").read_text(
            encoding="utf-8")
        api.init_units(again, "Sơn La", before_2025=True)  # the catalogue rebuilt keeps it
        assert again.con.execute("SELECT name FROM units WHERE code = '14.BQLDL'").fetchone() == (
            "Ban Quản lý Khu du lịch quốc gia Mộc Châu",)
