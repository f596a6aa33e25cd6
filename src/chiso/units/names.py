"""Matching unit names (tên đơn vị) to unit codes: the one place every reader of names goes through.

Files from offices and published letters often give a unit by name ("UBND phường Mộc Châu", "Sở Tư pháp",
"UBND XA CHIENG SINH", "P. Tô Hiệu", "Sở GD&ĐT") instead of by code. :class:`UnitMatcher` turns such a name
into a code of the units catalogue, or says it cannot, and never guesses.

Rules, in order (the first that decides wins):

1. **Code.** The text, stripped, is a unit code (case-insensitive): ``method="code"``.
2. **Exact key.** The normalised key (:func:`unit_key`) of the text equals a key of exactly one unit:
   ``method="exact"``. Each unit is known by several keys:

   * its full name ("uy ban nhan dan xa chieng sinh");
   * the name without the committee prefix "UBND"/"Ủy ban nhân dân" ("xa chieng sinh");
   * the name without a trailing "tỉnh <province>"/"thành phố <province>" ("Sở Tư pháp tỉnh Sơn La" =
     "Sở Tư pháp"); for units that are not administrative divisions (departments) also without a bare
     trailing "tỉnh" and without the word "và";
   * the bare name without its division word ("chieng sinh"), looked up only as a last resort, so it decides
     only when one unit carries that bare name.

   The division word is part of the key: "phường Mộc Châu" never matches "xã Mộc Châu" or "thị xã Mộc Châu".
   A key shared by two or more units (the same name in two districts, "Chiềng Sinh" as a xã and as a phường,
   a legacy and a new unit with the same name) is *ambiguous*: no code, ``method="ambiguous"``, the tied units
   as candidates.
3. **Alias.** A name confirmed by a user (``aliases``: name -> code), compared by the same keys:
   ``method="alias"``. An alias also settles a name that is otherwise ambiguous.
4. **Fuzzy**, only as a fallback (RapidFuzz ``fuzz.ratio`` over the precomputed keys): accepted only when the
   best unit scores at least ``threshold`` (default 92) *and* at least ``margin`` (default 5) points ahead of
   the next unit: ``method="fuzzy"``, ``confidence`` = the score. Otherwise no code: ``method="ambiguous"``
   when the best is above the threshold but not clearly ahead, else ``method="none"``; the closest units (up to
   three) are always given as candidates. A unit's score is the plain score of its key, or, if higher, the score
   with the letters OCR confuses merged (u/n, i/l/1, e/c, b/h, q/g, v/y; :func:`ocr_key`) less
   ``OCR_PENALTY`` (5): a misread letter keeps the right unit close, so that a neighbour that the misreading
   happens to resemble ("Nậm Lần", read for "Nậm Lầu", is one letter from "Nậm Lạnh") is not clearly ahead.
   The committee prefix is dropped here even when OCR damaged it ("UBMD phường ...").

5. **OCR mode** (``match(text, level, ocr=True)``, for names read by OCR from scanned letters). Rules 1-3 first
   on the name as given, then on the name with the OCR repairs (:func:`ocr_repair`, :func:`ocr_unit_key`): a
   repaired name that decides by rule 2 gives ``method="ocr"``, confidence 100. Then, instead of rule 4, the OCR
   cost (:func:`ocr_cost`), a weighted edit distance between the repaired name and each unit of the level with
   the same division word: a misreading OCR makes (o/e, a/e, a/i, a/o, which is how ố, ậ, ắ, ó... come out; u/n,
   i/l, e/c; Đ read as P; ô read as b) costs 0.34, an e or i too many or too few (â/ă read as "éa"/"ia") 0.5,
   any other vowel edit 0.75, a space 0.25, any consonant edit 1. Accepted (``method="ocr"``, confidence = the
   score, 100 x (1 - cost / length)) only when the best unit costs at most 0.9 in all *and* at most 0.5 in each
   word (one misreading a word) *and* the next unit costs at least 1 more (one consonant edit). Otherwise no
   code (``"ambiguous"`` when the best is close enough but not clearly ahead, else ``"none"``) and the closest
   units as candidates. A district may be named by another district title ("huyện Mộc Châu" for thị xã Mộc
   Châu, at 0.5). Measured on OCR damage generated from the real names (tests/test_names_ocr.py): no wrong code;
   recall 87-97%; another province's communes, departments missing from the list and names one consonant from
   a real one get no code. What OCR mode cannot tell: a unit missing from the list whose name differs from a
   listed one only by one of the misreadings above (as "Bic Yên" is read for Bắc Yên).

   The repairs: a division word OCR damaged after the committee prefix ("Xi", "Xa", "X&", "X3", "X4", "X4&",
   "X" -> xã; "X&", "X3", "X4", "X4&" also at the start; "Phudng" -> phường; "Huyén" -> huyện; "phố" alone ->
   thành phố); a damaged "Sở" at the start ("S¢", "Sé", "S6", "SO", "So6", "S¢&", and "S&Yte" glued); in a word
   that is no Vietnamese syllable, look-alikes of vowels touching letters (6, 0 -> o; 4, 3 -> a; ¢, © -> e; &
   between small letters -> a), then a b or d after the first letter read as o (no syllable ends in b or d:
   "Subi" -> suối, "Mudng" -> mường, "Hb" -> hồ), or two syllables run together split ("Noivu" -> nội vụ); words
   in capitals are left to the key (UBND, TBXH). The partial department abbreviations "TBXH", "PTNT", "TT&DL"
   ("Sở Lao động, TBXH", "Sở Văn hóa, TT&DL", "Sở Nông nghiệp&PTNT") are read in OCR mode only.

``Match.confidence`` is the confidence in the returned code: 100 for code/exact/alias, the score for fuzzy and ocr,
0 when no code is returned (the candidates carry their own scores). An empty name gives ``method="none"`` and
no candidates.

The key (:func:`unit_key`):

* Unicode NFKC, then diacritics removed, so that NFC and NFD input and the old and new tone-mark placements
  ("Hòa"/"Hoà", "Thủy"/"Thuỷ") give the same key; lower case; đ (and the look-alike Ð) -> d; punctuation and
  repeated spaces collapsed; invisible characters removed (line breaks and tabs are spaces).
* OCR misreadings that cannot be Vietnamese read back: a digit 0 touching a letter is o ("T0 Hiệu"); "rn" is m
  (no Vietnamese syllable ends in r, and no commune, district or province name before or after 2025 has "rn").
* Leading zeros of numbers dropped ("Phường 01" = "Phường 1"); a doubled title read once ("Thành phố Thành phố
  Hà Nội", as the catalogue names the city).
* Abbreviations expanded: "UBND"/"U.B.N.D" -> ủy ban nhân dân, "HĐND" -> hội đồng nhân dân; "X." -> xã,
  "P." -> phường, "TT." -> thị trấn, "TP."/"TP" -> thành phố, "TX."/"TX" -> thị xã, "H." -> huyện, "Q." -> quận
  (single letters only with their dot; "TT" without a dot may be "Trung tâm" and is left alone); the department
  abbreviations "KH&CN", "GD&ĐT", "LĐ-TB&XH", "VH,TT&DL", "TN&MT", "NN&PTNT", "NN&MT", "KH&ĐT", "GTVT",
  "TT&TT", "DT&TG" (with "&", "-", ",", "và" or nothing between the parts), "Sở TP/NV/TC/CT/XD/YT",
  "BQL" -> ban quản lý, "KCN" -> khu công nghiệp, "VP" -> văn phòng, "TTPVHCC" -> trung tâm phục vụ hành chính
  công; "&" -> và.

Speed: keys are cached, exact look-ups are dictionary look-ups, results are cached per (text, level), and
RapidFuzz runs over the precomputed keys only for names that no exact rule decides.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from chiso.textnorm import INVISIBLE, strip_diacritics

COMMITTEE = "uy ban nhan dan"
# Division words as they appear in keys, longest first so that "thi xa" is not read as "xa".
DIVISIONS = ("thanh pho", "thi xa", "thi tran", "dac khu", "phuong", "huyen", "quan", "tinh", "xa")
METHODS = ("code", "exact", "alias", "fuzzy", "ocr", "none", "ambiguous")


@dataclass(frozen=True)
class Candidate:
    code: str
    name: str
    score: float  # 0..100


@dataclass(frozen=True)
class Match:
    query: str
    code: str | None  # None: not matched automatically (never a guess)
    name: str | None
    confidence: float  # 0..100, confidence in ``code``; 0 when code is None
    method: str  # "code" | "exact" | "alias" | "fuzzy" | "ocr" | "none" | "ambiguous"
    candidates: tuple[Candidate, ...]  # the closest units (up to 3); filled whenever code is None


# --- the key ---------------------------------------------------------------------------------------------

_W = r"(?<![a-z0-9])"  # start of a word (keys are ASCII once diacritics are gone)
_E = r"(?![a-z0-9])"  # end of a word
_SEP = r"\s*(?:(?:[&,./+-]|va" + _E + r")\s*)?"  # between the parts of an abbreviation: "&", "-", ",", "và"
_DIVISION_ABBR = {"tt": "thi tran", "tp": "thanh pho", "tx": "thi xa", "x": "xa", "p": "phuong", "h": "huyen",
                  "q": "quan"}


def _abbr(*parts: str) -> str:
    return _SEP.join(parts) + _E


# Every rewrite as (pattern, expansion). They all start at the start of a word and are tried in this order at
# each word start, in one pass over the text.
_REWRITES: tuple[tuple[str, str], ...] = (
    # Dotted acronyms, before the dots are read as the "P." / "X." prefixes.
    (r"u\s*\.\s*b\s*\.\s*n\s*\.\s*d" + _E + r"\.?", "uy ban nhan dan"),
    (r"h\s*\.\s*d\s*\.\s*n\s*\.\s*d" + _E + r"\.?", "hoi dong nhan dan"),
    (r"t\s*\.\s*p" + _E + r"\.?", "thanh pho"),
    (r"t\s*\.\s*x" + _E + r"\.?", "thi xa"),
    # Department abbreviations, the longer ones first ("NN&PTNT" before "NN&MT").
    (_abbr("ld", "tb", "xh"), "lao dong thuong binh va xa hoi"),
    (_abbr("vh", "tt", "dl"), "van hoa the thao va du lich"),
    (_abbr("nn", "ptnt"), "nong nghiep va phat trien nong thon"),
    (_abbr("nn", "mt"), "nong nghiep va moi truong"),
    (_abbr("tn", "mt"), "tai nguyen va moi truong"),
    (_abbr("kh", "cn"), "khoa hoc va cong nghe"),
    (_abbr("kh", "dt"), "ke hoach va dau tu"),
    (_abbr("gd", "dt"), "giao duc va dao tao"),
    (_abbr("gt", "vt"), "giao thong van tai"),
    (_abbr("tt", "tt"), "thong tin va truyen thong"),
    (_abbr("dt", "tg"), "dan toc va ton giao"),
    (_abbr("tt", "pvhcc"), "trung tam phuc vu hanh chinh cong"),
    (_abbr("pvhcc"), "phuc vu hanh chinh cong"),
    # "Sở TP" is Sở Tư pháp, not a city; a few other two-letter department names after "Sở".
    (_abbr(r"so\s+tp"), "so tu phap"),
    (_abbr(r"so\s+nv"), "so noi vu"),
    (_abbr(r"so\s+tc"), "so tai chinh"),
    (_abbr(r"so\s+ct"), "so cong thuong"),
    (_abbr(r"so\s+xd"), "so xay dung"),
    (_abbr(r"so\s+yt"), "so y te"),
    # Division prefixes written with a dot: "P. Tô Hiệu", "X.Chiềng Sinh", "TT. Ít Ong" (see _DIVISION_ABBR).
    (r"(?P<div>tt|tp|tx|x|p|h|q)\s*\.", ""),
    (_abbr("tp"), "thanh pho"),
    (_abbr("tx"), "thi xa"),
    (_abbr("ubnd"), "uy ban nhan dan"),
    (_abbr("hdnd"), "hoi dong nhan dan"),
    (_abbr("bql"), "ban quan ly"),
    (_abbr("kcn"), "khu cong nghiep"),
    (_abbr("vp"), "van phong"),
)
# One look-behind for all (tried at every position, it fails fast inside words), then the alternatives.
_REWRITE = re.compile(_W + "(?:" + "|".join(f"(?P<r{i}>{p})" for i, (p, _) in enumerate(_REWRITES)) + ")")
_EXPANSIONS = {f"r{i}": e for i, (_, e) in enumerate(_REWRITES)}
_OCR_ZERO = re.compile(r"(?<=[a-z])0|0(?=[a-z])")  # OCR: a zero touching a letter is the letter o ("T0 Hiệu")


def _expand(m: re.Match[str]) -> str:
    div = m.group("div")
    return " " + (_DIVISION_ABBR[div] if div else _EXPANSIONS[m.lastgroup or ""]) + " "


def _invisible(m: re.Match[str]) -> str:
    return " " if m.group().isspace() else ""  # line breaks and tabs separate words; zero-width marks do not


_NON_WORD = re.compile(r"[^a-z0-9]+")
_LEADING_ZEROS = re.compile(_W + r"0+(?=\d)")
# Precomposed letters with diacritics (Latin-1 to Latin Extended Additional) to their base letter, through
# textnorm.strip_diacritics; đ -> d, and the look-alike eth (Ð, ð) too.
_BASE_LETTERS = {cp: strip_diacritics(chr(cp)) for cp in range(0xC0, 0x1F00)
                 if unicodedata.category(chr(cp)).startswith("L") and strip_diacritics(chr(cp)) != chr(cp)
                 and len(strip_diacritics(chr(cp))) == 1}
_BASE_LETTERS |= {0xD0: "D", 0xF0: "d"}
_TO_BASE = str.maketrans(_BASE_LETTERS)


@lru_cache(maxsize=131072)
def unit_key(text: str) -> str:
    """The normalised key used for exact matching: 'Ủy ban nhân dân  Xã Chiềng  Sinh' -> 'uy ban nhan dan xa
    chieng sinh'; 'UBND X. Chiềng Sinh' gives the same key. See the module docstring for every rule."""
    s = unicodedata.normalize("NFKC", text).translate(_TO_BASE).lower()
    if not s.isascii():  # combining marks left over (a decomposed letter with no precomposed form), invisibles
        s = strip_diacritics(INVISIBLE.sub(_invisible, s)).translate(_TO_BASE).lower()
    if "0" in s:
        s = _OCR_ZERO.sub("o", s)
    if "rn" in s:  # OCR: no Vietnamese syllable has "rn" (none ends in r, even when words run together): an m
        s = s.replace("rn", "m")
    s = _REWRITE.sub(_expand, s).replace("&", " va ")
    s = _NON_WORD.sub(" ", s)
    if "thanh pho thanh pho" in s:  # "Thành phố Thành phố Hà Nội": a doubled title, read once
        s = s.replace("thanh pho thanh pho", "thanh pho")
    return _LEADING_ZEROS.sub("", s).strip()


