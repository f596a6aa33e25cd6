"""What differs between the store's engines (phương ngữ SQL): the few statements that are not in the subset
DuckDB and PostgreSQL share, behind one name each.

Every query of chiso is written once, in the shared subset (``?`` placeholders, standard CASTs, ``FILTER``,
CTEs, window functions; ``WITH x AS MATERIALIZED`` is accepted by both). What is left is not query text but
how the engines are run:

1. **Writers.** A DuckDB file has one writer process (DuckDB's own file lock; a second process gets "the store
   is busy"). A PostgreSQL database has many sessions, so every chiso write transaction first takes one
   transaction-level advisory lock (:func:`lock_writers`): loads, unloads, publications and the rebuilds of
   derived tables run one at a time, as on DuckDB, while readers go on reading the last committed state.
2. **Migrations.** ``chiso db upgrade`` holds a session-level advisory lock (:func:`migration_lock`), so two
   upgrades started at once apply each migration exactly once.
3. **Statistics.** PostgreSQL plans from table statistics that its autovacuum refreshes later, if it runs at
   all; after a bulk write chiso refreshes them itself (:func:`refresh_statistics`). DuckDB needs nothing.

A third engine (Spark) would be one more branch in each function here, not a fork of the queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

DUCKDB = "duckdb"
POSTGRES = "postgres"

WRITER_LOCK = 7660767  # advisory lock keys (arbitrary, fixed: every chiso process must use the same)
MIGRATION_LOCK = 7660766


def lock_writers(con: Any, dialect: str) -> None:
    """Inside a transaction: wait until no other chiso writer holds the store; held until COMMIT/ROLLBACK."""
    if dialect == POSTGRES:
        con.execute("SELECT pg_advisory_xact_lock(?)", [WRITER_LOCK])


@contextmanager
def migration_lock(con: Any, dialect: str) -> Iterator[None]:
    """Outside any transaction: one schema upgrade at a time."""
    if dialect != POSTGRES:
        yield
        return
    con.execute("SELECT pg_advisory_lock(?)", [MIGRATION_LOCK])
    try:
        yield
    finally:
        con.execute("SELECT pg_advisory_unlock(?)", [MIGRATION_LOCK])


def refresh_statistics(con: Any, dialect: str, tables: Iterable[str]) -> None:
    """After a bulk write to ``tables`` (names chiso chose, never user text): fresh planner statistics."""
    if dialect == POSTGRES:
        for table in sorted(set(tables)):
            con.execute(f"ANALYZE {table}")
