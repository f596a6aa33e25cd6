"""Rendering unit results for the terminal and for files: JSON (stable shape), CSV (long), table.

Unit names and codes are data: in CSV a text cell that starts with a formula prefix is neutralised
(:func:`chiso.outputs.csv_text`); in the table they are shown as typed (no console markup, no control
characters)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from chiso.outputs import csv_text
from chiso.rules.model import RuleSet
from chiso.scoring.results import CAUSES
from chiso.textnorm import CONTROL


def vn_number(value: float | None, places: int = 2) -> str:
    """71.31 -> '71,31'; 13597 -> '13.597' (Vietnamese format)."""
    from chiso import vnformat

    return vnformat.number(value, places)


def to_json(results: list[dict[str, Any]]) -> str:
    return json.dumps(results, ensure_ascii=False, indent=1) + "\n"


Previous = dict[str, dict[str, Any]]  # unit code -> that unit's results of the previous period


def long_rows(results: list[dict[str, Any]], rs: RuleSet | None = None,
              previous: Previous | None = None) -> list[dict[str, Any]]:
    """One row per unit and item (TOTAL, each group, each indicator), with the item's Vietnamese name and its
    score in the previous period and the change, when known."""
    names = {} if rs is None else {**{g.code: g.name for g in rs.groups}, **{i.code: i.name for i in rs.indicators}}
    out: list[dict[str, Any]] = []
    for r in results:
        before = (previous or {}).get(r["code"])
        base = {"unit_code": r["code"], "unit_name": r["name"], "level": r["level"], "rule_set": r["rule_set"]}

        def change(now: float | None, then: float | None) -> float | None:
            return None if now is None or then is None else round(now - then, 2)

        prev_total = r.get("previous_total")
        out.append(base | {"item": "TOTAL", "item_name": "Tổng điểm", "numerator": None, "denominator": None,
                           "ratio": None, "score": r["total"], "max": 100, "rank": r["rank"], "official_score": None,
                           "provisional": r["provisional"], "previous_score": prev_total,
                           "change": change(r["total"], prev_total)})
        for code, g in r["groups"].items():
            then = before["groups"].get(code, {}).get("score") if before else None
            out.append(base | {"item": code, "item_name": names.get(code, ""), "numerator": None,
                               "denominator": None, "ratio": None, "score": g["score"], "max": g["max"],
                               "rank": g.get("rank"), "official_score": None, "provisional": None,
                               "previous_score": then, "change": change(g["score"], then)})
        for code, i in r["indicators"].items():
            then = before["indicators"].get(code, {}).get("score") if before else None
            out.append(base | {"item": code, "item_name": names.get(code, ""), "numerator": i["numerator"],
                               "denominator": i["denominator"], "ratio": i["ratio"], "score": i["score"],
                               "max": i["max"], "rank": None, "official_score": i.get("official_score"),
                               "provisional": i.get("provisional", False), "previous_score": then,
                               "change": change(i["score"], then)})
    return out


CSV_COLUMNS = ["unit_code", "unit_name", "level", "rule_set", "item", "numerator", "denominator", "ratio", "score",
               "max", "rank", "official_score", "provisional", "item_name", "previous_score", "change"]


def to_csv(results: list[dict[str, Any]], rs: RuleSet | None = None, previous: Previous | None = None) -> str:
    """The long CSV: the columns of the first version, then the item's name, the previous period's score and the
    change (added at the end, so scripts reading the first columns keep working)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    numeric = {"numerator", "denominator", "ratio", "official_score", "previous_score", "change"}
    for row in long_rows(results, rs, previous):
        w.writerow([_n(row[c]) if c in numeric else ("" if row[c] is None else csv_text(row[c]))
                    for c in CSV_COLUMNS])
    return buf.getvalue()


