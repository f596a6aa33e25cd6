"""Figures of the quarterly one-stop report (báo cáo đánh giá việc giải quyết TTHC theo cơ chế một cửa, một cửa
liên thông; Nghị định 61/2018, Thông tư 01/2018/TT-VPCP, seed ``001_…``), computed set-based in SQL.

Reporting window (:func:`report_window`, ``[report] window``): ``"nd09"`` (default; Nghị định 09/2019 closes the
figures on the 14th: a month runs from the 15th of the previous month to the 14th, a quarter from the 15th of the
month before it to the 14th of its last month — 2023-Q1 is 15/12/2022..14/03/2023 as in seed 001 — a year from
15/12 of the previous year to 14/12; an explicit date range is kept as given) or ``"calendar"`` (the period's own
days). The window ends at the last second of its last day; the status of every dossier is taken at that moment
with :class:`chiso.status.timeliness.StatusQuery` (only what had happened by then counts).

Handling counts (:func:`handling_counts`), per unit, for all dossiers and again (``online_…``) for channel online.
A dossier is in the report when it was received by the end of the window and had not ended before its start:

* ``carried_over`` received before the start; ``new`` received in the window; ``total`` = both;
* every dossier of ``total`` falls in exactly one outcome, so ``total = resolved + in_progress +
  in_progress_late + paused + withdrawn``:
  ``withdrawn`` ended in the window with ``stop_reason`` withdrawn or cancelled (stopped by the window end);
  ``resolved`` every other dossier that ended in the window (finished, returned, refused, stopped), split into
  ``early`` / ``on_time`` / ``late`` by its status class;
  open at the end of the window: ``in_progress_late`` when overdue (status ``pending_late``), else ``paused``
  when a supplement request is still waiting for the citizen (``waiting_since``), else ``in_progress``.
  [P] An open dossier that is overdue (``pending_late``) *and* waiting for the citizen — e.g. more than one
  supplement request under the 766 method — counts as overdue, not paused: the overdue list is what the report
  must not hide.

Level totals (:func:`level_totals`): ``centre`` (department and province units: the provincial Public
Administration Service Centre), ``district``, ``commune``; percentages are numbers in percent rounded half up to
2 places (``91.86`` for 91.86 %), 0 when the denominator is 0. ``in_time`` = ``early + on_time`` (resolved on time,
giải quyết đúng hạn, the numerator of Biểu mẫu 3 rows 3.x.2) and ``in_time_pct`` = in_time / resolved.

**One count everywhere** (docs/reports.md): the quarterly report, its tables and the reform statistics form
(Biểu mẫu 3, :mod:`chiso.reports.cchc`) take "resolved" and "resolved on time" per level from
:func:`level_totals` over :func:`handling_counts` — one definition, withdrawn and cancelled dossiers excluded.
Levels of a period (:func:`report_levels`): from 1/7/2025 (two-level local government) ``centre`` and
``commune`` only; a district's dossiers are not reported for such a period.

One-stop evaluation (:func:`evaluate`, domain.md §5) over the dossiers resolved in the window (the ``resolved``
outcome above). Per dossier, indicators i1..i9 (0, 1 or 2 points) come from the evaluation form when one exists
(several forms: the citizen's first, then the supervisor's, then the self-evaluation, then the latest
``evaluated_at``; the form's date is not limited to the window) — its non-empty items win — and the empty items are
derived from data:

* i1 total time: early 2, on time 1, late 0 (status class at the end of the window);
* i2 time of each participating body: [P] the contract has no per-step data, so i2 takes the derived i1 value;
* i3 supplement requests (``supplement_count``, else the number of ``supplement`` pauses): 0 → 2, 1 → 1, more → 0;
* i4 bodies the applicant had to visit: 2 (only a form says otherwise); i5 handled at the one-stop desk: 2;
  i6 procedure publicity: 2;
* i7 staff attitude: ``complained`` true → 0, else 2;
* i8 PAKN handling, per unit: among the unit's feedback due in the window, the share handled on time: 100 % → 2,
  ≥ 90 % → 1, else 0; no feedback due → 2. A feedback row with ``due_at`` is on time when ``handled_at <=
  due_at``; one without ``due_at`` is due at the end of the 15th working day after reception (domain.md §4,
  the same deadline as the index: :func:`chiso.scoring.engine.feedback_due_sql`);
* i9 online service: [P] channel online → 2, else the procedure offered online (``online_level`` full or partial)
  → 1, else 0.

A unit's (or officer's) indicator is the mean over its dossiers, rounded half up to 2 places; ``total`` is the sum
of the rounded means. Bands (``[onestop] bands``, default ``[["Xuất sắc", 15], ["Tốt", 12], ["Khá", 9],
["Trung bình", 6], ["Yếu", 0]]``) read each number as a strict lower bound, except the last which is inclusive:
total > 15 Xuất sắc, 12 < total ≤ 15 Tốt, 9 < total ≤ 12 Khá, 6 < total ≤ 9 Trung bình, otherwise Yếu [P: the
texts say "12–15", "9–12", "6–9", "< 6"; a total of exactly 12, 9 or 6 falls in the lower band]. ``[onestop]
classification`` maps bands to the task-completion label (default Xuất sắc → "Hoàn thành xuất sắc nhiệm vụ",
Tốt → "Hoàn thành tốt nhiệm vụ", Khá → "Hoàn thành nhiệm vụ", Trung bình and Yếu → "Không hoàn thành nhiệm vụ").
Officers are ``dossiers.officer`` (NULL skipped), one row per officer and unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chiso.calendar.deadlines import sync_deadline_rules
from chiso.calendar.workcal import ensure_calendar
from chiso.config import Config, ConfigError
from chiso.scoring.engine import feedback_due_sql
from chiso.scoring.period import Period
from chiso.status.stored_due import Kept
from chiso.status.stored_due import kept as kept_dues
from chiso.status.timeliness import StatusQuery, ts_literal
from chiso.store.db import Store
from chiso.textnorm import fold

WINDOWS = ("nd09", "calendar")
OUTCOMES = ("resolved", "in_progress", "in_progress_late", "paused", "withdrawn")
COUNT_COLUMNS = ("carried_over", "new", "total", "resolved", "early", "on_time", "late", *OUTCOMES[1:])
REPORT_LEVELS = ("centre", "district", "commune")
LEVEL_OF_UNIT = {"province": "centre", "department": "centre", "district": "district", "commune": "commune"}
# Percentages of level_totals: key -> (numerator, denominator), for all dossiers and with the online_ prefix.
PERCENTAGES = {
    "resolved_pct": ("resolved", "total"),
    "early_pct": ("early", "resolved"),
    "on_time_pct": ("on_time", "resolved"),
    "late_pct": ("late", "resolved"),
    "in_progress_pct": ("in_progress", "total"),
    "in_progress_late_pct": ("in_progress_late", "total"),
    "paused_pct": ("paused", "total"),
    "withdrawn_pct": ("withdrawn", "total"),
    "in_time_pct": ("in_time", "resolved"),
}
INDICATORS = tuple(f"i{n}" for n in range(1, 10))
DEFAULT_BANDS: tuple[tuple[str, float], ...] = (
    ("Xuất sắc", 15), ("Tốt", 12), ("Khá", 9), ("Trung bình", 6), ("Yếu", 0))
DEFAULT_CLASSIFICATION = {
    "Xuất sắc": "Hoàn thành xuất sắc nhiệm vụ",
    "Tốt": "Hoàn thành tốt nhiệm vụ",
    "Khá": "Hoàn thành nhiệm vụ",
    "Trung bình": "Không hoàn thành nhiệm vụ",
    "Yếu": "Không hoàn thành nhiệm vụ",
}
EVALUATOR_ORDER = ("citizen", "supervisor", "self")
WITHDRAWN_REASONS = ("withdrawn", "cancelled")
_LEVEL_ORDER = {"province": 0, "department": 1, "district": 2, "commune": 3}
TWO_LEVELS_FROM = date(2025, 7, 1)  # districts abolished (two-level local government)
# The provisional choices of the evaluation (documented in docs/reports.md; not printed in the report).
PROVISIONAL_NOTES = (
    "Tiêu chí 2 (thời gian của từng cơ quan tham gia) lấy bằng tiêu chí 1 do dữ liệu không có thời gian từng bước.",
    "Tiêu chí 8: phản ánh, kiến nghị không có hạn xử lý được tính hạn 15 ngày kể từ ngày tiếp nhận.",
    "Tiêu chí 9: hồ sơ trực tuyến 2 điểm; thủ tục có dịch vụ công trực tuyến nhưng nộp trực tiếp 1 điểm.",
    "Xếp loại: tổng điểm bằng đúng ngưỡng dưới của một mức (12, 9, 6) được xếp vào mức thấp hơn.",
)


# --- configuration -----------------------------------------------------------------------------------------


def _where(config: Config, key: str) -> str:
    return f"{config.source}: {key}" if config.source else key


def window_kind(config: Config) -> str:
    value = config.report.get("window", "nd09")
    if value not in WINDOWS:
        raise ConfigError(f"{_where(config, 'report.window')}: chỉ nhận 'nd09' hoặc 'calendar', không phải '{value}'")
    return str(value)


@dataclass(frozen=True)
class Band:
    name: str
    lower: float  # strict lower bound, inclusive for the last band
    classification: str


def bands(config: Config) -> list[Band]:
    """The evaluation bands, best first, from ``[onestop] bands`` and ``[onestop] classification``."""
    where = _where(config, "onestop.bands")
    raw = config.onestop.get("bands")
    pairs: list[tuple[str, float]] = list(DEFAULT_BANDS)
    if raw is not None:
        if not isinstance(raw, list) or not raw:
            raise ConfigError(f"{where}: cần danh sách các cặp [tên mức, điểm], ví dụ [[\"Xuất sắc\", 15], ...]")
        pairs = []
        for item in raw:
            if (not isinstance(item, list) or len(item) != 2 or not isinstance(item[0], str) or not item[0].strip()
                    or isinstance(item[1], bool) or not isinstance(item[1], int | float)):
                raise ConfigError(f"{where}: '{item}' không phải cặp [tên mức, điểm]")
            pairs.append((item[0].strip(), float(item[1])))
        names = [p[0] for p in pairs]
        if len(set(names)) != len(names):
            raise ConfigError(f"{where}: tên mức bị trùng")
        if any(a[1] <= b[1] for a, b in zip(pairs, pairs[1:], strict=False)):
            raise ConfigError(f"{where}: điểm của các mức phải giảm dần, từ mức cao nhất đến mức thấp nhất")
    where = _where(config, "onestop.classification")
    mapping = config.onestop.get("classification", {})
    if not isinstance(mapping, dict):
        raise ConfigError(f"{where}: cần bảng 'tên mức' = 'xếp loại'")
    known = {p[0] for p in pairs}
    for key, label in mapping.items():
        if key not in known:
            raise ConfigError(f"{where}: không có mức '{key}' trong onestop.bands")
        if not isinstance(label, str) or not label.strip():
            raise ConfigError(f"{where}.{key}: xếp loại phải là một chuỗi không rỗng")
    labels = {**DEFAULT_CLASSIFICATION, **{k: str(v).strip() for k, v in mapping.items()}}
    out = []
    for name, lower in pairs:
        if name not in labels:
            raise ConfigError(f"{where}: thiếu xếp loại cho mức '{name}'")
        out.append(Band(name, lower, labels[name]))
    return out


def validate_config(config: Config) -> None:
    """Check every key this module reads (``[report] window``, ``[onestop] bands`` and ``classification``), so a
    document can fail before any work; raises :class:`ConfigError` naming the key."""
    window_kind(config)
    bands(config)


def band_of(total: float, band_list: list[Band]) -> Band:
    """Strict lower bounds, the last one inclusive (a total below every bound takes the last band)."""
    for i, band in enumerate(band_list):
        if total > band.lower or (i == len(band_list) - 1):
            return band
    raise AssertionError("unreachable")


# --- window ------------------------------------------------------------------------------------------------


def _day15(year: int, month: int) -> date:
    """The 15th of the month before (year, month)."""
    return date(year - 1, 12, 15) if month == 1 else date(year, month - 1, 15)


def report_window(period: Period, config: Config) -> tuple[date, date]:
    """First and last day (inclusive) of the reporting window (see the module docstring)."""
    kind = window_kind(config)
    if kind == "calendar" or period.kind == "range":
        return period.start, period.last_day
    last = period.last_day
    return _day15(period.start.year, period.start.month), date(last.year, last.month, 14)


# --- handling counts ---------------------------------------------------------------------------------------


def _prepare(store: Store, config: Config) -> None:
    """As :func:`chiso.api.prepare`: the working-day calendar and resolved deadline rules must be current."""
    ensure_calendar(store, config)
    sync_deadline_rules(store, config)


def _bounds(start: date, last: date) -> tuple[datetime, datetime]:
    if last < start:
        raise ValueError(f"kỳ báo cáo không hợp lệ: ngày cuối {last} trước ngày đầu {start}")
    return datetime.combine(start, time.min), datetime.combine(last + timedelta(days=1), time.min) - timedelta(
        seconds=1)


def outcomes_sql(start: date, last: date, config: Config, dialect: str | None = None,
                 stored_due: Kept | None = None) -> str:
    """One row per dossier in the report: unit, channel, carried over or new, outcome, status class, and the
    fields the evaluation needs. Plain SQL over :class:`StatusQuery` (no loop over dossiers)."""
    t0, t1 = _bounds(start, last)
    status = StatusQuery(as_of=t1, config=config, ended_since=t0, dialect=dialect, stored_due=stored_due).sql()
    withdrawn = ", ".join(f"'{r}'" for r in WITHDRAWN_REASONS)
    return f"""
