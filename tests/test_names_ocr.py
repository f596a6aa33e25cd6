"""Unit names read by OCR from scanned letters (UnitMatcher.match(..., ocr=True)).

The two published letters of tests/data/names (Sơn La, 07/2025 scanned and OCR'd without diacritics, and 03/2024)
are matched line by line; each line's right unit comes from the names written below by hand (read from the
letters and the vietnam-provinces list), compared folded to the matched unit's name, never from the matcher.
A generated corpus of OCR damage of the real names checks precision (no wrong code, ever) and recall; names of
units that are not in the matcher's list (another province's communes, dissolved departments left out, invented
names one consonant from a real one) must never get a code.
"""

from __future__ import annotations

import random
import re
import unicodedata
from functools import cache
from pathlib import Path

import pytest

from chiso.textnorm import fold, strip_diacritics
from chiso.units.catalog import (
    UnitRow,
    default_departments_path,
    department_rows,
    find_province,
    legacy_rows,
    province_rows,
)
from chiso.units.names import METHODS, UnitMatcher

DATA = Path(__file__).parent / "data" / "names"


@cache
def rows(province: str, period: str) -> tuple[UnitRow, ...]:
    """The units an import builds its matcher from: for 2025-07 the province, its new communes and all its
    departments; for 2024-03 the province, all departments and the districts and communes before 1/7/2025."""
    p = find_province(province)
    depts = department_rows(p, default_departments_path())
    if period == "new":
        return tuple(province_rows(p) + depts)
    return tuple([r for r in province_rows(p) if r.level == "province"] + depts + legacy_rows(p))


@cache
def matcher(province: str, period: str) -> UnitMatcher:
    return UnitMatcher((r.code, r.name, r.level) for r in rows(province, period))


def same_name(expected: str, unit_name: str) -> bool:
    """'Sở Y tế' ~ 'Sở Y tế'; 'Công an tỉnh' ~ 'Công an tỉnh Sơn La'; 'xã Suối Tọ' ~ 'UBND xã Suối Tọ'."""
    def norm(s: str) -> str:
        s = re.sub(r"[^a-z0-9 ]", " ", fold(s))
        s = " ".join(s.split()).removeprefix("ubnd ")
        return s.removesuffix(" son la").removesuffix(" tinh").removesuffix(" tinh son la")
    return norm(expected) == norm(unit_name)


# --- seed 002: Phụ lục 2 of the 07/2025 letter, OCR'd ---------------------------------------------------------

DEPARTMENTS_2025 = (
    "Ban Quản lý các khu công nghiệp", "Sở Nội vụ", "Sở Giáo dục và Đào tạo", "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Khoa học và Công nghệ", "Sở Nông nghiệp và Môi trường", "Sở Xây dựng", "Công an tỉnh", "Sở Y tế",
    "Sở Công Thương", "Sở Tài chính", "Sở Tư pháp", "Sở Dân tộc và Tôn giáo",
    "Sở Lao động - Thương binh và Xã hội", "Sở Ngoại vụ")
