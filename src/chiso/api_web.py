"""The data behind the web pages (dữ liệu các trang web): plain JSON-serialisable structures computed by the same
engine as the CLI (:mod:`chiso.api`, :class:`chiso.reports.monthly.MonthScores`), cached per data version.

* Routes never run SQL or scoring: they call these functions with an open :class:`Store`.
* **Cache** (bộ nhớ đệm): a month's scoring and its dossier rows are computed once per (period, moment, data
  version) and shared by every page and every user; :func:`data_version` is one cheap query (the audit trail's last
  entry: every load, unload, publication, account change … writes one) plus the modification times of the files
  the office edits (chiso.toml, rules/, templates/). A change of data therefore shows on the next request.
* The moment (thời điểm) of a period is :meth:`Period.moment`: the end of a past period, else the as-of time;
  the web server passes "now" rounded down to :data:`MOMENT_STEP` so that requests share the cache.
* A **dossier row** (dòng hồ sơ): dossier_id, unit_code, unit_name, procedure_code, procedure_name, officer,
  received_at, due_at, end_at (text "YYYY-MM-DD HH:MM:SS"), timeliness, status (Vietnamese) and
  working_days_overdue. No personal field exists in the store; none is shown.
"""

from __future__ import annotations

import bisect
import gc
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from chiso import api
from chiso.calendar.workcal import NATIONAL
from chiso.clock import now_local
from chiso.load.validate import lit as sql_literal
from chiso.reports.monthly import MonthScores
from chiso.scoring import publish as publications
from chiso.scoring.period import Period, PeriodError, parse_period
from chiso.status.stored_due import DERIVED_COLUMNS
from chiso.status.stored_due import kept as kept_dues
from chiso.status.timeliness import CLASS_LABELS, StatusQuery
from chiso.store.db import Store
from chiso.store.rows import first_row
from chiso.textnorm import fold

T = TypeVar("T")
MOMENT_STEP = timedelta(minutes=15)
LEVELS = {"province": "Tỉnh", "department": "Sở, ban, ngành", "district": "Huyện", "commune": "Xã, phường"}
LEVEL_ORDER = {"province": 0, "department": 1, "district": 2, "commune": 3}
FIGURES = {
    "received": "Hồ sơ tiếp nhận trong kỳ",
    "resolved": "Hồ sơ đã giải quyết trong kỳ",
    "late": "Hồ sơ giải quyết quá hạn trong kỳ",
    "pending": "Hồ sơ đang giải quyết trong hạn",
    "pending_late": "Hồ sơ đang giải quyết quá hạn",
    "due_soon": "Hồ sơ sắp đến hạn",
    "due_in_period": "Hồ sơ đang giải quyết, đến hạn trước cuối kỳ",
}
MAX_ROWS = 5000
OVERDUE_INDICATOR = "PROGRESS_ON_TIME"


# --- cache ------------------------------------------------------------------------------------------------------

class _Cache:
    """A bounded, thread-safe memo: each key is computed once even when many requests ask at the same time."""

    def __init__(self, size: int = 64):
        self.size = size
        self.values: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.lock = threading.Lock()
        self.key_locks: dict[tuple[Any, ...], threading.Lock] = {}

    def get(self, key: tuple[Any, ...], compute: Callable[[], T]) -> T:
        with self.lock:
            if key in self.values:
                self.values.move_to_end(key)
                return self.values[key]  # type: ignore[no-any-return]
            key_lock = self.key_locks.setdefault(key, threading.Lock())
        with key_lock:
            with self.lock:
                if key in self.values:
                    return self.values[key]  # type: ignore[no-any-return]
            try:
                value = compute()
            finally:  # a failed computation is not kept: the next request tries again
                with self.lock:
                    self.key_locks.pop(key, None)
            with self.lock:
                self.values[key] = value
                while len(self.values) > self.size:
                    self.values.popitem(last=False)
            # The cache holds hundreds of thousands of objects that live long: out of the cyclic garbage
            # collector's sight, full collections no longer stop every request for a moment (reference counting
            # still frees an entry when it leaves the cache).
            gc.freeze()
            return value

    def clear(self) -> None:
        with self.lock:
            self.values.clear()


def clear_caches() -> None:
    CACHE.clear()
    BIG.clear()


CACHE = _Cache(1024)  # small entries: explanations, units, marks, forecasts' totals
BIG = _Cache(24)  # a month's scoring and its dossier rows (tens of MB at province scale)


VERSION_TTL = 0.5  # seconds a data version is reused before it is read again
_versions: dict[str, tuple[float, str]] = {}


def _identity(store: Store) -> str:
    return store.database or str(store.workspace)


def invalidate(store: Store) -> None:
    """Forget the remembered data version (after a write made by this process: the next request sees it)."""
    _versions.pop(_identity(store), None)


def data_version(store: Store) -> str:
    """Changes whenever anything that feeds a page changes. Read at most every :data:`VERSION_TTL` seconds (a
    write by this process calls :func:`invalidate`; one by another process shows within that time)."""
    now = time.monotonic()
    hit = _versions.get(_identity(store))
    if hit is not None and now - hit[0] < VERSION_TTL:
        return hit[1]
    version = _read_version(store)
    _versions[_identity(store)] = (now, version)
    return version


