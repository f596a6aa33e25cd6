"""A unit's trend across the 2025 reorganisation (diễn biến qua sắp xếp đơn vị hành chính).

A commune created on 1/7/2025 has no past of its own; its predecessors (the old communes whose ``successor_code``
is the new one, and theirs in turn) do. Their results are kept as they were — official results imported from the
letters of the time, and chiso's own published results — and shown beside the new unit's, period by period, so a
commune's page and ``chiso score --history`` show one trend through the old→new mapping. Nothing is merged or
averaged: each row is one unit's own figure in its own period.
"""

from __future__ import annotations

import json
from typing import Any

from chiso.store.db import Store
from chiso.store.rows import first_row


def predecessors(store: Store, code: str) -> list[dict[str, Any]]:
    """Every unit whose successor chain leads to ``code`` (nearest first)."""
    out: list[dict[str, Any]] = []
    frontier = [code]
    seen = {code}
    while frontier:
        marks = ", ".join("?" for _ in frontier)
        rows = store.con.execute(
            f"SELECT code, name, level, valid_to, successor_code FROM units WHERE successor_code IN ({marks}) "
            "ORDER BY code", frontier).fetchall()
        frontier = []
        for c, name, level, valid_to, succ in rows:
            if c in seen:
                continue
            seen.add(c)
            frontier.append(c)
            out.append({"code": str(c), "name": name, "level": level, "valid_to": valid_to, "successor_code": succ})
    return out


def unit_history(store: Store, code: str) -> dict[str, Any]:
    """``{unit, predecessors, points}``: one point per period and unit (the unit or a predecessor) with the
    official total and rank when imported and chiso's published total when published."""
    unit = first_row(store.con.execute("SELECT code, name, level FROM units WHERE code = ?", [code]))
    if unit is None:
        raise KeyError(f"không có đơn vị mã {code}")
    before = predecessors(store, code)
    names = {code: unit[1], **{p["code"]: p["name"] for p in before}}
    codes = list(names)
    marks = ", ".join("?" for _ in codes)
    points: dict[tuple[str, str], dict[str, Any]] = {}

    def point(period: str, unit_code: str) -> dict[str, Any]:
        return points.setdefault((period, unit_code), {
            "period": period, "unit_code": unit_code, "unit_name": names[unit_code],
            "predecessor": unit_code != code, "official_total": None, "official_rank": None,
            "official_rank_of": None, "published_total": None, "published_rank": None})

    for period, unit_code, score, rank, rank_of in store.con.execute(
            f"SELECT period, unit_code, score, rank, rank_of FROM official_results WHERE kind = 'total' "
            f"AND unit_code IN ({marks})", codes).fetchall():
        point(str(period), str(unit_code)).update(official_total=score, official_rank=rank, official_rank_of=rank_of)
    latest = store.con.execute(
        "SELECT p.period, p.results FROM publications p JOIN (SELECT period, max(publication_id) AS id "
        "FROM publications GROUP BY period) l ON l.id = p.publication_id").fetchall()
    wanted = set(codes)
    for period, results in latest:
        for r in json.loads(results):
            if r.get("code") in wanted:
                point(str(period), str(r["code"])).update(published_total=r.get("total"), published_rank=r.get("rank"))
    ordered = sorted(points.values(), key=lambda p: (p["period"], p["predecessor"] is False, p["unit_code"]))
    return {"unit": {"code": code, "name": unit[1], "level": unit[2]}, "predecessors": before, "points": ordered}
