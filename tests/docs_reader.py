"""Reading generated documents back for assertions: all text of a .docx (body, tables, in order) and the
rows of an .xlsx sheet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import docx
import openpyxl


def docx_lines(path: Path) -> list[str]:
    """Every paragraph of the body, with table cells joined by ' | ' per row, in document order."""
    document = docx.Document(str(path))
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append("".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":
            for tr in child.iter():
                if not tr.tag.endswith("}tr"):
                    continue
                cells = []
                for tc in tr.iterchildren():
                    if tc.tag.endswith("}tc"):
                        cells.append("\n".join("".join(t.text or "" for t in p.iter() if t.tag.endswith("}t"))
                                               for p in tc.iter() if p.tag.endswith("}p")).strip())
                lines.append(" | ".join(cells))
    return lines


def xlsx_rows(path: Path, sheet: str) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path)
    return [list(r) for r in wb[sheet].iter_rows(values_only=True)]


def xlsx_cells(path: Path, sheet: str) -> list[list[Any]]:
    wb = openpyxl.load_workbook(path)
    return [list(r) for r in wb[sheet].iter_rows()]