COMMUNES_2025 = (
    "xã Mường Bú", "xã Xuân Nha", "xã Tô Múa", "xã Mường Sại", "xã Xím Vàng", "xã Tạ Khoa", "xã Ngọc Chiến",
    "xã Mường Lèo", "xã Huổi Một", "xã Tân Yên", "xã Bắc Yên", "xã Chiềng Lao", "xã Sông Mã", "xã Lóng Phiêng",
    "xã Chiềng Hoa", "xã Chiềng Mung", "xã Chiềng Sơ", "xã Chiềng Khương", "xã Mường Bang",
    "phường Chiềng Sinh", "xã Yên Sơn", "xã Chiềng Sại", "xã Mường La", "xã Quỳnh Nhai", "xã Phiêng Khoài",
    "xã Phiêng Pằn", "xã Mường Khiêng", "xã Mường Lạn", "xã Pắc Ngà", "xã Phù Yên", "xã Phiêng Cằm",
    "xã Chiềng Sung", "xã Mường Chanh", "xã Song Khủa", "xã Bó Sinh", "xã Gia Phù", "xã Tân Phong",
    "xã Mường Hung", "xã Púng Bánh", "xã Tà Hộc", "xã Yên Châu", "xã Chiềng Khoong", "phường Chiềng An",
    "xã Thuận Châu", "xã Sốp Cộp", "xã Vân Hồ", "xã Lóng Sập", "xã Nậm Lầu", "xã Kim Bon", "xã Suối Tọ",
    "xã Mường É", "phường Chiềng Cơi", "xã Mường Lầm", "xã Mường Chiên", "xã Chiềng Hặc", "xã Bình Thuận",
    "xã Muổi Nọi", "xã Co Mạ", "phường Mộc Sơn", "xã Chiềng Mai", "phường Tô Hiệu", "xã Chiềng Sơn",
    "xã Mường Cơi", "phường Thảo Nguyên", "xã Mường Giôn", "phường Mộc Châu", "xã Long Hẹ", "xã Chiềng La",
    "xã Tà Xùa", "xã Mai Sơn", "phường Vân Sơn", "xã Đoàn Kết", "xã Tường Hạ", "xã Nậm Ty", "xã Mường Bám")


def seed_2025_lines() -> list[str]:
    text = (DATA / "son_la_2025_07_ocr.txt").read_text(encoding="utf-8")
    part = text[text.index("Phu luc 2"):]
    return [name for name, _score in re.findall(r"^\S+\s*\|\s*(.+?)\s+(\d+(?:\.\d+)?)\s*$", part, re.M)]


def test_seed_2025_every_line_is_matched_to_the_right_unit() -> None:
    names = seed_2025_lines()
    expected = DEPARTMENTS_2025 + COMMUNES_2025
    assert len(names) == len(expected) == 90
    m = matcher("Sơn La", "new")
    wrong = []
    for i, (name, right) in enumerate(zip(names, expected, strict=True)):
        level = "department" if i < len(DEPARTMENTS_2025) else "commune"
        got = m.match(name, level, ocr=True)
        if got.code is None or got.name is None or not same_name(right, got.name) or m.name(got.code) != got.name:
            wrong.append((name, right, got.name, got.method, got.candidates[:2]))
        elif got.method == "ocr":
            assert 0 < got.confidence <= 100
    assert not wrong, wrong
    # The damaged names of the brief, and the default mode left as it was (no OCR repair without ocr=True).
    assert m.match("UBND Xi Subi To", "commune", ocr=True).method == "ocr"
    assert m.match("UBND Xi Subi To", "commune").code is None
    assert m.match("S&Yte", "department").code is None


# --- seed 000: Phụ lục 1 and 2 of the 03/2024 letter ------------------------------------------------------------

DEPARTMENTS_2024 = (
    "Sở Kế hoạch và Đầu tư", "Sở Giao thông vận tải", "Sở Tài nguyên và Môi trường", "Sở Công Thương",
    "Sở Tư pháp", "Sở Xây dựng", "Sở Tài chính", "Sở Lao động - Thương binh và Xã hội",
    "Sở Văn hóa, Thể thao và Du lịch", "Sở Y tế", "Sở Nông nghiệp và Phát triển nông thôn",
    "Sở Thông tin và Truyền thông", "Sở Nội vụ", "Sở Giáo dục và Đào tạo", "Sở Khoa học và Công nghệ",
    "Sở Ngoại vụ", "Ban Dân tộc", "Ban Quản lý các khu công nghiệp")
# Mộc Châu has been a thị xã since 2020; the letter still says "huyện".
DISTRICTS_2024_P1 = (
    "huyện Thuận Châu", "huyện Quỳnh Nhai", "thành phố Sơn La", "huyện Mường La", "huyện Sông Mã",
    "huyện Sốp Cộp", "huyện Mai Sơn", "huyện Yên Châu", "thị xã Mộc Châu", "huyện Vân Hồ", "huyện Bắc Yên",
    "huyện Phù Yên")
