"""A district's monthly letter (công văn của UBND huyện, before 1/7/2025): the district chairman's letter, signed
"TL. CHỦ TỊCH / CHÁNH VĂN PHÒNG", to its offices and its communes, with the district's total, its rank among the
districts of **its own province** as it was then, the change against the month before, every group (the
province letter's headline, :func:`chiso.reports.monthly._headline`) and its communes' ranking in the appendix.

1. The issuer must be a district and the period must end before 1/7/2025 (no districts after the merger):
   :func:`check_issuer` says what is wrong, in Vietnamese (:class:`DistrictLetterError`).
2. The districts it ranks among: those of its province before the 2025 merger. A merged province (Tuyên Quang
   with Hà Giang) holds the districts of both old provinces under one code, so the old province is read from the
   catalogue the units came from (``vietnamadminunits``, :func:`old_province`); without it, the districts with
   the same parent unit.
3. Ranks are competition ranks (the score engine's), the communes ranked among the district's own communes.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chiso.reports.common import ReportSettings, base_context, moment_text
from chiso.reports.monthly import MonthScores, _headline, ranked_among
from chiso.scoring.period import Period
from chiso.store.db import Store
from chiso.store.rows import first_row
from chiso.textnorm import fold
from chiso.units.catalog import MERGER_DAY

# The district letter's own defaults (the province letter's recipients and signer do not fit a district).
DISTRICT_SIGNER_ABOVE, DISTRICT_SIGNER_TITLE = "TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"
SIGNER_KEYS = ("signer_authority", "signer_for", "signer_title")
# Party committee of the district level by its kind: huyện -> Huyện ủy, thành phố -> Thành ủy, thị xã -> Thị ủy.
PARTY = {"huyện": "Huyện ủy", "thành phố": "Thành ủy", "thị xã": "Thị ủy", "quận": "Quận ủy"}
COMMUNE_KINDS = ("xã", "phường", "thị trấn")


class DistrictLetterError(ValueError):
    """A district letter that cannot be written: the issuer is not a district, or the period has no districts."""


def check_issuer(store: Store, code: str, period: Period) -> None:
    """Refuse, in Vietnamese, an issuer that is not a district or a period from 1/7/2025 on."""
    if period.end > MERGER_DAY:
        raise DistrictLetterError(
            f"kỳ {period.label}: từ ngày 01/7/2025 không còn cấp huyện (chính quyền địa phương hai cấp); công văn "
            "của UBND huyện chỉ lập cho các kỳ trước ngày 01/7/2025")
    row = first_row(store.con.execute("SELECT name, level FROM units WHERE code = ?", [code]))
    if row is None:
        raise DistrictLetterError(f"không có đơn vị '{code}' (xem chiso units list)")
    if row[1] != "district":
        raise DistrictLetterError(
            f"'{row[0]}' ({code}) không phải UBND cấp huyện: --issuer nhận mã hoặc tên một huyện, thị xã, thành "
            "phố thuộc tỉnh (nạp danh mục trước 2025: chiso units init --before-2025)")


def split_name(name: str) -> tuple[str, str]:
    """'UBND huyện Quỳnh Nhai' -> ('huyện', 'Quỳnh Nhai'); 'UBND thành phố Sơn La' -> ('thành phố', 'Sơn La')."""
    rest = name.strip()
    for prefix in ("UBND ", "Ủy ban nhân dân ", "Uỷ ban nhân dân "):
        if fold(rest).startswith(fold(prefix)):
            rest = rest[len(prefix):]
            break
    for kind in ("thành phố", "thị xã", "huyện", "quận"):
        if fold(rest).startswith(fold(kind) + " "):
            return kind, rest[len(kind) + 1:].strip()
    return "huyện", rest


def old_province(code: str) -> tuple[str, list[str]] | None:
    """The province a district belonged to before 1/7/2025 ('Tỉnh Hà Giang') and the codes of all its districts,
    from the catalogue ``chiso units init --before-2025`` reads; None when the catalogue does not know the code."""
    if not code.isdigit():
        return None
    try:
        from vietnamadminunits.database.main import query
    except ImportError:  # pragma: no cover - a dependency of the package
        return None
    found = query(f"SELECT DISTINCT provinceKey, province FROM admin_units_legacy WHERE districtCode = '{code}'")
    if len(found) != 1:
        return None
    key = str(found[0]["provinceKey"]).replace("'", "")
    codes = query(f"SELECT DISTINCT districtCode FROM admin_units_legacy WHERE provinceKey = '{key}'")
    return str(found[0]["province"]), sorted(str(r["districtCode"]) for r in codes)


def district_peers(data: MonthScores, code: str) -> tuple[list[dict[str, Any]], str]:
    """The districts ``code`` ranks among (itself included, ranked) and the name of their province."""
    unit = data.result(code)
    districts = [r for r in data.results if r["level"] == "district" and r.get("ranked", True)]
    legacy = old_province(code)
    if legacy is not None and any(r["code"] in legacy[1] for r in districts if r["code"] != code):
        name, codes = legacy
        peers = [r for r in districts if r["code"] in codes]
    else:
        province = next((r["name"] for r in data.results if r["code"] == unit["parent_code"]), "")
        name = province
        peers = [r for r in districts if r["parent_code"] == unit["parent_code"]]
    if all(r["code"] != code for r in peers):
        peers.append(unit)
    title = name[0].lower() + name[1:] if name else ""
    return ranked_among(peers), title


def _addressee_communes(children: list[dict[str, Any]]) -> str:
    """'UBND các xã, thị trấn' from the kinds of communes the district has (xã, phường, thị trấn)."""
    present = [k for k in COMMUNE_KINDS if any(fold(r["name"]).startswith(fold(f"UBND {k} ")) for r in children)]
    return "UBND các " + ", ".join(present or ["xã", "thị trấn"])


def district_context(store: Store, data: MonthScores, code: str, *, letter_date: date, settings: ReportSettings,
                     report_settings: dict[str, Any]) -> dict[str, Any]:
    """Everything the district letter shows (the names are the template tags of docs/templates.md).
    ``report_settings``: the ``[report]`` table of ``chiso.toml`` as written, to tell what the office set."""
    check_issuer(store, code, data.period)
    rs, nf = data.rs, settings.numbers
    district = data.result(code)
    kind, proper = split_name(district["name"])
    peers, province_title = district_peers(data, code)
    me = next(r for r in peers if r["code"] == code)
    rank_text = f"{me['local_rank']}/{len(peers)}"
    headline = _headline(store, district, data, rs, nf, rank_text)
    children = ranked_among([r for r in data.results if r["parent_code"] == code])
    counts = data.counts.get(code, {})
    overdue = counts.get("resolved_late", 0) + counts.get("open_late", 0)

    own_signer = any(k in report_settings for k in SIGNER_KEYS)
    signer_above = settings.signer_above if own_signer else DISTRICT_SIGNER_ABOVE
    signer_title = settings.signer_title if own_signer else DISTRICT_SIGNER_TITLE
    level_word = f"{kind} {proper}"
    recipients = list(settings.recipients) if "recipients" in report_settings else [
        "Như trên;", f"TT {PARTY.get(kind, 'Huyện ủy')} (b/c);", f"TT HĐND {kind} (b/c);",
        f"CT, các PCT UBND {kind};", "Lưu: VT."]
    base = base_context(store, settings, data.period, letter_date)
    return {
        **base, **headline,
        "place": settings.place or proper,
        "signer_above": signer_above, "signer_title": signer_title, "recipients": recipients,
        "rule_set": rs.name, "rule_set_title": rs.title, "as_of_text": moment_text(data.moment),
        "district": {"code": code, "name": district["name"], "kind": kind, "proper": proper,
                     "title": level_word, "title_upper": level_word.upper(),
                     "total": district["total"], "classification": district["classification"],
                     "rank": me["local_rank"], "peers": len(peers), "province_title": province_title},
        "district_rank": rank_text,
        "offices_addressee": f"Các phòng, ban chuyên môn thuộc UBND {kind}",
        "communes_addressee": _addressee_communes(children),
        "overdue_total": overdue,
        "communes": [{"code": r["code"], "name": r["name"], "total": r["total"], "rank": r["local_rank"],
                      "classification": r["classification"]} for r in children],
    }
