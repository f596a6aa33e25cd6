"""The quarterly one-stop report (báo cáo đánh giá việc giải quyết TTHC theo cơ chế một cửa, seed ``001_…``):
per level — the provincial Public Administration Service Centre (departments), districts, communes — the
handling counts and the nine-indicator evaluation of agencies, one-stop desks and officials
(:mod:`chiso.reports.onestop`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from chiso import api
from chiso.reports import onestop
from chiso.reports.common import LEVEL_TEXT, ROMAN, ReportSettings, base_context, local_words
from chiso.rules.arithmetic import round_half_up
from chiso.scoring.period import parse_period
from chiso.store.db import Store

SECTIONS = {
    "centre": ("CẤP TỈNH", "Trung tâm Phục vụ hành chính công tỉnh", "cơ quan"),
    "district": ("CẤP HUYỆN", "Bộ phận Một cửa cấp huyện", "BPMC"),
    "commune": ("CẤP XÃ", "Bộ phận Một cửa cấp xã", "BPMC"),
}


def _strip_online(totals: dict[str, Any]) -> dict[str, Any]:
    return {k.removeprefix("online_"): v for k, v in totals.items() if k.startswith("online_")}


def quarterly_context(store: Store, period_text: str, *, letter_date: date, settings: ReportSettings
                      ) -> dict[str, Any]:
    period = parse_period(period_text)
    config = api.prepare(store)
    first, last = onestop.report_window(period, config)
    rows = onestop.handling_counts(store, first, last, config)
    totals = onestop.level_totals(rows)
    evaluation = onestop.evaluate(store, first, last, config)
    band_list = onestop.bands(config)
    level_of = onestop.LEVEL_OF_UNIT

    sections: list[dict[str, Any]] = []
    for key, (title, desk, agency_word) in SECTIONS.items():
        if totals[key]["units"] == 0 and key != "centre":
            continue
        units = [u for u in evaluation["units"] if level_of.get(u["level"]) == key]
        officers = [o for o in evaluation["officers"] if level_of.get(o["level"]) == key]
        dossiers = sum(u["dossiers"] for u in units)
        score = (round_half_up(sum(u["total"] * u["dossiers"] for u in units) / dossiers, 2) if dossiers else None)
        sections.append({
            "key": key, "roman": ROMAN[len(sections)], "title": title, "desk": desk, "agency_word": agency_word,
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

    nf = settings.numbers
    general = []
    for s in sections:
        a = s["all"]
        general.append(f"{s['desk']}: {nf.fixed(a['early_pct'] + a['on_time_pct'])}% hồ sơ đã giải quyết trước "
                       f"hạn và đúng hạn; {nf.integer(a['late'])} hồ sơ giải quyết quá hạn, "
                       f"{nf.integer(a['in_progress_late'])} hồ sơ đang giải quyết quá hạn; tỷ lệ hồ sơ trực tuyến "
                       f"{nf.fixed(s['online_share'])}%.")
    general += [f"Lưu ý về phương pháp: {note}" for note in evaluation["provisional"]]

    names = {str(r[0]): str(r[1]) for r in store.con.execute("SELECT code, name FROM units").fetchall()}
    unit_rows = [{**r, "level_text": LEVEL_TEXT.get(r["level"], r["level"]),
                  "online_pct": round(100.0 * r["online_total"] / r["total"], 4) if r["total"] else 0.0}
                 for r in rows]
    three = totals["district"]["units"] > 0
    return {
        **base_context(store, settings, period, letter_date), **local_words(three),
        "window": {"first": first.strftime("%d/%m/%Y"), "last": last.strftime("%d/%m/%Y")},
        "sections": sections, "levels": totals, "general": general,
        "general_roman": ROMAN[len(sections)], "proposal_roman": ROMAN[len(sections) + 1],
        "unit_rows": unit_rows,
        "evaluation_rows": [{**u, "level_text": LEVEL_TEXT.get(u["level"], u["level"])} for u in evaluation["units"]],
        "officer_rows": [{**o, "unit_name": o.get("unit_name") or names.get(o["unit_code"], o["unit_code"])}
                         for o in evaluation["officers"]],
        "bands": evaluation["bands"],
    }
