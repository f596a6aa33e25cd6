"""Writing outputs safely (ghi kết quả an toàn): what every command that writes a file for people goes through.

1. Values written to CSV for people are *neutralised*: a text cell that starts with ``=``, ``+``, ``-``, ``@``, a
   tab or a carriage return gets a leading apostrophe, so a spreadsheet shows it as text and never runs it as a
   formula (OWASP "CSV injection"). Numbers are left as they are.
2. File names made from data (unit codes) go through :func:`safe_filename`: no path separators, no control
   characters, bounded length.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_text(value: object) -> object:
    """A CSV cell for people: text starting with a formula prefix is prefixed with ``'``; other values as they
    are (numbers stay numbers)."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def csv_text_sql(expr: str) -> str:
    """The same rule as :func:`csv_text` as a SQL expression over a text expression (DuckDB and PostgreSQL)."""
    return (f"(CASE WHEN left({expr}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
            f"THEN '''' || {expr} ELSE {expr} END)")


_UNSAFE = re.compile(r"[\\/:*?\"<>|\x00-\x1f\x7f]+")


def safe_filename(text: str, max_length: int = 60) -> str:
    """A file-name part made from data: path separators, reserved and control characters become ``-``, no
    leading dot, at most ``max_length`` characters (longer names are cut and end with a short hash, so two
    long codes never share a file)."""
    clean = "".join(ch for ch in unicodedata.normalize("NFC", text) if unicodedata.category(ch) != "Cf")
    clean = _UNSAFE.sub("-", clean).strip(" .-") or "x"
    if len(clean) > max_length:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
        clean = clean[: max_length - 9].rstrip(" .-") + "-" + digest
    return clean
