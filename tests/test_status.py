"""Status classes at an as-of moment, by the 766 rules (domain.md §3). Hand-computed expectations.

Procedure P5 = 5 working days. A dossier received Mon 2/6/2025 09:00 is due Mon 9/6/2025 09:00:
Mon 6h, Tue 3 – Fri 6 = 32h (38h), 2h on Mon 9/6 -> 09:00. No holidays in June 2025.
"""

from __future__ import annotations

from typing import Any

from conftest import UNIT, Workspace

P5 = [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days"}]
RECEIVED = "2025-06-02 09:00"


def dossier(did: str, **extra: Any) -> dict[str, Any]:
    return {"dossier_id": did, "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
            "received_at": RECEIVED, "finished_at": "", "returned_at": "", "stopped_at": "", **extra}


def classes(ws: Workspace, as_of: str) -> dict[str, str]:
    return {k: v["timeliness"] for k, v in ws.status(as_of).items()}


def test_every_class(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [
        dossier("early", finished_at="2025-06-06 10:00"),            # date 6/6 < 9/6
        dossier("on_time", finished_at="2025-06-09 08:30"),          # same date, before 09:00
        dossier("on_time_exact", finished_at="2025-06-09 09:00"),    # end = due is on time
        dossier("late", finished_at="2025-06-09 09:01"),             # one minute after the due moment
        dossier("late_returned", returned_at="2025-06-10 08:00"),    # no finish: the return ends it
        dossier("withdrawn", stopped_at="2025-06-03 10:00", stop_reason="withdrawn"),
        dossier("open"),                                             # not ended
    ])
    got = classes(ws, "2025-06-09 10:00")
    assert got == {
        "early": "early", "on_time": "on_time", "on_time_exact": "on_time", "late": "late",
        "late_returned": "pending_late",  # at 9/6 10:00 the return (10/6) has not happened yet
        "withdrawn": "early", "open": "pending_late",
    }
    assert classes(ws, "2025-06-05 12:00")["open"] == "pending"
    assert classes(ws, "2025-06-30 17:00")["late_returned"] == "late"


def test_end_priority_finished_before_returned(ws: Workspace) -> None:
    # finished on time (9/6 08:00) but returned late (12/6): the end of processing is the finish.
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A", finished_at="2025-06-09 08:00", returned_at="2025-06-12 10:00")])
    row = ws.status("2025-06-30")["A"]
    assert row["timeliness"] == "on_time"
    assert row["end_at"].strftime("%Y-%m-%d %H:%M") == "2025-06-09 08:00"


def test_as_of_ignores_later_events(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A", finished_at="2025-06-06 10:00"),
                         dossier("B", received_at="2025-06-20 09:00")])
    rows = ws.status("2025-06-06 09:00")
    assert rows["A"]["timeliness"] == "pending" and rows["A"]["end_at"] is None
    assert "B" not in rows  # not yet received


def test_completed_supplement_is_subtracted(ws: Workspace) -> None:
    # Pause Tue 3/6 09:00 -> Thu 5/6 09:00 = 6h + 8h + 2h = 16 working hours.
    # Due 9/6 09:00 + 16h: Mon 6h, Tue 10/6 8h, 2h on Wed 11/6 -> Wed 11/6 09:00.
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A", finished_at="2025-06-10 15:00"), dossier("B", finished_at="2025-06-10 15:00")])
    ws.load("pauses", [{"dossier_id": "A", "kind": "supplement", "started_at": "2025-06-03 09:00",
                        "ended_at": "2025-06-05 09:00"}])
    rows = ws.status("2025-06-30")
    assert rows["A"]["due_at"].strftime("%Y-%m-%d %H:%M") == "2025-06-11 09:00"
    assert rows["A"]["paused_seconds"] == 16 * 3600
    assert rows["A"]["timeliness"] == "early"
    assert rows["B"]["timeliness"] == "late"  # the same dossier without the pause


def test_pending_supplement_freezes(ws: Workspace) -> None:
    # A supplement requested Wed 4/6 10:00 and not answered: weeks later the dossier is still pending.
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A"), dossier("B")])
    ws.load("pauses", [{"dossier_id": "A", "kind": "supplement", "started_at": "2025-06-04 10:00",
                        "ended_at": ""}])
    got = classes(ws, "2025-07-15 10:00")
    assert got == {"A": "pending", "B": "pending_late"}
    # If it is finished anyway, the end is frozen at the request (4/6), before the due date.
    ws.load("dossiers", [dossier("A", finished_at="2025-07-01 10:00")])
    assert classes(ws, "2025-07-15 10:00")["A"] == "early"


def test_more_than_one_supplement_is_late(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A", finished_at="2025-06-04 10:00"), dossier("B"),
                         dossier("C", finished_at="2025-06-04 10:00", supplement_count=2)])
    ws.load("pauses", [
        {"dossier_id": "A", "kind": "supplement", "started_at": "2025-06-02 10:00", "ended_at": "2025-06-02 14:00"},
        {"dossier_id": "A", "kind": "bổ sung", "started_at": "2025-06-03 10:00", "ended_at": "2025-06-03 14:00"},
        {"dossier_id": "B", "kind": "supplement", "started_at": "2025-06-02 10:00", "ended_at": "2025-06-02 14:00"},
        {"dossier_id": "B", "kind": "supplement", "started_at": "2025-06-03 10:00", "ended_at": "2025-06-03 14:00"},
    ])
    got = classes(ws, "2025-06-05 10:00")
    assert got == {"A": "late", "B": "pending_late", "C": "late"}


def test_restart_mode(ws: Workspace) -> None:
    # Restart: counting starts again at the resubmission, Thu 5/6 09:00: Thu 6h, Fri 6, Mon 9, Tue 10,
    # Wed 11 (38h), 2h on Thu 12/6 -> 09:00. Finished Wed 11/6 16:00 -> early (resume mode: due Wed 11/6
    # 09:00, so late).
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A", finished_at="2025-06-11 16:00")])
    ws.load("pauses", [{"dossier_id": "A", "kind": "supplement", "started_at": "2025-06-03 09:00",
                        "ended_at": "2025-06-05 09:00"}])
    assert classes(ws, "2025-06-30")["A"] == "late"
    ws.config('[deadline]\nsupplement = "restart"\n')
    row = ws.status("2025-06-30")["A"]
    assert row["due_at"].strftime("%Y-%m-%d %H:%M") == "2025-06-12 09:00"
    assert row["timeliness"] == "early"


def test_edited_due_date_scores_against_the_original(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A", due_at="2025-06-09 09:00", updated_at="2025-06-02 09:00")])
    # An administrator moves the due date to 20/6 and the dossier finishes 12/6: still late (domain §3).
    ws.load("dossiers", [dossier("A", due_at="2025-06-20 09:00", finished_at="2025-06-12 10:00",
                                 updated_at="2025-06-12 10:00")])
    row = ws.status("2025-06-30")["A"]
    assert row["due_at"].strftime("%Y-%m-%d %H:%M") == "2025-06-09 09:00"
    assert row["timeliness"] == "late"
    history = ws.store.con.execute("SELECT due_at FROM dossier_history WHERE dossier_id = 'A'").fetchall()
    assert [str(h[0]) for h in history] == ["2025-06-09 09:00:00"]


def test_unit_filter_includes_descendants(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A"), dossier("B", unit_code="03646")])
    assert set(ws.status("2025-06-30", unit="14")) == {"A", "B"}
    assert set(ws.status("2025-06-30", unit="03646")) == {"B"}