DISTRICTS_2024_P2 = (
    "thành phố Sơn La", "huyện Bắc Yên", "huyện Vân Hồ", "huyện Phù Yên", "huyện Thuận Châu", "huyện Sông Mã",
    "huyện Yên Châu", "huyện Quỳnh Nhai", "thị xã Mộc Châu", "huyện Mai Sơn", "huyện Mường La", "huyện Sốp Cộp")


def test_seed_2024_appendices_are_matched_to_the_right_units() -> None:
    text = (DATA / "son_la_2024_03.txt").read_text(encoding="utf-8")
    appendix1 = re.findall(r"^\d+\t([^\t]+)\t", text, re.M)
    appendix2 = re.findall(r"^- \d+\. (.+?) \(", text, re.M)
    expected1 = DEPARTMENTS_2024 + DISTRICTS_2024_P1
    assert len(appendix1) == len(expected1) == 30 and len(appendix2) == len(DISTRICTS_2024_P2) == 12
    m = matcher("Sơn La", "old")
    wrong = []
    cases = [(n, r, "department" if i < len(DEPARTMENTS_2024) else "district")
             for i, (n, r) in enumerate(zip(appendix1, expected1, strict=True))]
    cases += [(n, r, "district") for n, r in zip(appendix2, DISTRICTS_2024_P2, strict=True)]
    for name, right, level in cases:
        for lv in (level, None):  # by section, and in a list that mixes departments and districts
            got = m.match(name, lv, ocr=True)
            if got.name is None or not same_name(right, got.name) or (got.code and m.name(got.code) != got.name):
                wrong.append((name, lv, right, got.name, got.method, got.candidates[:2]))
    assert not wrong, wrong
    assert "ocr" in METHODS
    got = m.match("Ủy ban nhân dân phố Sơn La", "district", ocr=True)
    assert got.method == "ocr" and "OCR" in m.describe(got)


# --- a generated corpus of OCR damage ---------------------------------------------------------------------------

VOWEL_MISREADS = {"ô": "6e0", "ố": "6eb", "ồ": "6b", "ộ": "6oe", "ơ": "¢e6", "ớ": "e¢", "ờ": "d¢", "ợ": "o¢",
                  "â": "a4e", "ấ": "e4", "ầ": "a4e", "ậ": "e4", "ă": "i4&", "ắ": "i4", "ằ": "a&", "ặ": "i",
                  "á": "a4", "à": "a4", "ạ": "a3", "ả": "a3", "ã": "a4", "ê": "e¢c", "ế": "é", "ề": "é", "ệ": "é¢",
                  "ó": "o6", "ò": "o0", "ọ": "o0", "ư": "u", "ừ": "u", "ứ": "u", "ự": "u", "ườ": "ud", "ười": "udi",
                  "uố": "ub", "o": "0"}
DIVISION_DAMAGE = {"xã": ("Xi", "X&", "X3", "X4", "X4&", "X", "Xa", "Xá"), "phường": ("Phudng", "Phuong", "Phường"),
                   "huyện": ("Huyen", "Huyén", "Huyện")}
SO_DAMAGE = ("S¢", "Sé", "S6", "SO", "So6", "S&", "S¢&", "So")
LETTER_CONFUSIONS = (("u", "n"), ("n", "u"), ("i", "l"), ("l", "i"), ("e", "c"), ("c", "e"))
DIVISIONS = ("thành phố", "thị xã", "thị trấn", "phường", "huyện", "xã")


def parts(name: str) -> tuple[str, str]:
    rest = name.removeprefix("UBND ")
    for d in DIVISIONS:
        if rest.lower().startswith(d + " "):
            return d, rest[len(d) + 1:]
    return "", rest


