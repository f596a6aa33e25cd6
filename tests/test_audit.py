"""The audit trail: every load (user, host, command, file fingerprint, counts, rejected rows), publication, unload,
backup, restore, and every change of the configuration, templates, rule sets and departments list is recorded in
the store; `chiso audit` lists it, newest first."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import socket
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from chiso import api, api_admin
from chiso.load.loader import LoadError
from chiso.store.db import Store
from conftest import Workspace, write_csv
from test_backup import cli
from test_scoring import DOSSIERS, PROCS


@pytest.fixture(autouse=True)
def user(monkeypatch: pytest.MonkeyPatch) -> str:
    """The operating-system user the entries must name (getpass reads LOGNAME first)."""
    monkeypatch.setenv("LOGNAME", "can-bo-van-phong")
    return "can-bo-van-phong"


def entries(store: Store, *actions: str) -> list[api_admin.AuditEntry]:
    return api_admin.audit(store, actions=actions)


def test_a_load_is_recorded_with_its_fingerprint_counts_and_rejected_rows(ws: Workspace, user: str) -> None:
    path = write_csv(ws.tmp / "thu-tuc.csv", [*PROCS, {"code": "PX", "name": "X", "time_limit": "abc"}])
    report = api.load(ws.store, [path], partial=True)
    (f,) = report.files
    entry, units = entries(ws.store, "load")  # newest first: this load, then the fixture's units
    assert units.details["table"] == "units"
    assert (entry.user, entry.host, entry.object) == (user, socket.gethostname(), str(f.load_id))
    assert entry.details["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert entry.details["file"] == str(path) and entry.details["table"] == "procedures"
    # 4 rows read: the 3 procedures inserted, PX rejected (time_limit not a number) and written out.
    assert {k: entry.details[k] for k in ("rows_read", "inserted", "updated", "unchanged", "rejected")} == {
        "rows_read": 4, "inserted": 3, "updated": 0, "unchanged": 0, "rejected": 1}
    assert entry.details["rejected_file"] and Path(entry.details["rejected_file"]).is_file()
    row = ws.store.con.execute("SELECT user_name, host, command, history_kept FROM loads WHERE load_id = ?",
                               [f.load_id]).fetchone()
    assert row is not None and row[:2] == (user, socket.gethostname()) and row[2] and row[3] is True


def test_a_refused_load_leaves_no_entry(ws: Workspace) -> None:
    """Audit rows are written inside the load's transaction: a load that stores nothing records nothing."""
    before = ws.store.count("audit_log"), ws.store.count("loads")
    with pytest.raises(LoadError):
        ws.load("procedures", [{"code": "PX", "name": "X", "time_limit": "abc"}])
    assert (ws.store.count("audit_log"), ws.store.count("loads")) == before


def test_cli_audit_lists_load_publish_and_unload_with_user_and_host(ws: Workspace, user: str) -> None:
    ws.load("procedures", PROCS)
    ws.load("dossiers", DOSSIERS)
    extra = ws.load("dossiers", [DOSSIERS[0] | {"dossier_id": "EXTRA"}])
    api.publish(ws.store, "2025-09", as_of=datetime(2025, 10, 15))
    api_admin.unload(ws.store, int(extra.files[0].load_id or 0))
    workspace = ws.store.workspace
    ws.store.close()
    r = cli(workspace, "audit", "--format", "json")
    assert r.exit_code == 0, r.output
    listed: list[dict[str, Any]] = json.loads(r.stdout)
    assert [e["id"] for e in listed] == sorted((e["id"] for e in listed), reverse=True)  # newest first
    actions = [e["action"] for e in listed]
    assert actions[:2] == ["unload", "publish"] and actions.count("load") == 4  # units, procedures, 2 dossiers
    for e in listed[:2]:
        assert (e["user"], e["host"]) == (user, socket.gethostname())
    assert listed[0]["details"]["load_id"] == extra.files[0].load_id
    assert listed[1]["details"]["period"] == "2025-09" and listed[1]["details"]["publication_id"] == 1
    r = cli(workspace, "audit")
    assert r.exit_code == 0
    for text in ("Thời điểm", "Người dùng", "Máy", "Thao tác", "gỡ lần nạp", "công bố kết quả", "nạp dữ liệu",
                 user, socket.gethostname()):
        assert text in r.stdout, text


