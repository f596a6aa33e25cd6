"""Writing outputs safely (ghi kết quả an toàn): what every command that writes a file for people goes through.

1. Values written to CSV for people are *neutralised*: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a
   tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it as text and never runs it as a
   formula (OWASP "CSV injection"). Numbers are left as they are.
2. File names made from data (unit codes) go through :func:`safe_filename`: no path separators, no control
   characters, bounded length.
3. No output path may point into the workspace's own files (:func:`check_output`): the database, its
   configuration, templates, rule sets, units, rejected rows, backups and logs.
4. Files are written to a temporary name and renamed on success (:func:`atomic_file`); a set of documents is
   written in a staging folder and moved into place when the whole set succeeded (:func:`staged_dir`).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


_PLAIN_NUMBER = re.compile(r"-?[0-9]+([.,][0-9]+)*")
_PLAIN_NUMBER_SQL = "'^-?[0-9]+([.,][0-9]+)*$'"


def csv_text(value: object) -> object:
    """A CSV cell for people: text starting with a formula prefix is prefixed with ``'``, unless it is a plain
    number (``-5``, ``-1.500,5``: a spreadsheet reads it as that number); other values as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def csv_text_sql(expr: str) -> str:
    """The same rule as :func:`csv_text` as a SQL expression over a text expression (DuckDB and PostgreSQL)."""
    return (f"(CASE WHEN left({expr}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
            f"AND NOT {expr} ~ {_PLAIN_NUMBER_SQL} THEN '''' || {expr} ELSE {expr} END)")


_UNSAFE = re.compile(r"[\\/:*?\"<>|\x00-\x1f\x7f]+")


def safe_filename(text: str, max_length: int = 60) -> str:
    """A file-name part made from data: path separators, reserved and control characters become ``-``, no
    leading dot or dash, at most ``max_length`` characters. A name that had to be changed (or cut) ends with a
    short hash of the original, so two codes never share a file (``A/B`` and ``A-B``, ``-2+3`` and ``2+3``)."""
    clean = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch) != "Cf")
    clean = _UNSAFE.sub("-", clean).strip(" .-") or "x"
    if clean == text and len(clean) <= max_length:
        return clean
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
    return clean[: max_length - 9].rstrip(" .-") + "-" + digest


# --------------------------------------------------------------------------------------------------------------
# Where outputs may go, and how they are written

# The workspace's own files and folders (kho dữ liệu): no output may be written there. Outputs in other folders of
# the workspace (``chiso-data/van-ban/``) are fine.
PROTECTED_FILES = ("chiso.duckdb", "chiso.duckdb.wal", "chiso.toml", "departments.csv")
PROTECTED_DIRS = ("templates", "rules", "units", "rejected", "backups", "logs", "profiles", "chiso.duckdb.tmp")


class OutputError(ValueError):
    """An output path that must not be written (it points into the workspace's own files)."""


def _resolved(path: Path) -> Path:
    return path.expanduser().resolve(strict=False)


def check_output(path: Path, workspace: Path, *, directory: bool = False) -> Path:
    """``path`` if an output may be written there, else :class:`OutputError`. Symbolic links are followed, so a
    link to the database is refused as the database itself."""
    target = _resolved(path)
    ws = _resolved(workspace)
    what = "thư mục" if directory else "tệp"
    if target == ws and not directory:
        raise OutputError(f"'{path}' là thư mục dữ liệu (kho), không ghi {what} kết quả vào đó")
    for name in PROTECTED_FILES:
        if target == ws / name:
            raise OutputError(f"'{path}' là tệp của kho dữ liệu ({name}); chọn nơi ghi khác, kho không bị "
                              "ghi đè")
    for name in PROTECTED_DIRS:
        folder = ws / name
        if target == folder or folder in target.parents:
            raise OutputError(f"'{path}' nằm trong thư mục riêng của kho dữ liệu ({name}/); chọn nơi ghi khác")
    if directory and target.exists() and not target.is_dir():
        raise OutputError(f"'{path}' là một tệp, không phải thư mục")
    if not directory and target.is_dir():
        raise OutputError(f"'{path}' là một thư mục; cho biết tên tệp cần ghi")
    return path


@contextlib.contextmanager
def atomic_file(path: Path) -> Iterator[BinaryIO]:
    """Write ``path`` through a temporary file beside it, renamed over ``path`` only when the writing succeeded: a
    failed or interrupted command leaves the previous file (or none), never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name[:40]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str, *, bom: bool = False) -> Path:
    """Atomically write ``text`` (UTF-8; with a BOM for CSV meant for Excel)."""
    with atomic_file(path) as fh:
        fh.write((("\ufeff" if bom else "") + text).encode("utf-8"))
    return path


class PartialOutput(RuntimeError):
    """Publishing staged documents failed midway: ``written`` were put in place, the rest were not."""

    def __init__(self, message: str, written: list[Path]):
        super().__init__(message)
        self.written = written


@contextlib.contextmanager
def staged_dir(out_dir: Path) -> Iterator[Path]:
    """A staging folder for a set of documents: everything is written there first, then moved into ``out_dir``
    when the whole set succeeded. A failure leaves ``out_dir`` as it was (no partial set of documents)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".chiso-dang-ghi-", dir=out_dir))
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    try:
        publish_staged(stage, out_dir)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def publish_staged(stage: Path, out_dir: Path) -> list[Path]:
    """Move every file of ``stage`` to the same place under ``out_dir`` (renames on one file system)."""
    moved: list[Path] = []
    files = sorted(p for p in stage.rglob("*") if p.is_file())
    try:
        for src in files:
            dest = out_dir / src.relative_to(stage)
            dest.parent.mkdir(parents=True, exist_ok=True)
            os.replace(src, dest)
            moved.append(dest)
    except OSError as exc:
        listed = ", ".join(str(p) for p in moved) or "không có"
        raise PartialOutput(f"ghi văn bản dở dang ({exc.strerror or exc}); đã ghi: {listed}", moved) from exc
    return moved


def final_path(path: Path, stage: Path, out_dir: Path) -> Path:
    """Where a file written in ``stage`` ends up."""
    try:
        return out_dir / path.relative_to(stage)
    except ValueError:
        return path
