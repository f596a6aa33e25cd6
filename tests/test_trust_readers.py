"""Readers under hostile files (issue 14, items 5, 6, 7 and 8): every file ends as rows loaded, rows rejected
with their true numbers, or one located `LoadIssue` — never a traceback, never an allocation the file's size
does not justify. Property tests: what is written is what is staged, for every reader; every row is loaded or
rejected; the date parser agrees with a hand-written one."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chiso import api
from chiso.load.loader import LoadError, LoadReport
from chiso.load.readers import open_source
from chiso.load.validate import datetime_expr
from chiso.store.db import Store
from conftest import UNIT, Workspace

PROC = [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days"}]
HEADER = ["dossier_id", "unit_code", "procedure_code", "channel", "received_at"]


def good(i: int) -> list[Any]:
    return [f"D{i}", UNIT, "P5", "online", "2025-09-08 09:00"]


def load_error(ws: Workspace, path: Path, **kw: Any) -> list[str]:
    with pytest.raises(LoadError) as info:
        api.load(ws.store, [path], **kw)
    return [str(i) for i in info.value.report.issues]


def rejected(report: LoadReport) -> list[tuple[str, str]]:
    path = report.files[0].rejected_file
    assert path is not None
    with path.open(encoding="utf-8", newline="") as fh:
        return [(r["dong"], r["ly_do"]) for r in csv.DictReader(fh)]


def stored_ids(ws: Workspace) -> set[str]:
    return {r[0] for r in ws.store.con.execute("SELECT dossier_id FROM dossiers").fetchall()}


# --- XLSX: bounded before the Excel reader allocates -------------------------------------------------------

# Runs one load in a child process whose address space is capped at 2 GB: a regression (the Excel reader
# allocating the sheet's whole area) makes the child fail, not the machine.
CHILD = textwrap.dedent("""
    import resource, sys
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
    from pathlib import Path
    from chiso import api
    from chiso.load.loader import LoadError
    from chiso.store.db import Store
    with Store.open(Path(sys.argv[1])) as store:
        try:
            api.load(store, [Path(sys.argv[2])], table="dossiers")
        except LoadError as exc:
            print(exc.report.issues[0])
