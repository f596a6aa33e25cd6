"""The units table (danh mục đơn vị) from official sources.

* The province and its communes/wards after 1/7/2025, with official codes: ``vietnam-provinces``.
* With ``before_2025``: the districts and communes before the merger, from ``vietnamadminunits``, each
  commune linked to its successor (old -> new). Legacy commune codes are suffixed ``-2024`` because the
  2025 list reuses some of the old five-digit codes for different communes; district codes are kept.
* Provincial departments (sở, ban, ngành) from an editable CSV: the shipped default
  (``chiso/data/departments.csv``) lists the standard departments before and after the mergers of
  1/3/2025, with validity dates and successors. Their codes are ``<province code>.<key>``.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

from vietnam_provinces import Province, Ward

from chiso.textnorm import fold

MERGER_DAY = date(2025, 7, 1)
LAST_OLD_DAY = date(2025, 6, 30)
UNIT_FIELDS = ("code", "name", "level", "parent_code", "valid_from", "valid_to", "successor_code", "ranked")
NOT_RANKED = ("khong", "no", "false", "0", "n")  # departments.csv `ranked`: the portal does not rank the unit


class UnitCatalogError(ValueError):
    pass


@dataclass(frozen=True)
class UnitRow:
    code: str
    name: str
    level: str
    parent_code: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    successor_code: str | None = None
    ranked: bool | None = None  # None: ranked (the default); False: scored, not ranked by the portal


def find_province(name: str) -> Province:
    key = fold(name).removeprefix("tinh ").removeprefix("thanh pho ")
    for p in Province.iter_all():
        if fold(p.name) == key or str(p.code.value) == name.strip() or p.codename.replace("_", " ") == key:
            return p
    known = ", ".join(sorted(p.name for p in Province.iter_all()))
    raise UnitCatalogError(f"không tìm thấy tỉnh/thành phố '{name}'. Các tỉnh, thành phố sau 1/7/2025: {known}")


def province_code(p: Province) -> str:
    return f"{p.code.value:02d}"


def _committee_name(division: str, name: str) -> str:
    """'Phường Tô Hiệu' -> 'UBND phường Tô Hiệu'."""
    first, _, rest = name.partition(" ")
    if division and fold(name).startswith(fold(division)):
        return f"UBND {name[: len(division)].lower()}{name[len(division):]}"
    return f"UBND {first.lower()} {rest}".strip()


def province_title(p: Province) -> str:
    """'Tỉnh Sơn La', 'Thành phố Hà Nội' (the package already names cities 'Thành phố …')."""
    if fold(p.name).startswith("thanh pho "):
        return p.name
    title = "Thành phố" if "thành phố" in p.division_type.value else "Tỉnh"
    return f"{title} {p.name}"


def local_name(p: Province) -> str:
    """How a department's name ends: 'tỉnh Sơn La', 'thành phố Hà Nội'."""
    title = province_title(p)
    return title[0].lower() + title[1:]


def province_rows(p: Province) -> list[UnitRow]:
    prov = province_code(p)
    rows = [UnitRow(prov, province_title(p), "province")]
    for w in sorted(Ward.iter_by_province(p.code), key=lambda w: w.code.value):
        rows.append(UnitRow(f"{w.code.value:05d}", _committee_name(w.division_type.value, w.name), "commune",
                            prov, MERGER_DAY))
    return rows


def default_departments_path() -> Path:
    return Path(str(resources.files("chiso") / "data" / "departments.csv"))


def _shipped_not_ranked() -> set[str]:
    """The keys the shipped list marks ``ranked = không`` (Văn phòng UBND, the service centre, Thanh tra)."""
    with default_departments_path().open(encoding="utf-8-sig", newline="") as fh:
        return {r["key"].strip() for r in csv.DictReader(fh) if fold(r.get("ranked") or "").strip() in NOT_RANKED}


