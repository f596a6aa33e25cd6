"""The store (kho dữ liệu): a workspace folder with one DuckDB database and its migrations.

The schema lives in ``migrations/*.sql`` in the SQL subset DuckDB and PostgreSQL share; the server
issue will apply the same files to PostgreSQL. Every load runs in one transaction (:meth:`Store.transaction`).
Opening a store for writing applies the pending migrations (after an automatic backup when the store already had
some, :mod:`chiso.store.backup`) and records changes of the files the office edits (:mod:`chiso.store.audit`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb

DEFAULT_WORKSPACE = "chiso-data"
DB_FILE = "chiso.duckdb"


def workspace_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--workspace, else $CHISO_WORKSPACE, else ./chiso-data."""
    return Path(explicit or os.environ.get("CHISO_WORKSPACE") or DEFAULT_WORKSPACE)


def migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every shipped migration, in order."""
    folder = resources.files("chiso.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            found.append((int(entry.name.split("_", 1)[0]), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


@dataclass
class Store:
    workspace: Path
    con: duckdb.DuckDBPyConnection

    @classmethod
    def open(cls, workspace: str | os.PathLike[str] | None = None, *, read_only: bool = False) -> Store:
        ws = workspace_path(workspace)
        ws.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(ws / DB_FILE), read_only=read_only)
        store = cls(ws, con)
        if not read_only:
            try:
                store.migrate()
                store.track_files()
            except BaseException:
                con.close()
                raise
        return store

    def close(self) -> None:
        self.con.close()

    def duplicate(self) -> Store:
        """Another handle on the same database with a connection of its own, for another thread (the web
        server gives each request one). Closing it leaves this store open."""
        return type(self)(self.workspace, self.con.cursor())

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def rejected_dir(self) -> Path:
        return self.workspace / "rejected"

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their names."""
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )
        done = {r[0] for r in self.con.execute("SELECT version FROM schema_migrations").fetchall()}
        pending = [m for m in migrations() if m[0] not in done]
        if pending and done:
            from chiso.store.backup import backup_store

            backup_store(self, reason=f"before migration {pending[0][1]}",
                         prefix=f"auto-before-migration-{pending[0][0]:04d}-")
        applied = []
        for version, name, sql in pending:
            with self.transaction():
                self.con.execute(sql)
                self.con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, datetime.now()]
                )
            applied.append(name)
        return applied

    def track_files(self) -> list[int]:
        """Record in the audit trail the files the office edited since the last time (configuration, templates,
        rule sets, departments list); returns the ids of the entries written."""
        from chiso.store.audit import track_workspace_files

        with self.transaction():
            return track_workspace_files(self.con, self.workspace)

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            with contextlib.suppress(duckdb.Error):  # a fatal error leaves no transaction: report the original
                self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def count(self, table: str) -> int:
        row = self.con.execute(f"SELECT count(*) FROM {table}").fetchone()
        return int(row[0]) if row else 0

    def get_setting(self, key: str) -> str | None:
        row = self.con.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        self.con.execute(
            "INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
