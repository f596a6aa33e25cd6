"""What a test needs from outside (a module, a binary, a server) fails the test when CI=true and skips it with a
clear message elsewhere (conftest.require) — whatever is missing. Before issue 14 the PostgreSQL fixture's
``pytest.importorskip`` ran before its CI check, so without psycopg the tests skipped even in CI.

The real PostgreSQL and PDF tests are run in a child pytest with the thing taken away: psycopg shadowed by a
package that raises ModuleNotFoundError on import, an empty PATH (no LibreOffice, no pdftoppm), a server address
nobody listens on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import require, require_module

ROOT = Path(__file__).resolve().parent.parent
PG_TEST = "tests/test_store_postgres.py::test_migrations_apply_on_postgres"
PDF_TEST = "tests/test_reports_pdf.py::test_letter_to_pdf_and_png"


def test_require_passes_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    require(True, "LibreOffice")
    require("/usr/bin/soffice", "LibreOffice")  # any truthy value: a path from shutil.which


def test_require_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="^LibreOffice not installed — required when CI=true$"):
        require(None, "LibreOffice not installed")


@pytest.mark.parametrize("ci", [None, "false", ""])
def test_require_skips_elsewhere(monkeypatch: pytest.MonkeyPatch, ci: str | None) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match="^LibreOffice not installed$"):
        require(None, "LibreOffice not installed")


def child_pytest(tmp_path: Path, tests: list[str], ci: bool, **env: str) -> str:
    """Run ``tests`` in a child pytest; returns its output (summary included)."""
    environ = {k: v for k, v in os.environ.items() if k != "CI"} | env
    if ci:
        environ["CI"] = "true"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs",
                           "--basetemp", str(tmp_path / "child"), *tests],
                          cwd=ROOT, env=environ, capture_output=True, text=True, timeout=300)
    return proc.stdout + proc.stderr


def without_psycopg_and_binaries(tmp_path: Path) -> dict[str, str]:
    shadow = tmp_path / "shadow" / "psycopg"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(  # what Python raises for a package that is not installed
        'raise ModuleNotFoundError("psycopg taken away by the test", name="psycopg")\n', encoding="utf-8")
    (tmp_path / "empty").mkdir()
    pythonpath = os.pathsep.join(p for p in (str(shadow.parent), os.environ.get("PYTHONPATH", "")) if p)
    return {"PYTHONPATH": pythonpath, "PATH": str(tmp_path / "empty")}


def test_missing_module_and_binaries_fail_in_ci(tmp_path: Path) -> None:
    out = child_pytest(tmp_path, [PG_TEST, PDF_TEST], ci=True, **without_psycopg_and_binaries(tmp_path))
    # The PostgreSQL test fails in its fixture (an error, in pytest's words), the PDF test in its body.
    assert "1 failed, 1 error in" in out, out
    assert "psycopg is not installed (the dev extras: pip install -e '.[dev]') (psycopg taken away by the test) " \
           "— required when CI=true" in out, out
    assert "LibreOffice (Debian libreoffice-writer-nogui) not installed: `make setup` — required when CI=true" in out


def test_missing_module_and_binaries_skip_elsewhere(tmp_path: Path) -> None:
    out = child_pytest(tmp_path, [PG_TEST, PDF_TEST], ci=False, **without_psycopg_and_binaries(tmp_path))
    assert "2 skipped in" in out, out
    assert "psycopg is not installed (the dev extras: pip install -e '.[dev]') (psycopg taken away by the test)" \
        in out, out
    assert "LibreOffice (Debian libreoffice-writer-nogui) not installed: `make setup`" in out
    assert "required when CI=true" not in out


@pytest.mark.parametrize("ci", [True, False], ids=["ci", "local"])
def test_unreachable_server(tmp_path: Path, ci: bool) -> None:
    require_module("psycopg", "psycopg is not installed")  # about the server; the module: test_missing_module_*
    dsn = "host=127.0.0.1 port=1 dbname=test user=postgres"  # port 1: nobody listens there
    out = child_pytest(tmp_path, [PG_TEST], ci=ci, CHISO_TEST_PG=dsn)
    assert ("1 error in" if ci else "1 skipped in") in out, out  # the fixture fails: an error
    assert f"PostgreSQL not reachable at '{dsn}'" in out, out
    assert ("required when CI=true" in out) is ci
