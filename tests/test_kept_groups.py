"""Measure counts kept between runs (:mod:`chiso.scoring.kept_groups`): a scoring that reads them gives, unit by unit
and measure by measure, the counts of the scoring that reads every dossier of the period — at any moment, for
months, quarters, years and ranges, after new dossiers, corrections, unloads, pauses and changed procedures — and a
day of new dossiers counts again only the months it touched.

The reference is the engine's per-dossier path (``keep_facts=True``: every dossier's status at the moment, then
counted), which the published figures of tests/test_scoring.py check.
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chiso import api, api_admin
from chiso.rules.model import Measure, for_period
from chiso.scoring import kept_groups
from chiso.scoring.engine import Facts, dossier_measures, measure_counts
from chiso.scoring.period import parse_period
from chiso.status import stored_due
from chiso.store.db import Store
from conftest import UNIT, Workspace, generated_province, write_csv

MOMENTS = [  # (period, as of): month-end moments, a month still running, a quarter, a year, ranges
    ("2025-07", datetime(2025, 10, 15)),
    ("2025-08", datetime(2025, 8, 31, 23, 59, 59)),
    ("2025-09", datetime(2025, 9, 15, 10, 30)),
    ("2025-09", datetime(2025, 9, 1)),
    ("2025-Q3", datetime(2025, 10, 15)),
    ("2025-Q3", datetime(2025, 8, 20, 16, 45)),
    ("2025", datetime(2026, 1, 10)),
    ("2025-08-01..2025-09-30", datetime(2025, 9, 30, 12)),
    ("2025-08-10..2025-09-30", datetime(2025, 10, 1)),  # not from the first of a month: every dossier counted
]


def counts(store: Store, label: str, as_of: datetime, *, kept: bool) -> dict[str, dict[str, float]]:
    period = parse_period(label)
    facts = Facts(period, period.moment(as_of), api.load_config(store.workspace), dialect=store.dialect,
                  stored_due=stored_due.kept(store))
    return measure_counts(store, for_period(period.start, store.workspace), facts, keep_facts=not kept)


def agree(store: Store, moments: list[tuple[str, datetime]] = MOMENTS) -> None:
    the_open_copy_holds(store)
    the_derived_flags_hold(store)
    for label, as_of in moments:
        with_kept = counts(store, label, as_of, kept=True)
        reference = counts(store, label, as_of, kept=False)
        assert with_kept == reference, (label, as_of, _differences(with_kept, reference))


def the_derived_flags_hold(store: Store) -> None:
    """When the kept counts are current, the flags' bits and late rows, kept up to date year by year, are what a full
    derivation from the flags gives."""
    rs = for_period(parse_period("2025-Q3").start, store.workspace)
    if not kept_groups.current(store, rs, api.load_config(store.workspace)):
        return
    for table, full in ((kept_groups.FLAG_BITS, kept_groups._flag_bits_sql()),
                        (kept_groups.FLAG_LATE, kept_groups._flag_late_sql())):
        assert store.con.execute(f"SELECT * FROM {table} ORDER BY ALL").fetchall() == (
            store.con.execute(f"SELECT * FROM ({full}) ORDER BY ALL").fetchall()), table


def the_open_copy_holds(store: Store) -> None:
    """When the kept counts are current, the copy of the open dossiers holds exactly the rows of ``dossiers`` settled
    on or after the first of the month after the latest received (or never settled), every column, and their
    pauses."""
    rs = for_period(parse_period("2025-Q3").start, store.workspace)
    if not kept_groups.current(store, rs, api.load_config(store.workspace)):
        return
    latest = store.con.execute("SELECT max(received_at) FROM dossiers").fetchall()[0][0]
    since = datetime(latest.year + (latest.month == 12), latest.month % 12 + 1, 1)
    assert store.get_setting(kept_groups.OPEN_FROM) == since.isoformat()
    rows = "SELECT * FROM dossiers WHERE settled_at IS NULL OR settled_at >= ?"
    assert store.con.execute(f"SELECT * FROM {kept_groups.OPEN_DOSSIERS} ORDER BY ALL").fetchall() == (
        store.con.execute(f"{rows} ORDER BY ALL", [since]).fetchall())
    assert store.con.execute(f"SELECT * FROM {kept_groups.OPEN_PAUSES} ORDER BY ALL").fetchall() == (
        store.con.execute(f"SELECT * FROM pauses WHERE dossier_id IN (SELECT dossier_id FROM ({rows})) "
                          "ORDER BY ALL", [since]).fetchall())


def _differences(a: dict[str, dict[str, float]], b: dict[str, dict[str, float]]) -> list[Any]:
    return [(u, m, a.get(u, {}).get(m), b.get(u, {}).get(m)) for u in sorted(a.keys() | b.keys())
            for m in sorted(a.get(u, {}).keys() | b.get(u, {}).keys()) if a.get(u, {}).get(m) != b.get(u, {}).get(m)]


def held(store: Store, where: str = "TRUE") -> int:
    """The dossiers the kept counts hold (each counted twice: as received in the period and not)."""
    row = store.con.execute(f"SELECT COALESCE(sum(dossiers__), 0) FROM {kept_groups.GROUPS} WHERE {where}")
    return int(row.fetchall()[0][0]) // 2


def refresh(store: Store) -> None:
    period = parse_period("2025-Q3")
    rs = for_period(period.start, store.workspace)
    assert kept_groups.refresh(store, rs, api.load_config(store.workspace))


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three months of generated Sơn La dossiers (some open, some with pauses, some without a source due date)."""
    return generated_province(tmp_path_factory.mktemp("kept-groups"), "2025-07", "2025-09", scale=0.1, seed=5)