# Letters OCR confuses, merged for the fuzzy score only: u/n, i/l/1, e/c, b/h, q/g, v/y.
_OCR_LOOKALIKES = str.maketrans("uil1ebqv", "nlllchgy")
OCR_PENALTY = 5.0  # a score on merged look-alikes counts this much less than the same score on the key itself


def ocr_key(key: str) -> str:
    """The key with letters that OCR confuses merged: 'xa nam lau' and 'xa nam lan' both give 'xa nam lan'."""
    return key.translate(_OCR_LOOKALIKES)


def split_division(key: str) -> tuple[str, str]:
    """'xa chieng sinh' -> ('xa', 'chieng sinh'); a key without a leading division word -> ('', key)."""
    for d in DIVISIONS:
        if key.startswith(d + " "):
            return d, key[len(d) + 1:]
    return "", key


def _drop_committee(key: str) -> str:
    return key[len(COMMITTEE) + 1:] if key.startswith(COMMITTEE + " ") else key


def _drop_committee_tolerant(key: str) -> str:
    """The committee prefix removed even when OCR damaged it ('ubmd xa ...', 'uy ban nhan dam xa ...'), but only
    when a division word follows, so that nothing else is cut."""
    key = _drop_committee(key)
    words = key.split(" ")
    for n in range(1, min(5, len(words) - 1) + 1):
        head, rest = " ".join(words[:n]), " ".join(words[n:])
        if not split_division(rest)[0]:
            continue
        if fuzz.ratio(head, COMMITTEE) >= 85 or (n == 1 and fuzz.ratio(head, "ubnd") >= 75):
            return rest
    return key


