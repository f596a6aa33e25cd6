"""Readers (đọc tệp): CSV, Excel (XLSX, XLS, XLSB), OpenDocument (ODS), JSON Lines and Parquet into batches of
text columns.

Every reader yields :class:`pyarrow.Table` batches with, for the file's columns asked for (``wanted``):

* ``c<i>``: the text of the file's column *i* (typing happens later, in SQL: :mod:`chiso.load.validate`);
* ``_row``: the row number a person sees — the spreadsheet row for CSV and spreadsheets (a CSV record with line
  breaks inside quotes is one row, as a spreadsheet shows it; blank rows count), the line for JSON Lines, the
  record number (from 1) for Parquet;
* ``_bad_col``, ``_bad``: the reader's own verdict on the row, NULL when it is fine — a CSV record with more or
  fewer fields than the header, bytes the encoding cannot decode, a nested JSON value, an Excel cell with a
  value under no header. The validator turns it into an error row, so that row is rejected with its true
  number and the others still load.

Wholly blank rows (every field empty) carry no data and are skipped, as a spreadsheet shows them.

**Title block.** One-stop systems export a title block above the header ("DANH SÁCH HỒ SƠ TIẾP NHẬN …", "Từ
ngày … đến ngày …", the export date, blank rows, a merged title cell). For CSV and spreadsheets the first
:data:`HEADER_SCAN_ROWS` rows are looked at and the header is the first row that has every required column of a
contract table (:data:`chiso.load.contract.TABLES`, headers folded and matched against ``alias_index``), or,
when none has, the row with the most known column names (at least 2). Data starts on the next row and keeps the
file's own numbers (a header on row 5: the first data row is row 6). When no row qualifies, row 1 is the header
as before, so the loader's messages about it ("thiếu cột bắt buộc …") still appear; a sheet whose row 1 is
empty is then refused. ``Source.extra["header_row"]`` is the header's row and ``Source.extra["skipped_rows"]``
the number of rows above it, for the load report.

**Encodings** (CSV). ``--encoding`` other than UTF-8 is used as given. Otherwise (UTF-8 is the command line's
default) the first bytes decide: a UTF-16 byte-order mark → UTF-16; a UTF-8 mark or valid UTF-8 → UTF-8;
otherwise Windows-1258 when the text decoded with it is plausibly Vietnamese (letters with Vietnamese
diacritics, or cp1258's combining tone marks after a vowel, hardly anything else outside ASCII, no control
characters) and the bytes hold no UTF-8 Vietnamese (a UTF-8 file with a few bad bytes stays UTF-8). Unsure: UTF-8,
so the bad bytes give today's located message with its hint (``--encoding cp1258``). Windows-1258 writes tone
marks as combining characters: its text is normalised to NFC. ``Source.extra["detected_encoding"]`` names an
encoding found other than UTF-8 ("cp1258", "utf-16").

Readers stream, within :class:`chiso.config.Limits` (``[limits]`` of chiso.toml): a file past a limit is
refused with a located message *before* anything is allocated for it. The Excel reader (calamine) allocates
the whole used area of a sheet: an XLSX sheet's XML is scanned for its extent first (:func:`scan_xlsx`); an XLS
workbook's records (every sheet: calamine builds them all when it opens the file) and an XLSB sheet's records
are scanned the same way (:func:`scan_xls`, :func:`scan_xlsb`); an ODS sheet is bounded by calamine itself
(1,048,576 rows, 16,384 columns, 100 million cells) and the file size, and checked against the limits once
opened, before any row is read.

CSV has two paths: pyarrow's fast reader, and an exact one on Python's :mod:`csv` that numbers every record.
The fast reader gives up at the first record it cannot take as is (wrong number of fields, bytes that are not
text in the encoding); the file is then read again on the exact path (:class:`Restart`). Both skip the title
block: pyarrow by physical lines (``skip_rows``), the exact path by records.

No message quotes a row's content: a library's error text may hold an applicant's name, so messages say what
and where, never what was there.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import json
import re
import stat
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from chiso.config import Limits
from chiso.load.contract import TABLES, alias_index
from chiso.textnorm import INVISIBLE, fold

BATCH_ROWS = 250_000
BATCH_CELLS = 2_000_000  # batches built in Python (XLSX, JSON Lines, exact CSV) hold at most this many values
FORMATS = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xls", ".xlsb": "xlsb",
           ".ods": "ods", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".parquet": "parquet",
           ".pq": "parquet"}
SHEET_FORMATS = ("xlsx", "xls", "xlsb", "ods")  # read by calamine, first sheet
HEADER_SCAN_ROWS = 30  # rows looked at for the header below a title block
HEAD_BYTES = 256 * 1024  # bytes of a CSV read to tell its encoding and find its header
MB = 1 << 20
HEADER_CHARS = 200
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
ZIP_MAX_ENTRIES = 10_000
ZIP_MAX_DIRECTORY = 4 * MB
XLSX_SMALL_PART = 64 * MB  # workbook parts other than the sheet and the shared strings
_SURROGATE = re.compile("[\ud800-\udfff]")


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


class Restart(Exception):
    """Raised by :meth:`Source.batches` at most once: everything staged from this source must be discarded and
    the batches iterated again (the CSV fast path met a record only the exact path reads right)."""


@dataclass
class Source:
    path: Path
    format: str
    headers: list[str]
    total_rows: int | None
    encoding: str = "utf-8"
    limits: Limits = field(default_factory=Limits)
    extra: dict[str, Any] = field(default_factory=dict)  # reader state: delimiter, codec, open workbook

    def batches(self, wanted: Sequence[int] | None = None) -> Iterator[pa.Table]:
        """Batches with ``c<i>`` for each position in ``wanted`` (default: every column), ``_row``, ``_bad_col``
        and ``_bad``. May raise :class:`Restart` once, and :class:`ReadError` when the file breaks a limit."""
        cols = list(range(len(self.headers))) if wanted is None else list(wanted)
        reader = {"csv": _csv_batches, "jsonl": _jsonl_batches, "parquet": _parquet_batches}.get(
            self.format, _sheet_batches)
        yield from reader(self, cols)


def detect_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ReadError(LoadIssue(path.name, 0, "(tệp)", f"không nhận dạng được định dạng '{clean_header(path.suffix)}'"
                                  ": chỉ nhận .csv, .xlsx, .xls, .xlsb, .ods, .jsonl, .parquet"))
    return fmt


def open_source(path: Path, encoding: str | None = "utf-8", limits: Limits | None = None,
                mapping: dict[str, dict[str, str]] | None = None) -> Source:
    """Open ``path`` for reading: format from the suffix, header found, limits checked. ``encoding`` (CSV):
    None or UTF-8 (the default) means "tell it from the bytes"; another name is used as given. ``mapping``: the
    user's header names, known when looking for the header below a title block."""
    limits = limits or Limits()
    aliases = aliases_for(mapping)
    fmt = detect_format(path)
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):  # a device or a pipe has no size to check and may never end
        raise ReadError(LoadIssue(path.name, 0, "(tệp)", "không phải tệp dữ liệu thông thường"))
    size = info.st_size
    if size > limits.max_file_mb * MB:
        raise ReadError(LoadIssue(path.name, 0, "(tệp)", f"tệp lớn {_n(round(size / MB))} MB, quá giới hạn "
                                  f"{limits.max_file_mb} MB ([limits] max_file_mb trong chiso.toml)"))
    if fmt == "csv":
        src = _open_csv(path, encoding, limits, aliases)
    elif fmt in SHEET_FORMATS:
        src = _open_sheet(path, fmt, limits, aliases)
    elif fmt == "jsonl":
        src = _open_jsonl(path, limits)
    else:
        src = _open_parquet(path, limits)
    if len(src.headers) > limits.max_columns:
        raise ReadError(LoadIssue(path.name, src.extra.get("header_row", 1), "(tiêu đề)",
                                  f"tệp có {_n(len(src.headers))} cột, quá giới hạn {limits.max_columns} "
                                  "([limits] max_columns trong chiso.toml)"))
    return src


def _n(x: int) -> str:
    """1048576 -> '1.048.576', as numbers are written in Vietnamese."""
    from chiso import vnformat

    return vnformat.integer(x)


def clean_header(text: str) -> str:
    """A header as shown in messages and files: no control or invisible characters, at most 200 characters."""
    return INVISIBLE.sub("", text).strip()[:HEADER_CHARS]


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


def _too_many_rows(src_name: str, row: int, limits: Limits) -> ReadError:
    return ReadError(LoadIssue(src_name, row, "(dòng)", f"tệp có hơn {_n(limits.max_rows)} dòng dữ liệu, quá giới "
                               "hạn ([limits] max_rows trong chiso.toml); chia tệp hoặc nâng giới hạn"))