def test_the_kept_counts_give_the_counts_of_every_dossier(copy: Store) -> None:
    agree(copy)
    total, ended, paused = copy.con.execute(
        "SELECT count(*), count(*) FILTER (WHERE COALESCE(finished_at, returned_at, stopped_at) IS NOT NULL), "
        "count(*) FILTER (WHERE paused AND finished_at IS NOT NULL) FROM dossiers").fetchall()[0]
    # what makes the comparison worth making: every ended dossier is held (those with pauses too), the open are not
    assert held(copy) == ended and total > 3000 and total // 2 < ended < total and paused > 5


def test_the_scoring_reads_the_kept_counts(copy: Store) -> None:
    # A wrong kept count shows in the scores: the table is read (a comparison of two paths that could not differ
    # would prove nothing). Only chiso writes it, from the same status query as every scoring.
    refresh(copy)
    copy.con.execute(f'UPDATE {kept_groups.GROUPS} SET "handled" = "handled" + 1')
    with_kept = counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True)
    reference = counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=False)
    assert with_kept["14"]["handled"] > reference["14"]["handled"]


def test_the_scoring_reads_the_kept_flags_and_pairs(copy: Store) -> None:
    # The procedures' flags and every unit's applicable procedures are read from the store too: a flag set there
    # shows in the procedure measures, a pair removed there in the procedures a department applies.
    refresh(copy)
    reference = counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=False)[UNIT]
    copy.con.execute(f"UPDATE {kept_groups.FLAG_BITS} SET paid_bits = has_bits")
    assert counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True)[UNIT]["fee_procedures_paid_online"] > (
        reference["fee_procedures_paid_online"])
    copy.con.execute(f"DELETE FROM {kept_groups.APPLICABLE} WHERE pair_id = (SELECT min(pair_id) FROM "
                     f"{kept_groups.APPLICABLE} WHERE unit_code = ?)", [UNIT])
    assert counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True)[UNIT]["procedures"] == (
        reference["procedures"] - 1)


def test_the_live_part_reads_the_copy_of_the_open_dossiers(copy: Store) -> None:
    # The dossiers open at the year's moment are read from the copy (the year ended after the data's last month):
    # emptied, they no longer count; the settled ones from the table, before the copy's cut-off, still do.
    refresh(copy)
    assert copy.get_setting(kept_groups.OPEN_FROM) == "2025-10-01T00:00:00"
    opened, paused = copy.con.execute(f"SELECT count(*), count(*) FILTER (WHERE paused) "
                                      f"FROM {kept_groups.OPEN_DOSSIERS}").fetchall()[0]
    assert opened > 100 and paused > 0  # what makes the comparisons of this module worth making
    year = counts(copy, "2025", datetime(2026, 1, 10), kept=False)[UNIT]
    copy.con.execute(f"DELETE FROM {kept_groups.OPEN_DOSSIERS} WHERE unit_code = ?", [UNIT])
    assert counts(copy, "2025", datetime(2026, 1, 10), kept=True)[UNIT]["received"] < year["received"]


