"""Real one-stop exports (issue 9, item 1): a title block above the header, the older and other spreadsheet formats
(.xls, .xlsb, .ods), and CSV in the encodings Vietnamese Windows writes — each through ``chiso.api.load`` into a real
workspace, with the row numbers a person sees.

Test data in tests/data/office/ (our own, a few kB each):

* ``ho-so-mot-cua.xlsx`` was written with openpyxl: sheet "Hồ sơ", a title block of 4 rows (row 1 "DANH SÁCH HỒ SƠ
  TIẾP NHẬN" merged over A1:H1, row 2 "Từ ngày 01/09/2025 đến ngày 30/09/2025", row 3 "Ngày xuất: 01/10/2025 08:15",
  row 4 empty), the header on row 5 (STT, Mã hồ sơ, Đơn vị, Mã TTHC, Kênh thực hiện, Ngày tiếp nhận, Cán bộ xử lý,
  Họ tên người nộp) and 3 dossiers on rows 6–8 (:data:`ROWS`).
* ``ho-so-mot-cua.xls`` and ``ho-so-mot-cua.ods`` are that workbook converted by LibreOffice 7.4 (Calc), with
  ``soffice --headless --convert-to xls`` and ``--convert-to ods``.
* LibreOffice does not write .xlsb: the XLSB workbook is written here, record by record (:func:`write_xlsb`).
"""

from __future__ import annotations

import random
import re
import shutil
import struct
import time
import unicodedata
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from chiso import api
from chiso.load.loader import LoadError
from chiso.load.readers import detect_encoding, open_source
from conftest import UNIT, Workspace, write_csv

DATA = Path(__file__).parent / "data" / "office"
PROC = {"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": "5", "time_unit": "working_days"}
TITLE = [["DANH SÁCH HỒ SƠ TIẾP NHẬN"], ["Từ ngày 01/09/2025 đến ngày 30/09/2025"], ["Ngày xuất: 01/10/2025 08:15"], []]
HEADER = ["STT", "Mã hồ sơ", "Đơn vị", "Mã TTHC", "Kênh thực hiện", "Ngày tiếp nhận", "Cán bộ xử lý",
          "Họ tên người nộp"]
ROWS = [["1", "000.00.14.H53-250908-0001", UNIT, "P5", "Trực tuyến", "08/09/2025 09:00", "Nguyễn Thị Hường",
         "Lê Văn An"],
        ["2", "000.00.14.H53-250909-0002", UNIT, "P5", "Trực tiếp", "09/09/2025 10:30", "Trần Văn Đức", "Lê Thị Bình"],
        ["3", "000.00.14.H53-250910-0003", UNIT, "P5", "Qua bưu chính", "10/09/2025 14:00", "Phạm Thị Ánh",
         "Lê Văn Cường"]]
# What the store holds for ROWS: (dossier_id, channel, received_at, officer).
STORED = [("000.00.14.H53-250908-0001", "online", "2025-09-08 09:00:00", "Nguyễn Thị Hường"),
          ("000.00.14.H53-250909-0002", "direct", "2025-09-09 10:30:00", "Trần Văn Đức"),
          ("000.00.14.H53-250910-0003", "postal", "2025-09-10 14:00:00", "Phạm Thị Ánh")]


def stored(ws: Workspace) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in ws.store.con.execute(
        "SELECT dossier_id, channel, strftime(received_at, '%Y-%m-%d %H:%M:%S'), officer FROM dossiers "
        "ORDER BY dossier_id").fetchall()]


def issues(ws: Workspace, path: Path, **kw: Any) -> list[str]:
    with pytest.raises(LoadError) as info:
        api.load(ws.store, [path], **kw)
    return [str(i) for i in info.value.report.issues]


@pytest.fixture
def ready(ws: Workspace) -> Workspace:
    ws.load("procedures", [PROC])
    return ws