def _read_version(store: Store) -> str:
    row = first_row(store.con.execute("SELECT max(id) FROM audit_log"))
    stamps = []
    ws = store.workspace
    for path in [ws / "chiso.toml", ws / "departments.csv", *sorted((ws / "rules").glob("*")),
                 *sorted((ws / "templates").glob("*"))]:
        try:
            st = path.stat()
            stamps.append(f"{path.name}:{st.st_mtime_ns}:{st.st_size}")
        except OSError:
            continue
    where = store.database or str(ws.resolve())  # two stores served by one process never share entries
    return f"{row[0] if row else 0}|{where}|{hash(tuple(stamps))}"


def round_moment(moment: datetime) -> datetime:
    """``moment`` rounded down to :data:`MOMENT_STEP` (requests of the same quarter hour share the cache)."""
    step = int(MOMENT_STEP.total_seconds())
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    return datetime.combine(moment.date(), datetime.min.time()) + timedelta(seconds=seconds - seconds % step)


def prepare_store(store: Store) -> None:
    """Bring the derived tables up to date once at server start, so that requests only read."""
    api.prepare(store)


# --- periods, units ---------------------------------------------------------------------------------------------

def periods(store: Store) -> list[str]:
    """The months that have dossiers, newest first."""
    row = first_row(store.con.execute("SELECT min(received_at), max(received_at) FROM dossiers"))
    if not row or row[0] is None:
        return []
    first, last = row[0].date().replace(day=1), row[1].date().replace(day=1)
    out = []
    while last >= first:
        out.append(f"{last.year:04d}-{last.month:02d}")
        last = (last - timedelta(days=1)).replace(day=1)
    return out


def check_period(text: str) -> Period:
    """A month ``YYYY-MM`` (ValueError with a Vietnamese message otherwise)."""
    try:
        period = parse_period(text)
    except PeriodError as exc:
        raise ValueError(str(exc)) from None
    if period.kind != "month":
        raise ValueError(f"'{text}' không phải một tháng (dùng YYYY-MM, ví dụ 2025-09)")
    return period


@dataclass(frozen=True)
class UnitInfo:
    code: str
    name: str
    level: str
    parent_code: str | None
    province_code: str


def units(store: Store) -> dict[str, UnitInfo]:
    return CACHE.get(("units", data_version(store)), lambda: {
        str(r[0]): UnitInfo(str(r[0]), str(r[1]), str(r[2]), None if r[3] is None else str(r[3]), str(r[4] or ""))
        for r in store.con.execute(
            "SELECT code, name, level, parent_code, province_code FROM units").fetchall()})


def subtree(store: Store, code: str) -> set[str]:
    """The unit and every unit below it (KeyError for an unknown unit)."""
    all_units = units(store)
    if code not in all_units:
        raise KeyError(f"không có đơn vị '{code}'")
    children: dict[str, list[str]] = {}
    for u in all_units.values():
        if u.parent_code:
            children.setdefault(u.parent_code, []).append(u.code)
    out, todo = set(), [code]
    while todo:
        c = todo.pop()
        if c not in out:
            out.add(c)
            todo.extend(children.get(c, []))
    return out


# --- the month --------------------------------------------------------------------------------------------------

def month(store: Store, period_text: str, as_of: datetime) -> MonthScores:
    """The month's scoring (results, change, best actions, counts) — cached."""
    period = check_period(period_text)
    moment = period.moment(as_of)
    return BIG.get(("month", period.label, moment, data_version(store)),
                     lambda: MonthScores.compute(store, period.label, as_of=moment))


@dataclass
class WorkingDays:
    """The working days of each calendar (one per province, and the national one), to count working days."""

    days: dict[str, list[date]]

    def of(self, province: str) -> list[date]:
        return self.days.get(province) or self.days.get(NATIONAL) or []

    def between(self, province: str, start: date, end: date) -> int:
        """Working days d with start < d <= end."""
        days = self.of(province)
        return max(0, bisect.bisect_right(days, end) - bisect.bisect_right(days, start))

    def nth_after(self, province: str, start: date, n: int) -> date:
        days = self.of(province)
        i = bisect.bisect_right(days, start) + n - 1
        return days[min(i, len(days) - 1)] if days else start + timedelta(days=n)


def working_days(store: Store) -> WorkingDays:
    def compute() -> WorkingDays:
        api.prepare(store)
        out: dict[str, list[date]] = {}
        for key, day in store.con.execute(
                "SELECT calendar_key, day FROM calendar_days WHERE is_working ORDER BY calendar_key, day").fetchall():
            out.setdefault(str(key), []).append(day)
        return WorkingDays(out)
    return CACHE.get(("workdays", data_version(store)), compute)


def _text(v: Any) -> str | None:
    return None if v is None else v.strftime("%Y-%m-%d %H:%M:%S")


def month_rows(store: Store, period_text: str, as_of: datetime) -> list[dict[str, Any]]:
    """Every dossier that matters to the month at its moment: received in it, ended in it, or still open."""
    period = check_period(period_text)
    moment = period.moment(as_of)

    def compute() -> list[dict[str, Any]]:
        config = api.prepare(store)
        start = datetime.combine(period.start, datetime.min.time())
        sql = StatusQuery(as_of=moment, config=config, ended_since=start, dialect=store.dialect,
                          stored_due=kept_dues(store)).sql()
        cur = store.con.execute(f"""
SELECT s.dossier_id, s.unit_code, u.name, s.procedure_code, p.name, d.officer, s.received_at, s.due_at, s.end_at,
       s.timeliness, COALESCE(u.province_code, ''), s.waiting_since
FROM ({sql}) s JOIN units u ON u.code = s.unit_code JOIN dossiers d ON d.dossier_id = s.dossier_id
LEFT JOIN procedures p ON p.code = s.procedure_code
WHERE s.received_at <= ?
ORDER BY s.dossier_id""", [moment])
        found = cur.fetchall()  # before any other query on this connection (it would discard the result)
        wd = working_days(store)
        rows = []
        for r in found:
            due, end, cls = r[7], r[8], str(r[9])
            late_days = None
            if cls == "pending_late" and due is not None:
                late_days = wd.between(str(r[10]), due.date(), moment.date())
            elif cls == "late" and due is not None and end is not None:
                late_days = wd.between(str(r[10]), due.date(), end.date())
            rows.append({"dossier_id": str(r[0]), "unit_code": str(r[1]), "unit_name": str(r[2]),
                         "procedure_code": str(r[3]), "procedure_name": r[4], "officer": r[5],
                         "received_at": _text(r[6]), "due_at": _text(due), "end_at": _text(end),
                         "timeliness": cls, "status": CLASS_LABELS.get(cls, cls),
                         "working_days_overdue": late_days, "_province": str(r[10]),
                         "_waiting": r[11] is not None})
        return rows
    return BIG.get(("rows", period.label, moment, data_version(store)), compute)


