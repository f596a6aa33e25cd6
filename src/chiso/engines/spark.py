"""Apache Spark as an engine (máy tính toán phân tán): the same SQL, transpiled, on a Spark session.

:class:`SparkConnection` gives Spark the surface chiso's code uses on DuckDB (``execute`` with ``?``
parameters, ``description``, ``fetchall``, ``sql(...).to_arrow_table()``), so the status and index code runs
unchanged. Two statements are translated to Spark's own ways rather than to SQL:

* ``CREATE TEMP TABLE name AS SELECT …`` (the fact tables of :mod:`chiso.scoring.engine`) becomes a temporary
  view over a local checkpoint of its rows, computed once (a fact table is read by several queries);
* ``DROP TABLE IF EXISTS name`` drops that view and frees its rows.

A checkpoint, not ``cache()``: Spark finds a cached table in a later query by matching its plan, and Spark 4.3 found
no match in the procedures' count (a ``NOT IN`` subquery over the units' closure; simpler subqueries matched). That
query computed the cached tables again from the lake, the status of every dossier included (16 s of a month of 10⁶
dossiers). A checkpoint's view reads its stored rows whatever the query, as a temporary table does on DuckDB.

The tables come from a lake (:mod:`chiso.engines.lake`): each is a temporary view over its Parquet folder; the
small ones (units, procedures, calendar, deadline rules) carry a broadcast hint, so joins with the dossiers never
shuffle the dossiers. Spark runs in local mode (``local[*]``) unless ``--spark-master`` or ``[spark] master``
names a cluster; nothing is downloaded (no packages, no ``spark.jars.packages``): PySpark's own jars are used.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chiso.engines import is_uri
from chiso.engines import lake as lakes
from chiso.engines.transpile import to_dialect

_CREATE = re.compile(r"^\s*CREATE\s+TEMP(?:ORARY)?\s+TABLE\s+(\w+)\s+AS\s+(.*)$", re.S | re.I)
_DROP = re.compile(r"^\s*DROP\s+TABLE\s+IF\s+EXISTS\s+(\w+)\s*$", re.I)


class SparkUnavailable(RuntimeError):
    """PySpark or Java is missing: said in Vietnamese with what to install."""


@dataclass
class SparkSettings:
    master: str = "local[*]"
    driver_memory: str = "2g"
    conf: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(cls, raw: dict[str, Any], master: str | None = None) -> SparkSettings:
        conf = raw.get("conf", {})
        if not isinstance(conf, dict) or not all(isinstance(k, str) for k in conf):
            raise ValueError("chiso.toml: [spark] conf: một bảng khóa = giá trị của Spark, ví dụ "
                             "conf = { \"spark.executor.memory\" = \"4g\" }")
        return cls(master=master or str(raw.get("master", "local[*]")),
                   driver_memory=str(raw.get("driver_memory", "2g")),
                   conf={k: str(v) for k, v in conf.items()})


def session(settings: SparkSettings) -> Any:
    """A Spark session with chiso's settings: UTC session time zone (timestamps are local wall-clock times,
    stored without a zone), no UI, no console progress, partition values read as text, quiet logs."""
    import warnings

    # PySpark warns about the pandas version when pandas is installed: chiso hands Spark no pandas data.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"pyspark\..*")
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailable("chưa cài PySpark: pip install 'chiso[spark]' (cần Java 17: gói Debian "
                               "openjdk-17-jre-headless)") from None
    if not os.environ.get("JAVA_HOME") and not shutil.which("java"):
        raise SparkUnavailable("không tìm thấy Java: cài gói Debian openjdk-17-jre-headless (hoặc đặt JAVA_HOME)")
    log_config = Path(__file__).with_name("log4j2.properties")
    if settings.master.startswith("local"):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # no lookup of the machine's own name
    builder = (SparkSession.builder.master(settings.master).appName("chiso")
               .config("spark.driver.extraJavaOptions", f"-Dlog4j2.configurationFile=file:{log_config}")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
               .config("spark.driver.memory", settings.driver_memory))
    if settings.master.startswith("local"):
        # A closed intranet may not resolve the machine's own name: everything on the loopback. One machine: few
        # shuffle partitions, no adaptive re-planning between stages (measured: 72 s instead of 86 s for the demo's
        # month; docs/scale.md). A cluster keeps Spark's defaults and [spark] conf.
        builder = (builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                   .config("spark.sql.shuffle.partitions", "4").config("spark.sql.adaptive.enabled", "false"))
    for key, value in settings.conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


class SparkCursor:
    """The result of one statement: ``description`` (names) and rows as tuples."""

    def __init__(self, frame: Any | None):
        self._frame = frame
        self._rows: list[tuple[Any, ...]] | None = None
        self.description = [(c, None, None, None, None, None, None) for c in frame.columns] if frame is not None \
            else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self._rows is None:
            self._rows = [] if self._frame is None else [tuple(r) for r in self._frame.collect()]
        rows, self._rows = self._rows, []
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._rows is None:
            self._rows = [] if self._frame is None else [tuple(r) for r in self._frame.collect()]
        return self._rows.pop(0) if self._rows else None


class SparkRelation:
    """What ``con.sql(query)`` returns: enough of DuckDB's relation for the status output."""

    def __init__(self, frame: Any):
        self._frame = frame
        self.columns = list(frame.columns)

    def to_arrow_table(self) -> Any:
        return self._frame.toArrow()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self._frame.collect()]


