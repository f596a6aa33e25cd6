"""Periods (kỳ đánh giá): a month ``2025-07``, a quarter ``2025-Q3``, a year ``2025`` or a date range
``2025-07-01..2025-09-30``. ``start`` is inclusive, ``end`` exclusive (midnight after the last day)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta


class PeriodError(ValueError):
    pass


@dataclass(frozen=True)
class Period:
    label: str
    kind: str  # month | quarter | year | range
    start: date
    end: date  # exclusive

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def moment(self, as_of: datetime) -> datetime:
        """The moment the period is scored at: its last second, or ``as_of`` while it is running."""
        last = datetime.combine(self.end, datetime.min.time()) - timedelta(seconds=1)
        return min(last, as_of)

    def previous(self) -> Period:
        if self.kind == "month":
            d = self.start - timedelta(days=1)
            return _parse(f"{d.year}-{d.month:02d}")
        if self.kind == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return _parse(f"{self.start.year - (q == 1)}-Q{(q - 2) % 4 + 1}")
        if self.kind == "year":
            return _parse(str(self.start.year - 1))
        length = self.end - self.start
        return Period(f"{self.start - length}..{self.start - timedelta(days=1)}", "range", self.start - length,
                      self.start)


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


FIRST_YEAR, LAST_YEAR = 1900, 2999  # what a person can mean; keeps previous() and next months inside `date`


def parse_period(text: str) -> Period:
    """A period typed by a person; :class:`PeriodError` (Vietnamese) for anything else, years 1900–2999."""
    try:
        period = _parse(text)
    except PeriodError:
        raise
    except (ValueError, OverflowError):  # a year 0, or a range past 9999
        raise PeriodError(f"'{text.strip()}': năm ngoài khoảng {FIRST_YEAR}–{LAST_YEAR}") from None
    if not FIRST_YEAR <= period.start.year <= period.last_day.year <= LAST_YEAR:
        raise PeriodError(f"'{text.strip()}': năm ngoài khoảng {FIRST_YEAR}–{LAST_YEAR}")
    return period


ROMAN_QUARTERS = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _canonical(text: str) -> str:
    """The forms people type, as the canonical ones: '09/2025', '9/2025', 'tháng 9/2025' -> '2025-09';
    'Q3/2025', 'quý III/2025', 'quý 3 năm 2025' -> '2025-Q3'; '01/07/2025..30/09/2025' -> ISO days."""
    from chiso.textnorm import strip_diacritics

    t = " ".join(strip_diacritics(text).strip().lower().split())
    if m := re.fullmatch(r"(?:thang\s*)?(0?[1-9]|1[0-2])\s*[/.-]\s*(\d{4})", t, re.ASCII):
        return f"{m[2]}-{int(m[1]):02d}"
    if m := re.fullmatch(r"(?:q|quy)\s*([1-4]|iv|i{1,3})\s*(?:[/.-]|nam)\s*(\d{4})", t, re.ASCII):
        q = ROMAN_QUARTERS.get(m[1]) or int(m[1])
        return f"{m[2]}-Q{q}"
    if m := re.fullmatch(r"(\d{4})\s*[/-]?\s*q([1-4])", t, re.ASCII):
        return f"{m[1]}-Q{m[2]}"
    if m := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})\s*\.\.\s*(\d{1,2})/(\d{1,2})/(\d{4})", t, re.ASCII):
        return f"{m[3]}-{int(m[2]):02d}-{int(m[1]):02d}..{m[6]}-{int(m[5]):02d}-{int(m[4]):02d}"
    if m := re.fullmatch(r"(?:nam\s*)?(\d{4})", t, re.ASCII):
        return m[1]
    return text.strip()


def _parse(text: str) -> Period:
    t = _canonical(text)
    if m := re.fullmatch(r"(\d{4})-(0[1-9]|1[0-2])", t, re.ASCII):
        start = date(int(m[1]), int(m[2]), 1)
        return Period(t, "month", start, _next_month(start))
    if m := re.fullmatch(r"(\d{4})-Q([1-4])", t, re.IGNORECASE | re.ASCII):
        start = date(int(m[1]), 3 * int(m[2]) - 2, 1)
        return Period(f"{m[1]}-Q{m[2]}", "quarter", start, _next_month(_next_month(_next_month(start))))
    if m := re.fullmatch(r"(\d{4})", t, re.ASCII):
        return Period(t, "year", date(int(t), 1, 1), date(int(t) + 1, 1, 1))
    if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", t, re.ASCII):
        try:
            start, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
        except ValueError:
            raise PeriodError(f"'{t}': không phải ngày có thật (yyyy-mm-dd..yyyy-mm-dd)") from None
        if last < start:
            raise PeriodError(f"'{t}': ngày cuối trước ngày đầu")
        return Period(t, "range", start, last + timedelta(days=1))
    raise PeriodError(f"'{text.strip()}' không phải kỳ: dùng 2025-07 hoặc 07/2025 (tháng), 2025-Q3, Q3/2025 hoặc "
                      "quý III/2025 (quý), 2025 (năm), 2025-07-01..2025-09-30 hoặc 01/07/2025..30/09/2025")
