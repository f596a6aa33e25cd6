"""What-if without data (tính thử): score units from ``indicator_inputs`` rows alone."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from chiso.load.loader import Loader
from chiso.rules.model import RuleSet
from chiso.scoring.results import IndicatorValue, UnitInput, assemble
from chiso.store.db import Store


def read_inputs(path: Path) -> list[tuple[str, str, str, float | None, float | None, float | None]]:
    """The rows of an indicator_inputs file, validated by the loader (located errors on bad rows)."""
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp))
        try:
            Loader(store).load([path], "indicator_inputs")
            rows = store.con.execute(
                "SELECT period, unit_code, indicator, numerator, denominator, score FROM indicator_inputs "
                "ORDER BY unit_code, indicator").fetchall()
        finally:
            store.close()
    return [(str(r[0]), str(r[1]), str(r[2]), r[3], r[4], r[5]) for r in rows]


def simulate(rs: RuleSet, path: Path, names: dict[str, tuple[str, str, str | None]] | None = None
             ) -> list[dict[str, Any]]:
    groups = {g.code for g in rs.groups}
    known = {i.code for i in rs.indicators}
    units: dict[str, UnitInput] = {}
    unknown: list[str] = []
    for _, unit, code, num, den, score in read_inputs(path):
        name, level, parent = (names or {}).get(unit, ("", "", None))
        u = units.setdefault(unit, UnitInput(unit, name, level, parent, peer_key=level or "-"))
        if code in groups:
            if score is None:
                unknown.append(f"{unit}: nhóm {code} cần cột score")
            else:
                u.official_groups[code] = score
        elif code in known:
            u.values[code] = IndicatorValue(num, den, score)
        else:
            unknown.append(f"{unit}: chỉ số '{code}' không có trong bộ quy tắc {rs.name}")
    if unknown:
        raise ValueError("; ".join(unknown))
    return assemble(rs, list(units.values()))
