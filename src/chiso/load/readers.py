"""Readers (đọc tệp): CSV, XLSX, JSON Lines and Parquet into batches of text columns.

Every reader yields :class:`pyarrow.Table` batches whose columns are the file's headers, all as text, plus
``_row``: the row number a person sees — the spreadsheet row for CSV and XLSX (header = row 1), the line
for JSON Lines, the record number (from 1) for Parquet. Typing happens later, in SQL
(:mod:`chiso.load.validate`), so that every bad value is reported with its location instead of failing
the read.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

BATCH_ROWS = 250_000
FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl",
           ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class LoadIssue:
    """One problem, located: ``file:row: column: reason``."""

    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.row}: {self.column}: {self.reason}"


class ReadError(Exception):
    """The file cannot be read at all; carries the located issue."""

    def __init__(self, issue: LoadIssue):
        super().__init__(str(issue))
        self.issue = issue


@dataclass
class Source:
    path: Path
    format: str
    headers: list[str]
    total_rows: int | None
    encoding: str = "utf-8"
    extra: dict[str, Any] = field(default_factory=dict)  # reader state: delimiter, rows already parsed

    def batches(self) -> Iterator[pa.Table]:
        reader = {"csv": _csv_batches, "xlsx": _xlsx_batches, "jsonl": _jsonl_batches,
                  "parquet": _parquet_batches}[self.format]
        yield from reader(self)


def detect_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ReadError(LoadIssue(path.name, 0, "(tệp)", f"không nhận dạng được định dạng '{path.suffix}': "
                                  "chỉ nhận .csv, .xlsx, .jsonl, .parquet"))
    return fmt


def open_source(path: Path, encoding: str = "utf-8") -> Source:
    fmt = detect_format(path)
    if fmt == "csv":
        return _open_csv(path, encoding)
    if fmt == "xlsx":
        return _open_xlsx(path)
    if fmt == "jsonl":
        return _open_jsonl(path)
    return _open_parquet(path)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _table(headers: list[str], rows: list[list[str | None]], first_row: int) -> pa.Table:
    cols = {f"c{i}": pa.array([r[i] if i < len(r) else None for r in rows], pa.string())
            for i in range(len(headers))}
    cols["_row"] = pa.array(range(first_row, first_row + len(rows)), pa.int64())
    return pa.table(cols)


# --- CSV ------------------------------------------------------------------------------------------------


def _check_encoding(path: Path, headers: list[str], delimiter: str) -> None:
    """Fail with the exact row and column of the first byte that is not UTF-8 (e.g. Windows-1258 text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line_no, carry = 1, b""
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            data = carry + chunk
            lines = data.split(b"\n")
            carry = lines.pop()
            for raw in lines:
                _check_line(path, raw, line_no, headers, delimiter, decoder)
                line_no += 1
        if carry:
            _check_line(path, carry, line_no, headers, delimiter, decoder)


def _check_line(path: Path, raw: bytes, line_no: int, headers: list[str], delimiter: str,
                decoder: codecs.IncrementalDecoder) -> None:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        col_index = raw[: exc.start].count(delimiter.encode())
        column = headers[col_index] if col_index < len(headers) else f"cột {col_index + 1}"
        guess = raw.decode("cp1258", errors="replace").strip()[:60]
        raise ReadError(LoadIssue(
            path.name, line_no, column,
            f"tệp không phải UTF-8 (byte 0x{raw[exc.start]:02X}); có thể là Windows-1258 ('{guess}'). "
            "Lưu lại tệp dạng 'CSV UTF-8' hoặc nạp lại với --encoding cp1258",
        )) from None


def _sniff_delimiter(header_line: str) -> str:
    return max((",", ";", "\t"), key=header_line.count)


def _open_csv(path: Path, encoding: str) -> Source:
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        with path.open("r", encoding=enc, newline="") as fh:
            first = fh.readline()
    except UnicodeDecodeError:
        first = path.open("rb").readline().decode("utf-8", errors="replace")
    delimiter = _sniff_delimiter(first)
    headers = next(csv.reader(io.StringIO(first), delimiter=delimiter), [])
    headers = [h.strip().lstrip("\ufeff") for h in headers]
    if not any(headers):
        raise ReadError(LoadIssue(path.name, 1, "(tiêu đề)", "tệp rỗng hoặc không có dòng tiêu đề"))
    if enc == "utf-8-sig":
        _check_encoding(path, headers, delimiter)
    src = Source(path, "csv", headers, None, encoding)
    src.extra["delimiter"] = delimiter
    return src


def _csv_batches(src: Source) -> Iterator[pa.Table]:
    names = [f"c{i}" for i in range(len(src.headers))]
    enc = src.encoding if src.encoding.lower().replace("_", "-") not in ("utf-8", "utf8") else "utf8"
    read = pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24, encoding=enc)
    parse = pacsv.ParseOptions(delimiter=src.extra["delimiter"], newlines_in_values=True,
                               invalid_row_handler=None)
    conv = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                quoted_strings_can_be_null=False)
    next_row = 2
    try:
        reader = pacsv.open_csv(src.path, read_options=read, parse_options=parse, convert_options=conv)
        for batch in reader:
            n = batch.num_rows
            table = pa.Table.from_batches([batch]).append_column(
                "_row", pa.array(range(next_row, next_row + n), pa.int64()))
            next_row += n
            yield table
    except pa.ArrowInvalid as exc:
        raise ReadError(LoadIssue(src.path.name, next_row, "(dòng)", f"không đọc được CSV: {exc}")) from None


