"""The letter rendered to PDF by LibreOffice and its first page to PNG by pdftoppm. The README's setup
installs both (Debian libreoffice-writer-nogui, poppler-utils): in CI they must be there (the test fails without
them), elsewhere the test skips with a message when they are not (conftest.require)."""

from __future__ import annotations

import re
import shutil
from datetime import date, datetime
from pathlib import Path

from PIL import Image

from chiso.reports import pdf
from chiso.reports.documents import write_monthly
from chiso.store.db import Store
from conftest import Workspace, require
from test_scoring import load_province


def test_letter_to_pdf_and_png(ws: Workspace, tmp_path: Path) -> None:
    require(pdf.office_binary(), "LibreOffice (Debian libreoffice-writer-nogui) not installed: `make setup`")
    require(shutil.which("pdftoppm"), "pdftoppm (Debian poppler-utils) not installed: `make setup`")
    load_province(ws)
    store = Store.open(ws.store.workspace)
    written = write_monthly(store, "2025-09", tmp_path, as_of=datetime(2025, 10, 15), letter_date=date(2025, 10, 6))
    letter = next(p for p in written.files if p.suffix == ".pdf")
    assert letter.read_bytes().startswith(b"%PDF")
    png = pdf.first_page_png(letter, tmp_path / "page1.png", dpi=50)
    assert png is not None and png.read_bytes().startswith(b"\x89PNG")
    with Image.open(png) as im:
        width, height = im.size
    assert abs(height / width - 297 / 210) < 0.02  # an A4 portrait page
    # The PDF keeps the Vietnamese text: pdftotext would need another package; LibreOffice embeds the fonts.
    # The templates use Times New Roman, which is Liberation Serif here (fonts-liberation2, TrueType): every font
    # descriptor must carry an embedded TrueType program (/FontFile2), none may be left to the reader's system.
    data = letter.read_bytes()
    descriptors = re.findall(rb"/Type\s*/FontDescriptor\b", data)
    assert descriptors and len(re.findall(rb"/FontFile2\b", data)) == len(descriptors)


def test_the_letter_fits_its_pages(ws: Workspace, tmp_path: Path) -> None:
    """Issue 10 §4, on the pages LibreOffice lays out: the motto on one line, and every picture (the group chart,
    the two ranking charts) within the page's text area, so no chart runs off its page."""
    require(pdf.office_binary(), "LibreOffice (Debian libreoffice-writer-nogui) not installed: `make setup`")
    from docx import Document
    from docx.shared import Mm
    from pypdf import PdfReader

    load_province(ws)
    store = Store.open(ws.store.workspace)
    written = write_monthly(store, "2025-09", tmp_path, as_of=datetime(2025, 10, 15), letter_date=date(2025, 10, 6))
    letter = next(p for p in written.files if p.suffix == ".pdf")
    first = PdfReader(str(letter)).pages[0].extract_text()
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in first.splitlines() or any(
        line.rstrip().endswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") for line in first.splitlines())
    word = Document(str(next(p for p in written.files if p.suffix == ".docx")))
    section = word.sections[0]
    usable_height = section.page_height - section.top_margin - section.bottom_margin
    usable_width = section.page_width - section.left_margin - section.right_margin
    shapes = word.inline_shapes
    assert len(shapes) >= 3  # the group chart and the ranking charts of departments and communes
    for shape in shapes:
        assert shape.width <= usable_width and shape.height <= usable_height - Mm(10)
