"""The quarterly one-stop report on the hand-built province of test_scoring.py, calendar window 1/7-30/9/2025,
dossier status at 30/9 23:59:59 (figures worked out by hand from the dossiers' comments there):

communes: X1 early (online), X2 late (direct), X3 open past due (online), X4 early (direct, August), X5 on time
(online, finished on its due day), Y1 early (online) -> total 6, carried over 0, new 6, resolved 5 (83,33 %):
early 3 (60 %), on time 1 (20 %), late 1 (20 %); in progress past due 1; online 4 of 6 (66,67 %).
Evaluation of commune X over its resolved dossiers X1, X2, X4, X5: i1 = i2 = (2 + 0 + 2 + 1) / 4 = 1,25;
i3-i8 = 2 (no supplement, no complaint, no PAKN); i9 = (2 + 1 + 1 + 2) / 4 = 1,5 (online 2; offered online but
filed directly 1) -> 16,00 > 15: Xuất sắc. Commune Y: Y1 everything 2 -> 18,00."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from chiso.reports.documents import write_quarterly_onestop
from chiso.store.db import Store
from conftest import Workspace
from docs_reader import docx_lines, xlsx_rows
from test_scoring import load_province


def test_quarterly_onestop_report(ws: Workspace, tmp_path: Path) -> None:
    load_province(ws)
    ws.config('[report]\nwindow = "calendar"\n')
    store = Store.open(ws.store.workspace)
    written = write_quarterly_onestop(store, "2025-Q3", tmp_path, letter_date=date(2025, 10, 10), want_pdf=False)
    word = next(p for p in written.files if p.suffix == ".docx")
    text = "\n".join(docx_lines(word))
    for expected in ("BÁO CÁO", "Đánh giá việc giải quyết thủ tục hành chính theo cơ chế một cửa, một cửa liên "
                     "thông quý III năm 2025", "Kính gửi: Văn phòng Chính phủ", "(thời điểm từ 01/07/2025 đến hết "
                     "30/09/2025)", "I. CẤP TỈNH", "II. CẤP XÃ", "III. ĐÁNH GIÁ CHUNG", "IV. KIẾN NGHỊ, ĐỀ XUẤT",
                     "Nơi nhận:"):
        assert expected in text, expected
    assert ("- Tổng số hồ sơ tiếp nhận và giải quyết trong kỳ báo cáo: 6 hồ sơ (Kỳ trước chuyển sang: 0 hồ sơ, "
            "trong kỳ tiếp nhận 6 hồ sơ). Số hồ sơ đã giải quyết 5 hồ sơ, chiếm 83,33%. Trong đó, trả trước hạn 3 hồ "
            "sơ, chiếm 60,00%; trả đúng hạn: 1 hồ sơ, chiếm 20,00%; trả quá hạn: 1 hồ sơ, chiếm 20,00%.") in text
    assert "đang giải quyết quá hạn 1 hồ sơ, chiếm 16,67%" in text
    assert "- Tỷ lệ hồ sơ trực tuyến/tổng hồ sơ tiếp nhận đạt 66,67%." in text
    assert "- 02/02 BPMC xếp loại Hoàn thành xuất sắc nhiệm vụ;" in text
    excel = next(p for p in written.files if p.suffix == ".xlsx")
    names = dict(store.con.execute("SELECT code, name FROM units").fetchall())
    rows = {r[1]: r for r in xlsx_rows(excel, "Đánh giá cơ quan") if r[1] in (names["03646"], names["03667"])}
    x, y = rows[names["03646"]], rows[names["03667"]]
    assert x[3] == 4 and x[4:13] == [1.25, 1.25, 2, 2, 2, 2, 2, 2, 1.5] and x[13] == 16
    assert y[3] == 1 and y[13] == 18 and y[14] == "Hoàn thành xuất sắc nhiệm vụ"
    counts = {r[1]: r for r in xlsx_rows(excel, "Giải quyết hồ sơ") if r[1] == names["03646"]}
    # X: X1..X5 -> total 5, resolved X1 X2 X4 X5, early X1 X4, on time X5, late X2, past due X3, online X1 X3 X5
    assert counts[names["03646"]][3:15] == [0, 5, 5, 4, 2, 1, 1, 0, 1, 0, 0, 3]


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
    assert rows["3.3.1"][3] == 5 and rows["3.3.2"][3] == 4 and rows["3.3"][3] == "80,00%"
    assert "chưa nhập" in r.stderr
