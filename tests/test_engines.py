"""The same rules on every engine (issue 13): the demo's generated province, scored and given a status by the
embedded DuckDB store, by DuckDB over the exported Parquet lake, and by Apache Spark (local mode) over the
workspace and over the lake — unit by unit, indicator by indicator, dossier by dossier, at every level.

The expected values are the embedded engine's: the rules are checked against hand-worked figures elsewhere
(test_scoring, test_status); here what could fail is the transpiled SQL, the lake's layout and types (timestamps
without a zone, partition columns), and the Spark adapter. Spark needs PySpark and Java: the test fails without
them when CI=true (``make test`` installs the ``spark`` extra), and is skipped elsewhere.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from chiso.cli import main
from chiso.engines.lake import MANIFEST, TABLES
from chiso.engines.transpile import to_dialect
from chiso.status.stored_due import DERIVED_COLUMNS
from conftest import require, require_module

AS_OF = "2025-09-30 17:00"


def chiso(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str) -> str:
    code, out, err = chiso(*args)
    assert code == 0, f"chiso {' '.join(args)} → {code}: {err}"
    return out


@dataclass
class Demo:
    ws: list[str]
    lake: Path
    root: Path


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The demo's province (Sơn La, July–September 2025, seed 1 as `make demo`), at a quarter of its volume, loaded
    into a workspace and exported as a lake."""
    root = tmp_path_factory.mktemp("engines")
    gen = root / "gen"
    ok("generate", "--province", "Sơn La", "--from", "2025-07", "--to", "2025-09", "--seed", "1", "--scale", "0.25",
       "--out", str(gen))
    ws = ["-w", str(root / "ws")]
    ok(*ws, "units", "init", "--province", "Sơn La")
    ok(*ws, "load", *sorted(str(p) for p in gen.iterdir()))
    lake = root / "lake"
    ok(*ws, "export", "--format", "parquet", "--out", str(lake))
    yield Demo(ws, lake, root)


def scores(demo: Demo, *engine: str) -> dict[str, Any]:
    rows = json.loads(ok(*demo.ws, "score", "--period", "2025-09", "--as-of", AS_OF, "--format", "json", *engine))
    return {r["code"]: r for r in rows}


def test_the_lake_holds_every_table_with_dossiers_by_province_and_month(demo: Demo) -> None:
    info = json.loads((demo.lake / MANIFEST).read_text(encoding="utf-8"))
    assert info["format"] == "chiso-lake-1" and set(info["tables"]) == set(TABLES)
    months = sorted(p.name for p in (demo.lake / "dossiers" / "province=14").iterdir())
    assert months == ["month=2025-07", "month=2025-08", "month=2025-09"]
    files = list((demo.lake / "dossiers").rglob("*.parquet"))
    assert sum(pq.read_metadata(f).num_rows for f in files) == info["tables"]["dossiers"] > 1000
    # timestamps stay wall-clock times without a zone (the portal's local time), as in the store
    schema = pq.read_schema(files[0])
    assert str(schema.field("received_at").type) == "timestamp[us]"


def test_duckdb_over_the_lake_equals_the_store(demo: Demo) -> None:
    assert scores(demo, "--engine", "duckdb", "--lake", str(demo.lake)) == scores(demo)
    args = ("status", "--as-of", AS_OF, "--format", "json")
    assert json.loads(ok(*demo.ws, *args, "--lake", str(demo.lake), "--engine", "duckdb")) == json.loads(
        ok(*demo.ws, *args))


def test_explain_over_the_lake_equals_the_store(demo: Demo) -> None:
    args = ("explain", "--unit", "03646", "--period", "2025-09", "--as-of", AS_OF, "--format", "json")
    embedded = json.loads(ok(*demo.ws, *args))
    assert embedded["shortfalls"] and any(s["items"] for s in embedded["shortfalls"])  # dossiers named
    assert json.loads(ok(*demo.ws, *args, "--engine", "duckdb", "--lake", str(demo.lake))) == embedded


def test_a_lake_is_read_without_a_store_and_export_refuses_other_folders(demo: Demo, tmp_path: Path) -> None:
    """A national team's workspace holds only settings: the lake is enough to score."""
    empty = ["-w", str(tmp_path / "quoc-gia")]
    (tmp_path / "quoc-gia").mkdir()
    by_lake = json.loads(ok(*empty, "score", "--period", "2025-09", "--as-of", AS_OF, "--format", "json",
                            "--engine", "duckdb", "--lake", str(demo.lake)))
    assert {r["code"]: r["total"] for r in by_lake} == {c: r["total"] for c, r in scores(demo).items()}
    other = tmp_path / "tai-lieu"
    other.mkdir()
    (other / "bao-cao.docx").write_bytes(b"x")
    code, _, err = chiso(*demo.ws, "export", "--format", "parquet", "--out", str(other))
    assert code == 1 and "không phải kho Parquet của chiso" in err and (other / "bao-cao.docx").exists()
    code, _, err = chiso("export", "--merge", str(demo.lake), "--out", str(other))
    assert code == 1 and "không phải kho Parquet của chiso" in err and (other / "bao-cao.docx").exists()
    code, _, err = chiso(*demo.ws, "score", "--period", "2025-09", "--engine", "duckdb", "--lake", str(other))
    assert code == 2 and "thiếu _chiso_lake.json" in err
    code, _, err = chiso(*demo.ws, "score", "--period", "2025-09", "--engine", "postgres")
    assert code == 2 and "--engine postgres" in err


