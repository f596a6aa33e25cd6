"""The monthly public letter (công văn công khai kết quả Bộ chỉ số, seeds ``000_…`` and ``002_…``) and the
unit detail letter, with their Excel appendices. Every figure comes from the score engine
(:func:`chiso.api.score`) and the dossier status (:mod:`chiso.status.timeliness`) of the same moment."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from chiso import api
from chiso.config import Config
from chiso.outputs import safe_filename
from chiso.reports.charts import ChartJob
from chiso.reports.common import (
    ROMAN,
    ReportSettings,
    add_working_days,
    base_context,
    date_text,
    local_words,
    moment_text,
    period_words,
)
from chiso.rules.arithmetic import competition_rank
from chiso.rules.model import RuleSet
from chiso.scoring.engine import CLOSURE_SQL, score_period
from chiso.scoring.explain import actions_by_unit
from chiso.scoring.period import Period, parse_period
from chiso.status.stored_due import kept as kept_dues
from chiso.status.timeliness import CLASS_LABELS, StatusQuery, ts_literal
from chiso.store.db import Store
from chiso.store.rows import first_row
from chiso.textnorm import fold
from chiso.units.catalog import MERGER_DAY

TREND_MONTHS = 6
T = TypeVar("T")
CRITERIA = {"satisfied_pct": "DOSSIER_RECEIVING_SATISFACTION", "synced_pct": "DOSSIER_SYNC",
            "digitized_pct": "SO_HOA_GIAY_TO_GIAI_QUYET"}


@dataclass
class MonthScores:
    """One scoring of a month, shared by the public letter and every unit letter of it: the period's results
    (with the change against the month before), the month before, the best actions of every unit, the
    per-unit dossier counts and, once asked for, the overdue dossiers of every unit."""

    period: Period
    moment: datetime
    config: Config
    rs: RuleSet
    results: list[dict[str, Any]]
    previous: dict[str, dict[str, Any]]
    actions: dict[str, list[dict[str, Any]]]
    counts: dict[str, dict[str, int]]
    as_of: datetime
    _overdue: dict[str, list[dict[str, Any]]] | None = field(default=None, repr=False)
    _memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def compute(cls, store: Store, period_text: str, *, as_of: datetime, rules: str | None = None) -> MonthScores:
        period = parse_period(period_text)
        config = api.prepare(store)
        rs, results, previous = api.score_with_previous(store, period.label, as_of=as_of, rules=rules)
        if not _has_dossiers(previous.values(), rs):
            # The month before has no data at all (not loaded): a change against the defaults it scores would
            # mislead, so the letters say nothing of it.
            previous = {}
            for r in results:
                r["previous_total"] = r["change"] = None
        actions = actions_by_unit(store, rs, results)  # right after scoring: reads the period's fact tables
        moment = period.moment(as_of)
        counts = unit_counts(store, period, moment, config)
        return cls(period, moment, config, rs, results, previous, actions, counts, as_of)

    def result(self, code: str) -> dict[str, Any]:
        for r in self.results:
            if r["code"] == code:
                return r
        raise KeyError(f"không có đơn vị '{code}' trong kết quả kỳ {self.period.label}")

    def overdue_dossiers(self, store: Store) -> dict[str, list[dict[str, Any]]]:
        """Unit code -> the dossiers resolved late in the period or open past their due date at the moment, of
        the unit and every unit below it (one query for all units)."""
        if self._overdue is None:
            self._overdue = _overdue_dossiers(store, self.period, self.moment, self.config)
        return self._overdue

    def once(self, key: Any, compute: Callable[[], T]) -> T:
        """``compute()`` the first time ``key`` is asked for in this scoring, the same value after: what every
        unit letter of a month reads the same (the province's name, the explanation deadline, the marks)."""
        if key not in self._memo:
            self._memo[key] = compute()
        return cast(T, self._memo[key])


def _has_dossiers(results: Any, rs: RuleSet) -> bool:
    """Whether any unit counted any dossier in these results (a loaded month, not an empty one)."""
    # dossiers received or handled (a procedure-based denominator counts procedures, which exist without data)
    counted = [i.code for i in rs.indicators if i.source == "dossiers" and i.denominator in ("handled", "received")]
    return any((r["indicators"][c]["denominator"] or 0) > 0 for r in results for c in counted)


def unit_counts(store: Store, period: Period, moment: datetime, config: Config) -> dict[str, dict[str, int]]:
    """Per unit and every ancestor (a district counts its communes): dossiers received in the period, of them
    online, resolved late in the period, and open past their due date at ``moment``."""
    start = datetime.combine(period.start, datetime.min.time())
    status = StatusQuery(as_of=moment, config=config, ended_since=start, dialect=store.dialect,
                         stored_due=kept_dues(store)).sql()
    t0 = ts_literal(start)
    sql = f"""
WITH s AS ({status}), c AS ({CLOSURE_SQL})
SELECT c.ancestor AS code,
       count(*) FILTER (WHERE s.received_at >= {t0}) AS received,
       count(*) FILTER (WHERE s.received_at >= {t0} AND d.channel = 'online') AS online,
       count(*) FILTER (WHERE s.timeliness = 'late' AND s.end_at >= {t0}) AS resolved_late,
       count(*) FILTER (WHERE s.timeliness = 'pending_late') AS open_late
FROM s JOIN dossiers d ON d.dossier_id = s.dossier_id JOIN c ON c.descendant = s.unit_code
GROUP BY c.ancestor"""
    return {str(r[0]): {"received": int(r[1]), "online": int(r[2]), "resolved_late": int(r[3]),
                        "open_late": int(r[4])} for r in store.con.execute(sql).fetchall()}


def _pct(ratio: float | None) -> float | None:
    return None if ratio is None else round(100.0 * ratio, 4)


def _order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r["rank"] or 0, fold(r["name"]), r["code"]))