def department_rows(p: Province, path: Path) -> list[UnitRow]:
    """The departments of ``path`` (a workspace's ``departments.csv``). A copy made before the ``ranked`` column
    existed takes the shipped list's marks by key, so its Văn phòng UBND is not ranked (nor written to) either."""
    prov = province_code(p)
    rows = []
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        inherited = _shipped_not_ranked() if "ranked" not in (reader.fieldnames or []) else set()
        for line, rec in enumerate(reader, start=2):
            try:
                key, name = rec["key"].strip(), rec["name"].strip()
                vf = date.fromisoformat(rec["valid_from"]) if rec.get("valid_from") else None
                vt = date.fromisoformat(rec["valid_to"]) if rec.get("valid_to") else None
            except (KeyError, ValueError, AttributeError) as exc:
                raise UnitCatalogError(f"{path}:{line}: cần các cột key, name, valid_from, valid_to, "
                                       f"successor_key (ngày dạng yyyy-mm-dd): {exc}") from None
            succ = rec.get("successor_key") or None
            ranked = False if fold(rec.get("ranked") or "").strip() in NOT_RANKED or key in inherited else None
            rows.append(UnitRow(f"{prov}.{key}", name.replace(" tỉnh", f" {local_name(p)}"), "department", prov,
                                vf, vt, f"{prov}.{succ.strip()}" if succ else None, ranked))
    return rows


def legacy_rows(p: Province) -> list[UnitRow]:
    """Districts and communes before 1/7/2025 with their links to the new communes."""
    import vietnamadminunits
    from vietnamadminunits.database.main import query

    data_dir = Path(vietnamadminunits.__file__).parent / "data"
    conv = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))
    new_key = "tinh" + p.codename.replace("_", "") if "thành phố" not in p.division_type.value \
        else "thanhpho" + p.codename.replace("_", "").removeprefix("thanhpho")
    if new_key not in conv["DICT_PROVINCE"]:
        raise UnitCatalogError(f"vietnamadminunits không có dữ liệu chuyển đổi cho '{p.name}' ({new_key})")
    old_provinces = conv["DICT_PROVINCE"][new_key]
    reverse: dict[str, str] = {}
    for ward_key, olds in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].get(new_key, {}).items():
        for old in olds:
            reverse[old] = ward_key
    for old, news in conv["DICT_PROVINCE_WARD_DIVIDED"].get(new_key, {}).items():
        default = next((n["newWardKey"] for n in news if n.get("isDefaultNewWard")), None)
        if default and old not in reverse:
            reverse[old] = default
    new_codes = {w.codename.replace("_", ""): f"{w.code.value:05d}" for w in Ward.iter_by_province(p.code)}
    prov = province_code(p)
    placeholders = ", ".join("'" + k.replace("'", "") + "'" for k in old_provinces)
    recs = query(
        "SELECT provinceKey, districtKey, wardKey, district, ward, districtCode, wardCode "
        f"FROM admin_units_legacy WHERE provinceKey IN ({placeholders}) ORDER BY districtCode, wardCode"
    )
    rows: list[UnitRow] = []
    seen_districts: set[str] = set()
    for r in recs:
        dcode = str(r["districtCode"])
        if dcode not in seen_districts:
            seen_districts.add(dcode)
            rows.append(UnitRow(dcode, _committee_name("", str(r["district"])), "district", prov,
                                None, LAST_OLD_DAY, None))
        if not r["wardCode"]:
            continue
        old_key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"
        successor = new_codes.get(reverse.get(old_key, ""))
        rows.append(UnitRow(f"{r['wardCode']}-2024", _committee_name("", str(r["ward"])), "commune", dcode,
                            None, LAST_OLD_DAY, successor))
    return rows


def write_units_csv(rows: list[UnitRow], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(UNIT_FIELDS)
        for r in rows:
            w.writerow([r.code, r.name, r.level, r.parent_code or "", r.valid_from or "", r.valid_to or "",
                        r.successor_code or "", "" if r.ranked is None else str(r.ranked).lower()])
