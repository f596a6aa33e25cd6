"""Each reader on real files written by the libraries people export with (openpyxl, pyarrow, csv, json)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chiso import api
from chiso.config import read_mapping_file
from conftest import UNIT, Workspace

PROC = [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days"}]
# The same three dossiers in every format. Expected stored values, in local time (UTC+7):
EXPECTED = {
    "A": (datetime(2025, 7, 1, 8, 30), "online"),
    "B": (datetime(2025, 7, 2, 14, 0), "direct"),
    "C": (datetime(2025, 7, 3, 9, 15), "postal"),
}


def stored(ws: Workspace) -> dict[str, tuple[datetime, str]]:
    rows = ws.store.con.execute("SELECT dossier_id, received_at, channel FROM dossiers").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def test_csv_vietnamese_headers_with_bom_and_diacritics(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    path = tmp_path / "ho-so.csv"
    path.write_text(
        "\ufeffMã hồ sơ,Đơn vị,Mã TTHC,Kênh thực hiện,Ngày tiếp nhận\n"
        f"A,{UNIT},P5,Trực tuyến,01/07/2025 08:30\n"
        f"B,{UNIT},P5,Trực tiếp,2025-07-02T14:00:00\n"
        f"C,{UNIT},P5,Bưu chính,2025-07-03T02:15:00Z\n", encoding="utf-8")
    report = api.load(ws.store, [path])  # table guessed from the header
    assert report.files[0].table == "dossiers"
    assert stored(ws) == EXPECTED


def test_csv_headers_without_diacritics_and_semicolons(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    path = tmp_path / "hoso.csv"
    path.write_text(
        "Ma ho so;Don vi;Ma TTHC;Kenh thuc hien;Ngay tiep nhan\n"
        f"A;{UNIT};P5;truc tuyen;2025-07-01 08:30\n"
        f"B;{UNIT};P5;TRUC TIEP;2/7/2025 14:00:00\n"
        f"C;{UNIT};P5;buu chinh;2025-07-03 09:15:00+07:00\n", encoding="utf-8")
    api.load(ws.store, [path])
    assert stored(ws) == EXPECTED


def test_xlsx_written_by_openpyxl_with_date_cells_and_serials(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Mã hồ sơ", "Đơn vị", "Mã TTHC", "Kênh thực hiện", "Ngày tiếp nhận"])
    sheet.append(["A", UNIT, "P5", "online", datetime(2025, 7, 1, 8, 30)])  # a real date cell
    sheet.append(["B", UNIT, "P5", "direct", "02/07/2025 14:00"])            # text
    # Excel serial 45841.385416667 = 2025-07-03 (45841 days after 1899-12-30) + 0.3854 d = 09:15.
    sheet.append(["C", UNIT, "P5", "postal", 45841.38541666667])
    path = tmp_path / "hoso.xlsx"
    book.save(path)
    api.load(ws.store, [path])
    assert stored(ws) == EXPECTED


def test_jsonl(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    path = tmp_path / "hoso.jsonl"
    lines = [
        {"dossier_id": "A", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
         "received_at": "2025-07-01T08:30:00+07:00"},
        {"dossier_id": "B", "unit_code": UNIT, "procedure_code": "P5", "channel": "direct",
         "received_at": "2025-07-02 14:00", "paid_online": True, "fee_amount": 50000},
        {"dossier_id": "C", "unit_code": UNIT, "procedure_code": "P5", "channel": "postal",
         "received_at": "2025-07-03T09:15:00"},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    api.load(ws.store, [path])
    assert stored(ws) == EXPECTED
    assert ws.store.con.execute("SELECT paid_online, fee_amount FROM dossiers WHERE dossier_id='B'").fetchone() == (
        True, 50000.0)


def test_parquet_typed_columns(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    table = pa.table({
        "dossier_id": ["A", "B", "C"],
        "unit_code": [UNIT] * 3,
        "procedure_code": ["P5"] * 3,
        "channel": ["online", "direct", "postal"],
        # tz-aware UTC timestamps: 01:30Z = 08:30 in Hà Nội time.
        "received_at": pa.array([datetime(2025, 7, 1, 1, 30), datetime(2025, 7, 2, 7, 0),
                                 datetime(2025, 7, 3, 2, 15)], pa.timestamp("us", tz="UTC")),
        "digitized": [True, False, None],
        "supplement_count": pa.array([0, 1, None], pa.int32()),
    })
    path = tmp_path / "hoso.parquet"
    pq.write_table(table, path)
    api.load(ws.store, [path])
    assert stored(ws) == EXPECTED
    rows = ws.store.con.execute("SELECT digitized, supplement_count FROM dossiers ORDER BY dossier_id").fetchall()
    assert rows == [(True, 0), (False, 1), (None, None)]


def test_booleans_and_vietnamese_numbers(ws: Workspace) -> None:
    ws.load("procedures", PROC)
    ws.load("dossiers", [
        {"dossier_id": d, "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
         "received_at": "2025-07-01 08:00", "paid_online": b, "fee_amount": fee}
        for d, b, fee in [("A", "có", "1.500.000"), ("B", "không", "12,5"), ("C", "x", "200"), ("D", "", "")]
    ])
    rows = ws.store.con.execute("SELECT paid_online, fee_amount FROM dossiers ORDER BY dossier_id").fetchall()
    assert rows == [(True, 1_500_000.0), (False, 12.5), (True, 200.0), (None, None)]


def test_user_mapping_file(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    mapping = tmp_path / "mapping.toml"
    mapping.write_text('[dossiers]\n"Số biên nhận" = "dossier_id"\n"Nơi xử lý" = "unit_code"\n', encoding="utf-8")
    path = tmp_path / "export.csv"
    path.write_text(f"Số biên nhận,Nơi xử lý,Mã TTHC,Kênh thực hiện,Ngày tiếp nhận\nA,{UNIT},P5,online,"
                    "01/07/2025 08:30\n", encoding="utf-8")
    api.load(ws.store, [path], mapping=read_mapping_file(mapping))
    assert stored(ws) == {"A": EXPECTED["A"]}


def test_personal_data_columns_are_never_stored(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    path = tmp_path / "hoso.csv"
    path.write_text("Mã hồ sơ,Họ tên,Số CCCD,Địa chỉ,Đơn vị,Mã TTHC,Kênh thực hiện,Ngày tiếp nhận\n"
                    f"A,Nguyễn Văn An,001099012345,Chiềng Lề,{UNIT},P5,online,01/07/2025 08:30\n",
                    encoding="utf-8")
    report = api.load(ws.store, [path])
    assert report.files[0].personal_columns == ["Họ tên", "Số CCCD", "Địa chỉ"]
    ws.store.con.execute("CHECKPOINT")
    raw = (ws.store.workspace / "chiso.duckdb").read_bytes()
    assert b"001099012345" not in raw and "Nguyễn Văn An".encode() not in raw


@pytest.mark.parametrize("text", ["2025-07-01 08:30", "01/07/2025 08:30", "1/7/2025 8:30", "2025-07-01T08:30:00",
                                  "2025-07-01T01:30:00Z", "2025-07-01T08:30:00+0700", "45839.354166667"])
def test_every_date_form(ws: Workspace, text: str) -> None:
    # 45839 days after 1899-12-30 is 2025-07-01; 0.354166667 d = 8.5 h.
    ws.load("procedures", PROC)
    ws.load("dossiers", [{"dossier_id": "A", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
                          "received_at": text}])
    assert stored(ws)["A"][0] == datetime(2025, 7, 1, 8, 30)