# --- XLSX -----------------------------------------------------------------------------------------------


def _open_xlsx(path: Path) -> Source:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own types for broken files
        raise ReadError(LoadIssue(path.name, 0, "(tệp)", f"không mở được tệp Excel: {exc}")) from None
    if not rows:
        raise ReadError(LoadIssue(path.name, 1, "(tiêu đề)", "trang tính đầu tiên trống"))
    headers = [(_text(h) or "").strip() for h in rows[0]]
    while headers and not headers[-1]:
        headers.pop()
    src = Source(path, "xlsx", headers, len(rows) - 1)
    src.extra["rows"] = rows
    return src


def _xlsx_batches(src: Source) -> Iterator[pa.Table]:
    rows: list[list[Any]] = src.extra["rows"]
    width = len(src.headers)
    for start in range(1, len(rows), BATCH_ROWS):
        chunk = rows[start: start + BATCH_ROWS]
        texts, numbers = [], []
        for offset, row in enumerate(chunk):
            cells = [_text(v) for v in row[:width]]
            cells = [None if c == "" else c for c in cells]
            if any(c is not None for c in cells):  # a wholly blank row carries no data
                texts.append(cells)
                numbers.append(start + offset + 1)
        if texts:
            table = _table(src.headers, texts, 0)
            yield table.set_column(table.num_columns - 1, "_row", pa.array(numbers, pa.int64()))


# --- JSON Lines -----------------------------------------------------------------------------------------


def _open_jsonl(path: Path) -> Source:
    headers: list[str] = []
    seen: set[str] = set()
    records: list[tuple[int, dict[str, Any]]] = []
    with path.open("r", encoding="utf-8-sig") as fh:
        try:
            for line_no, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ReadError(LoadIssue(path.name, line_no, "(dòng)", f"JSON không hợp lệ: {exc.msg}")) from None
                if not isinstance(obj, dict):
                    raise ReadError(LoadIssue(path.name, line_no, "(dòng)", "mỗi dòng phải là một đối tượng JSON"))
                for key in obj:
                    if key not in seen:
                        seen.add(key)
                        headers.append(key)
                records.append((line_no, obj))
        except UnicodeDecodeError as exc:
            raise ReadError(LoadIssue(path.name, 0, "(tệp)", f"tệp không phải UTF-8: {exc.reason}")) from None
    src = Source(path, "jsonl", headers, len(records))
    src.extra["records"] = records
    return src


def _jsonl_batches(src: Source) -> Iterator[pa.Table]:
    records: list[tuple[int, dict[str, Any]]] = src.extra["records"]
    for start in range(0, len(records), BATCH_ROWS):
        chunk = records[start: start + BATCH_ROWS]
        rows = []
        for line_no, obj in chunk:
            for key, value in obj.items():
                if isinstance(value, dict | list):
                    raise ReadError(LoadIssue(src.path.name, line_no, key, "giá trị lồng nhau không được hỗ trợ"))
            rows.append([_text(obj.get(h)) for h in src.headers])
        table = _table(src.headers, rows, 0)
        yield table.set_column(table.num_columns - 1, "_row", pa.array([n for n, _ in chunk], pa.int64()))


# --- Parquet --------------------------------------------------------------------------------------------


def _open_parquet(path: Path) -> Source:
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ReadError(LoadIssue(path.name, 0, "(tệp)", f"không mở được tệp Parquet: {exc}")) from None
    src = Source(path, "parquet", list(pf.schema_arrow.names), pf.metadata.num_rows)
    return src


def _as_text(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    t = arr.type
    if pa.types.is_timestamp(t):
        if t.tz is not None:  # to Asia/Ho_Chi_Minh wall time (UTC+7, no DST)
            arr = pc.add(arr.cast(pa.timestamp("us")), pa.scalar(7 * 3600 * 1_000_000, pa.duration("us")))
        return pc.strftime(arr, format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_date(t):
        return pc.strftime(arr, format="%Y-%m-%d")
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "true", "false")
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr.cast(pa.string())
    return arr.cast(pa.string())


def _parquet_batches(src: Source) -> Iterator[pa.Table]:
    pf = pq.ParquetFile(src.path)
    next_row = 1
    for batch in pf.iter_batches(batch_size=BATCH_ROWS):
        cols = {f"c{i}": _as_text(batch.column(i)) for i in range(batch.num_columns)}
        cols["_row"] = pa.array(range(next_row, next_row + batch.num_rows), pa.int64())
        next_row += batch.num_rows
        yield pa.table(cols)
