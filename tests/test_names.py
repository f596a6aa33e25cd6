"""Unit names to codes (chiso.units.names) on the real unit lists: Sơn La, Hà Nội and Tuyên Quang after
1/7/2025, their districts and communes before, and their departments.

The corpus tests write each real name the ways offices write it (no diacritics, upper case, NFD, the other
tone-mark placement, "UBND" spelled out or dotted, "X."/"P." prefixes, the prefix dropped, the bare name,
department abbreviations) and check, for every variant, against a ground truth computed here from the unit
list (which units share the division word and the name): a variant that names one unit is matched to that
unit or not at all, never to another; a variant that names several is not matched and lists them.
"""

from __future__ import annotations

import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import cache

import pytest
from vietnam_provinces import Province

from chiso.textnorm import fold, strip_diacritics
from chiso.units.catalog import (
    UnitRow,
    default_departments_path,
    department_rows,
    find_province,
    legacy_rows,
    province_rows,
)
from chiso.units.names import Match, UnitMatcher, unit_key

# --- the real unit lists -----------------------------------------------------------------------------------


@cache
def catalogue(which: str) -> tuple[UnitRow, ...]:
    """'<province>/new': the province, its communes after 1/7/2025 and its departments; '<province>/old': the
    province, its districts and communes before 1/7/2025 and its departments; '<province>/all': both."""
    prov_name, era = which.split("/")
    p = find_province(prov_name)
    new = province_rows(p)
    depts = department_rows(p, default_departments_path())
    if era == "new":
        return tuple(new + depts)
    old = legacy_rows(p)
    if era == "old":
        return tuple(new[:1] + old + depts)
    return tuple(new + old + depts)


@cache
def matcher(which: str) -> UnitMatcher:
    return UnitMatcher((r.code, r.name, r.level) for r in catalogue(which))


CATALOGUES = ("Sơn La/new", "Sơn La/old", "Hà Nội/new", "Hà Nội/old", "Tuyên Quang/new", "Tuyên Quang/old",
              "Hà Nội/all")

# --- the ground truth, computed here from the names (not by the module under test) -------------------------

DIVISIONS = ("thành phố", "thị xã", "thị trấn", "đặc khu", "phường", "huyện", "quận", "tỉnh", "xã")
ABBR = {"xã": "X.", "phường": "P.", "thị trấn": "TT.", "thành phố": "TP.", "huyện": "H.", "quận": "Q.",
        "thị xã": "TX."}


def parts(name: str) -> tuple[str, str]:
    """'UBND xã Chiềng Sinh' -> ('xã', 'Chiềng Sinh'); a department -> ('', name)."""
    rest = name.removeprefix("UBND ")
    for d in DIVISIONS:
        if rest.lower().startswith(d + " "):
            return d, rest[len(d) + 1:]
    return "", rest


@dataclass
class Truth:
    by_full: dict[tuple[str, str], set[str]]  # (division, folded name) -> codes of the units so named
    by_bare: dict[str, set[str]]  # folded name -> codes of the units with a division word and that name


@cache
def truth(which: str) -> Truth:
    full: dict[tuple[str, str], set[str]] = {}
    bare: dict[str, set[str]] = {}
    for r in catalogue(which):
        d, b = parts(r.name)
        if d:
            full.setdefault((d, fold(b)), set()).add(r.code)
            bare.setdefault(fold(b), set()).add(r.code)
    return Truth(full, bare)


# --- the variants --------------------------------------------------------------------------------------------

TONE_NEW = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "oè": "òe", "oé": "óe", "oẻ": "ỏe",
            "oẽ": "õe", "oẹ": "ọe", "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy"}
TONE_OLD = {v: k for k, v in TONE_NEW.items()}


def swap_tones(text: str) -> str:
    """Old tone-mark placement <-> new: 'Hòa' <-> 'Hoà', 'Thủy' <-> 'Thuỷ' (lower-case pairs only)."""
    out = text
    for a, b in {**TONE_NEW, **TONE_OLD}.items():
        if a in text:
            out = out.replace(a, b)
    return out


