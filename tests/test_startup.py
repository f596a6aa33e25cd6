"""The command line starts without the engines it does not use (issue 13 §5: `chiso --help` took 0.48 s, every
command importing the loader, pyarrow, DuckDB and the catalogue): after ``import chiso.cli`` those modules are
registered but not run (:mod:`chiso.lazy`), and a command that needs them runs them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("duckdb", "pyarrow", "chiso.api", "chiso.load.loader", "chiso.load.readers", "chiso.units.catalog")
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
