"""Due dates kept between runs (``dossiers.computed_due``, :mod:`chiso.status.stored_due`): the status read from them
is the status the full computation gives, whatever changed in between — a corrected row, an unloaded correction,
a procedure's time limit or the calendar changed behind chiso's back — and a load computes only its own rows.

Procedure P5 = 5 working days. A dossier received Mon 2/6/2025 09:00 is due Mon 9/6/2025 09:00 (8 working hours a
day: 6 h left on Monday, Tuesday–Friday 32 h, 2 h on the next Monday); received Tue 3/6 09:00, due Tue 10/6 09:00;
with 10 working days, due Mon 16/6 09:00. No holidays in June 2025.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from chiso import api, api_admin
from chiso.status import stored_due
from chiso.status.stored_due import Kept
from chiso.status.timeliness import StatusQuery
from chiso.store.db import Store
from conftest import UNIT, Workspace, generated_province

P5 = [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days"}]
AS_OF = datetime(2025, 6, 30, 17)


def dossier(did: str, received: str = "2025-06-02 09:00", **extra: Any) -> dict[str, Any]:
    return {"dossier_id": did, "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
            "received_at": received, **extra}


def kept(store: Store, did: str) -> tuple[datetime | None, bool | None]:
    row = store.con.execute("SELECT computed_due, due_ready FROM dossiers WHERE dossier_id = ?", [did]).fetchall()
    return row[0][0], row[0][1]


def compare(store: Store, as_of: datetime, kept_dues: Kept | None = None, **kw: Any) -> int:
    """Rows of the status with the kept dates (``kept_dues``, else what ``stored_due.kept`` allows) and without them:
    the same rows, every column. Returns the count."""
    config = api.load_config(store.workspace)
    allowed = kept_dues or stored_due.kept(store)
    with_kept = StatusQuery(as_of=as_of, config=config, dialect=store.dialect, stored_due=allowed, **kw).sql()
    full = StatusQuery(as_of=as_of, config=config, dialect=store.dialect, **kw).sql()
    counts = store.con.execute(
        f"SELECT (SELECT count(*) FROM ({with_kept}) a), (SELECT count(*) FROM ({full}) b), "
        f"(SELECT count(*) FROM (SELECT * FROM ({with_kept}) a EXCEPT ALL SELECT * FROM ({full}) b) x), "
        f"(SELECT count(*) FROM (SELECT * FROM ({full}) b EXCEPT ALL SELECT * FROM ({with_kept}) a) y)").fetchall()[0]
    assert counts[0] == counts[1] and counts[2:] == (0, 0), (as_of, kw, counts)
    return int(counts[0])


def due_of(store: Store, did: str, kept_dues: Kept | None = None) -> datetime:
    config = api.load_config(store.workspace)
    allowed = kept_dues or stored_due.kept(store)
    sql = StatusQuery(as_of=AS_OF, config=config, dialect=store.dialect, stored_due=allowed).sql()
    return store.con.execute(f"SELECT due_at FROM ({sql}) s WHERE dossier_id = ?", [did]).fetchall()[0][0]


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two months of generated Sơn La dossiers (a third without a source due date, some with pauses), loaded."""
    return generated_province(tmp_path_factory.mktemp("stored-due"), "2025-08", "2025-09", scale=0.05, seed=3)


def test_the_status_from_kept_dates_is_the_full_computations(province: Path) -> None:
    with Store.open(province, read_only=True) as store:
        counts = store.con.execute(
            "SELECT count(*), count(*) FILTER (WHERE due_ready), count(*) FILTER (WHERE due_at IS NULL), "
            "(SELECT count(DISTINCT dossier_id) FROM pauses), count(*) FILTER (WHERE paused), "
            "count(*) FILTER (WHERE paused AND dossier_id NOT IN (SELECT dossier_id FROM pauses)) "
            "FROM dossiers").fetchall()[0]
        total, ready, without_source_due, with_pauses, flagged, wrongly = counts
        # what makes the comparison worth making: dates computed for every row, many of them used, pauses present
        assert ready == total > 1000 and without_source_due > total // 5 and flagged == with_pauses > 5
        assert wrongly == 0
        assert not stored_due.needs_refresh(store) and stored_due.kept(store) == Kept(verified=True)
        for moment in ("2025-08-15 10:00", "2025-09-30 17:00", "2026-03-01 00:00"):
            as_of = datetime.fromisoformat(moment)
            assert compare(store, as_of) > 0
            compare(store, as_of, ended_since=datetime(2025, 9, 1))
            compare(store, as_of, unit="14", with_officer=True, carry=("channel", "fee_amount", "rating"))
            compare(store, as_of, Kept(verified=False))  # the query's own check (PostgreSQL's way)


