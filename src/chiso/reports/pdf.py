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


class Conversion:
    """A LibreOffice run converting Word files to PDF, started now and collected with :meth:`wait` (so that
    other documents can be rendered meanwhile)."""

    def __init__(self, documents: list[Path], out_dir: Path) -> None:
        self.documents, self.out_dir = documents, out_dir
        self.proc: subprocess.Popen[str] | None = None
        binary = office_binary()
        if binary is None or not documents:
            return
        self.profile = tempfile.TemporaryDirectory(prefix="chiso-lo-")
        cmd = [binary, f"-env:UserInstallation=file://{self.profile.name}", "--headless", "--norestore",
               "--convert-to", "pdf", "--outdir", str(out_dir), *map(str, documents)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env={**os.environ, "HOME": self.profile.name})

    def cancel(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()
        if self.proc is not None:
            self.profile.cleanup()
            self.proc = None

    def wait(self) -> list[Path]:
        if self.proc is None:
            return []
        try:
            out, err = self.proc.communicate(timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        finally:
            self.profile.cleanup()
        pdfs = [self.out_dir / (d.stem + ".pdf") for d in self.documents]
        missing = [p for p in pdfs if not p.exists()]
        if self.proc.returncode != 0 or missing:
            raise RuntimeError(f"LibreOffice không chuyển được sang PDF: {', '.join(map(str, missing))} "
                               f"({err.strip() or out.strip()})")
        return pdfs


def to_pdf(documents: list[Path], out_dir: Path) -> list[Path]:
    """Convert Word files to PDF in one LibreOffice run (one start-up for all files)."""
    return Conversion(documents, out_dir).wait()


def first_page_png(pdf: Path, out: Path, dpi: int = 80) -> Path | None:
    """The first page of ``pdf`` as PNG (``out`` without the suffix pdftoppm adds)."""
    binary = shutil.which("pdftoppm")
    if binary is None:
        return None
    subprocess.run([binary, "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(out.with_suffix(""))], check=True, capture_output=True, timeout=TIMEOUT_S)
    return out.with_suffix(".png")