DEPT_ABBR = (("Lao động - Thương binh và Xã hội", ("LĐ-TB&XH", "LĐTBXH")),
             ("Văn hóa, Thể thao và Du lịch", ("VH,TT&DL", "VHTTDL")),
             ("Nông nghiệp và Phát triển nông thôn", ("NN&PTNT", "NNPTNT")),
             ("Nông nghiệp và Môi trường", ("NN&MT", "NNMT")),
             ("Tài nguyên và Môi trường", ("TN&MT", "TNMT")),
             ("Khoa học và Công nghệ", ("KH&CN", "KHCN")),
             ("Kế hoạch và Đầu tư", ("KH&ĐT", "KHĐT")),
             ("Giáo dục và Đào tạo", ("GD&ĐT", "GDĐT", "GD-ĐT")),
             ("Giao thông vận tải", ("GTVT",)),
             ("Thông tin và Truyền thông", ("TT&TT", "TTTT")),
             ("Dân tộc và Tôn giáo", ("DT&TG",)),
             ("Trung tâm Phục vụ hành chính công", ("TTPVHCC",)),
             ("Văn phòng UBND", ("VP UBND", "Văn phòng Ủy ban nhân dân")))


def spellings(text: str, every: bool = True) -> list[str]:
    """How the same words come in files: as given, no diacritics, upper case, NFD, the other tone marks (with
    ``every=False``: as given, upper case without diacritics, the other tone marks)."""
    if not every:
        return [text, strip_diacritics(text).upper(), swap_tones(text)]
    return [text, strip_diacritics(text), text.upper(), unicodedata.normalize("NFD", text),
            strip_diacritics(text).upper(), swap_tones(text)]


@cache
def province_name(which: str) -> str:
    """How a unit's name ends with its province: 'tỉnh Sơn La', 'thành phố Hà Nội'."""
    from chiso.units.catalog import local_name

    return local_name(find_province(which.split("/")[0]))


def variants(row: UnitRow, which: str) -> list[tuple[str, frozenset[str]]]:
    """(variant, the codes of all the units it names) for one real unit."""
    div, bare = parts(row.name)
    prov = province_name(which)
    out: list[tuple[str, frozenset[str]]] = []
    if not div:  # a department: the only unit with its name
        forms = {row.name, row.name.replace(" và ", " & ")}
        title = prov.split(" ")[0] if prov.startswith("tỉnh") else "thành phố"
        if row.name.endswith(f" {prov}"):
            forms |= {row.name.removesuffix(prov.removeprefix(title)), row.name.removesuffix(f" {prov}")}
        else:
            forms |= {f"{row.name} {prov}", f"{row.name} {title}"}
        for long, shorts in DEPT_ABBR:
            for f in list(forms):
                if long in f:
                    forms |= {f.replace(long, s) for s in shorts}
        for f in sorted(forms):
            out += [(v, frozenset({row.code})) for v in spellings(f)]
        return out
    named = frozenset(truth(which).by_full[(div, fold(bare))])
    rest = f"{div} {bare}"
    committee = row.name.startswith("UBND ")
    full = [row.name, rest, rest[0].upper() + rest[1:], f"  {row.name.replace(' ', '   ')} ", f"{row.name}."]
    if committee:
        full += [f"Ủy ban nhân dân {rest}", f"Uỷ ban nhân dân {rest}", f"U.B.N.D {rest}", f"UBND\n{rest}"]
    if div in ABBR:
        full += [f"{ABBR[div]} {bare}", f"{ABBR[div]}{bare}", f"UBND {ABBR[div]}{bare}"]
    if row.level != "province":
        full.append(f"{row.name}, {prov}")
    for i, f in enumerate(full):
        out += [(v, named) for v in spellings(f, every=i < 2)]
    bare_named = frozenset(truth(which).by_bare[fold(bare)])
    out += [(v, bare_named) for v in spellings(bare)]
    return list(dict.fromkeys(out))


# --- corpus: precision and recall ----------------------------------------------------------------------------

