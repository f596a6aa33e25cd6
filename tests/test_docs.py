"""Docs that tests keep honest: every CLI command and option is in docs/cli.md; the README's first
lines give the two commands; .ci/run calls the README's test command."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click

from chiso.cli import main

ROOT = Path(__file__).parent.parent


def commands(group: click.Group, prefix: str = "chiso") -> list[tuple[str, click.Command]]:
    out: list[tuple[str, click.Command]] = []
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out += commands(cmd, full)
        else:
            out.append((full, cmd))
    return out


def test_every_option_is_documented() -> None:
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = []
    for name, cmd in commands(main):
        if f"`{name}" not in doc:
            missing.append(name)
        for param in cmd.params:
            if isinstance(param, click.Option):
                for opt in param.opts:
                    if opt.startswith("--") and opt not in doc:
                        missing.append(f"{name} {opt}")
    assert not missing, f"not in docs/cli.md: {missing}"


def test_readme_starts_with_the_two_commands() -> None:
    head = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()[:6]
    assert any(line.startswith("make demo") for line in head)
    assert any(line.startswith("make test") for line in head)
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


# --- docs/reliability.md: every row is a test that runs in CI ---------------------------------------------------

TRUST_SUITES = ("test_trust_*.py", "test_rule_boundaries.py", "test_backup.py", "test_unload.py", "test_audit.py",
                "test_mutants.py", "test_ci_requirements.py")
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def _tests_of(path: Path) -> dict[str, ast.FunctionDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}


def _cases(fn: ast.FunctionDef) -> int | None:
    """How many cases pytest makes of ``fn``: the product of its literal ``parametrize`` lists (or ``range(n)``);
    None when a list is built by code (the row's count is then not checked)."""
    n = 1
    for dec in fn.decorator_list:
        if isinstance(dec, ast.Call) and ast.unparse(dec.func).endswith("parametrize"):
            values = dec.args[1]
            if isinstance(values, ast.List | ast.Tuple):
                n *= len(values.elts)
            elif isinstance(values, ast.Call) and ast.unparse(values.func) == "range":
                n *= int(ast.literal_eval(values.args[0]))
            else:
                return None
    return n


def _examples(fn: ast.FunctionDef) -> int:
    for dec in fn.decorator_list:
        if isinstance(dec, ast.Call) and ast.unparse(dec.func) == "settings":
            for kw in dec.keywords:
                if kw.arg == "max_examples":
                    return int(ast.literal_eval(kw.value))
    return 0


def test_reliability_rows_are_tests_that_run() -> None:
    rows = [line for line in (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| ") and "`tests/" in line]
    assert len(rows) >= 40
    referenced: set[tuple[str, str]] = set()
    for line in rows:
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        times, refs = cells[2], TEST_REF.findall(cells[4])
        assert refs, line
        functions = []
        for file, name in refs:
            tests = _tests_of(ROOT / file)
            assert name in tests, f"docs/reliability.md names {file}::{name}, which does not exist"
            functions.append(tests[name])
            referenced.add((file, name))
        counts = [_cases(f) for f in functions]
        if (m := re.fullmatch(r"(\d+)( cases)?", times)) and None not in counts:
            assert sum(c for c in counts if c is not None) == int(m.group(1)), line
        if m := re.fullmatch(r"(\d+) examples", times):
            assert sum(_examples(f) for f in functions) == int(m.group(1)), line
    files = [p for pattern in TRUST_SUITES for p in sorted((ROOT / "tests").glob(pattern))]
    missing = [f"{p.relative_to(ROOT)}::{name}" for p in files for name in _tests_of(p)
               if (str(p.relative_to(ROOT)), name) not in referenced]
    assert not missing, f"tests of the trust suites missing from docs/reliability.md: {missing}"


def test_the_input_contract_in_the_repository_lists_every_column() -> None:
    """docs/data-format.md is the contract users read: every table and column the loader takes is in it."""
    from chiso.load.contract import TABLES

    doc = (ROOT / "docs" / "data-format.md").read_text(encoding="utf-8")
    missing = [f"{t.name}.{c}" for t in TABLES.values() for c in (t.name, *t.names)
               if not re.search(rf"(^|[\s`|(,]){re.escape(c)}([\s`|),…]|$)", doc, re.M)]
    assert not missing, f"not in docs/data-format.md: {missing}"


def test_the_package_is_ready_to_install() -> None:
    """LICENSE, py.typed shipped with the package, an SPDX licence, and a README that says what chiso does today
    (issue 9, item 12)."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "Apache-2.0" and project["license-files"] == ["LICENSE"]
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert (ROOT / "src" / "chiso" / "py.typed").is_file()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "pip install" in readme and "docs/data-format.md" in readme
    assert not re.search(r"next issues|các bước tiếp theo|\.\./shared/", readme)