def ranked_among(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``rows`` with their competition rank among themselves (``local_rank``), best first: a district's communes
    ranked among the district's own communes, not among the province's."""
    ranks = competition_rank([float(r["total"]) for r in rows])
    out = [{**r, "local_rank": k} for r, k in zip(rows, ranks, strict=True)]
    return sorted(out, key=lambda r: (r["local_rank"], fold(r["name"]), r["code"]))


def _peers(results: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    """Departments and the local level of the letter: districts while they exist (three levels), else communes."""
    departments = [r for r in results if r["level"] == "department" and r.get("ranked", True)]
    districts = [r for r in results if r["level"] == "district"]
    locals_ = districts or [r for r in results if r["level"] == "commune"]
    return _order(departments), _order(locals_), bool(districts)


def _trend(store: Store, data: MonthScores, province_code: str, current: float) -> list[tuple[str, float]]:
    """The province's total for up to TREND_MONTHS months ending with the period (months before the first
    dossier are left out); the month before comes from ``data``, older ones are scored here."""
    first = first_row(store.con.execute("SELECT min(received_at) FROM dossiers"))
    earliest = first[0].date() if first and first[0] else data.period.start
    points = [(f"{data.period.start.month:02d}/{data.period.start.year}", current)]
    p = data.period
    for back in range(TREND_MONTHS - 1):
        p = p.previous()
        if p.end <= earliest:
            break
        if back == 0:
            before = data.previous.get(province_code)
        else:
            # keep_facts=False: the period's own fact table (dossier_facts) stays what publishing reads
            scored = score_period(store, data.rs, p, data.as_of, data.config, keep_facts=False)
            before = next((r for r in scored if r["code"] == province_code), None)
        if before is not None:
            points.append((f"{p.start.month:02d}/{p.start.year}", before["total"]))
    return points[::-1]


def monthly_context(store: Store, data: MonthScores, *, letter_date: date, settings: ReportSettings,
                    workdir: Path, national_rank: str | None = None) -> dict[str, Any]:
    """Everything the monthly letter and its appendices show (the names are the template tags of
    docs/templates.md)."""
    period, rs, results, moment, counts = data.period, data.rs, data.results, data.moment, data.counts
    province = next((r for r in results if r["level"] == "province"), None)
    if province is None:
        raise ValueError("không có kết quả cấp tỉnh: hãy nạp danh mục đơn vị (chiso units init) và hồ sơ")
    departments, locals_, three_levels = _peers(results)
    nf = settings.numbers

    groups = [{"code": g.code, "name": g.name, "max": g.max, "score": province["groups"][g.code]["score"],
               "weak": province["groups"][g.code]["score"] < settings.low_share * g.max} for g in rs.groups]

    missing = _missing_by_unit(store, data)

    def overdue_row(r: dict[str, Any]) -> dict[str, Any]:
        c = counts.get(r["code"], {})
        late, open_late = c.get("resolved_late", 0), c.get("open_late", 0)
        m = missing.get(r["code"], {})
        return {"code": r["code"], "name": r["name"], "resolved_late": late, "open_late": open_late,
                "total": late + open_late, "explanation_missing": m.get("explanation_missing", 0),
                "apology_missing": m.get("apology_missing", 0)}

    def overdue_list(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = [overdue_row(r) for r in rows]
        return sorted([o for o in out if o["total"]], key=lambda o: (-o["total"], fold(o["name"])))

    words = local_words(three_levels)
    od_departments, od_locals = overdue_list(departments), overdue_list(locals_)
    total_overdue = sum(o["total"] for o in od_departments + od_locals)
    local_noun = "UBND cấp huyện" if three_levels else "UBND các xã, phường"
    breakdown = f"{len(od_departments):02d} sở, ngành và {len(od_locals):02d} {local_noun}"
    overdue = {
        "total": total_overdue, "units": len(od_departments) + len(od_locals), "breakdown": breakdown,
        # from the Quá hạn page of the web service: shown once the office records explanations there
        "tracked": bool(overdue_marks(store)),
        "explanation_missing": missing.get(province["code"], {}).get("explanation_missing", 0),
        "apology_missing": missing.get(province["code"], {}).get("apology_missing", 0),
        "departments": od_departments, "locals": od_locals,
        "departments_total": sum(o["total"] for o in od_departments),
        "locals_total": sum(o["total"] for o in od_locals),
        "groups": [g for g in (
            {"roman": "I", "title": "Các sở, ban, ngành", "rows": od_departments,
             "total": sum(o["total"] for o in od_departments)},
            {"roman": "II", "title": words["local_title"], "rows": od_locals,
             "total": sum(o["total"] for o in od_locals)}) if g["rows"]],
    }

    criteria_rows = []
    for r in departments + locals_:
        c = counts.get(r["code"], {})
        row = {"code": r["code"], "name": r["name"], "overdue": c.get("resolved_late", 0) + c.get("open_late", 0),
               "online_pct": _pct(c["online"] / c["received"]) if c.get("received") else None}
        for key, code in CRITERIA.items():
            ind = r["indicators"].get(code)
            row[key] = _pct(ind["ratio"]) if ind else None
        criteria_rows.append(row)

    def rank_row(r: dict[str, Any]) -> dict[str, Any]:
        return {"code": r["code"], "rank": r["rank"], "name": r["name"], "total": r["total"],
                "classification": r["classification"], "change": r["change"],
                "groups": [r["groups"][g.code]["score"] for g in rs.groups]}

    ranking = [{"roman": "I", "title": "Các sở, ban, ngành", "rows": [rank_row(r) for r in departments]},
               {"roman": "II", "title": words["local_title"], "rows": [rank_row(r) for r in locals_]}]

    detail_rows = []
    for r in [province, *departments, *locals_]:
        for ind in rs.indicators:
            i = r["indicators"][ind.code]
            detail_rows.append({"code": r["code"], "unit": r["name"], "group": ind.group, "indicator": ind.code,
                                "name": ind.name, "numerator": i["numerator"], "denominator": i["denominator"],
                                "ratio_pct": _pct(i["ratio"]), "score": i["score"], "max": i["max"]})

    official_differences = _official_differences(results, rs)
    headline = _headline(store, province, data, rs, nf, national_rank)
    deadline = add_working_days(store, letter_date, settings.explanation_working_days)
    context: dict[str, Any] = {
        **base_context(store, settings, period, letter_date), **words, **headline,
        "rule_set": rs.name, "rule_set_title": rs.title,
        "as_of_text": moment_text(moment),

        "province_result": province,
        "groups": groups, "group_names": [g.name for g in rs.groups],
        "low_groups": [g for g in groups if g["weak"]],
        "low_share_pct": nf.number(settings.low_share * 100, 0),
        "overdue": overdue,
        "explanation_deadline": date_text(deadline).removeprefix("ngày "),
        "criteria_rows": criteria_rows, "ranking": ranking, "detail_rows": detail_rows,
        "official_differences": official_differences,
        "provisional": bool(province["provisional"]),
    }
    trend_points = _trend(store, data, province["code"], province["total"])
    context["trend"] = [{"month": m, "total": t} for m, t in trend_points]
    mm_yyyy = period_words(period)["mm_yyyy"]
    # The chart shows the figures the text cites (the portal's when imported), weak below low_share.
    charted = [{"name": g["name"], "max": g["max"], "score": g["score"],
                "weak": g["score"] < settings.low_share * g["max"]} for g in headline["headline_groups"]]
    context["chart_jobs"] = {
        "chart_groups": ChartJob("groups", charted, workdir / "chart-groups.png", nf,
                                 f"Điểm các nhóm tiêu chí của tỉnh {context['province']}, tháng {mm_yyyy}"),
        # Departments and the local level apart: each chart fits its page.
        "chart_ranking": ChartJob("ranking", [{"code": r["code"], "name": r["name"], "total": r["total"]}
                                              for r in departments], workdir / "chart-ranking.png", nf,
                                  f"Xếp hạng các sở, ban, ngành, tháng {mm_yyyy}"),
        "chart_ranking_local": ChartJob("ranking", [{"code": r["code"], "name": r["name"], "total": r["total"]}
                                                    for r in locals_], workdir / "chart-ranking-local.png", nf,
                                        f"Xếp hạng {words['local_title']}, tháng {mm_yyyy}"),
    }
    if len(trend_points) > 1:
        context["chart_jobs"]["chart_trend"] = ChartJob("trend", trend_points, workdir / "chart-trend.png", nf,
                                                        "Tổng điểm của tỉnh qua các tháng")
    else:
        context["chart_trend"] = None
    return context


OFFICIAL_APPENDIX_ROWS = 30
PROVINCES_AFTER_MERGER, PROVINCES_BEFORE = 34, 63  # provinces and cities ranked by the portal


def _headline(store: Store, province: dict[str, Any], data: MonthScores, rs: RuleSet, nf: Any,
              national_rank: str | None) -> dict[str, Any]:
    """Point 1 of the letter as the seeds write it: the basis (the portal's published result when it was imported
    with ``chiso import-official``, otherwise the province's own data), the total with two decimals, the national
    rank (given, imported, or a placeholder to fill), the change against the previous month, and all six groups.
    A total that counts a staff-entered input never entered, or a provisional conversion, is marked "tạm tính" and
    what is missing is listed."""
    off = province.get("official") or {}
    portal = off.get("total") is not None
    total = off["total"] if portal else province["total"]
    month_before = data.period.previous()
    if portal:  # the portal's figure against the portal's figure of the month before, when imported
        row = first_row(store.con.execute(
            "SELECT score FROM official_results WHERE period = ? AND unit_code = ? AND kind = 'total'",
            [month_before.label, province["code"]]))
        then = float(row[0]) if row and row[0] is not None else None
    else:
        before = data.previous.get(province["code"])
        then = float(before["total"]) if before is not None else None
    change = None if then is None else round(float(total) - then, 2)
    of = PROVINCES_AFTER_MERGER if data.period.start >= MERGER_DAY else PROVINCES_BEFORE
    if national_rank:
        rank_text = national_rank
    elif portal and off.get("rank"):
        rank_text = f"{off['rank']}/{off.get('rank_of') or of}"
    else:
        rank_text = f"…/{of}"  # to fill from the portal before sending
    groups = []
    official_groups = off.get("groups") or {}
    for g in rs.groups:
        inds = [province["indicators"][i.code] for i in rs.group_indicators(g.code)]
        og = official_groups.get(g.code) or {}
        score = og["score"] if og else province["groups"][g.code]["score"]
        groups.append({"code": g.code, "name": g.name, "max": og.get("max") or g.max, "score": score,
                       "provisional": g.code not in official_groups and any(i.get("provisional") for i in inds)})
    missing = [{"code": code, "name": rs.indicator(code).name, "max": rs.indicator(code).max}
               for code in province.get("missing_inputs", [])] if not portal else []
    missing_points = sum(m["max"] for m in missing)
    word = "tăng" if (change or 0) > 0 else "giảm"
    return {
        "basis_portal": portal,
        "headline_total": total,
        "headline_provisional": (not portal) and bool(province["provisional"]),
        "national_rank": rank_text,
        "change_text": ("" if change is None else (
            f", {word} {nf.fixed(abs(change))} điểm so với tháng {month_before.start.month:02d}/"
            f"{month_before.start.year}" if change else f", không thay đổi so với tháng "
            f"{month_before.start.month:02d}/{month_before.start.year}")),
        "headline_groups": groups,
        "missing_inputs": missing,
        "missing_text": "; ".join(f"{m['name']} ({nf.number(m['max'], 0)} điểm)" for m in missing),
        "missing_points": missing_points,
    }



def _official_differences(results: list[dict[str, Any]], rs: RuleSet) -> list[dict[str, Any]]:
    """The largest differences between the scores computed from the province's data and the official results
    imported for the month (totals and indicators), with the likely cause; empty when none were imported."""
    from chiso.scoring.results import CAUSES

    rows: list[dict[str, Any]] = []
    for r in results:
        off = r.get("official") or {}
        if off.get("total") is not None and off.get("difference"):
            rows.append({"unit": r["name"], "item": "Tổng điểm", "ours": r.get("computed_total", r["total"]),
                         "theirs": off["total"], "difference": off["difference"], "cause": ""})
        for ind in rs.indicators:
            if ind.inherit and r["level"] != "province":  # the province's own value, listed once
                continue
            i = r["indicators"][ind.code]
            theirs = i.get("official_score", i.get("official_rule_score"))
            if theirs is None or not i.get("cause"):
                continue
            ours = i.get("computed_score", i["score"])
            rows.append({"unit": r["name"], "item": ind.name, "ours": ours, "theirs": theirs,
                         "difference": round(theirs - ours, 2), "cause": CAUSES.get(i["cause"], "")})
    rows.sort(key=lambda x: (-abs(x["difference"]), fold(x["unit"]), x["item"]))
    return rows[:OFFICIAL_APPENDIX_ROWS]


def unit_context(store: Store, data: MonthScores, unit_code: str, *, letter_date: date, settings: ReportSettings,
                 workdir: Path) -> dict[str, Any]:
    """The detail letter of one department, district or commune: every sub-indicator, the change against
    last month, its overdue dossiers, the best actions and the ranking of its sub-units. Its chart is in
    ``chart_jobs``, to be drawn (into ``workdir``) by whoever renders the letter."""
    period, rs, results, moment = data.period, data.rs, data.results, data.moment
    unit = data.result(unit_code)
    before = data.previous.get(unit_code)
    nf = settings.numbers
    peers = [r for r in results if r["level"] == unit["level"]]

    def change_text(now: float, old: float | None) -> str:
        if old is None:
            return ""
        delta = round(now - old, rs.rounding)
        return ("+" if delta > 0 else "") + nf.number(delta) if delta else "0"

    groups: list[dict[str, Any]] = []
    indicator_rows: list[dict[str, Any]] = []
    for g in rs.groups:
        gr = unit["groups"][g.code]
        old_group = before["groups"][g.code]["score"] if before else None
        inds = []
        for ind in rs.group_indicators(g.code):
            i = unit["indicators"][ind.code]
            old = before["indicators"][ind.code]["score"] if before else None
            row = {"code": ind.code, "name": ind.name, "numerator": i["numerator"], "denominator": i["denominator"],
                   "ratio_pct": _pct(i["ratio"]), "score": i["score"], "max": i["max"],
                   "provisional": bool(i.get("provisional")), "missing": bool(i.get("missing")), "previous": old,
                   "change": None if old is None else round(i["score"] - old, rs.rounding),
                   "change_text": change_text(i["score"], old), "group": g.code}
            inds.append(row)
            indicator_rows.append(row)
        groups.append({"roman": ROMAN[len(groups)], "code": g.code, "name": g.name, "score": gr["score"],
                       "max": g.max, "change_text": change_text(gr["score"], old_group), "indicators": inds})

    # Written as a person writes a list: a capital first letter, ";" between items and "." after the last.
    actions = [a["text"][:1].upper() + a["text"][1:] for a in data.actions.get(unit_code, [])]
    children = ranked_among([r for r in results if r["parent_code"] == unit_code])
    overdue_dossiers = data.overdue_dossiers(store).get(unit_code, [])
    resolved_late = sum(1 for d in overdue_dossiers if d["timeliness"] == "late")
    open_late = len(overdue_dossiers) - resolved_late
    peers_label = {"department": "sở, ban, ngành", "district": "huyện, thành phố",
                   "commune": "xã, phường", "province": "tỉnh, thành phố"}.get(unit["level"], "")
    change = unit["change"]
    unit_view = {**unit, "peers": len(peers), "peers_label": peers_label, "total_text": nf.fixed(unit["total"], 2),
                 "change_text": ("tăng " if (change or 0) > 0 else "giảm " if (change or 0) < 0 else "không đổi")
                 + (nf.number(abs(change)) + " điểm" if change else "")}
    deadline = data.once(("deadline", letter_date, settings.explanation_working_days),
                         lambda: add_working_days(store, letter_date, settings.explanation_working_days))
    marks = data.once("marks", lambda: overdue_marks(store))
    for d in overdue_dossiers:
        d["explanation_done"] = (marks.get((d["dossier_id"], "explanation")) or {}).get("done_on")
        d["apology_done"] = (marks.get((d["dossier_id"], "apology")) or {}).get("done_on")
    context: dict[str, Any] = {
        **data.once(("base", settings, letter_date), lambda: base_context(store, settings, period, letter_date)),
        "rule_set": rs.name, "rule_set_title": rs.title, "as_of_text": moment_text(moment),
        "unit": unit_view, "previous": period_words(period.previous()),
        "groups": groups, "indicator_rows": indicator_rows, "actions": actions,
        "children": [{"rank": r["local_rank"], "code": r["code"], "name": r["name"], "total": r["total"],
                      "classification": r["classification"]} for r in children],
        "overdue": {"total": len(overdue_dossiers), "resolved_late": resolved_late, "open_late": open_late,
                    # only the kinds there are: no "0 hồ sơ" in a sentence
                    "sentence": " và ".join(part for n, part in (
                        (resolved_late, f"{nf.integer(resolved_late)} hồ sơ giải quyết quá hạn"),
                        (open_late, f"{nf.integer(open_late)} hồ sơ đang xử lý quá hạn")) if n),
                    # from the Quá hạn page of the web service (chiso.api_web.mark_overdue)
                    "tracked": bool(marks),
                    "explanation_missing": sum(d["explanation_done"] is None for d in overdue_dossiers),
                    "apology_missing": sum(d["apology_done"] is None for d in overdue_dossiers)},
        "overdue_dossiers": overdue_dossiers,
        "explanation_deadline": date_text(deadline).removeprefix("ngày "),
    }
    safe = safe_filename(unit_code)  # a code is data: no path separators, bounded length
    context["chart_jobs"] = {"chart_unit_groups": ChartJob(
        "groups", [{"name": g["name"], "score": g["score"], "max": g["max"],
                    "weak": g["score"] < settings.low_share * g["max"]} for g in groups],
        workdir / f"chart-{safe}-groups.png", nf, f"Điểm các nhóm tiêu chí của {unit['name']}", dpi=120)}
    return context


def overdue_marks(store: Store) -> dict[tuple[str, str], dict[str, Any]]:
    """(dossier id, action) -> {done_on} of the explanations and apologies recorded on the Quá hạn page."""
    rows = store.con.execute("SELECT dossier_id, action, done_on FROM overdue_actions").fetchall()
    return {(str(r[0]), str(r[1])): {"done_on": str(r[2])} for r in rows}


def _missing_by_unit(store: Store, data: MonthScores) -> dict[str, dict[str, int]]:
    """Unit code -> explanations and apologies still missing for its overdue dossiers (and its sub-units')."""
    marks = overdue_marks(store)
    out: dict[str, dict[str, int]] = {}
    for code, rows in data.overdue_dossiers(store).items():
        out[code] = {"explanation_missing": sum((d["dossier_id"], "explanation") not in marks for d in rows),
                     "apology_missing": sum((d["dossier_id"], "apology") not in marks for d in rows)}
    return out


def _overdue_dossiers(store: Store, period: Period, moment: datetime, config: Config
                      ) -> dict[str, list[dict[str, Any]]]:
    start = datetime.combine(period.start, datetime.min.time())
    status = StatusQuery(as_of=moment, config=config, ended_since=start, dialect=store.dialect,
                         stored_due=kept_dues(store)).sql()
    rows = store.con.execute(f"""
WITH c AS ({CLOSURE_SQL})
SELECT c.ancestor, s.dossier_id, u.name, s.procedure_code, s.received_at, s.due_at, s.end_at, s.timeliness
FROM ({status}) s JOIN units u ON u.code = s.unit_code JOIN c ON c.descendant = s.unit_code
WHERE s.timeliness = 'pending_late' OR (s.timeliness = 'late' AND s.end_at >= {ts_literal(start)})
ORDER BY c.ancestor, u.name, s.due_at, s.dossier_id""").fetchall()

    def fmt(v: Any) -> str:
        return v.strftime("%d/%m/%Y %H:%M") if isinstance(v, datetime) else ""

    out: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        out.setdefault(str(r[0]), []).append({
            "dossier_id": r[1], "unit_name": r[2], "procedure_code": r[3], "received_at": fmt(r[4]),
            "due_at": fmt(r[5]), "end_at": fmt(r[6]), "timeliness": r[7], "status": CLASS_LABELS[r[7]]})
    return out