def test_a_new_month_its_unload_and_a_new_year_keep_the_copy_and_the_flag_bits(copy: Store,
                                                                                      tmp_path: Path) -> None:
    # a dossier of September finished in October: in the copy until October has dossiers of its own
    procedure = copy.con.execute("SELECT procedure_code FROM dossiers WHERE unit_code = ? LIMIT 1",
                                 [UNIT]).fetchall()[0][0]
    late = {"dossier_id": "SEP-OCT", "unit_code": UNIT, "procedure_code": procedure, "channel": "online",
            "received_at": "2025-09-29 09:00", "finished_at": "2025-10-03 10:00"}
    api.load(copy, [write_csv(tmp_path / "september.csv", [late])], table="dossiers")
    october = "settled_at >= TIMESTAMP '2025-10-01' AND settled_at < TIMESTAMP '2025-11-01'"
    assert copy.con.execute(f"SELECT dossier_id FROM {kept_groups.OPEN_DOSSIERS} WHERE {october}").fetchall() == [
        ("SEP-OCT",)]
    report = api.load(copy, [write_csv(tmp_path / "october.csv", [{
        "dossier_id": "OCT-1", "unit_code": UNIT, "procedure_code": procedure, "channel": "online",
        "received_at": "2025-10-02 09:00"}])], table="dossiers")
    assert copy.get_setting(kept_groups.OPEN_FROM) == "2025-11-01T00:00:00"
    assert copy.con.execute(f"SELECT count(*) FROM {kept_groups.OPEN_DOSSIERS} WHERE {october}").fetchall() == [(0,)]
    later = [("2025-10", datetime(2025, 10, 15)), ("2025-09", datetime(2025, 10, 20)),
             ("2025-Q4", datetime(2025, 12, 31, 23, 59, 59))]
    agree(copy, MOMENTS + later)
    (file,) = report.files
    assert file.load_id is not None
    api_admin.unload(copy, file.load_id)
    assert copy.get_setting(kept_groups.OPEN_FROM) == "2025-10-01T00:00:00"
    agree(copy, MOMENTS + later)
    # a dossier of a new year: the flags of that year derived again, 2025's kept (checked against a full derivation)
    bits_2025 = copy.con.execute(f"SELECT * FROM {kept_groups.FLAG_BITS} WHERE year = 2025 ORDER BY ALL").fetchall()
    api.load(copy, [write_csv(tmp_path / "january.csv", [{
        "dossier_id": "JAN-1", "unit_code": UNIT, "procedure_code": procedure, "channel": "online",
        "received_at": "2026-01-05 09:00", "finished_at": "2026-01-06 10:00", "paid_online": "true"}])],
        table="dossiers")
    assert copy.con.execute(f"SELECT * FROM {kept_groups.FLAG_BITS} WHERE year = 2025 ORDER BY ALL").fetchall() == (
        bits_2025)
    assert copy.con.execute(f"SELECT has_bits FROM {kept_groups.FLAG_BITS} WHERE year = 2026").fetchall() == [(1,)]
    agree(copy, [*later, ("2026-01", datetime(2026, 1, 20)), ("2025-12-01..2026-01-31", datetime(2026, 2, 2))])


def test_a_new_commune_applies_its_level_s_procedures_at_once(copy: Store, tmp_path: Path) -> None:
    # A units file is a load: the kept applicable procedures are made again at the refresh after it, though no
    # month of dossiers changed (read from the store by every scoring that reads the kept counts).
    api.load(copy, [write_csv(tmp_path / "xa-moi.csv", [{
        "code": "99999", "name": "UBND xã Mới", "level": "commune", "parent_code": "14",
        "valid_from": "2025-07-01"}])], table="units")
    with_kept = counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True)
    reference = counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=False)
    commune_level = copy.con.execute("SELECT count(*) FROM procedures WHERE level = 'commune'").fetchall()[0][0]
    assert with_kept["99999"]["procedures"] == reference["99999"]["procedures"] == commune_level > 10
    agree(copy, MOMENTS[:3])