def damage(row: UnitRow, rnd: random.Random) -> str:
    """One OCR reading of a unit's name: diacritics dropped (mostly), one or two vowels misread, the division
    word or 'Sở' damaged, a letter confused, or two words run together."""
    div, bare = parts(row.name)
    words = bare.split(" ")
    for _ in range(rnd.choice((1, 1, 2))):
        kind = rnd.choice(("vowel", "vowel", "letter", "glue"))
        i = rnd.randrange(len(words))
        w = words[i]
        if kind == "vowel":
            spots = [k for k in VOWEL_MISREADS if k in w]
            if spots:
                k = rnd.choice(spots)
                w = w.replace(k, rnd.choice(VOWEL_MISREADS[k]), 1)
        elif kind == "letter":
            spots = [(a, b) for a, b in LETTER_CONFUSIONS if a in w[1:]]
            if spots:
                a, b = rnd.choice(spots)
                j = w.index(a, 1)
                w = w[:j] + b + w[j + 1:]
        elif len(words) > 1 and i < len(words) - 1 and not w.startswith("Sở"):
            words[i: i + 2] = [w + words[i + 1]]
            continue
        words[i] = w
    bare = " ".join(words)
    if div:
        head = rnd.choice(DIVISION_DAMAGE.get(div, (div.title(),)))
        text = f"UBND {head} {bare}" if row.name.startswith("UBND ") else f"{head} {bare}"
    elif bare.startswith("Sở "):
        sep = "" if rnd.random() < 0.15 else " "
        text = rnd.choice(SO_DAMAGE) + sep + bare.removeprefix("Sở ")
    else:
        text = bare
    return strip_diacritics(text) if rnd.random() < 0.8 else text


CORPUS = (("Sơn La", "new", 8), ("Sơn La", "old", 3), ("Tuyên Quang", "new", 3), ("Hà Nội", "new", 3))


@cache
def real_names(province: str, period: str) -> dict[tuple[str, str], set[str]]:
    """(division, folded bare name) -> codes, to tell a damage that spells another real unit."""
    out: dict[tuple[str, str], set[str]] = {}
    for r in rows(province, period):
        d, b = parts(r.name)
        out.setdefault((d, fold(b).replace(" ", "")), set()).add(r.code)
    return out


@pytest.mark.parametrize(("province", "period", "per_unit"), CORPUS)
def test_ocr_damage_never_gives_a_wrong_unit(province: str, period: str, per_unit: int) -> None:
    rnd = random.Random(f"{province}/{period}")
    m = matcher(province, period)
    names = real_names(province, period)
    wrong, tried, matched = [], 0, 0
    for row in rows(province, period):
        if row.level == "province":
            continue
        div, bare = parts(row.name)
        same = names[(div, fold(bare).replace(" ", ""))]
        for _ in range(per_unit):
            text = damage(row, rnd)
            d2, b2 = parts(unicodedata.normalize("NFC", text))
            spelt = names.get((div, fold(re.sub(r"[^\w ]", "", b2)).replace(" ", "")), set())
            if spelt - {row.code}:
                continue  # the damage spells another real unit (or the name is shared): no one could tell
            tried += 1
            got = m.match(text, row.level, ocr=True)
            if got.code is None:
                assert got.method in ("none", "ambiguous") and got.candidates, text
                continue
            if got.code != row.code or len(same) > 1:
                wrong.append((text, row.name, got.name, got.method, got.confidence))
            matched += 1
    recall = matched / tried
    print(f"\n{province}/{period}: {tried} OCR-damaged names, {matched} matched (recall {recall:.1%}), "
          f"{len(wrong)} wrong")
    assert not wrong, wrong[:10]
    assert tried > 250
    assert recall >= RECALL_FLOOR[(province, period)]


# Measured: 92.7%, 87.4%, 95.9%, 96.7% (what is missed goes to review, with candidates).
RECALL_FLOOR = {("Sơn La", "new"): 0.9, ("Sơn La", "old"): 0.85, ("Tuyên Quang", "new"): 0.93,
                ("Hà Nội", "new"): 0.93}


