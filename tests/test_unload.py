"""`chiso unload LOAD_ID`: revert one load exactly — every table (history tables included) back to the state
before it; refused when a later load changed or points at what it wrote; an unknown or already reverted load
is refused with a clear message."""

from __future__ import annotations

from typing import Any

import pytest

from chiso import api_admin
from chiso.scoring import kept_groups
from chiso.store.db import Store
from conftest import Workspace
from test_backup import cli, snapshot
from test_scoring import PROCS

# The bookkeeping of loads and the audit trail grow with every operation; every other table must come back. So do
# the digests of the kept measure counts (each month's rows by position and load: the rows an unload restores are
# written anew) and the generation they were counted at (the loads and unloads made).
BOOKKEEPING = ("loads", "audit_log", kept_groups.MONTHS)


def state(con: Any) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the store but the bookkeeping (the counts kept are compared: they are the data's)."""
    rows = snapshot(con, skip=BOOKKEEPING)
    rows["settings"] = [r for r in rows["settings"] if r[0] != kept_groups.GENERATION]
    return rows


def dossier(did: str, unit: str = "03646", updated: str = "2025-09-08 09:00", **extra: Any) -> dict[str, Any]:
    return {"dossier_id": did, "unit_code": unit, "procedure_code": "PA", "channel": "online",
            "received_at": "2025-09-08 09:00", "updated_at": updated, **extra}


def load_id(report: Any) -> int:
    (f,) = report.files
    assert f.load_id is not None
    return int(f.load_id)


def load_a(ws: Workspace) -> dict[str, int]:
    """State A: procedures, dossiers, pauses, feedback, evaluations, indicator inputs, a calendar override."""
    ids = {
        "procedures": load_id(ws.load("procedures", PROCS)),
        "dossiers": load_id(ws.load("dossiers", [
            dossier("X1"), dossier("X2", updated="2025-09-10 09:00"), dossier("X3", "03667")])),
        "pauses": load_id(ws.load("pauses", [
            {"dossier_id": "X1", "kind": "supplement", "started_at": "2025-09-09 09:00", "ended_at": ""}])),
        "feedback": load_id(ws.load("feedback", [
            {"feedback_id": "F1", "unit_code": "14.STP", "received_at": "2025-09-01 08:00", "handled_at": ""}])),
        "evaluations": load_id(ws.load("evaluations", [
            {"dossier_id": "X1", "unit_code": "03646", "evaluated_at": "2025-09-12 10:00", "evaluator": "citizen",
             **{f"i{i}": 2 for i in range(1, 10)}}])),
        "indicator_inputs": load_id(ws.load("indicator_inputs", [
            {"period": "2025-09", "unit_code": "14", "indicator": "PUBLISH_ON_TIME", "numerator": 9,
             "denominator": 10}])),
        "calendar": load_id(ws.load("calendar", [
            {"date": "2025-09-13", "kind": "workday", "note": "làm bù", "province": ""}])),
    }
    return ids


def unit_row(ws: Workspace, code: str) -> dict[str, Any]:
    cur = ws.store.con.execute("SELECT code, name, level, parent_code, valid_from, valid_to, successor_code "
                               "FROM units WHERE code = ?", [code])
    names = [d[0] for d in cur.description]
    row = cur.fetchone()
    assert row is not None
    return {k: "" if v is None else str(v) for k, v in zip(names, row, strict=True)}


def load_b(ws: Workspace) -> list[int]:
    """B: a unit renamed and one added; dossiers updated (X1 newer), late (X2 older: history only) and inserted
    (N1); a pause added and one ended; a procedure, feedback, an evaluation, an indicator input and the
    calendar override changed, and feedback added."""
    stp = unit_row(ws, "14.STP") | {"name": "Sở Tư pháp (tên mới)"}
    new_unit = {"code": "14.TEST", "name": "Ban thử nghiệm", "level": "department", "parent_code": "14",
                "valid_from": "", "valid_to": "", "successor_code": ""}
    ids = [
        load_id(ws.load("units", [stp, new_unit])),
        load_id(ws.load("dossiers", [
            dossier("X1", updated="2025-09-15 09:00", finished_at="2025-09-15 09:00"),
            dossier("X2", updated="2025-09-09 09:00", officer="cũ hơn"),
            dossier("X3", "03667"),  # unchanged
            dossier("N1", "14.STP")])),
        load_id(ws.load("pauses", [
            {"dossier_id": "X1", "kind": "supplement", "started_at": "2025-09-09 09:00",
             "ended_at": "2025-09-11 09:00"},
            {"dossier_id": "X3", "kind": "appraisal", "started_at": "2025-09-10 09:00", "ended_at": ""}])),
        load_id(ws.load("procedures", [PROCS[0] | {"time_limit": 7}])),
        load_id(ws.load("feedback", [
            {"feedback_id": "F1", "unit_code": "14.STP", "received_at": "2025-09-01 08:00",
             "handled_at": "2025-09-05 10:00"},
            {"feedback_id": "F9", "unit_code": "14.TEST", "received_at": "2025-09-02 08:00", "handled_at": ""}])),
        load_id(ws.load("evaluations", [
            {"dossier_id": "X1", "unit_code": "03646", "evaluated_at": "2025-09-12 10:00", "evaluator": "citizen",
             **{f"i{i}": 1 for i in range(1, 10)}}])),
        load_id(ws.load("indicator_inputs", [
            {"period": "2025-09", "unit_code": "14", "indicator": "PUBLISH_ON_TIME", "numerator": 10,
             "denominator": 10}])),
        load_id(ws.load("calendar", [{"date": "2025-09-13", "kind": "workday", "note": "làm bù (sửa)",
                                      "province": ""}])),
    ]
    return ids


def test_unloading_b_gives_back_a_exactly(ws: Workspace) -> None:
    a_ids = load_a(ws)
    state_a = state(ws.store.con)
    loads_a = ws.store.con.execute("SELECT * FROM loads ORDER BY load_id").fetchall()
    b_ids = load_b(ws)
    con = ws.store.con
    # B changed what it says it changed (so the comparison below means something).
    assert con.execute("SELECT name, province_code FROM units WHERE code = '14.STP'").fetchone() == (
        "Sở Tư pháp (tên mới)", "14")
    assert con.execute("SELECT province_code FROM units WHERE code = '14.TEST'").fetchone() == ("14",)
    assert con.execute("SELECT dossier_id, officer, superseded_by_load FROM dossier_history ORDER BY 1").fetchall() \
        == [("X1", None, b_ids[1]), ("X2", "cũ hơn", b_ids[1])]
    for table in ("units", "procedures", "pauses", "feedback", "evaluations", "indicator_inputs", "calendar"):
        assert ws.store.count(f"{table}_history") == 1, table
    # The national override shows in the national calendar and in the province's.
    assert con.execute("SELECT count(*) FROM calendar_days WHERE note = 'làm bù (sửa)'").fetchone() == (2,)

    results = [api_admin.unload(ws.store, i) for i in reversed(b_ids)]

    assert state(con) == state_a
    loads = con.execute("SELECT * FROM loads ORDER BY load_id").fetchall()
    assert loads[: len(loads_a)] == loads_a  # A's loads untouched
    assert con.execute("SELECT load_id FROM loads WHERE unloaded_at IS NOT NULL ORDER BY 1").fetchall() == [
        (i,) for i in b_ids]
    by_id = {r.load_id: r for r in results}
    # Per load, from the files above: units 1 replaced + 1 inserted; dossiers X1 replaced, N1 inserted, X2's older
    # version dropped from history; pauses 1 + 1; procedures 1 replaced; feedback 1 + 1; the rest 1 replaced.
    assert (by_id[b_ids[0]].restored, by_id[b_ids[0]].deleted) == (1, 1)
    assert (by_id[b_ids[1]].restored, by_id[b_ids[1]].deleted, by_id[b_ids[1]].history_removed) == (1, 1, 1)
    assert (by_id[b_ids[2]].restored, by_id[b_ids[2]].deleted) == (1, 1)
    assert (by_id[b_ids[3]].restored, by_id[b_ids[3]].deleted) == (1, 0)
    assert (by_id[b_ids[4]].restored, by_id[b_ids[4]].deleted) == (1, 1)
    assert all((by_id[i].restored, by_id[i].deleted) == (1, 0) for i in b_ids[5:])
    assert set(a_ids.values()).isdisjoint(b_ids)


def test_unload_then_reload_is_the_same_as_loading_once(ws: Workspace) -> None:
    load_a(ws)
    b = load_id(ws.load("dossiers", [dossier("X1", updated="2025-09-15 09:00"), dossier("N1")]))
    state_b = state(ws.store.con)
    api_admin.unload(ws.store, b)
    b2 = load_id(ws.load("dossiers", [dossier("X1", updated="2025-09-15 09:00"), dossier("N1")]))
    # Same rows, except that they name the new load: name the old one instead, then compare.
    con = ws.store.con
    for table, column in con.execute("SELECT table_name, column_name FROM information_schema.columns "
                                     "WHERE column_name IN ('load_id', 'superseded_by_load')").fetchall():
        if table not in BOOKKEEPING:
            con.execute(f'UPDATE "{table}" SET "{column}" = ? WHERE "{column}" = ?', [b, b2])
    assert state(con) == state_b


def test_refused_when_a_later_load_changed_the_rows(ws: Workspace) -> None:
    load_a(ws)
    b = load_id(ws.load("dossiers", [dossier("X1", updated="2025-09-15 09:00")]))
    c = load_id(ws.load("dossiers", [dossier("X1", updated="2025-09-20 09:00")]))
    other = load_id(ws.load("dossiers", [dossier("X2", updated="2025-09-20 09:00")]))  # other rows: no conflict
    before = snapshot(ws.store.con)
    with pytest.raises(api_admin.UnloadError, match=rf"các lần nạp sau đã thay đổi dữ liệu của nó \(số {c}\)"):
        api_admin.unload(ws.store, b)
    assert snapshot(ws.store.con) == before  # nothing changed, not even the audit trail
    api_admin.unload(ws.store, c)
    api_admin.unload(ws.store, b)
    assert ws.store.con.execute("SELECT updated_at FROM dossiers WHERE dossier_id = 'X1'").fetchone()[0].day == 8
    assert ws.store.con.execute("SELECT count(*) FROM dossier_history").fetchone() == (1,)  # X2's, by `other`
    assert other not in (b, c)


def test_refused_when_a_later_load_changed_a_pause_row(ws: Workspace) -> None:
    load_a(ws)
    b = load_id(ws.load("pauses", [{"dossier_id": "X2", "kind": "supplement", "started_at": "2025-09-09 09:00",
                                    "ended_at": ""}]))
    c = load_id(ws.load("pauses", [{"dossier_id": "X2", "kind": "supplement", "started_at": "2025-09-09 09:00",
                                    "ended_at": "2025-09-10 09:00"}]))
    with pytest.raises(api_admin.UnloadError, match=rf"\(số {c}\)"):
        api_admin.unload(ws.store, b)


def test_refused_when_later_data_points_at_rows_it_added(ws: Workspace) -> None:
    load_a(ws)
    unit = {"code": "14.TEST", "name": "Ban thử nghiệm", "level": "department", "parent_code": "14"}
    u = load_id(ws.load("units", [unit]))
    d = load_id(ws.load("dossiers", [dossier("N1", "14.TEST")]))
    p = load_id(ws.load("pauses", [{"dossier_id": "N1", "kind": "supplement", "started_at": "2025-09-09 09:00"}]))
    before = snapshot(ws.store.con)
    with pytest.raises(api_admin.UnloadError, match=rf"dossiers.unit_code của lần nạp số {d}\b"):
        api_admin.unload(ws.store, u)
    with pytest.raises(api_admin.UnloadError, match=rf"pauses.dossier_id của lần nạp số {p}\b"):
        api_admin.unload(ws.store, d)
    assert snapshot(ws.store.con) == before
    for i in (p, d, u):
        api_admin.unload(ws.store, i)
    assert ws.store.con.execute("SELECT count(*) FROM units WHERE code = '14.TEST'").fetchone() == (0,)


def test_unknown_and_repeated_unload(ws: Workspace) -> None:
    with pytest.raises(api_admin.UnloadError, match="không có lần nạp số 999"):
        api_admin.unload(ws.store, 999)
    b = load_id(ws.load("procedures", PROCS))
    api_admin.unload(ws.store, b)
    with pytest.raises(api_admin.UnloadError, match=f"lần nạp số {b} .* đã được gỡ lúc"):
        api_admin.unload(ws.store, b)


def test_loads_from_before_the_history_tables_are_refused_when_they_replaced_rows(ws: Workspace) -> None:
    """A load made by an older chiso kept no history of the rows it replaced (except dossiers'): it cannot be
    reverted exactly, so it is refused; one that only inserted rows can be."""
    first = load_id(ws.load("procedures", PROCS))
    second = load_id(ws.load("procedures", [PROCS[0] | {"time_limit": 7}]))
    ws.store.con.execute("UPDATE loads SET history_kept = NULL")  # as migration 0004 leaves older loads
    with pytest.raises(api_admin.UnloadError, match="trước khi kho lưu lịch sử"):
        api_admin.unload(ws.store, second)
    assert first < second


def test_cli_unload(ws: Workspace) -> None:
    load_a(ws)
    b = load_id(ws.load("dossiers", [dossier("N1")]))
    workspace = ws.store.workspace
    ws.store.close()
    r = cli(workspace, "unload", str(b))
    assert r.exit_code == 0, r.output
    assert f"Đã gỡ lần nạp số {b}" in r.stdout and "xóa 1 dòng" in r.stdout
    r = cli(workspace, "unload", "4242")
    assert r.exit_code == 1 and "không có lần nạp số 4242" in r.stderr and "Traceback" not in r.output
    r = cli(workspace, "unload", str(b))
    assert r.exit_code == 1 and "đã được gỡ" in r.stderr
    with Store.open(workspace) as store:
        assert store.con.execute("SELECT count(*) FROM dossiers WHERE dossier_id = 'N1'").fetchone() == (0,)


def test_every_history_table_has_its_table_columns(ws: Workspace) -> None:
    """A migration that adds a column to a loaded table must add it to the history table too, or loads fail."""
    from chiso.store.history import HISTORY_TABLES, store_columns

    for table, hist in HISTORY_TABLES.items():
        assert store_columns(ws.store.con, hist) == [*store_columns(ws.store.con, table), "superseded_by_load"], table
