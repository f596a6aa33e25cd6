"""One way to print or write a table of rows (bảng kết quả) in every format the commands offer: ``table`` (drawn
with rich, Vietnamese headers, the true row count), ``csv`` (contract column names, cells neutralised, a BOM
when written to a file so Excel reads Vietnamese), ``json`` and ``xlsx`` (Vietnamese headers, the header row
frozen, an autofilter, numbers stored as numbers with Vietnamese number formats, text always text).

Commands describe their columns once (:class:`Col`) and hand rows to :func:`emit`."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from chiso import vnformat
from chiso.outputs import atomic_file, csv_text

FORMATS = ("table", "csv", "json", "xlsx")
XLSX_MAX_ROWS = 1_048_575  # Excel's rows per sheet, less the header
TABLE_MAX_ROWS = 200  # rows drawn on a terminal; the rest go to --out


class TableError(ValueError):
    """A table that cannot be written as asked (too many rows for Excel, a workbook to a terminal)."""


@dataclass(frozen=True)
class Col:
    key: str
    header: str  # Vietnamese, for people (terminal and Excel)
    kind: str = "text"  # text | int | number | percent (a ratio 0..1) | datetime | date | bool
    places: int = 2


def _cell_text(value: Any, col: Col) -> str:
    """A value as a person reads it on the terminal, shown as typed: data is never console markup ("[red]") and
    carries no control characters (terminal escape sequences)."""
    from rich.markup import escape

    from chiso.textnorm import CONTROL

    return escape(CONTROL.sub("", _plain_text(value, col)))


def _plain_text(value: Any, col: Col) -> str:
    if value is None or value == "":
        return ""
    if col.kind == "int":
        return vnformat.integer(value)
    if col.kind == "number":
        return vnformat.number(value, col.places)
    if col.kind == "percent":
        return vnformat.percent(value, col.places)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, bool) or col.kind == "bool":
        return "có" if value else "không"
    return str(value)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    return value


def emit(rows: Iterable[Mapping[str, Any]], cols: Sequence[Col], fmt: str, out: Path | None, *, title: str = "",
         sheet: str = "Dữ liệu", console_width: int = 200, total: int | None = None) -> int:
    """Write ``rows`` (only the ``cols`` keys) to ``out`` or standard output. Returns the number of rows.
    ``total``: the true number of rows when ``rows`` is only the first of them (the terminal table says so)."""
    data = list(rows)
    if fmt == "table":
        _table(data, cols, title, out, console_width, total)
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([c.key for c in cols])
        for r in data:
            w.writerow([csv_text(_plain(r.get(c.key))) for c in cols])
        _write(buf.getvalue().encode("utf-8"), out, bom=out is not None)
    elif fmt == "json":
        text = json.dumps([{c.key: _plain(r.get(c.key)) for c in cols} for r in data], ensure_ascii=False, indent=1)
        _write((text + "\n").encode("utf-8"), out)
    elif fmt == "xlsx":
        write_xlsx(data, cols, out, sheet=sheet, title=title)
    else:  # the commands offer only FORMATS
        raise TableError(f"định dạng '{fmt}' không có (có: {', '.join(FORMATS)})")
    return len(data)


def _write(data: bytes, out: Path | None, *, bom: bool = False) -> None:
    if bom:
        data = "\ufeff".encode() + data
    if out is not None:
        with atomic_file(out) as fh:
            fh.write(data)
    else:
        sys.stdout.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()


def _table(data: list[Mapping[str, Any]], cols: Sequence[Col], title: str, out: Path | None, width: int,
           total: int | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    shown = data if out is not None else data[:TABLE_MAX_ROWS]
    count = max(total or 0, len(data))
    caption = f"{vnformat.integer(count)} dòng"
    if len(shown) < count:
        caption = (f"{vnformat.integer(len(shown))} / {vnformat.integer(count)} dòng đầu; "
                   "cả bảng: --format csv|xlsx --out TỆP")
    table = Table(title=title or None, caption=caption)
    for c in cols:
        table.add_column(c.header, justify="right" if c.kind in ("int", "number", "percent") else "left")
    for r in shown:
        table.add_row(*(_cell_text(r.get(c.key), c) for c in cols))
    if out is not None:
        buf = io.StringIO()
        Console(file=buf, width=width, no_color=True, highlight=False).print(table)
        _write(buf.getvalue().encode("utf-8"), out)
    else:
        Console(width=width if not sys.stdout.isatty() else None, highlight=False).print(table)


def table_text(rows: Sequence[Mapping[str, Any]], cols: Sequence[Col], title: str = "", width: int = 200) -> str:
    """A table drawn as text (for a report made of several tables)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title or None, caption=f"{vnformat.integer(len(rows))} dòng")
    for c in cols:
        table.add_column(c.header, justify="right" if c.kind in ("int", "number", "percent") else "left")
    for r in rows:
        table.add_row(*(_cell_text(r.get(c.key), c) for c in cols))
    buf = io.StringIO()
    Console(file=buf, width=width, no_color=True, highlight=False).print(table)
    return buf.getvalue()


