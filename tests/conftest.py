"""Shared fixtures: a real workspace (DuckDB file) with the Sơn La units, and helpers that go through the
real loading path (files written to disk, then ``chiso.api.load``)."""

from __future__ import annotations

import csv
import importlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import pytest

from chiso import api
from chiso.load.loader import LoadReport
from chiso.store.db import Store

UNIT = "14.STP"  # Sở Tư pháp tỉnh Sơn La, from the shipped departments list


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    fields: list[str] = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    return path


class Workspace:
    def __init__(self, store: Store, tmp: Path):
        self.store = store
        self.tmp = tmp
        self.n = 0

    def load(self, table: str, rows: list[dict[str, Any]], **kw: Any) -> LoadReport:
        self.n += 1
        path = write_csv(self.tmp / f"{table}-{self.n}.csv", rows)
        return api.load(self.store, [path], table=table, **kw)

    def config(self, text: str) -> None:
        (self.store.workspace / "chiso.toml").write_text(text, encoding="utf-8")

    def status(self, as_of: str, **kw: Any) -> dict[str, dict[str, Any]]:
        table = api.status(self.store, datetime.fromisoformat(as_of), details=True, **kw)
        return {r["dossier_id"]: r for r in table.to_pylist()}


def generated_province(root: Path, start: str, end: str, *, scale: float, seed: int) -> Path:
    """A workspace under ``root`` with Sơn La's units and its generated dossiers of the months ``start``–``end``,
    loaded through the real path (procedures first, then dossiers, then the rest)."""
    api.generate("Sơn La", start, end, root / "gen", scale=scale, seed=seed)
    with Store.open(root / "ws") as store:
        api.init_units(store, "Sơn La")
        files = sorted((root / "gen").iterdir(), key=lambda p: (p.stem != "procedures", p.stem != "dossiers"))
        api.load(store, files)
    return root / "ws"


@contextmanager
def store_copy(workspace: Path, target: Path) -> Iterator[Store]:
    """A writable copy of ``workspace`` at ``target``, open."""
    import shutil

    shutil.copytree(workspace, target)
    with Store.open(target) as store:
        yield store


@pytest.fixture
def copy(province: Path, tmp_path: Path) -> Iterator[Store]:
    """A writable copy of the module's ``province`` workspace (a fixture of the module), open."""
    with store_copy(province, tmp_path / "ws") as store:
        yield store


@pytest.fixture(scope="session")
def units_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the Sơn La units, made once and copied per test."""
    ws = tmp_path_factory.mktemp("template")
    with Store.open(ws) as store:
        api.init_units(store, "Sơn La")
    return ws


@pytest.fixture
def ws(units_template: Path, tmp_path: Path) -> Iterator[Workspace]:
    import shutil

    target = tmp_path / "ws"
    shutil.copytree(units_template, target)
    store = Store.open(target)
    try:
        yield Workspace(store, tmp_path)
    finally:
        store.close()


def postgres_dsn() -> str:
    """The PostgreSQL test database (``CHISO_TEST_PG`` overrides it); see :func:`require`."""
    return os.environ.get("CHISO_TEST_PG", "host=127.0.0.1 port=5432 dbname=test user=postgres")


@dataclass
class PgSchema:
    """A fresh schema of the test database: ``conn`` (psycopg, autocommit, search_path set) and the two
    forms ``chiso --database`` takes that select it: libpq's ``key=value`` (``dsn``) and a URL (``url``)."""

    conn: Any
    name: str
    dsn: str
    url: str


@contextmanager
def postgres_schema() -> Iterator[PgSchema]:
    """Create a schema of its own in the test database, drop it afterwards. PostgreSQL missing: the test fails
    when CI=true, is skipped otherwise (:func:`require`)."""
    psycopg = require_module("psycopg", "psycopg is not installed (the dev extras: pip install -e '.[dev]')")
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    try:
        conn = psycopg.connect(postgres_dsn(), autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        require(False, f"PostgreSQL not reachable at '{postgres_dsn()}' ({str(exc).strip()}); these tests run in CI")
    name = f"chiso_test_{uuid.uuid4().hex[:8]}"
    conn.execute(f"CREATE SCHEMA {name}")
    conn.execute(f"SET search_path TO {name}")
    params = conninfo_to_dict(postgres_dsn())
    auth = quote(str(params.get("user", ""))) + (":" + quote(str(params["password"])) if "password" in params else "")
    where = f"{params.get('host', '')}:{params.get('port', 5432)}"
    url = (f"postgresql://{auth}@{where}/{quote(str(params.get('dbname', '')))}"
           f"?options={quote('-csearch_path=' + name, safe='')}")
    try:
        yield PgSchema(conn, name, make_conninfo(postgres_dsn(), options=f"-csearch_path={name}"), url)
    finally:
        conn.execute(f"DROP SCHEMA {name} CASCADE")
        conn.close()


@pytest.fixture
def pg_schema() -> Iterator[PgSchema]:
    with postgres_schema() as schema:
        yield schema


@pytest.fixture
def pg(pg_schema: PgSchema) -> Any:
    """A psycopg connection to an empty schema of the test database (no chiso tables)."""
    return pg_schema.conn


@pytest.fixture
def pg_ws(pg_schema: PgSchema, tmp_path: Path) -> Iterator[Workspace]:
    """As ``ws``, on PostgreSQL: a workspace folder whose store is the test schema (``db upgrade`` done),
    with the Sơn La units."""
    target = tmp_path / "ws"
    store = Store.open(target, database=pg_schema.url, upgrade=True)
    try:
        api.init_units(store, "Sơn La")
        yield Workspace(store, tmp_path)
    finally:
        store.close()


def require(condition: object, what: str) -> None:
    """Something a test needs from outside (a binary, a module, a server). When it is missing the test FAILS if
    ``CI=true`` (the CI machine must have everything: a skip there would hide a test that never runs), and is
    skipped with ``what`` as the message elsewhere. Call it before any other skip."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{what} — required when CI=true", pytrace=False)
    pytest.skip(what)


def require_module(name: str, what: str) -> ModuleType:
    """``import name`` under the rule of :func:`require` (instead of ``pytest.importorskip``, which skips in CI)."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        error = str(exc)
    require(False, f"{what} ({error})")
    raise AssertionError("unreachable")