def test_a_new_export_replaces_the_lake_whole_and_lakes_merge(demo: Demo, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    shutil.copytree(demo.lake, lake)
    stale = lake / "dossiers" / "province=14" / "month=2024-01"
    stale.mkdir()
    (stale / "old.parquet").write_bytes(b"")
    ok(*demo.ws, "export", "--format", "parquet", "--out", str(lake))
    assert not stale.exists()  # a month no longer in the store does not linger
    # the same province twice would count its dossiers twice
    code, _, err = chiso("export", "--merge", str(demo.lake), "--merge", str(lake), "--out", str(tmp_path / "x"))
    assert code == 1 and "tỉnh mã 14 có trong cả" in err and not (tmp_path / "x").exists()


def test_two_provinces_merged_score_as_each_alone(demo: Demo, tmp_path: Path) -> None:
    """A national lake from two provinces' lakes: every unit of Sơn La scores as in its own lake. Both lakes carry
    the national working-day calendar and the default deadline rule; kept twice, every dossier would join two
    calendar days and two rules."""
    other = tmp_path / "lai-chau"
    ok("generate", "--national", "--province", "Lai Châu", "--from", "2025-09", "--to", "2025-09", "--scale", "0.05",
       "--out", str(other))
    merged = tmp_path / "quoc-gia"
    ok("export", "--merge", str(demo.lake), "--merge", str(other), "--out", str(merged))
    info = json.loads((merged / MANIFEST).read_text(encoding="utf-8"))
    alone = {lake: json.loads((lake / MANIFEST).read_text(encoding="utf-8"))["tables"] for lake in (demo.lake, other)}
    assert info["tables"]["dossiers"] == sum(t["dossiers"] for t in alone.values())
    assert info["tables"]["deadline_rules"] == 1  # the default rule, once
    both = scores(demo, "--engine", "duckdb", "--lake", str(merged))
    mine = scores(demo)
    assert {c: r["total"] for c, r in both.items() if c in mine} == {c: r["total"] for c, r in mine.items()}
    assert {r["code"] for r in both.values() if r["level"] == "province"} == {"12", "14"}
    # two provinces' departments of one name ("Sở Công Thương") are listed in one order, by code, on every engine
    rows = json.loads(ok(*demo.ws, "status", "--by-unit", "--as-of", AS_OF, "--format", "json", "--engine", "duckdb",
                         "--lake", str(merged)))
    named: dict[tuple[str, str], list[str]] = {}
    for r in rows:
        named.setdefault((r["level"], r["unit_name"]), []).append(r["unit_code"])
    twins = [codes for codes in named.values() if len(codes) > 1]
    assert len(twins) >= 4 and all(codes == sorted(codes) for codes in twins)
    # the same feedback (phản ánh, kiến nghị) in two lakes, under two province folders, is refused too
    twin = tmp_path / "twin"
    shutil.copytree(other, twin)
    (twin / "dossiers" / "province=12").rename(twin / "dossiers" / "province=99")
    code, _, err = chiso("export", "--merge", str(other), "--merge", str(twin), "--out", str(tmp_path / "x"))
    assert code == 1 and "bảng feedback: mã PAKN-12-2509-" in err and not (tmp_path / "x").exists()


def test_the_national_generator_writes_what_loading_the_province_files_stores(demo: Demo, tmp_path: Path) -> None:
    """`generate --national` for Sơn La alone, with the demo's months, scale and seed, holds the very dossiers the
    demo workspace stored from `generate --province` files through the loader (same values, same row hashes), and
    scores the same."""
    import duckdb

    lake = tmp_path / "quoc-gia"
    out = ok("generate", "--national", "--province", "Sơn La", "--from", "2025-07", "--to", "2025-09", "--seed", "1",
             "--scale", "0.25", "--out", str(lake))
    assert "dossiers: " in out
    con = duckdb.connect()
    stored = str(Path(demo.ws[1]) / "chiso.duckdb").replace("'", "''")
    con.execute(f"ATTACH '{stored}' AS ws (READ_ONLY)")
    for table in ("dossiers", "pauses", "feedback", "indicator_inputs"):
        glob = str(lake / table / "**" / "*.parquet").replace("'", "''")
        hive = ", hive_partitioning = true" if table == "dossiers" else ""
        drop = ", province, month" if table == "dossiers" else ""
        generated = f"(SELECT * EXCLUDE (load_id{drop}) FROM read_parquet('{glob}'{hive}))"
        derived = "".join(f", {c}" for c in DERIVED_COLUMNS) if table == "dossiers" else ""  # the store's, not data
        loaded = f"(SELECT * EXCLUDE (load_id{derived}) FROM ws.{table})"
        counts = con.execute(f"SELECT (SELECT count(*) FROM {generated}), (SELECT count(*) FROM {loaded}), "
                             f"(SELECT count(*) FROM ({generated} EXCEPT ALL {loaded})), "
                             f"(SELECT count(*) FROM ({loaded} EXCEPT ALL {generated}))").fetchall()[0]
        assert counts[0] == counts[1] > 0 and counts[2:] == (0, 0), (table, counts)
    assert scores(demo, "--engine", "duckdb", "--lake", str(lake)) == scores(demo)
    months = ("--from", "2025-09", "--to", "2025-09")
    code, _, err = chiso("generate", *months, "--out", str(tmp_path / "x"))
    assert code == 2 and "cần đúng một --province" in err
    code, _, err = chiso("generate", "--national", *months, "--format", "csv", "--out", str(tmp_path / "x"))
    assert code == 2 and "kho Parquet" in err and not (tmp_path / "x").exists()


def test_the_status_query_becomes_spark_sql() -> None:
    """The transpiled text keeps the rules' constructs in Spark's syntax; MATERIALIZED (a PostgreSQL planner hint)
    is gone; the shared dialects pass unchanged."""
    require_module("sqlglot", "sqlglot is not installed (the spark extra: pip install -e '.[spark]')")
    sql = "WITH a AS MATERIALIZED (SELECT count(*) FILTER (WHERE x > 1) AS n FROM t) SELECT n FROM a WHERE n = ?"
    spark = to_dialect(sql, "spark")
    assert "MATERIALIZED" not in spark and "FILTER(WHERE x > 1)" in spark.replace(" (", "(") and "?" in spark
    assert to_dialect(sql, "duckdb") == sql == to_dialect(sql, "postgres")


@pytest.fixture(scope="module")
def spark_ready() -> Iterator[None]:
    require_module("pyspark", "PySpark is not installed (the spark extra: pip install -e '.[spark]')")
    require(shutil.which("java") or os.environ.get("JAVA_HOME"),
            "Java is not installed (Debian openjdk-17-jre-headless), needed by Spark")
    yield
    # The commands ran in this process: their Spark session (a JVM) would otherwise live on beside the rest of the
    # suite, using about half a core.
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
    gateway = SparkContext._gateway
    if gateway is not None:  # and the JVM itself (a new session would start another)
        gateway.shutdown()
        proc = getattr(gateway, "proc", None)  # pyspark.java_gateway.launch_gateway keeps the JVM's process there
        if proc is not None:
            proc.kill()
            proc.wait(timeout=60)
        SparkContext._gateway = SparkContext._jvm = None


def test_spark_scores_equal_the_embedded_engine(demo: Demo, spark_ready: None, capfd: pytest.CaptureFixture[str]
                                                ) -> None:
    """Unit by unit, indicator by indicator, at every level (province, departments, communes), the change against
    August included: the workspace's tables exported on the fly to a temporary lake (the lake given with --lake
    is read by the status test below: one Spark scoring is enough, each costs a minute of Spark's overhead)."""
    embedded = scores(demo)
    levels = {r["level"] for r in embedded.values()}
    assert levels == {"province", "department", "commune"}
    assert scores(demo, "--engine", "spark") == embedded
    # Spark's own lines in English on the clerk's terminal (its JVM writes to the process's standard error): the
    # shell's log-level banner is silenced by chiso's log4j2.properties (the JVM's warning about its incubator
    # module cannot be)
    assert "log level" not in capfd.readouterr().err


def test_spark_status_equals_the_embedded_engine(demo: Demo, spark_ready: None) -> None:
    lake = ("--engine", "spark", "--lake", str(demo.lake))
    args = ("status", "--as-of", AS_OF, "--format", "json")
    embedded = json.loads(ok(*demo.ws, *args))
    assert json.loads(ok(*demo.ws, *args, *lake)) == embedded
    by_unit = json.loads(ok(*demo.ws, *args, "--by-unit"))
    assert len(by_unit) > 50 and sum(r["received"] for r in by_unit) == len(embedded)
    assert json.loads(ok(*demo.ws, *args, "--by-unit", *lake)) == by_unit


def test_a_temporary_table_on_spark_is_stored_once_and_freed_when_dropped(spark_ready: None, tmp_path: Path
                                                                         ) -> None:
    """A temporary table is its rows, computed when it is made: they are read after the source is gone, by plain
    queries and by subquery predicates alike; dropping the table frees them (a scoring makes and drops its fact
    tables once per period: ``report all`` scores several)."""
    import pyarrow as pa

    from chiso.engines.spark import SparkConnection, SparkSettings, session

    src = tmp_path / "src"
    src.mkdir()
    pq.write_table(pa.table({"x": ["a", "b", "c", "d"]}), src / "part-0.parquet")
    con = SparkConnection(session(SparkSettings()))
    con.spark.read.parquet(str(src)).createOrReplaceTempView("src")
    con.spark.createDataFrame([("b",)], "y STRING").createOrReplaceTempView("given")
    stored = len(con._persistent())
    con.execute("CREATE TEMP TABLE t AS SELECT x FROM src WHERE x <> 'd'")
    con.execute("CREATE TEMP TABLE other AS SELECT y FROM given")
    shutil.rmtree(src)
    for where, rows in (("TRUE", 3), ("x IN (SELECT y FROM other)", 1), ("x NOT IN (SELECT y FROM other)", 2),
                        ("EXISTS (SELECT 1 FROM other WHERE y = x)", 1)):
        assert con.execute(f"SELECT count(*) FROM t WHERE {where}").fetchall() == [(rows,)], where
    assert len(con._persistent()) == stored + 2
    con.execute("DROP TABLE IF EXISTS t")
    assert len(con._persistent()) == stored + 1 and not con.spark.catalog.tableExists("t")


def test_a_store_without_dossiers_exports_a_lake_that_scores(ws: Any, tmp_path: Path) -> None:
    """Units only, no dossier yet: the lake keeps the dossiers' columns in one empty file, and scoring from it
    gives every unit, as the store does."""
    ws.store.close()
    options = ["-w", str(ws.store.workspace)]
    lake = tmp_path / "lake"
    ok(*options, "export", "--format", "parquet", "--out", str(lake))
    assert json.loads((lake / MANIFEST).read_text(encoding="utf-8"))["tables"]["dossiers"] == 0
    args = ("score", "--period", "2025-09", "--as-of", AS_OF, "--format", "json")
    assert json.loads(ok(*options, *args, "--engine", "duckdb", "--lake", str(lake))) == json.loads(
        ok(*options, *args))


def test_spark_explains_as_the_embedded_engine(demo: Demo, spark_ready: None) -> None:
    """The points a commune lost and the dossiers behind each, on Spark over the lake."""
    args = ("explain", "--unit", "03646", "--period", "2025-09", "--as-of", AS_OF, "--format", "json")
    assert json.loads(ok(*demo.ws, *args, "--engine", "spark", "--lake", str(demo.lake))) == json.loads(
        ok(*demo.ws, *args))


def test_spark_counts_from_the_fact_tables_not_from_the_lake_again(demo: Demo, spark_ready: None, tmp_path: Path
                                                                   ) -> None:
    """The index's count queries read the fact tables the scoring's setup made, never the dossiers again: with the
    lake's dossiers and pauses gone once the setup has run, every count is still the embedded engine's. (Spark's
    cache is found by matching plans; the procedures' count, whose subquery reads the units' closure, found none and
    ran the status of every dossier again: 16 s of a month of 10⁶ dossiers.)"""
    from datetime import datetime

    from chiso.config import load_config
    from chiso.engines import compute_store
    from chiso.rules.model import for_period
    from chiso.scoring.engine import Facts, build_sql
    from chiso.scoring.period import parse_period
    from chiso.store.db import Store

    lake = tmp_path / "lake"
    shutil.copytree(demo.lake, lake)
    period = parse_period("2025-09")
    moment = datetime(2025, 9, 30, 17)

    def counts(store: Store, before_counting: Any = None) -> dict[str, list[tuple[Any, ...]]]:
        config = load_config(store.workspace)
        facts = Facts(period, moment, config, dialect=store.dialect)
        setup, queries = build_sql(for_period(period.start, store.workspace), facts, keep_facts=False)
        for statement in setup:
            store.con.execute(statement)
        if before_counting:
            before_counting()
        return {name: sorted(tuple(row) for row in store.con.execute(sql).fetchall())
                for name, sql in queries.items()}

    with Store.open(demo.ws[1], read_only=True) as store:
        embedded = counts(compute_store(store, "duckdb", lake=lake))
        spark = counts(compute_store(store, "spark", lake=lake),
                       lambda: [shutil.rmtree(lake / t) for t in ("dossiers", "pauses")])
    assert set(embedded) == {"dossiers", "procedures", "feedback"} and len(embedded["procedures"]) > 50
    assert spark == embedded