@pytest.mark.parametrize("which", CATALOGUES)
def test_corpus_of_real_names_has_no_wrong_code(which: str) -> None:
    m = matcher(which)
    units = catalogue(which)
    wrong, missed, ambiguous_ok, single, matched = [], [], 0, 0, 0
    for row in units:
        for text, tied in variants(row, which):
            got = m.match(text)
            if got.code is None:
                assert got.candidates, f"{text!r}: no code and no candidates"
                assert got.method in ("none", "ambiguous")
            if len(tied) > 1:
                if got.code is not None or got.method != "ambiguous" or not {c.code for c in got.candidates} <= tied:
                    wrong.append((text, row.code, got))
                elif len(tied) <= 3 and row.code not in {c.code for c in got.candidates}:
                    wrong.append((text, row.code, got))
                else:
                    ambiguous_ok += 1
                continue
            single += 1
            if got.code is None:
                missed.append((text, row.code, got.method))
            elif got.code != row.code:
                wrong.append((text, row.code, got))
            else:
                matched += 1
    print(f"\n{which}: {len(units)} units, {single} single-unit variants, matched {matched} "
          f"(recall {matched / single:.2%}), {ambiguous_ok} ambiguous variants left unmatched, "
          f"{len(wrong)} wrong")
    assert not wrong, f"{len(wrong)} wrong: {wrong[:10]}"
    # Every variant above is a normalisation of the real name: all must be recognised, not just most.
    assert not missed, f"{len(missed)} missed: {missed[:20]}"
    assert single > 20 * len(units) / 2  # the corpus is not accidentally empty


def test_the_corpus_has_real_ambiguities() -> None:
    """The ambiguity checks above are not vacuous: the real lists do have shared names."""
    for which in ("Sơn La/old", "Hà Nội/old", "Hà Nội/all", "Tuyên Quang/old"):
        assert any(len(codes) > 1 for codes in truth(which).by_full.values()), which


# --- typos and OCR confusions --------------------------------------------------------------------------------


def typos(name: str) -> list[str]:
    div, bare = parts(name)
    head = name[: len(name) - len(bare)]
    words = bare.split(" ")
    last = words[-1]
    out = []
    if len(last) >= 3:
        mid = len(last) // 2
        out.append(" ".join(words[:-1] + [last[:mid] + last[mid + 1:]]))  # a letter dropped
        out.append(" ".join(words[:-1] + [last[:mid] + last[mid] + last[mid:]]))  # a letter doubled
        out.append(" ".join(words[:-1] + [last[:mid - 1] + last[mid] + last[mid - 1] + last[mid + 1:]]))  # swap
    for a, b in (("m", "rn"), ("l", "I"), ("i", "l"), ("o", "0"), ("ô", "0"), ("n", "u"), ("u", "n"), ("h", "b"),
                 ("c", "e"), ("e", "c"), ("g", "q"), ("y", "v"), ("d", "cl"), (" ", "")):
        if a in bare:
            out.append(bare.replace(a, b, 1))
            out.append(bare[::-1].replace(a[::-1], b[::-1], 1)[::-1])  # the last one too
    result = [head + t for t in out]
    if name.startswith("UBND "):
        result.append("UBMD " + name.removeprefix("UBND "))
    return result


@pytest.mark.parametrize("which", ("Sơn La/new", "Sơn La/old", "Hà Nội/old", "Tuyên Quang/new"))
def test_typos_and_ocr_errors_never_give_a_wrong_unit(which: str) -> None:
    m = matcher(which)
    units = catalogue(which)
    real = {fold(parts(r.name)[1]) for r in units} | {fold(r.name) for r in units}
    wrong, tried, matched, fuzzy = [], 0, 0, 0
    for row in units:
        if row.level == "province":
            continue
        div, bare = parts(row.name)
        several = div and len(truth(which).by_full[(div, fold(bare))]) > 1
        for text in typos(row.name):
            if fold(parts(text)[1]) in real or fold(text) in real:
                continue  # the typo spells another real unit: no one could tell
            tried += 1
            got = m.match(text)
            if got.code is None:
                assert got.candidates and got.method in ("none", "ambiguous")
                continue
            if got.code != row.code or several:
                wrong.append((text, row.code, got.code, got.method, got.confidence))
            matched += 1
            fuzzy += got.method == "fuzzy"
    print(f"\n{which} typos: {tried} tried, {matched} matched ({matched / tried:.1%}), {fuzzy} by fuzzy, "
          f"{len(wrong)} wrong")
    assert not wrong, wrong[:10]
    assert tried > 300
    assert fuzzy > tried * 0.3  # the fuzzy fallback does recognise the common typos, not only refuse


