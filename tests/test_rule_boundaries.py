"""Rules that no test guarded before (issue 14, item 9): each test sits on the boundary of one rule, so that a
small change to the rule (15 -> 14 working days, >= -> >, a dropped pause kind, ...) fails it. tools/mutants.py
applies those changes to a copy of src/ and checks that this file (with the others) catches every one.

Every expectation is worked out by hand from domain.md §3-4 and docs/deadlines.md in the comment beside it.
Working time 07:00-11:30 and 13:30-17:00 (8 h a day), cut-off 15:00. June 2025 and the second half of
September 2025 have no holiday; Tết 2023 is 20-26/1/2023, so February 2023 has none either.

Procedure P5 (test_status.py) = 5 working days; a dossier received Mon 2/6/2025 09:00 is due Mon 9/6/2025 09:00
(Mon 6h, Tue 3 - Fri 6 32h = 38h, 2h on Mon 9/6).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chiso import api
from chiso.cli import main
from chiso.reports import onestop
from chiso.scoring.period import parse_period
from conftest import Workspace
from test_onestop import PROCS as ONESTOP_PROCS
from test_onestop import d as onestop_dossier
from test_onestop import fb
from test_scoring import d as scoring_dossier
from test_status import P5, classes, dossier

AS_OF = datetime(2025, 10, 15)  # September 2025 is scored after its end, as in test_scoring.py


def hm(value: datetime | None) -> str | None:
    return None if value is None else value.strftime("%Y-%m-%d %H:%M")


# --- 1. the default PAKN deadline: the end (17:00) of the 15th working day after reception -----------------


def test_pakn_without_due_date_is_due_at_the_end_of_the_15th_working_day_in_the_index(ws: Workspace) -> None:
    # Received Mon 8/9/2025 08:00. Working days after it: Tue 9 (1) .. Fri 12 (4), Mon 15 .. Fri 19 (9),
    # Mon 22 .. Fri 26 (14), Mon 29/9 (15): due Mon 29/9/2025 17:00.
    ws.load("feedback", [
        {"feedback_id": f"F{n}", "unit_code": "14.STP", "received_at": "2025-09-08 08:00", "handled_at": handled,
         "satisfied": "", "about": "procedure"}
        for n, handled in enumerate(["2025-09-29 16:59",   # on time
                                     "2025-09-29 17:00",   # on the due moment itself: on time
                                     "2025-09-29 17:01",   # one minute late
                                     "2025-09-30 07:00"])  # the next morning: late
    ])
    _, results = api.score(ws.store, "2025-09", as_of=AS_OF, unit="14.STP")
    [stp] = results
    on_time = stp["indicators"]["PETITION_PROCESSING_ON_TIME"]
    # All four handled in September; 2 on time of 4 -> 6 x 0.5 = 3.00.
    assert (on_time["numerator"], on_time["denominator"], on_time["score"]) == (2, 4, 3.00)


def test_pakn_without_due_date_in_the_one_stop_evaluation(ws: Workspace) -> None:
    # Window 2023-Q1 (nd09): 15/12/2022 .. 14/3/2023. Received Wed 1/2/2023 08:00: Thu 2 (1), Fri 3 (2),
    # Mon 6 .. Fri 10 (7), Mon 13 .. Fri 17 (12), Mon 20 (13), Tue 21 (14), Wed 22/2 (15): due Wed 22/2 17:00.
    # Commune Y handles its PAKN at 17:00 that day (on time, 1 of 1 -> i8 = 2); commune X the next morning
    # (late, 0 of 1 -> i8 = 0). Each has one resolved dossier so that it is evaluated.
    y, x = "03667", "03646"
    ws.load("procedures", ONESTOP_PROCS)
    ws.load("dossiers", [
        onestop_dossier("Y1", y, "PB", "direct", "2023-02-01 09:00", "2023-02-08 17:00", finished="2023-02-02 10:00"),
        onestop_dossier("X1", x, "PB", "direct", "2023-02-01 09:00", "2023-02-08 17:00", finished="2023-02-02 10:00"),
    ])
    ws.load("feedback", [fb("GY", y, "2023-02-01 08:00", handled="2023-02-22 17:00"),
                         fb("GX", x, "2023-02-01 08:00", handled="2023-02-23 07:00")])
    cfg = api.prepare(ws.store)
    start, last = onestop.report_window(parse_period("2023-Q1"), cfg)
    units = {r["code"]: r for r in onestop.evaluate(ws.store, start, last, cfg)["units"]}
    assert (units[y]["i8"], units[x]["i8"]) == (2.0, 0.0)


def test_one_stop_pakn_item_at_exactly_90_percent(ws: Workspace) -> None:
    # i8: 100 % on time -> 2, >= 90 % -> 1, else 0 (domain.md §5). Commune X: 9 of 10 handled by their due date
    # (10/2/2023 17:00) -> exactly 90 % -> 1. Commune Y: 8 of 9 -> 88.9 % -> 0.
    y, x = "03667", "03646"
    ws.load("procedures", ONESTOP_PROCS)
    ws.load("dossiers", [
        onestop_dossier("Y1", y, "PB", "direct", "2023-02-01 09:00", "2023-02-08 17:00", finished="2023-02-02 10:00"),
        onestop_dossier("X1", x, "PB", "direct", "2023-02-01 09:00", "2023-02-08 17:00", finished="2023-02-02 10:00"),
    ])
    rows = [fb(f"X{n}", x, "2023-01-20 08:00", "2023-02-10 17:00", "2023-02-09 10:00") for n in range(9)]
    rows.append(fb("X9", x, "2023-01-20 08:00", "2023-02-10 17:00", "2023-02-11 09:00"))
    rows += [fb(f"Y{n}", y, "2023-01-20 08:00", "2023-02-10 17:00", "2023-02-09 10:00") for n in range(8)]
    rows.append(fb("Y8", y, "2023-01-20 08:00", "2023-02-10 17:00", "2023-02-11 09:00"))
    ws.load("feedback", rows)
    cfg = api.prepare(ws.store)
    start, last = onestop.report_window(parse_period("2023-Q1"), cfg)
    units = {r["code"]: r for r in onestop.evaluate(ws.store, start, last, cfg)["units"]}
    assert (units[x]["i8"], units[y]["i8"]) == (1.0, 0.0)


# --- 2, 3. index classification bands: a unit takes the first band whose floor it reaches (>=) --------------


BAND_CASES = [
    # unit, the six group scores (CKMB, TDGQ, CLGQ, TTTT, MDSH, MDHL), total, band (domain.md §4 defaults:
    # >= 90 Xuất sắc, >= 80 Tốt, >= 70 Khá, >= 50 Trung bình, else Yếu)
    ("B90", (18, 20, 12, 10, 22, 8), 90.00, "Xuất sắc"),
    ("B8999", (18, 20, 12, 10, 22, 7.99), 89.99, "Tốt"),
    ("B80", (18, 20, 12, 10, 20, 0), 80.00, "Tốt"),
    ("B7999", (18, 20, 12, 10, 19.99, 0), 79.99, "Khá"),
    ("B70", (18, 20, 12, 10, 10, 0), 70.00, "Khá"),
    ("B6999", (18, 20, 12, 10, 9.99, 0), 69.99, "Trung bình"),
    ("B5499", (18, 20, 12, 4.99, 0, 0), 54.99, "Trung bình"),
    ("B50", (18, 20, 12, 0, 0, 0), 50.00, "Trung bình"),
    ("B4999", (18, 20, 11.99, 0, 0, 0), 49.99, "Yếu"),
    ("B0", (0, 0, 0, 0, 0, 0), 0.00, "Yếu"),
]


def test_classification_bands_at_their_floors(tmp_path: Path) -> None:
    """`chiso simulate` with official group scores: the total is their sum, classified by the shipped bands."""
    groups = ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDSH", "MDHL")
    lines = ["period,unit_code,indicator,numerator,denominator,score"]
    lines += [f"2026,{unit},{g},,,{s}" for unit, scores, _, _ in BAND_CASES for g, s in zip(groups, scores,
                                                                                            strict=True)]
    path = tmp_path / "bands.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["--workspace", str(tmp_path / "ws"), "simulate", str(path), "--format", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    got = {u["code"]: (u["total"], u["classification"]) for u in json.loads(r.stdout)}
    assert got == {unit: (total, band) for unit, _, total, band in BAND_CASES}


# --- 4. sector-law pauses stop the clock (appraisal among them); `other` does not ---------------------------


@pytest.mark.parametrize("kind", [
    "appraisal", "thẩm định", "posting", "supplement", "nghĩa vụ tài chính", "liên thông",
    "financial_obligation", "other_agency",
])
def test_clock_stopping_pause_kinds(ws: Workspace, kind: str) -> None:
    # Pause Tue 3/6 09:00 -> Thu 5/6 09:00 = 6h + 8h + 2h = 16 working hours, added to Mon 9/6 09:00:
    # Mon 6h, Tue 10/6 8h, 2h on Wed 11/6 -> Wed 11/6 09:00. Finished exactly then: on time.
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A", finished_at="2025-06-11 09:00")])
    ws.load("pauses", [{"dossier_id": "A", "kind": kind, "started_at": "2025-06-03 09:00",
                        "ended_at": "2025-06-05 09:00"}])
    row = ws.status("2025-06-30 17:00")["A"]
    assert (hm(row["due_at"]), row["paused_seconds"], row["timeliness"]) == ("2025-06-11 09:00", 16 * 3600,
                                                                              "on_time")


def test_other_pause_does_not_stop_the_clock(ws: Workspace) -> None:
    # The same pause of kind `other` is not in deadline.pause_kinds: due stays Mon 9/6 09:00, finished Wed 11/6.
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A", finished_at="2025-06-11 09:00")])
    ws.load("pauses", [{"dossier_id": "A", "kind": "other", "started_at": "2025-06-03 09:00",
                        "ended_at": "2025-06-05 09:00"}])
    row = ws.status("2025-06-30 17:00")["A"]
    assert (hm(row["due_at"]), row["paused_seconds"], row["timeliness"]) == ("2025-06-09 09:00", 0, "late")


# --- 5. a `workday` override of the calendar table makes a day a working day ------------------------------


def _saturday_dossiers(ws: Workspace) -> None:
    ws.load("procedures", [*P5, {"code": "P1", "name": "1 ngày", "time_limit": 1, "time_unit": "working_days"}])
    ws.load("dossiers", [dossier("A5"),  # Mon 2/6/2025 09:00, 5 working days
                         dossier("A1", procedure_code="P1", received_at="2025-06-06 16:00")])  # Fri, after 15:00


@pytest.mark.parametrize("province", ["Sơn La", ""], ids=["province-row", "national-row"])
def test_workday_override_makes_a_saturday_a_working_day(ws: Workspace, province: str) -> None:
    # Sat 7/6/2025 declared a working day (làm bù).
    # A5: Mon 6h, Tue 3 - Fri 6 32h (38h), 2h on Sat 7/6 -> Sat 7/6 09:00.
    # A1: Fri 16:00 is after the cut-off: counting starts the next working day, Sat 7/6 07:00; 8h -> 17:00.
    ws.load("calendar", [{"date": "2025-06-07", "kind": "workday", "note": "Làm bù", "province": province}])
    _saturday_dossiers(ws)
    rows = ws.status("2025-06-07 17:30")
    assert {k: hm(v["due_at"]) for k, v in rows.items()} == {"A5": "2025-06-07 09:00", "A1": "2025-06-07 17:00"}
    assert {k: v["timeliness"] for k, v in rows.items()} == {"A5": "pending_late", "A1": "pending_late"}


def test_workday_override_of_another_province_does_not_apply(ws: Workspace) -> None:
    # The same row for Hà Nội: Sơn La keeps Saturday off. A5 due Mon 9/6 09:00; A1 starts Mon 9/6 07:00 -> 17:00.
    ws.load("calendar", [{"date": "2025-06-07", "kind": "workday", "note": "Làm bù", "province": "Hà Nội"}])
    _saturday_dossiers(ws)
    rows = ws.status("2025-06-07 17:30")
    assert {k: hm(v["due_at"]) for k, v in rows.items()} == {"A5": "2025-06-09 09:00", "A1": "2025-06-09 17:00"}
    assert {k: v["timeliness"] for k, v in rows.items()} == {"A5": "pending", "A1": "pending"}


# --- 6. an open dossier is late only strictly after its due moment -------------------------------------------


def test_open_dossier_is_pending_at_its_due_moment(ws: Workspace) -> None:
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A")])  # due Mon 9/6/2025 09:00:00
    assert classes(ws, "2025-06-09 08:59:59") == {"A": "pending"}
    assert classes(ws, "2025-06-09 09:00:00") == {"A": "pending"}       # as-of = due: not yet late
    assert classes(ws, "2025-06-09 09:00:01") == {"A": "pending_late"}  # one second after


def test_events_at_the_as_of_moment_count(ws: Workspace) -> None:
    # "Only what had happened by T counts" (docs/deadlines.md): a reception or a finish at T itself has happened.
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A"), dossier("B", finished_at="2025-06-06 10:00")])
    assert classes(ws, "2025-06-02 09:00") == {"A": "pending", "B": "pending"}  # both received at 09:00
    rows = ws.status("2025-06-06 10:00")
    assert (hm(rows["B"]["end_at"]), rows["B"]["timeliness"]) == ("2025-06-06 10:00", "early")  # 6/6 < 9/6


def test_reception_at_the_cut_off_starts_the_next_working_day(ws: Workspace) -> None:
    # Cut-off 15:00: reception at or after it counts from 07:00 of the next working day (docs/deadlines.md).
    # P1 = 1 working day. Mon 2/6/2025 15:00 -> Tue 3/6 07:00 + 8h = Tue 3/6 17:00.
    # Mon 2/6 14:59 counts the same day: 14:59-17:00 = 2h01; 5h59 left on Tue 3/6: 07:00-11:30 (4h30),
    # 1h29 after 13:30 -> Tue 3/6 14:59.
    ws.load("procedures", [{"code": "P1", "name": "1 ngày", "time_limit": 1, "time_unit": "working_days"}])
    ws.load("dossiers", [dossier("AT", procedure_code="P1", received_at="2025-06-02 15:00"),
                         dossier("BEFORE", procedure_code="P1", received_at="2025-06-02 14:59")])
    rows = ws.status("2025-06-30 17:00")
    assert {k: hm(v["due_at"]) for k, v in rows.items()} == {"AT": "2025-06-03 17:00", "BEFORE": "2025-06-03 14:59"}


# --- 7. the supplement freeze compares the request with the due *moment* ---------------------------------------


def test_supplement_requested_on_the_due_day_after_the_due_moment_does_not_freeze(ws: Workspace) -> None:
    # Due Mon 9/6 09:00. A supplement request at 10:00 the same day, still unanswered at 10:20: the dossier was
    # already overdue when the request was made, so it is not frozen (docs/deadlines.md). The open pause adds
    # its 20 working minutes to the due date (09:20), still before the request (10:00): pending_late.
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A"), dossier("B")])
    ws.load("pauses", [{"dossier_id": "A", "kind": "supplement", "started_at": "2025-06-09 10:00", "ended_at": ""},
                       {"dossier_id": "B", "kind": "supplement", "started_at": "2025-06-09 09:00", "ended_at": ""}])
    # B's request came on the due moment itself: frozen, pending.
    assert classes(ws, "2025-06-09 10:20") == {"A": "pending_late", "B": "pending"}


def test_supplement_requested_after_the_due_moment_never_cures_the_overdue(ws: Workspace) -> None:
    # Same request (Mon 9/6 10:00, one hour after the due moment), still unanswered on Fri 20/6: pending_late.
    # C: the same, finished Thu 12/6 10:00; its end counts as the request time (9/6 10:00), after the due
    # moment (9/6 09:00): late.
    ws.load("procedures", P5)
    ws.load("dossiers", [dossier("A"), dossier("C", finished_at="2025-06-12 10:00")])
    ws.load("pauses", [{"dossier_id": k, "kind": "supplement", "started_at": "2025-06-09 10:00", "ended_at": ""}
                       for k in ("A", "C")])
    assert classes(ws, "2025-06-20 17:00") == {"A": "pending_late", "C": "late"}


# --- 8. a pause still open when the dossier ends counts only until the end ------------------------------------


def test_open_pause_is_clamped_to_the_end_of_the_dossier(ws: Workspace) -> None:
    ws.load("procedures", P5)
    # A: an appraisal opened Wed 4/6 07:00 and never closed; finished Fri 6/6 17:00. Paused Wed, Thu, Fri = 24h;
    #    due Mon 9/6 09:00 + 24h: Mon 6h, Tue 10 8h, Wed 11 8h, 2h on Thu 12/6 -> Thu 12/6 09:00; early.
    # B: the same pause closed on Mon 9/6 12:00, after the end: also counted only until Fri 6/6 17:00.
    # C: finished Tue 10/6 10:00 (late: due 9/6 09:00); an appraisal opened afterwards, Wed 11/6 08:00, and
    #    never closed counts for nothing: still late.
    ws.load("dossiers", [dossier("A", finished_at="2025-06-06 17:00"), dossier("B", finished_at="2025-06-06 17:00"),
                         dossier("C", finished_at="2025-06-10 10:00")])
    ws.load("pauses", [
        {"dossier_id": "A", "kind": "appraisal", "started_at": "2025-06-04 07:00", "ended_at": ""},
        {"dossier_id": "B", "kind": "appraisal", "started_at": "2025-06-04 07:00", "ended_at": "2025-06-09 12:00"},
        {"dossier_id": "C", "kind": "appraisal", "started_at": "2025-06-11 08:00", "ended_at": ""},
    ])
    rows = ws.status("2025-06-30 17:00")
    got = {k: (hm(v["due_at"]), v["paused_seconds"], v["timeliness"]) for k, v in rows.items()}
    assert got == {"A": ("2025-06-12 09:00", 24 * 3600, "early"), "B": ("2025-06-12 09:00", 24 * 3600, "early"),
                   "C": ("2025-06-09 09:00", 0, "late")}
    # Before the end, the open pause counts until the as-of moment: Thu 5/6 11:30 -> Wed 8h + Thu 4.5h = 12.5h;
    # Mon 9/6 09:00 + 12.5h: Mon 6h, Tue 10/6 07:00 + 4.5h = 11:30, 2h after 13:30 -> Tue 10/6 15:30.
    a = ws.status("2025-06-05 11:30")["A"]
    assert (hm(a["due_at"]), a["paused_seconds"], a["timeliness"]) == ("2025-06-10 15:30", 45000, "pending")


# --- ranks: standard competition ranking (1, 1, 3), not dense (1, 1, 2) -----------------------------------


RANK_PROCS = [{"code": "PB", "name": "B", "level": "commune", "time_limit": 5, "fee_bearing": "false",
               "full_online_eligible": "false", "online_level": "partial"}]
X, Y, W = "03646", "03667", "03670"


def _tied_province(ws: Workspace) -> None:
    # Received Mon 8/9/2025 09:00, due Mon 15/9 09:00 (test_scoring.py). No flag set, no input, no PAKN.
    ws.load("procedures", RANK_PROCS)
    ws.load("dossiers", [
        scoring_dossier("X1", X, "PB", "direct", "2025-09-08 09:00", "2025-09-10 10:00"),  # early
        scoring_dossier("Y1", Y, "PB", "direct", "2025-09-08 09:00", "2025-09-10 10:00"),  # early
        scoring_dossier("W1", W, "PB", "direct", "2025-09-08 09:00", "2025-09-10 10:00"),  # early
        scoring_dossier("W2", W, "PB", "direct", "2025-09-08 09:00", "2025-09-16 10:00"),  # late
    ])


def _check_ranks(by_code: dict[str, dict[str, Any]]) -> None:
    # X and Y: TDGQ 20 x 1/1 = 20; MDSH: electronic certified copy 2 (no data: full), the rest 0/1 or 0/0;
    # MDHL: satisfaction 1/1 -> 6, PAKN none -> 6 + 6 = 18; CKMB, CLGQ, TTTT 0. Total 40.00.
    # W: TDGQ 20 x 1/2 = 10; MDSH 2; satisfaction (2 - 1 late)/2 = 0.5 -> 6 x 0.5 / 0.9 = 3.33, MDHL 15.33;
    # total 27.33. The 72 other communes: MDSH 2 + MDHL 12 = 14.00.
    totals = {c: by_code[c]["total"] for c in (X, Y, W, "03679")}
    assert totals == {X: 40.00, Y: 40.00, W: 27.33, "03679": 14.00}
    # Competition ranking: X and Y share 1st, W is 3rd (dense ranking would say 2nd), the rest 4th (not 3rd).
    communes = [u for u in by_code.values() if u["level"] == "commune"]
    assert len(communes) == 75
    assert sorted(u["rank"] for u in communes) == [1, 1, 3] + [4] * 72
    assert (by_code[X]["rank"], by_code[Y]["rank"], by_code[W]["rank"]) == (1, 1, 3)
    for group in ("TDGQ", "MDHL"):  # per-group ranks too: 20, 20, 10, 0 and 18, 18, 15.33, 12
        assert [by_code[c]["groups"][group]["rank"] for c in (X, Y, W, "03679")] == [1, 1, 3, 4], group


def test_competition_ranks_in_score_results(ws: Workspace) -> None:
    _tied_province(ws)
    _, results = api.score(ws.store, "2025-09", as_of=AS_OF)
    _check_ranks({r["code"]: r for r in results})


def test_competition_ranks_in_the_score_command(ws: Workspace) -> None:
    _tied_province(ws)
    ws.store.close()
    r = CliRunner().invoke(main, ["--workspace", str(ws.store.workspace), "score", "--period", "2025-09",
                                  "--as-of", "2025-10-15", "--level", "commune", "--format", "json"],
                           catch_exceptions=False)
    assert r.exit_code == 0, r.stderr
    _check_ranks({u["code"]: u for u in json.loads(r.stdout)})
