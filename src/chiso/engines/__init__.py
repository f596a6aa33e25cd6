"""Where the rules run (máy tính toán): the embedded DuckDB store, PostgreSQL, or Apache Spark.

chiso's status and index rules are SQL written once, in the subset DuckDB and PostgreSQL share
(:mod:`chiso.store.dialect`). Spark runs the same statements, transpiled by SQLGlot from that subset
(:mod:`chiso.engines.transpile`) — never a hand-written fork of a query. What an engine reads:

* the workspace's store (the default: DuckDB, or PostgreSQL with ``--database``);
* a data lake of Parquet tables written by ``chiso export --format parquet`` (:mod:`chiso.engines.lake`), with
  ``--lake PATH``: one folder per table, dossiers partitioned by province and month. DuckDB reads it in memory;
  Spark reads it on its cluster (``--spark-master``) or in local mode.

:func:`compute_store` gives the store the scoring and status code runs on; it has the same surface
(``con.execute``, ``con.sql``) whatever the engine.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path
from typing import Any

ENGINES = ("duckdb", "postgres", "spark")


class EngineError(ValueError):
    """An engine that cannot run what was asked, said in Vietnamese."""


def is_uri(lake: str | Path) -> bool:
    return "://" in str(lake)


def compute_store(store: Any, engine: str | None = None, *, lake: str | Path | None = None,
                  spark_master: str | None = None) -> Any:
    """The store the rules run on: ``store`` itself (its own engine, no lake), an in-memory DuckDB over a lake,
    or a Spark session over a lake (the workspace's tables exported to a temporary lake when none is given).
    The store is prepared first (calendar, deadline rules), so the derived tables travel with the data."""
    from chiso import api
    from chiso.store.db import Store

    engine = engine or store.dialect
    if engine not in ENGINES:
        raise EngineError(f"không có máy tính toán '{engine}' (có: {', '.join(ENGINES)})")
    if engine == "postgres" and (lake is not None or store.dialect != "postgres"):
        raise EngineError("--engine postgres tính trên kho PostgreSQL của --database URL (không đọc kho Parquet): "
                          "dùng --engine duckdb hoặc spark cho --lake")
    if lake is None and engine == store.dialect:
        return store
    if engine == "duckdb":
        if lake is None:
            raise EngineError("--engine duckdb trên kho PostgreSQL: xuất kho Parquet (chiso export --format "
                              "parquet) rồi dùng --lake")
        if is_uri(lake):
            raise EngineError(f"DuckDB đọc kho Parquet trên đĩa của máy này, không đọc '{lake}': dùng --engine spark")
        from chiso.engines.lake import open_duckdb

        return Store(store.workspace, open_duckdb(Path(lake), store.workspace), "duckdb", derived_ready=True)
    # Spark
    from chiso.config import load_config
    from chiso.engines.lake import export, manifest

    if lake is not None and not is_uri(lake):
        lake = Path(lake)
        manifest(lake)  # a wrong folder is said before the Spark session starts
    from chiso.engines.spark import SparkConnection, SparkSettings, session

    config = load_config(store.workspace)
    settings = SparkSettings.from_config(config.spark, spark_master)
    if lake is None:
        api.prepare(store)
        folder = Path(tempfile.mkdtemp(prefix="chiso-lake-"))
        atexit.register(shutil.rmtree, folder, True)
        lake = export(store, folder / "lake").path
    con = SparkConnection(session(settings))
    con.register_lake(lake)
    return Store(store.workspace, con, "spark", derived_ready=True)