def test_fuzzy_examples() -> None:
    m = matcher("Sơn La/new")
    got = m.match("UBND phường Chiềng Sinhh")
    assert (got.code, got.method) == ("03679", "fuzzy") and 92 <= got.confidence < 100
    assert m.match("Sở Tư phápp").code == "14.STP"
    assert m.match("UBND phường T0 Hiệu").code == "03646"  # OCR zero for o, read as o in the key
    assert m.match("Sở Giao dục và Đào tao").code == "14.SGDDT"
    # Misreadings that lie one letter from another real unit: the right one or none, never the neighbour.
    old = matcher("Sơn La/old")
    assert old.match("UBND xã Nậm Lần").code in (None, "03790-2024")  # Nậm Lầu; Nậm Lạnh (04237-2024) is close
    assert old.match("UBND xã Chiềng Ngàrn").code == "03736-2024"  # "rn" read as m: Chiềng Ngàm, not Chiềng Ngần
    assert matcher("Hà Nội/old").match("UBND phường PhúcLợi").code in (None, "00136-2024")  # not Phú Đô
    # Below the threshold: never a guess, the closest given.
    far = m.match("UBND phường Chiềng")
    assert far.code is None and far.candidates
    assert m.match("UBND phường Chiềng Sinhh", level="department").code is None


# --- names of no unit, describe() --------------------------------------------------------------------------


def test_unknown_name_is_refused_with_the_closest_units_in_vietnamese() -> None:
    m = matcher("Sơn La/new")
    got = m.match("UBND xã Không Có")
    assert got.code is None and got.name is None and got.method == "none" and got.confidence == 0
    assert 1 <= len(got.candidates) <= 3
    assert all(0 <= c.score < 92 for c in got.candidates)
    assert [c.score for c in got.candidates] == sorted((c.score for c in got.candidates), reverse=True)
    msg = m.describe(got)
    assert msg.startswith("không nhận ra đơn vị 'UBND xã Không Có'; gần nhất: ")
    for c in got.candidates:
        assert f"{c.name} ({c.code}, {c.score:.0f}%)" in msg
    typo = m.match("UBND phường Chiềng Sinh Sinh Sinh")
    assert typo.code is None and "UBND phường Chiềng Sinh (03679" in m.describe(typo)


def test_describe_ambiguous_and_matched() -> None:
    m = matcher("Sơn La/old")
    amb = m.match("UBND xã Chiềng Chung")
    text = m.describe(amb)
    assert "khớp với nhiều đơn vị" in text and "04015-2024" in text and "04129-2024" in text
    ok = m.match("Sở Tư pháp")
    assert m.describe(ok) == "đã nhận ra đơn vị 'Sở Tư pháp': Sở Tư pháp (14.STP, khớp tên)"
    assert m.describe(m.match("   ")) == "tên đơn vị trống"
    assert m.match("").candidates == () and m.match("").code is None
    empty = UnitMatcher([]).match("UBND xã Chiềng Sinh")
    assert empty.code is None and empty.candidates == ()
    assert UnitMatcher([]).describe(empty).endswith("danh mục không có đơn vị nào để so")
    # Control characters from a file are not echoed into the message.
    assert "\x1b" not in m.describe(m.match("UBND xã\x1b[31m Không Có"))


# --- codes, aliases, levels --------------------------------------------------------------------------------


def test_codes_come_first() -> None:
    m = matcher("Sơn La/all")
    assert (m.match("14.STP").code, m.match("14.STP").method) == ("14.STP", "code")
    assert m.match(" 14.stp ").code == "14.STP"
    assert m.match("03679-2024").code == "03679-2024"
    assert m.match("03679").code == "03679"
    assert m.match("123", level="district").code == "123"
    assert m.match("123", level="commune").code is None  # a code of another level is not taken


