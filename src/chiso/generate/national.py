"""The national generator (sinh dữ liệu cả nước): all 34 provinces, written straight into a data lake.

``chiso generate --national --out LAKE`` makes, province after province, the same realistic dossiers as
:func:`chiso.generate.province.generate_province` (its chunks, its calibration, its dirt), and writes them as a
lake laid out like ``chiso export --format parquet`` (:mod:`chiso.engines.lake`): dossiers partitioned by province
and month, the other tables beside them, the derived tables (working-day calendars, deadline rules) included. A
national team can score it at once: ``chiso score --engine duckdb|spark --lake LAKE``.

* **The values are the loader's.** Each chunk of text is typed by the loader's own parsing SQL
  (:func:`chiso.load.validate.typed_select`) and hashed as the loader hashes rows, so the lake holds what loading
  the generated files into a store and exporting it would hold, without the hours that would take at 10⁸ rows.
* **Bounded memory.** One province's world (units, procedures, calendar) and one chunk of 200,000 dossiers are in
  memory at a time; each chunk is written to its own Parquet file and dropped.
* **Volumes.** A province's dossiers are Sơn La's calibrated volume (seed 003) scaled by its number of communes
  and wards against Sơn La's 75: a simple and stated approximation (docs/scale.md). ``--scale`` multiplies it.
* **Deterministic** for a seed: each province draws from its own seeded streams.
"""

from __future__ import annotations

import calendar as stdcal
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from chiso.engines import lake as lakes
from chiso.generate.province import (
    GeneratorError,
    _chunk,
    _feedback,
    _indicator_inputs,
    _month_chunks,
    _world,
    months,
)
from chiso.load.contract import TABLES
from chiso.load.loader import _hash_expr
from chiso.load.validate import q, typed_select
from chiso.status.stored_due import DERIVED_COLUMNS
from chiso.units import catalog

REFERENCE_PROVINCE = "Sơn La"  # the province the generator is calibrated on (seeds 001–003)
SHARED_KEYS = {"calendar_days": "calendar_key = ''", "deadline_rules": "province_code = ''"}  # once per lake


def provinces(names: Sequence[str] = ()) -> list[Any]:
    """The provinces asked for (all 34 when none), in the order of their codes."""
    from vietnam_provinces import Province

    chosen = [catalog.find_province(n) for n in names] if names else list(Province.iter_all())
    return sorted({p.code.value: p for p in chosen}.values(), key=lambda p: p.code.value)


def communes(p: Any) -> int:
    return sum(1 for u in catalog.province_rows(p) if u.level == "commune")


def generate_national(out: Path, start: str, end: str, *, scale: float = 1.0, seed: int = 1,
                      only: Sequence[str] = (), progress: Callable[[int, int], None] | None = None
                      ) -> lakes.Exported:
    """Write the lake at ``out`` (staged, like an export: an existing lake there is replaced whole, any other
    folder refused). ``progress(done, total)`` after each chunk of dossiers. Returns the rows per table."""
    if scale <= 0:
        raise GeneratorError("--scale phải lớn hơn 0")
    month_list = months(start, end)
    chosen = provinces(only)
    reference = communes(catalog.find_province(REFERENCE_PROVINCE))
    plan = [(p, scale * communes(p) / reference) for p in chosen]
    total = sum(len(month_list) * len(_month_chunks(s)) for _, s in plan)
    last = month_list[-1]
    export_at = datetime(last.year, last.month, stdcal.monthrange(last.year, last.month)[1], 23, 59, 59)

    def write(target: Path) -> tuple[dict[str, int], dict[str, Any]]:
        rows = dict.fromkeys(lakes.TABLES, 0)
        for table in lakes.TABLES:
            (target / table).mkdir()
        done = 0
        for number, (p, province_scale) in enumerate(plan):
            prov = catalog.province_code(p)
            world = _world(p.name, month_list[0], seed)
            con = world.con
            try:
                for month in month_list:
                    for index, (first, size) in enumerate(_month_chunks(province_scale)):
                        dossiers, pauses = _chunk(world, month, index, first, size, seed, export_at, prov)
                        folder = target / "dossiers" / f"province={prov}" / f"month={month:%Y-%m}"
                        folder.mkdir(parents=True, exist_ok=True)
                        rows["dossiers"] += _typed_copy(con, "dossiers", dossiers, folder / f"data_{index}.parquet")
                        rows["pauses"] += _typed_copy(con, "pauses", pauses, target / "pauses" /
                                                      f"data_{prov}_{month:%Y%m}_{index}.parquet")
                        done += 1
                        if progress is not None:
                            progress(done, total)
                rows["feedback"] += _typed_copy(con, "feedback", _feedback(world, month_list, province_scale, seed,
                                                                           export_at, prov), target / "feedback" /
                                                f"data_{prov}.parquet")
                rows["indicator_inputs"] += _typed_copy(con, "indicator_inputs", _indicator_inputs(
                    world, month_list, seed, prov), target / "indicator_inputs" / f"data_{prov}.parquet")
                # this province publishes these procedures (they are its own: codes end in H<province>)
                con.execute("INSERT INTO procedure_scope SELECT code, ? FROM procedures", [prov]).fetchall()
                for table in ("units", "procedures", "procedure_scope", "calendar_days", "deadline_rules",
                              "evaluations"):
                    # the national calendar and the default deadline rule: written with the first province only
                    keep = f" WHERE NOT ({SHARED_KEYS[table]})" if table in SHARED_KEYS and number else ""
                    rows[table] += _copy(con, f"SELECT * FROM {table}{keep}", target / table / f"data_{prov}.parquet")
            finally:
                con.close()
        return rows, {"generated": {"national": not only, "provinces": [catalog.province_code(p) for p in chosen],
                                    "from": start, "to": end, "scale": scale, "seed": seed}}

    return lakes._staged(out, write)


def _copy(con: Any, select: str, path: Path) -> int:
    con.execute(f"COPY ({select}) TO '{lakes._sql_path(path)}' (FORMAT parquet, COMPRESSION zstd)").fetchall()
    return int(con.execute(f"SELECT count(*) FROM ({select})").fetchall()[0][0])


def _typed_copy(con: Any, table: str, frame: pa.Table, path: Path) -> int:
    """``frame`` (the generator's text, as in its files) typed and hashed as the loader would store it, written
    in the store's column order to ``path``."""
    contract = TABLES[table]
    present = [c for c in frame.column_names if c in contract.names]
    con.register("gen_text", frame)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE stg AS SELECT CAST(row_number() OVER () AS BIGINT) AS _row, "
                    "CAST(NULL AS VARCHAR) AS _bad_col, CAST(NULL AS VARCHAR) AS _bad, "
                    + ", ".join(f"CAST({q(c)} AS VARCHAR) AS {q(c)}" for c in present) + " FROM gen_text")
    finally:
        con.unregister("gen_text")
    names = list(contract.names)
    values = ", ".join(f"{q('v_' + c)} AS {q(c)}" for c in names)
    extra = ", v_due_at AS original_due_at" if table == "dossiers" else ""
    con.execute(f"DELETE FROM {table}")
    con.execute(f"INSERT INTO {table} BY NAME SELECT {values}{extra}, {_hash_expr(names)} AS row_hash, "
                f"CAST(0 AS BIGINT) AS load_id FROM ({typed_select(contract, present)}) t")
    con.execute("DROP TABLE stg").fetchall()
    derived = f" EXCLUDE ({', '.join(DERIVED_COLUMNS)})" if table == "dossiers" else ""  # as chiso export writes
    return _copy(con, f"SELECT *{derived} FROM {table}", path)
