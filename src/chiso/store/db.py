"""The store (kho dữ liệu): a workspace folder with one DuckDB database and its migrations.

The schema lives in ``migrations/*.sql`` in the SQL subset DuckDB and PostgreSQL share. With ``database`` a
PostgreSQL URL (``chiso --database URL``) the same store runs on a shared PostgreSQL server
(:mod:`chiso.store.pg`); the workspace folder still holds the office's files (chiso.toml, templates, rules,
rejected rows). Every load runs in one transaction (:meth:`Store.transaction`).
Opening a store for writing applies the pending migrations (after an automatic backup when the store already had
some, :mod:`chiso.store.backup`) and records changes of the files the office edits (:mod:`chiso.store.audit`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from chiso.clock import now_local
from chiso.lazy import lazy_module
from chiso.store.rows import first_row

if TYPE_CHECKING:
    import duckdb
else:
    duckdb = lazy_module("duckdb")  # loaded by the first command that opens a store (chiso.lazy)

from chiso.store.dialect import lock_writers, migration_lock

T = TypeVar("T")
DEFAULT_WORKSPACE = "chiso-data"
DB_FILE = "chiso.duckdb"
# The embedded engine's memory budget (bộ nhớ tối đa) when [engine] memory_mb is not set: half the machine's memory,
# at most this. Past it DuckDB spills to disk (the store's ``chiso.duckdb.tmp`` folder) instead of growing: a load
# of 10 million dossiers peaked at 20.7 GB with DuckDB's own default of 80 % of the machine (issue 13).
DEFAULT_MEMORY_CAP_MB = 3072
MIN_MEMORY_MB = 256


def machine_memory_mb() -> int:
    """Physical memory, or the container's limit (cgroup v2 ``memory.max``) when lower."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    with contextlib.suppress(OSError, ValueError):
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if limit.isdigit():
            total = min(total, int(limit) // 2**20)
    return int(total)


def memory_budget_mb(configured: int | None = None) -> int:
    """The MB DuckDB may use: ``[engine] memory_mb`` when set, else half the machine, capped."""
    if configured:
        return max(MIN_MEMORY_MB, configured)
    return max(MIN_MEMORY_MB, min(machine_memory_mb() // 2, DEFAULT_MEMORY_CAP_MB))


def duckdb_settings(workspace: Path | None,
                    temp_directory: str | None = None) -> dict[str, str | bool | int | float | list[str]]:
    """The settings every DuckDB connection chiso opens starts with: the memory budget of the workspace's
    chiso.toml and, for an in-memory database, where to spill."""
    from chiso.config import ConfigError, load_config

    configured = None
    with contextlib.suppress(ConfigError):  # a broken chiso.toml is reported by the command that reads it
        configured = load_config(workspace).memory_mb if workspace is not None and workspace.is_dir() else None
    settings: dict[str, str | bool | int | float | list[str]] = {"memory_limit": f"{memory_budget_mb(configured)}MB"}
    if temp_directory:
        settings["temp_directory"] = temp_directory
    return settings


def scratch_duckdb(workspace: Path | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the workspace's memory budget, spilling to a temporary folder of its own (removed
    when the process ends) instead of ``.tmp`` in whatever folder the command was started from."""
    import atexit
    import shutil
    import tempfile

    spill = tempfile.mkdtemp(prefix="chiso-spill-")
    atexit.register(shutil.rmtree, spill, True)
    return duckdb.connect(config=duckdb_settings(workspace, spill))


def workspace_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--workspace, else $CHISO_WORKSPACE, else ./chiso-data."""
    return Path(explicit or os.environ.get("CHISO_WORKSPACE") or DEFAULT_WORKSPACE)


DIALECTS = ("duckdb", "postgres")


@functools.cache  # read once per process: every command that opens a store compares its versions
def migrations(dialect: str = "duckdb") -> tuple[tuple[int, str, str], ...]:
    """(version, name, sql) of every shipped migration for ``dialect``, in order. ``NNNN_name.sql`` is for both
    stores; ``NNNN_name.duckdb.sql`` (or ``.postgres.sql``) for one of them only: the other records the step with
    nothing to do (sql ``""``), so both know the same versions."""
    folder = resources.files("chiso.store") / "migrations"
    found: dict[int, tuple[str, str]] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        stem = entry.name.removesuffix(".sql")
        own = stem.rsplit(".", 1)[1] if "." in stem else None
        if own is not None and own not in DIALECTS:
            raise ValueError(f"migration {entry.name}: unknown dialect {own}")
        version = int(stem.split("_", 1)[0])
        name = (stem.rsplit(".", 1)[0] if own else stem) + ".sql"
        if own is None or own == dialect:
            found[version] = (name, entry.read_text(encoding="utf-8"))
        else:
            found.setdefault(version, (name, ""))
    return tuple(sorted((version, name, sql) for version, (name, sql) in found.items()))


def database_errors() -> tuple[type[Exception], ...]:
    """The engines' own error classes (psycopg's only once a PostgreSQL store was opened: the embedded store
    never imports it)."""
    psycopg = sys.modules.get("psycopg")
    return (duckdb.Error,) if psycopg is None else (duckdb.Error, psycopg.Error)


class SchemaOutOfDate(Exception):
    """The PostgreSQL database lacks migrations this version of chiso needs (run ``chiso db upgrade``), or has
    migrations it does not know (a newer chiso upgraded it: update this one)."""

    def __init__(self, pending: list[str], fresh: bool, unknown: list[int] | None = None,
                 workspace: Path | None = None):
        self.pending, self.fresh, self.unknown = pending, fresh, unknown or []
        if self.unknown and workspace is not None:  # the embedded store, which a newer chiso migrated
            steps = ", ".join(f"{v:04d}" for v in self.unknown)
            message = (f"kho dữ liệu {workspace} có lược đồ mới hơn phiên bản chiso này (bước {steps}, do một phiên "
                       "bản chiso mới hơn nâng cấp): cập nhật chiso trước khi dùng kho này, hoặc khôi phục bản sao "
                       "lưu tự động làm trước bước đó (chiso restore)")
        elif self.unknown:
            steps = ", ".join(f"{v:04d}" for v in self.unknown)
            message = (f"cơ sở dữ liệu PostgreSQL có lược đồ mới hơn phiên bản chiso này (bước {steps}): "
                       "cập nhật chiso trước khi dùng cơ sở dữ liệu này")
        else:
            what = "chưa có lược đồ chiso" if fresh else "lược đồ cũ, thiếu " + ", ".join(pending)
            message = f"cơ sở dữ liệu PostgreSQL {what}: chạy chiso --database URL db upgrade"
        super().__init__(message)


@dataclass
class Store:
    workspace: Path
    con: Any  # duckdb.DuckDBPyConnection, or chiso.store.pg.PgConnection on PostgreSQL
    dialect: str = "duckdb"
    database: str | None = None
    upgraded: list[str] = field(default_factory=list)  # migrations applied when this store was opened
    # The derived tables (calendar, deadline rules) come with the data and are not rebuilt here: a compute store
    # over a lake (chiso.engines.compute_store), read-only by nature.
    derived_ready: bool = False
    read_only: bool = False  # opened read-only: what is derived is read when current, never written
    # Within one read snapshot (chiso.scoring.kept_groups.snapshot): the checks of what is kept, made once, as they
    # cannot change until it ends
    snapshot_checks: dict[Any, Any] | None = None
    in_transaction: bool = False  # within transaction() or a read snapshot: a second BEGIN would abort it
    # A DuckDB file opened read-only cannot change while it is open (no process may write it meanwhile, this one
    # cannot): the checks are made once for the connection's life (a command checks once, not three times)
    lasting_checks: dict[Any, Any] | None = None

    @classmethod
    def open(cls, workspace: str | os.PathLike[str] | None = None, *, read_only: bool = False,
             database: str | None = None, upgrade: bool = False) -> Store:
        """The workspace's store: its DuckDB file, or the PostgreSQL database ``database`` names. A PostgreSQL
        schema is migrated only with ``upgrade`` (``chiso db upgrade``); otherwise pending migrations raise
        :class:`SchemaOutOfDate`."""
        ws = workspace_path(workspace)
        if database:
            from chiso.store.pg import PgConnection

            pg = cls(ws, PgConnection(database, read_only=read_only), "postgres", database, read_only=read_only)
            try:
                if upgrade:
                    pg.upgraded = pg.migrate()
                pg.check_schema()
                if not read_only and ws.is_dir():
                    pg.track_files()
            except BaseException:
                pg.close()
                raise
            return pg
        ws.mkdir(parents=True, exist_ok=True)
        con = duckdb.connect(str(ws / DB_FILE), read_only=read_only, config=duckdb_settings(ws))
        store = cls(ws, con, read_only=read_only, lasting_checks={} if read_only else None)
        try:
            if not read_only:
                store.upgraded = store.migrate()
            store.refuse_newer_schema()
            if not read_only:
                store.track_files()
        except BaseException:
            con.close()
            raise
        return store

    def refuse_newer_schema(self) -> None:
        """Refuse an embedded store that a newer chiso migrated (steps this one does not know): its tables may not
        be what this version reads and writes (found when chiso of before migration 0013 loaded into a store
        without key indexes: exit 70)."""
        try:  # one statement: every reading command opens a store
            done = {int(r[0]) for r in self.con.execute("SELECT version FROM schema_migrations").fetchall()}
        except duckdb.CatalogException:  # a store never opened for writing: no table yet, nothing newer
            return
        known = {version for version, _, _ in migrations(self.dialect)}
        if done - known:
            raise SchemaOutOfDate([], fresh=False, unknown=sorted(done - known), workspace=self.workspace)

    def close(self) -> None:
        self.con.close()

    def duplicate(self) -> Store:
        """Another handle on the same database with a connection of its own, for another thread (the web
        server gives each request one). Closing it leaves this store open."""
        return type(self)(self.workspace, self.con.cursor(), self.dialect, self.database, read_only=self.read_only,
                          lasting_checks=None if self.lasting_checks is None else {})

    def applied_migrations(self) -> set[int]:
        """The versions recorded in ``schema_migrations`` (none when the table does not exist yet)."""
        exists = first_row(self.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = "
                                            "'schema_migrations' AND table_schema = current_schema()"))
        if not (exists and exists[0]):
            return set()
        return {int(r[0]) for r in self.con.execute("SELECT version FROM schema_migrations").fetchall()}

    def schema_current(self) -> bool:
        """True when every migration this chiso ships is applied (nothing to upgrade)."""
        return self.applied_migrations() == {version for version, _, _ in migrations(self.dialect)}

    def check_schema(self) -> None:
        """Refuse a schema that is not exactly the one this chiso ships (:class:`SchemaOutOfDate`)."""
        done = self.applied_migrations()
        known = {version for version, _, _ in migrations(self.dialect)}
        pending = [name for version, name, _ in migrations(self.dialect) if version not in done]
        if pending or done - known:
            raise SchemaOutOfDate(pending, fresh=not done, unknown=sorted(done - known))

    def _create_migrations_table(self) -> None:
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMP NOT NULL)"
        )

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def rejected_dir(self) -> Path:
        return self.workspace / "rejected"

    def migrate(self) -> list[str]:
        """Apply the migrations not yet applied; returns their names. On PostgreSQL under an advisory lock, so
        two processes upgrading at once apply each migration once."""
        with migration_lock(self.con, self.dialect):
            self._create_migrations_table()
            return self._apply_pending()

    def _apply_pending(self) -> list[str]:
        done = {r[0] for r in self.con.execute("SELECT version FROM schema_migrations").fetchall()}
        pending = [m for m in migrations(self.dialect) if m[0] not in done]
        if pending and done and self.dialect == "duckdb":
            from chiso.store.backup import backup_store

            backup_store(self, reason=f"before migration {pending[0][1]}",
                         prefix=f"auto-before-migration-{pending[0][0]:04d}-")
        applied = []
        for version, name, sql in pending:
            with self.transaction():
                if sql:  # nothing to do on this store (a migration for the other one)
                    self.con.execute(sql)
                self.con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, now_local()]
                )
            applied.append(name)
        return applied

    def track_files(self) -> list[int]:
        """Record in the audit trail the files the office edited since the last time (configuration, templates,
        rule sets, departments list); returns the ids of the entries written."""
        from chiso.store.audit import track_workspace_files, workspace_files_changed

        if not workspace_files_changed(self.con, self.workspace):  # the usual case: no write, no writer lock
            return []
        with self.transaction():
            return track_workspace_files(self.con, self.workspace)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One transaction; on PostgreSQL it first waits for the other chiso writers (:mod:`chiso.store.dialect`)."""
        self.con.execute("BEGIN TRANSACTION")
        self.in_transaction = True
        try:
            lock_writers(self.con, self.dialect)
            yield self.con
        except BaseException:
            # a fatal error leaves no transaction: report the original
            with contextlib.suppress(*database_errors()):
                self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")
        finally:
            self.in_transaction = False

    def checked(self, key: Any, check: Callable[[], T]) -> T:
        """``check()`` made once per read snapshot (:func:`chiso.scoring.kept_groups.snapshot`, which sets
        ``snapshot_checks``) under ``key``: within one nothing it reads can change. Every time outside one, except on
        a DuckDB file opened read-only: once while it is open (``lasting_checks``)."""
        memo = self.lasting_checks if self.lasting_checks is not None else self.snapshot_checks
        if memo is None:
            return check()
        if key not in memo:
            memo[key] = check()
        return cast(T, memo[key])

    def count(self, table: str) -> int:
        row = first_row(self.con.execute(f"SELECT count(*) FROM {table}"))
        return int(row[0]) if row else 0

    def get_setting(self, key: str) -> str | None:
        rows = self.con.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchall()  # read to the end
        return str(rows[0][0]) if rows else None

    def set_setting(self, key: str, value: str) -> None:
        self.con.execute(
            "INSERT INTO settings VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [key, value],
        )