def test_the_status_reads_the_kept_dates(copy: Store) -> None:
    # A wrong kept date shows in the status: the column is read (a test of the two paths that could not fail
    # would prove nothing). Nothing but chiso writes it, and only from the full computation.
    copy.con.execute("UPDATE dossiers SET computed_due = TIMESTAMP '2000-01-01 00:00:00' "
                     "WHERE due_at IS NULL AND dossier_id NOT IN (SELECT dossier_id FROM pauses)")
    late = "SELECT count(*) FROM ({}) s WHERE timeliness IN ('late', 'pending_late')"
    config = api.load_config(copy.workspace)
    stored = StatusQuery(as_of=datetime(2025, 9, 30, 17), config=config, stored_due=stored_due.kept(copy),
                         dialect="duckdb").sql()
    full = StatusQuery(as_of=datetime(2025, 9, 30, 17), config=config, dialect="duckdb").sql()
    assert copy.con.execute(late.format(stored)).fetchall()[0][0] > copy.con.execute(late.format(full)).fetchall()[0][0]


def test_the_kept_date_is_the_statutory_due_date(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("D1"), dossier("D2", received="2025-06-03 09:00"),
                         dossier("D3", due_at="2025-06-20 17:00")])
    store = ws.store
    assert kept(store, "D1") == (datetime(2025, 6, 9, 9), True)
    assert kept(store, "D2") == (datetime(2025, 6, 10, 9), True)
    # the source's due date wins in the status; the kept date is the statutory one all the same
    assert kept(store, "D3") == (datetime(2025, 6, 9, 9), True)
    assert due_of(store, "D3") == datetime(2025, 6, 20, 17)


def test_a_corrected_row_and_an_unloaded_correction_get_their_dates_again(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("D1", updated_at="2025-06-02 09:00")])
    correction = ws.load("dossiers", [dossier("D1", received="2025-06-03 09:00", updated_at="2025-06-03 10:00")])
    assert kept(ws.store, "D1") == (datetime(2025, 6, 10, 9), True)
    assert due_of(ws.store, "D1") == datetime(2025, 6, 10, 9)
    (report,) = correction.files
    assert report.load_id is not None
    api_admin.unload(ws.store, report.load_id)
    assert kept(ws.store, "D1") == (datetime(2025, 6, 9, 9), True)
    compare(ws.store, AS_OF)


def test_tables_changed_behind_chisos_back_turn_the_kept_dates_off(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("D1"), dossier("D2", received="2025-06-03 09:00")])
    store = ws.store
    # a procedure's time limit changed by hand in the database, no chiso command since: the kept dates no longer
    # hold, and the status computes every dossier
    store.con.execute("UPDATE procedures SET time_limit = 10 WHERE code = 'P5'")
    assert kept(store, "D1") == (datetime(2025, 6, 9, 9), True)
    assert stored_due.kept(store) is None
    assert due_of(store, "D1") == datetime(2025, 6, 16, 9)
    # the same when the query checks for itself (PostgreSQL)
    assert due_of(store, "D1", Kept(verified=False)) == datetime(2025, 6, 16, 9)
    compare(store, AS_OF, Kept(verified=False))
    # the next command brings them up to date
    assert stored_due.needs_refresh(store)
    api.prepare(store)
    assert kept(store, "D1") == (datetime(2025, 6, 16, 9), True)
    # a day off added to the calendar (Thursday 5/6): every kept date after it moves by a working day
    ws.load("calendar", [{"date": "2025-06-05", "kind": "holiday", "note": "nghỉ", "province": ""}])
    assert kept(store, "D1") == (datetime(2025, 6, 17, 9), True)
    assert kept(store, "D2") == (datetime(2025, 6, 18, 9), True)
    compare(store, AS_OF)


def test_a_load_computes_its_own_rows_only(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("D1")])
    marker = datetime(2001, 1, 1)  # a value no computation gives: it stays unless the row is computed again
    ws.store.con.execute("UPDATE dossiers SET computed_due = ? WHERE dossier_id = 'D1'", [marker])
    ws.load("dossiers", [dossier("D2", received="2025-06-03 09:00")])
    assert kept(ws.store, "D1") == (marker, True)
    assert kept(ws.store, "D2") == (datetime(2025, 6, 10, 9), True)


