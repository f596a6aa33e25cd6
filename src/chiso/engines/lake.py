"""The data lake (kho Parquet): the hand-off between a province's workspace and a national cluster.

``chiso export --format parquet --out DIR`` writes the tables the rules read, one folder per table::

    DIR/_chiso_lake.json                  what is in it: format, tables, rows, schema version, time of export
    DIR/dossiers/province=14/month=2025-07/data_0.parquet   dossiers by province and month of reception
    DIR/units/data_0.parquet              units, procedures, pauses, feedback, evaluations, indicator_inputs,
    DIR/…                                 calendar_days and deadline_rules (the derived tables, as prepared)

Hive-style partition folders (``province=…/month=…``) are what Spark, DuckDB, Trino and pandas all read as
columns. A national lake is many provinces' exports side by side under one ``dossiers/`` folder (the other tables
concatenated): :func:`merge` does that. The derived tables travel with the data, so a cluster needs neither the
holiday packages nor the office's settings to compute due dates the way the province does.

Writing is staged: the lake is written beside ``DIR`` and swapped in whole, so a failed export leaves the
previous lake as it was, and a folder that is not a chiso lake is never replaced.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from chiso.clock import now_local
from chiso.store.db import scratch_duckdb
from chiso.store.rows import first_row

MANIFEST = "_chiso_lake.json"
FORMAT = "chiso-lake-1"
PARTITIONED = "dossiers"
# The tables status, scoring and the one-stop evaluation read (never the audit, accounts or history tables).
TABLES = ("units", "procedures", "procedure_scope", "dossiers", "pauses", "feedback", "evaluations",
          "indicator_inputs", "calendar_days", "deadline_rules")
SMALL = ("units", "procedures", "procedure_scope", "calendar_days", "deadline_rules")  # broadcast to every Spark task
# Tables a lake written by an earlier chiso may lack: read as empty, with these (text) columns.
OPTIONAL = {"procedure_scope": ("procedure_code", "province_code")}


class LakeError(ValueError):
    """A lake that cannot be written or read, said in Vietnamese with the path."""


@dataclass
class Exported:
    path: Path
    rows: dict[str, int]


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def is_lake(path: Path) -> bool:
    return (path / MANIFEST).is_file()


def manifest(path: Path) -> dict[str, Any]:
    """The lake's description; :class:`LakeError` when ``path`` is not a chiso lake."""
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LakeError(f"'{path}' không phải kho Parquet của chiso (thiếu {MANIFEST}; tạo bằng chiso export "
                        "--format parquet --out THƯ-MỤC)") from None
    except (OSError, ValueError) as exc:
        raise LakeError(f"'{path}/{MANIFEST}' không đọc được: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise LakeError(f"'{path}/{MANIFEST}': định dạng '{data.get('format') if isinstance(data, dict) else '?'}' "
                        f"không phải {FORMAT}")
    missing = [t for t in TABLES if not (path / t).is_dir() and t not in OPTIONAL]
    if missing:
        raise LakeError(f"'{path}': thiếu bảng {', '.join(missing)}")
    return data


def table_glob(lake: Path, table: str) -> str:
    """The Parquet files of ``table`` (every partition folder below it)."""
    return str(lake / table / "**" / "*.parquet")


def _write(con: duckdb.DuckDBPyConnection, source: str, target: Path) -> dict[str, int]:
    """Write the tables of ``source`` (``""``: the connection's own tables; ``"src."``: a schema of views) into
    ``target``, streamed by DuckDB's COPY (bounded memory, spilling to its temp directory)."""
    from chiso.status.stored_due import DERIVED_COLUMNS

    # without the derived columns (chiso.status.stored_due) where the source has them (a store; a lake has none)
    present = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}dossiers").fetchall()]
    dropped = [c for c in DERIVED_COLUMNS if c in present]
    derived = f" EXCLUDE ({', '.join(dropped)})" if dropped else ""
    rows = {}
    for table in TABLES:
        folder = target / table
        if table == PARTITIONED:
            # The partition values: the unit's province ('_' for a unit without one) and the month received.
            select = (f"SELECT d.*{derived}, COALESCE(NULLIF(u.province_code, ''), '_') AS province, "
                      f"strftime(d.received_at, '%Y-%m') AS month FROM {source}dossiers d "
                      f"LEFT JOIN {source}units u ON u.code = d.unit_code")
            con.execute(f"COPY ({select}) TO '{_sql_path(folder)}' "
                        "(FORMAT parquet, PARTITION_BY (province, month), COMPRESSION zstd)")
            if not any(folder.rglob("*.parquet")):  # no dossiers yet: one empty file keeps the table's columns
                empty = folder / "province=_" / "month=_"
                empty.mkdir(parents=True)
                con.execute(f"COPY (SELECT *{derived} FROM {source}dossiers WHERE FALSE) TO "
                            f"'{_sql_path(empty / 'data_0.parquet')}' (FORMAT parquet)")
        else:
            folder.mkdir(parents=True)
            con.execute(f"COPY (SELECT * FROM {source}{table}) TO '{_sql_path(folder / 'data_0.parquet')}' "
                        "(FORMAT parquet, COMPRESSION zstd)")
        counted = first_row(con.execute(f"SELECT count(*) FROM {source}{table}"))
        rows[table] = int(counted[0]) if counted else 0
    return rows


