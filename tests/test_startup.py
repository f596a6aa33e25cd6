"""The command line starts without the engines it does not use (issue 13 §5: `chiso --help` took 0.48 s, every
command importing the loader, pyarrow, DuckDB and the catalogue): after ``import chiso.cli`` those modules are
registered but not run (:mod:`chiso.lazy`), and a command that needs them runs them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

HEAVY = ("duckdb", "pyarrow", "chiso.api", "chiso.load.loader", "chiso.load.readers", "chiso.units.catalog",
         "chiso.alerts")
PROBE = """
import sys, chiso.cli
print(" ".join(n for n in {heavy!r} if n in sys.modules and type(sys.modules[n]).__name__ != "_LazyModule"))
"""


def test_the_command_line_imports_no_engine_until_a_command_needs_it() -> None:
    ran = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY)], capture_output=True, text=True, check=True)
    assert ran.stdout.split() == []  # none of them has run
    with_help = subprocess.run([sys.executable, "-m", "chiso.cli", "--help"], capture_output=True, text=True,
                               check=True)
    assert "Cách dùng:" in with_help.stdout


def test_a_command_runs_what_it_needs(tmp_path: object) -> None:
    """`chiso units init` needs the catalogue and DuckDB: they run on first use, through the lazy modules."""
    ran = subprocess.run([sys.executable, "-m", "chiso.cli", "-w", str(tmp_path), "units", "init", "--province",
                          "Sơn La"], capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr
    listed = subprocess.run([sys.executable, "-m", "chiso.cli", "-w", str(tmp_path), "units", "list", "--format",
                             "csv"], capture_output=True, text=True, check=True)
    assert "UBND tỉnh Sơn La" in listed.stdout


SCORE_PROBE = """
import atexit, sys
from chiso.cli import main
atexit.register(lambda: print("RAN", *(n for n in ("pyarrow", "chiso.load.loader", "chiso.official.importer")
                                      if n in sys.modules and type(sys.modules[n]).__name__ != "_LazyModule"),
                              file=sys.stderr))
sys.argv = ["chiso", "-w", {ws!r}, "score", "--period", "2025-09", "--as-of", "2025-10-05", "--format", "json"]
main()
"""


def test_a_scoring_runs_neither_the_loader_nor_pyarrow(tmp_path: Path) -> None:
    """A day's re-score of a province is mostly start-up: the loader, pyarrow and the official importer took 0.2 s
    of imports that `chiso score` never uses (measured while making it; benchmarks/README.md)."""
    from chiso import api
    from chiso.store.db import Store
    from conftest import UNIT, write_csv

    with Store.open(tmp_path / "ws") as store:
        api.init_units(store, "Sơn La")
        api.load(store, [write_csv(tmp_path / "procedures.csv", [{"code": "P5", "name": "Thủ tục 5 ngày",
                                                                   "time_limit": 5, "time_unit": "working_days"}])])
        api.load(store, [write_csv(tmp_path / "dossiers.csv", [{
            "dossier_id": "D1", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
            "received_at": "2025-09-02 09:00", "finished_at": "2025-09-03 10:00"}])])
    ran = subprocess.run([sys.executable, "-c", SCORE_PROBE.format(ws=str(tmp_path / "ws"))], capture_output=True,
                         text=True)
    assert ran.returncode == 0, ran.stderr
    assert f'"{UNIT}"' in ran.stdout  # it scored
    assert ran.stderr.splitlines()[-1].split() == ["RAN"]  # and ran none of them


def test_an_import_interrupted_half_way_leaves_nothing_half_run(tmp_path: Path, monkeypatch: Any) -> None:
    """Found by a Ctrl-C sent at random moments of `chiso load`: with importlib's LazyLoader a Ctrl-C while DuckDB or
    the readers were being imported left the module half-run; the next read of it failed with a NameError or an
    AttributeError ("unexpected error", exit 70) instead of "stopped" (130)."""
    from chiso.lazy import lazy_module, loaded

    (tmp_path / "half_run_probe.py").write_text(
        "import pathlib\n"
        "FIRST = 1\n"
        "marker = pathlib.Path(__file__).with_suffix('.interrupted')\n"
        "if not marker.exists():\n"
        "    marker.write_text('once')\n"
        "    raise KeyboardInterrupt  # Ctrl-C half-way through the module's code\n"
        "LAST = 2\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = lazy_module("half_run_probe")
    assert not loaded("half_run_probe")
    with pytest.raises(KeyboardInterrupt):
        module.FIRST  # noqa: B018 - the read runs the module's code
    assert not loaded("half_run_probe")  # nothing half-run is left in its place
    assert (module.FIRST, module.LAST) == (1, 2)  # the next read imports it again, whole
    assert loaded("half_run_probe")
    import half_run_probe  # type: ignore[import-not-found]

    assert half_run_probe.LAST == 2