def test_a_dossier_outside_the_calendar_takes_the_full_computation(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("D1"), dossier("OUT", received="2024-12-30 09:00")])
    assert kept(ws.store, "OUT") == (datetime(2025, 1, 7, 9), True)  # 1/1 is New Year's Day
    # the calendar's years narrowed afterwards (the loader refuses such a dossier; one loaded before stays)
    ws.config("[calendar]\nyears = [2025, 2025]\n")
    api.prepare(ws.store)
    assert kept(ws.store, "D1")[1] is True
    assert kept(ws.store, "OUT") == (None, False)
    compare(ws.store, AS_OF)


def test_kept_dates_on_postgresql(pg_ws: Workspace) -> None:
    pg_ws.load("procedures", P5)
    pg_ws.load("dossiers", [dossier("D1"), dossier("D2", received="2025-06-03 09:00"),
                            dossier("D3", due_at="2025-06-20 17:00")])
    pg_ws.load("pauses", [{"dossier_id": "D2", "kind": "supplement", "started_at": "2025-06-04 09:00",
                           "ended_at": "2025-06-05 09:00"}])
    assert kept(pg_ws.store, "D1") == (datetime(2025, 6, 9, 9), True)
    assert kept(pg_ws.store, "D2") == (datetime(2025, 6, 10, 9), True)
    assert compare(pg_ws.store, AS_OF) == 3
    pg_ws.load("dossiers", [dossier("D1", received="2025-06-03 09:00", updated_at="2025-06-03 10:00")])
    assert kept(pg_ws.store, "D1") == (datetime(2025, 6, 10, 9), True)


def test_pauses_loaded_behind_chisos_back_send_their_dossiers_to_the_full_computation(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("D1"), dossier("D2", received="2025-06-03 09:00")])
    assert kept(ws.store, "D1") == (datetime(2025, 6, 9, 9), True)
    # a completed supplement request of one working day, written straight into the table: D1 is due a day later
    ws.store.con.execute("INSERT INTO pauses (dossier_id, kind, started_at, ended_at, row_hash) VALUES "
                         "('D1', 'supplement', '2025-06-03 09:00', '2025-06-04 09:00', 'x')")
    assert stored_due.kept(ws.store) is None
    assert due_of(ws.store, "D1") == datetime(2025, 6, 10, 9)
    assert due_of(ws.store, "D1", Kept(verified=False)) == datetime(2025, 6, 10, 9)
    api.prepare(ws.store)
    assert ws.store.con.execute("SELECT dossier_id FROM dossiers WHERE paused").fetchall() == [("D1",)]
    assert due_of(ws.store, "D1") == datetime(2025, 6, 10, 9)
    compare(ws.store, AS_OF)
    # and an unloaded pause load takes the flag away again
    report = ws.load("pauses", [{"dossier_id": "D2", "kind": "supplement", "started_at": "2025-06-04 09:00",
                                 "ended_at": "2025-06-05 09:00"}])
    assert sorted(ws.store.con.execute("SELECT dossier_id FROM dossiers WHERE paused").fetchall()) == [("D1",), ("D2",)]
    (file,) = report.files
    assert file.load_id is not None
    api_admin.unload(ws.store, file.load_id)
    assert ws.store.con.execute("SELECT dossier_id FROM dossiers WHERE paused").fetchall() == [("D1",)]
    compare(ws.store, AS_OF)


def test_a_large_computation_in_chunks_gives_the_same_dates(copy: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    before = dict(copy.con.execute("SELECT dossier_id, computed_due FROM dossiers").fetchall())
    copy.con.execute("UPDATE dossiers SET computed_due = NULL, due_ready = NULL")
    monkeypatch.setattr(stored_due, "CHUNK_ROWS", 100)  # 1,454 rows: 15 chunks
    assert len(stored_due._chunks(copy, len(before))) == 15
    assert stored_due.refresh(copy, api.load_config(copy.workspace)) == len(before)
    assert dict(copy.con.execute("SELECT dossier_id, computed_due FROM dossiers").fetchall()) == before
    assert copy.con.execute("SELECT count(*) FROM dossiers WHERE due_ready").fetchall()[0][0] == len(before)