def _public_row(r: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in r.items() if not k.startswith("_")}


def _in_period(text: str | None, period: Period) -> bool:
    return text is not None and period.start.isoformat() <= text[:10] < period.end.isoformat()  # end: exclusive


def select_rows(store: Store, period_text: str, as_of: datetime, figure: str, *, scope: Iterable[str] | None = None,
                due_within: int = 3) -> list[dict[str, Any]]:
    """The dossier rows behind one count (``figure``: a key of :data:`FIGURES`) for the units in ``scope``."""
    if figure not in FIGURES:
        raise ValueError(f"không có số liệu '{figure}'")
    period = check_period(period_text)
    moment = period.moment(as_of)
    wanted = None if scope is None else set(scope)
    rows = [r for r in month_rows(store, period_text, as_of) if wanted is None or r["unit_code"] in wanted]
    wd = working_days(store)
    out = []
    for r in rows:
        cls = r["timeliness"]
        if figure == "received":
            keep = _in_period(r["received_at"], period)
        elif figure == "resolved":
            keep = _in_period(r["end_at"], period)
        elif figure == "late":
            keep = cls == "late" and _in_period(r["end_at"], period)
        elif figure == "due_in_period":
            keep = (cls == "pending" and not r["_waiting"] and r["due_at"] is not None
                    and r["due_at"] < period.end.isoformat())
        elif figure == "due_soon":
            cutoff = wd.nth_after(r["_province"], moment.date(), due_within).isoformat() + " 23:59:59"
            keep = cls == "pending" and r["due_at"] is not None and r["due_at"] <= cutoff
        else:
            keep = cls == figure
        if keep:
            out.append(_public_row(r))
    return out


def counts(store: Store, period_text: str, as_of: datetime, scope: Iterable[str] | None,
           due_within: int = 3) -> dict[str, int]:
    return {f: len(select_rows(store, period_text, as_of, f, scope=scope, due_within=due_within)) for f in FIGURES}


def forecast(store: Store, period_text: str, as_of: datetime, *, scope: Iterable[str] | None = None
             ) -> dict[str, Any]:
    """The month-end forecast (dự báo cuối kỳ) of every unit, from the data known at ``as_of``.

    * ``total_forecast``: the score if every dossier now in progress is finished by its due date — the score at
      ``as_of``, where a dossier in progress within its time counts as not late, as it will once finished in time;
    * ``total_if_late``: the same data scored with the dossiers in progress that fall due before the end of the
      month (not waiting for the citizen) counted as open past their due date — what happens if they are not
      finished in time;
    * ``points_at_risk`` = the difference; ``due_in_period``: how many such dossiers the unit has — the list to act
      on today, by due date (``figure_dossiers(…, "due_in_period")``).

    Dossiers already open past their due date are late in both and cost nothing more here."""
    from chiso.scoring.engine import score_period

    period = check_period(period_text)
    moment = period.moment(as_of)
    data = month(store, period.label, as_of)

    def if_late() -> dict[str, float]:
        results = score_period(store, data.rs, period, moment, data.config, late_if_due_before=datetime.combine(
            period.end, datetime.min.time()))
        return {r["code"]: r["total"] for r in results}
    late_totals = CACHE.get(("if_late", period.label, moment, data_version(store)), if_late)
    now_rows = {r["code"]: r for r in ranking(store, period.label, as_of)}
    wanted = None if scope is None else set(scope)
    due: dict[str, int] = {}
    info = units(store)
    for r in select_rows(store, period.label, as_of, "due_in_period", scope=wanted):
        code: str | None = r["unit_code"]
        while code:
            due[code] = due.get(code, 0) + 1
            code = info[code].parent_code if code in info else None
    rows = []
    for code, r in now_rows.items():
        if wanted is not None and code not in wanted:
            continue
        late = late_totals.get(code, r["total"])
        rows.append({"code": code, "name": r["name"], "level": r["level"], "level_name": r["level_name"],
                     "total_forecast": r["total"], "total_if_late": late,
                     "points_at_risk": round(max(0.0, r["total"] - late), 2), "due_in_period": due.get(code, 0)})
    rows.sort(key=lambda x: (-x["points_at_risk"], -x["due_in_period"], fold(x["name"])))
    last = datetime.combine(period.last_day, datetime.max.time()).replace(microsecond=0)
    return {"period": period.label, "moment": _text(moment), "end": _text(last), "units": rows}


# --- pages ------------------------------------------------------------------------------------------------------

