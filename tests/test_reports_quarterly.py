"""The quarterly one-stop report on the hand-built province of test_scoring.py, calendar window 1/7-30/9/2025,
dossier status at 30/9 23:59:59 (figures worked out by hand from the dossiers' comments there):

communes: X1 early (online), X2 late (direct), X3 open past due (online), X4 early (direct, August), X5 on time
(online, finished on its due day), Y1 early (online) -> total 6, carried over 0, new 6, resolved 5 (83,33 %):
early 3 (60 %), on time 1 (20 %), late 1 (20 %); in progress past due 1; online 4 of 6 (66,67 %).
Evaluation of commune X over its resolved dossiers X1, X2, X4, X5: i1 = i2 = (2 + 0 + 2 + 1) / 4 = 1,25;
i3-i8 = 2 (no supplement, no complaint, no PAKN); i9 = (2 + 1 + 1 + 2) / 4 = 1,5 (online 2; offered online but
filed directly 1) -> 16,00 > 15: Xuất sắc. Commune Y: Y1 everything 2 -> 18,00.
Department Z (the centre): Z1 early (online) -> 1 resolved, 1/1 early or on time (100,00 %), online 100,00 %;
its feedback due in the window F1 on time, F3 late -> 1/2 < 90 % -> i8 = 0 -> 16,00, Xuất sắc.

"Đánh giá chung" from these figures (thresholds of quarterly.py: 95 % early or on time, 50 % online): strengths
the centre's 100,00 % (1/1), online shares 100,00 % and 66,67 % (both >= 50 %), 3/3 units Xuất sắc; weaknesses
the communes' 80,00 % (4/5: X1 X4 Y1 early, X5 on time; X2 late) and the overdue dossiers X2 (late) and X3 (open
past due), both in commune X, which is named, with the same name in "Kiến nghị"."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from chiso.reports.documents import write_quarterly_onestop
from chiso.store.db import Store
from conftest import Workspace
from docs_reader import docx_lines, xlsx_rows
from test_one_count import shown_percent
from test_scoring import load_province


def test_quarterly_onestop_report(ws: Workspace, tmp_path: Path) -> None:
    load_province(ws)
    ws.config('[report]\nwindow = "calendar"\n')
    store = Store.open(ws.store.workspace)
    written = write_quarterly_onestop(store, "2025-Q3", tmp_path, letter_date=date(2025, 10, 10), want_pdf=False)
    word = next(p for p in written.files if p.suffix == ".docx")
    text = "\n".join(docx_lines(word))
    lines = docx_lines(word)
    names = dict(store.con.execute("SELECT code, name FROM units").fetchall())
    for expected in ("Đánh giá việc giải quyết thủ tục hành chính theo cơ chế một cửa, một cửa liên thông quý III "
                     "năm 2025", "(thời điểm từ 01/07/2025 đến hết 30/09/2025)", "Nơi nhận:"):
        assert expected in text, expected
    for expected in ("BÁO CÁO", "Kính gửi: Văn phòng Chính phủ", "I. CẤP TỈNH",
                     "1. Đánh giá cơ quan giải quyết TTHC (Biểu số 01, 02, 03 kèm theo)",
                     "1.1. Trung tâm Phục vụ hành chính công tỉnh:", "1.2. Số cơ quan được đánh giá: 1 cơ quan",
                     "II. CẤP XÃ", "Kết quả tổng hợp như sau: (Biểu số 01, 02, 03 kèm theo)",
                     "1. Xếp loại Bộ phận Một cửa cấp xã:", "III. ĐÁNH GIÁ CHUNG", "1. Ưu điểm", "2. Tồn tại, hạn chế",
                     "IV. KIẾN NGHỊ, ĐỀ XUẤT"):
        assert expected in lines, expected
    # From 1/7/2025: the decree that replaced 61/2018, no district level, no method notes in the body.
    assert ("Thực hiện quy định tại Nghị định số 118/2025/NĐ-CP ngày 09/6/2025 của Chính phủ về thực hiện thủ tục "
            "hành chính theo cơ chế một cửa, một cửa liên thông tại Bộ phận Một cửa và Cổng Dịch vụ công quốc gia."
            ) in lines
    assert "61/2018" not in text and "CẤP HUYỆN" not in text
    assert "phương pháp" not in text and "Tiêu chí" not in text
    assert ("- Tổng số hồ sơ tiếp nhận và giải quyết trong kỳ báo cáo: 6 hồ sơ (Kỳ trước chuyển sang: 0 hồ sơ, "
            "trong kỳ tiếp nhận 6 hồ sơ). Số hồ sơ đã giải quyết 5 hồ sơ, chiếm 83,33%. Trong đó, trả trước hạn 3 hồ "
            "sơ, chiếm 60,00%; trả đúng hạn: 1 hồ sơ, chiếm 20,00%; trả quá hạn: 1 hồ sơ, chiếm 20,00%.") in text
    assert "đang giải quyết quá hạn 1 hồ sơ, chiếm 16,67%" in text
    # A count of none is written as a person writes it, never "0 hồ sơ, chiếm 0,00%": the communes had nothing
    # paused or withdrawn, their online dossiers (X1 X3 X5 Y1) none late, the centre's Z1 none on time or late.
    assert ("Số hồ sơ tạm dừng, bổ sung hồ sơ: không có hồ sơ nào. Số hồ sơ hủy và công dân rút: không có hồ sơ "
            "nào.") in text
    assert ("Trong đó, trả trước hạn 2 hồ sơ, chiếm 66,67%; trả đúng hạn: 1 hồ sơ, chiếm 33,33%; trả quá hạn: "
            "không có hồ sơ nào.") in text
    assert "trả đúng hạn: không có hồ sơ nào; trả quá hạn: không có hồ sơ nào." in text
    assert "chiếm 0,00%" not in text and " 0 hồ sơ, chiếm" not in text
    assert "- Tỷ lệ hồ sơ trực tuyến/tổng hồ sơ tiếp nhận đạt 66,67%." in text
    assert "- 02/02 BPMC cấp xã xếp loại Hoàn thành xuất sắc nhiệm vụ." in lines
    assert "+ 01/01 cơ quan xếp loại Hoàn thành xuất sắc nhiệm vụ." in lines
    general = lines[lines.index("III. ĐÁNH GIÁ CHUNG"):lines.index("IV. KIẾN NGHỊ, ĐỀ XUẤT")]
    strengths = general[general.index("1. Ưu điểm") + 1:general.index("2. Tồn tại, hạn chế")]
    weaknesses = general[general.index("2. Tồn tại, hạn chế") + 1:]
    assert strengths == [
        "- Tỷ lệ hồ sơ đã giải quyết được trả trước hạn và đúng hạn đạt cao: Trung tâm Phục vụ hành chính công tỉnh "
        "100,00% (1/1 hồ sơ).",
        "- Tỷ lệ hồ sơ tiếp nhận trực tuyến: Trung tâm Phục vụ hành chính công tỉnh 100,00%; Bộ phận Một cửa cấp xã "
        "66,67%.",
        "- 3/3 cơ quan, Bộ phận Một cửa được đánh giá xếp loại Hoàn thành xuất sắc nhiệm vụ."]
    x_name = names["03646"]
    assert weaknesses == [
        "- Tỷ lệ hồ sơ đã giải quyết được trả trước hạn và đúng hạn còn thấp: Bộ phận Một cửa cấp xã 80,00% "
        "(4/5 hồ sơ).",
        f"- Còn 1 hồ sơ giải quyết quá hạn và 1 hồ sơ đang giải quyết quá hạn tại 1 cơ quan, đơn vị: {x_name} "
        "(2 hồ sơ)."]
    proposals = lines[lines.index("IV. KIẾN NGHỊ, ĐỀ XUẤT") + 1:]
    assert proposals[0].startswith(f"1. Đề nghị các cơ quan, đơn vị có hồ sơ quá hạn, nhất là {x_name} (2 hồ sơ), "
                                   "rà soát nguyên nhân") and "giải quyết dứt điểm 1 hồ sơ đang quá hạn" in proposals[0]
    excel = next(p for p in written.files if p.suffix == ".xlsx")
    rows = {r[1]: r for r in xlsx_rows(excel, "Đánh giá cơ quan") if r[1] in (names["03646"], names["03667"])}
    x, y = rows[names["03646"]], rows[names["03667"]]
    assert x[3] == 4 and x[4:13] == [1.25, 1.25, 2, 2, 2, 2, 2, 2, 1.5] and x[13] == 16
    assert y[3] == 1 and y[13] == 18 and y[14] == "Hoàn thành xuất sắc nhiệm vụ"
    table = xlsx_rows(excel, "Giải quyết hồ sơ")
    counts = {r[1]: r for r in table if r[1] == names["03646"]}
    # X: X1..X5 -> total 5, resolved X1 X2 X4 X5, early X1 X4, on time X5, late X2, past due X3, online X1 X3 X5
    assert counts[names["03646"]][3:15] == [0, 5, 5, 4, 2, 1, 1, 0, 1, 0, 0, 3]
    # Biểu số 01: each level's totals (I, II) before its units, numbered within the level
    assert [r[:2] for r in table if r[0] in ("I", "II")] == [["I", "Cấp tỉnh"], ["II", "Cấp xã"]]
    communes = table[[r[0] for r in table].index("II"):]
    assert communes[0][3:15] == [0, 6, 6, 5, 3, 1, 1, 0, 1, 0, 0, 4] and [r[0] for r in communes[1:]] == [1, 2]


def test_before_july_2025_the_decree_of_2018_and_the_district_level(ws: Workspace, tmp_path: Path) -> None:
    """A period before 1/7/2025 cites Nghị định 61/2018 (Chương V) and Thông tư 01/2018 (Chương III) as seed 001,
    and keeps the district level: H1 (district 14.D01, early) makes a "II. CẤP HUYỆN" section."""
    from test_cchc import PROCS
    from test_cchc import d as dossier

    ws.load("units", [{"code": "14.D01", "name": "UBND huyện Mai Sơn", "level": "district", "parent_code": "14",
                       "valid_to": "2025-06-30"}])
    ws.load("procedures", PROCS)
    ws.load("dossiers", [dossier("H1", "14.D01", "P3", "direct", "2025-04-01 08:00", "2025-04-10 17:00",
                                 "2025-04-09 10:00")])
    written = write_quarterly_onestop(ws.store, "2025-Q2", tmp_path, letter_date=date(2025, 6, 20), want_pdf=False)
    lines = docx_lines(written.files[0])
    assert ("Thực hiện quy định tại Chương V, Nghị định số 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ về thực hiện "
            "cơ chế một cửa, một cửa liên thông trong giải quyết thủ tục hành chính và Chương III, Thông tư số "
            "01/2018/TT-VPCP ngày 23/11/2018 của Văn phòng Chính phủ.") in lines
    assert "II. CẤP HUYỆN" in lines and "- 01/01 BPMC cấp huyện xếp loại Hoàn thành xuất sắc nhiệm vụ." in lines
    assert "- UBND các huyện, thành phố;" in "\n".join(lines)
    assert "118/2025" not in "\n".join(lines)


def test_cchc_command_writes_the_forms_and_the_input_file(ws: Workspace, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from chiso.cli import main

    load_province(ws)
    ws.config('[report]\nwindow = "calendar"\n')
    r = CliRunner().invoke(main, ["--workspace", str(ws.store.workspace), "report", "cchc", "--period", "2025-Q3",
                                  "--out", str(tmp_path)])
    assert r.exit_code == 0, r.stderr
    forms = tmp_path / "bieu-mau-cchc-2025-Q3.xlsx"
    assert str(forms) in r.stdout and (tmp_path / "nhap-lieu-cchc-2025-Q3.xlsx").exists()
    rows = {row[0]: row for row in xlsx_rows(forms, "Biểu mẫu 3") if row[0]}
    # Communes resolved in Q3 (calendar): X1, X2, X4, X5, Y1 = 5; on time or early: all but X2 = 4 -> 80 %.
    assert rows["3.3.1"][3] == 5 and rows["3.3.2"][3] == 4 and shown_percent(rows["3.3"][3]) == "80,00%"
    assert "chưa nhập" in r.stderr