def _n(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else str(v)




def _name(r: dict[str, Any]) -> str:
    """A unit's name (or code) for the terminal: shown as typed — no console markup ("[red]"), no control
    characters (terminal escape sequences)."""
    return escape(CONTROL.sub("", str(r["name"] or r["code"])))


def _signed(value: float | None) -> str:
    if value is None:
        return ""
    return ("+" if value > 0 else "") + vn_number(value)


def to_table(results: list[dict[str, Any]], rs: RuleSet, title: str, previous: Previous | None = None) -> str:
    console = Console(width=190, record=True, file=io.StringIO())
    if len(results) == 1:
        r = results[0]
        before = (previous or {}).get(r["code"])
        change = "" if r.get("change") is None else f", {_signed(r['change'])} so với kỳ trước"
        off = r.get("official") or {}
        official = bool(off) or any("official_score" in i or "official_rule_score" in i
                                    for i in r["indicators"].values())
        if off.get("total") is not None:
            rank = f", hạng {off['rank']}" + (f"/{off['rank_of']}" if off.get("rank_of") else "") if off.get(
                "rank") else ""
            change += f"; chính thức {vn_number(off['total'])} điểm{rank}, chênh lệch {_signed(off['difference'])}"
        t = Table(title=f"{title} — {_name(r)}: {vn_number(r['total'])} điểm, hạng {r['rank']}, "
                        f"{r['classification']}{change}")
        extra = ("Tính từ dữ liệu", "Cổng DVCQG", "Chênh lệch", "Nguyên nhân") if official else ()
        for col in ("Chỉ số", "Tên chỉ số", "Tử số", "Mẫu số", "Tỷ lệ %", "Điểm", "Tối đa", "Kỳ trước", "Thay đổi",
                    *extra):
            t.add_column(col, justify="left" if col in ("Chỉ số", "Tên chỉ số", "Nguyên nhân") else "right",
                         max_width=60 if col == "Tên chỉ số" else (28 if col == "Nguyên nhân" else None))
        for g in rs.groups:
            gr = r["groups"][g.code]
            then = before["groups"].get(g.code, {}).get("score") if before else None
            cells = []
            if official:
                theirs = (off.get("groups") or {}).get(g.code, {}).get("score")
                ours = gr.get("computed_score", gr["score"])
                cells = [vn_number(ours), vn_number(theirs),
                         _signed(None if theirs is None else round(theirs - ours, 2)), ""]
            t.add_row(f"[bold]{g.code}[/]", f"[bold]{escape(g.name)}[/]", "", "", "",
                      f"[bold]{vn_number(gr['score'])}[/]", vn_number(gr["max"]), vn_number(then),
                      _signed(None if then is None else round(gr["score"] - then, 2)), *cells)
            for ind in rs.group_indicators(g.code):
                i = r["indicators"][ind.code]
                mark = " (tạm tính)" if i.get("provisional") else (" (chính thức)" if "official_score" in i else "")
                ratio = "" if i["ratio"] is None else vn_number(i["ratio"] * 100)
                then = before["indicators"].get(ind.code, {}).get("score") if before else None
                cells = []
                if official:
                    theirs = i.get("official_score", i.get("official_rule_score"))
                    ours = i.get("computed_score", i["score"])
                    cells = [vn_number(ours), vn_number(theirs),
                             _signed(None if theirs is None else round(theirs - ours, 2)),
                             CAUSES.get(i.get("cause", ""), "")]
                t.add_row(f"  {ind.code}{mark}", escape(ind.name),
                          vn_number(i["numerator"], 0) if i["numerator"] is not None else "",
                          vn_number(i["denominator"], 0) if i["denominator"] is not None else "", ratio,
                          vn_number(i["score"]), vn_number(i["max"]), vn_number(then),
                          _signed(None if then is None else round(i["score"] - then, 2)), *cells)
        console.print(t)
    else:
        t = Table(title=title)
        t.add_column("Hạng", justify="right")
        t.add_column("Đơn vị")
        for g in rs.groups:
            t.add_column(f"{g.code}\n/{vn_number(g.max, 0)}", justify="right")
        t.add_column("Tổng", justify="right")
        t.add_column("Kỳ trước", justify="right")
        t.add_column("Thay đổi", justify="right")
        t.add_column("Xếp loại")
        official = any(r.get("official") for r in results)
        if official:
            t.add_column("Chính thức", justify="right")
            t.add_column("Chênh lệch", justify="right")
        for r in sorted(results, key=lambda x: (x["level"], x["rank"] or 0, x["code"])):
            off = r.get("official") or {}
            t.add_row(str(r["rank"]), _name(r),
                      *(vn_number(r["groups"][g.code]["score"]) for g in rs.groups),
                      vn_number(r["total"]), vn_number(r.get("previous_total")), _signed(r.get("change")),
                      r["classification"],
                      *((vn_number(off.get("total")), _signed(off.get("difference"))) if official else ()))
        console.print(t)
    for r in results:
        pub = r.get("since_publication")
        if pub and (pub["change"] or pub["dossiers_added"] or pub["dossiers_changed"] or pub["dossiers_removed"]):
            since = float(pub["change"] or 0.0)
            console.print(f"{_name(r)}: đã công bố {vn_number(pub['published_total'])} điểm lúc "
                          f"{pub['published_at']}; nay {'+' if since >= 0 else ''}{vn_number(since)} điểm do "
                          f"{pub['dossiers_added']} hồ sơ mới, {pub['dossiers_changed']} hồ sơ thay đổi, "
                          f"{pub['dossiers_removed']} hồ sơ không còn tính.")
    if any(r["provisional"] for r in results):
        console.print("(tạm tính) ONLINE_FULL_PROCESS: cách quy đổi điểm của Cổng DVCQG chưa được công bố; "
                      "điểm tạm tính = 12 × tỷ lệ, sẽ thay bằng số chính thức khi nhập.")
    text: str = console.export_text()
    return text


def render(results: list[dict[str, Any]], rs: RuleSet, fmt: str, title: str, previous: Previous | None = None) -> str:
    """``fmt``: json | csv | table."""
    if fmt == "json":
        return to_json(results)
    if fmt == "csv":
        return to_csv(results, rs, previous)
    return to_table(results, rs, title, previous)


def sheets(results: list[dict[str, Any]], rs: RuleSet, previous: Previous | None = None) -> list[Any]:
    """The workbook of ``chiso score --format xlsx``: a ranking sheet (one row per unit) and a detail sheet (one
    row per unit and item), Vietnamese headers, numbers numeric."""
    from chiso.tabular import Col

    ranking_cols = [Col("rank", "Hạng", "int"), Col("code", "Mã đơn vị"), Col("name", "Tên đơn vị"),
                    Col("level_name", "Cấp"),
                    *(Col(f"g_{g.code}", f"{g.name} (/{g.max:g})", "number") for g in rs.groups),
                    Col("total", "Tổng điểm", "number"), Col("previous_total", "Kỳ trước", "number"),
                    Col("change", "Thay đổi", "number"), Col("classification", "Xếp loại")]
    levels = {"province": "Tỉnh", "department": "Sở, ngành", "district": "Huyện", "commune": "Xã, phường"}
    ranking = [{"rank": r["rank"], "code": r["code"], "name": r["name"],
                "level_name": levels.get(r["level"], r["level"]),
                **{f"g_{g.code}": r["groups"][g.code]["score"] for g in rs.groups}, "total": r["total"],
                "previous_total": r.get("previous_total"), "change": r.get("change"),
                "classification": r["classification"]}
               for r in sorted(results, key=lambda x: (x["level"], x["rank"] or 0, x["code"]))]
    detail_cols = [Col("unit_code", "Mã đơn vị"), Col("unit_name", "Tên đơn vị"), Col("item", "Mã mục"),
                   Col("item_name", "Tên mục"), Col("numerator", "Tử số", "number", 0),
                   Col("denominator", "Mẫu số", "number", 0), Col("ratio", "Tỷ lệ", "percent"),
                   Col("score", "Điểm", "number"), Col("max", "Tối đa", "number"), Col("rank", "Hạng", "int"),
                   Col("previous_score", "Kỳ trước", "number"), Col("change", "Thay đổi", "number")]
    return [("Xếp hạng", ranking_cols, ranking), ("Chi tiết", detail_cols, long_rows(results, rs, previous))]
