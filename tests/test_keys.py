"""The keys of the loaded tables stay unique without a key index (migration 0013): the embedded store keeps none on
the tables that grow with the dossiers, so the loader's merge by key is what keeps one row per dossier, per pause,
per evaluation, per feedback, and one history row per version. `chiso db check` finds rows written outside chiso.

Every expected count below follows from the loading rules (docs/data-format.md, "Loading again"): a newer version
replaces the current row, which goes to history; an older or already-kept version goes to history only, once."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner

from chiso import api
from chiso.cli import main
from chiso.store.db import Store, migrations
from chiso.store.keys import duplicate_keys, keyed_tables
from conftest import Workspace, write_csv
from test_scoring import PROCS
from test_unload import dossier

GROWING = ("dossiers", "dossier_history", "pauses", "pauses_history", "feedback", "feedback_history",
           "evaluations", "evaluations_history")


def counts(con: Any) -> dict[str, int]:
    return {t: int(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in GROWING}


def officer(con: Any, did: str) -> str:
    return str(con.execute("SELECT officer FROM dossiers WHERE dossier_id = ?", [did]).fetchone()[0])


def test_the_large_tables_have_no_key_index_on_the_embedded_store(ws: Workspace) -> None:
    keyed = {r[0] for r in ws.store.con.execute(
        "SELECT table_name FROM duckdb_constraints() WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')").fetchall()}
    assert not keyed & set(GROWING)
    assert {"units", "procedures", "settings"} <= keyed  # the small tables keep theirs
    assert {t for t, _ in keyed_tables()} >= set(GROWING)


@pytest.mark.parametrize("store", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_loads_again_keep_one_row_per_key(store: str, request: pytest.FixtureRequest) -> None:
    """The same merge on both stores: PostgreSQL keeps its keys, so a duplicate there would be refused loudly."""
    ws: Workspace = request.getfixturevalue("ws" if store == "duckdb" else "pg_ws")
    con = ws.store.con
    ws.load("procedures", PROCS)

    def after(expected: dict[str, int]) -> None:
        assert duplicate_keys(con) == []
        assert {t: n for t, n in counts(con).items() if n} == expected

    ws.load("dossiers", [dossier("A", officer="v1"), dossier("B", officer="b")])  # the first load: a plain insert
    after({"dossiers": 2})
    ws.load("dossiers", [dossier("A", updated="2025-09-10 09:00", officer="v2"), dossier("B", officer="b")])
    after({"dossiers": 2, "dossier_history": 1})  # v1 replaced, B unchanged
    assert officer(con, "A") == "v2"
    ws.load("dossiers", [dossier("A", officer="v1")])  # a version already in history: nothing new
    after({"dossiers": 2, "dossier_history": 1})
    ws.load("dossiers", [dossier("A", updated="2025-09-05 09:00", officer="v0")])  # older, never seen: history only
    after({"dossiers": 2, "dossier_history": 2})
    ws.load("dossiers", [dossier("A", updated="2025-09-05 09:00", officer="v0")])  # the same once more
    after({"dossiers": 2, "dossier_history": 2})
    assert officer(con, "A") == "v2"
    ws.load("dossiers", [dossier("A", updated="2025-09-12 09:00", officer="v3"), dossier("C")])
    after({"dossiers": 3, "dossier_history": 3})
    assert officer(con, "A") == "v3"
    # One load of two files, the second replacing what the first inserted: the merge sees the first's rows.
    first = write_csv(ws.tmp / "d1.csv", [dossier("D", officer="d1")])
    second = write_csv(ws.tmp / "d2.csv", [dossier("D", updated="2025-09-11 09:00", officer="d2")])
    api.load(ws.store, [first, second], table="dossiers")
    after({"dossiers": 4, "dossier_history": 4})
    assert officer(con, "D") == "d2"

    pause = {"dossier_id": "A", "kind": "supplement", "started_at": "2025-09-09 09:00", "ended_at": ""}
    ws.load("pauses", [pause])
    ws.load("pauses", [{**pause, "ended_at": "2025-09-10 09:00"}])
    ws.load("pauses", [{**pause, "ended_at": "2025-09-10 09:00"}])
    evaluation = {"dossier_id": "A", "unit_code": "03646", "evaluated_at": "2025-09-12 10:00", "evaluator": "citizen",
                  **{f"i{i}": 2 for i in range(1, 10)}}
    ws.load("evaluations", [evaluation])
    ws.load("evaluations", [{**evaluation, "i1": 1}])
    feedback = {"feedback_id": "F1", "unit_code": "14.STP", "received_at": "2025-09-01 08:00", "handled_at": ""}
    ws.load("feedback", [feedback])
    ws.load("feedback", [{**feedback, "handled_at": "2025-09-03 08:00"}])
    after({"dossiers": 4, "dossier_history": 4, "pauses": 1, "pauses_history": 1, "evaluations": 1,
           "evaluations_history": 1, "feedback": 1, "feedback_history": 1})
    assert con.execute("SELECT ended_at FROM pauses").fetchall() == [(dt.datetime(2025, 9, 10, 9, 0),)]
    assert con.execute("SELECT i1 FROM evaluations").fetchall() == [(1,)]


def test_db_check_finds_a_row_written_outside_chiso(ws: Workspace) -> None:
    ws.load("procedures", PROCS)
    ws.load("dossiers", [dossier("A"), dossier("B")])
    workspace = ws.store.workspace
    clean = CliRunner().invoke(main, ["-w", str(workspace), "db", "check"])
    assert clean.exit_code == 0 and "không có dòng trùng" in clean.output, clean.output
    ws.store.con.execute("INSERT INTO dossiers SELECT * FROM dossiers WHERE dossier_id = 'B'")  # by hand
    ws.store.con.execute("INSERT INTO pauses_history VALUES ('A', 'supplement', TIMESTAMP '2025-09-09 09:00', NULL, "
                         "'h', 1, 7), ('A', 'supplement', TIMESTAMP '2025-09-09 09:00', NULL, 'h2', 1, 7)")
    ws.store.close()
    found = CliRunner().invoke(main, ["-w", str(workspace), "db", "check"])
    assert found.exit_code == 1, found.output
    assert "Bảng dossiers: 1 khóa có nhiều dòng (1 dòng thừa), ví dụ dossier_id = B." in found.output
    assert "Bảng pauses_history: 1 khóa" in found.output and "superseded_by_load = 7" in found.output
    assert "chiso restore" in found.output and "Traceback" not in found.output


def test_an_older_store_loses_its_key_indexes_and_keeps_its_rows(tmp_path: Path) -> None:
    folder = tmp_path / "cu"
    folder.mkdir()
    con = duckdb.connect(str(folder / "chiso.duckdb"))
    con.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "applied_at TIMESTAMP NOT NULL)")
    for version, name, sql in migrations():
        if version < 13:
            con.execute(sql)
            con.execute("INSERT INTO schema_migrations VALUES (?, ?, ?)", [version, name, dt.datetime(2025, 1, 1)])
    con.execute("INSERT INTO dossiers (dossier_id, unit_code, procedure_code, channel, received_at, row_hash, load_id, "
                "computed_due, settled_at) VALUES ('A', 'U', 'P', 'online', TIMESTAMP '2025-09-08 09:00', 'h', 1, "
                "TIMESTAMP '2025-09-15 09:00', TIMESTAMP '2025-09-20 10:00')")
    con.execute("INSERT INTO evaluations (dossier_id, unit_code, evaluated_at, evaluator, i1, row_hash, load_id) "
                "VALUES ('A', 'U', TIMESTAMP '2025-09-12 10:00', 'citizen', 2, 'e', 1)")
    before = {t: con.execute(f"SELECT * FROM {t}").fetchall() for t in GROWING}
    columns = {t: con.execute(f"SELECT * FROM {t} LIMIT 0").description for t in GROWING}
    con.close()
    (folder / "chiso.toml").write_text("[calendar]\nyears = [2020, 2030]\n", encoding="utf-8")
    with Store.open(folder) as store:
        assert {t: store.con.execute(f"SELECT * FROM {t}").fetchall() for t in GROWING} == before
        assert {t: store.con.execute(f"SELECT * FROM {t} LIMIT 0").description for t in GROWING} == columns
        assert not store.con.execute("SELECT table_name FROM duckdb_constraints() WHERE constraint_type = "
                                     "'PRIMARY KEY' AND table_name IN ('dossiers', 'evaluations')").fetchall()
        assert store.con.execute("SELECT max(version) FROM schema_migrations").fetchone() == (13,)
    assert any(p.name.startswith("auto-before-migration-0013-") for p in (folder / "backups").iterdir())