class _Rows:
    """Rows collected in Python, handed out as batches of at most BATCH_CELLS values."""

    def __init__(self, cols: list[int]):
        self.cols = cols
        self.size = max(1000, min(BATCH_ROWS, BATCH_CELLS // max(1, len(cols))))
        self._reset()

    def _reset(self) -> None:
        self.values: dict[int, list[str | None]] = {i: [] for i in self.cols}
        self.rows: list[int] = []
        self.bad_col: list[str | None] = []
        self.bad: list[str | None] = []

    def add(self, row: int, cells: Sequence[str | None], bad: tuple[str, str] | None = None) -> None:
        n = len(cells)
        for i in self.cols:
            self.values[i].append(cells[i] if i < n else None)
        self.rows.append(row)
        self.bad_col.append(bad[0] if bad else None)
        self.bad.append(bad[1] if bad else None)

    @property
    def full(self) -> bool:
        return len(self.rows) >= self.size

    def take(self) -> pa.Table:
        cols: dict[str, pa.Array] = {f"c{i}": pa.array(v, pa.string()) for i, v in self.values.items()}
        cols["_row"] = pa.array(self.rows, pa.int64())
        cols["_bad_col"] = pa.array(self.bad_col, pa.string())
        cols["_bad"] = pa.array(self.bad, pa.string())
        self._reset()
        return pa.table(cols)


def _with_rows(columns: dict[str, pa.Array | pa.ChunkedArray], rows: pa.Array,
               bad_col: pa.Array | None = None, bad: pa.Array | None = None) -> pa.Table:
    n = len(rows)
    out = dict(columns)
    out["_row"] = rows
    out["_bad_col"] = bad_col if bad_col is not None else pa.nulls(n, pa.string())
    out["_bad"] = bad if bad is not None else pa.nulls(n, pa.string())
    return pa.table(out)


def _column_name(index: int) -> str:
    """0 -> 'A', 27 -> 'AB' (Excel column letters)."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name


def _unnamed_value(headers: list[str], cells: Sequence[str | None], row: int, letters: bool) -> tuple[str, str] | None:
    """A value in a column without header (it would be dropped unseen): the row's first such cell."""
    width = len(headers)
    for j, value in enumerate(cells):
        if value is not None and value != "" and (j >= width or not headers[j]):
            where = f"ô {_column_name(j)}{row}" if letters else f"trường thứ {j + 1}"
            return "(dòng)", f"{where} có giá trị nhưng cột này không có tiêu đề"
    return None


# --- CSV ------------------------------------------------------------------------------------------------


_NOT_FILE_ENCODINGS = frozenset({"punycode", "idna", "raw-unicode-escape", "unicode-escape", "undefined"})


def _codecs(path: Path, encoding: str) -> tuple[str, str]:
    """(Python codec, pyarrow codec) for ``--encoding``; a located error for an unknown name."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        info = None
    # Only text encodings that read a file front to back (not hex, base64, rot13, punycode, idna …).
    if info is None or not getattr(info, "_is_text_encoding", True) or info.name in _NOT_FILE_ENCODINGS:
        raise ReadError(LoadIssue(path.name, 0, "(tệp)", f"không biết bảng mã '{clean_header(encoding)[:40]}' "
                                  "(--encoding); ví dụ: utf-8, cp1258, cp1252, utf-16")) from None
    name = info.name
    if name == "utf-8":
        return "utf-8-sig", "utf8"
    return name, name


def _decode_hint(encoding: str, byte: int) -> str:
    if encoding == "utf-8-sig":
        return (f"tệp không phải UTF-8 (byte 0x{byte:02X}); có thể là Windows-1258: lưu lại tệp dạng "
                "'CSV UTF-8' hoặc nạp lại với --encoding cp1258")
    return f"byte 0x{byte:02X} không đọc được với bảng mã {encoding} (--encoding)"


def _sniff_delimiter(header_line: str) -> str:
    return max((",", ";", "\t"), key=header_line.count)


# --- Finding the header below a title block ---------------------------------------------------------------


_ALIASES = [(table.required, alias_index(table)) for table in TABLES.values()]


Aliases = list[tuple[tuple[str, ...], dict[str, str]]]


def aliases_for(mapping: dict[str, dict[str, str]] | None) -> Aliases:
    """The known column names of every table, with a user's mapping (``--mapping``, a profile, chiso.toml)."""
    if not mapping:
        return _ALIASES
    return [(table.required, alias_index(table, mapping.get(table.name))) for table in TABLES.values()]


def header_score(cells: Sequence[str], aliases: Aliases | None = None) -> tuple[bool, int]:
    """How much a row looks like the header of a contract table: (has every required column of some table, the
    most known column names of one table). Cells as :func:`clean_header` gives them."""
    keys = {fold(c) for c in cells if c}
    best = (False, 0)
    for required, index in aliases or _ALIASES:
        hits = {index[k] for k in keys if k in index}
        best = max(best, (all(r in hits for r in required), len(hits)))
    return best


def find_header(rows: Sequence[Sequence[str]], aliases: Aliases | None = None) -> tuple[int, tuple[bool, int]] | None:
    """(index, score) of the header among the first :data:`HEADER_SCAN_ROWS` rows: the first row with every required
    column of a table, else the row with the most known column names (at least 2, the first of equals). None when
    no row qualifies."""
    best: tuple[int, tuple[bool, int]] | None = None
    for i, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = header_score(cells, aliases)
        if score[0]:
            return i, score
        if score[1] >= 2 and (best is None or score[1] > best[1][1]):
            best = (i, score)
    return best


# --- Telling a CSV's encoding -----------------------------------------------------------------------------


_TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")  # grave, acute, tilde, hook above, dot below
_VOWELS = frozenset("aăâeêioôơuưyAĂÂEÊIOÔƠUƯY")
# Every Vietnamese letter outside ASCII, precomposed (NFC): the 12 vowels with each of the 5 tones or none, đ.
_VIETNAMESE = frozenset(unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in ("", *_TONE_MARKS)
                        ) - frozenset("aeiouyAEIOUY") | frozenset("đĐ")
# Characters outside ASCII a Vietnamese export may hold besides letters: typographic quotes and dashes, the dong.
_VIETNAMESE_PUNCTUATION = frozenset("\u00a0‘’“”–—…•°€₫«»·§")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # C0 but tab and line breaks, DEL, C1
_NON_ASCII = re.compile("[^\x00-\x7f]")
_DEFAULT_ENCODINGS = frozenset({"utf-8", "utf-8-sig"})


def plausibly_vietnamese(text: str) -> bool:
    """Text decoded as Windows-1258 reads as Vietnamese: no control characters; among the characters outside
    ASCII at least 2 are Vietnamese letters or tone marks after a vowel, and at most one in 20 is anything else
    (a typographic quote or dash is neither)."""
    if _CONTROL.search(text):
        return False
    letters = other = 0
    for m in _NON_ASCII.finditer(text):
        ch, at = m.group(), m.start()
        if ch in _VIETNAMESE or (ch in _TONE_MARKS and at > 0 and text[at - 1] in _VOWELS):
            letters += 1
        elif ch not in _VIETNAMESE_PUNCTUATION:
            other += 1
    return letters >= 2 and other * 20 <= letters


def detect_encoding(head: bytes, whole: bool = False) -> str | None:
    """The encoding of a CSV from its first bytes (``whole``: they are the whole file): 'utf-16' (byte-order mark),
    'utf-8' (its mark, or valid UTF-8), 'cp1258' (not UTF-8, holds no UTF-8 Vietnamese, and reads as Vietnamese in
    Windows-1258); None when unsure."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    # A multi-byte sequence cut at the end of the head is held back, not taken for a bad byte.
    as_utf8 = codecs.getincrementaldecoder("utf-8")("surrogateescape").decode(head, final=whole)
    if not _SURROGATE.search(as_utf8):
        return "utf-8"
    if any(ch in _VIETNAMESE or ch in _TONE_MARKS for ch in _NON_ASCII.findall(as_utf8)):
        return None  # UTF-8 Vietnamese with a few bad bytes: a UTF-8 file, its bad rows are reported
    try:
        text = head[:64 * 1024].decode("cp1258")
    except UnicodeDecodeError:  # a byte Windows-1258 leaves undefined
        return None
    return "cp1258" if plausibly_vietnamese(text) else None


def _ascii_compatible(py_enc: str) -> bool:
    return "a,\n".encode(py_enc).endswith(b"a,\n")


def _open_csv(path: Path, encoding: str | None, limits: Limits, aliases: Aliases | None = None) -> Source:
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        whole = not fh.read(1)
    detected: str | None = None
    if encoding is None or _codecs(path, encoding)[0] in _DEFAULT_ENCODINGS:
        detected = detect_encoding(head, whole)
        encoding = detected or "utf-8"
    py_enc, pa_enc = _codecs(path, encoding)
    found = _csv_header(head, whole, py_enc, aliases)
    if found is None:
        src = _csv_first_line(path, encoding, py_enc, limits)
    else:
        row, delimiter, record, lines = found
        for j, cell in enumerate(record):
            bad = _SURROGATE.search(cell)
            if bad:
                raise ReadError(LoadIssue(path.name, row, f"cột {j + 1}",
                                          _decode_hint(py_enc, ord(bad.group()) - 0xDC00)))
        src = Source(path, "csv", [clean_header(h) for h in record], None, encoding, limits)
        src.extra.update(delimiter=delimiter, header_row=row, skip_lines=lines)
    nfc = py_enc == "cp1258"  # Windows-1258 writes most tone marks as combining characters
    if nfc:
        src.headers = [clean_header(unicodedata.normalize("NFC", h)) for h in src.headers]
    src.extra.update(py_encoding=py_enc, pa_encoding=pa_enc, nfc=nfc, skipped_rows=src.extra["header_row"] - 1)
    if detected not in (None, "utf-8"):
        src.extra["detected_encoding"] = detected
    return src


def _csv_header(head: bytes, whole: bool, py_enc: str, aliases: Aliases | None = None
                ) -> tuple[int, str, list[str], int] | None:
    """The header among the first records of the file's first bytes: (its row, the delimiter, its fields, the
    physical lines up to its end); None when no record qualifies. Each delimiter is tried; the best header wins."""
    errors = "surrogateescape" if _ascii_compatible(py_enc) else "replace"
    try:
        text = codecs.getincrementaldecoder(py_enc)(errors).decode(head, final=whole)
    except UnicodeError:  # e.g. UTF-16 without its byte-order mark: the first line's reader says it
        return None
    if not whole:  # the last line may be cut: only whole lines
        text = text[:max(text.rfind("\n"), text.rfind("\r")) + 1]
    best: tuple[tuple[bool, int], int, str, list[str], int] | None = None
    first_line = text[:max(text.find("\n"), 0) or len(text)]
    for delimiter in sorted((",", ";", "\t"), key=first_line.count, reverse=True):  # the likeliest first
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        records: list[list[str]] = []
        lines: list[int] = []
        try:
            for record in itertools.islice(reader, HEADER_SCAN_ROWS):
                records.append(record)
                lines.append(reader.line_num)
        except csv.Error:  # a field past csv's size limit, a stray NUL: the rows read so far
            pass
        found = find_header([[clean_header(c) for c in r] for r in records], aliases)
        if found and (best is None or (found[1], -found[0]) > (best[0], -best[1])):
            i = found[0]
            best = (found[1], i, delimiter, records[i], lines[i])
            if i == 0 and found[1][0]:  # a complete header on the first row: no other delimiter can do better
                break
    if best is None:
        return None
    _, i, delimiter, record, lines_to_header = best
    return i + 1, delimiter, record, lines_to_header


def _csv_first_line(path: Path, encoding: str, py_enc: str, limits: Limits) -> Source:
    """No header found below a title block: the first line is the header, as it always was."""
    cap = limits.max_record_mb * MB
    try:
        if _ascii_compatible(py_enc):  # decode the header line alone
            with path.open("rb") as raw:
                first = raw.readline(cap + 1).decode(py_enc)
        else:  # UTF-16 and the like: lines are only found in the decoded text
            with path.open("r", encoding=py_enc, newline="") as fh:
                first = fh.readline(cap + 1)
    except UnicodeDecodeError:
        raise ReadError(_undecodable_header(path, py_enc, cap)) from None
    except UnicodeError:  # e.g. UTF-16 without its byte-order mark
        raise ReadError(LoadIssue(path.name, 1, "(tiêu đề)", f"tệp không đọc được theo bảng mã '{py_enc}' "
                                  "(--encoding); kiểm tra lại bảng mã của tệp")) from None
    if len(first) > cap:
        raise ReadError(LoadIssue(path.name, 1, "(tiêu đề)", f"dòng tiêu đề dài hơn {limits.max_record_mb} MB "
                                  "([limits] max_record_mb trong chiso.toml)"))
    delimiter = _sniff_delimiter(first)
    headers = [clean_header(h) for h in next(csv.reader(io.StringIO(first), delimiter=delimiter), [])]
    if not any(headers):
        raise ReadError(LoadIssue(path.name, 1, "(tiêu đề)", "tệp rỗng hoặc không có dòng tiêu đề"))
    src = Source(path, "csv", headers, None, encoding, limits)
    src.extra.update(delimiter=delimiter, header_row=1, skip_lines=1)
    return src


def _undecodable_header(path: Path, py_enc: str, cap: int) -> LoadIssue:
    """The header line has bytes the encoding cannot decode: name the byte and the column, not the text."""
    with path.open("rb") as fh:
        raw = fh.readline(cap)
    try:
        raw.decode(py_enc)
        start = 0
    except UnicodeDecodeError as exc:
        start = exc.start
    delimiter = max((b",", b";", b"\t"), key=raw.count)
    column = f"cột {raw[:start].count(delimiter) + 1}"
    return LoadIssue(path.name, 1, column, _decode_hint(py_enc, raw[start] if start < len(raw) else 0))


def _csv_batches(src: Source, cols: list[int]) -> Iterator[pa.Table]:
    if not src.extra.get("exact"):
        yielded = False
        try:
            for table in _csv_fast(src, cols):
                yielded = True
                yield table
            return
        except _Fallback:
            src.extra["exact"] = True
            if yielded:
                raise Restart from None
    yield from _csv_exact(src, cols)


class _Fallback(Exception):
    """The fast CSV reader cannot take the file as is."""


def _csv_fast(src: Source, cols: list[int]) -> Iterator[pa.Table]:
    headers = src.headers
    width = len(headers)
    names = [f"c{i}" for i in range(width)]
    # pyarrow skips physical lines (a quoted line break in the title block counts): the lines up to the header.
    read = pacsv.ReadOptions(column_names=names, skip_rows=src.extra["skip_lines"],
                             block_size=max(MB, src.limits.max_record_mb * MB), encoding=src.extra["pa_encoding"])
    # No invalid-row handler: pyarrow stops at the first record with a wrong number of fields (its message quotes
    # the record, so it is never shown) and the exact reader takes over, knowing the row.
    parse = pacsv.ParseOptions(delimiter=src.extra["delimiter"], newlines_in_values=True, ignore_empty_lines=False)
    conv = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=False,
                                quoted_strings_can_be_null=False)
    unnamed = [i for i, h in enumerate(headers) if not h]
    header_row: int = src.extra["header_row"]
    next_row = header_row + 1
    nfc: bool = src.extra["nfc"]
    try:
        reader = pacsv.open_csv(src.path, read_options=read, parse_options=parse, convert_options=conv)
        for batch in reader:
            n = batch.num_rows
            if next_row - header_row - 1 + n > src.limits.max_rows:
                raise _too_many_rows(src.path.name, header_row + src.limits.max_rows + 1, src.limits)
            rows = pa.array(range(next_row, next_row + n), pa.int64())
            next_row += n
            empty = [pc.equal(batch.column(i), "") for i in range(width)]
            blank = empty[0]
            for e in empty[1:]:
                blank = pc.and_(blank, e)
            bad_col = bad = None
            if unnamed:
                # A value under a column without header would be dropped unseen: the exact reader reports it.
                if any(pc.any(pc.invert(empty[i])).as_py() for i in unnamed):
                    raise _Fallback
            columns = {f"c{i}": pc.utf8_normalize(batch.column(i), "NFC") if nfc else batch.column(i) for i in cols}
            table = _with_rows(columns, rows, bad_col, bad)
            if pc.any(blank).as_py():
                table = table.filter(pc.invert(blank))
            yield table
    except (pa.ArrowException, UnicodeError):
        raise _Fallback from None


class _LineTooLong(Exception):
    pass


class _Lines:
    """The physical lines of a text file, each at most ``cap`` characters (a longer one raises, and is skipped)."""

    def __init__(self, fh: IO[str], cap: int):
        self.fh, self.cap = fh, cap

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.fh.readline(self.cap + 1)
        if not line:
            raise StopIteration
        if len(line) > self.cap:
            while line and not line.endswith(("\n", "\r")):
                line = self.fh.readline(self.cap)
            raise _LineTooLong
        return line


def _csv_exact(src: Source, cols: list[int]) -> Iterator[pa.Table]:
    """Every record numbered as a spreadsheet shows it; each record that cannot be taken as is is staged with
    its reason (``_bad``) instead of failing the file."""
    headers, width = src.headers, len(src.headers)
    cap = src.limits.max_record_mb * MB
    csv.field_size_limit(max(csv.field_size_limit(), cap))
    delimiter = src.extra["delimiter"]
    py_enc = src.extra["py_encoding"]
    too_long = (f"dòng dài hơn {src.limits.max_record_mb} MB ([limits] max_record_mb trong chiso.toml) "
                "hoặc có dấu ngoặc kép không đóng")
    header_row: int = src.extra["header_row"]
    nfc: bool = src.extra["nfc"]
    buf = _Rows(cols)
    with src.path.open("r", encoding=py_enc, errors="surrogateescape", newline="") as fh:
        lines = _Lines(fh, cap)
        reader = csv.reader(lines, delimiter=delimiter)
        try:
            for _ in range(header_row):  # the title block and the header, read at open
                next(reader)
        except (StopIteration, csv.Error, _LineTooLong):
            return
        row = header_row
        while True:
            row += 1
            try:
                record = next(reader)
            except StopIteration:
                break
            except (_LineTooLong, csv.Error) as exc:
                reason = too_long if isinstance(exc, _LineTooLong) or "field limit" in str(exc) else (
                    "dòng CSV không hợp lệ (dấu ngoặc kép đặt sai chỗ)")
                buf.add(row, [], ("(dòng)", reason))
                reader = csv.reader(lines, delimiter=delimiter)
                continue
            if row - header_row > src.limits.max_rows:
                raise _too_many_rows(src.path.name, row, src.limits)
            if not any(record):
                continue  # a blank line or a record of empty fields
            bad: tuple[str, str] | None = None
            if len(record) > width and not any(record[width:]):
                record = record[:width]  # trailing empty fields: nothing is lost
            try:
                "".join(record).encode("utf-8")
            except UnicodeEncodeError:
                bad, record = _undecodable_fields(headers, record, py_enc)
            if nfc:
                record = [unicodedata.normalize("NFC", v) for v in record]
            if len(record) != width:
                bad = bad or ("(dòng)", f"dòng có {len(record)} trường nhưng tiêu đề có {width} cột")
            bad = bad or _unnamed_value(headers, record, row, letters=False)
            buf.add(row, record, bad)
            if buf.full:
                yield buf.take()
    if buf.rows:
        yield buf.take()


def _undecodable_fields(headers: list[str], record: list[str], py_enc: str) -> tuple[tuple[str, str], list[str]]:
    """Bytes the encoding could not decode (kept as surrogates): the first field's column, the byte; the fields
    with U+FFFD in their place."""
    bad: tuple[str, str] | None = None
    out = []
    for j, value in enumerate(record):
        m = _SURROGATE.search(value)
        if m and bad is None:
            column = headers[j] if j < len(headers) and headers[j] else f"trường thứ {j + 1}"
            bad = (column, _decode_hint(py_enc, ord(m.group()) - 0xDC00))
        out.append(_SURROGATE.sub("\ufffd", value) if m else value)
    assert bad is not None
    return bad, out


# --- Spreadsheets: XLSX, XLS, XLSB, ODS --------------------------------------------------------------------


_SHEET_KINDS = {"xlsx": "Excel", "xls": "Excel", "xlsb": "Excel", "ods": "bảng tính ODS"}


def _open_sheet(path: Path, fmt: str, limits: Limits, aliases: Aliases | None = None) -> Source:
    """The first sheet of a workbook, through calamine, once the limits are checked (XLSX, XLS, XLSB: before calamine
    reads the file; ODS: once opened, before any row is read)."""
    from python_calamine import CalamineWorkbook

    if fmt == "xlsx":
        data_rows: int | None = scan_xlsx(path, limits)
    elif fmt == "xls":
        data_rows = scan_xls(path, limits)
    elif fmt == "xlsb":
        data_rows = scan_xlsb(path, limits)
    else:
        data_rows = None
    try:
        book = CalamineWorkbook.from_path(str(path))
        sheet = book.get_sheet_by_index(0)
        start, end = sheet.start, sheet.end
        if start is not None and end is not None:
            _check_sheet_area(path, start, end, limits)
        rows = sheet.iter_rows()
        head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    except ReadError:
        raise
    except BaseException as exc:  # calamine's own types for broken files (a Rust panic too); their text is not shown
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
            raise
        raise ReadError(LoadIssue(path.name, 0, "(tệp)", f"không mở được tệp {_SHEET_KINDS[fmt]} "
                                  f"({type(exc).__name__}): tệp hỏng hoặc không phải .{fmt}")) from None
    if not head or start is None or end is None:
        raise ReadError(LoadIssue(path.name, 1, "(tiêu đề)", "trang tính đầu tiên trống"))
    pad: list[Any] = [None] * start[1]
    texts = [[clean_header(_text(c) or "") for c in pad + list(values)] for values in head]
    found = find_header(texts, aliases)
    if found is not None:
        index = found[0]
    elif start[0] == 0:
        index = 0  # no header below a title block: row 1 is the header, as it always was
    else:
        raise ReadError(LoadIssue(path.name, 1, "(tiêu đề)", f"dòng 1 của trang tính đầu tiên trống (dữ liệu bắt "
                                  f"đầu ở dòng {start[0] + 1}) và không dòng nào trong {HEADER_SCAN_ROWS} dòng đầu "
                                  "có tên cột của một bảng dữ liệu: không tìm thấy dòng tiêu đề"))
    header_row = start[0] + index + 1
    headers = texts[index]
    while headers and not headers[-1]:
        headers.pop()
    total = max(0, end[0] + 1 - header_row) if data_rows is None else max(0, data_rows + 1 - header_row)
    src = Source(path, fmt, headers, total, limits=limits)
    src.extra.update(book=book, rows=itertools.chain(head[index + 1:], rows), pad=pad, header_row=header_row,
                     skipped_rows=header_row - 1)
    return src


def _check_sheet_area(path: Path, start: tuple[int, int], end: tuple[int, int], limits: Limits) -> None:
    """The used area calamine holds for the first sheet, against the limits (for formats scanned before, a second
    look that costs nothing)."""
    height, width = end[0] - start[0] + 1, end[1] - start[1] + 1
    if height * width > limits.xlsx_max_cells:
        raise _xlsx_error(path, f"vùng dữ liệu của trang tính đầu tiên kéo tới ô {_column_name(end[1])}{end[0] + 1}: "
                                f"{_n(height)} dòng × {_n(width)} cột, quá giới hạn {_n(limits.xlsx_max_cells)} ô "
                                "([limits] xlsx_max_cells trong chiso.toml). Xóa các ô thừa ở xa vùng dữ liệu, "
                                "hoặc lưu dạng CSV")
    if end[0] > limits.max_rows:
        raise _too_many_rows(path.name, limits.max_rows + 2, limits)


def _sheet_batches(src: Source, cols: list[int]) -> Iterator[pa.Table]:
    rows: Iterator[list[Any]] = src.extra["rows"]
    pad: list[Any] = src.extra["pad"]
    buf = _Rows(cols)
    try:
        for row, values in enumerate(rows, start=src.extra["header_row"] + 1):
            cells = [None if c == "" else c for c in map(_text, pad + values if pad else values)]
            if all(c is None for c in cells):
                continue  # a wholly blank row carries no data
            buf.add(row, cells, _unnamed_value(src.headers, cells, row, letters=True))
            if buf.full:
                yield buf.take()
    except ReadError:
        raise
    except Exception as exc:
        raise ReadError(LoadIssue(src.path.name, 0, "(tệp)", f"không đọc được tệp {_SHEET_KINDS[src.format]} "
                                  f"({type(exc).__name__})")) from None
    if buf.rows:
        yield buf.take()


_TAG = re.compile(rb"""<(/?)(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])((?:[^>"'/]|"[^"]*"|'[^']*'|/(?!>))*)(/?)>""")
_STD_CELL = re.compile(rb"""<c r="([A-Z]{1,3})([0-9]{1,7})"((?:[^>"'/]|"[^"]*"|'[^']*'|/(?!>))*)(/?)>""")
_ANY_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?c(?=[\s/>])")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*["']([A-Za-z]*)([0-9]*)["']""")
_COMPLETE_TAG = re.compile(rb"""<(?:[^<>"']|"[^"]*"|'[^']*')*>""")
_SI = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?si(?=[\s/>])")
_RELATIONSHIP = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?Relationship\b[^>]*>")
_ATTR_TYPE = re.compile(rb"""\sType\s*=\s*["']([^"']*)["']""")
_ATTR_TARGET = re.compile(rb"""\sTarget\s*=\s*["']([^"']*)["']""")
_ATTR_ID = re.compile(rb"""\sId\s*=\s*["']([^"']*)["']""")
_UNIQUE_COUNT = re.compile(rb"""<(?:[A-Za-z_][\w.-]*:)?sst\b[^>]*?\suniqueCount\s*=\s*["']\s*([0-9]+)""")


def _checked_extent(path: Path, ext: _Extent, limits: Limits) -> int:
    """The first sheet's data rows, once its scanned rectangle is inside Excel's grid and the ``[limits]``."""
    if ext.max_row >= EXCEL_ROWS or ext.max_col >= EXCEL_COLUMNS:
        raise _xlsx_error(path, "tệp Excel có ô ngoài giới hạn của Excel (1.048.576 dòng, cột XFD)")
    if ext.area > limits.xlsx_max_cells:
        last = f"{_column_name(ext.max_col)}{ext.max_row + 1}"
        raise _xlsx_error(path, f"vùng dữ liệu của trang tính đầu tiên kéo tới ô {last}: "
                                f"{_n(ext.max_row - ext.min_row + 1)} dòng × {_n(ext.max_col - ext.min_col + 1)} cột, "
                                f"quá giới hạn {_n(limits.xlsx_max_cells)} ô "
                                "([limits] xlsx_max_cells trong chiso.toml). Xóa các ô thừa ở xa vùng dữ liệu, "
                                "hoặc lưu dạng CSV")
    data_rows = max(0, ext.max_row)
    if data_rows > limits.max_rows:
        raise _too_many_rows(path.name, limits.max_rows + 2, limits)
    return data_rows


def _letters_to_index(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n - 1


class _Extent:
    """The used area of a sheet as calamine computes it: cells that have content (not ``<c/>``), by the
    position calamine gives them (their ``r``, or the next column on the current row)."""

    def __init__(self) -> None:
        self.min_row = self.min_col = 1 << 62
        self.max_row = self.max_col = -1
        self.cells = 0

    def add(self, row: int, col: int) -> None:
        self.cells += 1
        self.min_row, self.max_row = min(self.min_row, row), max(self.max_row, row)
        self.min_col, self.max_col = min(self.min_col, col), max(self.max_col, col)

    @property
    def area(self) -> int:
        if self.max_row < 0:
            return 0
        return (self.max_row - self.min_row + 1) * (self.max_col - self.min_col + 1)


def _xlsx_error(path: Path, reason: str) -> ReadError:
    return ReadError(LoadIssue(path.name, 0, "(tệp)", reason))


def _zip_directory_size(path: Path) -> tuple[int, int] | None:
    """(entries, central directory bytes) from the end record, before ``zipfile`` parses the directory."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
        i = tail.rfind(b"PK\x05\x06")
        if i < 0 or len(tail) < i + 22:
            return None
        (entries,) = struct.unpack("<H", tail[i + 10: i + 12])
        (cd_size,) = struct.unpack("<I", tail[i + 12: i + 16])
        j = tail.rfind(b"PK\x06\x07", 0, i)
        if (entries == 0xFFFF or cd_size == 0xFFFFFFFF) and j >= 0 and len(tail) >= j + 16:
            fh.seek(struct.unpack("<Q", tail[j + 8: j + 16])[0])
            rec = fh.read(56)
            if rec[:4] == b"PK\x06\x06" and len(rec) == 56:
                entries, cd_size = struct.unpack("<QQ", rec[32:48])
    return entries, cd_size


def _unzip(path: Path, fh: IO[bytes], info: zipfile.ZipInfo, cap: int) -> Iterator[bytes]:
    """The entry's bytes, decompressed as they come; refused when they exceed the size the zip directory declares
    (a lying directory is how a small file claims to be small) or ``cap``."""
    if info.flag_bits & 0x1:
        raise _xlsx_error(path, "tệp Excel có mật khẩu: lưu lại không đặt mật khẩu")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _xlsx_error(path, f"tệp Excel nén theo cách không hỗ trợ ({info.compress_type})")
    if info.file_size > cap:
        size = _n(round(info.file_size / MB))
        raise _xlsx_error(path, f"phần {clean_header(info.filename)} của tệp Excel lớn {size} MB khi giải nén, "
                                "quá giới hạn ([limits] xlsx_max_unzipped_mb trong chiso.toml)")
    if info.header_offset < 0:
        raise _xlsx_error(path, "tệp Excel hỏng (cấu trúc tệp nén sai)")
    fh.seek(info.header_offset)
    header = fh.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise _xlsx_error(path, "tệp Excel hỏng (cấu trúc tệp nén sai)")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fh.seek(info.header_offset + 30 + name_len + extra_len)
    left = info.compress_size
    deflated = info.compress_type == zipfile.ZIP_DEFLATED
    inflate = zlib.decompressobj(-15)
    produced = 0
    try:
        while left > 0:
            raw = fh.read(min(MB, left))
            if not raw:
                break
            left -= len(raw)
            pending = raw
            while pending:
                if deflated:
                    out, pending = inflate.decompress(pending, MB), inflate.unconsumed_tail
                else:
                    out, pending = pending, b""
                produced += len(out)
                if produced > info.file_size:
                    raise _xlsx_error(path, f"tệp Excel hỏng hoặc giả mạo: phần {clean_header(info.filename)} lớn "
                                            "hơn kích thước khai báo")
                if out:
                    yield out
    except zlib.error:
        raise _xlsx_error(path, "tệp Excel hỏng (dữ liệu nén sai)") from None
    if produced != info.file_size:
        raise _xlsx_error(path, "tệp Excel hỏng: một phần bị cắt cụt")


def _chunks_by_tag(chunks: Iterator[bytes], path: Path) -> Iterator[bytes]:
    """Chunks of XML cut before a tag that is not complete yet, so that no tag is split between two."""
    carry = b""
    for chunk in chunks:
        data = carry + chunk
        last = data.rfind(b"<")
        if last >= 0 and not _COMPLETE_TAG.match(data, last):
            carry, data = data[last:], data[:last]
            if len(carry) > MB:
                raise _xlsx_error(path, "tệp Excel hỏng: thẻ XML dài bất thường")
        else:
            carry = b""
        yield data
    if carry:
        yield carry


def _sheet_extent_fast(chunks: list[bytes] | Iterator[bytes], ext: _Extent) -> bool:
    """Standard sheets (every cell ``<c r="A1" ...>``): positions without Python per tag. False when a cell
    is written another way; the caller then walks the tags."""
    for data in chunks:
        cells = _STD_CELL.findall(data)
        if len(cells) != len(_ANY_CELL.findall(data)):
            return False
        filled = [(c, r) for c, r, _, empty in cells if not empty]
        if not filled:
            continue
        rows = [int(r) - 1 for _, r in filled]
        columns = {c for c, _ in filled}
        ext.cells += len(filled)
        ext.min_row, ext.max_row = min(ext.min_row, min(rows)), max(ext.max_row, max(rows))
        indexes = [_letters_to_index(c) for c in columns]
        ext.min_col, ext.max_col = min(ext.min_col, min(indexes)), max(ext.max_col, max(indexes))
    return True


def _sheet_extent_tags(chunks: Iterator[bytes], ext: _Extent) -> None:
    """Every ``<row>`` and ``<c>`` tag, positions as calamine gives them (a cell without ``r`` is the next
    column of the current row; ``</row>`` moves to the next row)."""
    row = col = 0
    for data in chunks:
        for m in _TAG.finditer(data):
            closing, name, attrs, empty = m.groups()
            if name == b"row":
                if closing:
                    row, col = row + 1, 0
                elif not empty:
                    r = _R_ATTR.search(attrs)
                    if r and r.group(2):
                        row = int(r.group(2)) - 1
                continue
            if closing or empty:
                continue
            r = _R_ATTR.search(attrs)
            if r and r.group(1) and r.group(2):
                if len(r.group(1)) > 3 or len(r.group(2)) > 7:
                    ext.add(EXCEL_ROWS, EXCEL_COLUMNS)  # out of Excel's grid: refused by the caller
                    continue
                cell_row, col = int(r.group(2)) - 1, _letters_to_index(r.group(1))
            elif r:
                ext.add(EXCEL_ROWS, EXCEL_COLUMNS)  # a reference calamine would not read as a cell
                continue
            else:
                cell_row = row
            ext.add(cell_row, col)
            col += 1


def _part(path: Path, names: dict[str, zipfile.ZipInfo], name: str, fh: IO[bytes], cap: int) -> bytes | None:
    info = names.get(name)
    if info is None:
        return None
    return b"".join(_unzip(path, fh, info, cap))


def _first_sheet(path: Path, names: dict[str, zipfile.ZipInfo], fh: IO[bytes]) -> tuple[str, str]:
    """(folder of the workbook part, e.g. 'xl/'; path of the first sheet's XML), as calamine finds them."""
    rels = _part(path, names, "_rels/.rels", fh, XLSX_SMALL_PART) or b""
    book = "xl/workbook.xml"
    for rel in _RELATIONSHIP.findall(rels):
        kind, where = _ATTR_TYPE.search(rel), _ATTR_TARGET.search(rel)
        if kind and where and kind.group(1).endswith(b"/officeDocument"):
            book = where.group(1).decode("utf-8", "replace").lstrip("/")
    folder = book.rsplit("/", 1)[0] + "/" if "/" in book else ""
    workbook = _part(path, names, book, fh, XLSX_SMALL_PART)
    if workbook is None:
        raise _xlsx_error(path, "không phải tệp .xlsx hợp lệ (thiếu phần workbook)")
    sheet = re.search(rb"""<(?:\w+:)?sheet\b[^>]*?\s(?:\w+:)?id\s*=\s*["']([^"']+)["']""", workbook)
    if sheet is None:
        raise _xlsx_error(path, "tệp Excel không có trang tính nào")
    book_rels = _part(path, names, f"{folder}_rels/{book[len(folder):]}.rels", fh, XLSX_SMALL_PART) or b""
    target = None
    for rel in _RELATIONSHIP.findall(book_rels):
        rid, tgt = _ATTR_ID.search(rel), _ATTR_TARGET.search(rel)
        if rid and tgt and rid.group(1) == sheet.group(1):
            target = tgt.group(1).decode("utf-8", "replace")
    if target is None:
        raise _xlsx_error(path, "không tìm thấy trang tính đầu tiên trong tệp Excel")
    sheet_path = target.lstrip("/") if target.startswith("/") else folder + target
    parts: list[str] = []
    for piece in sheet_path.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return folder, "/".join(parts)


def scan_xlsx(path: Path, limits: Limits) -> int:
    """Check, before the Excel reader runs, everything it would allocate for; return the number of data rows.

    The reader (calamine) allocates the whole rectangle between the first and the last cell with content, and
    reserves room for as many shared strings as the file declares. So: the zip directory is bounded; the parts
    the reader reads are decompressed here with their real size checked against the declared one; the first
    sheet's cell references are scanned for the rectangle (rows × columns ≤ ``xlsx_max_cells``, inside Excel's
    grid, rows ≤ ``max_rows``); the shared strings' declared count must match the strings present.
    """
    directory = _zip_directory_size(path)
    if directory and (directory[0] > ZIP_MAX_ENTRIES or directory[1] > ZIP_MAX_DIRECTORY):
        raise _xlsx_error(path, f"tệp Excel có {_n(directory[0])} phần nén, bất thường: không đọc")
    try:
        with zipfile.ZipFile(path) as zf:
            names = {i.filename: i for i in zf.infolist()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise _xlsx_error(path, "không phải tệp .xlsx hợp lệ (không đọc được như tệp nén zip)") from None
    total_cap = limits.xlsx_max_unzipped_mb * MB
    with path.open("rb") as fh:
        folder, sheet_name = _first_sheet(path, names, fh)
        sheet = names.get(sheet_name)
        if sheet is None:
            raise _xlsx_error(path, "không tìm thấy trang tính đầu tiên trong tệp Excel")
        small = [f"{folder}styles.xml", f"{folder}_rels/workbook.xml.rels", "[Content_Types].xml"]
        strings = names.get(f"{folder}sharedStrings.xml")
        declared = sheet.file_size + (strings.file_size if strings else 0)
        declared += sum(names[n].file_size for n in small if n in names)
        if declared > total_cap:
            raise _xlsx_error(path, f"tệp Excel giải nén lớn {_n(round(declared / MB))} MB, quá giới hạn "
                                    f"{limits.xlsx_max_unzipped_mb} MB "
                                    "([limits] xlsx_max_unzipped_mb trong chiso.toml)")
        for name in small:
            _part(path, names, name, fh, XLSX_SMALL_PART)
        if strings is not None:
            _check_shared_strings(path, fh, strings, total_cap, limits)
        ext = _Extent()
        if not _sheet_extent_fast(_chunks_by_tag(_unzip(path, fh, sheet, total_cap), path), ext):
            ext = _Extent()
            _sheet_extent_tags(_chunks_by_tag(_unzip(path, fh, sheet, total_cap), path), ext)
    return _checked_extent(path, ext, limits)


def _check_shared_strings(path: Path, fh: IO[bytes], info: zipfile.ZipInfo, cap: int, limits: Limits) -> None:
    declared: int | None = None
    present = 0
    for data in _chunks_by_tag(_unzip(path, fh, info, cap), path):
        if declared is None:
            m = _UNIQUE_COUNT.search(data)
            if m:
                declared = int(m.group(1)[:20])
        present += len(_SI.findall(data))
    if declared is not None and declared > max(present + 1000, 0) and declared > present * 2:
        raise _xlsx_error(path, f"tệp Excel hỏng hoặc giả mạo: khai báo {_n(declared)} chuỗi dùng chung nhưng chỉ "
                                f"có {_n(present)}")


# --- XLS (Excel 97–2003) and XLSB: the same bound before calamine reads ------------------------------------


_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_END = 0xFFFFFFFE
_OLE_LAST_ID = 0xFFFFFFFA  # ids from here on are markers, not sectors
_BIFF_CELLS = frozenset({0x0203, 0x0204, 0x00D6, 0x0205, 0x027E, 0x00FD, 0x0006})  # number, label, rstring, bool,
# rk, label of the shared strings, formula: each a cell (row, column first) as calamine reads it


def _u16(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 2], "little")


def _u32(data: bytes, at: int) -> int:
    return int.from_bytes(data[at:at + 4], "little")


def _ole_workbook(path: Path, limits: Limits) -> bytes:
    """The Workbook stream of an OLE2 compound file, as calamine reads it (whole, in memory): after the header's
    counts are checked against the file's size (calamine reserves room for them), and the stream's size against
    ``xlsx_max_unzipped_mb``."""
    broken = _xlsx_error(path, "tệp .xls hỏng (cấu trúc tệp Office 97–2003 sai)")
    size = path.stat().st_size
    with path.open("rb") as fh:
        header = fh.read(512)
        if len(header) < 512 or header[:8] != _OLE_SIGNATURE:
            raise _xlsx_error(path, "không phải tệp .xls hợp lệ (không phải tệp Excel 97–2003)")
        shift, mini_shift = _u16(header, 30), _u16(header, 32)
        if shift not in (9, 12) or mini_shift != 6:
            raise broken
        sector_size = 1 << shift
        sectors = max(0, size // sector_size - 1)  # the header fills sector -1
        fat_len, dir_start, cutoff = _u32(header, 44), _u32(header, 48), _u32(header, 56)
        minifat_start, minifat_len = _u32(header, 60), _u32(header, 64)
        difat_start, difat_len = _u32(header, 68), _u32(header, 72)
        if max(fat_len, minifat_len, difat_len) > sectors:
            raise broken

        def sector(n: int) -> bytes:
            if n >= sectors:
                raise broken
            fh.seek((n + 1) * sector_size)
            data = fh.read(sector_size)
            if len(data) < sector_size:
                raise broken
            return data

        fat_ids = [_u32(header, 76 + 4 * i) for i in range(109)]
        nxt = difat_start
        for _ in range(difat_len):
            block = sector(nxt)
            fat_ids += [_u32(block, 4 * i) for i in range(sector_size // 4 - 1)]
            nxt = _u32(block, sector_size - 4)
        fat_bytes = b"".join(sector(n) for n in fat_ids[:fat_len] if n < _OLE_LAST_ID)
        fat = [_u32(fat_bytes, i) for i in range(0, len(fat_bytes), 4)]

        def chain(start: int, table: list[int]) -> list[int]:
            ids: list[int] = []
            while start != _OLE_END:
                if start >= len(table) or len(ids) > len(table):  # out of the table, or a loop
                    raise broken
                ids.append(start)
                start = table[start]
            return ids

        directory = b"".join(sector(n) for n in chain(dir_start, fat))
        entries = [directory[i:i + 128] for i in range(0, len(directory) - 127, 128)]
        if not entries:
            raise broken
        streams: dict[str, bytes] = {}
        for e in entries:
            name = e[:max(0, min(64, _u16(e, 64)) - 2)].decode("utf-16-le", "replace")
            if e[66] == 2 and name not in streams:
                streams[name] = e
        entry = next((streams[n] for n in ("Workbook", "Book", "WORKBOOK", "BOOK") if n in streams), None)
        if entry is None:
            raise _xlsx_error(path, "tệp .xls không có bảng tính (thiếu luồng Workbook)")
        length = _u32(entry, 120) if shift == 9 else int.from_bytes(entry[120:128], "little")
        if length > limits.xlsx_max_unzipped_mb * MB:
            raise _xlsx_error(path, f"bảng tính trong tệp .xls lớn {_n(round(length / MB))} MB, quá giới hạn "
                                    f"{limits.xlsx_max_unzipped_mb} MB "
                                    "([limits] xlsx_max_unzipped_mb trong chiso.toml)")
        start = _u32(entry, 116)
        if length < cutoff:  # kept in the mini stream, in 64-byte sectors
            container = b"".join(sector(n) for n in chain(_u32(entries[0], 116), fat))
            minifat_bytes = b"".join(sector(n) for n in chain(minifat_start, fat)[:minifat_len])
            minifat = [_u32(minifat_bytes, i) for i in range(0, len(minifat_bytes), 4)]
            data = b"".join(container[n << mini_shift:(n + 1) << mini_shift] for n in chain(start, minifat))
        else:
            data = b"".join(sector(n) for n in chain(start, fat))
    return data[:length]


def _biff_records(stream: bytes, pos: int) -> Iterator[tuple[int, bytes]]:
    while pos + 4 <= len(stream):
        typ, length = _u16(stream, pos), _u16(stream, pos + 2)
        yield typ, stream[pos + 4:pos + 4 + length]
        pos += 4 + length


def _biff_reserved(data: bytes) -> int:
    """The cells calamine reserves for a sheet's DIMENSIONS record (its arithmetic, 32-bit wrap included)."""
    if len(data) == 10:
        rf, rl, cf, cl = _u16(data, 0), _u16(data, 2), _u16(data, 4), _u16(data, 6)
    elif len(data) == 14:
        rf, rl, cf, cl = _u32(data, 0), _u32(data, 4), _u16(data, 8), _u16(data, 10)
    else:
        return 0  # calamine refuses the file
    if cf > 0xFF or cl < cf:
        cf = 0
    if rl < 1 or cl < 1:
        return 1
    rows, cols = (rl - 1 - rf + 1) % (1 << 32), (cl - 1 - cf + 1) % (1 << 32)
    return rows * cols


def scan_xls(path: Path, limits: Limits) -> int:
    """Check an Excel 97–2003 workbook before calamine opens it; return the number of data rows of its first sheet.

    Opening the file, calamine reads the whole Workbook stream and builds *every* sheet: for each it reserves the
    cells its DIMENSIONS record declares, and allocates the rectangle between the first and the last cell. So the
    compound file's structure is checked against the file's size, and each sheet's records are scanned (as
    calamine finds them, from the positions the workbook lists): the rectangles and the reservations together
    must stay within ``xlsx_max_cells``, the first sheet's rows within ``max_rows``.
    """
    stream = _ole_workbook(path, limits)
    positions: list[int] = []
    for typ, data in _biff_records(stream, 0):
        if typ == 0x0085 and len(data) >= 4:  # BoundSheet8: where a sheet's records start
            positions.append(_u32(data, 0))
        elif typ == 0x000A:  # end of the workbook globals
            break
    if not positions:
        raise _xlsx_error(path, "tệp Excel không có trang tính nào")
    seen: dict[int, tuple[_Extent, int]] = {}
    total = 0
    for k, pos in enumerate(positions):
        if pos not in seen:
            seen[pos] = _biff_sheet(stream, pos)
        ext, reserved = seen[pos]
        where = "đầu tiên" if k == 0 else f"thứ {k + 1}"
        if ext.max_row >= 0 and ext.area > limits.xlsx_max_cells:
            last = f"{_column_name(ext.max_col)}{ext.max_row + 1}"
            raise _xlsx_error(path, f"vùng dữ liệu của trang tính {where} kéo tới ô {last}: "
                                    f"{_n(ext.max_row - ext.min_row + 1)} dòng × {_n(ext.max_col - ext.min_col + 1)} "
                                    f"cột, quá giới hạn {_n(limits.xlsx_max_cells)} ô ([limits] xlsx_max_cells "
                                    "trong chiso.toml). Xóa các ô thừa ở xa vùng dữ liệu, hoặc lưu dạng CSV")
        if reserved > limits.xlsx_max_cells:
            raise _xlsx_error(path, f"trang tính {where} khai báo vùng dữ liệu {_n(reserved)} ô, quá giới hạn "
                                    f"{_n(limits.xlsx_max_cells)} ô ([limits] xlsx_max_cells trong chiso.toml): "
                                    "tệp hỏng hoặc giả mạo, hoặc lưu lại dạng .xlsx hay CSV")
        total += ext.area + reserved
    if total > limits.xlsx_max_cells:
        raise _xlsx_error(path, f"các trang tính của tệp có tổng cộng {_n(total)} ô, quá giới hạn "
                                f"{_n(limits.xlsx_max_cells)} ô ([limits] xlsx_max_cells trong chiso.toml): "
                                "để trang tính dữ liệu một mình trong tệp, hoặc lưu dạng CSV")
    data_rows = max(0, seen[positions[0]][0].max_row)
    if data_rows > limits.max_rows:
        raise _too_many_rows(path.name, limits.max_rows + 2, limits)
    return data_rows


def _biff_sheet(stream: bytes, pos: int) -> tuple[_Extent, int]:
    """One sheet's cells (their rectangle) and the cells its DIMENSIONS records reserve, as calamine walks it:
    from its BOF to its EOF, nested substreams (embedded charts) skipped."""
    ext = _Extent()
    reserved = 0
    seen_bof = False
    depth = 0
    for typ, data in _biff_records(stream, pos):
        if depth:
            depth += 1 if typ == 0x0809 else -1 if typ == 0x000A else 0
            continue
        if typ == 0x0809:
            if seen_bof:
                depth = 1
            seen_bof = True
        elif typ == 0x0200:
            reserved += _biff_reserved(data)
        elif typ in _BIFF_CELLS and len(data) >= 4:
            ext.add(_u16(data, 0), _u16(data, 2))
        elif typ == 0x00BD and len(data) >= 6:  # MulRk: several cells of one row
            ext.add(_u16(data, 0), _u16(data, 2))
            ext.add(_u16(data, 0), _u16(data, len(data) - 2))
        elif typ == 0x000A:
            break
    return ext, reserved


def _xlsb_records(chunks: Iterator[bytes], keep: int = 16) -> Iterator[tuple[int, bytes]]:
    """(type, first ``keep`` bytes of the data) of each record of an XLSB part (MS-XLSB 2.1.4: type and size are
    little-endian 7-bit varints, of at most 2 and 4 bytes); the rest of a record is skipped, never held."""
    buf = b""
    skip = 0
    for chunk in chunks:
        buf = buf + chunk if buf else chunk
        n, pos = len(buf), 0
        while True:
            if skip:
                take = min(skip, n - pos)
                pos, skip = pos + take, skip - take
                if skip:
                    break
            p = pos
            if p >= n:
                break
            b = buf[p]
            typ, p = b & 0x7F, p + 1
            if b & 0x80:
                if p >= n:
                    break
                typ, p = typ | (buf[p] & 0x7F) << 7, p + 1
            size, complete = 0, True
            for i in range(4):
                if p >= n:
                    complete = False
                    break
                b = buf[p]
                size, p = size | (b & 0x7F) << (7 * i), p + 1
                if not b & 0x80:
                    break
            head = min(size, keep)
            if not complete or n - p < head:
                break
            yield typ, buf[p:p + head]
            pos, skip = p + head, size - head
        buf = buf[pos:]


_XLSB_CELLS = range(0x0002, 0x000C)  # BrtCellRk … BrtFmlaError (BrtCellBlank, 0x0001, is no value)


def scan_xlsb(path: Path, limits: Limits) -> int:
    """Check an XLSB workbook before calamine reads it; return the number of data rows of its first sheet.

    As for XLSX: the zip directory is bounded, the parts calamine reads are decompressed with their real size
    checked, and the first sheet's records are scanned for the rectangle calamine allocates (its column numbers
    are 32-bit: a tiny file could ask for billions of cells)."""
    directory = _zip_directory_size(path)
    if directory and (directory[0] > ZIP_MAX_ENTRIES or directory[1] > ZIP_MAX_DIRECTORY):
        raise _xlsx_error(path, f"tệp Excel có {_n(directory[0])} phần nén, bất thường: không đọc")
    try:
        with zipfile.ZipFile(path) as zf:
            names = {i.filename: i for i in zf.infolist()}
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError, NotImplementedError):
        raise _xlsx_error(path, "không phải tệp .xlsb hợp lệ (không đọc được như tệp nén zip)") from None
    total_cap = limits.xlsx_max_unzipped_mb * MB
    with path.open("rb") as fh:
        book = _part(path, names, "xl/workbook.bin", fh, XLSX_SMALL_PART)
        if book is None:
            raise _xlsx_error(path, "không phải tệp .xlsb hợp lệ (thiếu phần workbook)")
        relid = None
        for typ, data in _xlsb_records(iter([book]), keep=len(book)):
            if typ == 0x009C and len(data) >= 12 and _u32(data, 8) != 0xFFFFFFFF:  # BrtBundleSh: a sheet
                relid = data[12:12 + 2 * _u32(data, 8)].decode("utf-16-le", "replace")  # its relationship
                break
        rels = _part(path, names, "xl/_rels/workbook.bin.rels", fh, XLSX_SMALL_PART) or b""
        target = None
        for rel in _RELATIONSHIP.findall(rels):
            rid, tgt = _ATTR_ID.search(rel), _ATTR_TARGET.search(rel)
            if relid is not None and rid and tgt and rid.group(1).decode("utf-8", "replace") == relid:
                target = tgt.group(1).decode("utf-8", "replace")
        sheet = names.get(f"xl/{target}") if target else None
        if sheet is None:
            raise _xlsx_error(path, "không tìm thấy trang tính đầu tiên trong tệp Excel")
        others = [names[n] for n in ("xl/sharedStrings.bin", "xl/styles.bin") if n in names]
        declared = sheet.file_size + sum(i.file_size for i in others)
        if declared > total_cap:
            raise _xlsx_error(path, f"tệp Excel giải nén lớn {_n(round(declared / MB))} MB, quá giới hạn "
                                    f"{limits.xlsx_max_unzipped_mb} MB "
                                    "([limits] xlsx_max_unzipped_mb trong chiso.toml)")
        for info in others:  # their real size, not the declared one
            for _ in _unzip(path, fh, info, total_cap):
                pass
        ext = _Extent()
        row, started = 0, False
        for typ, data in _xlsb_records(_unzip(path, fh, sheet, total_cap)):
            if typ == 0x0091:  # BrtBeginSheetData
                started = True
            elif not started or len(data) < 4:
                continue
            elif typ == 0x0000:  # BrtRowHdr
                row = _u32(data, 0)
                if row > 0x0010_0000:
                    break  # calamine stops there
            elif typ in _XLSB_CELLS:
                col = _u32(data, 0)
                if col >= EXCEL_COLUMNS:
                    ext.add(EXCEL_ROWS, EXCEL_COLUMNS)  # out of Excel's grid: refused below
                    break
                ext.add(row, col)
            elif typ == 0x0092:  # BrtEndSheetData
                break
    return _checked_extent(path, ext, limits)


# --- JSON Lines -----------------------------------------------------------------------------------------


def _json_lines(src_path: Path, cap: int) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) of every line; None for a line longer than ``cap`` (its bytes are skipped)."""
    with src_path.open("rb") as fh:
        number = 0
        while True:
            line = fh.readline(cap + 1)
            if not line:
                return
            number += 1
            if len(line) > cap:
                while line and not line.endswith(b"\n"):
                    line = fh.readline(cap)
                yield number, None
                continue
            if number == 1 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8):]
            yield number, line


def _json_object(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """The line's object, or why it is not one (no content quoted)."""
    line = line.rstrip(b"\r\n")
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, f"dòng không phải UTF-8 (byte 0x{line[exc.start]:02X})"
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"JSON không hợp lệ (ở ký tự {exc.pos + 1})"
    except RecursionError:
        return None, "JSON lồng nhau quá sâu"
    except ValueError:
        return None, "JSON có số quá dài"
    if not isinstance(obj, dict):
        return None, "mỗi dòng phải là một đối tượng JSON {…}"
    return obj, None


def _open_jsonl(path: Path, limits: Limits) -> Source:
    keys: list[str] = []
    seen: set[str] = set()
    rows = 0
    for line_no, line in _json_lines(path, limits.max_record_mb * MB):
        if line is not None and not line.strip():
            continue
        rows += 1
        if rows > limits.max_rows:
            raise _too_many_rows(path.name, line_no, limits)
        obj = _json_object(line)[0] if line is not None else None
        for key in obj or ():
            if key not in seen:
                seen.add(key)
                keys.append(key)
                if len(keys) > limits.max_columns:
                    raise ReadError(LoadIssue(path.name, line_no, "(dòng)", f"tệp có hơn {limits.max_columns} tên "
                                              "trường khác nhau ([limits] max_columns trong chiso.toml)"))
    src = Source(path, "jsonl", [clean_header(k) for k in keys], rows, limits=limits)
    src.extra["keys"] = keys
    return src


def _jsonl_batches(src: Source, cols: list[int]) -> Iterator[pa.Table]:
    keys: list[str] = src.extra["keys"]
    buf = _Rows(cols)
    too_long = f"dòng dài hơn {src.limits.max_record_mb} MB ([limits] max_record_mb trong chiso.toml)"
    for line_no, line in _json_lines(src.path, src.limits.max_record_mb * MB):
        if line is None:
            buf.add(line_no, [], ("(dòng)", too_long))
        elif not line.strip():
            continue
        else:
            obj, problem = _json_object(line)
            if obj is None:
                buf.add(line_no, [], ("(dòng)", problem or ""))
            else:
                cells, bad = _json_cells(src, keys, cols, obj)
                buf.add(line_no, cells, bad)
        if buf.full:
            yield buf.take()
    if buf.rows:
        yield buf.take()


def _json_cells(src: Source, keys: list[str], cols: list[int], obj: dict[str, Any]
                ) -> tuple[list[str | None], tuple[str, str] | None]:
    cells: list[str | None] = [None] * len(keys)
    bad: tuple[str, str] | None = None
    for i in cols:
        value = obj.get(keys[i])
        if isinstance(value, dict | list):
            bad = bad or (src.headers[i], "giá trị lồng nhau (đối tượng hoặc mảng) không được hỗ trợ")
            continue
        text = _text(value)
        if text is not None and _SURROGATE.search(text):
            bad = bad or (src.headers[i], "chuỗi có ký tự Unicode không hợp lệ (\\ud800–\\udfff)")
            text = _SURROGATE.sub("\ufffd", text)
        cells[i] = text
    return cells, bad


# --- Parquet --------------------------------------------------------------------------------------------


def _open_parquet(path: Path, limits: Limits) -> Source:
    try:
        # read as a stream: pyarrow's default pre-buffering kept every page read until the file was closed (600 MB
        # more for every 10 million rows read)
        pf = pq.ParquetFile(path, pre_buffer=False, buffer_size=1 << 20)
        names = list(pf.schema_arrow.names)
        rows = pf.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise ReadError(LoadIssue(path.name, 0, "(tệp)", f"không mở được tệp Parquet ({type(exc).__name__}): tệp "
                                  "hỏng hoặc không phải Parquet")) from None
    if rows > limits.max_rows:
        raise _too_many_rows(path.name, limits.max_rows + 1, limits)
    src = Source(path, "parquet", [clean_header(n) for n in names], rows, limits=limits)
    src.extra.update(file=pf, names=names)
    return src


def _as_text(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    t = arr.type
    if pa.types.is_dictionary(t):
        arr = arr.cast(t.value_type)
        t = arr.type
    if pa.types.is_timestamp(t):
        if t.tz is not None:  # to Asia/Ho_Chi_Minh wall time (UTC+7, no DST)
            arr = pc.add(arr.cast(pa.timestamp("us")), pa.scalar(7 * 3600 * 1_000_000, pa.duration("us")))
        return pc.strftime(arr, format="%Y-%m-%d %H:%M:%S")
    if pa.types.is_date(t):
        return pc.strftime(arr, format="%Y-%m-%d")
    if pa.types.is_boolean(t):
        return pc.if_else(arr, "true", "false")
    return arr.cast(pa.string())


_NESTED = (pa.types.is_list, pa.types.is_large_list, pa.types.is_fixed_size_list, pa.types.is_struct,
           pa.types.is_map, pa.types.is_union)


def _parquet_batches(src: Source, cols: list[int]) -> Iterator[pa.Table]:
    """Only the columns asked for are read (so never the personal ones); a nested type in one of them, a page
    that cannot be decoded, a value that cannot be text: a located error naming the column or the record."""
    pf: pq.ParquetFile = src.extra["file"]
    names: list[str] = src.extra["names"]
    schema = pf.schema_arrow
    for i in cols:
        if any(test(schema.field(i).type) for test in _NESTED):
            raise ReadError(LoadIssue(src.path.name, 0, src.headers[i], "cột có kiểu lồng nhau (danh sách, cấu "
                                      f"trúc) không dùng được cho cột này ({schema.field(i).type})"))
    wanted = [names[i] for i in cols]
    next_row = 1
    batches = pf.iter_batches(batch_size=BATCH_ROWS, columns=wanted) if wanted else iter(())
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            raise ReadError(LoadIssue(src.path.name, next_row, "(tệp)", "dữ liệu Parquet hỏng, không đọc được từ "
                                      f"bản ghi {next_row} ({type(exc).__name__})")) from None
        out: dict[str, pa.Array | pa.ChunkedArray] = {}
        for k, i in enumerate(cols):
            try:
                out[f"c{i}"] = _as_text(batch.column(k))
            except (pa.ArrowException, ValueError) as exc:
                raise ReadError(LoadIssue(src.path.name, next_row, src.headers[i], "không chuyển được giá trị của "
                                          f"cột thành văn bản ({type(exc).__name__})")) from None
        rows = pa.array(range(next_row, next_row + batch.num_rows), pa.int64())
        next_row += batch.num_rows
        yield _with_rows(out, rows)
