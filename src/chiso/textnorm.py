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