# --- negatives: units that are not in the list ------------------------------------------------------------------


def test_communes_of_another_province_get_no_code() -> None:
    m = matcher("Sơn La", "new")
    here = {fold(parts(r.name)[1]) for r in rows("Sơn La", "new")}
    rnd = random.Random(7)
    tried, wrong = 0, []
    for province in ("Tuyên Quang", "Lai Châu", "Điện Biên", "Lào Cai"):
        for r in province_rows(find_province(province)):
            if r.level != "commune" or fold(parts(r.name)[1]) in here:
                continue  # the same name in Sơn La: the name cannot tell them apart, in any mode
            for text in (r.name, strip_diacritics(r.name), damage(r, rnd)):
                tried += 1
                got = m.match(text, "commune", ocr=True)
                if got.code is not None:
                    wrong.append((text, got.name, got.confidence))
    print(f"\nother provinces' communes: {tried} names, {len(wrong)} given a Sơn La code")
    assert tried > 500
    assert not wrong, wrong[:10]


def test_departments_left_out_of_the_list_get_no_code() -> None:
    gone = {"14.SNGV", "14.SLDTBXH", "14.SKHDT", "14.SGTVT", "14.STNMT", "14.STTTT", "14.BDT", "14.SNNPTNT"}
    kept = [r for r in rows("Sơn La", "new") if r.code not in gone]
    m = UnitMatcher((r.code, r.name, r.level) for r in kept)
    rnd = random.Random(11)
    texts = ["Sé Ngoai vu", "S¢ Lao dong - Thuong binh va X3 hoi", "Sở Lao động, TBXH", "Sở Nông nghiệp&PTNT"]
    for r in rows("Sơn La", "new"):
        if r.code in gone:
            texts += [r.name, strip_diacritics(r.name)] + [damage(r, rnd) for _ in range(6)]
    for text in texts:
        for level in ("department", None):
            got = m.match(text, level, ocr=True)
            assert got.code is None and got.method in ("none", "ambiguous"), (text, got)
            assert got.candidates or not m.match(text, level).candidates, text


CONSONANTS = "bcdghklmnprstvx"
LOOKALIKE = {frozenset(p) for p in ("bh", "dp", "gq", "vy", "nu", "lr")}


def neighbours(bare: str, rnd: random.Random) -> list[str]:
    """Names one consonant from a real one (changed, added or dropped), not an OCR look-alike."""
    out = []
    spots = [i for i, ch in enumerate(bare) if ch.lower() in CONSONANTS]
    for i in rnd.sample(spots, min(3, len(spots))):
        ch = bare[i]
        other = rnd.choice([c for c in CONSONANTS if c != ch.lower() and frozenset((c, ch.lower())) not in LOOKALIKE])
        out.append(bare[:i] + (other.upper() if ch.isupper() else other) + bare[i + 1:])
        out.append(bare[:i] + bare[i + 1:])
        out.append(bare[:i] + other + bare[i:])
    return out


def test_invented_near_neighbours_get_no_code() -> None:
    rnd = random.Random(3)
    tried = 0
    for province, period in (("Sơn La", "new"), ("Sơn La", "old")):
        m = matcher(province, period)
        names = real_names(province, period)
        for r in rows(province, period):
            div, bare = parts(r.name)
            if not div or r.level == "province":
                continue
            for n in neighbours(bare, rnd):
                if not n.strip() or any(b == fold(n).replace(" ", "") for _d, b in names):
                    continue  # a real name: not invented
                tried += 1
                for text in (f"UBND {div} {n}", strip_diacritics(f"UBND X& {n}" if div == "xã" else f"{div} {n}")):
                    got = m.match(text, r.level, ocr=True)
                    assert got.code is None, (text, r.name, got.name, got.method, got.confidence)
    assert tried > 500