def test_a_procedure_moved_to_another_level_leaves_the_communes(copy: Store, tmp_path: Path) -> None:
    # Nothing the kept counts or due dates were computed from changes (no dossier, no time limit, no fact of the
    # procedure), yet the communes no longer apply it: the applicable procedures kept are made at every refresh.
    code, name = copy.con.execute(
        "SELECT code, name FROM procedures WHERE level = 'commune' AND code NOT IN "
        "(SELECT procedure_code FROM dossiers) ORDER BY code LIMIT 1").fetchall()[0]
    commune = copy.con.execute("SELECT code FROM units WHERE level = 'commune' ORDER BY code LIMIT 1").fetchall()[0][0]
    before = counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True)[commune]["procedures"]
    fingerprint = copy.get_setting(kept_groups.FINGERPRINT)
    api.load(copy, [write_csv(tmp_path / "level.csv", [{"code": code, "name": name, "level": "province"}])],
             table="procedures")
    assert copy.get_setting(kept_groups.FINGERPRINT) == fingerprint  # no month counted again
    assert counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True)[commune]["procedures"] == before - 1
    agree(copy, MOMENTS[:3])


def test_a_procedure_new_to_a_unit_and_its_unload(copy: Store, tmp_path: Path) -> None:
    # A department applies exactly the procedures it has dossiers for (docs/index-engine.md): one dossier of a
    # procedure it never handled adds one procedure to it; unloading that dossier takes it away again.
    refresh(copy)
    before = counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True)[UNIT]["procedures"]
    new = copy.con.execute("SELECT code FROM procedures WHERE code NOT IN (SELECT procedure_code FROM dossiers "
                           "WHERE unit_code = ?) ORDER BY code LIMIT 1", [UNIT]).fetchall()[0][0]
    ids = copy.con.execute(f"SELECT max(pair_id), count(*) FROM {kept_groups.PAIR_IDS}").fetchall()[0]
    report = api.load(copy, [write_csv(tmp_path / "new.csv", [{
        "dossier_id": "NEW-PAIR", "unit_code": UNIT, "procedure_code": new, "channel": "online",
        "received_at": "2025-08-04 09:00", "finished_at": "2025-08-05 10:00"}])], table="dossiers")
    assert counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True)[UNIT]["procedures"] == before + 1
    # numbered after the others, the others' numbers unchanged
    assert copy.con.execute(f"SELECT pair_id FROM {kept_groups.PAIR_IDS} WHERE unit_code = ? AND procedure_code = ?",
                            [UNIT, new]).fetchall() == [(ids[0] + 1,)]
    agree(copy, MOMENTS[:5])
    (file,) = report.files
    assert file.load_id is not None
    api_admin.unload(copy, file.load_id)
    assert counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True)[UNIT]["procedures"] == before
    assert copy.con.execute(f"SELECT count(*) FROM {kept_groups.UNIT_PROCEDURES} WHERE unit_code = ? "
                            "AND procedure_code = ?", [UNIT, new]).fetchall() == [(0,)]
    agree(copy, MOMENTS[:5])


def test_a_scoring_inside_a_transaction_leaves_it_open(copy: Store) -> None:
    # DuckDB aborts a transaction on a second BEGIN: a scoring's read snapshot inside another transaction uses that
    # one (found while making the snapshot span both periods of a command)
    refresh(copy)
    reference = counts(copy, "2025-08", datetime(2025, 10, 15), kept=False)
    with copy.transaction():
        assert counts(copy, "2025-08", datetime(2025, 10, 15), kept=True) == reference
        copy.set_setting("after-the-scoring", "written")
    assert copy.get_setting("after-the-scoring") == "written"


def test_a_day_of_new_dossiers_counts_its_month_again_and_no_other(copy: Store, tmp_path: Path) -> None:
    refresh(copy)
    copy.con.execute(f"UPDATE {kept_groups.GROUPS} SET dossiers__ = dossiers__ + 1000000")  # a mark per group
    new = [{"dossier_id": f"NEW-{i}", "unit_code": UNIT, "procedure_code": proc, "channel": "online",
            "received_at": "2025-09-29 08:00", "finished_at": "2025-09-29 15:00"} for i, proc in enumerate(
        r[0] for r in copy.con.execute("SELECT procedure_code FROM dossiers WHERE unit_code = ? LIMIT 3",
                                       [UNIT]).fetchall())]
    api.load(copy, [write_csv(tmp_path / "day.csv", new)], table="dossiers")
    refresh(copy)
    marked = "dossiers__ >= 1000000"
    groups = dict(copy.con.execute(f"SELECT received_month, bool_and({marked}) FROM {kept_groups.GROUPS} "
                                   "GROUP BY 1").fetchall())
    assert groups == {datetime(2025, 7, 1): True, datetime(2025, 8, 1): True, datetime(2025, 9, 1): False}
    copy.con.execute(f"UPDATE {kept_groups.GROUPS} SET dossiers__ = dossiers__ - 1000000 WHERE {marked}")
    agree(copy)
    assert held(copy, "unit_code = '14.STP' AND received_month = TIMESTAMP '2025-09-01'") >= 3


