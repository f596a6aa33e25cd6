"""The imported official figures beside the computed ones (kết quả chính thức bên cạnh kết quả tính), for every
scoring: kept apart from :mod:`chiso.official.importer` (which reads files and matches unit names) so that a scoring
imports nothing it does not use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chiso.rules.arithmetic import round_half_up
from chiso.store.db import Store

TOTAL_MAX = 100.0  # the index's scale: an official total on another scale is shown, not compared


def attach_official(store: Store, period: str, results: list[dict[str, Any]], places: int = 2) -> None:
    """Put the imported official total, rank and group scores beside the computed ones (in place): per unit
    ``official = {total, rank, rank_of, difference, groups: {G: {score, difference}}, source}``."""
    rows = store.con.execute(
        "SELECT r.unit_code, r.item, r.kind, r.score, r.max_score, r.rank, r.rank_of, i.file, r.locator "
        "FROM official_results r "
        "JOIN official_imports i ON i.import_id = r.import_id WHERE r.period = ? AND r.kind IN ('total', 'group')",
        [period]).fetchall()
    if not rows:
        return
    by_code = {r["code"]: r for r in results}
    for code, item, kind, score, max_score, rank, rank_of, file, locator in rows:
        r = by_code.get(str(code))
        if r is None or score is None:
            continue
        off = r.setdefault("official", {"total": None, "rank": None, "rank_of": None, "difference": None,
                                         "groups": {}, "source": None})
        if kind == "total":
            off.update(total=score, max=max_score, rank=rank, rank_of=rank_of,
                       source=f"{Path(str(file)).name}, {locator}")
            if max_score is None or float(max_score) == TOTAL_MAX:  # another scale is not compared
                off["difference"] = round_half_up(float(score) - float(r.get("computed_total", r["total"])), places)
        elif str(item) in r["groups"]:
            ours = r["groups"][item].get("computed_score", r["groups"][item]["score"])
            off["groups"][str(item)] = {"score": score, "max": max_score,
                                        "difference": round_half_up(float(score) - float(ours), places)}