def _drop_and(key: str) -> str:
    return " ".join(w for w in key.split(" ") if w != "va")


_TRAILING_TINH = re.compile(r" (?:tinh|thanh pho)$")


def _department_forms(local: str) -> list[str]:
    """Extra keys for units that are not administrative divisions: no bare trailing 'tỉnh', no 'và'."""
    bare = _TRAILING_TINH.sub("", local)
    return [k for k in dict.fromkeys((bare, _drop_and(bare), _drop_and(local))) if k and k != local]


# --- OCR mode: repairs and the OCR cost ----------------------------------------------------------------------

# One Vietnamese syllable without diacritics: an initial consonant (or none), vowels, a final consonant (or none).
# Only c, ch, m, n, ng, nh, p, t end a syllable: a b or a d after the first letter is OCR damage (of ô/ơ/ố...).
_SYLLABLE = re.compile(r"(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnpqrstvx])?[aeiouy]+(?:ch|ng|nh|[cmnpt])?")
_LOOKALIKE_VOWELS = {"6": "o", "0": "o", "4": "a", "3": "a", "¢": "e", "©": "e", "&": "a"}
_DIGIT_IN_WORD = re.compile(r"(?<=[A-Za-z])[6043¢©]|[6043¢©](?=[A-Za-z])|(?<=[a-z])&(?=[a-z])")
_DAMAGED_XA = re.compile(r"x(?:[ai34&]&?)?")  # xã as OCR reads it after the committee prefix: Xi, X&, X3, X4&, X
_DAMAGED_XA_START = re.compile(r"x(?:[34&]&?)?")  # at the start of a name, only forms that are no word
_DAMAGED_PHUONG = re.compile(r"ph[un][a-z0-9¢©&]ng")
_DAMAGED_HUYEN = re.compile(r"h[un]y[a-z0-9¢©&]n")
_DAMAGED_SO = re.compile(r"s[oe0-9¢©&@*]{0,2}")  # Sở: S¢, Sé, S6, SO, So6, S¢&
_GLUED_SO = re.compile(r"s[oe0-9]?[¢©&@*]+(?=[a-z])")  # S&Yte
_OCR_KEY_REWRITES = ((re.compile(_W + r"tbxh" + _E), "thuong binh va xa hoi"),
                     (re.compile(_W + r"ptnt" + _E), "phat trien nong thon"),
                     (re.compile(_W + r"tt va dl" + _E), "the thao va du lich"))