def _staged(out: Path, write: Callable[[Path], tuple[dict[str, int], dict[str, Any]]]) -> Exported:
    """Write a lake into a staging folder beside ``out`` with ``write(target) -> (rows, manifest extras)``, then
    swap it in whole. ``out`` may be missing, empty or a chiso lake; any other folder is refused, never replaced."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or (any(out.iterdir()) and not is_lake(out))):
        raise LakeError(f"'{out}' đã có và không phải kho Parquet của chiso: chọn thư mục trống hoặc thư mục mới")
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.dang-ghi-", dir=out.parent))
    try:
        target = stage / "lake"
        target.mkdir()
        rows, extra = write(target)
        _manifest(target, rows, **extra)
        _swap_in(target, out, stage)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return Exported(out, rows)


def export(store: Any, out: Path) -> Exported:
    """Write the store's tables as a lake at ``out`` (staged; an existing lake there is replaced whole).
    The store should be prepared first (:func:`chiso.api.prepare`): its derived tables are exported as they are."""

    def write(target: Path) -> tuple[dict[str, int], dict[str, Any]]:
        if store.dialect == "duckdb":
            rows = _write(store.con, "", target)  # the store's own connection: COPY reads the file in place
        else:  # another engine (PostgreSQL): each table fetched as Arrow into an in-memory DuckDB, then the same
            con = scratch_duckdb(store.workspace)
            con.execute("CREATE SCHEMA src")
            for table in TABLES:
                con.register(f"src_{table}", store.con.sql(f"SELECT * FROM {table}").to_arrow_table())
                con.execute(f"CREATE VIEW src.{table} AS SELECT * FROM src_{table}")
            rows = _write(con, "src.", target)
            con.close()
        version = first_row(store.con.execute("SELECT max(version) FROM schema_migrations"))
        return rows, {"schema_version": version[0] if version else None}

    return _staged(out, write)


def _manifest(target: Path, rows: dict[str, int], **extra: Any) -> None:
    (target / MANIFEST).write_text(json.dumps({
        "format": FORMAT, "exported_at": now_local().isoformat(timespec="seconds"), "tables": rows,
        "partitioned": {PARTITIONED: ["province", "month"]}, **extra,
    }, ensure_ascii=False, indent=1, default=str) + "\n", encoding="utf-8")


def _swap_in(target: Path, out: Path, stage: Path) -> None:
    if out.exists():
        old = stage / "old"
        os.replace(out, old)
        try:
            os.replace(target, out)
        except BaseException:
            os.replace(old, out)
            raise
    else:
        os.replace(target, out)


def open_duckdb(lake: Path, workspace: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB over the lake: the dossiers and the other large tables are views over their files
    (read where they are, partitions pruned); the small ones (units, procedures, calendar, deadline rules) are
    copied into memory once. The status query joins the calendar several times, and each view reference would
    open the files again with its own read buffers (measured on the demo: 1.4 GB peak with views only, 140 MB
    like this)."""
    manifest(lake)
    con = scratch_duckdb(workspace)  # the workspace's memory budget ([engine] memory_mb), spilling past it
    for table in TABLES:
        if table in OPTIONAL and not (lake / table).is_dir():
            con.execute(f"CREATE TABLE {table} (" + ", ".join(f"{c} VARCHAR" for c in OPTIONAL[table]) + ")")
            continue
        hive = ", hive_partitioning = true, hive_types_autocast = false" if table == PARTITIONED else ""
        source = f"read_parquet('{_sql_path(Path(table_glob(lake, table)))}'{hive}, union_by_name = true)"
        if table == PARTITIONED:
            source = f"(SELECT * EXCLUDE (province, month) FROM {source})"  # partition values: not dossier fields
        kind = "TABLE" if table in SMALL else "VIEW"
        con.execute(f"CREATE {kind} {table} AS SELECT * FROM {source}")
    return con


