"""A small real province for the web tests: Sơn La's units, two generated months (2025-08, 2025-09), the month
2025-09 published, and one account per role. Built through the CLI, on the embedded store or on PostgreSQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from chiso import accounts
from chiso.cli import main
from chiso.store.db import Store

AS_OF = datetime(2025, 9, 30, 17, 0)
PERIOD = "2025-09"
PASSWORDS = {"admin": "mat-khau-quan-tri", "viewer": "mat-khau-chi-xem", "xa": "mat-khau-cua-xa",
             "so": "mat-khau-cua-so"}


@dataclass
class Province:
    workspace: Path
    database: str | None
    commune: str  # a commune with dossiers (the account "xa" belongs to it)
    other_commune: str  # another commune with dossiers
    department: str  # the department of the account "so"
    dossier_own: str  # a dossier of `commune`
    dossier_other: str  # a dossier of `other_commune`
    tokens: dict[str, str]

    def store(self) -> Store:
        return Store.open(self.workspace, database=self.database)


def cli(workspace: Path, database: str | None, *args: str) -> str:
    prefix = ["-w", str(workspace)] + (["--database", database] if database else [])
    result = CliRunner().invoke(main, [*prefix, *args], catch_exceptions=False)
    assert result.exit_code == 0, f"chiso {' '.join(args)} → {result.exit_code}: {result.output}"
    return result.output


def build(root: Path, database: str | None = None) -> Province:
    data = root / "data"
    workspace = root / "ws"
    if database:
        cli(workspace, database, "db", "upgrade")
    cli(workspace, database, "units", "init", "--province", "Sơn La")
    cli(workspace, None, "generate", "--province", "Sơn La", "--from", "2025-08", "--to", "2025-09", "--seed", "3",
        "--scale", "0.05", "--out", str(data))
    cli(workspace, database, "load", *(str(p) for p in sorted(data.iterdir())))
    cli(workspace, database, "publish", "--period", PERIOD, "--as-of", "2025-10-05 10:00")
    with Store.open(workspace, database=database) as store:
        busiest = store.con.execute(
            "SELECT d.unit_code FROM dossiers d JOIN units u ON u.code = d.unit_code WHERE u.level = 'commune' "
            "GROUP BY d.unit_code ORDER BY count(*) DESC, d.unit_code LIMIT 2").fetchall()
        commune, other = str(busiest[0][0]), str(busiest[1][0])
        own = store.con.execute("SELECT min(dossier_id) FROM dossiers WHERE unit_code = ?", [commune]).fetchone()
        theirs = store.con.execute("SELECT min(dossier_id) FROM dossiers WHERE unit_code = ?", [other]).fetchone()
        assert own and theirs
        accounts.add_user(store, "admin", "admin", PASSWORDS["admin"])
        accounts.add_user(store, "viewer", "viewer", PASSWORDS["viewer"])
        accounts.add_user(store, "xa", "unit", PASSWORDS["xa"], unit_code=commune)
        accounts.add_user(store, "so", "unit", PASSWORDS["so"], unit_code="14.STP")
        tokens = {name: accounts.issue_token(store, name) for name in PASSWORDS}
    return Province(workspace, database, commune, other, "14.STP", str(own[0]), str(theirs[0]), tokens)


def login(client: Any, name: str, password: str | None = None) -> None:
    """Log ``client`` (a TestClient) in through the login form, CSRF token included."""
    page = client.get("/dang-nhap")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    answer = client.post("/dang-nhap", data={"csrf": token.group(1), "name": name,
                                             "password": password or PASSWORDS[name]}, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def csrf_of(client: Any, url: str = "/nap-du-lieu") -> str:
    page = client.get(url)
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token, page.text
    return token.group(1)