DISTRICT_TITLES = ("huyen", "thi xa", "thanh pho", "quan")
OCR_TITLE = 0.5  # a district named by another district title: "huyện Mộc Châu" for thị xã Mộc Châu


def _valid_word(w: str) -> bool:
    return bool(_SYLLABLE.fullmatch(w)) or w.isdigit()


def _split_glued(w: str) -> str | None:
    """'noivu' -> 'noi vu': two syllables run together, split where both halves are syllables."""
    for i in range(1, len(w)):
        if _valid_word(w[:i]) and _valid_word(w[i:]):
            return w[:i] + " " + w[i:]
    return None


def _repair_word(word: str) -> str:
    """One word of an OCR'd name (diacritics already gone), lower case: look-alikes of vowels touching letters
    read as the vowels (T6 -> tô, M4 -> mã, nghi¢p -> nghiep), then, if it is still no syllable, a b or d after the
    first letter read as o (Subi -> suoi, Mudng -> muong, Hb -> ho), or two syllables split (Noivu -> noi vu)."""
    if len(word) >= 2 and word.isalpha() and word.isupper():
        return word.lower()  # an abbreviation (UBND, TBXH) or a name in capitals: left to the key
    w = _DIGIT_IN_WORD.sub(lambda m: _LOOKALIKE_VOWELS[m.group()], word).lower()
    if _valid_word(w) or not w.isalnum() or " " in unit_key(w):
        return w
    bd = w[0] + w[1:].replace("b", "o").replace("d", "o")
    if _valid_word(bd):
        return bd
    return _split_glued(w) or _split_glued(bd) or bd


