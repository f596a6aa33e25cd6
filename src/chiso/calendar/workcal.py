"""The working-day calendar (lịch ngày làm việc).

National holidays and announced swaps come from the ``holidays`` package (country VN: Tết and Giỗ Tổ from
the lunar calendar, compensatory days off, make-up Saturdays such as 2024-05-04, 2025-04-26, 2026-08-22);
the ``calendar`` table of the input contract overrides them, nationally or per province. The result is
materialised in ``calendar_days`` with a running working-day ordinal, so that deadline arithmetic is a join.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import pyarrow as pa

from chiso.config import Config
from chiso.store.db import Store
from chiso.store.dialect import refresh_statistics
from chiso.textnorm import fold

NATIONAL = ""


@dataclass(frozen=True)
class Override:
    day: date
    kind: str  # holiday | workday
    note: str
    province: str  # '' = national; a province name or code otherwise


def national_days(first_year: int, last_year: int) -> tuple[dict[date, str], set[date]]:
    """(holidays with their names, make-up working Saturdays) for Việt Nam."""
    vn = holidays.country_holidays("VN", years=range(first_year, last_year + 1), language="vi")
    off = {d: str(name) for d, name in vn.items()}
    workdays = {d for d in getattr(vn, "weekend_workdays", set()) if first_year <= d.year <= last_year}
    return off, workdays


def build_days(
    first_year: int, last_year: int, overrides: list[Override]
) -> list[tuple[date, bool, int, str | None]]:
    """Every day of the range: (day, is_working, working_ordinal, note)."""
    off, workdays = national_days(first_year, last_year)
    by_day = {o.day: o for o in overrides}
    rows: list[tuple[date, bool, int, str | None]] = []
    ordinal = 0
    day, end = date(first_year, 1, 1), date(last_year, 12, 31)
    while day <= end:
        note: str | None = off.get(day)
        working = day.weekday() < 5 and day not in off
        if day in workdays:
            working, note = True, "Làm bù"
        if day in by_day:
            o = by_day[day]
            working = o.kind == "workday"
            note = o.note or ("Làm việc" if working else "Nghỉ")
        ordinal += working
        rows.append((day, working, ordinal, note))
        day += timedelta(days=1)
    return rows


def _province_keys(store: Store) -> list[tuple[str, set[str]]]:
    """(province code, folded names that identify it in the calendar table) for every loaded province."""
    rows = store.con.execute("SELECT code, name FROM units WHERE level = 'province' ORDER BY code").fetchall()
    out = []
    for code, name in rows:
        names = {fold(code), fold(name)}
        for prefix in ("tinh ", "thanh pho "):
            if fold(name).startswith(prefix):
                names.add(fold(name)[len(prefix):])
        out.append((str(code), names))
    return out


def _overrides(store: Store) -> list[Override]:
    rows = store.con.execute("SELECT date, kind, COALESCE(note, ''), province FROM calendar ORDER BY date").fetchall()
    return [Override(r[0], r[1], r[2], r[3]) for r in rows]


def fingerprint(store: Store, config: Config) -> str:
    payload = {
        "years": config.calendar_years,
        "provinces": _province_keys(store),
        "overrides": [(str(o.day), o.kind, o.note, o.province) for o in _overrides(store)],
        "holidays": getattr(holidays, "__version__", ""),
    }
    return hashlib.sha256(json.dumps(payload, default=sorted).encode()).hexdigest()


def ensure_calendar(store: Store, config: Config) -> bool:
    """Rebuild ``calendar_days`` when units, overrides or settings changed. Returns True if rebuilt."""
    fp = fingerprint(store, config)
    if store.get_setting("calendar_fingerprint") == fp:
        return False
    overrides = _overrides(store)
    first, last = config.calendar_years
    keys: list[tuple[str, list[Override]]] = [(NATIONAL, [o for o in overrides if not o.province])]
    for code, names in _province_keys(store):
        national = [o for o in overrides if not o.province]
        own = [o for o in overrides if o.province and fold(o.province) in names]
        keys.append((code, national + own))  # province rows come last and win
    columns: dict[str, list[object]] = {"calendar_key": [], "day": [], "is_working": [], "working_ordinal": [],
                                        "note": []}
    for key, ovr in keys:
        for day, working, ordinal, note in build_days(first, last, ovr):
            columns["calendar_key"].append(key)
            columns["day"].append(day)
            columns["is_working"].append(working)
            columns["working_ordinal"].append(ordinal)
            columns["note"].append(note)
    table = pa.table(columns)
    # One transaction, so a reader (another request, another process) never sees a half-built calendar.
    with store.transaction() as con:
        if store.get_setting("calendar_fingerprint") == fp:  # another process rebuilt it meanwhile
            return False
        con.register("new_calendar_days", table)
        try:
            con.execute("DELETE FROM calendar_days")
            con.execute(
                "INSERT INTO calendar_days SELECT calendar_key, day, is_working, working_ordinal, note "
                "FROM new_calendar_days"
            )
        finally:
            con.unregister("new_calendar_days")
        store.set_setting("calendar_fingerprint", fp)
    refresh_statistics(store.con, store.dialect, ["calendar_days"])
    return True
