"""The whole store on PostgreSQL (``chiso --database URL``): schema upgrades, loads through COPY, the same
located errors, and results equal to the embedded DuckDB store's, unit by unit and indicator by indicator.

Needs the PostgreSQL test server (conftest.postgres_schema: 127.0.0.1:5432, database ``test``; failed when
``CI=true`` and it is missing, skipped otherwise). Every test works in a schema of its own, dropped afterwards.
"""

from __future__ import annotations

import contextlib
import csv
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from chiso import api, api_admin
from chiso.cli import main
from chiso.load.loader import LoadError
from chiso.store.db import Store, migrations
from chiso.store.dialect import WRITER_LOCK
from chiso.store.pg import is_postgres_url, placeholders
from conftest import UNIT, PgSchema, Workspace, postgres_schema, write_csv

pytestmark = pytest.mark.postgres

AS_OF = "2025-09-30 17:00"
PROC = [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days"}]
HEADER = "dossier_id,unit_code,procedure_code,channel,received_at\n"


def chiso(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner(env=env).invoke(main, [*args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def ok(*args: str, env: dict[str, str] | None = None) -> str:
    code, out, err = chiso(*args, env=env)
    assert code == 0, f"chiso {' '.join(args)} → {code}: {err}"
    return out


# --- connection strings, placeholders -------------------------------------------------------------------

def test_question_marks_become_numbered_parameters_outside_quotes_and_comments() -> None:
    sql = "SELECT '?', \"a?\", ? -- why?\n, x % 2, ? /* ? */ FROM t WHERE s = 'it''s ?' AND v = ?"
    assert placeholders(sql) == ("SELECT '?', \"a?\", $1 -- why?\n, x % 2, $2 /* ? */ FROM t "
                                 "WHERE s = 'it''s ?' AND v = $3")


def test_connection_strings_are_told_from_paths() -> None:
    assert is_postgres_url("postgresql://u@h/db") and is_postgres_url("postgres://h/db")
    assert is_postgres_url("host=127.0.0.1 dbname=test user=postgres")
    assert not is_postgres_url("chiso-data") and not is_postgres_url("/tmp/x.duckdb")
    assert not is_postgres_url("mysql://h/db") and not is_postgres_url("nonsense=1")
    code, _, err = chiso("--database", "mysql://h/db", "status")
    assert code == 2 and "không phải địa chỉ PostgreSQL" in err


def test_unreachable_server_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    code, _, err = chiso("-w", str(tmp_path), "--database", "postgresql://postgres@127.0.0.1:1/test", "status")
    assert code == 69
    assert "Không kết nối được cơ sở dữ liệu PostgreSQL" in err and "Traceback" not in err


# --- db upgrade -----------------------------------------------------------------------------------------

def test_db_upgrade_creates_the_schema_once(pg_schema: PgSchema, tmp_path: Path) -> None:
    names = [name for _, name, _ in migrations()]
    first = ok("-w", str(tmp_path), "--database", pg_schema.url, "db", "upgrade")
    assert "đã áp dụng " + ", ".join(names) in first
    second = ok("-w", str(tmp_path), "--database", pg_schema.dsn, "db", "upgrade")  # libpq's key=value form
    assert "đã áp dụng" not in second and f"{len(names)} bước" in second
    recorded = pg_schema.conn.execute("SELECT name FROM schema_migrations ORDER BY version").fetchall()
    assert [r[0] for r in recorded] == names


def test_a_command_on_a_database_without_the_schema_asks_for_db_upgrade(pg_schema: PgSchema,
                                                                        tmp_path: Path) -> None:
    code, _, err = chiso("-w", str(tmp_path), "--database", pg_schema.url, "status", "--as-of", AS_OF)
    assert code == 78
    assert "chưa có lược đồ chiso" in err and "db upgrade" in err
    # An old schema (only the first migration): the message names what is missing; nothing is applied.
    version, name, sql = migrations()[0]
    pg_schema.conn.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                           "applied_at TIMESTAMP NOT NULL)")
    pg_schema.conn.execute(sql)
    pg_schema.conn.execute("INSERT INTO schema_migrations VALUES (%s, %s, now())", [version, name])
    code, _, err = chiso("-w", str(tmp_path), "--database", pg_schema.url, "status", "--as-of", AS_OF)
    assert code == 78 and migrations()[1][1] in err and "db upgrade" in err
    assert pg_schema.conn.execute("SELECT count(*) FROM schema_migrations").fetchone() == (1,)


def test_a_database_upgraded_by_a_newer_chiso_is_refused(pg_schema: PgSchema, tmp_path: Path) -> None:
    ok("-w", str(tmp_path), "--database", pg_schema.url, "db", "upgrade")
    pg_schema.conn.execute("INSERT INTO schema_migrations VALUES (9999, '9999_future.sql', now())")
    code, _, err = chiso("-w", str(tmp_path), "--database", pg_schema.url, "status", "--as-of", AS_OF)
    assert code == 78 and "mới hơn phiên bản chiso này (bước 9999)" in err
    code, _, err = chiso("-w", str(tmp_path), "--database", pg_schema.url, "db", "upgrade")
    assert code == 78 and "cập nhật chiso" in err


def test_two_upgrades_at_once_apply_each_migration_once(pg_schema: PgSchema, tmp_path: Path) -> None:
    applied: list[list[str]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def upgrade() -> None:
        try:
            start.wait()
            with Store.open(tmp_path, database=pg_schema.url, upgrade=True) as store:
                applied.append(store.upgraded)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(applied, key=len) == [[], [name for _, name, _ in migrations()]]


def test_backup_points_to_pg_dump(pg_schema: PgSchema, tmp_path: Path) -> None:
    ok("-w", str(tmp_path), "--database", pg_schema.url, "db", "upgrade")
    code, _, err = chiso("-w", str(tmp_path), "--database", pg_schema.url, "backup")
    assert code == 1 and "pg_dump" in err


# --- loading --------------------------------------------------------------------------------------------

def test_reload_is_idempotent_and_a_newer_version_goes_to_history(pg_ws: Workspace, tmp_path: Path) -> None:
    pg_ws.load("procedures", PROC)
    v1 = tmp_path / "v1.csv"
    v1.write_text(HEADER.strip() + ",finished_at,updated_at\n"
                  f"D1,{UNIT},P5,online,2025-07-01 08:00,,2025-07-01 08:00\n"
                  f"D2,{UNIT},P5,direct,2025-07-02 08:00,,2025-07-02 08:00\n", encoding="utf-8")
    first = api.load(pg_ws.store, [v1]).files[0]
    again = api.load(pg_ws.store, [v1]).files[0]
    assert (first.inserted, again.inserted, again.updated, again.unchanged) == (2, 0, 0, 2)
    v2 = tmp_path / "v2.csv"
    v2.write_text(HEADER.strip() + ",finished_at,updated_at\n"
                  f"D1,{UNIT},P5,online,2025-07-01 08:00,2025-07-03 10:00,2025-07-03 10:00\n", encoding="utf-8")
    assert api.load(pg_ws.store, [v2]).files[0].updated == 1
    assert api.load(pg_ws.store, [v1]).files[0].updated == 0  # the older version: already in history
    con = pg_ws.store.con
    assert con.execute("SELECT CAST(finished_at AS VARCHAR) FROM dossiers WHERE dossier_id = 'D1'").fetchall() == [
        ("2025-07-03 10:00:00",)]
    assert con.execute("SELECT dossier_id, finished_at FROM dossier_history").fetchall() == [("D1", None)]
    # Status runs in PostgreSQL: D1 received Tue 1/7 08:00, 5 working days → due Tue 8/7 08:00, ended Thu 3/7:
    # early. D2 received Wed 2/7 08:00 → due Wed 9/7 08:00, still open on 10/7: pending late.
    rows = pg_ws.status("2025-07-10 12:00")
    assert {k: (r["due_at"].strftime("%d/%m %H:%M"), r["timeliness"]) for k, r in rows.items()} == {
        "D1": ("08/07 08:00", "early"), "D2": ("09/07 08:00", "pending_late")}
    # Unload the newer version: D1 is back as it was, and its history is gone.
    loads = [r[0] for r in con.execute("SELECT load_id FROM loads WHERE file LIKE '%v2.csv'").fetchall()]
    api_admin.unload(pg_ws.store, loads[0])
    assert con.execute("SELECT finished_at FROM dossiers WHERE dossier_id = 'D1'").fetchall() == [(None,)]
    assert con.execute("SELECT count(*) FROM dossier_history").fetchall() == [(0,)]


def test_units_and_their_dossiers_in_one_load(pg_ws: Workspace, tmp_path: Path) -> None:
    """The loader's checks run in a scratch DuckDB that mirrors the store's codes as they stand inside the
    load: a unit added by a file of the same load is known to the dossiers file."""
    units = write_csv(tmp_path / "units.csv", [{"code": "99.NEW", "name": "Đơn vị mới", "level": "department",
                                                "parent_code": "14"}])
    procs = write_csv(tmp_path / "procedures.csv", PROC)
    dossiers = tmp_path / "dossiers.csv"
    dossiers.write_text(HEADER + "N1,99.NEW,P5,online,2025-07-01 08:00\n", encoding="utf-8")
    report = api.load(pg_ws.store, [dossiers, procs, units])
    assert {f.table: f.inserted for f in report.files} == {"units": 1, "procedures": 1, "dossiers": 1}
    assert pg_ws.store.con.execute("SELECT province_code FROM units WHERE code = '99.NEW'").fetchall() == [("14",)]


def test_a_load_waits_for_the_other_writer(pg_ws: Workspace, pg_schema: PgSchema, tmp_path: Path) -> None:
    """Writers take turns as on DuckDB: while another chiso write transaction is open (here one that holds the
    writer lock), a load waits for it instead of merging against rows that are about to change."""
    pg_ws.load("procedures", PROC)
    path = tmp_path / "hoso.csv"
    path.write_text(HEADER + f"W1,{UNIT},P5,online,2025-07-01 08:00\n", encoding="utf-8")
    store = Store.open(pg_ws.store.workspace, database=pg_schema.url)  # another process's handle
    other = pg_schema.conn
    other.execute("BEGIN")
    other.execute("SELECT pg_advisory_xact_lock(%s)", [WRITER_LOCK])
    errors: list[BaseException] = []

    def load() -> None:
        try:
            with store:
                api.load(store, [path])
        except BaseException as exc:  # reported below
            errors.append(exc)

    thread = threading.Thread(target=load)
    thread.start()
    try:
        waiting = 0
        for _ in range(300):  # until the load queues for the lock (or has finished without it)
            waiting = other.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                                    "AND objid = %s", [WRITER_LOCK]).fetchone()[0]
            if waiting or not thread.is_alive():
                break
            time.sleep(0.05)
        assert waiting == 1
        assert other.execute("SELECT count(*) FROM dossiers").fetchone() == (0,)
    finally:
        other.execute("COMMIT")
        thread.join()
    assert errors == []
    assert pg_ws.store.con.execute("SELECT dossier_id FROM dossiers").fetchall() == [("W1",)]


def _bad_file(folder: Path) -> Path:
    path = folder / "bad.csv"
    path.write_text(HEADER + f"D1,{UNIT},P5,online,2025-07-01 08:00\n"
                    f"D2,{UNIT},P5,fax,2025-07-02 08:00\n"
                    f"D3,SO-KHONG-CO,P5,online,31/02/2025 08:00\n", encoding="utf-8")
    return path


def test_a_bad_row_gives_the_same_located_errors_as_duckdb_and_stores_nothing(
        ws: Workspace, pg_ws: Workspace, tmp_path: Path) -> None:
    issues = {}
    for name, w in (("duckdb", ws), ("postgres", pg_ws)):
        w.load("procedures", PROC)
        with pytest.raises(LoadError) as info:
            api.load(w.store, [_bad_file(tmp_path)])
        issues[name] = [str(i) for i in info.value.report.issues]
        assert w.store.count("dossiers") == 0
        assert w.store.con.execute("SELECT count(*) FROM loads WHERE table_name = 'dossiers'").fetchall() == [(0,)]
    assert issues["postgres"] == issues["duckdb"]
    # (dùng …: the accepted date forms; gần nhất: the closest units, the same on both stores)
    assert [i.split(" (dùng ")[0].split("; gần nhất: ")[0] for i in issues["postgres"]] == [
        "bad.csv:3: channel: 'fax' không thuộc các giá trị cho phép: direct, online, postal",
        "bad.csv:4: received_at: '31/02/2025 08:00' không phải ngày giờ hợp lệ",
        "bad.csv:4: unit_code: 'SO-KHONG-CO' không có trong danh mục đơn vị"]
    assert "; gần nhất: " in issues["postgres"][2]


def test_partial_load_keeps_the_good_rows_and_writes_the_same_rejected_file(
        ws: Workspace, pg_ws: Workspace, tmp_path: Path) -> None:
    rejected = {}
    for name, w in (("duckdb", ws), ("postgres", pg_ws)):
        w.load("procedures", PROC)
        rep = api.load(w.store, [_bad_file(tmp_path)], partial=True).files[0]
        assert (rep.inserted, rep.rejected) == (1, 2)
        assert w.store.con.execute("SELECT dossier_id FROM dossiers").fetchall() == [("D1",)]
        assert rep.rejected_file is not None
        with rep.rejected_file.open(encoding="utf-8") as fh:
            rejected[name] = [(r["dong"], r["dossier_id"], r["ly_do"]) for r in csv.DictReader(fh)]
    assert rejected["postgres"] == rejected["duckdb"]
    assert [r[:2] for r in rejected["postgres"]] == [("3", "D2"), ("4", "D3")]


# --- the same results on both stores --------------------------------------------------------------------

@dataclass
class Twins:
    duck: list[str]  # the global options that select each store
    pg: list[str]
    generated: Path
    out: Path


@pytest.fixture(scope="module")
def twins(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twins]:
    """A small generated province loaded through the CLI into a DuckDB workspace and into PostgreSQL."""
    root = tmp_path_factory.mktemp("twins")
    with postgres_schema() as schema:
        gen = root / "gen"
        ok("generate", "--province", "Sơn La", "--from", "2025-08", "--to", "2025-09", "--seed", "3",
           "--scale", "0.1", "--out", str(gen))
        files = sorted(str(p) for p in gen.iterdir())
        both = Twins(["-w", str(root / "duck")], ["-w", str(root / "pg"), "--database", schema.url], gen, root)
        ok(*both.pg, "db", "upgrade")
        for options in (both.duck, both.pg):
            ok(*options, "units", "init", "--province", "Sơn La")
            ok(*options, "load", *files)
        yield both


def _both(twins: Twins, *args: str) -> tuple[str, str]:
    return ok(*twins.duck, *args), ok(*twins.pg, *args)


def test_status_is_the_same_dossier_by_dossier(twins: Twins) -> None:
    duck, pg = _both(twins, "status", "--as-of", AS_OF, "--format", "json")
    assert json.loads(pg) == json.loads(duck)
    as_of = datetime.fromisoformat(AS_OF)
    texts = pq.read_table(twins.generated / "dossiers.parquet", columns=["received_at"]).column(0).to_pylist()
    received = sum(1 for t in texts if _moment(t) <= as_of)
    assert len(json.loads(pg)) == received > 1000  # every dossier received by then, once


def _moment(text: str) -> datetime:
    """The generator's spellings of a moment (the input contract's): ISO, dd/mm/yyyy HH:MM, an Excel serial."""
    for form in ("%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M"):
        with contextlib.suppress(ValueError):
            return datetime.strptime(text, form)
    return datetime(1899, 12, 30) + timedelta(days=float(text))


def test_status_by_unit_is_the_same(twins: Twins) -> None:
    duck, pg = _both(twins, "status", "--as-of", AS_OF, "--by-unit", "--format", "json")
    by_unit = {r["unit_code"]: r for r in json.loads(pg)}
    assert by_unit == {r["unit_code"]: r for r in json.loads(duck)}
    assert all(r["received"] == r["early"] + r["on_time"] + r["late"] + r["pending"] + r["pending_late"]
               for r in by_unit.values())


@pytest.mark.parametrize("level", ["province", "department", "commune"])
def test_scores_are_the_same_unit_by_unit_and_indicator_by_indicator(twins: Twins, level: str) -> None:
    duck, pg = (json.loads(x) for x in _both(twins, "score", "--period", "2025-09", "--level", level,
                                             "--as-of", AS_OF, "--format", "json"))
    assert len(pg) == len(duck) > 0
    on_duck = {u["code"]: u for u in duck}
    for unit in pg:
        other = on_duck[unit["code"]]
        assert (unit["total"], unit["rank"]) == (other["total"], other["rank"]), unit["code"]
        assert unit["indicators"] == other["indicators"], unit["code"]
    assert pg == duck  # and everything else (groups, bands, comparisons) as well
    assert any(u["total"] > 0 for u in pg)


def test_explain_is_the_same(twins: Twins) -> None:
    communes = json.loads(ok(*twins.pg, "score", "--period", "2025-09", "--level", "commune", "--as-of", AS_OF,
                             "--format", "json"))
    for unit in ["14", "14.CA", communes[-1]["code"]]:  # the province, a department, the last commune
        duck, pg = _both(twins, "explain", "--unit", unit, "--period", "2025-09", "--as-of", AS_OF,
                         "--format", "json")
        assert json.loads(pg) == json.loads(duck), unit


def test_publish_fingerprints_are_the_same(twins: Twins) -> None:
    duck, pg = _both(twins, "publish", "--period", "2025-08", "--as-of", AS_OF)
    assert "dấu vân tay dữ liệu" in pg and pg == duck


def test_monthly_report_on_postgres_has_the_same_appendix(twins: Twins) -> None:
    values: dict[str, Any] = {}
    for name, options in (("duckdb", twins.duck), ("postgres", twins.pg)):
        out = twins.out / f"report-{name}"
        ok(*options, "report", "monthly", "--period", "2025-09", "--as-of", AS_OF, "--date", "2025-10-05",
           "--no-pdf", "--out", str(out))
        assert (out / "cong-van-bo-chi-so-2025-09.docx").stat().st_size > 0
        book = openpyxl.load_workbook(out / "phu-luc-bo-chi-so-2025-09.xlsx")
        values[name] = {sheet.title: [[c.value for c in row] for row in sheet.iter_rows()] for sheet in book}
    assert values["postgres"] == values["duckdb"]
    assert sum(len(rows) for rows in values["postgres"].values()) > 100


def test_the_environment_variable_selects_the_database(twins: Twins) -> None:
    url = twins.pg[twins.pg.index("--database") + 1]
    duck = ok(*twins.duck, "status", "--as-of", AS_OF, "--by-unit", "--format", "json")
    pg = ok(*twins.pg[:2], "status", "--as-of", AS_OF, "--by-unit", "--format", "json",
            env={"CHISO_DATABASE": url})
    assert json.loads(pg) == json.loads(duck)


def test_the_audit_trail_is_the_same(twins: Twins) -> None:
    duck, pg = (json.loads(x) for x in _both(twins, "audit", "--action", "load", "--format", "json"))
    assert [(e["object"], e["summary"]) for e in pg] == [(e["object"], e["summary"]) for e in duck]
    files = {Path(str(e["details"]["file"])).name for e in pg}
    assert files >= {p.name for p in twins.generated.iterdir()}  # every generated file, as loaded


def test_a_duplicate_handle_is_a_connection_of_its_own(pg_ws: Workspace) -> None:
    twin = pg_ws.store.duplicate()
    assert twin.dialect == "postgres"
    assert twin.con.execute("SELECT pg_backend_pid()").fetchone() != pg_ws.store.con.execute(
        "SELECT pg_backend_pid()").fetchone()
    twin.close()
    assert pg_ws.store.count("units") == 100  # Sơn La: 1 province, 24 departments, 75 communes (units init)
