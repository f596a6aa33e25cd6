"""Due dates computed from the procedure's statutory time, by the default rule of docs/deadlines.md.

Every expectation is computed by hand in the comment beside it. Working time: 07:00–11:30 and
13:30–17:00 (8 h a day); cut-off 15:00. Holidays from the `holidays` package:
Tết 2024 = Thu 8/2 – Wed 14/2; 2025: Wed 30/4, Thu 1/5, Fri 2/5 off, Sat 26/4 worked;
2026: Mon 31/8 (swap), Tue 1/9, Wed 2/9 off, Sat 22/8 worked.
"""

from __future__ import annotations

import pytest

from conftest import UNIT, Workspace

PROCEDURES = [
    {"code": "WD1", "name": "1 ngày làm việc", "time_limit": 1, "time_unit": "working_days"},
    {"code": "WD2", "name": "2 ngày làm việc", "time_limit": 2, "time_unit": "working_days"},
    {"code": "WD3", "name": "3 ngày làm việc", "time_limit": 3, "time_unit": "working_days"},
    {"code": "WD5", "name": "5 ngày làm việc", "time_limit": 5, "time_unit": "Ngày làm việc"},
    {"code": "CD3", "name": "3 ngày", "time_limit": 3, "time_unit": "calendar_days"},
    {"code": "CD5", "name": "5 ngày", "time_limit": 5, "time_unit": "calendar_days"},
    {"code": "CD7", "name": "7 ngày", "time_limit": 7, "time_unit": "calendar_days"},
    {"code": "SD", "name": "Trong ngày", "time_limit": "", "time_unit": "same_day"},
    {"code": "H4", "name": "4 giờ", "time_limit": 4, "time_unit": "hours"},
]

CASES = [
    # id, procedure, received_at, expected due_at
    # Tết 2024. The example: Wed 7/2 09:00 + 5 wd: Wed 6h, Thu 15 .. Tue 20 = 4 x 8h = 32h,
    # 2h left on Wed 21/2 -> 09:00.
    ("tet-5wd", "WD5", "2024-02-07 09:00", "2024-02-21 09:00"),
    # 16:00 is after the 15:00 cut-off: counting starts Thu 15/2 07:00 (after Tết); 1 wd -> 17:00 that day.
    ("tet-cutoff", "WD1", "2024-02-07 16:00", "2024-02-15 17:00"),
    # Wed 14:00: 3h that day, Thu 15 + Fri 16 = 16h (19h), 5h left: Mon 19 morning 4.5h, 0.5h after 13:30.
    ("tet-3wd-afternoon", "WD3", "2024-02-07 14:00", "2024-02-19 14:00"),
    # Received during Tết (Sat 10/2): counting starts Thu 15/2 07:00; 2 wd -> Fri 16/2 17:00.
    ("tet-received-on-holiday", "WD2", "2024-02-10 10:00", "2024-02-16 17:00"),
    # Lunch break 12:00 -> starts 13:30: Wed 3.5h, 4.5h left -> Thu 15/2 11:30.
    ("tet-lunch", "WD1", "2024-02-07 12:00", "2024-02-15 11:30"),
    # Calendar days: Fri 2/2 10:00 + 7 x 24h = Fri 9/2 10:00, in Tết -> next working day Thu 15/2, 17:00.
    ("tet-calendar", "CD7", "2024-02-02 10:00", "2024-02-15 17:00"),
    # Same-day procedure received before the cut-off: 17:00 the same day.
    ("same-day", "SD", "2024-02-07 10:00", "2024-02-07 17:00"),
    # Same-day after the cut-off: counting starts the next working day, Thu 15/2 (after Tết) -> 17:00.
    ("same-day-cutoff", "SD", "2024-02-07 15:30", "2024-02-15 17:00"),
    # 30/4–2/5/2025, Saturday 26/4 worked. Fri 25/4 10:00 + 2 wd: Fri 5h, Sat 26/4 8h, 3h left: Mon 28/4 10:00.
    ("2025-make-up-saturday", "WD2", "2025-04-25 10:00", "2025-04-28 10:00"),
    # Tue 29/4 09:00 + 3 wd: Tue 6h; 30/4–2/5 off, 3–4/5 weekend; Mon 5/5 8h, Tue 6/5 8h (22h); 2h: Wed 7/5 09:00.
    ("2025-over-30-4", "WD3", "2025-04-29 09:00", "2025-05-07 09:00"),
    # Same-day after the cut-off on Fri 25/4: the next working day is the make-up Saturday 26/4.
    ("2025-same-day-saturday", "SD", "2025-04-25 16:00", "2025-04-26 17:00"),
    # Sat 26/4 08:00 + 5 x 24h = Thu 1/5 08:00, a holiday -> next working day Mon 5/5, 17:00.
    ("2025-calendar-holiday", "CD5", "2025-04-26 08:00", "2025-05-05 17:00"),
    # 31/8–2/9/2026, Saturday 22/8 worked. Fri 21/8 15:10 is after the cut-off: Sat 22/8 07:00 + 1 wd -> 17:00.
    ("2026-make-up-saturday", "WD1", "2026-08-21 15:10", "2026-08-22 17:00"),
    # Thu 27/8 08:00 + 5 wd: Thu 7h, Fri 28 8h (15h); 31/8–2/9 off; Thu 3/9, Fri 4/9, Mon 7/9 (39h);
    # 1h left: Tue 8/9 08:00.
    ("2026-over-2-9", "WD5", "2026-08-27 08:00", "2026-09-08 08:00"),
    # Fri 28/8 09:00 + 3 x 24h = Mon 31/8 09:00 (swapped day off) -> Thu 3/9 17:00.
    ("2026-calendar", "CD3", "2026-08-28 09:00", "2026-09-03 17:00"),
    # 4 working hours from Fri 21/8 14:00: 3h on Friday, 1h on the make-up Saturday -> Sat 22/8 08:00.
    ("2026-hours", "H4", "2026-08-21 14:00", "2026-08-22 08:00"),
    # Reception before opening (06:00) counts from 07:00: 1 wd -> 17:00 the same day.
    ("early-morning", "WD1", "2026-08-20 06:00", "2026-08-20 17:00"),
    # Reception after closing (18:30) on a working day: next working day 07:00 + 1 wd -> Fri 21/8 17:00.
    ("evening", "WD1", "2026-08-20 18:30", "2026-08-21 17:00"),
]