class SparkConnection:
    """DuckDB's connection surface over a Spark session (see the module's docstring)."""

    dialect = "spark"

    def __init__(self, spark: Any):
        self.spark = spark
        self._stored: dict[str, set[int]] = {}  # temporary table -> the ids of the Spark RDDs holding its rows

    def register_lake(self, lake: str | Path) -> None:
        """Every lake table as a temporary view; the small ones broadcast. ``lake``: a folder, or a URI the
        cluster reads (hdfs://, s3a://, file://…), laid out as :mod:`chiso.engines.lake` writes it."""
        root = str(lake).rstrip("/")
        for table in lakes.TABLES:
            if table in lakes.OPTIONAL and not is_uri(root) and not Path(root, table).is_dir():
                schema = ", ".join(f"{c} STRING" for c in lakes.OPTIONAL[table])
                frame = self.spark.createDataFrame([], schema)  # a lake written by an earlier chiso
                frame.createOrReplaceTempView(table)
                continue
            frame = self.spark.read.parquet(f"{root}/{table}")
            if table == lakes.PARTITIONED:
                frame = frame.drop("province", "month")  # partition columns: not dossier fields
            if table in lakes.SMALL:
                frame = frame.hint("broadcast")
            frame.createOrReplaceTempView(table)

    def _materialized(self, sql: str) -> str:
        """``sql`` with each ``WITH x AS MATERIALIZED (…)`` computed once into a temporary table ``x`` (with the
        common table expressions before it that it may read), and taken out of its ``WITH``: Spark has no such
        hint and would otherwise compute a step again for every step that reads it (the procedures' facts of the
        index's count, read twice; the status query gives Spark no hint)."""
        if "MATERIALIZED" not in sql.upper():
            return sql
        import sqlglot
        from sqlglot import exp

        tree = sqlglot.parse_one(sql, read="duckdb")
        for with_ in list(tree.find_all(exp.With)):
            before: list[Any] = []
            for cte in list(with_.expressions):
                if not cte.args.get("materialized"):
                    before.append(cte)
                    continue
                prefix = ("WITH " + ", ".join(c.sql(dialect="duckdb") for c in before) + " ") if before else ""
                self._create(cte.alias, prefix + cte.this.sql(dialect="duckdb"))
                cte.pop()
            if not with_.expressions:
                with_.pop()
        return tree.sql(dialect="duckdb")

    def _create(self, name: str, select: str) -> None:
        """A temporary table: its rows computed once and stored (memory, then disk), read by the queries after."""
        self._drop(name)
        frame = self.spark.sql(to_dialect(self._materialized(select), "spark"))
        before = self._persistent()
        frame = frame.localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        self._stored[name] = self._persistent() - before

    def _persistent(self) -> set[int]:
        return {int(i) for i in self.spark.sparkContext._jsc.getPersistentRDDs().keySet()}

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> SparkCursor:
        created = _CREATE.match(sql)
        if created:
            self._create(created.group(1), created.group(2))
            return SparkCursor(None)
        dropped = _DROP.match(sql)
        if dropped:
            self._drop(dropped.group(1))
            return SparkCursor(None)
        return SparkCursor(self.spark.sql(to_dialect(self._materialized(sql), "spark"),
                                          args=list(params) if params else None))

    def sql(self, query: str) -> SparkRelation:
        return SparkRelation(self.spark.sql(to_dialect(self._materialized(query), "spark")))

    def _drop(self, name: str) -> None:
        ids = self._stored.pop(name, set())
        if ids:
            rdds = self.spark.sparkContext._jsc.getPersistentRDDs()
            for rdd_id in ids:
                rdd = rdds.get(rdd_id)
                if rdd is not None:
                    rdd.unpersist(False)
        self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        for name in list(self._stored):
            self._drop(name)
