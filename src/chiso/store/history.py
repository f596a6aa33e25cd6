"""Row history (lịch sử phiên bản) of every loaded table, and reverting one load exactly (gỡ lần nạp).

1. Every row a load replaces is first copied, as it was, to the table's history table (``dossier_history``,
   ``units_history``, …: the table's columns + ``superseded_by_load``), inside the load's transaction
   (:func:`keep_replaced`; dossiers do the same in the loader's dossier merge, which also keeps late-arriving
   older versions in history only).
2. Unloading load L (:func:`unload`), in one transaction:
   a. refuse when a later load changed any row L wrote or replaced (its keys appear with a later load id in the
      table or in its history): those loads must be unloaded first, newest first;
   b. delete the rows whose current version L wrote (inserted or replaced); put back the versions L replaced
      (history rows superseded by L, older versions only L brought excepted); delete the history rows L added;
   c. refuse when that leaves a row of another load pointing at a row that is gone (a dossier of a unit L
      added, a pause of a dossier L added);
   d. mark the load ``unloaded_at`` and write an ``unload`` audit entry.
   Derived data (units' province, the working-day calendar, deadline rules) is brought up to date by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chiso.lazy import lazy_module
from chiso.load.contract import TABLES
from chiso.store import audit
from chiso.store.db import Store
from chiso.store.rows import first_row

if TYPE_CHECKING:
    import duckdb
else:
    duckdb = lazy_module("duckdb")

HISTORY_TABLES = {name: ("dossier_history" if name == "dossiers" else f"{name}_history") for name in TABLES}
# (table, column, referenced table, referenced column): the contract's references and the units' own tree.
REFERENCES = [
    *((t.name, c.name, c.references[0], c.references[1]) for t in TABLES.values() for c in t.columns
      if c.references),
    ("units", "parent_code", "units", "code"),
    ("units", "successor_code", "units", "code"),
]


class UnloadError(Exception):
    """The load cannot be reverted; the message (Vietnamese) says why and what to do."""


@dataclass
class UnloadResult:
    load_id: int
    table: str
    file: str
    deleted: int  # rows the load had inserted, now gone
    restored: int  # rows the load had replaced, now back to their previous version
    history_removed: int  # older versions the load had put in history only
    audit_id: int


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def store_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of a store table, in order, without the derived ones (``dossiers.computed_due``, ``due_ready``:
    a version restored from history comes back without them, to be computed again)."""
    from chiso.status.stored_due import DERIVED_COLUMNS

    cur = con.execute(f"SELECT * FROM {q(table)} LIMIT 0")
    return [str(d[0]) for d in cur.description if d[0] not in DERIVED_COLUMNS]


def keep_replaced(con: duckdb.DuckDBPyConnection, table: str, load_id: int, incoming: str = "incoming") -> int:
    """Copy to history the current rows that the ``incoming`` rows are about to replace (same key, other hash).
    Call it before the upsert, in the load's transaction. Returns the number of rows kept."""
    key = TABLES[table].key
    cols = store_columns(con, table)
    on = " AND ".join(f"cur.{q(k)} = i.{q(k)}" for k in key)
    row = first_row(con.execute(
        f"""INSERT INTO {q(HISTORY_TABLES[table])} ({", ".join(q(c) for c in cols)}, superseded_by_load)
            SELECT {", ".join("cur." + q(c) for c in cols)}, {int(load_id)}
            FROM {q(table)} cur JOIN {incoming} i ON {on} WHERE cur.row_hash <> i.row_hash"""
    ))
    return int(row[0]) if row else 0


def _key_list(key: tuple[str, ...], alias: str) -> str:
    return ", ".join(f"{alias}.{q(k)}" for k in key)


def later_loads(con: duckdb.DuckDBPyConnection, table: str, load_id: int) -> list[int]:
    """Loads after ``load_id`` that changed a row of ``table`` that ``load_id`` wrote or replaced."""
    key = TABLES[table].key
    hist = q(HISTORY_TABLES[table])
    keys = ", ".join(q(k) for k in key)
    mine = (f"SELECT {keys} FROM {q(table)} WHERE load_id = {load_id} UNION "
            f"SELECT {keys} FROM {hist} WHERE load_id = {load_id} OR superseded_by_load = {load_id}")
    on = " AND ".join(f"x.{q(k)} = m.{q(k)}" for k in key)
    rows = con.execute(
        f"""WITH mine AS ({mine})
            SELECT x.load_id FROM {q(table)} x JOIN mine m ON {on} WHERE x.load_id > {load_id}
            UNION SELECT x.load_id FROM {hist} x JOIN mine m ON {on} WHERE x.load_id > {load_id}
            UNION SELECT x.superseded_by_load FROM {hist} x JOIN mine m ON {on}
                  WHERE x.superseded_by_load > {load_id}
            ORDER BY 1"""
    ).fetchall()
    return [int(r[0]) for r in rows]


