"""Hypothesis properties of deadline arithmetic, checked set-based: each example loads a batch of
dossiers through the real loader and checks the property over all of them."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chiso import api
from chiso.store.db import Store
from conftest import UNIT, Workspace, write_csv

moments = st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 12, 20)).map(
    lambda d: d.replace(second=0, microsecond=0))
LIMITS = [("working_days", 1), ("working_days", 2.5), ("working_days", 5), ("working_days", 20),
          ("calendar_days", 3), ("calendar_days", 10), ("same_day", None), ("hours", 4)]
limits = st.sampled_from(LIMITS)
WORKING_UNITS = [("working_days", 1), ("working_days", 2.5), ("working_days", 5), ("hours", 4), ("same_day", None)]
# Each example loads its dossiers through the real loader into one module-wide workspace (deadline=None: the
# database does the work, and its time varies on a shared machine). No health check needs suppressing: the
# workspace is module-scoped, so Hypothesis does not see a function-scoped fixture reused across examples.
# An example costs 0.15-0.3 s (a load and a status query) and checks a batch of up to 40-50 dossiers: 75 examples
# a property (50 for the pause property, which loads two tables) keep the whole file under a minute on 2 cores.
SETTINGS = settings(max_examples=50, deadline=None)  # 75 took 25 s each; the suite keeps under 15 minutes


@pytest.fixture(scope="module")
def ws(units_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """One workspace for every example of the module, the procedures of LIMITS loaded once."""
    target = tmp_path_factory.mktemp("properties") / "ws"
    shutil.copytree(units_template, target)
    store = Store.open(target)
    try:
        workspace = Workspace(store, target.parent)
        _procedures(workspace)
        yield workspace
    finally:
        store.close()


def _procedures(ws: Workspace) -> None:
    ws.load("procedures", [
        {"code": f"{unit}-{limit}", "name": "p", "time_unit": unit, "time_limit": "" if limit is None else limit}
        for unit, limit in LIMITS
    ])


def _reset(ws: Workspace) -> None:
    """Empty the dossier tables between examples (the procedures stay)."""
    ws.store.con.execute("DELETE FROM pauses")
    ws.store.con.execute("DELETE FROM dossiers")


def _working_days(ws: Workspace) -> set[str]:
    rows = ws.store.con.execute("SELECT day FROM calendar_days WHERE calendar_key = '14' AND is_working").fetchall()
    return {str(r[0]) for r in rows}


@SETTINGS
@given(batch=st.lists(st.tuples(moments, limits), min_size=1, max_size=40))
def test_due_date_is_never_on_a_non_working_day(ws: Workspace, batch: list[tuple[datetime, tuple[str, float]]]) -> None:
    _reset(ws)
    ws.load("dossiers", [{"dossier_id": f"D{i}", "unit_code": UNIT, "procedure_code": f"{u}-{lim}",
                          "channel": "online", "received_at": rec.isoformat(sep=" ")}
                         for i, (rec, (u, lim)) in enumerate(batch)])
    working = _working_days(ws)
    for row in ws.status("2030-01-01").values():
        due = row["due_at"]
        assert str(due.date()) in working, row
        if not row["procedure_code"].startswith("calendar_days"):  # N x 24 h keeps the time of day
            assert datetime(2000, 1, 1, 7).time() < due.time() <= datetime(2000, 1, 1, 17).time(), row
        assert due >= row["received_at"], row


@SETTINGS
@given(received=moments, extra=st.lists(st.integers(min_value=0, max_value=60 * 24 * 20), min_size=1, max_size=10))
def test_adding_working_time_is_monotone(ws: Workspace, received: datetime, extra: list[int]) -> None:
    """Later reception or a longer statutory time never gives an earlier due date (working-time units).

    Calendar-day procedures are left out on purpose: under the N x 24 h rule a due time on a
    non-working day moves to 17:00 of the next working day, while a slightly later reception whose due
    time falls at 00:30 that next day keeps 00:30 — see docs/deadlines.md."""
    _reset(ws)
    offsets = sorted(extra)
    rows = []
    for i, minutes in enumerate(offsets):
        rec = (received + timedelta(minutes=minutes)).isoformat(sep=" ")
        for unit, limit in WORKING_UNITS:
            rows.append({"dossier_id": f"{unit}-{limit}-{i}", "unit_code": UNIT,
                         "procedure_code": f"{unit}-{limit}", "channel": "direct", "received_at": rec})
    ws.load("dossiers", rows)
    due = {k: v["due_at"] for k, v in ws.status("2030-01-01").items()}
    for unit, limit in WORKING_UNITS:
        series = [due[f"{unit}-{limit}-{i}"] for i in range(len(offsets))]
        assert series == sorted(series), (unit, limit, series)
    for i in range(len(offsets)):
        wd = [due[f"working_days-{n}-{i}"] for n in (1, 2.5, 5)]
        assert wd == sorted(wd)
        assert due[f"same_day-None-{i}"] <= due[f"working_days-1-{i}"]
        assert due[f"hours-4-{i}"] <= due[f"working_days-1-{i}"]


SEVERITY = {"early": 0, "on_time": 1, "pending": 1, "late": 2, "pending_late": 2}


pauses = st.tuples(moments,
                   st.integers(min_value=1, max_value=60 * 24 * 30),   # finished this many minutes after reception
                   st.integers(min_value=0, max_value=60 * 24 * 10),   # pause starts this many minutes after it
                   st.integers(min_value=1, max_value=60 * 24 * 10),   # pause length in minutes
                   st.sampled_from(["working_days-5", "working_days-1", "calendar_days-10", "hours-4"]))


@settings(SETTINGS, max_examples=35)  # two tables loaded per example: the slowest property
@given(batch=st.lists(pauses, min_size=1, max_size=10))
def test_subtracting_a_pause_never_makes_a_dossier_later(ws: Workspace,
                                                         batch: list[tuple[datetime, int, int, int, str]]) -> None:
    """The same dossier with and without a completed supplement pause: the pause never moves the due date
    earlier nor makes the status worse."""
    _reset(ws)
    dossiers, pause_rows = [], []
    for i, (received, finish_after, pause_start, pause_len, limit) in enumerate(batch):
        finished = received + timedelta(minutes=finish_after)
        start = received + timedelta(minutes=pause_start)
        end = start + timedelta(minutes=pause_len)
        base = {"unit_code": UNIT, "procedure_code": limit, "channel": "online",
                "received_at": received.isoformat(sep=" "), "finished_at": finished.isoformat(sep=" ")}
        dossiers += [{"dossier_id": f"with-{i}", **base}, {"dossier_id": f"without-{i}", **base}]
        pause_rows.append({"dossier_id": f"with-{i}", "kind": "supplement", "started_at": start.isoformat(sep=" "),
                           "ended_at": end.isoformat(sep=" ")})
    # One load of both files (one transaction; the loader orders dossiers before their pauses).
    api.load(ws.store, [write_csv(ws.tmp / "dossiers.csv", dossiers), write_csv(ws.tmp / "pauses.csv", pause_rows)])
    rows = ws.status("2030-01-01")
    for i in range(len(batch)):
        with_pause, without = rows[f"with-{i}"], rows[f"without-{i}"]
        assert with_pause["due_at"] >= without["due_at"], (with_pause, without)
        assert SEVERITY[with_pause["timeliness"]] <= SEVERITY[without["timeliness"]], (with_pause, without)