def _result_row(r: dict[str, Any], peers: int) -> dict[str, Any]:
    return {"code": r["code"], "name": r["name"], "level": r["level"], "level_name": LEVELS.get(r["level"], r["level"]),
            "parent_code": r["parent_code"], "total": r["total"], "rank": r["rank"], "peers": peers,
            "classification": r["classification"], "previous_total": r.get("previous_total"),
            "change": r.get("change"), "provisional": r.get("provisional", False),
            "groups": {g: v["score"] for g, v in r["groups"].items()}}


def ranking(store: Store, period_text: str, as_of: datetime) -> list[dict[str, Any]]:
    """Every unit's result of the month, ranked among its level's peers."""
    period = check_period(period_text)
    return CACHE.get(("ranking", period.label, period.moment(as_of), data_version(store)),
                     lambda: _ranking(store, period.label, as_of))


def _ranking(store: Store, period_text: str, as_of: datetime) -> list[dict[str, Any]]:
    data = month(store, period_text, as_of)
    sizes: dict[tuple[str, str], int] = {}
    info = units(store)
    for r in data.results:
        key = (r["level"], info[r["code"]].province_code if r["code"] in info else "")
        sizes[key] = sizes.get(key, 0) + 1
    rows = [_result_row(r, sizes[(r["level"], info[r["code"]].province_code if r["code"] in info else "")])
            for r in data.results]
    return sorted(rows, key=lambda x: (LEVEL_ORDER.get(x["level"], 9), x["rank"] or 0, fold(x["name"])))


def groups(store: Store, period_text: str, as_of: datetime) -> list[dict[str, Any]]:
    rs = month(store, period_text, as_of).rs
    return [{"code": g.code, "name": g.name, "max": g.max} for g in rs.groups]


def trend(store: Store, code: str, period_text: str, as_of: datetime, months: int = 6) -> list[dict[str, Any]]:
    """The unit's total for the months with dossiers up to the period (oldest first)."""
    available = periods(store)
    label = check_period(period_text).label
    chosen = [p for p in available if p <= label][:months]
    out = []
    for p in reversed(chosen):
        r = next((x for x in month(store, p, as_of).results if x["code"] == code), None)
        if r is not None:
            out.append({"period": p, "total": r["total"]})
    return out


def province_code(store: Store) -> str:
    for u in units(store).values():
        if u.level == "province":
            return u.code
    raise KeyError("danh mục chưa có tỉnh (chạy chiso units init)")


def overview(store: Store, period_text: str, as_of: datetime, *, due_within: int = 3) -> dict[str, Any]:
    """The province now: total, rank, groups against their maximum, trend, counts, worst units, biggest gains."""
    period = check_period(period_text)
    return CACHE.get(("overview", period.label, period.moment(as_of), due_within, data_version(store)),
                     lambda: _overview(store, period.label, as_of, due_within))


def _overview(store: Store, period_text: str, as_of: datetime, due_within: int) -> dict[str, Any]:
    data = month(store, period_text, as_of)
    code = province_code(store)
    ranked = ranking(store, period_text, as_of)
    province = next(r for r in ranked if r["code"] == code)
    result = data.result(code)
    gains = []
    for r in ranked:
        if r["level"] == "province":
            continue
        available = round(sum(a["gain"] for a in data.actions.get(r["code"], [])), 2)
        if available > 0:
            gains.append({**r, "points_available": available, "actions": data.actions.get(r["code"], [])})
    gains.sort(key=lambda x: (-x["points_available"], fold(x["name"])))
    worst = sorted((r for r in ranked if r["level"] != "province"), key=lambda x: (x["total"], fold(x["name"])))
    return {
        "period": data.period.label, "moment": _text(data.moment), "due_within": due_within,
        "province": {**province, "max_total": 100.0,
                     "groups": [{"code": g.code, "name": g.name, "score": result["groups"][g.code]["score"],
                                 "max": g.max} for g in data.rs.groups]},
        "trend": trend(store, code, period_text, as_of),
        "counts": counts(store, period_text, as_of, None, due_within),
        "worst": worst[:10], "gains": gains[:10], "rule_set": data.rs.name,
    }


def unit_page(store: Store, code: str, period_text: str, as_of: datetime, *, due_within: int = 3,
              with_dossiers: bool = True) -> dict[str, Any]:
    """One unit: every indicator (numerator, denominator, points, points lost), best actions, trend, its overdue
    and due-soon dossiers by officer, its feedback. ``with_dossiers=False`` leaves dossier-level data out."""
    period = check_period(period_text)
    return CACHE.get(("unit", code, period.label, period.moment(as_of), due_within, with_dossiers,
                      data_version(store)),
                     lambda: _unit_page(store, code, period.label, as_of, due_within, with_dossiers))


