"""What every document shares: the province, the letter date and place, the signer, period wording, the
explanation deadline in working days, and the report settings of ``chiso.toml`` ``[report]``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from chiso.config import Config, ConfigError
from chiso.reports.numbers import NumberFormat
from chiso.scoring.period import Period
from chiso.store.db import Store
from chiso.store.rows import first_row

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
LEVEL_TEXT = {"province": "Tỉnh", "department": "Sở, ngành", "district": "Huyện", "commune": "Xã"}
KNOWN_KEYS = {
    "decimal", "thousands", "low_share", "explanation_working_days", "signer_title", "signer_name", "place",
    "window", "pdf", "signer_authority", "signer_for", "recipients", "cchc_basis",
}
# Signing on behalf (Nghị định 30/2020, Điều 13): ký thay, thừa lệnh, thay mặt, thừa ủy quyền.
AUTHORITIES = ("", "KT.", "TL.", "TM.", "TUQ.")
# The guidance the quarterly reform report answers (seed 003_…); an office set under newer guidance writes its own.
DEFAULT_CCHC_BASIS = ("Công văn số 581/BNV-CCHC ngày 21/02/2022 của Bộ Nội vụ về việc hướng dẫn thực hiện chế độ báo "
                      "cáo cải cách hành chính định kỳ")
DEFAULT_RECIPIENTS = ("Như trên;", "Văn phòng Chính phủ (b/c);", "CT, các PCT UBND tỉnh (b/c);", "LĐ VPUBND tỉnh;",
                      "Các phòng nội dung VPUBND tỉnh;", "TT PVHCC;", "TT Thông tin;", "Lưu: VT, TTPVHCC.")


@dataclass(frozen=True)
class ReportSettings:
    numbers: NumberFormat
    low_share: float = 0.8  # a group below this share of its maximum is listed as weak
    explanation_working_days: int = 5  # units explain overdue dossiers within this many working days
    signer_title: str = "CHÁNH VĂN PHÒNG"
    signer_name: str = ""
    place: str = ""  # defaults to the province name
    pdf: bool = True  # also write PDF when LibreOffice is installed
    signer_authority: str = ""  # "KT.", "TL.", "TM.", "TUQ." or "" (the signer signs in their own name)
    signer_for: str = ""  # whom the signer signs for: "CHÁNH VĂN PHÒNG" in "KT. CHÁNH VĂN PHÒNG"
    recipients: tuple[str, ...] = DEFAULT_RECIPIENTS  # "Nơi nhận" of the monthly letter
    cchc_basis: str = DEFAULT_CCHC_BASIS  # "Thực hiện …" of the reform report

    @property
    def signer_above(self) -> str:
        """The line above the signer's title: 'KT. CHÁNH VĂN PHÒNG', or '' when the signer signs in person."""
        return f"{self.signer_authority} {self.signer_for}".strip() if self.signer_authority else ""

    @classmethod
    def from_config(cls, config: Config) -> ReportSettings:
        raw = config.report
        unknown = set(raw) - KNOWN_KEYS
        if unknown:
            raise ConfigError(f"chiso.toml: [report]: khóa không hợp lệ '{sorted(unknown)[0]}' "
                              f"(dùng: {', '.join(sorted(KNOWN_KEYS))})")
        low = float(raw.get("low_share", 0.8))
        if not 0 < low <= 1:
            raise ConfigError("chiso.toml: [report] low_share: phải trong khoảng (0, 1], ví dụ 0.8")
        days = raw.get("explanation_working_days", 5)
        if not isinstance(days, int) or days < 0:
            raise ConfigError("chiso.toml: [report] explanation_working_days: phải là số nguyên không âm")
        authority = str(raw.get("signer_authority", "")).strip()
        if authority not in AUTHORITIES:
            raise ConfigError("chiso.toml: [report] signer_authority: chỉ nhận \"KT.\", \"TL.\", \"TM.\", "
                              "\"TUQ.\" hoặc \"\" (ký trực tiếp)")
        signer_for = str(raw.get("signer_for", "")).strip()
        if authority and not signer_for:
            raise ConfigError(f"chiso.toml: [report] signer_authority = \"{authority}\" cần signer_for (ví dụ "
                              "\"CHÁNH VĂN PHÒNG\")")
        recipients = raw.get("recipients", list(DEFAULT_RECIPIENTS))
        if not (isinstance(recipients, list) and 0 < len(recipients) <= 40
                and all(isinstance(r, str) and 0 < len(r.strip()) <= 200 for r in recipients)):
            raise ConfigError("chiso.toml: [report] recipients: một danh sách từ 1 đến 40 dòng chữ, ví dụ "
                              "[\"Như trên;\", \"Lưu: VT, TTPVHCC.\"]")
        basis = raw.get("cchc_basis", DEFAULT_CCHC_BASIS)
        if not (isinstance(basis, str) and 0 < len(basis.strip()) <= 400):
            raise ConfigError("chiso.toml: [report] cchc_basis: một dòng chữ (tối đa 400 ký tự), ví dụ \"Công văn số "
                              "581/BNV-CCHC ngày 21/02/2022 của Bộ Nội vụ về việc …\"")
        return cls(numbers=NumberFormat.from_config(raw), low_share=low, explanation_working_days=days,
                   signer_title=str(raw.get("signer_title", "CHÁNH VĂN PHÒNG")),
                   signer_name=str(raw.get("signer_name", "")), place=str(raw.get("place", "")),
                   pdf=bool(raw.get("pdf", True)), signer_authority=authority, signer_for=signer_for,
                   recipients=tuple(r.strip().removeprefix("- ").strip() for r in recipients),
                   cchc_basis=basis.strip().rstrip(",.;").strip())