SELECT s.dossier_id, s.unit_code, s.timeliness, s.supplements,
       d.channel = 'online' AS online, d.received_at < {ts_literal(t0)} AS carried,
       CASE WHEN s.end_at IS NOT NULL THEN
                CASE WHEN d.stop_reason IN ({withdrawn}) AND d.stopped_at <= {ts_literal(t1)}
                     THEN 'withdrawn' ELSE 'resolved' END
            WHEN s.timeliness = 'pending_late' THEN 'in_progress_late'
            WHEN s.waiting_since IS NOT NULL THEN 'paused'
            ELSE 'in_progress' END AS outcome,
       d.channel, COALESCE(d.complained, FALSE) AS complained, d.officer, p.online_level
FROM ({status}) s
JOIN dossiers d ON d.dossier_id = s.dossier_id
JOIN procedures p ON p.code = s.procedure_code
WHERE s.end_at IS NULL OR s.end_at >= {ts_literal(t0)}
"""


def _count_columns(prefix: str, condition: str) -> list[str]:
    c = f"({condition}) AND " if condition else ""
    cols = [
        f"count(*) FILTER (WHERE {c}carried) AS {prefix}carried_over",
        f"count(*) FILTER (WHERE {c}NOT carried) AS {prefix}new",
        f"count(*) FILTER (WHERE {c}TRUE) AS {prefix}total",
        f"count(*) FILTER (WHERE {c}outcome = 'resolved') AS {prefix}resolved",
    ]
    cols += [f"count(*) FILTER (WHERE {c}outcome = 'resolved' AND timeliness = '{k}') AS {prefix}{k}"
             for k in ("early", "on_time", "late")]
    cols += [f"count(*) FILTER (WHERE {c}outcome = '{o}') AS {prefix}{o}" for o in OUTCOMES[1:]]
    return cols


def _sort_key(row: dict[str, Any]) -> tuple[int, str, str]:
    return _LEVEL_ORDER.get(str(row["level"]), 9), fold(str(row["name"])), str(row["name"])


def _fetch(store: Store, sql: str) -> list[dict[str, Any]]:
    cur = store.con.execute(sql)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def handling_counts(store: Store, start: date, last: date, config: Config) -> list[dict[str, Any]]:
    """One row per unit with any dossier in the window: code, name, level, parent_code and the counts of
    :data:`COUNT_COLUMNS`, plain and with the ``online_`` prefix. Units by level, then Vietnamese name order."""
    _prepare(store, config)
    cols = ",\n       ".join(_count_columns("", "") + _count_columns("online_", "online"))
    sql = f"""