""")


def load_in_capped_child(tmp_path: Path, path: Path) -> tuple[str, float]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", CHILD, str(tmp_path / "ws-child"), str(path)],
                          capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip(), elapsed


def test_xlsx_with_two_far_apart_cells_is_refused_without_allocating(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active["A1"] = "dossier_id"
    book.active["XFD1048576"] = "x"
    path = tmp_path / "bom.xlsx"
    book.save(path)
    assert path.stat().st_size < 6000  # a few kB that the Excel reader would expand to 16,384 x 1,048,576 cells
    message, elapsed = load_in_capped_child(tmp_path, path)
    assert message == (
        "bom.xlsx:0: (tệp): vùng dữ liệu của trang tính đầu tiên kéo tới ô XFD1048576: 1.048.576 dòng × 16.384 cột, "
        "quá giới hạn 10.000.000 ô ([limits] xlsx_max_cells trong chiso.toml). Xóa các ô thừa ở xa vùng dữ liệu, "
        "hoặc lưu dạng CSV")
    assert elapsed < 60


def handmade_xlsx(path: Path, sheet_rows: Iterator[bytes] | bytes, shared: bytes | None = None) -> Path:
    """A minimal workbook written part by part (what openpyxl would refuse to write)."""
    ns = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    parts = {
        "[Content_Types].xml": b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                               b'<Default Extension="xml" ContentType="application/xml"/></Types>',
        "_rels/.rels": b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       b'<Relationship Id="rId1" Type="' + rel + b'/officeDocument" Target="xl/workbook.xml"/>'
                       b"</Relationships>",
        "xl/workbook.xml": b"<workbook " + ns + b' xmlns:r="' + rel + b'"><sheets><sheet name="S" sheetId="1" '
                           b'r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                                      b'relationships"><Relationship Id="rId1" Type="' + rel + b'/worksheet" '
                                      b'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="' + rel
                                      + b'/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
        if shared is not None:
            zf.writestr("xl/sharedStrings.xml", shared)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            fh.write(b"<worksheet " + ns + b"><sheetData>")
            for chunk in [sheet_rows] if isinstance(sheet_rows, bytes) else sheet_rows:
                fh.write(chunk)
            fh.write(b"</sheetData></worksheet>")
    return path


def test_xlsx_of_three_million_rows_is_refused_before_reading(tmp_path: Path) -> None:
    def rows() -> Iterator[bytes]:
        yield b'<row r="1"><c r="A1" t="inlineStr"><is><t>dossier_id</t></is></c></row>'
        for start in range(2, 3_000_002, 100_000):
            yield b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (r, r)
                           for r in range(start, min(start + 100_000, 3_000_002)))

    path = handmade_xlsx(tmp_path / "dai.xlsx", rows())
    assert path.stat().st_size < 20_000_000  # 15 MB; read whole, the Excel reader took 3.3 GB for such a file
    message, elapsed = load_in_capped_child(tmp_path, path)
    assert message == "dai.xlsx:0: (tệp): tệp Excel có ô ngoài giới hạn của Excel (1.048.576 dòng, cột XFD)"
    assert elapsed < 60


def test_xlsx_declaring_billions_of_shared_strings_is_refused(tmp_path: Path) -> None:
    # The Excel reader reserves room for the declared count at open: 4e9 x 24 bytes.
    shared = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
              b'uniqueCount="4000000000"><si><t>dossier_id</t></si></sst>')
    path = handmade_xlsx(tmp_path / "chuoi.xlsx", b'<row r="1"><c r="A1" t="s"><v>0</v></c></row>', shared)
    message, _ = load_in_capped_child(tmp_path, path)
    assert message == ("chuoi.xlsx:0: (tệp): tệp Excel hỏng hoặc giả mạo: khai báo 4.000.000.000 chuỗi dùng "
                       "chung nhưng chỉ có 1")


def test_xlsx_whose_zip_directory_understates_a_part_is_refused(tmp_path: Path) -> None:
    path = handmade_xlsx(tmp_path / "gia.xlsx", b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>x</t></is></c></row>' % (r, r) for r in range(1, 2000)))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    # Declare 100 bytes instead of the real size, in the central directory (what zip readers trust).
    central = data.rfind(b"PK\x01\x02", 0, data.rfind(b"xl/worksheets/sheet1.xml"))
    assert int.from_bytes(data[central + 24: central + 28], "little") in (info.file_size, 0xFFFFFFFF)
    if int.from_bytes(data[central + 24: central + 28], "little") == 0xFFFFFFFF:
        extra = data.find(b"\x01\x00", central + 46 + len(b"xl/worksheets/sheet1.xml"))
        data[extra + 4: extra + 12] = (100).to_bytes(8, "little")
    else:
        data[central + 24: central + 28] = (100).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    ws_dir = tmp_path / "ws"
    with Store.open(ws_dir) as store:
        with pytest.raises(LoadError) as info_:
            api.load(store, [path], table="dossiers")
    assert [str(i) for i in info_.value.report.issues] == [
        "gia.xlsx:0: (tệp): tệp Excel hỏng hoặc giả mạo: phần xl/worksheets/sheet1.xml lớn hơn kích thước khai báo"]


def test_xlsx_limits_come_from_the_configuration(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    book = openpyxl.Workbook()
    book.active.append(HEADER)
    for i in range(1, 30):
        book.active.append(good(i))
    path = tmp_path / "hoso.xlsx"
    book.save(path)
    ws.config("[limits]\nxlsx_max_cells = 100\n")  # 30 rows x 5 columns = 150 cells
    assert load_error(ws, path) == [
        "hoso.xlsx:0: (tệp): vùng dữ liệu của trang tính đầu tiên kéo tới ô E30: 30 dòng × 5 cột, quá giới hạn "
        "100 ô ([limits] xlsx_max_cells trong chiso.toml). Xóa các ô thừa ở xa vùng dữ liệu, hoặc lưu dạng CSV"]
    ws.config("[limits]\nxlsx_max_cells = 150\n")
    assert api.load(ws.store, [path]).files[0].inserted == 29


def test_xlsx_values_under_no_header_reject_their_rows(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([*HEADER[:3], None, *HEADER[3:]])  # column D has no header
    for i in range(1, 6):
        sheet.append([*good(i)[:3], None, *good(i)[3:]])
    sheet["D4"] = "ghi chú lạc cột"      # row 4, under no header
    sheet["H6"] = "ngoài bảng"           # row 6, right of the last header
    path = tmp_path / "hoso.xlsx"
    book.save(path)
    assert load_error(ws, path) == [
        "hoso.xlsx:4: (dòng): ô D4 có giá trị nhưng cột này không có tiêu đề",
        "hoso.xlsx:6: (dòng): ô H6 có giá trị nhưng cột này không có tiêu đề"]
    report = api.load(ws.store, [path], partial=True)
    assert [row for row, _ in rejected(report)] == ["4", "6"]
    assert stored_ids(ws) == {"D1", "D2", "D4"}


def test_an_xlsx_without_a_header_in_its_first_rows_is_refused(ws: Workspace, tmp_path: Path) -> None:
    """A title block above the header is skipped (issue 9), but a sheet with no row that names the columns of a
    contract table is refused with a located message, never read from its first non-empty row."""
    book = openpyxl.Workbook()
    book.active["A3"] = "dossier_id"
    path = tmp_path / "lech.xlsx"
    book.save(path)
    assert load_error(ws, path, table="dossiers") == [
        "lech.xlsx:1: (tiêu đề): dòng 1 của trang tính đầu tiên trống (dữ liệu bắt đầu ở dòng 3) và không dòng nào "
        "trong 30 dòng đầu có tên cột của một bảng dữ liệu: không tìm thấy dòng tiêu đề"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "jsonl", "parquet"])
def test_row_limit_of_every_reader(ws: Workspace, tmp_path: Path, fmt: str) -> None:
    ws.load("procedures", PROC)
    rows = [good(i) for i in range(1, 8)]
    path = tmp_path / f"hoso.{fmt}"
    if fmt == "csv":
        path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    elif fmt == "xlsx":
        book = openpyxl.Workbook()
        for r in [HEADER, *rows]:
            book.active.append(r)
        book.save(path)
    elif fmt == "jsonl":
        path.write_text("\n".join(json.dumps(dict(zip(HEADER, r, strict=True))) for r in rows) + "\n",
                        encoding="utf-8")
    else:
        pq.write_table(pa.table({h: [r[i] for r in rows] for i, h in enumerate(HEADER)}), path)
    ws.config("[limits]\nmax_rows = 5\n")
    [issue] = load_error(ws, path)
    assert issue.startswith(f"hoso.{fmt}:")
    assert issue.endswith("tệp có hơn 5 dòng dữ liệu, quá giới hạn ([limits] max_rows trong chiso.toml); "
                          "chia tệp hoặc nâng giới hạn")
    assert ws.store.count("dossiers") == 0
    ws.config("[limits]\nmax_rows = 7\n")
    assert api.load(ws.store, [path]).files[0].inserted == 7


def test_file_size_and_column_limits(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "rong.csv"
    path.write_text(",".join(HEADER + [f"x{i}" for i in range(20)]) + "\n" + ",".join(good(1)) + "\n",
                    encoding="utf-8")
    ws.config("[limits]\nmax_columns = 10\n")
    assert load_error(ws, path) == [
        "rong.csv:1: (tiêu đề): tệp có 25 cột, quá giới hạn 10 ([limits] max_columns trong chiso.toml)"]
    big = tmp_path / "lon.csv"
    big.write_bytes(b",".join(h.encode() for h in HEADER) + b"\n" + b"x" * (2 << 20))
    ws.config("[limits]\nmax_file_mb = 1\n")
    assert load_error(ws, big) == [
        "lon.csv:0: (tệp): tệp lớn 2 MB, quá giới hạn 1 MB ([limits] max_file_mb trong chiso.toml)"]


def test_a_pipe_is_refused_before_reading(ws: Workspace, tmp_path: Path) -> None:
    import os

    path = tmp_path / "ong.csv"
    os.mkfifo(path)  # nothing writes to it: reading would wait forever
    assert load_error(ws, path) == ["ong.csv:0: (tệp): không phải tệp dữ liệu thông thường"]


def test_a_broken_limits_setting_is_named(ws: Workspace, tmp_path: Path) -> None:
    from chiso.config import ConfigError

    ws.config("[limits]\nmax_rowz = 5\n")
    with pytest.raises(ConfigError, match=r"limits: khóa không hợp lệ 'max_rowz'"):
        api.load(ws.store, [tmp_path / "x.csv"])
    ws.config("[limits]\nmax_rows = -5\n")
    with pytest.raises(ConfigError, match=r"limits\.max_rows: cần một số nguyên dương, không phải '-5'"):
        api.load(ws.store, [tmp_path / "x.csv"])


# --- JSON Lines ------------------------------------------------------------------------------------------


def test_jsonl_bad_lines_reject_their_rows_not_the_file(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    rec = [dict(zip(HEADER, good(i), strict=True)) for i in range(1, 8)]
    rec[1]["channel"] = {"kenh": "online"}             # line 2: nested value in a contract column
    rec[2]["ho_ten"] = {"ho": "Nguyễn", "ten": "An"}  # line 3: nested, but personal: never read
    lines = [json.dumps(r, ensure_ascii=False) for r in rec]
    lines[3] = lines[3][:-1]                          # line 4: broken JSON
    lines[4] = "[1, 2]"                               # line 5: not an object
    lines.insert(5, "")                               # line 6: blank, skipped but counted
    lines[6] = lines[6].replace('"D6"', '"' + "D" * 3_000_000 + '"')  # line 7: 3 MB, above a 2 MB limit
    path = tmp_path / "hoso.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ws.config("[limits]\nmax_record_mb = 2\n")
    # A row the reader cannot take gets the reader's reason, and nothing about its (missing) values.
    assert load_error(ws, path) == [
        "hoso.jsonl:2: channel: giá trị lồng nhau (đối tượng hoặc mảng) không được hỗ trợ",
        f"hoso.jsonl:4: (dòng): JSON không hợp lệ (ở ký tự {len(lines[3]) + 1})",  # the object is never closed
        "hoso.jsonl:5: (dòng): mỗi dòng phải là một đối tượng JSON {…}",
        "hoso.jsonl:7: (dòng): dòng dài hơn 2 MB ([limits] max_record_mb trong chiso.toml)",
    ]
    report = api.load(ws.store, [path], partial=True)
    assert [row for row, _ in rejected(report)] == ["2", "4", "5", "7"]
    assert stored_ids(ws) == {"D1", "D3", "D7"}
    reasons = dict(rejected(report))
    assert reasons["4"].startswith("(dòng): JSON không hợp lệ (ở ký tự ")
    assert reasons["5"].startswith("(dòng): mỗi dòng phải là một đối tượng JSON {…}")
    assert reasons["7"].startswith("(dòng): dòng dài hơn 2 MB ([limits] max_record_mb trong chiso.toml)")


# --- Parquet ---------------------------------------------------------------------------------------------


def parquet_table(**extra: pa.Array) -> pa.Table:
    rows = [good(i) for i in range(1, 4)]
    return pa.table({**{h: [r[i] for r in rows] for i, h in enumerate(HEADER)}, **extra})


def test_parquet_nested_columns_unknown_are_ignored_known_are_named(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    path = tmp_path / "hoso.parquet"
    pq.write_table(parquet_table(**{
        "Họ tên": pa.array([{"ho": "Nguyễn", "ten": "An"}] * 3),
        "tags": pa.array([["a"], [], None], pa.list_(pa.string())),
    }), path)
    report = api.load(ws.store, [path])
    assert report.files[0].inserted == 3 and report.files[0].personal_columns == ["Họ tên"]
    bad = tmp_path / "long.parquet"
    table = parquet_table().drop_columns(["channel"]).append_column(
        "channel", pa.array([["online"]] * 3, pa.list_(pa.string())))
    pq.write_table(table, bad)
    assert load_error(ws, bad) == [
        "long.parquet:0: channel: cột có kiểu lồng nhau (danh sách, cấu trúc) không dùng được cho cột này "
        "(list<element: string>)"]


def test_parquet_out_of_range_integer_is_a_row_error(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    path = tmp_path / "hoso.parquet"
    pq.write_table(parquet_table(supplement_count=pa.array([1, 99_999_999_999, 2**62], pa.int64())), path)
    assert load_error(ws, path) == [
        "hoso.parquet:2: supplement_count: '99999999999' ngoài khoảng cho phép: từ 0 đến 1.000",
        "hoso.parquet:3: supplement_count: '4611686018427387904' không phải số nguyên"]


def test_corrupt_parquet_pages_are_a_located_message(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    path = tmp_path / "hong.parquet"
    pq.write_table(parquet_table(), path, compression="none")
    meta = pq.ParquetFile(path).metadata
    offset = meta.row_group(0).column(HEADER.index("channel")).data_page_offset
    data = bytearray(path.read_bytes())
    data[offset: offset + 24] = b"\xff" * 24  # the page header: no longer decodable
    path.write_bytes(bytes(data))
    [issue] = load_error(ws, path)
    assert issue.startswith("hong.parquet:1: (tệp): dữ liệu Parquet hỏng, không đọc được từ bản ghi 1 (")


# --- CSV: encodings and quoting -----------------------------------------------------------------------------


def test_unknown_encoding_name(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "hoso.csv"
    path.write_text(",".join(HEADER) + "\n" + ",".join(good(1)) + "\n", encoding="utf-8")
    assert load_error(ws, path, encoding="tcvn-3000") == [
        "hoso.csv:0: (tệp): không biết bảng mã 'tcvn-3000' (--encoding); ví dụ: utf-8, cp1258, cp1252, utf-16"]


def test_wrong_but_valid_encoding_rejects_the_rows_it_cannot_decode(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    rows = [good(i) for i in range(1, 6)]
    rows[2][3] = "trực tuyến"  # row 4: not ASCII
    path = tmp_path / "hoso.csv"
    path.write_text("\n".join(",".join(r) for r in [HEADER, *rows]) + "\n", encoding="utf-8")
    assert load_error(ws, path, encoding="ascii") == [
        "hoso.csv:4: channel: byte 0xE1 không đọc được với bảng mã ascii (--encoding)"]
    report = api.load(ws.store, [path], encoding="ascii", partial=True)
    assert [row for row, _ in rejected(report)] == ["4"]
    assert stored_ids(ws) == {"D1", "D2", "D4", "D5"}


def test_a_bad_record_after_the_first_block_restarts_on_the_exact_reader(ws: Workspace, tmp_path: Path) -> None:
    # With 1 MB records the fast reader reads 1 MB blocks: the ragged record at row 40,000 (1.6 MB in) comes after
    # batches were staged, which must be discarded before the exact reader stages the file again.
    ws.load("procedures", PROC)
    ws.config("[limits]\nmax_record_mb = 1\n")
    lines = [",".join(good(i)) for i in range(1, 50_001)]
    lines[40_000 - 2] += ",thừa"
    path = tmp_path / "lon.csv"
    path.write_text(",".join(HEADER) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    assert len((",".join(HEADER) + "\n" + "\n".join(lines[: 40_000 - 2])).encode()) > 3 << 19
    report = api.load(ws.store, [path], partial=True)
    assert (report.files[0].rows_read, report.files[0].inserted) == (50_000, 49_999)
    assert rejected(report) == [("40000", "(dòng): dòng có 6 trường nhưng tiêu đề có 5 cột")]


def test_unclosed_quote_rejects_its_row_and_keeps_the_rows_before(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    lines = [",".join(good(i)) for i in range(1, 6)]
    lines[2] = lines[2].replace("online", '"online')  # row 4: the quote is never closed
    path = tmp_path / "hoso.csv"
    path.write_text(",".join(HEADER) + "\n" + "\n".join(lines) + "\n", encoding="utf-8")
    report = api.load(ws.store, [path], partial=True)
    # The rest of the file is inside the quote: one record, row 4, which has too few fields.
    assert rejected(report)[0][0] == "4"
    assert stored_ids(ws) == {"D1", "D2"}


# --- Properties ------------------------------------------------------------------------------------------

# Cell text: any Unicode (no surrogates: they cannot be written as UTF-8), with the characters that break naive
# readers made frequent.
TRICKY = st.sampled_from([",", ";", "\t", '"', "'", "\n", "\r\n", "=", "+", "-", "@", " ", "\x00", "\u202e",
                          "đ", "Ư", "{{", "}}", "<", "&"])
CELL = st.lists(st.one_of(TRICKY, st.text(max_size=8)), max_size=6).map("".join)


def staged(path: Path, **kw: Any) -> list[list[str | None]]:
    src = open_source(path, **kw)
    out: list[list[str | None]] = []
    for batch in src.batches():
        cols = [batch.column(f"c{i}").to_pylist() for i in range(len(src.headers))]
        out += [list(r) for r in zip(*cols, strict=True)]
        assert batch.column("_bad").null_count == batch.num_rows
    return out


def not_blank(rows: list[list[str]]) -> list[list[str]]:
    return [r for r in rows if any(r)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=6))
def test_csv_round_trip_on_both_paths(tmp_path: Path, rows: list[list[str]]) -> None:
    # tmp_path is shared by the examples: each writes the same file anew.
    path = tmp_path / "p.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([["a", "b", "c"], *rows])
    expected = not_blank(rows)
    assert staged(path) == expected
    src = open_source(path)
    src.extra["exact"] = True
    exact = [list(r) for b in src.batches() for r in zip(*(b.column(f"c{i}").to_pylist() for i in range(3)),
                                                           strict=True)]
    assert exact == expected


XLSX_CELL = CELL.map(lambda s: "".join(ch for ch in s if ch >= " " or ch in "\t\n").replace("\r", ""))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(XLSX_CELL, min_size=3, max_size=3), min_size=1, max_size=5))
def test_xlsx_round_trip(tmp_path: Path, rows: list[list[str]]) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["a", "b", "c"])
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            if value:
                cell = sheet.cell(r, c)
                cell.value = value
                cell.data_type = "s"  # text, even when it starts with "="
    path = tmp_path / "p.xlsx"
    book.save(path)
    expected = [[v or None for v in row] for row in rows if any(row)]
    assert staged(path) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL, min_size=3, max_size=3), min_size=1, max_size=6), ascii_only=st.booleans())
def test_jsonl_round_trip(tmp_path: Path, rows: list[list[str]], ascii_only: bool) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(dict(zip("abc", r, strict=True)), ensure_ascii=ascii_only) + "\n"
                            for r in rows), encoding="utf-8")
    assert staged(path) == rows


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(st.one_of(st.none(), CELL), min_size=3, max_size=3), min_size=1, max_size=6))
def test_parquet_round_trip(tmp_path: Path, rows: list[list[str | None]]) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({c: [r[i] for r in rows] for i, c in enumerate("abc")}), path)
    assert staged(path) == rows


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), suffix=st.sampled_from(["csv", "xlsx", "jsonl", "parquet"]))
def test_no_bytes_crash_a_reader(tmp_path: Path, data: bytes, suffix: str) -> None:
    """Random bytes (and random bytes inside a zip, for XLSX) end as rows or a located ReadError."""
    from chiso.load.readers import ReadError

    path = tmp_path / f"p.{suffix}"
    if suffix == "xlsx":
        handmade_xlsx(path, data)
    else:
        path.write_bytes(b"dossier_id,channel\n" + data if suffix == "csv" else data)
    try:
        for _ in open_source(path).batches():
            pass
    except ReadError as exc:
        assert exc.issue.file == path.name and exc.issue.reason


@pytest.fixture(scope="module")
def shared_ws(units_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    target = tmp_path_factory.mktemp("props") / "ws"
    shutil.copytree(units_template, target)
    with Store.open(target) as store:
        api.load(store, [_write(target.parent / "p.csv", [["code", "name", "time_limit"], ["P5", "P", "5"]])],
                 table="procedures")
        yield store


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


VALUE = st.one_of(CELL, st.sampled_from(["online", "direct", "2025-09-08 09:00", "08/09/2025", "45908.5",
                                         "2025-09-08T09:00+07", "nan", "1e8", "-1", UNIT, "P5", ""]))
_batch = iter(range(1_000_000))


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from([UNIT, "NOPE"]), VALUE, VALUE, VALUE), min_size=1, max_size=8),
       extra=st.lists(st.integers(min_value=0, max_value=7), max_size=2))
def test_every_row_is_loaded_or_rejected_with_its_number(shared_ws: Store, rows: list[tuple[str, ...]],
                                                          extra: list[int]) -> None:
    n = next(_batch)
    lines = [["dossier_id", "unit_code", "procedure_code", "channel", "received_at", "fee_amount"]]
    ids = []
    for i, (unit, channel, received, fee) in enumerate(rows):
        ids.append(f"B{n}-{i}")
        lines.append([ids[-1], unit, "P5", channel, received, fee])
    for i in extra:  # some records get a field too many
        if i < len(rows):
            lines[i + 1].append("thừa")
    path = _write(shared_ws.workspace.parent / f"b{n}.csv", lines)
    report = api.load(shared_ws, [path], partial=True).files[0]
    loaded = {r[0] for r in shared_ws.con.execute(
        "SELECT dossier_id FROM dossiers WHERE dossier_id LIKE ?", [f"B{n}-%"]).fetchall()}
    rejected_rows: set[str] = set()
    if report.rejected_file:
        with report.rejected_file.open(encoding="utf-8", newline="") as fh:
            rejected_rows = {r["dong"] for r in csv.DictReader(fh)}
    for i, did in enumerate(ids):
        assert (did in loaded) != (str(i + 2) in rejected_rows), (i, lines[i + 1])
    assert report.rows_read == len(rows) and report.inserted + report.rejected == len(rows)


# The date parser, against a hand-written one: ISO with every offset form.
_con = duckdb.connect()
_con.execute(f"CREATE MACRO parse_datetime(x) AS {datetime_expr('x')}")


def parse(text: str) -> Any:
    row = _con.execute("SELECT parse_datetime(CAST(? AS VARCHAR))", [text]).fetchone()
    assert row is not None
    return row[0]


@settings(max_examples=300, deadline=None)
@given(moment=st.datetimes(datetime(2015, 1, 2), datetime(2035, 12, 30)).map(lambda d: d.replace(microsecond=0)),
       hours=st.integers(-14, 14), minutes=st.sampled_from([0, 15, 30, 45]),
       form=st.sampled_from(["Z", "+HH", "+HHMM", "+HH:MM", " +HH:MM", "none"]), sep=st.sampled_from(["T", " "]),
       seconds=st.booleans())
def test_iso_dates_with_every_offset_form(moment: datetime, hours: int, minutes: int, form: str, sep: str,
                                          seconds: bool) -> None:
    if not seconds:
        moment = moment.replace(second=0)
    if form in ("Z", "none") or form == "+HH":
        minutes = 0
    if form == "Z":
        hours = 0
    sign = "-" if hours < 0 else "+"
    hh, mm = f"{abs(hours):02d}", f"{minutes:02d}"
    offset = {"Z": "Z", "+HH": f"{sign}{hh}", "+HHMM": f"{sign}{hh}{mm}", "+HH:MM": f"{sign}{hh}:{mm}",
              " +HH:MM": f" {sign}{hh}:{mm}", "none": ""}[form]
    text = moment.strftime(f"%Y-%m-%d{sep}%H:%M" + (":%S" if seconds else "")) + offset
    total = (abs(hours) * 60 + minutes) * (-1 if hours < 0 else 1)
    expected = moment if form == "none" else moment - timedelta(minutes=total) + timedelta(hours=7)
    assert parse(text) == expected


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=40), st.builds(str.__add__, st.sampled_from(["2025-09-08", "2025-09-08 09:00",
                                                                              "08/09/2025 09:00", "45908"]),
                                                      st.text(max_size=6))))
def test_date_parser_never_fails_on_any_text(text: str) -> None:
    value = parse(text)
    assert value is None or isinstance(value, datetime)


@pytest.mark.parametrize("suffix", [" x", "x", "+", "+7", "+07:0", "Z1", "-", ":", "\u202e"])
def test_date_parser_refuses_trailing_text(suffix: str) -> None:
    assert parse("2025-09-08 09:00") == datetime(2025, 9, 8, 9, 0)
    assert parse("2025-09-08 09:00" + suffix) is None


def test_reform_inputs_workbook_is_bounded_like_a_load(tmp_path: Path) -> None:
    """`chiso report cchc --inputs` opens the staff's workbook with openpyxl: the same pre-scan runs first."""
    from chiso.reports.cchc import InputError, read_inputs

    book = openpyxl.Workbook()
    book.active["A1"] = "STT"
    book.active["XFD1048576"] = "x"
    path = tmp_path / "nhap-lieu.xlsx"
    book.save(path)
    with pytest.raises(InputError, match="XFD1048576"):
        read_inputs(path)
