"""PDF copies of the Word documents through LibreOffice (Debian ``libreoffice-writer-nogui``), and PNG
pictures of PDF pages through poppler's ``pdftoppm`` — both optional: without them the .docx and .xlsx
files are still written."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

TIMEOUT_S = 180


def office_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def to_pdf(documents: list[Path], out_dir: Path) -> list[Path]:
    """Convert Word files to PDF in one LibreOffice run (one start-up for all files)."""
    binary = office_binary()
    if binary is None or not documents:
        return []
    with tempfile.TemporaryDirectory(prefix="chiso-lo-") as profile:
        cmd = [binary, f"-env:UserInstallation=file://{profile}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, documents)]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                              env={**os.environ, "HOME": profile})
    pdfs = [out_dir / (d.stem + ".pdf") for d in documents]
    missing = [p for p in pdfs if not p.exists()]
    if proc.returncode != 0 or missing:
        raise RuntimeError(f"LibreOffice không chuyển được sang PDF: {', '.join(map(str, missing))} "
                           f"({proc.stderr.strip() or proc.stdout.strip()})")
    return pdfs


def first_page_png(pdf: Path, out: Path, dpi: int = 80) -> Path | None:
    """The first page of ``pdf`` as PNG (``out`` without the suffix pdftoppm adds)."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        return None
    subprocess.run([binary, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(out.with_suffix(""))], check=True, capture_output=True, timeout=TIMEOUT_S)
    return out.with_suffix(".png")
