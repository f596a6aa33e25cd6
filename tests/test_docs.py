"""Docs that tests keep honest: every CLI command and option is in docs/cli.md; the README's first
lines give the two commands; .ci/run calls the README's test command."""

from __future__ import annotations

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
