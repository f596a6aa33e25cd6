"""Folding Vietnamese text for matching headers and enum values: lower case, no diacritics (không dấu)."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s_\-./]+")


def strip_diacritics(text: str) -> str:
    """'Ngày tiếp nhận' -> 'Ngay tiep nhan' (đ/Đ become d/D)."""
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return bare.replace("đ", "d").replace("Đ", "D")


def fold(text: str) -> str:
    """Key for matching: 'Ngày_tiếp nhận ' -> 'ngay tiep nhan'. Underscores count as spaces."""
    return _SPACES.sub(" ", strip_diacritics(text).lower()).strip()


# Control characters (C0, DEL, C1) and the invisible format characters that reorder or hide text (zero-width
# marks, line and paragraph separators, bidi embeddings, overrides and isolates, word joiners, BOM): one list,
# as a Python pattern and as the SQL (RE2) pattern the loader checks values with.
INVISIBLE_RANGES = ((0x00, 0x1F), (0x7F, 0x9F), (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x206F),
                    (0xFEFF, 0xFEFF))
INVISIBLE = re.compile("[" + "".join(f"{chr(a)}-{chr(b)}" for a, b in INVISIBLE_RANGES) + "]")
INVISIBLE_SQL = "[" + "".join(f"\\x{{{a:04X}}}-\\x{{{b:04X}}}" for a, b in INVISIBLE_RANGES) + "]"
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # control characters only (C0, DEL, C1)