def _unit_page(store: Store, code: str, period_text: str, as_of: datetime, due_within: int,
               with_dossiers: bool) -> dict[str, Any]:
    data = month(store, period_text, as_of)
    scope = subtree(store, code)
    ranked = {r["code"]: r for r in ranking(store, period_text, as_of)}
    if code not in ranked:
        raise KeyError(f"đơn vị '{code}' không có kết quả kỳ {data.period.label}")
    result = data.result(code)
    indicators = []
    for g in data.rs.groups:
        for ind in data.rs.group_indicators(g.code):
            v = result["indicators"][ind.code]
            indicators.append({
                "code": ind.code, "name": ind.name, "group": g.code, "group_name": g.name,
                "numerator": v["numerator"], "denominator": v["denominator"], "ratio": v["ratio"],
                "score": v["score"], "max": v["max"], "lost": round(v["max"] - v["score"], 2),
                "provisional": bool(v.get("provisional")), "source": ind.source,
                "has_dossiers": ind.source == "dossiers"})
    page: dict[str, Any] = {
        "unit": ranked[code], "indicators": indicators, "actions": data.actions.get(code, []),
        "trend": trend(store, code, period_text, as_of), "due_within": due_within,
        "counts": counts(store, period_text, as_of, scope, due_within),
        "children": [r for r in ranked.values() if r["parent_code"] == code],
        "period": data.period.label, "moment": _text(data.moment), "rule_set": data.rs.name,
    }
    page["official"] = official_comparison(store, code, data.period.label, result, data.rs)
    from chiso.official.history import unit_history

    history = unit_history(store, code)
    page["history"] = history["points"] if history["predecessors"] or len(history["points"]) > 1 else []
    page["predecessors"] = history["predecessors"]
    if with_dossiers:
        overdue = select_rows(store, period_text, as_of, "pending_late", scope=scope)
        due_soon = select_rows(store, period_text, as_of, "due_soon", scope=scope, due_within=due_within)
        officers: dict[str, dict[str, Any]] = {}
        for kind, rows in (("overdue", overdue), ("due_soon", due_soon)):
            for r in rows:
                o = officers.setdefault(r["officer"] or "(không ghi)", {"officer": r["officer"] or "(không ghi)",
                                                                        "overdue": 0, "due_soon": 0})
                o[kind] += 1
        page["overdue"] = overdue[:MAX_ROWS]
        page["due_soon"] = due_soon[:MAX_ROWS]
        page["by_officer"] = sorted(officers.values(), key=lambda o: (-o["overdue"], -o["due_soon"], o["officer"]))
        page["feedback"] = feedback(store, scope, data.period)
    return page


def official_comparison(store: Store, code: str, period: str, result: dict[str, Any], rs: Any
                        ) -> dict[str, Any] | None:
    """The unit's official result of the period beside the one computed from the province's data: totals and
    every indicator where the two differ, with the likely cause. None when nothing official was imported."""
    from pathlib import Path

    from chiso.scoring.results import CAUSES

    row = first_row(store.con.execute(
        "SELECT r.score, r.rank, r.rank_of, i.file, r.locator, r.max_score FROM official_results r "
        "JOIN official_imports i "
        "ON i.import_id = r.import_id WHERE r.period = ? AND r.unit_code = ? AND r.kind = 'total'",
        [period, code]))
    rows = []
    for g in rs.groups:
        for ind in rs.group_indicators(g.code):
            v = result["indicators"][ind.code]
            theirs = v.get("official_score", v.get("official_rule_score"))
            if theirs is None:
                continue
            ours = v.get("computed_score", v["score"])
            diff = round(theirs - ours, 2)
            if diff:
                rows.append({"code": ind.code, "name": ind.name, "ours": ours, "theirs": theirs, "difference": diff,
                             "ours_counts": (v["numerator"], v["denominator"]),
                             "their_counts": (v.get("official_numerator"), v.get("official_denominator")),
                             "cause": CAUSES.get(v.get("cause", ""), "")})
    if row is None and not rows:
        return None
    computed = result.get("computed_total", result["total"])
    out: dict[str, Any] = {"rows": sorted(rows, key=lambda r: -abs(r["difference"])), "computed_total": computed,
                           "total": None, "rank": None, "rank_of": None, "difference": None, "source": None}
    if row is not None:
        out.update(total=row[0], rank=row[1], rank_of=row[2], source=f"{Path(str(row[3])).name}, {row[4]}",
                   max=row[5])
        if row[5] is None or float(row[5]) == 100:  # a list on another scale is not compared with ours
            out["difference"] = round(float(row[0]) - float(computed), 2)
    return out


def feedback(store: Store, scope: set[str], period: Period) -> list[dict[str, Any]]:
    """The unit's feedback (phản ánh, kiến nghị) received in the period; no personal field is stored."""
    start = datetime.combine(period.start, datetime.min.time())
    end = datetime.combine(period.end, datetime.min.time()) + timedelta(days=1)
    rows = store.con.execute(
        "SELECT feedback_id, unit_code, received_at, due_at, handled_at, satisfied, about, dossier_id FROM feedback "
        "WHERE received_at >= ? AND received_at < ? ORDER BY received_at, feedback_id", [start, end]).fetchall()
    names = ("feedback_id", "unit_code", "received_at", "due_at", "handled_at", "satisfied", "about", "dossier_id")
    out = []
    for r in rows:
        if str(r[1]) in scope:
            d = dict(zip(names, r, strict=True))
            for k in ("received_at", "due_at", "handled_at"):
                d[k] = _text(d[k])
            out.append(d)
    return out


def explain(store: Store, code: str, period_text: str, as_of: datetime) -> dict[str, Any]:
    """``chiso explain`` for one unit (cached)."""
    period = check_period(period_text)
    moment = period.moment(as_of)
    return CACHE.get(("explain", code, period.label, moment, data_version(store)),
                     lambda: api.explain(store, code, period.label, as_of=moment))


