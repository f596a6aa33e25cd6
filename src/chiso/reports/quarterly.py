"""The quarterly one-stop report (báo cáo đánh giá việc giải quyết TTHC theo cơ chế một cửa, một cửa liên thông,
seed ``001_…``): per level — the provincial Public Administration Service Centre (departments), districts (until
30/6/2025), communes — the handling counts and the nine-indicator evaluation of agencies, one-stop desks and
officials (:mod:`chiso.reports.onestop`), then a general assessment and recommendations written from the figures.

1. The legal basis is the one in force on the period's first day (:data:`LEGAL_BASES`, :func:`legal_basis`).
2. The levels are those of the period (:func:`chiso.reports.onestop.report_levels`): no district section and no
   district rows from 1/7/2025.
3. Every count comes from :func:`chiso.reports.onestop.level_totals` over
   :func:`chiso.reports.onestop.handling_counts`, as in the reform statistics form (one count everywhere,
   docs/reports.md).
4. "Đánh giá chung" (strengths, weaknesses) and "Kiến nghị" are written from the figures by :func:`assessment`
   with the thresholds below; the units named are those with the most overdue dossiers, the lowest
   classification and the lowest online share. Method notes stay out of the report (docs/reports.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from chiso import api
from chiso.reports import onestop
from chiso.reports.common import LEVEL_TEXT, ROMAN, ReportSettings, base_context, local_words
from chiso.reports.numbers import NumberFormat
from chiso.rules.arithmetic import round_half_up
from chiso.scoring.period import parse_period
from chiso.store.db import Store

SECTIONS = {
    "centre": ("CẤP TỈNH", "Trung tâm Phục vụ hành chính công tỉnh", "cơ quan"),
    "district": ("CẤP HUYỆN", "Bộ phận Một cửa cấp huyện", "BPMC"),
    "commune": ("CẤP XÃ", "Bộ phận Một cửa cấp xã", "BPMC"),
}
LEVEL_WORD = {"centre": "cấp tỉnh", "district": "cấp huyện", "commune": "cấp xã"}


@dataclass(frozen=True)
class LegalBasis:
    """The texts the report is made under, from ``effective_from`` (the period's first day decides)."""

    effective_from: date
    text: str  # completes "Thực hiện quy định tại …"


LEGAL_BASES = (
    LegalBasis(date(2018, 6, 21),
               "Chương V, Nghị định số 61/2018/NĐ-CP ngày 23/4/2018 của Chính phủ về thực hiện cơ chế một cửa, một "
               "cửa liên thông trong giải quyết thủ tục hành chính và Chương III, Thông tư số 01/2018/TT-VPCP ngày "
               "23/11/2018 của Văn phòng Chính phủ"),
    # Number, date and title verified (docs/reports.md); the chapter on evaluation was not, so none is cited.
    LegalBasis(date(2025, 7, 1),
               "Nghị định số 118/2025/NĐ-CP ngày 09/6/2025 của Chính phủ về thực hiện thủ tục hành chính theo cơ chế "
               "một cửa, một cửa liên thông tại Bộ phận Một cửa và Cổng Dịch vụ công quốc gia"),
)

# Thresholds of the assessment (docs/reports.md): a share at or above its target is a strength, below it a weakness.
IN_TIME_TARGET = 95.0  # % of resolved dossiers returned early or on time
ONLINE_TARGET = 50.0  # % of dossiers received online
MIN_DOSSIERS = 10  # a unit is named for its online share only with at least this many dossiers
NAMED = 5  # at most this many units named in one sentence


def legal_basis(period_start: date) -> str:
    """The legal basis in force on ``period_start`` (the earliest one for older periods)."""
    current = LEGAL_BASES[0]
    for basis in LEGAL_BASES:
        if basis.effective_from <= period_start:
            current = basis
    return current.text


def _strip_online(totals: dict[str, Any]) -> dict[str, Any]:
    return {k.removeprefix("online_"): v for k, v in totals.items() if k.startswith("online_")}


def _names(items: list[str]) -> str:
    return "; ".join(items)


def assessment(sections: list[dict[str, Any]], unit_rows: list[dict[str, Any]],
               evaluation_rows: list[dict[str, Any]], best: str, nf: NumberFormat, local_title: str
               ) -> dict[str, list[str]]:
    """``{"strengths": [...], "weaknesses": [...], "proposals": [...]}``, sentences in Vietnamese written from the
    level totals of ``sections``, the per-unit counts and the unit evaluations; ``best`` is the best
    classification label."""
    strengths: list[str] = []
    weaknesses: list[str] = []
    proposals: list[str] = []
    pct, whole = nf.fixed, nf.integer

    def share(s: dict[str, Any]) -> str:
        a = s["all"]
        return f"{s['desk']} {pct(a['in_time_pct'])}% ({whole(a['in_time'])}/{whole(a['resolved'])} hồ sơ)"

    resolved = [s for s in sections if s["all"]["resolved"]]
    good = [s for s in resolved if s["all"]["in_time_pct"] >= IN_TIME_TARGET]
    low = [s for s in resolved if s["all"]["in_time_pct"] < IN_TIME_TARGET]
    if good:
        strengths.append("Tỷ lệ hồ sơ đã giải quyết được trả trước hạn và đúng hạn đạt cao: "
                         + _names([share(s) for s in good]) + ".")
    if low:
        weaknesses.append("Tỷ lệ hồ sơ đã giải quyết được trả trước hạn và đúng hạn còn thấp: "
                          + _names([share(s) for s in low]) + ".")

    late = sum(s["all"]["late"] for s in sections)
    open_late = sum(s["all"]["in_progress_late"] for s in sections)
    overdue = sorted((r for r in unit_rows if r["late"] + r["in_progress_late"]),
                     key=lambda r: (-(r["late"] + r["in_progress_late"]), r["position"]))
    named_late = [f"{r['name']} ({whole(r['late'] + r['in_progress_late'])} hồ sơ)" for r in overdue[:NAMED]]
    if overdue:
        where = (f"; nhiều nhất: {_names(named_late)} và {whole(len(overdue) - NAMED)} cơ quan, đơn vị khác"
                 if len(overdue) > NAMED else f": {_names(named_late)}")
        weaknesses.append(f"Còn {whole(late)} hồ sơ giải quyết quá hạn và {whole(open_late)} hồ sơ đang giải quyết "
                          f"quá hạn tại {whole(len(overdue))} cơ quan, đơn vị{where}.")
        proposals.append(f"Đề nghị các cơ quan, đơn vị có hồ sơ quá hạn, nhất là {_names(named_late)}, rà soát "
                         "nguyên nhân, thực hiện xin lỗi tổ chức, cá nhân theo quy định"
                         + (f", giải quyết dứt điểm {whole(open_late)} hồ sơ đang quá hạn" if open_late else "")
                         + " và có giải pháp khắc phục trong kỳ tiếp theo.")
    else:
        strengths.append("Không có hồ sơ giải quyết quá hạn và không có hồ sơ đang giải quyết quá hạn.")

    online_good = [s for s in sections if s["all"]["total"] and s["online_share"] >= ONLINE_TARGET]
    online_low = [s for s in sections if s["all"]["total"] and s["online_share"] < ONLINE_TARGET]
    if online_good:
        strengths.append("Tỷ lệ hồ sơ tiếp nhận trực tuyến: " + _names(
            [f"{s['desk']} {pct(s['online_share'])}%" for s in online_good]) + ".")
    if online_low:
        weaknesses.append("Tỷ lệ hồ sơ tiếp nhận trực tuyến còn thấp: " + _names(
            [f"{s['desk']} {pct(s['online_share'])}%" for s in online_low]) + ".")
    lowest_online = sorted((r for r in unit_rows if r["total"] >= MIN_DOSSIERS and r["online_pct"] < ONLINE_TARGET),
                           key=lambda r: (r["online_pct"], r["position"]))[:NAMED]
    if lowest_online:
        named = _names([f"{r['name']} ({pct(r['online_pct'])}%)" for r in lowest_online])
        weaknesses.append(f"Cơ quan, đơn vị có tỷ lệ hồ sơ trực tuyến thấp nhất: {named}.")
        proposals.append(f"Đề nghị {named} đẩy mạnh hướng dẫn tổ chức, cá nhân nộp hồ sơ trực tuyến, thanh toán "
                         "trực tuyến; rà soát việc cung cấp dịch vụ công trực tuyến toàn trình, một phần.")

    evaluated = len(evaluation_rows)
    below = sorted((r for r in evaluation_rows if r["classification"] != best),
                   key=lambda r: (r["total"], r["position"]))
    if evaluated and not below:
        strengths.append(f"{whole(evaluated)}/{whole(evaluated)} cơ quan, Bộ phận Một cửa được đánh giá xếp loại "
                         f"{best}.")
    elif evaluated:
        top = evaluated - len(below)
        if top:
            strengths.append(f"{whole(top)}/{whole(evaluated)} cơ quan, Bộ phận Một cửa được đánh giá xếp loại {best}.")
        named = _names([f"{r['name']} ({pct(r['total'])} điểm, {r['classification']})" for r in below[:NAMED]])
        more = f" và {whole(len(below) - NAMED)} đơn vị khác" if len(below) > NAMED else ""
        weaknesses.append(f"{whole(len(below))}/{whole(evaluated)} cơ quan, Bộ phận Một cửa chưa đạt mức {best}; "
                          f"thấp nhất: {named}{more}.")
        proposals.append(f"Đề nghị {_names([r['name'] for r in below[:NAMED]])} kiểm tra, chấn chỉnh việc tiếp "
                         "nhận, giải quyết hồ sơ và thái độ phục vụ tại Bộ phận Một cửa; báo cáo kết quả khắc phục "
                         "trong kỳ tiếp theo.")

    if not weaknesses:
        weaknesses.append("Qua số liệu của kỳ báo cáo, không có hồ sơ quá hạn, không có cơ quan, đơn vị xếp loại "
                          f"dưới mức {best} và tỷ lệ hồ sơ trực tuyến đều đạt từ {pct(ONLINE_TARGET)}% trở lên.")
    proposals.append(f"Tiếp tục phối hợp với các sở, ban, ngành, {local_title} đẩy mạnh tuyên truyền, hướng dẫn người "
                     "dân, doanh nghiệp sử dụng dịch vụ công trực tuyến, giảm chi phí, thời gian đi lại; duy trì "
                     "việc số hóa hồ sơ, kết quả giải quyết thủ tục hành chính.")
    return {"strengths": strengths, "weaknesses": weaknesses, "proposals": proposals}


def _table_rows(sections: list[dict[str, Any]], unit_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of the handling table (Biểu số 01): each level's totals (TT I, II, …) followed by its units (1, 2, …)."""
    out: list[dict[str, Any]] = []
    for s in sections:
        a = s["all"]
        out.append({**a, "tt": s["roman"], "name": s["title"].capitalize(), "level_text": "",
                    "online_pct": s["online_share"]})
        units = [r for r in unit_rows if onestop.LEVEL_OF_UNIT.get(r["level"]) == s["key"]]
        out += [{**r, "tt": n} for n, r in enumerate(units, start=1)]
    return out


def quarterly_context(store: Store, period_text: str, *, letter_date: date, settings: ReportSettings
                      ) -> dict[str, Any]:
    period = parse_period(period_text)
    config = api.prepare(store)
    first, last = onestop.report_window(period, config)
    levels = onestop.report_levels(period.start)
    level_of = onestop.LEVEL_OF_UNIT
    rows = [r for r in onestop.handling_counts(store, first, last, config) if level_of.get(r["level"]) in levels]
    totals = onestop.level_totals(rows)
    evaluation = onestop.evaluate(store, first, last, config)
    units_evaluated = [u for u in evaluation["units"] if level_of.get(u["level"]) in levels]
    officers_evaluated = [o for o in evaluation["officers"] if level_of.get(o["level"]) in levels]
    band_list = onestop.bands(config)

    sections: list[dict[str, Any]] = []
    for key in levels:
        title, desk, agency_word = SECTIONS[key]
        if totals[key]["units"] == 0 and key != "centre":
            continue
        units = [u for u in units_evaluated if level_of.get(u["level"]) == key]
        officers = [o for o in officers_evaluated if level_of.get(o["level"]) == key]
        dossiers = sum(u["dossiers"] for u in units)
        score = (round_half_up(sum(u["total"] * u["dossiers"] for u in units) / dossiers, 2) if dossiers else None)
        sections.append({
            "key": key, "roman": ROMAN[len(sections)], "title": title, "desk": desk, "agency_word": agency_word,
            "level_word": LEVEL_WORD[key],
            "all": totals[key], "online": _strip_online(totals[key]), "online_share": totals[key]["online_share"],
            "score": score,
            "classification": onestop.band_of(score, band_list).classification if score is not None else "",
            "agencies": len(units),
            "agency_counts": [{"label": c, "count": n, "total": t} for c, n, t in onestop.classification_counts(units)],
            "officers": len(officers),  # one evaluation per official and unit
            "officer_units": len({o["unit_code"] for o in officers}),
            "officer_counts": [{"label": c, "count": n, "total": t}
                               for c, n, t in onestop.classification_counts(officers)],
        })

    names = {str(r[0]): str(r[1]) for r in store.con.execute("SELECT code, name FROM units").fetchall()}
    unit_rows = [{**r, "position": n, "level_text": LEVEL_TEXT.get(r["level"], r["level"]),
                  "online_pct": round(100.0 * r["online_total"] / r["total"], 4) if r["total"] else 0.0}
                 for n, r in enumerate(rows)]
    evaluation_rows = [{**u, "position": n, "level_text": LEVEL_TEXT.get(u["level"], u["level"])}
                       for n, u in enumerate(units_evaluated)]
    three = "district" in levels and totals["district"]["units"] > 0
    words = local_words(three)
    general = assessment(sections, unit_rows, evaluation_rows, band_list[0].classification, settings.numbers,
                         words["local_title"])
    return {
        **base_context(store, settings, period, letter_date), **words,
        "legal_basis": legal_basis(period.start),
        "window": {"first": first.strftime("%d/%m/%Y"), "last": last.strftime("%d/%m/%Y")},
        "sections": sections, "levels": totals,
        "strengths": general["strengths"], "weaknesses": general["weaknesses"], "proposals": general["proposals"],
        "general_roman": ROMAN[len(sections)], "proposal_roman": ROMAN[len(sections) + 1],
        "unit_rows": unit_rows,
        "table_rows": _table_rows(sections, unit_rows),
        "evaluation_rows": evaluation_rows,
        "officer_rows": [{**o, "unit_name": o.get("unit_name") or names.get(o["unit_code"], o["unit_code"])}
                         for o in officers_evaluated],
        "bands": evaluation["bands"],
    }