def test_confirmed_alias_maps_to_its_code() -> None:
    rows = [(r.code, r.name, r.level) for r in catalogue("Sơn La/all")]
    aliases = {"Bộ phận một cửa P. Chiềng Sinh": "03679", "Chiềng Chung (Mai Sơn)": "04129-2024",
               "UBND xã Chiềng Chung": "04015-2024", "Sở Tư pháp": "14.STC"}
    m = UnitMatcher(rows, aliases=aliases)
    got = m.match("BỘ PHẬN MỘT CỬA PHƯỜNG CHIỀNG SINH")
    assert (got.code, got.method, got.confidence) == ("03679", "alias", 100.0)
    assert m.match("chieng chung (mai son)").code == "04129-2024"
    # An alias settles a name that is otherwise ambiguous ...
    assert (m.match("UBND xã Chiềng Chung").code, m.match("UBND xã Chiềng Chung").method) == ("04015-2024", "alias")
    # ... but never overrides an exact name of another unit.
    assert (m.match("Sở Tư pháp").code, m.match("Sở Tư pháp").method) == ("14.STP", "exact")
    assert m.match("Chiềng Chung (Mai Sơn)", level="district").code is None
    with pytest.raises(ValueError, match="không có trong danh mục"):
        UnitMatcher(rows, aliases={"Phường Mới": "99999"})


def test_level_restricts_candidates() -> None:
    m = matcher("Sơn La/all")
    assert m.match("Mộc Châu").method == "ambiguous"  # phường Mộc Châu (2025) and thị xã Mộc Châu (before)
    assert m.match("Mộc Châu", level="district").code == "123"
    assert m.match("Mộc Châu", level="commune").code == "03980"
    assert m.match("Sơn La", level="province").code == "14"
    assert m.match("Sơn La", level="district").code == "116"
    assert m.match("Sở Tư pháp", level="commune").code is None


# --- ambiguity and division words --------------------------------------------------------------------------


def assert_ambiguous(got: Match, codes: set[str]) -> None:
    assert got.code is None and got.method == "ambiguous", got
    assert {c.code for c in got.candidates} == codes


def test_real_duplicate_names_are_ambiguous() -> None:
    hn = matcher("Hà Nội/old")
    assert_ambiguous(hn.match("UBND phường Quang Trung"), {"00214-2024", "09538-2024"})  # Đống Đa, Hà Đông
    assert_ambiguous(hn.match("UBND xã Tân Minh"), {"00406-2024", "10240-2024"})  # Sóc Sơn, Thường Tín
    assert_ambiguous(hn.match("Trung Hòa"), {"00175-2024", "10051-2024"})  # phường (Cầu Giấy), xã (Chương Mỹ)
    assert_ambiguous(matcher("Sơn La/old").match("UBND xã Chiềng Chung"), {"04015-2024", "04129-2024"})
    # The same name before and after 1/7/2025 with two codes.
    assert_ambiguous(matcher("Hà Nội/all").match("xã Chương Dương"), {"10237", "10237-2024"})
    assert_ambiguous(matcher("Sơn La/all").match("P. Tô Hiệu"), {"03646", "03649-2024"})


def test_division_word_decides() -> None:
    hn = matcher("Hà Nội/old")
    assert hn.match("phường Trung Hòa").code == "00175-2024"
    assert hn.match("UBND XA TRUNG HOA").code == "10051-2024"
    assert hn.match("Uỷ ban nhân dân phường Trung Hoà").code == "00175-2024"
    for typo in ("phường Trung Hòaa", "phường Trung Hoa.", "P. Trung Hòa", "phuong trung hoa"):
        assert hn.match(typo).code in ("00175-2024", None), typo
    sl = matcher("Sơn La/all")
    assert sl.match("phường Mộc Châu").code == "03980"
    assert sl.match("thị xã Mộc Châu").code == "123"
    assert sl.match("TX Mộc Châu").code == "123"
    assert sl.match("xã Mộc Châu").code is None  # neither the phường nor the thị xã
    assert sl.match("UBND xã Chiềng Sinh").code is None  # Chiềng Sinh is a phường, not a xã
    assert matcher("Sơn La/new").match("Chiềng Sinh").code == "03679"  # bare name, one unit in the list


# --- the key -------------------------------------------------------------------------------------------------