def test_corrections_unloads_and_pauses_of_old_dossiers(copy: Store, tmp_path: Path) -> None:
    refresh(copy)
    old = copy.con.execute(
        "SELECT dossier_id, unit_code, procedure_code, channel, received_at FROM dossiers "
        "WHERE received_at < TIMESTAMP '2025-08-01' AND finished_at IS NOT NULL AND NOT paused ORDER BY dossier_id "
        "LIMIT 3").fetchall()
    moved, late, pausing = (dict(zip(("dossier_id", "unit_code", "procedure_code", "channel", "received_at"), r,
                                     strict=True)) for r in old)
    # one moved to August by a correction, one finished late after all, one given a supplement request later
    moved |= {"received_at": "2025-08-04 09:00", "finished_at": "2025-08-05 09:00", "updated_at": "2025-10-01 08:00",
              "due_at": "", "returned_at": ""}  # the two emptied: they were before the new day received
    late |= {"finished_at": "2025-09-30 16:00", "updated_at": "2025-10-01 08:00"}
    report = api.load(copy, [write_csv(tmp_path / "fix.csv", [moved, late])], table="dossiers")
    agree(copy)
    api.load(copy, [write_csv(tmp_path / "pauses.csv", [{
        "dossier_id": pausing["dossier_id"], "kind": "supplement", "started_at": pausing["received_at"],
        "ended_at": "2025-07-31 09:00"}])], table="pauses")
    agree(copy)
    assert copy.con.execute("SELECT paused FROM dossiers WHERE dossier_id = ?",
                            [pausing["dossier_id"]]).fetchall()[0][0] is True
    # a supplement request of a settled dossier with pauses, its end corrected within the dossier's span: the
    # dossier settles at the same moment, its due date moves
    kind, started, ended, did = copy.con.execute(
        "SELECT p.kind, p.started_at, p.ended_at, p.dossier_id FROM pauses p JOIN dossiers d USING (dossier_id) "
        "WHERE d.finished_at > p.ended_at + INTERVAL 3 DAY AND p.ended_at > p.started_at + INTERVAL 2 DAY "
        "AND d.received_at < TIMESTAMP '2025-09-01' ORDER BY p.dossier_id LIMIT 1").fetchall()[0]
    settled = copy.con.execute("SELECT settled_at FROM dossiers WHERE dossier_id = ?", [did]).fetchall()[0][0]
    api.load(copy, [write_csv(tmp_path / "pause-fix.csv", [{
        "dossier_id": did, "kind": kind, "started_at": started, "ended_at": ended - timedelta(days=1)}])],
        table="pauses")
    assert copy.con.execute("SELECT settled_at FROM dossiers WHERE dossier_id = ?", [did]).fetchall()[0][0] == settled
    agree(copy)
    (file,) = report.files
    assert file.load_id is not None and file.updated == 2
    api_admin.unload(copy, file.load_id)
    agree(copy)


def test_a_changed_procedure_counts_every_month_again(copy: Store, tmp_path: Path) -> None:
    before = copy.get_setting(kept_groups.FINGERPRINT)
    code, name, online, fee = copy.con.execute(
        "SELECT p.code, p.name, COALESCE(p.full_online_eligible, FALSE), COALESCE(p.fee_bearing, FALSE) "
        "FROM procedures p JOIN dossiers d ON d.procedure_code = p.code GROUP BY ALL ORDER BY count(*) DESC LIMIT 1"
    ).fetchall()[0]
    changed = {"code": code, "name": name, "full_online_eligible": str(not online).lower(),
               "fee_bearing": str(not fee).lower()}
    api.load(copy, [write_csv(tmp_path / "procedure.csv", [changed])], table="procedures")
    assert copy.get_setting(kept_groups.FINGERPRINT) != before and held(copy) > 1000
    agree(copy)
    # changed behind chiso's back: the counts no longer hold, and the scoring counts every dossier
    copy.con.execute("UPDATE procedures SET fee_bearing = NOT fee_bearing WHERE code = ?", [code])
    period = parse_period("2025-Q3")
    rs = for_period(period.start, copy.workspace)
    assert kept_groups.use(copy, rs, api.load_config(copy.workspace), dossier_measures(rs), period.start,
                           datetime(2025, 10, 1), stored_due.kept(copy)) is None
    agree(copy, MOMENTS[:2])