@pytest.fixture
def dossiers(ws: Workspace) -> Workspace:
    ws.load("procedures", PROCEDURES)
    ws.load("dossiers", [
        {"dossier_id": cid, "unit_code": UNIT, "procedure_code": proc, "channel": "online", "received_at": rec}
        for cid, proc, rec, _ in CASES
    ])
    return ws


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_computed_due_date(dossiers: Workspace, case: tuple[str, str, str, str]) -> None:
    cid, _, _, expected = case
    rows = dossiers.status("2030-01-01 00:00")
    assert rows[cid]["due_at"].strftime("%Y-%m-%d %H:%M") == expected
    assert rows[cid]["due_source"] == "computed"


def test_source_due_date_wins(ws: Workspace) -> None:
    ws.load("procedures", PROCEDURES)
    ws.load("dossiers", [{"dossier_id": "S1", "unit_code": UNIT, "procedure_code": "WD5", "channel": "direct",
                          "received_at": "2024-02-07 09:00", "due_at": "2024-03-01 10:00"}])
    row = ws.status("2030-01-01")["S1"]
    assert row["due_at"].strftime("%Y-%m-%d %H:%M") == "2024-03-01 10:00"
    assert row["due_source"] == "source"


def test_cutoff_configurable_per_procedure(ws: Workspace) -> None:
    # With the cut-off moved to 16:00 for WD1 only, Fri 21/8/2026 15:10 counts the same day:
    # 15:10–17:00 = 1h50 on Friday, 6h10 left on Sat 22/8: 07:00 + 4h30 = 11:30, 1h40 after 13:30 -> 15:10.
    ws.config('[deadline.procedure."WD1"]\ncutoff = "16:00"\n')
    ws.load("procedures", PROCEDURES)
    ws.load("dossiers", [
        {"dossier_id": "A", "unit_code": UNIT, "procedure_code": "WD1", "channel": "online",
         "received_at": "2026-08-21 15:10"},
        {"dossier_id": "B", "unit_code": UNIT, "procedure_code": "WD2", "channel": "online",
         "received_at": "2026-08-21 15:10"},
    ])
    rows = ws.status("2030-01-01")
    assert rows["A"]["due_at"].strftime("%Y-%m-%d %H:%M") == "2026-08-22 15:10"
    # WD2 keeps the 15:00 cut-off: starts Sat 22/8 07:00 (make-up day), Sat 8h + Mon 24/8 8h -> Mon 24/8 17:00.
    assert rows["B"]["due_at"].strftime("%Y-%m-%d %H:%M") == "2026-08-24 17:00"


def test_working_hours_configurable_per_province(ws: Workspace) -> None:
    # Sơn La works 07:30–11:30 and 13:30–17:30 (8h): Mon 3/8/2026 07:00 + 1 wd -> 17:30 the same day.
    ws.config('[deadline.province."Sơn La"]\nmorning = ["07:30", "11:30"]\nafternoon = ["13:30", "17:30"]\n')
    ws.load("procedures", PROCEDURES)
    ws.load("dossiers", [{"dossier_id": "A", "unit_code": UNIT, "procedure_code": "WD1", "channel": "online",
                          "received_at": "2026-08-03 07:00"}])
    assert ws.status("2030-01-01")["A"]["due_at"].strftime("%Y-%m-%d %H:%M") == "2026-08-03 17:30"


def test_province_calendar_override(ws: Workspace) -> None:
    # A provincial holiday on Thu 15/2/2024 pushes the Tết example by one working day: Thu 22/2 09:00.
    ws.load("calendar", [{"date": "2024-02-15", "kind": "holiday", "note": "Nghỉ địa phương",
                          "province": "Sơn La"}])
    ws.load("procedures", PROCEDURES)
    ws.load("dossiers", [{"dossier_id": "A", "unit_code": UNIT, "procedure_code": "WD5", "channel": "online",
                          "received_at": "2024-02-07 09:00"}])
    assert ws.status("2030-01-01")["A"]["due_at"].strftime("%Y-%m-%d %H:%M") == "2024-02-22 09:00"