def ocr_repair(text: str) -> str:
    """The repairs of OCR mode (see the module docstring), before the key: 'UBND Xi Subi To' -> 'ubnd xa suoi to',
    'S&Yte' -> 'so y te', 'SO Noivu' -> 'so noi vu'."""
    s = unicodedata.normalize("NFKC", text).translate(_TO_BASE)
    if not s.isascii():
        s = strip_diacritics(INVISIBLE.sub(_invisible, s)).translate(_TO_BASE)
    words = s.split()
    out: list[str] = []
    i = 0
    head = words[0].lower() if words else ""
    if len(words) >= 2 and (unit_key(words[0]) == COMMITTEE or fuzz.ratio(head, "ubnd") >= 75):
        out, i = [words[0]], 1
    elif len(words) >= 5 and unit_key(" ".join(words[:4])) == COMMITTEE:
        out, i = words[:4], 4
    if i < len(words) - 1:
        first = words[i].lower()
        if i and _DAMAGED_XA.fullmatch(first) or not i and _DAMAGED_XA_START.fullmatch(first):
            out.append("xa")
            i += 1
        elif i and first == "pho":  # "Ủy ban nhân dân phố Sơn La": thành phố
            out.append("thanh pho")
            i += 1
        elif i and (_DAMAGED_PHUONG.fullmatch(_repair_word(first)) or _DAMAGED_HUYEN.fullmatch(_repair_word(first))):
            out.append("phuong" if first.startswith("p") else "huyen")
            i += 1
        elif not i and _DAMAGED_SO.fullmatch(first):
            out.append("so")
            i += 1
    if not i and words and (glued := _GLUED_SO.match(words[0].lower())):
        out.append("so")
        words = [words[0][glued.end():], *words[1:]]
    out += [_repair_word(w) for w in words[i:]]
    return " ".join(out)


def ocr_unit_key(text: str) -> str:
    """The key of an OCR'd name: :func:`ocr_repair`, then :func:`unit_key`, then the partial department
    abbreviations ('Sở Lao động, TBXH', 'Sở Văn hóa, TT&DL', 'Sở Nông nghiệp&PTNT')."""
    key = unit_key(ocr_repair(text))
    for pattern, expansion in _OCR_KEY_REWRITES:
        key = pattern.sub(expansion, key)
    return key


_VOWELS = frozenset("aeiouy")
# What OCR does to Vietnamese letters (seen in scanned letters): a vowel with marks read as another base vowel
# (ố/ó -> é, ậ -> é, ắ/ặ -> i, á -> d, then o), the marks of â/ă read as one more vowel (Châu -> "Chéau", Văn
# -> "Vian"), Đ read as P, ô read as b, d for ơ, u/n, i/l, e/c; words run together.
_VOWEL_PAIRS = frozenset(frozenset(p) for p in ("oe", "ae", "ai", "ao"))
_LOOKALIKE_PAIRS = frozenset(frozenset(p) for p in ("un", "il", "ec", "dp", "bo", "do", "l1"))
OCR_SUBSTITUTE = 0.34  # one of those misreadings
OCR_EXTRA_VOWEL = 0.5  # an e or i too many or too few
OCR_VOWEL = 0.75  # any other vowel changed, added or dropped
OCR_SPACE = 0.25  # words run together or split
OCR_OTHER = 1.0  # any other edit: a consonant changed, added or dropped
OCR_WORD_MAX = 0.5  # at most one misreading in each word ...
OCR_MAX_COST = 0.9  # ... and in all (fewer than one consonant edit) ...
OCR_MARGIN = 1.0  # ... and the next unit at least one consonant edit farther


def _indel_cost(ch: str) -> float:
    return OCR_SPACE if ch == " " else OCR_EXTRA_VOWEL if ch in "ei" else OCR_VOWEL if ch in _VOWELS else OCR_OTHER


def _sub_cost(a: str, b: str) -> float:
    if a == b:
        return 0.0
    pair = frozenset((a, b))
    if pair in _VOWEL_PAIRS or pair in _LOOKALIKE_PAIRS:
        return OCR_SUBSTITUTE
    return OCR_VOWEL if a in _VOWELS and b in _VOWELS else OCR_OTHER


def _edit_cost(a: str, b: str) -> float:
    prev = [0.0]
    for ch in b:
        prev.append(prev[-1] + _indel_cost(ch))
    for ca in a:
        da = _indel_cost(ca)
        cur = [prev[0] + da]
        for j, cb in enumerate(b):
            cur.append(min(prev[j] + _sub_cost(ca, cb), prev[j + 1] + da, cur[j] + _indel_cost(cb)))
        prev = cur
    return prev[-1]


def ocr_cost(a: str, b: str) -> tuple[float, float]:
    """(total, worst word): the weighted edit distance between two keys for OCR mode, with the costs above; the
    worst word is the most any one word costs when both have as many words, else the total less the spaces."""
    wa, wb = a.split(" "), b.split(" ")
    if len(wa) == len(wb):
        costs = [_edit_cost(x, y) for x, y in zip(wa, wb, strict=True)]
        return sum(costs), max(costs)
    total = _edit_cost(a, b)
    return total, total - OCR_SPACE * abs(len(wa) - len(wb))


