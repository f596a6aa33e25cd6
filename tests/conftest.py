"""Shared fixtures: a real workspace (DuckDB file) with the Sơn La units, and helpers that go through the
real loading path (files written to disk, then ``chiso.api.load``)."""

from __future__ import annotations

import csv
import importlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from chiso import api
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

    def load(self, table: str, rows: list[dict[str, Any]], **kw: Any) -> api.LoadReport:
        self.n += 1
        path = write_csv(self.tmp / f"{table}-{self.n}.csv", rows)
        return api.load(self.store, [path], table=table, **kw)

    def config(self, text: str) -> None:
        (self.store.workspace / "chiso.toml").write_text(text, encoding="utf-8")

    def status(self, as_of: str, **kw: Any) -> dict[str, dict[str, Any]]:
        table = api.status(self.store, datetime.fromisoformat(as_of), details=True, **kw)
        return {r["dossier_id"]: r for r in table.to_pylist()}


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
