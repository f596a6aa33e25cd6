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
from chiso.textnorm import CONTROL


def vn_number(value: float | None, places: int = 2) -> str:
    """71.31 -> '71,31'; 13597 -> '13.597' (Vietnamese format)."""
    if value is None:
        return ""
    text = f"{value:,.{places}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", ".")


def to_json(results: list[dict[str, Any]]) -> str:
    return json.dumps(results, ensure_ascii=False, indent=1) + "\n"


def to_csv(results: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["unit_code", "unit_name", "level", "rule_set", "item", "numerator", "denominator", "ratio", "score",
                "max", "rank", "official_score", "provisional"])
    for r in results:
        base = [csv_text(r["code"]), csv_text(r["name"]), r["level"], csv_text(r["rule_set"])]
        w.writerow([*base, "TOTAL", "", "", "", r["total"], 100, r["rank"], "", r["provisional"]])
        for code, g in r["groups"].items():
            w.writerow([*base, csv_text(code), "", "", "", g["score"], g["max"], g.get("rank"), "", ""])
        for code, i in r["indicators"].items():
            w.writerow([*base, csv_text(code), _n(i["numerator"]), _n(i["denominator"]), _n(i["ratio"]), i["score"],
                        i["max"], "", _n(i.get("official_score")), i.get("provisional", False)])
    return buf.getvalue()


def _n(v: float | None) -> str:
    if v is None:
        return ""
    return str(int(v)) if float(v).is_integer() else str(v)




def _name(r: dict[str, Any]) -> str:
    """A unit's name (or code) for the terminal: shown as typed — no console markup ("[red]"), no control
    characters (terminal escape sequences)."""
    return escape(CONTROL.sub("", str(r["name"] or r["code"])))


def to_table(results: list[dict[str, Any]], rs: RuleSet, title: str) -> str:
    console = Console(width=170, record=True, file=io.StringIO())
    if len(results) == 1:
        r = results[0]
        t = Table(title=f"{title} — {_name(r)}: {vn_number(r['total'])} điểm, hạng {r['rank']}, "
                        f"{r['classification']}")
        for col in ("Chỉ số", "Tử số", "Mẫu số", "Tỷ lệ %", "Điểm", "Tối đa"):
            t.add_column(col, justify="left" if col == "Chỉ số" else "right")
        for g in rs.groups:
            gr = r["groups"][g.code]
            t.add_row(f"[bold]{g.code} {g.name}[/]", "", "", "", f"[bold]{vn_number(gr['score'])}[/]",
                      vn_number(gr["max"]))
            for ind in rs.group_indicators(g.code):
                i = r["indicators"][ind.code]
                mark = " (tạm tính)" if i.get("provisional") else (" (chính thức)" if "official_score" in i else "")
                ratio = "" if i["ratio"] is None else vn_number(i["ratio"] * 100)
                t.add_row(f"  {ind.code}{mark}", vn_number(i["numerator"], 0) if i["numerator"] is not None else "",
                          vn_number(i["denominator"], 0) if i["denominator"] is not None else "", ratio,
                          vn_number(i["score"]), vn_number(i["max"]))
        console.print(t)
    else:
        t = Table(title=title)
        t.add_column("Hạng", justify="right")
        t.add_column("Đơn vị")
        for g in rs.groups:
            t.add_column(f"{g.code}\n/{vn_number(g.max, 0)}", justify="right")
        t.add_column("Tổng", justify="right")
        t.add_column("Xếp loại")
        for r in sorted(results, key=lambda x: (x["level"], x["rank"] or 0, x["code"])):
            t.add_row(str(r["rank"]), _name(r),
                      *(vn_number(r["groups"][g.code]["score"]) for g in rs.groups),
                      vn_number(r["total"]), r["classification"])
        console.print(t)
    for r in results:
        pub = r.get("since_publication")
        if pub and (pub["change"] or pub["dossiers_added"] or pub["dossiers_changed"] or pub["dossiers_removed"]):
            change = pub["change"] or 0.0
            console.print(f"{_name(r)}: đã công bố {vn_number(pub['published_total'])} điểm lúc "
                          f"{pub['published_at']}; nay {'+' if change >= 0 else ''}{vn_number(change)} điểm do "
                          f"{pub['dossiers_added']} hồ sơ mới, {pub['dossiers_changed']} hồ sơ thay đổi, "
                          f"{pub['dossiers_removed']} hồ sơ không còn tính.")
    if any(r["provisional"] for r in results):
        console.print("(tạm tính) ONLINE_FULL_PROCESS: cách quy đổi điểm của Cổng DVCQG chưa được công bố; "
                      "điểm tạm tính = 12 × tỷ lệ, sẽ thay bằng số chính thức khi nhập.")
    text: str = console.export_text()
    return text


def render(results: list[dict[str, Any]], rs: RuleSet, fmt: str, title: str) -> str:
    """``fmt``: json | csv | table."""
    if fmt == "json":
        return to_json(results)
    if fmt == "csv":
        return to_csv(results)
    return to_table(results, rs, title)