# --- the matcher -----------------------------------------------------------------------------------------

@dataclass
class _Pool:
    """Keys with the codes they stand for, for one level (or all): the haystack RapidFuzz searches."""
    keys: list[str]
    codes: list[tuple[str, ...]]
    ocr: list[str]  # the keys with OCR look-alikes merged (ocr_key)


class UnitMatcher:
    """Names to codes for one set of units; see the module docstring for the rules.

    ``units``: (code, name, level) rows; a code given twice adds a second name for the same unit (its first
    name and level are kept). ``aliases``: name -> code pairs confirmed by a user; every code must be a unit.
    """

    def __init__(self, units: Iterable[tuple[str, str, str]], aliases: Mapping[str, str] | None = None,
                 threshold: float = 92.0, margin: float = 5.0, cache_size: int = 200_000, *,
                 ocr_max_cost: float = OCR_MAX_COST, ocr_margin: float = OCR_MARGIN):
        self.threshold = threshold
        self.margin = margin
        self.ocr_max_cost = ocr_max_cost
        self.ocr_margin = ocr_margin
        self._cache_size = cache_size
        self._name: dict[str, str] = {}
        self._level: dict[str, str] = {}
        self._by_code: dict[str, str] = {}  # casefolded code -> code
        self._division: dict[str, bool] = {}  # code -> is an administrative division (xã, phường, huyện, ...)
        rows = [(str(c).strip(), str(n).strip(), str(lv).strip()) for c, n, lv in units]
        for code, name, level in rows:
            if not code:
                raise ValueError(f"đơn vị '{name}' không có mã")
            if code not in self._name:
                self._name[code], self._level[code] = name, level
                self._by_code[code.casefold()] = code
        provinces: set[str] = set()
        for code, name, _level in rows:
            key = _drop_committee(unit_key(name))
            div, bare = split_division(key)
            if self._level[code] == "province" and div in ("tinh", "thanh pho") and bare:
                provinces.add(bare)
            if not div:
                tail = re.search(r" (?:tinh|thanh pho) ((?:\S+ ){0,3}\S+)$", key)
                if tail:
                    provinces.add(tail.group(1))
        self._province_suffix = re.compile(
            r" (?:tinh|thanh pho) (?:" + "|".join(re.escape(p) for p in sorted(provinces, key=len, reverse=True))
            + r")$") if provinces else None
        exact: dict[str, set[str]] = {}
        dept: dict[str, set[str]] = {}
        bare_index: dict[str, set[str]] = {}
        core: dict[str, set[str]] = {}
        for code, name, _level in rows:
            full = unit_key(name)
            if not full:
                raise ValueError(f"đơn vị {code} có tên rỗng")
            c = _drop_committee(full)
            local = self._drop_province(c)
            div, bare = split_division(local)
            self._division.setdefault(code, bool(div))
            for k in {full, c, local}:
                exact.setdefault(k, set()).add(code)
            for k in {c, local}:
                core.setdefault(k, set()).add(code)
            if div:
                bare_index.setdefault(bare, set()).add(code)
            else:
                for k in [local, *_department_forms(local)]:
                    dept.setdefault(k, set()).add(code)
        self._exact = {k: tuple(sorted(v)) for k, v in exact.items()}
        self._dept = {k: tuple(sorted(v)) for k, v in dept.items()}
        self._bare = {k: tuple(sorted(v)) for k, v in bare_index.items()}
        self._core = {k: tuple(sorted(v)) for k, v in core.items()}
        self._alias: dict[str, str] = {}
        bad = []
        for alias, code in (aliases or {}).items():
            code = str(code).strip()
            if code not in self._name:
                bad.append(f"'{alias}' -> {code}")
                continue
            for k in self._query_keys(unit_key(alias)):
                self._alias.setdefault(k, code)
        if bad:
            raise ValueError("tên đã xác nhận trỏ tới mã không có trong danh mục đơn vị: " + "; ".join(bad))
        self._pools: dict[str | None, tuple[_Pool, _Pool]] = {}
        self._results: dict[tuple[str, str | None, bool], Match] = {}
        self._ocr_pools: dict[str | None, dict[str, tuple[list[str], list[tuple[str, ...]]]]] = {}

    # -- public --

    def match(self, text: str, level: str | None = None, *, ocr: bool = False) -> Match:
        """The unit a name stands for, or no code with the closest candidates (never a guess). ``ocr=True`` for
        names read by OCR from a scan: the OCR repairs and the OCR rule of the module docstring apply."""
        got = self._results.get((text, level, ocr))
        if got is None:
            got = self._match_ocr(text, level) if ocr else self._match(text, level)
            if len(self._results) >= self._cache_size:
                self._results.clear()
            self._results[(text, level, ocr)] = got
        return got

    def describe(self, m: Match) -> str:
        """A Vietnamese sentence for the user: what was recognised, or why not and the closest units."""
        q = _shown(m.query)
        near = ", ".join(f"{c.name} ({c.code}, {c.score:.0f}%)" for c in m.candidates)
        if m.code is not None:
            how = {"code": "theo mã", "exact": "khớp tên", "alias": "theo tên đã xác nhận",
                   "fuzzy": f"gần đúng {m.confidence:.0f}%",
                   "ocr": f"đọc từ bản quét (OCR), {m.confidence:.0f}%"}.get(m.method, m.method)
            return f"đã nhận ra đơn vị '{q}': {m.name} ({m.code}, {how})"
        if not unit_key(m.query):
            return "tên đơn vị trống"
        if m.method == "ambiguous":
            return (f"tên đơn vị '{q}' khớp với nhiều đơn vị, không tự chọn được; hãy ghi mã đơn vị hoặc tên đầy đủ "
                    f"(có 'xã', 'phường', tên huyện...): {near}")
        if not m.candidates:
            return f"không nhận ra đơn vị '{q}'; danh mục không có đơn vị nào để so"
        return f"không nhận ra đơn vị '{q}'; gần nhất: {near}"

    def name(self, code: str) -> str:
        return self._name[code]

    # -- internals --

    def _drop_province(self, key: str) -> str:
        return self._province_suffix.sub("", key) if self._province_suffix else key

    def _query_keys(self, key: str) -> list[str]:
        """The key, without the committee prefix, and without a trailing 'tỉnh <province>', in that order."""
        c = _drop_committee(key)
        out = [key]
        for k in (c, self._drop_province(c)):
            if k not in out:
                out.append(k)
        return out

    def _fits(self, codes: Iterable[str], level: str | None, departments_only: bool = False) -> tuple[str, ...]:
        return tuple(c for c in codes if (level is None or self._level[c] == level)
                     and not (departments_only and self._division[c]))

    def _result(self, text: str, code: str, method: str, confidence: float = 100.0,
                candidates: tuple[Candidate, ...] | None = None) -> Match:
        name = self._name[code]
        return Match(text, code, name, confidence, method,
                     candidates if candidates is not None else (Candidate(code, name, confidence),))

    def _unmatched(self, text: str, method: str, candidates: tuple[Candidate, ...]) -> Match:
        return Match(text, None, None, 0.0, method, candidates)

    def _match(self, text: str, level: str | None) -> Match:
        got, key = self._decided(text, level)
        return got if got is not None else self._fuzzy(text, self._query_keys(key)[-1], level)

    def _decided(self, text: str, level: str | None) -> tuple[Match | None, str]:
        """Rules 1-3 (code, exact keys, aliases) and the empty name: the match when one of them decides, and the
        text's key for the rules after them."""
        code = self._by_code.get(INVISIBLE.sub("", unicodedata.normalize("NFKC", text)).strip().casefold())
        if code is not None and (level is None or self._level[code] == level):
            return self._result(text, code, "code"), ""
        key = unit_key(text)
        if not key:
            return self._unmatched(text, "none", ()), key
        return self._exact_or_alias(text, key, level), key

    def _exact_or_alias(self, text: str, key: str, level: str | None) -> Match | None:
        """Rules 2 and 3 (exact keys, aliases) for a non-empty key; None when neither decides."""
        keys = self._query_keys(key)
        local = keys[-1]
        hits: tuple[str, ...] = ()
        for k in keys:
            hits = self._fits(self._exact.get(k, ()), level)
            if hits:
                break
        if not hits:
            for k in [local, *_department_forms(local)]:
                hits = self._fits(self._dept.get(k, ()), level, departments_only=True)
                if hits:
                    break
        if not hits:
            for k in dict.fromkeys((local, keys[1] if len(keys) > 1 else local)):
                hits = self._fits(self._bare.get(k, ()), level)
                if hits:
                    break
        if len(hits) == 1:
            return self._result(text, hits[0], "exact")
        for k in keys:
            alias = self._alias.get(k)
            if alias is not None and (level is None or self._level[alias] == level):
                return self._result(text, alias, "alias")
        if hits:
            return self._unmatched(text, "ambiguous", tuple(Candidate(c, self._name[c], 100.0) for c in hits[:3]))
        return None

    def _pool(self, level: str | None) -> tuple[_Pool, _Pool]:
        """Two haystacks for a level: every unit's names (with and without the division word) and the extra
        department forms; made on first use and kept."""
        got = self._pools.get(level)
        if got is None:
            names: dict[str, tuple[str, ...]] = {}
            for index in (self._core, self._bare):
                for k, codes in index.items():
                    fit = self._fits(codes, level)
                    if fit:
                        names[k] = tuple(dict.fromkeys(names.get(k, ()) + fit))
            dept = {k: fit for k, codes in self._dept.items() if (fit := self._fits(codes, level, True))}
            got = self._pools[level] = (_Pool(list(names), list(names.values()), [ocr_key(k) for k in names]),
                                        _Pool(list(dept), list(dept.values()), [ocr_key(k) for k in dept]))
        return got

    def _fuzzy(self, text: str, local: str, level: str | None) -> Match:
        names, dept = self._pool(level)
        query = _drop_committee_tolerant(local)
        searches = [(query, names)]
        if not split_division(query)[0]:
            searches += [(k, dept) for k in [query, *_department_forms(query)]]
        best: dict[str, float] = {}
        for q, pool in searches:
            if not pool.keys:
                continue
            # Shortlist on the look-alike keys (their score is never below the plain one), then score each
            # shortlisted key: plain, or on look-alikes less OCR_PENALTY, whichever is higher. An OCR misreading
            # ("Nậm Lần" for "Nậm Lầu") keeps its unit close, so that a neighbour one letter away ("Nậm Lạnh")
            # is not clearly ahead and is not taken.
            for _key, ocr_score, i in process.extract(ocr_key(q), pool.ocr, scorer=fuzz.ratio, limit=12):
                score = max(fuzz.ratio(q, pool.keys[i]), ocr_score - OCR_PENALTY)
                for c in pool.codes[i]:
                    if score > best.get(c, -1.0):
                        best[c] = float(score)
        ranked = sorted(best.items(), key=lambda cs: (-cs[1], self._name[cs[0]], cs[0]))
        candidates = tuple(Candidate(c, self._name[c], round(s, 1)) for c, s in ranked[:3])
        if not ranked:
            return self._unmatched(text, "none", ())
        top_code, top = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= self.threshold and top - runner_up >= self.margin:
            return self._result(text, top_code, "fuzzy", round(top, 1), candidates)
        return self._unmatched(text, "ambiguous" if top >= self.threshold else "none", candidates)

    # -- OCR mode --

    def _match_ocr(self, text: str, level: str | None) -> Match:
        """Rules 1-3 on the name as given, then on the OCR-repaired name (``method="ocr"``, confidence 100), then
        the OCR cost (``method="ocr"``, confidence the score) instead of rule 4."""
        got, key = self._decided(text, level)
        if got is not None:
            return got
        repaired = ocr_unit_key(text)
        if not repaired:
            return self._unmatched(text, "none", ())
        if repaired != key:
            got = self._exact_or_alias(text, repaired, level)
            if got is not None:
                return got if got.code is None or got.method == "alias" else self._result(text, got.code, "ocr")
        return self._ocr_fuzzy(text, repaired, level)

    def _ocr_pool(self, level: str | None) -> dict[str, tuple[list[str], list[tuple[str, ...]]]]:
        """Per division word ('' for none): the names to compare (bare names of divisions; departments' keys
        and extra forms, and every division's bare name under '') with their codes."""
        got = self._ocr_pools.get(level)
        if got is None:
            groups: dict[str, dict[str, tuple[str, ...]]] = {}

            def add(div: str, k: str, codes: tuple[str, ...]) -> None:
                g = groups.setdefault(div, {})
                g[k] = tuple(dict.fromkeys(g.get(k, ()) + codes))

            for k, codes in self._core.items():
                fit = self._fits(codes, level)
                if not fit:
                    continue
                div, bare = split_division(k)
                if div and bare:
                    add(div, bare, fit)
                    add("", bare, fit)
                elif not div:
                    for f in [k, *_department_forms(k)]:
                        add("", f, fit)
            got = self._ocr_pools[level] = {d: (list(g), list(g.values())) for d, g in groups.items()}
        return got

    def _ocr_fuzzy(self, text: str, repaired: str, level: str | None) -> Match:
        pool = self._ocr_pool(level)
        query = _drop_committee_tolerant(self._query_keys(repaired)[-1])
        div, bare = split_division(query)
        if div and not bare:
            return self._unmatched(text, "none", ())
        # (division word, the query's name, extra cost): the division word of the name decides, except that a
        # district may be named by another district title ("huyện Mộc Châu" for thị xã Mộc Châu), at a cost.
        searches: list[tuple[str, str, float]] = [(div, bare, 0.0)] if div else [
            ("", q, 0.0) for q in dict.fromkeys([query, *_department_forms(query)])]
        if div in DISTRICT_TITLES:
            searches += [(t, bare, OCR_TITLE) for t in DISTRICT_TITLES if t != div]
        best: dict[str, tuple[float, float, float]] = {}  # code -> (cost, worst word, score)
        for d, q, extra in searches:
            keys, codes = pool.get(d, ([], []))
            if not keys:
                continue
            shortlist = {i for _k, _s, i in process.extract(q, keys, scorer=fuzz.ratio, limit=8)}
            for i in shortlist:
                fit = [c for c in codes[i] if not extra or self._level[c] == "district"]
                if not fit:
                    continue
                cost, worst = ocr_cost(q, keys[i])
                cost += extra
                score = round(max(0.0, 100.0 * (1.0 - cost / max(len(q), len(keys[i])))), 1)
                for c in fit:
                    if c not in best or cost < best[c][0]:
                        best[c] = (cost, worst, score)
        ranked = sorted(best.items(), key=lambda cs: (cs[1][0], self._name[cs[0]], cs[0]))
        candidates = tuple(Candidate(c, self._name[c], sc) for c, (_cost, _w, sc) in ranked[:3])
        if not ranked:
            return self._unmatched(text, "none", ())
        top_code, (top, worst, score) = ranked[0]
        runner_up = ranked[1][1][0] if len(ranked) > 1 else float("inf")
        close = top <= self.ocr_max_cost and worst <= OCR_WORD_MAX
        if close and runner_up - top >= self.ocr_margin:
            return self._result(text, top_code, "ocr", score, candidates)
        return self._unmatched(text, "ambiguous" if close else "none", candidates)


def _shown(text: str, limit: int = 120) -> str:
    """The user's text as shown in a message: invisible and control characters removed, long text cut."""
    s = " ".join(INVISIBLE.sub(" ", text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"