def _dangling(con: duckdb.DuckDBPyConnection, table: str) -> dict[tuple[str, str], tuple[int, list[int]]]:
    """For every reference into ``table``: (count of rows pointing at nothing, their load ids)."""
    out: dict[tuple[str, str], tuple[int, list[int]]] = {}
    for src, col, ref, ref_col in REFERENCES:
        if ref != table:
            continue
        rows = con.execute(
            f"""SELECT x.load_id, count(*) FROM {q(src)} x
                WHERE x.{q(col)} IS NOT NULL AND NOT EXISTS (SELECT 1 FROM {q(ref)} r WHERE r.{q(ref_col)} = x.{q(col)})
                GROUP BY x.load_id ORDER BY x.load_id"""
        ).fetchall()
        out[(src, col)] = (sum(int(r[1]) for r in rows), [int(r[0]) for r in rows if r[0] is not None])
    return out


def unload(store: Store, load_id: int) -> UnloadResult:
    """Revert one load exactly (see the module docstring). Raises :class:`UnloadError` with a Vietnamese message."""
    con = store.con
    row = first_row(con.execute("SELECT table_name, file, unloaded_at, rows_updated, history_kept FROM loads "
                                "WHERE load_id = ?", [load_id]))
    if row is None:
        known = first_row(con.execute("SELECT min(load_id), max(load_id) FROM loads"))
        hint = (f" (các lần nạp có số từ {known[0]} đến {known[1]}; xem `chiso audit --action load`)"
                if known and known[0] is not None else " (kho chưa có lần nạp nào)")
        raise UnloadError(f"không có lần nạp số {load_id}{hint}")
    table, file, unloaded_at, rows_updated, history_kept = str(row[0]), str(row[1]), row[2], int(row[3]), row[4]
    if unloaded_at is not None:
        raise UnloadError(f"lần nạp số {load_id} ({file}) đã được gỡ lúc {unloaded_at:%H:%M:%S ngày %d/%m/%Y}")
    if table != "dossiers" and rows_updated and not history_kept:
        raise UnloadError(
            f"lần nạp số {load_id} ({file}) đã thay {rows_updated} dòng của bảng {table} trước khi kho lưu lịch sử "
            "phiên bản của bảng này, nên không khôi phục chính xác được các dòng cũ; hãy nạp lại tệp đúng")
    key = TABLES[table].key
    hist = q(HISTORY_TABLES[table])
    cols = store_columns(con, table)
    col_list = ", ".join(q(c) for c in cols)
    with store.transaction():
        later = later_loads(con, table, load_id)
        if later:
            ids = ", ".join(str(i) for i in later)
            raise UnloadError(
                f"không gỡ được lần nạp số {load_id} ({file}): các lần nạp sau đã thay đổi dữ liệu của nó "
                f"(số {ids}); hãy gỡ các lần nạp đó trước, lần mới nhất trước")
        before = _dangling(con, table)
        # Versions this load replaced (not the older versions it only put in history, whose load_id is its own).
        replaced = f"superseded_by_load = {load_id} AND load_id IS DISTINCT FROM {load_id}"
        restored = _count(con, f"SELECT count(*) FROM {hist} WHERE {replaced}")
        written = _count(con, f"SELECT count(*) FROM {q(table)} WHERE load_id = {load_id}")
        history_added = _count(con, f"SELECT count(*) FROM {hist} WHERE superseded_by_load = {load_id}") - restored
        con.execute(f"DELETE FROM {q(table)} WHERE load_id = {load_id}")
        con.execute(f"INSERT INTO {q(table)} ({col_list}) SELECT {col_list} FROM {hist} WHERE {replaced}")
        con.execute(f"DELETE FROM {hist} WHERE superseded_by_load = {load_id}")
        after = _dangling(con, table)
        broken = {ref: after[ref][1] for ref in after if after[ref][0] > before[ref][0]}
        if broken:
            what = "; ".join(f"{src}.{col} của lần nạp số {', '.join(map(str, ids)) or '?'}"
                             for (src, col), ids in broken.items())
            raise UnloadError(
                f"không gỡ được lần nạp số {load_id} ({file}): dữ liệu nạp sau còn tham chiếu các dòng nó thêm "
                f"({what}); hãy gỡ các lần nạp đó trước")
        # Same key, same count: what the load replaced is back, what it inserted is gone.
        deleted = written - restored
        con.execute("UPDATE loads SET unloaded_at = ? WHERE load_id = ?", [audit.now_local(), load_id])
        if table == "units":
            from chiso.load.loader import update_province_codes

            update_province_codes(con)
        audit_id = audit.record(con, "unload", str(load_id), {
            "load_id": load_id, "table": table, "file": file, "deleted": deleted, "restored": restored,
            "history_removed": history_added, "key": list(key)})
    return UnloadResult(load_id, table, file, deleted, restored, history_added, audit_id)


def _count(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    row = first_row(con.execute(sql))
    return int(row[0]) if row else 0