def test_editing_the_configuration_and_a_template_is_recorded(ws: Workspace) -> None:
    from chiso.reports.documents import copy_templates

    copy_templates(ws.store)
    workspace = ws.store.workspace
    ws.store.close()
    ws.store = Store.open(workspace)  # the copied templates are seen once, as added
    added = entries(ws.store, "template_changed")
    assert {e.object for e in added} == {f"templates/{p.name}" for p in (workspace / "templates").iterdir()}
    assert all(e.details["change"] == "added" for e in added)
    ws.store.close()

    toml = workspace / "chiso.toml"
    old_toml = hashlib.sha256(toml.read_bytes()).hexdigest() if toml.exists() else None
    toml.write_text('[deadline]\ncutoff = "16:00"\n', encoding="utf-8")
    template = workspace / "templates" / "phu-luc-thang.xlsx"
    old_template = hashlib.sha256(template.read_bytes()).hexdigest()
    with template.open("ab") as fh:
        fh.write(b"\0")
    (workspace / "templates" / "cong-van-don-vi.docx").unlink()
    (workspace / "rules").mkdir()
    (workspace / "rules" / "tinh.toml").write_text("name = 'tinh'\n", encoding="utf-8")
    (workspace / "templates" / "~$phu-luc-thang.xlsx").write_bytes(b"lock")  # Excel's lock file: not a change

    r = cli(workspace, "status", "--as-of", "2025-09-30")  # any command that opens the store
    assert r.exit_code == 0, r.output
    with Store.open(workspace) as store:
        config = entries(store, "config_changed")
        assert len(config) == 1 and config[0].object == "chiso.toml"
        assert config[0].details["old_sha256"] == old_toml
        assert config[0].details["new_sha256"] == hashlib.sha256(toml.read_bytes()).hexdigest()
        changed = {e.object: e.details for e in entries(store, "template_changed") if e.details["change"] != "added"}
        assert changed == {
            "templates/phu-luc-thang.xlsx": changed["templates/phu-luc-thang.xlsx"]
            | {"change": "changed", "old_sha256": old_template,
               "new_sha256": hashlib.sha256(template.read_bytes()).hexdigest()},
            "templates/cong-van-don-vi.docx": changed["templates/cong-van-don-vi.docx"]
            | {"change": "removed", "new_sha256": None},
        }
        (rules,) = entries(store, "rules_changed")
        assert (rules.object, rules.details["change"]) == ("rules/tinh.toml", "added")
        count = store.count("audit_log")
    with Store.open(workspace) as store:  # nothing changed since: nothing recorded
        assert store.count("audit_log") == count


def test_audit_filters_and_formats(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", [PROCS[0] | {"name": "=HYPERLINK(\"http://x\",\"y\")"}])
    ws.store.con.execute("UPDATE audit_log SET recorded_at = TIMESTAMP '2025-01-01 08:00:00' WHERE action = 'load' "
                         "AND object = '1'")  # the units load, long ago
    assert [e.object for e in api_admin.audit(ws.store, since=date(2025, 6, 1), actions=["load"])] == ["2"]
    workspace = ws.store.workspace
    ws.store.close()
    r = cli(workspace, "audit", "--action", "load", "--since", "01/06/2025", "--format", "csv",
            "--out", str(tmp_path / "nhat-ky.csv"))
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO((tmp_path / "nhat-ky.csv").read_text(encoding="utf-8"))))
    assert [(x["action"], x["object"]) for x in rows] == [("load", "2")]
    assert json.loads(rows[0]["details"])["inserted"] == 1
    r = cli(workspace, "audit", "--since", "2025-13-01")
    assert r.exit_code == 2 and "không phải ngày" in r.output
    r = cli(workspace, "audit", "--out", str(workspace / "chiso.duckdb"))
    assert r.exit_code == 2 and "là tệp của kho dữ liệu" in r.stderr
    assert (workspace / "chiso.duckdb").stat().st_size > 0


def test_backup_and_restore_are_recorded(ws: Workspace, tmp_path: Path) -> None:
    info = api_admin.backup(ws.store, tmp_path / "sl")
    (entry,) = entries(ws.store, "backup")
    assert entry.details["path"] == str(info.path.resolve())
    ws.store.close()
    api_admin.restore(info.path, tmp_path / "ws2")
    with Store.open(tmp_path / "ws2") as store:
        (restored,) = entries(store, "restore")
        assert restored.details["source"] == str(info.path.resolve())
        assert restored.details["files"] == len(info.manifest.files)
        assert entries(store, "backup")[0].id == entry.id  # the copy holds the backup's own entry