WITH x AS ({outcomes_sql(start, last, config, store.dialect, kept_dues(store))})
SELECT u.code, u.name, u.level, u.parent_code,
       {cols}
FROM x JOIN units u ON u.code = x.unit_code
GROUP BY u.code, u.name, u.level, u.parent_code
"""
    rows = _fetch(store, sql)
    for r in rows:
        for k in COUNT_COLUMNS:
            r[k] = int(r[k])
            r[f"online_{k}"] = int(r[f"online_{k}"])
        for p in ("", "online_"):
            r[f"{p}in_time"] = r[f"{p}early"] + r[f"{p}on_time"]
    return sorted(rows, key=_sort_key)


def report_levels(period_start: date) -> tuple[str, ...]:
    """The report levels of a period that starts on ``period_start``: ``centre``, ``district``, ``commune``;
    from 1/7/2025 (:data:`TWO_LEVELS_FROM`) ``centre`` and ``commune``."""
    return ("centre", "commune") if period_start >= TWO_LEVELS_FROM else REPORT_LEVELS


def _pct(numerator: int, denominator: int) -> float:
    if not denominator:
        return 0.0
    value = Decimal(100 * numerator) / Decimal(denominator)
    return float(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def level_totals(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Sums per report level (centre, district, commune; always all three), ``units`` (rows summed), the
    percentages of :data:`PERCENTAGES` for all dossiers and with the ``online_`` prefix for online dossiers, and
    ``online_share`` = online_total / total — percent, rounded half up to 2 places, 0 when the denominator is 0;
    ``in_time`` = early + on_time (resolved on time) and ``in_time_pct`` = in_time / resolved, also with the
    ``online_`` prefix. The one source of these figures for every document (module docstring)."""
    keys = [*COUNT_COLUMNS, *(f"online_{k}" for k in COUNT_COLUMNS)]
    out: dict[str, dict[str, Any]] = {lv: {"units": 0, **dict.fromkeys(keys, 0)} for lv in REPORT_LEVELS}
    for r in rows:
        level = LEVEL_OF_UNIT.get(str(r.get("level")))
        if level is None:
            continue
        acc = out[level]
        acc["units"] += 1
        for k in keys:
            acc[k] += int(r.get(k) or 0)
    for acc in out.values():
        for p in ("", "online_"):
            acc[f"{p}in_time"] = acc[f"{p}early"] + acc[f"{p}on_time"]
        for name, (num, den) in PERCENTAGES.items():
            acc[name] = _pct(acc[num], acc[den])
            acc[f"online_{name}"] = _pct(acc[f"online_{num}"], acc[f"online_{den}"])
        acc["online_share"] = _pct(acc["online_total"], acc["total"])
    return out