def test_unit_key_normalises() -> None:
    base = unit_key("Ủy ban nhân dân xã Chiềng Sinh")
    assert base == "uy ban nhan dan xa chieng sinh"
    for v in ("UBND xã Chiềng Sinh", "U.B.N.D X.Chiềng Sinh", "Uỷ ban nhân dân  XÃ CHIỀNG SINH.",
              unicodedata.normalize("NFD", "UBND xã Chiềng Sinh"), "UBND XA CHIENG SINH", "UBND x. Chiềng-Sinh"):
        assert unit_key(v) == base, v
    assert unit_key("Hòa Bình") == unit_key("Hoà Bình") and unit_key("Thủy") == unit_key("Thuỷ")
    assert unit_key("P. Tô Hiệu") == "phuong to hieu" and unit_key("TT. Ít Ong") == "thi tran it ong"
    assert unit_key("TP. Sơn La") == unit_key("thành phố Sơn La") == unit_key("TP Sơn La")
    assert unit_key("H. Mai Sơn") == "huyen mai son" and unit_key("Q. Ba Đình") == "quan ba dinh"
    assert unit_key("Phường 01") == unit_key("phường 1")
    pairs = {"Sở KH&CN": "Sở Khoa học và Công nghệ", "Sở KHCN": "Sở Khoa học và Công nghệ",
             "Sở GD&ĐT": "Sở Giáo dục và Đào tạo", "Sở GDĐT": "Sở Giáo dục và Đào tạo",
             "Sở LĐ-TB&XH": "Sở Lao động - Thương binh và Xã hội",
             "Sở VH,TT&DL": "Sở Văn hóa, Thể thao và Du lịch", "Sở VHTTDL": "Sở Văn hóa, Thể thao và Du lịch",
             "Sở TN&MT": "Sở Tài nguyên và Môi trường", "Sở NN&PTNT": "Sở Nông nghiệp và Phát triển nông thôn",
             "Sở NN&MT": "Sở Nông nghiệp và Môi trường", "Sở KH&ĐT": "Sở Kế hoạch và Đầu tư",
             "Sở GTVT": "Sở Giao thông vận tải", "Sở TT&TT": "Sở Thông tin và Truyền thông",
             "BQL các KCN": "Ban quản lý các khu công nghiệp", "Sở Giáo dục & Đào tạo": "Sở Giáo dục và Đào tạo"}
    for short, long in pairs.items():
        assert unit_key(short) == unit_key(long), short
    # Division words are kept: the key of a phường is not the key of a xã.
    assert unit_key("phường Mộc Châu") != unit_key("xã Mộc Châu") != unit_key("thị xã Mộc Châu")


# --- speed ---------------------------------------------------------------------------------------------------


def test_fast_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [r for p in Province.iter_all() for r in province_rows(p)]
    rows += department_rows(find_province("Sơn La"), default_departments_path())
    started = time.perf_counter()
    m = UnitMatcher((r.code, r.name, r.level) for r in rows)
    built = time.perf_counter() - started
    assert len(rows) > 3300 and built < 2.0
    names = []
    for r in rows:
        rest = r.name.removeprefix("UBND ")
        names += [r.name, r.name.upper(), strip_diacritics(r.name), unicodedata.normalize("NFD", r.name),
                  f"Ủy ban nhân dân {rest}", rest, rest.upper(), strip_diacritics(rest), f" {r.name} ",
                  strip_diacritics(r.name).upper(), r.name.lower(), f"{r.name}."]
    names = (names * 3)[:99_000]
    typo_names = [r.name + "x" for r in rows[:1000]]  # 1% misspelt: the fuzzy fallback
    started = time.perf_counter()
    got = Counter(m.match(n).method for n in names + typo_names)
    took = time.perf_counter() - started
    print(f"\n{len(rows)} units built in {built:.2f} s; {len(names) + len(typo_names)} names ({len(set(names))} "
          f"distinct, {len(typo_names)} typos) matched in {took:.2f} s: {dict(got)}")
    assert sum(got.values()) == 100_000 and took < 5.0
    # Names that match exactly never reach RapidFuzz.
    monkeypatch.setattr("rapidfuzz.process.extract", lambda *a, **k: pytest.fail("fuzzy on an exact name"))
    fresh = UnitMatcher((r.code, r.name, r.level) for r in rows[:500])
    assert all(fresh.match(n).method in ("exact", "ambiguous") for n in names[:2000])
