"""The letter rendered to PDF by LibreOffice and its first page to PNG by pdftoppm. The README's setup
installs both (Debian libreoffice-writer-nogui, poppler-utils): in CI they must be there, elsewhere the
test skips with a message when they are not."""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest

from chiso.reports import pdf
from chiso.reports.documents import write_monthly
from chiso.store.db import Store
from conftest import Workspace
from test_scoring import load_province


def test_letter_to_pdf_and_png(ws: Workspace, tmp_path: Path) -> None:
    if not (pdf.office_binary() and shutil.which("pdftoppm")):
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice or pdftoppm missing in CI: `make setup` installs them")
        pytest.skip("LibreOffice (libreoffice-writer-nogui) or pdftoppm (poppler-utils) not installed")
    load_province(ws)
    store = Store.open(ws.store.workspace)
    written = write_monthly(store, "2025-09", tmp_path, as_of=datetime(2025, 10, 15), letter_date=date(2025, 10, 6))
    letter = next(p for p in written.files if p.suffix == ".pdf")
    assert letter.read_bytes().startswith(b"%PDF")
    png = pdf.first_page_png(letter, tmp_path / "page1.png", dpi=50)
    assert png is not None and png.read_bytes().startswith(b"\x89PNG")
    from PIL import Image

    with Image.open(png) as im:
        width, height = im.size
    assert abs(height / width - 297 / 210) < 0.02  # an A4 portrait page
    # The PDF keeps the Vietnamese text: pdftotext would need another package; LibreOffice embeds the fonts.
    assert b"/FontFile" in letter.read_bytes() or b"/FontFile2" in letter.read_bytes()