KEYS = {"units": ("code",), "procedures": ("code",), "calendar_days": ("calendar_key", "day"),
        "deadline_rules": ("province_code", "procedure_code")}  # the small tables' keys, checked by merge


UNIQUE = {"feedback": "feedback_id"}  # checked across merged lakes (dossiers: by their provinces, cheaper at 10⁸)


def _provinces(lake: Path) -> set[str]:
    return {p.name.removeprefix("province=") for p in (lake / PARTITIONED).glob("province=*")
            if p.name != "province=_" and any(p.rglob("*.parquet"))}


def merge(lakes: Sequence[Path], out: Path) -> Exported:
    """One national lake from provinces' lakes: their dossier partitions side by side, the other tables
    concatenated. Rows every province's lake carries alike (the national working-day calendar, the default
    deadline rule, a procedure of the national list) are kept once. Refused, naming both lakes: a province in two
    of them (its dossiers would count twice), or one key with different rows (two calendars for one day)."""
    seen: dict[str, Path] = {}
    for lake in lakes:
        manifest(lake)
        for province in sorted(_provinces(lake)):
            if province in seen:
                raise LakeError(f"tỉnh mã {province} có trong cả '{seen[province]}' và '{lake}': mỗi tỉnh chỉ gộp "
                                "một lần (hồ sơ của tỉnh sẽ bị đếm hai lần)")
            seen[province] = lake
    con = scratch_duckdb()
    con.execute("CREATE SCHEMA src")
    for table in TABLES:
        if table == "procedure_scope":
            con.execute(f"CREATE VIEW src.{table} AS {_scopes(lakes)}")
            continue
        files = ", ".join(f"'{_sql_path(Path(table_glob(lake, table)))}'" for lake in lakes)
        drop = " EXCLUDE (province, month)" if table == PARTITIONED else ""
        hive = ", hive_partitioning = true" if table == PARTITIONED else ""
        source = f"read_parquet([{files}]{hive}, union_by_name = true)"
        if table in KEYS:
            source = _once_per_key(con, table, source)
        con.execute(f"CREATE VIEW src.{table} AS SELECT *{drop} FROM {source}")
    for table, key in UNIQUE.items():  # ids the rules join on: one given twice would count twice
        twice = con.execute(f"SELECT {key} FROM src.{table} GROUP BY {key} HAVING count(*) > 1 LIMIT 1").fetchall()
        if twice:
            raise LakeError(f"bảng {table}: mã {twice[0][0]} có trong nhiều kho gộp (mã phải duy nhất cả nước)")
    return _staged(out, lambda target: (_write(con, "src.", target), {"merged_from": [str(p) for p in lakes]}))


def _scopes(lakes: Sequence[Path]) -> str:
    """Where each procedure applies in the merged lake: a lake's own ``procedure_scope`` rows, and for its
    procedures without any, the provinces of that lake (its procedures list is theirs). Exact whatever was merged
    before: a province's lake, a national one, a store holding several provinces."""
    parts = []
    for lake in lakes:
        procedures, units = (f"read_parquet('{_sql_path(Path(table_glob(lake, t)))}')" for t in ("procedures", "units"))
        own = (f"read_parquet('{_sql_path(Path(table_glob(lake, 'procedure_scope')))}')"
               if (lake / "procedure_scope").is_dir() else
               "(SELECT * FROM (VALUES ('', '')) t(procedure_code, province_code) WHERE FALSE)")
        parts.append(f"SELECT procedure_code, province_code FROM {own}")
        parts.append(f"SELECT p.code, u.code FROM {procedures} p CROSS JOIN {units} u WHERE u.level = 'province' "
                     f"AND p.code NOT IN (SELECT procedure_code FROM {own})")
    return " UNION ".join(parts)


def _once_per_key(con: duckdb.DuckDBPyConnection, table: str, source: str) -> str:
    """``source`` with each key once; :class:`LakeError` when one key has rows that differ (beyond ``load_id``,
    which numbers each province's own loads)."""
    key = ", ".join(KEYS[table])
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()]
    content = ", ".join(f'"{c}"' for c in columns if c != "load_id")
    clash = con.execute(f"SELECT {key} FROM (SELECT DISTINCT {content} FROM {source}) GROUP BY {key} "
                        "HAVING count(*) > 1 LIMIT 1").fetchall()
    if clash:
        shown = ", ".join(str(v) for v in clash[0])
        raise LakeError(f"bảng {table}: khóa ({shown}) có hai dòng khác nhau trong các kho gộp (hai tỉnh khai khác "
                        "nhau cho cùng một mã, hoặc lịch làm việc khác nhau): sửa dữ liệu nguồn rồi xuất lại")
    return f"(SELECT * FROM {source} QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY {content}) = 1)"
