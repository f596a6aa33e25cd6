"""`chiso status` output: CSV and JSON shapes, the per-unit summary, --as-of parsing."""

from __future__ import annotations

import csv
import io
import json

from click.testing import CliRunner

from chiso.cli import main, parse_moment
from conftest import UNIT, Workspace


def run(ws: Workspace, *args: str) -> str:
    ws.store.close()
    result = CliRunner().invoke(main, ["--workspace", str(ws.store.workspace), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def setup(ws: Workspace) -> None:
    ws.load("procedures", [{"code": "P5", "name": "5 ngày", "time_limit": 5, "time_unit": "working_days"}])
    ws.load("dossiers", [
        {"dossier_id": "A", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
         "received_at": "2024-02-07 09:00", "finished_at": "2024-02-20 10:00"},
        {"dossier_id": "B", "unit_code": "03646", "procedure_code": "P5", "channel": "online",
         "received_at": "2024-02-07 09:00"},
    ])


def test_csv(ws: Workspace) -> None:
    setup(ws)
    rows = list(csv.DictReader(io.StringIO(run(ws, "status", "--as-of", "2024-02-21 10:00"))))
    assert list(rows[0]) == ["dossier_id", "unit_code", "procedure_code", "received_at", "due_at", "end_at",
                             "timeliness", "unit_name", "procedure_name", "officer", "days_overdue"]
    # Due Wed 21/2 09:00 (docs/deadlines.md example). A ended 20/2: early. B open at 21/2 10:00: pending late, on
    # the due day itself (0 working days overdue).
    assert [(r["dossier_id"], r["due_at"], r["end_at"], r["timeliness"], r["days_overdue"]) for r in rows] == [
        ("A", "2024-02-21 09:00:00", "2024-02-20 10:00:00", "early", ""),
        ("B", "2024-02-21 09:00:00", "", "pending_late", "0"),
    ]


def test_json_and_unit_filter(ws: Workspace) -> None:
    setup(ws)
    data = json.loads(run(ws, "status", "--as-of", "2024-02-21 08:00", "--format", "json", "--unit", "03646"))
    assert data == [{"dossier_id": "B", "unit_code": "03646", "procedure_code": "P5",
                     "received_at": "2024-02-07 09:00:00", "due_at": "2024-02-21 09:00:00", "end_at": None,
                     "timeliness": "pending", "unit_name": "UBND phường Tô Hiệu", "procedure_name": "5 ngày",
                     "officer": None, "days_overdue": None}]


def test_by_unit(ws: Workspace) -> None:
    setup(ws)
    data = json.loads(run(ws, "status", "--as-of", "2024-02-21 10:00", "--by-unit", "--format", "json"))
    got = {d["unit_code"]: (d["received"], d["early"], d["pending_late"]) for d in data}
    assert got == {UNIT: (1, 1, 0), "03646": (1, 0, 1)}
    table = run(ws, "status", "--as-of", "2024-02-21 10:00", "--by-unit", "--format", "table")
    assert "Sở Tư pháp" in table and "Tổng cộng" in table and "Đang xử lý quá hạn" in table


def test_as_of_forms() -> None:
    assert str(parse_moment("2025-09-30")) == "2025-09-30 23:59:59"
    assert str(parse_moment("30/09/2025 17:00")) == "2025-09-30 17:00:00"
    assert str(parse_moment("2025-09-30T08:15")) == "2025-09-30 08:15:00"