def test_a_read_only_store_with_stale_counts_counts_every_dossier(province: Path, tmp_path: Path) -> None:
    target = tmp_path / "ws"
    shutil.copytree(province, target)
    with Store.open(target) as store:
        refresh(store)
        # as a load leaves it when interrupted between its commit and the refresh (the loads recorded differ)
        store.set_setting(kept_groups.GENERATION, "0:0:0")
        rows = store.con.execute(f"SELECT * FROM {kept_groups.GROUPS} ORDER BY ALL").fetchall()
    with Store.open(target, read_only=True) as store:
        period = parse_period("2025-Q3")
        rs = for_period(period.start, store.workspace)
        assert not api.prepared(store)
        assert kept_groups.use(store, rs, api.load_config(target), dossier_measures(rs), period.start,
                               datetime(2025, 10, 1), stored_due.kept(store)) is None
        agree(store, MOMENTS[:3])
        assert store.con.execute(f"SELECT * FROM {kept_groups.GROUPS} ORDER BY ALL").fetchall() == rows


class Recording:
    """A connection that records the statements it runs (the store's own, passed through)."""

    def __init__(self, con: Any) -> None:
        self.con, self.statements = con, []  # type: list[str]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.con, name)

    def execute(self, sql: str, *args: Any) -> Any:
        self.statements.append(sql)
        return self.con.execute(sql, *args)


def test_a_read_only_store_checks_what_is_kept_once(province: Path, tmp_path: Path) -> None:
    # A DuckDB file opened read-only cannot change while it is open: the first scoring checks the kept data (the
    # command's preparation and the scoring's snapshot share the checks), the next ones read it straight away. A
    # writable store checks at every scoring: another connection may load between two.
    target = tmp_path / "ws"
    shutil.copytree(province, target)
    with Store.open(target) as store:
        refresh(store)
        reference = api.score(store, "2025-Q3", as_of=datetime(2025, 10, 15))[1]
    fingerprints: list[int] = []
    for read_only in (True, False):
        with Store.open(target, read_only=read_only) as store:
            store.con = recording = Recording(store.con)
            assert api.prepared(store)
            for _ in range(2):
                start = len(recording.statements)
                assert api.score(store, "2025-Q3", as_of=datetime(2025, 10, 15))[1] == reference
                fingerprints.append(sum("md5(" in sql for sql in recording.statements[start:]))
    assert fingerprints[:2] == [0, 0] and min(fingerprints[2:]) >= 2  # read-only: checked by prepared() alone


def test_the_boundary_is_the_first_second_nothing_has_happened_by() -> None:
    assert kept_groups.boundary(datetime(2025, 7, 31, 23, 59, 59)) == datetime(2025, 8, 1)
    assert kept_groups.boundary(datetime(2025, 12, 31, 23, 59, 59)) == datetime(2026, 1, 1)
    assert kept_groups.boundary(datetime(2025, 7, 31, 23, 59, 58)) == datetime(2025, 7, 1)
    assert kept_groups.boundary(datetime(2025, 7, 31, 23, 59, 59, 500000)) == datetime(2025, 7, 1)
    assert kept_groups.boundary(datetime(2025, 8, 1)) == datetime(2025, 8, 1)