# --- evaluation --------------------------------------------------------------------------------------------


def evaluation_sql(start: date, last: date, config: Config, dialect: str | None = None,
                   stored_due: Kept | None = None) -> str:
    """Per-unit and per-officer sums of i1..i9 over the dossiers resolved in the window (GROUPING SETS)."""
    order = " ".join(f"WHEN '{e}' THEN {i}" for i, e in enumerate(EVALUATOR_ORDER))
    due = "COALESCE(f.due_at, dd.due)"
    derived = {
        "i1": "CASE r.timeliness WHEN 'early' THEN 2 WHEN 'on_time' THEN 1 ELSE 0 END",
        "i2": "CASE r.timeliness WHEN 'early' THEN 2 WHEN 'on_time' THEN 1 ELSE 0 END",
        "i3": "CASE WHEN r.supplements = 0 THEN 2 WHEN r.supplements = 1 THEN 1 ELSE 0 END",
        "i4": "2",
        "i5": "2",
        "i6": "2",
        "i7": "CASE WHEN r.complained THEN 0 ELSE 2 END",
        "i8": "CASE WHEN fb.n IS NULL OR fb.ok = fb.n THEN 2 WHEN fb.ok * 10 >= fb.n * 9 THEN 1 ELSE 0 END",
        "i9": "CASE WHEN r.channel = 'online' THEN 2 WHEN r.online_level IN ('full', 'partial') THEN 1 ELSE 0 END",
    }
    values = ",\n           ".join(f"COALESCE(ev.{i}, {derived[i]}) AS {i}" for i in INDICATORS)
    sums = ", ".join(f"sum(v.{i}) AS {i}" for i in INDICATORS)
    return f"""
WITH r AS (SELECT * FROM ({outcomes_sql(start, last, config, dialect, stored_due)}) o WHERE o.outcome = 'resolved'),
ev AS (
    SELECT * FROM (
        SELECT e.*, row_number() OVER (
                   PARTITION BY e.dossier_id
                   ORDER BY CASE e.evaluator {order} ELSE {len(EVALUATOR_ORDER)} END, e.evaluated_at DESC) AS rn
        FROM evaluations e) e1
    WHERE e1.rn = 1),
fb AS (
    SELECT f.unit_code, count(*) AS n, count(*) FILTER (WHERE f.handled_at <= {due}) AS ok
    FROM feedback f LEFT JOIN ({feedback_due_sql()}) dd ON dd.feedback_id = f.feedback_id
    WHERE CAST({due} AS DATE) BETWEEN DATE '{start.isoformat()}' AND DATE '{last.isoformat()}'
    GROUP BY f.unit_code),
v AS (
    SELECT r.unit_code, r.officer, ev.dossier_id IS NOT NULL AS has_form,
           {values}
    FROM r
    LEFT JOIN ev ON ev.dossier_id = r.dossier_id
    LEFT JOIN fb ON fb.unit_code = r.unit_code)
SELECT v.unit_code, v.officer, GROUPING(v.officer) AS per_unit, count(*) AS dossiers,
       count(*) FILTER (WHERE v.has_form) AS forms, {sums}
FROM v
GROUP BY GROUPING SETS ((v.unit_code), (v.unit_code, v.officer))
"""