def indicator_dossiers(store: Store, code: str, period_text: str, as_of: datetime, indicator: str
                       ) -> dict[str, Any]:
    """The dossiers that cost points on one indicator (in its denominator, not in its numerator)."""
    data = explain(store, code, period_text, as_of)
    rs = month(store, period_text, as_of).rs
    try:
        ind = rs.indicator(indicator)
    except KeyError:
        raise ValueError(f"không có chỉ số '{indicator}'") from None
    short = next((s for s in data["shortfalls"] if s["code"] == indicator), None)
    ids = set(short["items"]) if short and short["over"] == "dossiers" else set()
    by_id = {r["dossier_id"]: r for r in month_rows(store, period_text, as_of)}
    rows = [_public_row(by_id[i]) for i in sorted(ids) if i in by_id]
    return {"title": f"{ind.code} — {ind.name}: hồ sơ chưa đạt", "reason": short["reason"] if short else None,
            "count": short["item_count"] if short else 0, "rows": rows}


def figure_dossiers(store: Store, code: str, period_text: str, as_of: datetime, figure: str, *,
                    due_within: int = 3) -> dict[str, Any]:
    """The dossiers behind a count (a key of :data:`FIGURES`) or an indicator code of the unit."""
    scope = subtree(store, code)
    if figure in FIGURES:
        rows = select_rows(store, period_text, as_of, figure, scope=scope, due_within=due_within)
        title = FIGURES[figure] + (f" (trong {due_within} ngày làm việc tới)" if figure == "due_soon" else "")
        return {"title": title, "reason": None, "count": len(rows), "rows": rows[:MAX_ROWS]}
    return indicator_dossiers(store, code, period_text, as_of, figure)


# --- one dossier ------------------------------------------------------------------------------------------------

def _work_text(wd: WorkingDays, province: str, start: datetime, end: datetime) -> str:
    days = wd.between(province, start.date(), end.date())
    return "cùng ngày tiếp nhận" if days == 0 else f"sau {days} ngày làm việc kể từ khi tiếp nhận"


FIELD_LABELS = {
    "dossier_id": "Mã hồ sơ", "unit_code": "Mã đơn vị", "procedure_code": "Mã thủ tục", "channel": "Kênh",
    "submitted_at": "Nộp trực tuyến lúc", "received_at": "Tiếp nhận lúc", "due_at": "Ngày hẹn trả (nguồn)",
    "finished_at": "Xử lý xong lúc", "returned_at": "Trả kết quả lúc", "stopped_at": "Dừng xử lý lúc",
    "stop_reason": "Lý do dừng", "supplement_count": "Số lần yêu cầu bổ sung", "fee_amount": "Phí, lệ phí (đồng)",
    "paid_online": "Thanh toán trực tuyến", "e_result": "Có kết quả điện tử", "digitized": "Đã số hóa",
    "reused_data": "Tái sử dụng dữ liệu số hóa", "shared_to_citizen_store": "Đưa vào kho dữ liệu công dân",
    "used_population_data": "Dùng dữ liệu dân cư / VNeID", "synced_to_portal": "Đồng bộ Cổng DVCQG",
    "rating": "Đánh giá", "complained": "Có phản ánh, kiến nghị", "apology_issued": "Đã có thư xin lỗi",
    "officer": "Cán bộ xử lý", "updated_at": "Cập nhật lúc", "original_due_at": "Hạn khi nạp lần đầu",
}
DUE_SOURCES = {"source": "ngày hẹn trả ghi trong dữ liệu nguồn",
               "computed": "tính từ thời hạn của thủ tục và lịch làm việc"}
CHANNELS = {"direct": "trực tiếp", "online": "trực tuyến", "postal": "bưu chính"}