def province_name(store: Store) -> str:
    """'Sơn La' (from the units table: the one province unit, or the setting made by ``units init``)."""
    row = first_row(store.con.execute("SELECT name FROM units WHERE level = 'province' ORDER BY code LIMIT 1"))
    name = str(row[0]) if row else (store.get_setting("province") or "")
    for prefix in ("Tỉnh ", "Thành phố ", "tỉnh ", "thành phố "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def date_text(d: date) -> str:
    """'ngày 06 tháng 8 năm 2025' (Nghị định 30: day and month below 10 for day/month 1-2 get a leading 0)."""
    day = f"{d.day:02d}" if d.day < 10 else str(d.day)
    month = f"{d.month:02d}" if d.month < 3 else str(d.month)
    return f"ngày {day} tháng {month} năm {d.year}"


def moment_text(moment: datetime) -> str:
    """"10h00' ngày 05/10/2025" — the wording of the letters for the time the figures were read."""
    return f"{moment.hour}h{moment.minute:02d}' ngày {moment.day:02d}/{moment.month:02d}/{moment.year}"


def period_words(period: Period) -> dict[str, Any]:
    d = period.start
    q = (d.month - 1) // 3 + 1
    text = {"month": f"tháng {d.month} năm {d.year}", "quarter": f"quý {ROMAN[q - 1]} năm {d.year}",
            "year": f"năm {d.year}"}.get(period.kind, f"từ {d.strftime('%d/%m/%Y')} đến {period.last_day:%d/%m/%Y}")
    return {"label": period.label, "month": d.month, "year": d.year, "quarter": q,
            "mm_yyyy": f"{d.month:02d}/{d.year}", "text": text}


def add_working_days(store: Store, start: date, days: int) -> date:
    """``days`` working days after ``start`` on the national calendar (holidays and swapped Saturdays)."""
    row = first_row(store.con.execute(
        "SELECT day FROM calendar_days WHERE calendar_key = '' AND is_working AND working_ordinal = "
        "(SELECT max(working_ordinal) FROM calendar_days WHERE calendar_key = '' AND day <= ?) + ?",
        [start, days]))
    if row is None:
        raise ConfigError(f"lịch làm việc không có ngày {start} (xem [calendar] years trong chiso.toml)")
    value = row[0]
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def has_districts(results: list[dict[str, Any]]) -> bool:
    return any(r["level"] == "district" for r in results)


def local_words(three_levels: bool) -> dict[str, str]:
    if three_levels:
        return {"local_title": "UBND các huyện, thành phố", "local_addressee": "UBND các huyện, thành phố",
                "local_word": "UBND cấp huyện"}
    return {"local_title": "UBND các xã, phường", "local_addressee": "UBND các xã, phường",
            "local_word": "UBND các xã, phường"}


def base_context(store: Store, settings: ReportSettings, period: Period, letter_date: date) -> dict[str, Any]:
    province = province_name(store)
    return {
        "province": province, "province_upper": province.upper(),
        "place": settings.place or province,
        "letter_date": date_text(letter_date),
        "period": period_words(period),
        "signer_title": settings.signer_title, "signer_name": settings.signer_name,
        "signer_above": settings.signer_above, "recipients": list(settings.recipients),
    }


def output_name(stem: str, period: Period, suffix: str) -> str:
    return f"{stem}-{period.label}{suffix}"


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