def csv_text(rows: list[list[str]], title: list[list[str]] = TITLE, delimiter: str = ",") -> str:
    """A CSV as one-stop systems export it: the title block padded to the header's width."""
    width = len(HEADER)
    lines = [delimiter.join(r + [""] * (width - len(r))) if r else "" for r in title]
    return "\n".join(lines + [delimiter.join(HEADER)] + [delimiter.join(r) for r in rows]) + "\n"


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed where the code page has the letter, else the base letter and a
    combining tone mark."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            parts = unicodedata.normalize("NFD", ch)
            tones = "".join(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
            base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
            out += base.encode("cp1258") + tones.encode("cp1258")
    return out


# --- title block ------------------------------------------------------------------------------------------


def test_csv_export_with_a_title_block_loads_with_true_row_numbers(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ho-so.csv"
    path.write_text(csv_text(ROWS), encoding="utf-8")
    src = open_source(path)
    assert (src.extra["header_row"], src.extra["skipped_rows"]) == (5, 4)
    report = api.load(ready.store, [path])
    assert report.files[0].inserted == 3
    assert report.files[0].personal_columns == ["Họ tên người nộp"]
    assert stored(ready) == STORED

    bad = [r[:] for r in ROWS]
    bad[2][5] = "31/02/2025 08:00"  # the 3rd data row: row 8 of the file
    path.write_text(csv_text(bad), encoding="utf-8")
    assert issues(ready, path) == [
        "ho-so.csv:8: Ngày tiếp nhận: '31/02/2025 08:00' không phải ngày giờ hợp lệ (dùng yyyy-mm-dd[ HH:MM[:SS]]"
        "[Z|+07|+0700|+07:00], dd/mm/yyyy[ HH:MM[:SS]] hoặc số ngày Excel)"]


def test_csv_title_block_on_the_exact_path_and_across_lines(ready: Workspace, tmp_path: Path) -> None:
    """A quoted title over two lines is one row (pyarrow skips lines, the rows are counted as records), and a
    ragged record sends the file to the exact reader: both number the rows alike."""
    title = [['"DANH SÁCH HỒ SƠ\nTIẾP NHẬN"'], ["Sở Tư pháp"], [], ["Ngày xuất: 01/10/2025"]]
    bad = [r[:] for r in ROWS]
    bad[2][5] = "31/02/2025 08:00"
    path = tmp_path / "ho-so.csv"
    path.write_text(csv_text(bad, title), encoding="utf-8")
    src = open_source(path)
    assert (src.extra["header_row"], src.extra["skip_lines"]) == (5, 6)
    assert [b.column("_row").to_pylist() for b in src.batches()] == [[6, 7, 8]]
    fast = issues(ready, path)
    assert fast[0].startswith("ho-so.csv:8: Ngày tiếp nhận: '31/02/2025 08:00'")
    path.write_text(csv_text([*bad, ["4", "X", UNIT, "P5", "online", "10/09/2025", "A", "B", "thừa"]], title),
                    encoding="utf-8")
    assert issues(ready, path) == [fast[0], "ho-so.csv:9: (dòng): dòng có 9 trường nhưng tiêu đề có 8 cột"]


def test_xlsx_export_with_a_merged_title_loads_with_true_row_numbers(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ho-so.xlsx"
    shutil.copy(DATA / "ho-so-mot-cua.xlsx", path)
    assert api.load(ready.store, [path]).files[0].inserted == 3
    assert stored(ready) == STORED

    book = openpyxl.load_workbook(path)
    assert book.active.merged_cells.ranges and book.active["A1"].value == "DANH SÁCH HỒ SƠ TIẾP NHẬN"
    book.active["F8"] = "31/02/2025 08:00"  # the 3rd data row
    book.save(path)
    [issue] = issues(ready, path)
    assert issue.startswith("ho-so.xlsx:8: Ngày tiếp nhận: '31/02/2025 08:00' không phải ngày giờ hợp lệ")


def test_semicolon_csv_with_bom_and_title(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ho-so.csv"
    path.write_bytes(csv_text(ROWS, delimiter=";").encode("utf-8-sig"))
    assert api.load(ready.store, [path]).files[0].inserted == 3
    assert stored(ready) == STORED


def test_no_header_in_the_first_30_rows_keeps_the_old_messages(ready: Workspace, tmp_path: Path) -> None:
    title = [[f"Ghi chú {i}"] for i in range(30)]
    path = tmp_path / "ho-so.csv"
    path.write_text(csv_text(ROWS, title), encoding="utf-8")
    assert open_source(path).extra["header_row"] == 1
    assert issues(ready, path) == [
        "ho-so.csv:1: (tiêu đề): không nhận ra bảng dữ liệu từ dòng tiêu đề; dùng --table (units, procedures, "
        "calendar, dossiers, pauses, feedback, evaluations, indicator_inputs) hoặc tệp ánh xạ --mapping"]
    [issue] = issues(ready, path, table="dossiers")
    assert issue.startswith("ho-so.csv:1: dossier_id, unit_code, procedure_code, channel, received_at: thiếu cột "
                            "bắt buộc của bảng dossiers")

    book = openpyxl.Workbook()
    for r in title + [HEADER] + ROWS:
        book.active.append(r)
    xlsx = tmp_path / "ho-so.xlsx"
    book.save(xlsx)
    [issue] = issues(ready, xlsx, table="dossiers")
    assert issue.startswith("ho-so.xlsx:1: dossier_id, unit_code, procedure_code, channel, received_at: thiếu cột")

    book = openpyxl.Workbook()
    book.active["A3"] = "dossier_id"  # row 1 empty, no header anywhere
    book.save(xlsx)
    assert issues(ready, xlsx, table="dossiers") == [
        "ho-so.xlsx:1: (tiêu đề): dòng 1 của trang tính đầu tiên trống (dữ liệu bắt đầu ở dòng 3) và không dòng nào "
        "trong 30 dòng đầu có tên cột của một bảng dữ liệu: không tìm thấy dòng tiêu đề"]
    openpyxl.Workbook().save(xlsx)
    assert issues(ready, xlsx) == ["ho-so.xlsx:1: (tiêu đề): trang tính đầu tiên trống"]


def test_header_with_a_missing_column_below_a_title_is_still_found(ready: Workspace, tmp_path: Path) -> None:
    """No row has every required column: the row with the most known names is the header, and the loader says
    which column is missing (its row is the loader's to give)."""
    rows = [r[:4] + r[5:] for r in ROWS]
    path = tmp_path / "ho-so.csv"
    header = HEADER[:4] + HEADER[5:]
    path.write_text("DANH SÁCH HỒ SƠ\n\n" + ",".join(header) + "\n" + "\n".join(",".join(r) for r in rows) + "\n",
                    encoding="utf-8")
    src = open_source(path)
    assert (src.extra["header_row"], src.headers) == (3, header)
    [issue] = issues(ready, path, table="dossiers")
    assert "channel: thiếu cột bắt buộc của bảng dossiers" in issue


# --- other spreadsheet formats ----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["xls", "ods"])
def test_xls_and_ods_made_by_libreoffice(ws: Workspace, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"ho-so.{suffix}"
    shutil.copy(DATA / f"ho-so-mot-cua.{suffix}", path)
    src = open_source(path)
    assert (src.format, src.extra["header_row"], src.extra["skipped_rows"], src.total_rows) == (suffix, 5, 4, 3)
    # Before the procedure exists every row is rejected: each with its true row number.
    assert issues(ws, path) == [f"ho-so.{suffix}:{row}: Mã TTHC: 'P5' không có trong danh mục thủ tục hành chính"
                                for row in (6, 7, 8)]
    ws.load("procedures", [PROC])
    assert api.load(ws.store, [path]).files[0].inserted == 3
    assert stored(ws) == STORED


def _record(typ: int, data: bytes = b"") -> bytes:
    """One XLSB record: type and size as 7-bit varints (MS-XLSB 2.1.4)."""
    head = bytes([typ]) if typ < 0x80 else bytes([(typ & 0x7F) | 0x80, typ >> 7])
    size, out = len(data), b""
    while True:
        out += bytes([(size & 0x7F) | (0x80 if size > 0x7F else 0)])
        size >>= 7
        if not size:
            break
    return head + out + data


def _wide(text: str) -> bytes:
    return struct.pack("<I", len(text)) + text.encode("utf-16-le")


def write_xlsb(path: Path, rows: list[list[str]], far: tuple[int, int] | None = None) -> Path:
    """A minimal XLSB workbook: one sheet of text cells (BrtCellSt), no styles nor shared strings. ``far``: one more
    cell at (row, column), to try the reader's bounds."""
    cells = [(r, c, v) for r, row in enumerate(rows) for c, v in enumerate(row) if v != ""]
    if far:
        cells.append((far[0], far[1], "x"))
    sheet = _record(0x81) + _record(0x94, struct.pack("<IIII", 0, len(rows) - 1, 0, len(HEADER) - 1))
    sheet += _record(0x91)
    for r in sorted({r for r, _, _ in cells}):
        sheet += _record(0x00, struct.pack("<IIHBBBI", r, 0, 0x12C, 0, 0, 0, 0))
        sheet += b"".join(_record(0x06, struct.pack("<II", c, 0) + _wide(v)) for rr, c, v in cells if rr == r)
    sheet += _record(0x92) + _record(0x82)
    book = (_record(0x83) + _record(0x8F) + _record(0x9C, struct.pack("<II", 0, 1) + _wide("rId1") + _wide("Hồ sơ"))
            + _record(0x90) + _record(0x84))
    ns = "http://schemas.openxmlformats.org"
    files = {
        "[Content_Types].xml": f'<?xml version="1.0"?><Types xmlns="{ns}/package/2006/content-types">'
        '<Default Extension="bin" ContentType="application/vnd.ms-excel.sheet.binary.macroEnabled.main"/>'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.bin" ContentType="application/vnd.ms-excel.worksheet"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships"><Relationship '
        f'Id="rId1" Type="{ns}/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.bin"/>'
        "</Relationships>",
        "xl/_rels/workbook.bin.rels": f'<?xml version="1.0"?><Relationships xmlns="{ns}/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{ns}/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.bin"/></Relationships>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text)
        zf.writestr("xl/workbook.bin", book)
        zf.writestr("xl/worksheets/sheet1.bin", sheet)
    return path


def test_xlsb(ready: Workspace, tmp_path: Path) -> None:
    bad = [r[:] for r in ROWS]
    bad[2][5] = "31/02/2025 08:00"
    path = write_xlsb(tmp_path / "ho-so.xlsb", [*TITLE, HEADER, *bad])
    [issue] = issues(ready, path)
    assert issue.startswith("ho-so.xlsb:8: Ngày tiếp nhận: '31/02/2025 08:00' không phải ngày giờ hợp lệ")
    write_xlsb(path, [*TITLE, HEADER, *ROWS])
    assert api.load(ready.store, [path]).files[0].inserted == 3
    assert stored(ready) == STORED


def test_xlsb_cell_far_out_is_refused_before_calamine_allocates(ws: Workspace, tmp_path: Path) -> None:
    """XLSB column numbers are 32-bit: without the scan calamine would try to allocate billions of cells."""
    path = write_xlsb(tmp_path / "xa.xlsb", [HEADER, *ROWS], far=(2, 4_000_000_000))
    started = time.monotonic()
    assert issues(ws, path) == ["xa.xlsb:0: (tệp): tệp Excel có ô ngoài giới hạn của Excel (1.048.576 dòng, cột XFD)"]
    write_xlsb(path, [HEADER, *ROWS], far=(100_000, 16_000))
    assert issues(ws, path) == [
        "xa.xlsb:0: (tệp): vùng dữ liệu của trang tính đầu tiên kéo tới ô WQK100001: 100.001 dòng × 16.001 cột, quá "
        "giới hạn 10.000.000 ô ([limits] xlsx_max_cells trong chiso.toml). Xóa các ô thừa ở xa vùng dữ liệu, hoặc "
        "lưu dạng CSV"]
    assert time.monotonic() - started < 5


def _patched_xls(tmp_path: Path, find: bytes, replace: bytes) -> Path:
    """The LibreOffice .xls with one BIFF record's bytes changed in place (the Workbook stream's sectors are in
    the file as they are: the compound file stays valid)."""
    data = (DATA / "ho-so-mot-cua.xls").read_bytes()
    assert data.count(find) == 1
    path = tmp_path / "gia.xls"
    path.write_bytes(data.replace(find, replace))
    return path


def test_xls_cell_far_out_or_lying_dimensions_refused_before_calamine_opens(ws: Workspace, tmp_path: Path) -> None:
    """Calamine builds every sheet of an .xls when it opens it, from 16-bit rows and columns and the size each
    sheet declares: both are scanned first."""
    data = (DATA / "ho-so-mot-cua.xls").read_bytes()
    # The DIMENSIONS record (0x0200, 14 bytes): rows 0 to 8 and columns 0 to 8 (first, last + 1).
    dims = b"\x00\x02\x0e\x00" + struct.pack("<IIHHH", 0, 8, 0, 8, 0)
    assert data.count(dims) == 1
    path = _patched_xls(tmp_path, dims, b"\x00\x02\x0e\x00" + struct.pack("<IIHHH", 0, 0xFFFFFFFF, 0, 200, 0))
    assert issues(ws, path) == [
        "gia.xls:0: (tệp): trang tính đầu tiên khai báo vùng dữ liệu 858.993.459.000 ô, quá giới hạn 10.000.000 ô "
        "([limits] xlsx_max_cells trong chiso.toml): tệp hỏng hoặc giả mạo, hoặc lưu lại dạng .xlsx hay CSV"]
    # The last cell of the sheet, H8 (row 7, column 7), a LABELSST record (0x00FD) moved to row 60,000, column 200.
    at = data.index(b"\xfd\x00\x0a\x00" + struct.pack("<HH", 7, 7))
    cell = data[at:at + 14]
    path = _patched_xls(tmp_path, cell, cell[:4] + struct.pack("<HH", 59_999, 200) + cell[8:])
    assert issues(ws, path) == [
        "gia.xls:0: (tệp): vùng dữ liệu của trang tính đầu tiên kéo tới ô GS60000: 60.000 dòng × 201 cột, quá giới "
        "hạn 10.000.000 ô ([limits] xlsx_max_cells trong chiso.toml). Xóa các ô thừa ở xa vùng dữ liệu, hoặc lưu "
        "dạng CSV"]


def test_ods_past_the_cell_limit_is_refused_before_its_rows_are_read(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ho-so.ods"
    shutil.copy(DATA / "ho-so-mot-cua.ods", path)
    ws.config("[limits]\nxlsx_max_cells = 50\n")  # 8 rows x 8 columns = 64 cells
    assert issues(ws, path) == [
        "ho-so.ods:0: (tệp): vùng dữ liệu của trang tính đầu tiên kéo tới ô H8: 8 dòng × 8 cột, quá giới hạn 50 ô "
        "([limits] xlsx_max_cells trong chiso.toml). Xóa các ô thừa ở xa vùng dữ liệu, hoặc lưu dạng CSV"]


def test_unknown_suffix_lists_the_formats(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ho-so.numbers"
    path.write_bytes(b"x")
    assert issues(ws, path) == ["ho-so.numbers:0: (tệp): không nhận dạng được định dạng '.numbers': chỉ nhận .csv, "
                                ".xlsx, .xls, .xlsb, .ods, .jsonl, .parquet"]


def test_a_broken_xls_is_a_located_message(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "hong.xls"
    path.write_bytes((DATA / "ho-so-mot-cua.xlsx").read_bytes())  # a zip, not an OLE2 file
    assert issues(ws, path) == ["hong.xls:0: (tệp): không phải tệp .xls hợp lệ (không phải tệp Excel 97–2003)"]


# --- encodings --------------------------------------------------------------------------------------------


def test_windows_1258_csv_loads_without_encoding(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ho-so.csv"
    data = to_cp1258(csv_text(ROWS))
    assert b"\xcc" in data or b"\xde" in data or b"\xd2" in data or b"\xf2" in data  # combining tone marks
    path.write_bytes(data)
    src = open_source(path)
    assert (src.extra["detected_encoding"], src.extra["header_row"]) == ("cp1258", 5)
    assert src.headers == HEADER  # NFC, as typed
    assert api.load(ready.store, [path]).files[0].inserted == 3
    assert stored(ready) == STORED  # the same text as the original, composed (NFC)
    assert all(unicodedata.is_normalized("NFC", r[3]) for r in stored(ready))
    # An explicit encoding still wins: read as cp1252 the tone marks are other letters, and no detection happens.
    assert "detected_encoding" not in open_source(path, "cp1252").extra


def test_windows_1258_on_the_exact_path_is_composed_too(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ho-so.csv"
    path.write_bytes(to_cp1258(csv_text([*ROWS, ["4", "X", UNIT, "P5", "online", "10/09/2025", "Hường", "B", "z"]])))
    report = api.load(ready.store, [path], partial=True)
    assert (report.files[0].inserted, report.files[0].rejected) == (3, 1)
    assert stored(ready) == STORED


def test_utf16_csv_loads_without_encoding(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "ho-so.csv"
    path.write_bytes(csv_text(ROWS, delimiter="\t").encode("utf-16"))  # Excel's "Unicode Text": UTF-16 LE, BOM
    src = open_source(path)
    assert (src.extra["detected_encoding"], src.extra["delimiter"], src.extra["header_row"]) == ("utf-16", "\t", 5)
    assert api.load(ready.store, [path]).files[0].inserted == 3
    assert stored(ready) == STORED
    path.write_bytes(b"\xfe\xff" + csv_text(ROWS).encode("utf-16-be"))
    assert open_source(path).extra["detected_encoding"] == "utf-16"


def test_bytes_that_are_not_vietnamese_are_refused_with_the_located_message(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "rac.csv"
    path.write_bytes(random.Random(9).randbytes(4000))
    assert detect_encoding(path.read_bytes(), whole=True) is None
    [issue] = issues(ws, path)
    assert re.fullmatch(r"rac\.csv:1: cột \d+: tệp không phải UTF-8 \(byte 0x[0-9A-F]{2}\); có thể là Windows-1258: "
                        r"lưu lại tệp dạng 'CSV UTF-8' hoặc nạp lại với --encoding cp1258", issue), issue
    # Western European text is no more Vietnamese: unsure, so UTF-8 and today's message for the row.
    path.write_bytes(("dossier_id,unit_code,procedure_code,channel,received_at,officer\n"
                      f"D1,{UNIT},P5,online,2025-09-08,Müller Straße\n").encode("cp1252"))
    assert detect_encoding(path.read_bytes(), whole=True) is None
    assert issues(ws, path) == ["rac.csv:2: officer: tệp không phải UTF-8 (byte 0xFC); có thể là Windows-1258: lưu "
                                "lại tệp dạng 'CSV UTF-8' hoặc nạp lại với --encoding cp1258"]


def test_utf8_file_with_a_few_windows_1258_bytes_stays_utf8(ready: Workspace, tmp_path: Path) -> None:
    """UTF-8 Vietnamese in the file: it is a UTF-8 file with one bad row, which is rejected naming its column."""
    path = tmp_path / "tron.csv"
    path.write_bytes(csv_text(ROWS).encode() + to_cp1258(f"4,X4,{UNIT},P5,online,10/09/2025,Hường,B\n"))
    assert "detected_encoding" not in open_source(path).extra
    assert issues(ready, path) == ["tron.csv:9: Cán bộ xử lý: tệp không phải UTF-8 (byte 0xFD); có thể là "
                                   "Windows-1258: lưu lại tệp dạng 'CSV UTF-8' hoặc nạp lại với --encoding cp1258"]


def test_detection_decides_from_the_bytes() -> None:
    viet = "Mã hồ sơ,Đơn vị,Ngày tiếp nhận\nH1,Sở Tư pháp,Nguyễn Thị Hường\n"
    assert detect_encoding(viet.encode(), whole=True) == "utf-8"
    assert detect_encoding(viet.encode("utf-8-sig"), whole=True) == "utf-8"
    assert detect_encoding(viet.encode("utf-16"), whole=True) == "utf-16"
    assert detect_encoding(to_cp1258(viet), whole=True) == "cp1258"
    # A UTF-8 character cut by the end of the first bytes is not a bad byte.
    assert detect_encoding(viet.encode()[:5], whole=False) == "utf-8"
    # Windows-1258 with control characters is not text.
    assert detect_encoding(to_cp1258(viet) + b"\x01\x02", whole=True) is None


def test_csv_written_by_the_fixture_is_unchanged(ready: Workspace, tmp_path: Path) -> None:
    """A plain contract CSV (header on row 1) reads as before: header row 1, nothing skipped, nothing detected."""
    path = write_csv(tmp_path / "hoso.csv", [{"dossier_id": "D1", "unit_code": UNIT, "procedure_code": "P5",
                                              "channel": "online", "received_at": "2025-09-08 09:00"}])
    src = open_source(path)
    assert (src.extra["header_row"], src.extra["skipped_rows"], src.extra.get("detected_encoding")) == (1, 0, None)
    assert api.load(ready.store, [path]).files[0].inserted == 1
