"""The quarterly one-stop report figures (chiso.reports.onestop) on a hand-built province, computed by hand.

Report 2023-Q1 with the Nghị định 09/2019 window, as in seed 001: 15/12/2022 .. 14/03/2023; the status of every
dossier is taken at 14/03/2023 23:59:59. Every dossier carries its own due date (no deadline arithmetic), so
classes follow from the dates: early = ended on a date before the due date, on time = ended on the due date, late =
ended after the due moment or more than one supplement request (766 method).

Units (Sơn La, shipped catalogue): department 14.STP (Z, report level "centre"), communes 03646 (X) and 03667 (Y).
Procedures: PD provincial, offered partly online; PA commune, fully online; PB commune, not online.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from chiso.config import Config, ConfigError, load_config
from chiso.reports import onestop
from chiso.scoring.period import parse_period
from conftest import Workspace

Z, X, Y = "14.STP", "03646", "03667"
START, LAST = date(2022, 12, 15), date(2023, 3, 14)

PROCS = [
    {"code": "PD", "name": "D", "level": "province", "time_limit": 5, "online_level": "partial"},
    {"code": "PA", "name": "A", "level": "commune", "time_limit": 5, "online_level": "full"},
    {"code": "PB", "name": "B", "level": "commune", "time_limit": 5, "online_level": "none"},
]


def d(did: str, unit: str, proc: str, channel: str, received: str, due: str, *, finished: str = "",
      stopped: str = "", reason: str = "", supplements: str = "", complained: str = "false",
      officer: str = "") -> dict[str, Any]:
    return {"dossier_id": did, "unit_code": unit, "procedure_code": proc, "channel": channel,
            "received_at": received, "due_at": due, "finished_at": finished, "stopped_at": stopped,
            "stop_reason": reason, "supplement_count": supplements, "complained": complained, "officer": officer}


DOSSIERS = [
    # --- Z (14.STP) ---
    # carried over (received 1/12/2022), finished 19/12 before its due date 20/12: resolved early; online
    d("Z1", Z, "PD", "online", "2022-12-01 09:00", "2022-12-20 17:00", finished="2022-12-19 10:00",
      officer="Nguyễn Văn A"),
    # finished 10/12/2022, before the window: not in the report at all
    d("Z2", Z, "PD", "direct", "2022-12-01 09:00", "2022-12-20 17:00", finished="2022-12-10 10:00",
      officer="Nguyễn Văn A"),
    # new, finished on its due date: on time; one supplement request (not late); complained
    d("Z3", Z, "PD", "direct", "2023-01-05 09:00", "2023-01-12 17:00", finished="2023-01-12 16:00",
      supplements="1", complained="true", officer="Nguyễn Văn A"),
    # new, finished the day after its due date: late; two supplement requests; online
    d("Z4", Z, "PD", "online", "2023-02-01 09:00", "2023-02-08 17:00", finished="2023-02-09 09:00",
      supplements="2", officer="Trần Thị B"),
    # new, open at the window end, due 20/3 not passed: in progress (its officer has nothing resolved)
    d("Z5", Z, "PD", "direct", "2023-03-01 09:00", "2023-03-20 17:00", officer="Phạm Văn D"),
    # new, open, due 1/3 passed by 14/3: in progress late; online
    d("Z6", Z, "PD", "online", "2023-02-01 09:00", "2023-03-01 17:00"),
    # new, open, a supplement request of 6/3 still waiting for the citizen (pauses below): paused
    d("Z7", Z, "PD", "direct", "2023-03-01 09:00", "2023-03-10 17:00"),
    # new, withdrawn by the citizen on 12/1: withdrawn; online
    d("Z8", Z, "PD", "online", "2023-01-10 09:00", "2023-01-20 17:00", stopped="2023-01-12 10:00",
      reason="withdrawn"),
    # carried over, cancelled on 3/1/2023 (after its due date, but a cancelled dossier is not "resolved")
    d("Z9", Z, "PD", "direct", "2022-12-05 09:00", "2022-12-30 17:00", stopped="2023-01-03 10:00",
      reason="cancelled"),
    # new, refused on 13/2 before its due date 20/2: a resolved dossier, early; no officer
    d("Z10", Z, "PD", "direct", "2023-02-10 09:00", "2023-02-20 17:00", stopped="2023-02-13 10:00",
      reason="refused"),
    # received 15/3, after the window: not in the report
    d("Z11", Z, "PD", "direct", "2023-03-15 09:00", "2023-03-22 17:00"),
    # finished on 16/3, after the window: still open at its end, due 20/3: in progress; online
    d("Z12", Z, "PD", "online", "2023-03-10 09:00", "2023-03-20 17:00", finished="2023-03-16 10:00"),
    # withdrawn on 20/3, after the window: still open at its end, due 24/3: in progress
    d("Z13", Z, "PD", "direct", "2023-03-13 09:00", "2023-03-24 17:00", stopped="2023-03-20 10:00",
      reason="withdrawn"),
    # open, waiting for a supplement since 8/3, but two supplement requests make it late (766): the overdue
    # class wins over "paused" -> in progress late
    d("Z14", Z, "PD", "direct", "2023-03-01 09:00", "2023-03-20 17:00", supplements="2"),
    # --- X (03646) ---
    # new, early; online; fully-online procedure
    d("X1", X, "PA", "online", "2023-01-09 09:00", "2023-01-16 17:00", finished="2023-01-10 10:00",
      officer="Lò Văn C"),
    # new, finished on the due date: on time; direct; procedure not online
    d("X2", X, "PB", "direct", "2023-01-09 09:00", "2023-01-16 17:00", finished="2023-01-16 10:00",
      officer="Lò Văn C"),
    # carried over, open, due 20/12/2022 passed: in progress late
    d("X3", X, "PB", "direct", "2022-12-10 09:00", "2022-12-20 17:00"),
    # --- Y (03667) ---
    # finished 5/11/2022: not in the report
    d("Y1", Y, "PB", "direct", "2022-11-01 09:00", "2022-11-08 17:00", finished="2022-11-05 10:00"),
    # new, postal, one completed supplement request (pauses below; the due date moves a few hours later),
    # finished 2/2, due 8/2: early
    d("Y2", Y, "PB", "postal", "2023-02-01 09:00", "2023-02-08 17:00", finished="2023-02-02 10:00"),
]
PAUSES = [
    {"dossier_id": "Z7", "kind": "supplement", "started_at": "2023-03-06 09:00", "ended_at": ""},
    {"dossier_id": "Z14", "kind": "supplement", "started_at": "2023-03-08 09:00", "ended_at": ""},
    {"dossier_id": "Y2", "kind": "supplement", "started_at": "2023-02-01 10:00", "ended_at": "2023-02-01 15:00"},
]


def form(did: str, unit: str, at: str, who: str, **items: int) -> dict[str, Any]:
    return {"dossier_id": did, "unit_code": unit, "evaluated_at": at, "evaluator": who,
            **{f"i{n}": items.get(f"i{n}", "") for n in range(1, 10)}}


EVALUATIONS = [
    # Z1: two supervisor forms and a later self-evaluation. Supervisor beats self; the later supervisor form
    # (5/1) beats the earlier one -> i1 = 0 and i9 = 1 from the form, the other items derived.
    form("Z1", Z, "2023-01-02 08:00", "supervisor", i1=1, i4=1),
    form("Z1", Z, "2023-01-05 08:00", "supervisor", i1=0, i9=1),
    form("Z1", Z, "2023-01-10 08:00", "self", i1=2, i9=2),
    # Z10: the citizen's form (earlier) beats the self-evaluation (later) -> i4 = 0, i7 derived (2)
    form("Z10", Z, "2023-02-14 08:00", "citizen", i4=0),
    form("Z10", Z, "2023-02-20 08:00", "self", i4=1, i7=0),
]


def fb(fid: str, unit: str, received: str, due: str = "", handled: str = "") -> dict[str, Any]:
    return {"feedback_id": fid, "unit_code": unit, "received_at": received, "due_at": due, "handled_at": handled}


FEEDBACK = [
    # Z: nine handled before their due date 10/2 ...
    *(fb(f"F{n}", Z, "2023-01-20 08:00", "2023-02-10 17:00", "2023-02-09 10:00") for n in range(1, 10)),
    # ... one handled after it ...
    fb("F10", Z, "2023-01-20 08:00", "2023-02-10 17:00", "2023-02-11 09:00"),
    # ... two without due_at whose 15 working days end outside the window (31/3/2023, 9/12/2022): ignored ...
    fb("F11", Z, "2023-03-10 08:00"),
    fb("F12", Z, "2022-11-20 08:00"),
    # ... and one without due_at, received Sunday 1/1/2023: 15 working days (2/1 is the New Year's day off,
    # 20/1-26/1 Tết) end 30/1 17:00; handled 27/1: on time (15 calendar days would have made it late on 16/1).
    # Z: 10 on time of 11 = 90.9 % -> i8 = 1
    fb("F13", Z, "2023-01-01 08:00", handled="2023-01-27 10:00"),
    # Y: due 22/2 17:00 (no due_at: 15 working days), handled 23/2: late; handled before its due date: on time;
    # due on the last day of the window and never handled: late; due 15/3 (after the window): ignored.
    # 1 of 3 -> i8 = 0
    fb("G1", Y, "2023-02-01 08:00", handled="2023-02-23 09:00"),
    fb("G2", Y, "2023-02-01 08:00", "2023-02-20 17:00", "2023-02-18 10:00"),
    fb("G3", Y, "2023-02-20 08:00", "2023-03-14 17:00"),
    fb("G4", Y, "2023-02-20 08:00", "2023-03-15 08:00"),
    # X has no feedback -> i8 = 2
]


def load(ws: Workspace) -> Config:
    ws.load("procedures", PROCS)
    ws.load("dossiers", DOSSIERS)
    ws.load("pauses", PAUSES)
    ws.load("evaluations", EVALUATIONS)
    ws.load("feedback", FEEDBACK)
    return load_config(ws.store.workspace)


@pytest.fixture
def province(ws: Workspace) -> tuple[Workspace, Config]:
    return ws, load(ws)


# --- window ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("period", "first", "last"), [
    ("2023-Q1", date(2022, 12, 15), date(2023, 3, 14)),   # seed 001: "từ 15/12/2022 đến hết 14/03/2023"
    ("2023-Q3", date(2023, 6, 15), date(2023, 9, 14)),
    ("2023-01", date(2022, 12, 15), date(2023, 1, 14)),
    ("2023-03", date(2023, 2, 15), date(2023, 3, 14)),
    ("2023", date(2022, 12, 15), date(2023, 12, 14)),
    ("2023-02-01..2023-02-20", date(2023, 2, 1), date(2023, 2, 20)),  # an explicit range is kept
])
def test_window_nd09(period: str, first: date, last: date) -> None:
    assert onestop.report_window(parse_period(period), Config()) == (first, last)
    assert onestop.report_window(parse_period(period), Config(report={"window": "nd09"})) == (first, last)


def test_window_calendar() -> None:
    cfg = Config(report={"window": "calendar"})
    assert onestop.report_window(parse_period("2023-Q1"), cfg) == (date(2023, 1, 1), date(2023, 3, 31))
    assert onestop.report_window(parse_period("2024-02"), cfg) == (date(2024, 2, 1), date(2024, 2, 29))


def test_window_config_error() -> None:
    with pytest.raises(ConfigError, match="report.window"):
        onestop.report_window(parse_period("2023-Q1"), Config(report={"window": "quarterly"}))


# --- handling counts -------------------------------------------------------------------------------------


def counts(rows: list[dict[str, Any]], code: str, prefix: str = "") -> dict[str, int]:
    row = next(r for r in rows if r["code"] == code)
    return {k: row[f"{prefix}{k}"] for k in onestop.COUNT_COLUMNS}


def test_handling_counts(province: tuple[Workspace, Config]) -> None:
    ws, cfg = province
    rows = onestop.handling_counts(ws.store, START, LAST, cfg)
    # Y1 ended before the window; Y2 is Y's only dossier in it. Units without dossiers have no row.
    # Order: level, then name (Y "phường Chiềng An" before X "phường Tô Hiệu").
    assert [r["code"] for r in rows] == [Z, Y, X]
    z = next(r for r in rows if r["code"] == Z)
    assert (z["name"], z["level"], z["parent_code"]) == ("Sở Tư pháp", "department", "14")
    # Z in the report: Z1 Z3 Z4 Z5 Z6 Z7 Z8 Z9 Z10 Z12 Z13 Z14 (not Z2: ended before; not Z11: received after)
    # carried over Z1 Z9; resolved Z1 (early) Z3 (on time) Z4 (late) Z10 (refused, early);
    # in progress Z5 Z12 Z13; late Z6 Z14; paused Z7; withdrawn Z8 Z9
    assert counts(rows, Z) == {"carried_over": 2, "new": 10, "total": 12, "resolved": 4, "early": 2, "on_time": 1,
                               "late": 1, "in_progress": 3, "in_progress_late": 2, "paused": 1, "withdrawn": 2}
    # online: Z1 (carried, early), Z4 (late), Z6 (late, open), Z8 (withdrawn), Z12 (in progress)
    assert counts(rows, Z, "online_") == {"carried_over": 1, "new": 4, "total": 5, "resolved": 2, "early": 1,
                                          "on_time": 0, "late": 1, "in_progress": 1, "in_progress_late": 1,
                                          "paused": 0, "withdrawn": 1}
    # X: X1 early (online), X2 on time, X3 carried over and overdue
    assert counts(rows, X) == {"carried_over": 1, "new": 2, "total": 3, "resolved": 2, "early": 1, "on_time": 1,
                               "late": 0, "in_progress": 0, "in_progress_late": 1, "paused": 0, "withdrawn": 0}
    assert counts(rows, X, "online_") == {"carried_over": 0, "new": 1, "total": 1, "resolved": 1, "early": 1,
                                          "on_time": 0, "late": 0, "in_progress": 0, "in_progress_late": 0,
                                          "paused": 0, "withdrawn": 0}
    # Y: Y2 early, postal
    assert counts(rows, Y)["early"] == 1 and counts(rows, Y, "online_")["total"] == 0


def test_identity(province: tuple[Workspace, Config]) -> None:
    ws, cfg = province
    for window in ((START, LAST), (date(2023, 1, 1), date(2023, 3, 31)), (date(2023, 3, 1), date(2023, 3, 1))):
        for r in onestop.handling_counts(ws.store, *window, cfg):
            for p in ("", "online_"):
                assert r[f"{p}total"] == r[f"{p}carried_over"] + r[f"{p}new"]
                assert r[f"{p}total"] == sum(r[f"{p}{o}"] for o in onestop.OUTCOMES)
                assert r[f"{p}resolved"] == r[f"{p}early"] + r[f"{p}on_time"] + r[f"{p}late"]


def test_calendar_window_counts(province: tuple[Workspace, Config]) -> None:
    ws, cfg = province
    start, last = onestop.report_window(parse_period("2023-Q1"), Config(report={"window": "calendar"}))
    rows = onestop.handling_counts(ws.store, start, last, cfg)
    z = counts(rows, Z)
    # 1/1..31/3/2023: Z1 ended 19/12 (out); carried over only Z9 (stopped 3/1); Z11 received 15/3 is new and
    # open; Z12 finished 16/3 and Z13 withdrawn 20/3 are now in the window; by 31/3 Z5 (due 20/3) and Z14 are
    # overdue, Z11 (due 22/3) too; Z7 still waits for the citizen.
    assert z["carried_over"] == 1 and z["new"] == 11
    assert (z["resolved"], z["early"], z["withdrawn"]) == (4, 2, 3)  # Z3 Z4 Z10 Z12; Z8 Z9 Z13
    assert (z["in_progress"], z["in_progress_late"], z["paused"]) == (0, 4, 1)  # Z5 Z6 Z11 Z14; Z7


# --- level totals ----------------------------------------------------------------------------------------


def test_level_totals_from_store(province: tuple[Workspace, Config]) -> None:
    ws, cfg = province
    totals = onestop.level_totals(onestop.handling_counts(ws.store, START, LAST, cfg))
    c = totals["centre"]
    # Z only: 4 resolved of 12 = 33.33 %; 2 early of 4 = 50 %; 3 in progress of 12 = 25 %; paused 1/12 = 8.33 %;
    # withdrawn 2/12 = 16.67 %; online 5 of 12 = 41.67 %; online resolved 2 of 5 = 40 %
    assert (c["units"], c["total"], c["resolved"]) == (1, 12, 4)
    assert (c["resolved_pct"], c["early_pct"], c["on_time_pct"], c["late_pct"]) == (33.33, 50.0, 25.0, 25.0)
    assert (c["in_progress_pct"], c["in_progress_late_pct"], c["paused_pct"], c["withdrawn_pct"]) == (
        25.0, 16.67, 8.33, 16.67)
    assert (c["online_share"], c["online_resolved_pct"], c["online_late_pct"]) == (41.67, 40.0, 50.0)
    m = totals["commune"]
    # X + Y: 4 dossiers, 3 resolved (X1 Y2 early, X2 on time), X3 overdue; 1 online (X1)
    assert (m["units"], m["total"], m["carried_over"], m["new"], m["resolved"]) == (2, 4, 1, 3, 3)
    assert (m["resolved_pct"], m["early_pct"], m["on_time_pct"], m["in_progress_late_pct"]) == (
        75.0, 66.67, 33.33, 25.0)
    assert (m["online_share"], m["online_total"], m["online_resolved_pct"]) == (25.0, 1, 100.0)
    # no district rows: zeros, and 0 % for an empty denominator
    assert totals["district"]["total"] == 0 and totals["district"]["resolved_pct"] == 0.0
    assert totals["district"]["online_share"] == 0.0


def row(code: str, level: str, **values: int) -> dict[str, Any]:
    base = {k: 0 for k in onestop.COUNT_COLUMNS} | {f"online_{k}": 0 for k in onestop.COUNT_COLUMNS}
    return {"code": code, "name": code, "level": level, "parent_code": None, **base, **values}


def test_level_totals_by_hand() -> None:
    rows = [
        # province and department units both go to the centre: total 20 + 12 = 32
        row("14", "province", total=20, resolved=18, early=17, late=1, paused=1, withdrawn=1, online_total=8),
        row("14.A", "department", total=12, resolved=12, early=11, on_time=1, online_total=8),
        row("D1", "district", total=8, resolved=7, on_time=7, in_progress=1, online_total=1),
    ]
    t = onestop.level_totals(rows)
    c = t["centre"]
    # resolved 30/32 = 93.75 %; early 28/30 = 93.333 %; on time 1/30 = 3.333 %; late 1/30 = 3.333 %;
    # paused 1/32 = 3.125 % -> 3.13 (half up, not 3.12); online 16/32 = 50 %
    assert (c["units"], c["total"], c["resolved"], c["early"]) == (2, 32, 30, 28)
    assert (c["resolved_pct"], c["early_pct"], c["on_time_pct"], c["late_pct"]) == (93.75, 93.33, 3.33, 3.33)
    assert (c["paused_pct"], c["withdrawn_pct"], c["online_share"]) == (3.13, 3.13, 50.0)
    dd = t["district"]
    # 7/8 = 87.5 %; on time 7/7 = 100 %; in progress 1/8 = 12.5 %; online 1/8 = 12.5 %
    assert (dd["resolved_pct"], dd["on_time_pct"], dd["in_progress_pct"], dd["online_share"]) == (
        87.5, 100.0, 12.5, 12.5)
    assert t["commune"]["units"] == 0 and t["commune"]["early_pct"] == 0.0


# --- evaluation ------------------------------------------------------------------------------------------


def items(r: dict[str, Any]) -> list[float]:
    return [r[f"i{n}"] for n in range(1, 10)]


def test_evaluate_units(province: tuple[Workspace, Config]) -> None:
    ws, cfg = province
    result = onestop.evaluate(ws.store, START, LAST, cfg)
    units = {r["code"]: r for r in result["units"]}
    assert list(units) == [Z, Y, X]
    # Z: resolved Z1 Z3 Z4 Z10 (not the withdrawn/cancelled Z8 Z9, not the open ones). Z's i8 = 1 (10/11 PAKN).
    #        i1 i2 i3 i4 i5 i6 i7 i8 i9
    # Z1:     0  2  2  2  2  2  2  1  1   form (supervisor, 5/1): i1 0 over derived 2, i9 1; i2 = derived i1 = 2
    # Z3:     1  1  1  2  2  2  0  1  1   on time; one supplement; complained; direct, partly-online procedure
    # Z4:     0  0  0  2  2  2  2  1  2   late; two supplements; online
    # Z10:    2  2  2  0  2  2  2  1  1   refused early; citizen's form i4 = 0 (self's i7 = 0 loses)
    # sums    3  5  5  6  8  8  6  4  5  -> means /4
    z = units[Z]
    assert (z["name"], z["level"], z["dossiers"], z["forms"]) == ("Sở Tư pháp", "department", 4, 2)
    assert items(z) == [0.75, 1.25, 1.25, 1.5, 2.0, 2.0, 1.5, 1.0, 1.25]
    assert z["total"] == 12.5  # 12 < 12.5 <= 15
    assert (z["band"], z["classification"]) == ("Tốt", "Hoàn thành tốt nhiệm vụ")
    # X: X1 early online (2 2 2 2 2 2 2 2 2), X2 on time direct, procedure not online (1 1 2 2 2 2 2 2 0);
    # no PAKN -> i8 = 2
    x = units[X]
    assert items(x) == [1.5, 1.5, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 1.0]
    assert (x["total"], x["band"], x["classification"]) == (16.0, "Xuất sắc", "Hoàn thành xuất sắc nhiệm vụ")
    # Y: Y2 early, one supplement pause (i3 = 1), PAKN 1 of 3 on time (i8 = 0), postal and not online (i9 = 0)
    y = units[Y]
    assert items(y) == [2.0, 2.0, 1.0, 2.0, 2.0, 2.0, 2.0, 0.0, 0.0]
    assert (y["total"], y["band"], y["forms"]) == (13.0, "Tốt", 0)
    assert onestop.classification_counts(result["units"]) == [
        ("Hoàn thành xuất sắc nhiệm vụ", 1, 3), ("Hoàn thành tốt nhiệm vụ", 2, 3)]
    assert [b["name"] for b in result["bands"]] == ["Xuất sắc", "Tốt", "Khá", "Trung bình", "Yếu"]
    assert result["provisional"]  # the [P] choices, for the document to print


def test_evaluate_officers(province: tuple[Workspace, Config]) -> None:
    ws, cfg = province
    officers = onestop.evaluate(ws.store, START, LAST, cfg)["officers"]
    # Z10 and Y2 have no officer; Phạm Văn D has only Z5, still open: no row. Nguyễn Văn A also had Z2, which
    # ended before the window: only Z1 and Z3 count for A.
    assert [(o["code"], o["unit_code"]) for o in officers] == [
        ("Nguyễn Văn A", Z), ("Trần Thị B", Z), ("Lò Văn C", X)]
    a, b, c = officers
    # A: Z1 + Z3 -> (0+1)/2, (2+1)/2, (2+1)/2, 2, 2, 2, (2+0)/2, 1, (1+1)/2 = 12.5: Tốt
    assert items(a) == [0.5, 1.5, 1.5, 2.0, 2.0, 2.0, 1.0, 1.0, 1.0]
    assert (a["dossiers"], a["total"], a["band"], a["level"]) == (2, 12.5, "Tốt", "department")
    # B: Z4 alone = 11: 9 < 11 <= 12 -> Khá -> "Hoàn thành nhiệm vụ"
    assert (b["total"], b["band"], b["classification"]) == (11.0, "Khá", "Hoàn thành nhiệm vụ")
    # C: X1 + X2, as unit X = 16: Xuất sắc
    assert (c["total"], c["band"], c["level"]) == (16.0, "Xuất sắc", "commune")
    assert c["unit_name"] not in ("", X)  # the unit's name from the catalogue
    assert onestop.classification_counts(officers) == [
        ("Hoàn thành xuất sắc nhiệm vụ", 1, 3), ("Hoàn thành tốt nhiệm vụ", 1, 3), ("Hoàn thành nhiệm vụ", 1, 3)]


def test_mean_rounding_half_up(ws: Workspace) -> None:
    """Eight early direct dossiers of commune Y, procedure PB (not online): six without supplement, one with one
    request, one with two (late by the 766 rule, so i1 = i2 = 0 for it)."""
    ws.load("procedures", PROCS)
    rows = [d(f"R{n}", Y, "PB", "direct", "2023-02-01 09:00", "2023-02-08 17:00", finished="2023-02-02 10:00",
              supplements=s) for n, s in enumerate(["0"] * 6 + ["1", "2"])]
    ws.load("dossiers", rows)
    cfg = load_config(ws.store.workspace)
    y = onestop.evaluate(ws.store, START, LAST, cfg)["units"][0]
    # i1 = i2 = 14/8 = 1.75; i3 = (12 + 1 + 0)/8 = 1.625 -> 1.63 (half up); i4..i7 = 2; i8 = 2 (no PAKN); i9 = 0
    assert items(y) == [1.75, 1.75, 1.63, 2.0, 2.0, 2.0, 2.0, 2.0, 0.0]
    # total = sum of the rounded means = 15.13 > 15: Xuất sắc
    assert (y["total"], y["band"]) == (15.13, "Xuất sắc")
    counts_y = counts(onestop.handling_counts(ws.store, START, LAST, cfg), Y)
    assert (counts_y["early"], counts_y["late"]) == (7, 1)


# --- bands and configuration -----------------------------------------------------------------------------


@pytest.mark.parametrize(("total", "band"), [
    (18.0, "Xuất sắc"), (15.01, "Xuất sắc"), (15.0, "Tốt"), (12.01, "Tốt"), (12.0, "Khá"), (9.0, "Trung bình"),
    (6.01, "Trung bình"), (6.0, "Yếu"), (0.0, "Yếu"),
])
def test_band_boundaries(total: float, band: str) -> None:
    assert onestop.band_of(total, onestop.bands(Config())).name == band


def test_custom_bands_and_classification(province: tuple[Workspace, Config]) -> None:
    ws, _ = province
    ws.config('[onestop]\nbands = [["A", 14], ["B", 12.5], ["C", 0]]\n'
              'classification = { A = "Hoàn thành 100% nhiệm vụ", B = "Đạt", C = "Chưa đạt" }\n')
    cfg = load_config(ws.store.workspace)
    units = {r["code"]: r for r in onestop.evaluate(ws.store, START, LAST, cfg)["units"]}
    # Z 12.5 is not > 12.5 -> C; X 16 > 14 -> A; Y 13 -> B
    assert [(units[c]["band"], units[c]["classification"]) for c in (Z, X, Y)] == [
        ("C", "Chưa đạt"), ("A", "Hoàn thành 100% nhiệm vụ"), ("B", "Đạt")]
    # only the label of "Tốt" changed; the other labels keep their defaults
    ws.config('[onestop]\nclassification = { "Tốt" = "Hoàn thành tốt" }\n')
    result = onestop.evaluate(ws.store, START, LAST, load_config(ws.store.workspace))
    assert onestop.classification_counts(result["units"]) == [
        ("Hoàn thành xuất sắc nhiệm vụ", 1, 3), ("Hoàn thành tốt", 2, 3)]


@pytest.mark.parametrize(("toml", "key"), [
    ('[onestop]\nbands = [["Xuất sắc", 15], ["Tốt", 16]]\n', "onestop.bands"),      # not descending
    ('[onestop]\nbands = [["Xuất sắc", 15], ["Xuất sắc", 12]]\n', "onestop.bands"),  # duplicate
    ('[onestop]\nbands = "15,12,9"\n', "onestop.bands"),
    ('[onestop]\nbands = [["Xuất sắc", "15"]]\n', "onestop.bands"),
    ('[onestop]\nbands = [["Giỏi", 15], ["Yếu", 0]]\n', "onestop.classification"),   # no label for "Giỏi"
    ('[onestop]\nclassification = { "Giỏi" = "x" }\n', "onestop.classification"),    # unknown band
    ('[onestop]\nclassification = { "Tốt" = 3 }\n', "onestop.classification"),
    ('[report]\nwindow = "month"\n', "report.window"),
])
def test_config_errors(ws: Workspace, toml: str, key: str) -> None:
    ws.config(toml)
    cfg = load_config(ws.store.workspace)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")) as err:
        if key == "report.window":
            onestop.report_window(parse_period("2023-Q1"), cfg)
        else:
            onestop.evaluate(ws.store, START, LAST, cfg)
    assert "chiso.toml" in str(err.value)  # the message names the file too
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        onestop.validate_config(cfg)  # a document can check the settings before any work


def test_validate_default_config() -> None:
    onestop.validate_config(Config())


def test_classification_counts_by_hand() -> None:
    rows = [{"classification": "Hoàn thành tốt nhiệm vụ", "total": 13.0},
            {"classification": "Không hoàn thành nhiệm vụ", "total": 5.0},
            {"classification": "Hoàn thành xuất sắc nhiệm vụ", "total": 17.0},
            {"classification": "Không hoàn thành nhiệm vụ", "total": 7.5},
            {"classification": "Hoàn thành xuất sắc nhiệm vụ", "total": 16.0}]
    assert onestop.classification_counts(rows) == [
        ("Hoàn thành xuất sắc nhiệm vụ", 2, 5), ("Hoàn thành tốt nhiệm vụ", 1, 5),
        ("Không hoàn thành nhiệm vụ", 2, 5)]
    assert onestop.classification_counts([]) == []
