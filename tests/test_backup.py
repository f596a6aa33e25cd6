"""`chiso backup` / `chiso restore`: a consistent copy of the whole workspace, checked on restore, and an automatic
backup before each migration and before a restore. A round trip gives the same tables, sequences and files, and
the same `status` and `score`."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from chiso import api, api_admin
from chiso.cli import main
from chiso.store.db import Store, migrations
from conftest import Workspace
from test_scoring import DOSSIERS, FEEDBACK, INPUTS, PROCS

AS_OF = datetime(2025, 10, 15)


# --- helpers shared with test_unload.py --------------------------------------------------------------------------


def tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [str(r[0]) for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_catalog = current_database() ORDER BY 1").fetchall()]


def snapshot(con: duckdb.DuckDBPyConnection, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the store, sorted (the order of rows in a table means nothing)."""
    return {t: sorted(con.execute(f'SELECT * FROM "{t}"').fetchall(), key=repr) for t in tables(con) if t not in skip}


def sequences(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    return dict(con.execute("SELECT sequence_name, last_value FROM duckdb_sequences()").fetchall())


def files(folder: Path) -> dict[str, bytes]:
    """Every file's bytes, except the backups folder and the database (compared by its tables)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.relative_to(folder).parts[0] != "backups" and not p.name.startswith("chiso.duckdb")}


def cli(workspace: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--workspace", str(workspace), *args])


# --- a workspace with everything -------------------------------------------------------------------------------


@pytest.fixture
def full(ws: Workspace) -> Workspace:
    """Units, procedures, dossiers (one of them in two versions: history), pauses, feedback, indicator inputs, a
    calendar override, a publication, a chiso.toml and an edited template."""
    from docx import Document

    from chiso.reports.documents import copy_templates

    ws.config('[deadline]\ncutoff = "15:00"\n\n[report]\nplace = "Sơn La"\n')
    ws.load("procedures", PROCS)
    ws.load("dossiers", DOSSIERS)
    x3 = next(r for r in DOSSIERS if r["dossier_id"] == "X3") | {"finished_at": "2025-09-20 10:00"}
    ws.load("dossiers", [x3])
    ws.load("pauses", [{"dossier_id": "X2", "kind": "supplement", "started_at": "2025-09-09 09:00",
                        "ended_at": "2025-09-10 09:00"}])
    ws.load("feedback", FEEDBACK)
    ws.load("indicator_inputs", INPUTS)
    ws.load("calendar", [{"date": "2025-09-13", "kind": "workday", "note": "làm bù", "province": "Sơn La"}])
    api.publish(ws.store, "2025-09", as_of=AS_OF)
    copy_templates(ws.store)
    template = ws.store.workspace / "templates" / "cong-van-thang.docx"
    doc = Document(str(template))
    doc.add_paragraph("Đoạn văn Văn phòng thêm vào mẫu.")
    doc.save(str(template))
    ws.store.close()
    ws.store = Store.open(ws.store.workspace)  # records the edited files in the audit trail
    return ws


def results(store: Store) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    status = api.status(store, AS_OF, details=True).to_pylist()
    _, score = api.score(store, "2025-09", as_of=AS_OF)
    return status, score


def test_round_trip_is_identical(full: Workspace, tmp_path: Path) -> None:
    store = full.store
    info = api_admin.backup(store, tmp_path / "sao-luu")
    assert info.path == tmp_path / "sao-luu"
    before_tables, before_seq, before_files = snapshot(store.con), sequences(store.con), files(store.workspace)
    before_results = results(store)
    assert store.count("dossier_history") == 1 and store.count("publications") == 1  # the fixture is what it says
    assert {"chiso.toml", "templates/cong-van-thang.docx", "departments.csv"} <= set(before_files)
    manifest = json.loads((info.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema_version"] == max(v for v, _, _ in migrations())
    assert {f["path"] for f in manifest["files"]} == {*before_files, "chiso.duckdb"}

    target = tmp_path / "moi" / "chiso-data"
    restored = api_admin.restore(info.path, target)
    assert restored.auto_backup is None  # nothing there to keep
    with Store.open(target) as copy:
        after = snapshot(copy.con)
        # The restore itself is recorded: one more audit entry, the only difference.
        log_after = after.pop("audit_log")
        log_before = before_tables.pop("audit_log")
        assert [r for r in log_after if r not in log_before] == [
            next(r for r in log_after if r[5] == "restore")]
        assert len(log_after) == len(log_before) + 1
        assert after == before_tables
        seq = sequences(copy.con)
        assert seq.pop("audit_seq") == before_seq.pop("audit_seq") + 1
        assert seq == before_seq
        assert files(target) == before_files
        assert results(copy) == before_results


def test_backup_is_a_consistent_copy_with_its_manifest(full: Workspace, tmp_path: Path) -> None:
    info = api_admin.backup(full.store)  # default: <workspace>/backups/<time>
    assert info.path.parent == full.store.workspace / "backups"
    manifest = json.loads((info.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["user"] and manifest["host"] and manifest["chiso_version"]
    import hashlib

    for f in manifest["files"]:
        data = (info.path / f["path"]).read_bytes()
        assert (hashlib.sha256(data).hexdigest(), len(data)) == (f["sha256"], f["size"]), f["path"]
    # A second backup does not copy the first one (backups/ is not content).
    second = api_admin.backup(full.store)
    assert second.path != info.path
    listed = {f["path"] for f in json.loads((second.path / "manifest.json").read_text())["files"]}
    assert not any(p.startswith("backups/") for p in listed)
    # The copied database opens on its own and holds the data.
    con = duckdb.connect(str(info.path / "chiso.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM dossiers").fetchone() == (len(DOSSIERS),)
    con.close()


@pytest.mark.parametrize("out", [".", "templates/sao-luu", "backups", "rejected"])
def test_backup_refuses_a_folder_inside_the_workspace_data(ws: Workspace, out: str) -> None:
    target = ws.store.workspace / out
    with pytest.raises(api_admin.BackupError, match="nằm trong dữ liệu của chính thư mục dữ liệu"):
        api_admin.backup(ws.store, target)
    assert not (target / "manifest.json").exists()


def test_backup_refuses_a_folder_with_files(ws: Workspace, tmp_path: Path) -> None:
    (tmp_path / "da-co").mkdir()
    (tmp_path / "da-co" / "x.txt").write_text("x")
    with pytest.raises(api_admin.BackupError, match="không trống"):
        api_admin.backup(ws.store, tmp_path / "da-co")


@pytest.fixture
def made(full: Workspace, tmp_path: Path) -> Path:
    path = api_admin.backup(full.store, tmp_path / "sao-luu").path
    full.store.close()
    return path


def _refused(source: Path, target: Path, match: str) -> None:
    with pytest.raises(api_admin.BackupError, match=match):
        api_admin.restore(source, target)
    assert not target.exists()


def test_restore_refuses_a_tampered_file(made: Path, tmp_path: Path) -> None:
    toml = made / "chiso.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("15:00", "16:00"), encoding="utf-8")  # same size
    _refused(made, tmp_path / "ws2", "tệp chiso.toml khác mã băm")


def test_restore_refuses_a_file_of_another_size(made: Path, tmp_path: Path) -> None:
    with (made / "templates" / "cong-van-thang.docx").open("ab") as fh:
        fh.write(b"\0")
    _refused(made, tmp_path / "ws2", "tệp templates/cong-van-thang.docx có kích thước")


def test_restore_refuses_an_incomplete_backup(made: Path, tmp_path: Path) -> None:
    (made / "chiso.duckdb").unlink()
    _refused(made, tmp_path / "ws2", "thiếu tệp chiso.duckdb")


def test_restore_refuses_a_file_the_manifest_does_not_list(made: Path, tmp_path: Path) -> None:
    (made / "rules").mkdir(exist_ok=True)
    (made / "rules" / "la.toml").write_text("name = 'x'\n")
    _refused(made, tmp_path / "ws2", "tệp rules/la.toml không có trong tệp kê khai")


def test_restore_refuses_paths_outside_the_backup(made: Path, tmp_path: Path) -> None:
    manifest = json.loads((made / "manifest.json").read_text())
    manifest["files"].append({"path": "../evil.txt", "sha256": "0" * 64, "size": 0})
    (made / "manifest.json").write_text(json.dumps(manifest))
    _refused(made, tmp_path / "ws2", "đường dẫn không hợp lệ")


def test_restore_refuses_a_newer_schema(made: Path, tmp_path: Path) -> None:
    manifest = json.loads((made / "manifest.json").read_text())
    known = max(v for v, _, _ in migrations())
    manifest["schema_version"] = known + 1
    (made / "manifest.json").write_text(json.dumps(manifest))
    _refused(made, tmp_path / "ws2", f"lược đồ kho số {known + 1}, mới hơn")


def test_restore_refuses_a_folder_without_manifest(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    _refused(tmp_path / "x", tmp_path / "ws2", "thiếu manifest.json")


def test_restore_over_data_backs_it_up_first_and_keeps_backups(full: Workspace, tmp_path: Path) -> None:
    """The workspace after the backup gets more data; restoring puts it back as it was, and what was there is
    in backups/auto-before-restore-…, itself a valid backup holding the newer data."""
    workspace = full.store.workspace
    made = api_admin.backup(full.store, tmp_path / "sao-luu").path
    older = api_admin.backup(full.store).path  # a backup inside the workspace: must survive the restore
    before = snapshot(full.store.con, skip=("audit_log",))
    full.load("procedures", [{"code": "PZ", "name": "Thủ tục mới", "level": "commune", "time_limit": 3}])
    full.store.close()
    info = api_admin.restore(made, workspace)
    assert info.auto_backup is not None and info.auto_backup.parent == workspace / "backups"
    assert info.auto_backup.name.startswith("auto-before-restore-")
    assert older.is_dir() and (older / "manifest.json").is_file()
    api_admin.verify_backup(info.auto_backup)
    with Store.open(workspace) as store:
        assert snapshot(store.con, skip=("audit_log",)) == before
        assert store.con.execute("SELECT count(*) FROM procedures WHERE code = 'PZ'").fetchone() == (0,)
    con = duckdb.connect(str(info.auto_backup / "chiso.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM procedures WHERE code = 'PZ'").fetchone() == (1,)
    con.close()
    assert not [p for p in workspace.parent.iterdir() if p.name.startswith(f".{workspace.name}.")]  # no leftovers


def _old_store(folder: Path, upto: int) -> None:
    """A store as an older chiso left it: only the migrations up to ``upto``, and some data."""
    folder.mkdir(parents=True)
    con = duckdb.connect(str(folder / "chiso.duckdb"))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TIMESTAMP NOT NULL)")
    for version, name, sql in migrations():
        if version <= upto:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, datetime(2025, 1, 1)])
    con.execute("INSERT INTO procedures (code, name, row_hash, load_id) VALUES ('P1', 'Cũ', 'h', 1)")
    con.close()
    (folder / "chiso.toml").write_text("[calendar]\nyears = [2020, 2030]\n", encoding="utf-8")


def test_automatic_backup_before_a_migration(tmp_path: Path) -> None:
    folder = tmp_path / "cu"
    _old_store(folder, 3)
    with Store.open(folder) as store:
        assert store.con.execute("SELECT max(version) FROM schema_migrations").fetchone() == (
            max(v for v, _, _ in migrations()),)
    made = sorted((folder / "backups").iterdir())
    assert len(made) == 1 and made[0].name.startswith("auto-before-migration-0004-")
    manifest = api_admin.verify_backup(made[0])
    assert manifest.schema_version == 3
    con = duckdb.connect(str(made[0] / "chiso.duckdb"), read_only=True)
    assert con.execute("SELECT max(version) FROM schema_migrations").fetchone() == (3,)
    assert con.execute("SELECT name FROM procedures").fetchall() == [("Cũ",)]
    con.close()
    # Opening again migrates nothing, so makes no new backup; a new store never gets one.
    Store.open(folder).close()
    assert len(list((folder / "backups").iterdir())) == 1
    Store.open(tmp_path / "moi").close()
    assert not (tmp_path / "moi" / "backups").exists()


def test_cli_backup_and_restore(full: Workspace, tmp_path: Path) -> None:
    workspace = full.store.workspace
    full.store.close()
    r = cli(workspace, "backup", "--out", str(tmp_path / "sl"))
    assert r.exit_code == 0, r.output
    assert f"vào {tmp_path / 'sl'}" in r.stdout
    r = cli(tmp_path / "ws2", "restore", str(tmp_path / "sl"), "--check")
    assert r.exit_code == 0 and "nguyên vẹn" in r.stdout
    assert not (tmp_path / "ws2").exists()
    r = cli(tmp_path / "ws2", "restore", str(tmp_path / "sl"))
    assert r.exit_code == 0, r.output
    assert "Đã khôi phục" in r.stdout
    assert files(tmp_path / "ws2") == files(workspace)
    (tmp_path / "sl" / "chiso.toml").write_text("x")
    r = cli(tmp_path / "ws3", "restore", str(tmp_path / "sl"))
    assert r.exit_code == 1 and "chiso.toml" in r.stderr and "Traceback" not in r.output
    r = cli(workspace, "backup", "--out", str(workspace / "units"))
    assert r.exit_code == 2 and "nằm trong dữ liệu" in r.stderr and "Traceback" not in r.output


def test_restore_into_itself_is_refused(made: Path) -> None:
    with pytest.raises(api_admin.BackupError, match="vào chính nó"):
        api_admin.restore(made, made / "ben-trong")
    assert not (made / "ben-trong").exists()


def test_restore_over_a_damaged_store(made: Path, tmp_path: Path) -> None:
    """What the message for a damaged store advises: the damaged files are kept as they are in the automatic
    backup, and the workspace is restored."""
    import os

    ws = tmp_path / "hong"
    ws.mkdir()
    damaged = os.urandom(8192)
    (ws / "chiso.duckdb").write_bytes(damaged)
    r = cli(ws, "restore", str(made))
    assert r.exit_code == 0, r.output
    (auto,) = (ws / "backups").iterdir()
    assert auto.name.startswith("auto-before-restore-") and (auto / "chiso.duckdb").read_bytes() == damaged
    with pytest.raises(api_admin.BackupError, match="không phải kho dữ liệu chiso"):
        api_admin.verify_backup(auto)  # kept as it was, but it cannot be restored: it is not a store
    with Store.open(ws) as store:
        assert store.count("dossiers") == len(DOSSIERS)


def test_restore_over_a_busy_store_changes_nothing(made: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    from chiso.failures import EXIT_TEMPFAIL

    ws = tmp_path / "ban"
    Store.open(ws).close()
    before = (ws / "chiso.duckdb").read_bytes()
    holder = subprocess.Popen([sys.executable, "-c", "import time; from chiso.store.db import Store; "
                               f"s = Store.open({str(ws)!r}); print('open', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        r = cli(ws, "restore", str(made))
        assert r.exit_code == EXIT_TEMPFAIL and "đang được một tiến trình khác dùng" in r.output
        assert "Traceback" not in r.output
    finally:
        holder.kill()
        holder.wait()
    assert (ws / "chiso.duckdb").read_bytes() == before and not (ws / "backups").exists()


def test_restore_refuses_a_database_that_is_not_a_store_even_with_a_matching_manifest(made: Path,
                                                                                        tmp_path: Path) -> None:
    """Found by the adversarial review: random bytes with a rewritten manifest were swapped in."""
    database = made / "chiso.duckdb"
    database.write_bytes(os.urandom(database.stat().st_size))
    manifest = json.loads((made / "manifest.json").read_text())
    for f in manifest["files"]:
        if f["path"] == "chiso.duckdb":
            f["sha256"] = hashlib.sha256(database.read_bytes()).hexdigest()
    (made / "manifest.json").write_text(json.dumps(manifest))
    _refused(made, tmp_path / "ws2", "không phải kho dữ liệu chiso")


def test_restore_into_a_linked_workspace_restores_where_the_link_points(made: Path, tmp_path: Path) -> None:
    """Found by the adversarial review: the link became a folder and its target kept the old store."""
    real = tmp_path / "o-du-lieu"
    real.mkdir()
    link = tmp_path / "chiso-data"
    link.symlink_to(real)
    api_admin.restore(made, link)
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert (real / "chiso.duckdb").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".chiso-data")]