def test_a_dossier_ended_in_the_last_half_second_of_a_month(ws: Workspace) -> None:
    ws.load("procedures", [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days"}])
    ws.load("dossiers", [
        {"dossier_id": "EDGE", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
         "received_at": "2025-07-28 09:00", "finished_at": "2025-07-31 23:59:59.5"},
        {"dossier_id": "SOON", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
         "received_at": "2025-07-28 09:00", "finished_at": "2025-07-31 23:59:59"}])
    finished = ws.store.con.execute("SELECT finished_at FROM dossiers WHERE dossier_id = 'EDGE'").fetchall()[0][0]
    refresh(ws.store)
    july = counts(ws.store, "2025-07", datetime(2025, 8, 5), kept=True)[UNIT]
    assert july == counts(ws.store, "2025-07", datetime(2025, 8, 5), kept=False)[UNIT]
    assert finished.microsecond  # kept as loaded: ended after the month's last second, open at its moment
    assert held(ws.store, "settled_month = TIMESTAMP '2025-08-01'") == 1
    assert held(ws.store, "settled_month = TIMESTAMP '2025-07-01'") == 1
    agree(ws.store, [("2025-07", datetime(2025, 8, 5)), ("2025-08", datetime(2025, 8, 5))])


def test_a_corrected_pause_of_a_settled_dossier_counts_its_month_again(ws: Workspace) -> None:
    # P5 = 5 working days. Received Mon 2/6/2025 09:00: due Mon 9/6 09:00, and three working days later, Thu 12/6
    # 09:00, with the supplement request of Tue 3/6 09:00 – Fri 6/6 09:00; finished Wed 11/6 10:00: before the due
    # date. The request's end corrected to Wed 4/6 09:00 (one day): due Tue 10/6 09:00, and the dossier is late. Its
    # last event is the same (the finish): only the pause changed.
    ws.load("procedures", [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days"}])
    ws.load("dossiers", [{"dossier_id": "D1", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
                          "received_at": "2025-06-02 09:00", "finished_at": "2025-06-11 10:00"}])
    pause = {"dossier_id": "D1", "kind": "supplement", "started_at": "2025-06-03 09:00", "ended_at": "2025-06-06 09:00"}
    ws.load("pauses", [pause])
    refresh(ws.store)
    june = counts(ws.store, "2025-06", datetime(2025, 7, 10), kept=True)[UNIT]
    assert (june["handled"], june["handled_not_late"]) == (1, 1) and held(ws.store) == 1
    ws.load("pauses", [pause | {"ended_at": "2025-06-04 09:00"}])
    june = counts(ws.store, "2025-06", datetime(2025, 7, 10), kept=True)[UNIT]
    assert (june["handled"], june["handled_not_late"]) == (1, 0) and held(ws.store) == 1
    agree(ws.store, [("2025-06", datetime(2025, 7, 10)), ("2025-Q2", datetime(2025, 6, 30, 23, 59, 59))])


def test_a_procedure_whose_only_dossier_settled_after_the_month_it_ended(ws: Workspace) -> None:
    # Finished in the last half second of July, the dossier settles on 1 August (its settled moment is rounded up to
    # the second): its procedure's flags are kept as a row of their own, not as July's bit. August's scoring does not
    # handle it; the quarter's, at a moment after August, finds the procedure with a dossier paid online.
    ws.load("procedures", [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days",
                            "fee_bearing": "true"}])
    ws.load("dossiers", [{"dossier_id": "EDGE", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
                          "fee_amount": 50000, "paid_online": "true", "received_at": "2025-07-28 09:00",
                          "finished_at": "2025-07-31 23:59:59.5"}])
    refresh(ws.store)
    assert ws.store.con.execute(f"SELECT count(*) FROM {kept_groups.FLAG_LATE}").fetchall() == [(1,)]
    assert ws.store.con.execute(f"SELECT has_bits, paid_bits FROM {kept_groups.FLAG_BITS}").fetchall() == [(0, 0)]
    quarter = counts(ws.store, "2025-Q3", datetime(2025, 10, 10), kept=True)[UNIT]
    assert (quarter["fee_procedures_with_dossiers"], quarter["fee_procedures_paid_online"]) == (1, 1)
    august = counts(ws.store, "2025-08", datetime(2025, 9, 10), kept=True)[UNIT]
    assert (august["fee_procedures_with_dossiers"], august["fee_procedures_paid_online"]) == (0, 0)
    agree(ws.store, [("2025-Q3", datetime(2025, 10, 10)), ("2025-07", datetime(2025, 8, 10)),
                     ("2025-08", datetime(2025, 9, 10)), ("2025", datetime(2026, 1, 5))])


def test_the_months_of_a_period_as_bits() -> None:
    def masks(start: date, boundary: datetime) -> dict[int, int]:
        return kept_groups.Use(boundary, start)._month_masks()

    assert masks(date(2025, 7, 1), datetime(2025, 8, 1)) == {2025: 0b1000000}  # July alone
    assert masks(date(2025, 7, 1), datetime(2025, 10, 1)) == {2025: 0b111000000}  # the third quarter
    assert masks(date(2025, 1, 1), datetime(2026, 1, 1)) == {2025: 0xFFF}  # a year at its moment
    assert masks(date(2025, 11, 1), datetime(2026, 3, 1)) == {2025: 0b110000000000, 2026: 0b11}
    assert masks(date(2025, 7, 1), datetime(2025, 7, 1)) == {}  # the first of the month itself: nothing settled


def test_a_procedure_paid_online_only_after_the_moment_is_not_paid_online(ws: Workspace) -> None:
    # One fee-bearing procedure of the unit: a dossier of June paid in cash, one of July paid online. June's scoring
    # (its moment: 30/6 23:59:59) sees a procedure with dossiers and none paid online; the quarter's, both.
    ws.load("procedures", [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days",
                            "fee_bearing": "true"}])
    ws.load("dossiers", [
        {"dossier_id": "JUNE", "unit_code": UNIT, "procedure_code": "P5", "channel": "online", "fee_amount": 50000,
         "paid_online": "false", "received_at": "2025-06-02 09:00", "finished_at": "2025-06-03 10:00"},
        {"dossier_id": "JULY", "unit_code": UNIT, "procedure_code": "P5", "channel": "online", "fee_amount": 50000,
         "paid_online": "true", "received_at": "2025-07-01 09:00", "finished_at": "2025-07-02 10:00"}])
    refresh(ws.store)
    june = counts(ws.store, "2025-06", datetime(2025, 7, 10), kept=True)[UNIT]
    quarter = counts(ws.store, "2025-Q3", datetime(2025, 10, 10), kept=True)[UNIT]
    assert (june["fee_procedures_with_dossiers"], june["fee_procedures_paid_online"]) == (1, 0)
    assert (quarter["fee_procedures_with_dossiers"], quarter["fee_procedures_paid_online"]) == (1, 1)
    agree(ws.store, [("2025-06", datetime(2025, 7, 10)), ("2025-Q3", datetime(2025, 10, 10))])


def test_a_load_between_the_check_and_the_scoring_is_not_seen_by_it(copy: Store, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Found in review: the web service scores in one thread while another loads, and a load commits before its
    refresh does. A scoring that checked the kept counts just before another connection's load committed must read
    the rows they describe (a settled dossier replaced would count twice, one unloaded would still count): the
    check and the statements share one snapshot."""
    before = counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=False)
    old = copy.con.execute(
        "SELECT dossier_id, unit_code, procedure_code, channel, received_at, finished_at FROM dossiers "
        "WHERE finished_at < TIMESTAMP '2025-08-01' AND NOT paused ORDER BY dossier_id LIMIT 20").fetchall()
    rows = [dict(zip(("dossier_id", "unit_code", "procedure_code", "channel", "received_at", "finished_at"), r,
                     strict=True)) | {"channel": "direct" if r[3] == "online" else "online",
                                      "updated_at": "2025-10-01 08:00"} for r in old]
    monkeypatch.setattr(kept_groups, "refresh", lambda *args, **kwargs: True)  # the load's refresh not yet run
    check = kept_groups.use
    other = copy.duplicate()  # another request's connection

    def checked_then_loaded(*args: Any, **kwargs: Any) -> kept_groups.Use | None:
        allowed = check(*args, **kwargs)
        assert allowed is not None
        api.load(other, [write_csv(tmp_path / "replaced.csv", rows)], table="dossiers")
        return allowed

    monkeypatch.setattr(kept_groups, "use", checked_then_loaded)
    assert counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True) == before
    monkeypatch.setattr(kept_groups, "use", check)
    after = counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=False)
    assert after != before  # the load changed the figures; the next scoring sees it, counting every dossier
    assert counts(copy, "2025-Q3", datetime(2025, 10, 15), kept=True) == after
    other.close()


def test_a_measure_named_like_a_key_is_never_kept(copy: Store) -> None:
    """Found in review: DuckDB's names are case-insensitive, so a rule set's measure `In_Period` would have been
    read as the key column `in_period`."""
    rs = for_period(parse_period("2025-Q3").start, copy.workspace)
    odd = dataclasses.replace(rs, measures={**rs.measures, "In_Period": Measure("In_Period", "dossiers", "handled")})
    config = api.load_config(copy.workspace)
    before = copy.get_setting(kept_groups.FINGERPRINT)
    assert kept_groups.current(copy, rs, config)
    assert not kept_groups.refresh(copy, odd, config)  # such a rule set's counts are never kept
    assert copy.get_setting(kept_groups.FINGERPRINT) == before
    assert kept_groups.use(copy, odd, config, dossier_measures(odd), date(2025, 7, 1), datetime(2025, 10, 1),
                           stored_due.kept(copy)) is None