def write_xlsx(data: Sequence[Mapping[str, Any]], cols: Sequence[Col], out: Path | None, *, sheet: str = "Dữ liệu",
               title: str = "") -> None:
    """An Excel workbook of one sheet: Vietnamese headers, frozen header row, autofilter, numbers numeric."""
    write_workbook([(sheet, cols, data)], out, title=title)


def write_workbook(sheets: Sequence[tuple[str, Sequence[Col], Sequence[Mapping[str, Any]]]], out: Path | None, *,
                   title: str = "") -> None:
    """An Excel workbook, one sheet per (name, columns, rows): Vietnamese headers in bold, the header row frozen,
    an autofilter, numbers stored as numbers with a number format (Excel shows them with the reader's
    separators: 13.597 and 71,31 on a Vietnamese system), dates as dates, text always text."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    from chiso.reports.templating import set_cell

    for _, _, data in sheets:
        if len(data) > XLSX_MAX_ROWS:
            raise TableError(f"{vnformat.integer(len(data))} dòng, quá {vnformat.integer(XLSX_MAX_ROWS)} dòng của "
                             "một trang Excel: lọc bớt (--unit, --level …) hoặc dùng --format csv")
    if out is None and sys.stdout.isatty():
        raise TableError("tệp Excel không in ra màn hình được: thêm --out TỆP.xlsx")
    formats = {"int": "#,##0", "percent": "0.00%", "datetime": "dd/mm/yyyy hh:mm", "date": "dd/mm/yyyy"}
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    for sheet, cols, data in sheets:
        ws = wb.create_sheet(sheet[:31])
        ws.freeze_panes = "A2"
        for i, c in enumerate(cols, start=1):  # as wide as the first rows' values; a long header wraps
            longest = max((len(_plain_text(r.get(c.key), c)) for r in data[:500]), default=0)
            wrapped = min(len(c.header), 14 if c.kind in ("int", "number", "percent", "bool") else 30)
            ws.column_dimensions[get_column_letter(i)].width = min(max(wrapped, longest, 6) + 2, 60)
        # Printed: landscape, every column on the page's width, the header row on every page.
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
        header = []
        for c in cols:
            cell = WriteOnlyCell(ws)
            set_cell(cell, c.header)
            cell.font = bold
            cell.alignment = Alignment(wrap_text=True, vertical="center")
            header.append(cell)
        ws.append(header)
        for r in data:
            cells = []
            for c in cols:
                value = r.get(c.key)
                cell = WriteOnlyCell(ws)
                numeric = isinstance(value, int | float) and not isinstance(value, bool)
                if c.kind in ("int", "number", "percent") and numeric:
                    cell.value = value
                    cell.number_format = (formats[c.kind] if c.kind != "number"
                                          else "#,##0" + ("." + "0" * c.places if c.places else ""))
                elif isinstance(value, datetime | date):
                    cell.value = value
                    cell.number_format = formats["datetime" if isinstance(value, datetime) else "date"]
                elif isinstance(value, bool):
                    set_cell(cell, "có" if value else "không")
                elif value is None:
                    cell.value = None
                else:
                    set_cell(cell, str(value))
                cells.append(cell)
            ws.append(cells)
        ws.auto_filter.ref = f"A1:{get_column_letter(max(len(cols), 1))}{len(data) + 1}"
    if title:
        wb.properties.title = title[:255]
    if out is not None:
        with atomic_file(out) as fh:
            wb.save(fh)
    else:
        buf = io.BytesIO()
        wb.save(buf)
        _write(buf.getvalue(), None)