def _field_value(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if key == "channel":
        return CHANNELS.get(str(value), str(value))
    if key == "fee_amount" and isinstance(value, int | float):
        from chiso import vnformat

        return vnformat.integer(value)
    return str(value)


def dossier_detail(store: Store, dossier_id: str, as_of: datetime) -> dict[str, Any]:
    """Every stored field of one dossier, its due date and status at ``as_of``, its timeline and why it is late."""
    cur = store.con.execute("SELECT * FROM dossiers WHERE dossier_id = ?", [dossier_id])
    names = [d[0] for d in cur.description]
    row = first_row(cur)
    if row is None:
        raise KeyError(f"không có hồ sơ '{dossier_id}'")
    fields = {k: v for k, v in zip(names, row, strict=True) if k not in DERIVED_COLUMNS}
    unit = units(store).get(str(fields["unit_code"]))
    config = api.prepare(store)
    # Only this dossier goes through the status steps (at 3·10⁷ dossiers the whole table took 0.7 s and 1.3 GB for
    # one page). Its id is a stored one (found above, so checked by the loader), written as an SQL literal.
    q = StatusQuery(as_of=as_of, config=config, dialect=store.dialect, stored_due=kept_dues(store),
                    where=f"d.dossier_id = {sql_literal(str(fields['dossier_id']))}")
    st = first_row(store.con.execute(
        f"SELECT due_at, end_at, timeliness, original_due_at, due_source, paused_seconds, supplements, "
        f"waiting_since FROM ({q.sql()}) s WHERE dossier_id = ?", [dossier_id]))
    assert st is not None
    due, end, cls = st[0], st[1], str(st[2])
    pauses = store.con.execute("SELECT kind, started_at, ended_at FROM pauses WHERE dossier_id = ? ORDER BY started_at",
                               [dossier_id]).fetchall()
    wd = working_days(store)
    province = unit.province_code if unit else ""
    received = fields["received_at"]
    events: list[tuple[datetime, str]] = [(received, "Tiếp nhận hồ sơ")]
    for kind, started, ended in pauses:
        label = "Yêu cầu bổ sung" if kind == "supplement" else f"Tạm dừng ({kind})"
        events.append((started, label))
        if ended is not None:
            events.append((ended, "Tiếp tục giải quyết" if kind != "supplement" else "Công dân bổ sung xong"))
    if due is not None:
        events.append((due, "Hạn giải quyết"))
    for col, label in (("finished_at", "Có kết quả"), ("returned_at", "Trả hồ sơ"), ("stopped_at", "Dừng xử lý")):
        if fields.get(col) is not None:
            events.append((fields[col], label))
    events.sort(key=lambda e: e[0])
    timeline = [{"at": _text(at), "event": label,
                 "working_time": "" if at <= received else _work_text(wd, province, received, at)}
                for at, label in events]
    why = None
    if cls in ("late", "pending_late") and due is not None:
        if (st[6] or 0) > 1:
            why = f"Yêu cầu bổ sung {st[6]} lần (quá một lần tính là quá hạn theo Quyết định 766/QĐ-TTg)."
        else:
            stop = end if end is not None else as_of
            n = wd.between(province, due.date(), stop.date())
            what = (f"trả kết quả {stop:%d/%m/%Y %H:%M}" if end is not None
                    else f"chưa có kết quả lúc {stop:%d/%m/%Y %H:%M}")
            late_days = f"{n} ngày làm việc" if n else "trong ngày hạn"
            why = f"Quá hạn {late_days}: hạn {due:%d/%m/%Y %H:%M}, {what}."
    stored = {k: (_text(v) if isinstance(v, datetime) else v) for k, v in fields.items()
              if k not in ("row_hash", "load_id")}
    labelled = [{"field": k, "label": FIELD_LABELS.get(k, k), "value": _field_value(k, v)}
                for k, v in fields.items() if k not in ("row_hash", "load_id")]
    return {"dossier_id": dossier_id, "unit_code": stored["unit_code"], "unit_name": unit.name if unit else None,
            "fields": stored, "labelled": labelled, "due_at": _text(due), "end_at": _text(end), "timeliness": cls,
            "status": CLASS_LABELS.get(cls, cls), "due_source": st[4],
            "due_source_label": DUE_SOURCES.get(str(st[4]), str(st[4])), "original_due_at": _text(st[3]),
            "supplements": st[6], "timeline": timeline, "why_late": why, "as_of": _text(as_of)}


# --- overdue dossiers: explanation and apology (Nghị quyết 131/NQ-CP) ---------------------------------------------

ACTIONS = {"explanation": "Báo cáo giải trình", "apology": "Thư xin lỗi"}
ATTACHMENT_KINDS = {".pdf": b"%PDF", ".docx": b"PK", ".doc": b"\xd0\xcf\x11\xe0", ".jpg": b"\xff\xd8",
                    ".jpeg": b"\xff\xd8", ".png": b"\x89PNG", ".odt": b"PK"}
MAX_ATTACHMENT = 10 * 1024 * 1024


def explanation_deadline(store: Store, period_text: str) -> date:
    """The day by which the month's overdue dossiers must be explained: ``[report] explanation_working_days``
    working days after the month's last day (the monthly letter counts from its own date)."""
    from chiso.reports.common import add_working_days
    from chiso.reports.documents import settings_for

    period = check_period(period_text)
    return add_working_days(store, period.last_day, settings_for(store).explanation_working_days)


def overdue_marks(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    """(dossier id, action) -> {done_on, file_name, recorded_by, recorded_at} of every recorded action."""
    def compute() -> dict[tuple[str, str], dict[str, Any]]:
        rows = store.con.execute(
            "SELECT dossier_id, action, done_on, file_name, recorded_by, recorded_at FROM overdue_actions").fetchall()
        return {(str(r[0]), str(r[1])): {"done_on": str(r[2]), "file_name": r[3], "recorded_by": r[4],
                                         "recorded_at": _text(r[5])} for r in rows}
    return CACHE.get(("marks", data_version(store)), compute)


def overdue(store: Store, period_text: str, as_of: datetime, *, scope: Iterable[str] | None = None
            ) -> dict[str, Any]:
    """Every dossier resolved late in the month or open past its due date, with its two required actions, and per
    unit the count of actions still missing."""
    rows = (select_rows(store, period_text, as_of, "pending_late", scope=scope)
            + select_rows(store, period_text, as_of, "late", scope=scope))
    marks = overdue_marks(store)
    per_unit: dict[str, dict[str, Any]] = {}
    for r in rows:
        for action in ACTIONS:
            r[action] = marks.get((r["dossier_id"], action))
        u = per_unit.setdefault(r["unit_code"], {"code": r["unit_code"], "name": r["unit_name"], "pending_late": 0,
                                                 "late": 0, "explanation_missing": 0, "apology_missing": 0})
        u[r["timeliness"]] += 1
        u["explanation_missing"] += r["explanation"] is None
        u["apology_missing"] += r["apology"] is None
    rows.sort(key=lambda r: (fold(r["unit_name"]), r["due_at"] or "", r["dossier_id"]))
    summary = sorted(per_unit.values(), key=lambda u: (-(u["explanation_missing"] + u["apology_missing"]),
                                                       fold(u["name"])))
    return {"deadline": explanation_deadline(store, period_text).isoformat(), "rows": rows, "per_unit": summary}


def missing_actions(store: Store, period_text: str, as_of: datetime) -> dict[str, dict[str, int]]:
    """Unit code (and every unit above it) -> {overdue, explanation_missing, apology_missing} for the month."""
    info = units(store)
    out: dict[str, dict[str, int]] = {}
    for r in overdue(store, period_text, as_of)["rows"]:
        code: str | None = r["unit_code"]
        while code:
            c = out.setdefault(code, {"overdue": 0, "explanation_missing": 0, "apology_missing": 0})
            c["overdue"] += 1
            c["explanation_missing"] += r["explanation"] is None
            c["apology_missing"] += r["apology"] is None
            code = info[code].parent_code if code in info else None
    return out


def mark_overdue(store: Store, dossier_id: str, action: str, *, done_on: date, recorded_by: str,
                 file_name: str | None = None, content: bytes | None = None, who: Any = None) -> None:
    """Record that the explanation or the apology of an overdue dossier was done (ValueError when refused)."""
    from pathlib import PurePath

    from chiso.outputs import safe_filename
    from chiso.store import audit

    if action not in ACTIONS:
        raise ValueError(f"việc '{action}' không có (chọn: {', '.join(ACTIONS)})")
    row = first_row(store.con.execute("SELECT received_at FROM dossiers WHERE dossier_id = ?", [dossier_id]))
    if row is None:
        raise KeyError(f"không có hồ sơ '{dossier_id}'")
    from chiso.clock import today_local

    if done_on > today_local():
        raise ValueError(f"ngày {done_on:%d/%m/%Y} chưa đến")
    if done_on < row[0].date():
        raise ValueError(f"ngày {done_on:%d/%m/%Y} trước ngày tiếp nhận hồ sơ ({row[0]:%d/%m/%Y})")
    digest = None
    if content is not None:
        if not file_name:
            raise ValueError("tệp đính kèm thiếu tên")
        suffix = PurePath(file_name).suffix.lower()
        if suffix not in ATTACHMENT_KINDS:
            raise ValueError(f"tệp '{file_name}': chỉ nhận PDF, Word (.docx, .doc, .odt), ảnh JPG hoặc PNG")
        if len(content) > MAX_ATTACHMENT:
            raise ValueError(f"tệp '{file_name}' lớn quá 10 MB")
        if not content.startswith(ATTACHMENT_KINDS[suffix]):
            raise ValueError(f"tệp '{file_name}' không phải tệp {suffix} thật (nội dung không khớp đuôi tệp)")
        file_name = safe_filename(PurePath(file_name).stem, 80) + suffix
        import hashlib

        digest = hashlib.sha256(content).hexdigest()
    with store.transaction() as con:
        con.execute("DELETE FROM overdue_actions WHERE dossier_id = ? AND action = ?", [dossier_id, action])
        con.execute("INSERT INTO overdue_actions VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [dossier_id, action, done_on, file_name, digest, content, recorded_by,
                     now_local()])
        audit.record(con, "overdue_marked", dossier_id, {"action": action, "done_on": done_on.isoformat(),
                                                         "file_name": file_name, "file_sha256": digest}, who)
    invalidate(store)


def dossier_unit(store: Store, dossier_id: str) -> str:
    """The unit of a dossier (KeyError when there is none)."""
    row = first_row(store.con.execute("SELECT unit_code FROM dossiers WHERE dossier_id = ?", [dossier_id]))
    if row is None:
        raise KeyError(f"không có hồ sơ '{dossier_id}'")
    return str(row[0])


def overdue_attachment(store: Store, dossier_id: str, action: str) -> tuple[str, bytes] | None:
    row = first_row(store.con.execute(
        "SELECT file_name, content FROM overdue_actions WHERE dossier_id = ? AND action = ?", [dossier_id, action]))
    if row is None or row[1] is None:
        return None
    return str(row[0]), bytes(row[1])


# --- public -----------------------------------------------------------------------------------------------------

def public_periods(store: Store) -> list[str]:
    return [str(r[0]) for r in store.con.execute(
        "SELECT DISTINCT period FROM publications ORDER BY period DESC").fetchall()]


def public_results(store: Store, period_text: str) -> dict[str, Any] | None:
    """Only what ``chiso publish`` froze: per unit the published total, rank and band, and the count of overdue
    dossiers of the period — never a dossier id."""
    period = check_period(period_text)
    pub = publications.latest(store, period.label)
    if pub is None:
        return None
    pid, published_at, _, results = pub
    row = first_row(store.con.execute("SELECT rule_set, scored_at FROM publications WHERE publication_id = ?", [pid]))
    assert row is not None
    rows = [{"code": r["code"], "name": r["name"], "level": r["level"], "level_name": LEVELS.get(r["level"], ""),
             "total": r["total"], "rank": r["rank"], "classification": r["classification"],
             "overdue": _published_overdue(r)} for r in results.values()]
    rows.sort(key=lambda x: (LEVEL_ORDER.get(x["level"], 9), x["rank"] or 0, fold(x["name"])))
    return {"period": period.label, "published_at": _text(published_at), "rule_set": str(row[0]),
            "scored_at": _text(row[1]), "units": rows}


def _published_overdue(result: dict[str, Any]) -> int | None:
    """Dossiers handled late in the published period: the shortfall of the on-time indicator (PROGRESS_ON_TIME:
    handled − handled not late), taken from the publication itself."""
    ind = result.get("indicators", {}).get(OVERDUE_INDICATOR)
    if not ind or ind.get("denominator") is None or ind.get("numerator") is None:
        return None
    return int(round(float(ind["denominator"]) - float(ind["numerator"])))


def score_json(store: Store, period_text: str, as_of: datetime, *, level: str | None = None,
               unit: str | None = None) -> str:
    """Exactly what ``chiso score --format json`` prints for the same arguments."""
    from chiso.scoring import render

    rs, results = api.score(store, period_text, as_of=as_of, level=level, unit=unit)
    return render.render(results, rs, "json", f"Bộ chỉ số kỳ {period_text} ({rs.name})")


def as_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, default=str)