def _hundredths(total: int, count: int) -> int:
    """The mean total/count in hundredths, rounded half up, in exact integer arithmetic (values are >= 0)."""
    return (200 * total + count) // (2 * count)


def evaluate(store: Store, start: date, last: date, config: Config) -> dict[str, Any]:
    """The nine-indicator evaluation: ``{"units": [...], "officers": [...], "bands": [...], "provisional": [...]}``.

    Unit rows: code, name, level, dossiers, forms (dossiers with an evaluation form), i1..i9 (means rounded half
    up to 2 places), total (sum of the rounded means), band, classification. Officer rows: the same with code and
    name = the officer, level = the unit's level, plus unit_code and unit_name. Bands: name, lower,
    classification, best first. Provisional: the [P] choices, in Vietnamese, for the document. Units by level
    and name; officers by unit order, then name. A dossier counts for its own unit (``dossiers.unit_code``), whatever
    unit its evaluation form names.
    """
    band_list = bands(config)
    _prepare(store, config)
    units = {str(r[0]): (str(r[1]), str(r[2])) for r in store.con.execute(
        "SELECT code, name, level FROM units").fetchall()}
    unit_rows: list[dict[str, Any]] = []
    officer_rows: list[dict[str, Any]] = []
    for rec in _fetch(store, evaluation_sql(start, last, config, store.dialect, kept_dues(store))):
        per_unit = bool(rec["per_unit"])
        if not per_unit and rec["officer"] is None:
            continue  # dossiers without an officer: only in their unit's row
        unit_code = str(rec["unit_code"])
        unit_name, level = units.get(unit_code, (unit_code, ""))
        count = int(rec["dossiers"])
        hundredths = [_hundredths(int(rec[i]), count) for i in INDICATORS]
        total = sum(hundredths) / 100  # the sum of the rounded means, exact
        band = band_of(total, band_list)
        row: dict[str, Any] = {
            "code": unit_code if per_unit else str(rec["officer"]),
            "name": unit_name if per_unit else str(rec["officer"]),
            "level": level, "dossiers": count, "forms": int(rec["forms"]),
            **{i: h / 100 for i, h in zip(INDICATORS, hundredths, strict=True)}, "total": total,
            "band": band.name, "classification": band.classification,
        }
        if per_unit:
            unit_rows.append(row)
        else:
            officer_rows.append({**row, "unit_code": unit_code, "unit_name": unit_name})
    unit_rows.sort(key=_sort_key)
    position = {r["code"]: n for n, r in enumerate(unit_rows)}
    folded = {name: fold(name) for name in {r["name"] for r in officer_rows}}
    officer_rows.sort(key=lambda r: (position.get(r["unit_code"], len(position)), folded[r["name"]], r["name"]))
    return {
        "units": unit_rows,
        "officers": officer_rows,
        "bands": [{"name": b.name, "lower": b.lower, "classification": b.classification} for b in band_list],
        "provisional": list(PROVISIONAL_NOTES),
    }


def classification_counts(rows: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """``[(classification, count, total)]``, best first, only non-zero counts; ``total`` = len(rows).

    Band order is recovered from the rows themselves: bands are monotone in the total score, so a better
    classification is the one whose best row has the higher total."""
    best: dict[str, float] = {}
    counts: dict[str, int] = {}
    for r in rows:
        label = str(r["classification"])
        counts[label] = counts.get(label, 0) + 1
        best[label] = max(best.get(label, float("-inf")), float(r["total"]))
    order = sorted(counts, key=lambda label: -best[label])
    return [(label, counts[label], len(rows)) for label in order]
