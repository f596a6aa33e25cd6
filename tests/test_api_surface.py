"""Everything the command line does is in ``chiso.api`` for scripts (issue 9, item 12): every command of ``chiso``
has its function, and the functions answer as the commands do."""

from __future__ import annotations

import json
from datetime import datetime

import click
from click.testing import CliRunner

from chiso import api
from chiso.cli import main
from conftest import UNIT, Workspace

# command -> its function in chiso.api (a new command without a line here fails the first test)
SURFACE = {
    "alerts": "alerts", "audit": "audit", "backup": "backup", "compare": "compare", "db upgrade": "upgrade",
    "db check": "check_keys",
    "dossier history": "dossier_versions", "dossier show": "dossier", "explain": "explain", "export": "export_lake",
    "generate": "generate", "import-official": "import_official", "load": "load",
    "official review": "official_review", "official show": "official",
    "reconcile": "reconcile", "publish": "publish", "report all": "report_all",
    "report cchc": "report_cchc", "report monthly": "report_monthly",
    "report quarterly-onestop": "report_quarterly_onestop", "report templates": "report_templates",
    "report unit": "report_unit", "restore": "restore", "rules check": "check_rule_set", "rules list": "rule_sets",
    "rules show": "rule_set", "score": "score", "serve": "web_app", "simulate": "simulate", "status": "status",
    "units init": "init_units", "units list": "units", "unload": "unload", "users add": "add_user",
    "users disable": "disable_user", "users list": "list_users", "users password": "set_password",
    "users token": "issue_token",
}


def _commands(group: click.Group, prefix: str = "") -> list[str]:
    out = []
    for name, cmd in group.commands.items():
        full = f"{prefix} {name}".strip()
        out += _commands(cmd, full) if isinstance(cmd, click.Group) else [full]
    return out


def test_every_command_has_its_function() -> None:
    assert sorted(_commands(main)) == sorted(SURFACE)
    missing = [f for f in SURFACE.values() if not callable(getattr(api, f, None))]
    assert not missing


def test_the_functions_answer_as_the_commands(ws: Workspace) -> None:
    ws.load("procedures", [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": "5", "time_unit": "working_days"}])
    ws.load("dossiers", [{"dossier_id": "H1", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
                          "received_at": "2025-09-08 09:00"}])
    units = api.units(ws.store, level="department")
    assert UNIT in {u["code"] for u in units} and all(u["level"] == "department" for u in units)
    assert api.rule_set("vn-766-2026").name == "vn-766-2026" and "vn-766-2026" in api.rule_sets()
    as_of = datetime(2025, 9, 30, 17)
    _, results = api.score(ws.store, "2025-09", as_of=as_of, unit=UNIT)
    ws.store.close()
    r = CliRunner().invoke(main, ["-w", str(ws.store.workspace), "score", "--period", "2025-09", "--unit", UNIT,
                                  "--as-of", "2025-09-30 17:00", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout) == results
