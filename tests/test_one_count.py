"""One count everywhere (issue 10 item 9, docs/reports.md): the quarterly one-stop report (.docx), its tables
(.xlsx, Biểu số 01) and the reform statistics forms (Biểu mẫu 3) of the same quarter print the same figures for
what they share — per level, the resolved dossiers (withdrawn and cancelled ones excluded, shown apart as "hủy và
công dân rút") and the resolved on time (early + on time) with their share. The documents are written, opened and
read back; every expected figure is worked out by hand below.

Each dossier carries its own due date (no working-day arithmetic): early = ended on a date before the due date;
on time = not after the due moment, same date; late = after. Procedures are those of test_cchc.py (P1, P2
province; P3 district; P4, P5 commune).

2025-Q3, default window 15/06/2025..14/09/2025, two levels (no district section from 1/7/2025):
  centre (Sở Tư pháp): A1 early, A2 on time, A3 late, A4 withdrawn, A5 cancelled, A6 refused (a resolution,
    ended 9/7 before its due date 15/7: early), A7 open within time
    -> total 7, resolved 4 (A1 A2 A3 A6), early 2, on time 1, late 1, on time or early 3 (75,00 %),
       withdrawn/cancelled 2, in progress 1. Counting A4 and A5 as resolved would give 6 and 5.
  commune (phường Tô Hiệu): C1 early, C2 late, C3 withdrawn, C4 open and past due
    -> total 4, resolved 2, early 1, late 1, on time or early 1 (50,00 %), withdrawn 1, overdue open 1.
2025-Q2, window 15/03/2025..14/06/2025, three levels:
  centre: A0 late -> resolved 1, on time or early 0 (0,00 %);
  district (huyện Mai Sơn): H1 early, H2 withdrawn -> resolved 1, on time or early 1 (100,00 %), withdrawn 1.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from chiso.reports.documents import write_cchc, write_quarterly_onestop
from conftest import Workspace
from docs_reader import docx_lines, xlsx_rows
from test_cchc import PROCS
from test_cchc import d as dossier

CENTRE, DISTRICT, COMMUNE = "14.STP", "14.D01", "03646"


def stopped(did: str, unit: str, proc: str, channel: str, received: str, due: str, at: str, reason: str
            ) -> dict[str, Any]:
    return {**dossier(did, unit, proc, channel, received, due), "stopped_at": at, "stop_reason": reason}


DOSSIERS = [
    dossier("A1", CENTRE, "P1", "online", "2025-07-01 08:00", "2025-07-10 17:00", "2025-07-05 10:00"),
    dossier("A2", CENTRE, "P2", "direct", "2025-07-01 08:00", "2025-07-10 17:00", "2025-07-10 16:00"),
    dossier("A3", CENTRE, "P2", "online", "2025-07-02 08:00", "2025-07-10 17:00", "2025-07-11 09:00"),
    stopped("A4", CENTRE, "P1", "online", "2025-07-03 08:00", "2025-07-15 17:00", "2025-07-08 10:00", "withdrawn"),
    stopped("A5", CENTRE, "P2", "direct", "2025-07-03 08:00", "2025-07-15 17:00", "2025-07-09 10:00", "cancelled"),
    stopped("A6", CENTRE, "P1", "direct", "2025-07-04 08:00", "2025-07-15 17:00", "2025-07-09 10:00", "refused"),
    dossier("A7", CENTRE, "P1", "online", "2025-09-10 08:00", "2025-09-20 17:00"),
    dossier("C1", COMMUNE, "P4", "online", "2025-08-01 09:00", "2025-08-08 17:00", "2025-08-05 10:00"),
    dossier("C2", COMMUNE, "P5", "direct", "2025-08-01 09:00", "2025-08-08 17:00", "2025-08-12 10:00"),
    stopped("C3", COMMUNE, "P4", "online", "2025-08-04 09:00", "2025-08-11 17:00", "2025-08-06 10:00", "withdrawn"),
    dossier("C4", COMMUNE, "P5", "online", "2025-08-04 09:00", "2025-08-06 17:00"),
    dossier("A0", CENTRE, "P1", "online", "2025-05-05 08:00", "2025-05-15 17:00", "2025-05-20 10:00"),
    dossier("H1", DISTRICT, "P3", "direct", "2025-04-01 08:00", "2025-04-10 17:00", "2025-04-09 10:00"),
    stopped("H2", DISTRICT, "P3", "direct", "2025-04-01 08:00", "2025-04-10 17:00", "2025-04-03 10:00", "withdrawn"),
]

# (resolved, on time or early, percentage as Biểu mẫu 3 prints it, withdrawn) per level, by hand (docstring).
EXPECTED = {
    "2025-Q3": {"centre": (4, 3, "75,00%", 2), "commune": (2, 1, "50,00%", 1)},
    "2025-Q2": {"centre": (1, 0, "0,00%", 0), "district": (1, 1, "100,00%", 1)},
}
FORM_ROW = {"centre": "3.1", "district": "3.2", "commune": "3.3"}
TITLE = {"centre": "CẤP TỈNH", "district": "CẤP HUYỆN", "commune": "CẤP XÃ"}
DESK = {"centre": "Trung tâm Phục vụ hành chính công tỉnh", "district": "Bộ phận Một cửa cấp huyện",
        "commune": "Bộ phận Một cửa cấp xã"}


def number(text: str) -> int:
    """A count as the report writes it: '13.597', or 'không có' (none)."""
    return 0 if text == "không có" else int(text.replace(".", ""))


def report_figures(lines: list[str]) -> dict[str, dict[str, Any]]:
    """Per level section of the report: resolved, early, on time, withdrawn (first paragraph of counts after
    the section's heading) and the on-time share with its parts from "Đánh giá chung"."""
    out: dict[str, dict[str, Any]] = {}
    text = "\n".join(lines)
    for level, title in TITLE.items():
        heading = next((i for i, line in enumerate(lines) if re.fullmatch(rf"[IVX]+\. {title}", line)), None)
        if heading is None:
            continue
        counts = next(line for line in lines[heading:] if line.startswith("- Tổng số hồ sơ tiếp nhận và giải quyết"))
        n = r"([\d.]+|không có) hồ sơ"
        m = re.search(rf"Số hồ sơ đã giải quyết {n}.*trả trước hạn {n}.*trả đúng hạn: {n}.*hủy và công dân rút: {n}",
                      counts)
        assert m, counts
        share = re.search(rf"{DESK[level]} (\d+,\d\d)% \(([\d.]+)/([\d.]+) hồ sơ\)", text)
        assert share, (level, text)
        out[level] = {"resolved": number(m[1]), "in_time": number(m[2]) + number(m[3]), "withdrawn": number(m[4]),
                      "pct": share[1] + "%", "share_in_time": number(share[2]), "share_resolved": number(share[3])}
    return out


def table_figures(path: Path) -> dict[str, dict[str, Any]]:
    """The level rows (TT I, II, …) of Biểu số 01: resolved, early + on time, withdrawn."""
    rows = xlsx_rows(path, "Giải quyết hồ sơ")
    header = next(r for r in rows if r[0] == "TT")
    col = {name: header.index(name) for name in ("Đã giải quyết", "Trước hạn", "Đúng hạn", "Hủy, rút")}
    out = {}
    for r in rows:
        level = next((lv for lv, t in TITLE.items() if isinstance(r[1], str) and r[1].upper() == t), None)
        if level and r[0] in ("I", "II", "III"):
            out[level] = {"resolved": r[col["Đã giải quyết"]], "in_time": r[col["Trước hạn"]] + r[col["Đúng hạn"]],
                          "withdrawn": r[col["Hủy, rút"]]}
    return out


def shown_percent(value: Any) -> Any:
    """A percentage cell as the reader sees it: '75,00%' whether the form writes it as text or as the number
    0.75 with a percent format."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value * 100:.2f}".replace(".", ",") + "%"
    return value


def form_figures(path: Path) -> dict[str, Any]:
    return {r[0]: shown_percent(r[3]) if r[2] == "%" else r[3] for r in xlsx_rows(path, "Biểu mẫu 3") if r[0]}


@pytest.fixture
def province(ws: Workspace) -> Workspace:
    ws.load("units", [{"code": DISTRICT, "name": "UBND huyện Mai Sơn", "level": "district", "parent_code": "14",
                       "valid_to": "2025-06-30"}])
    ws.load("procedures", PROCS)
    ws.load("dossiers", DOSSIERS)
    return ws


@pytest.mark.parametrize("period", ["2025-Q3", "2025-Q2"])
def test_report_tables_and_form_share_every_count(province: Workspace, tmp_path: Path, period: str) -> None:
    report = write_quarterly_onestop(province.store, period, tmp_path / "bao-cao", letter_date=date(2025, 10, 6),
                                     want_pdf=False)
    forms = write_cchc(province.store, period, tmp_path / "cchc")
    word = next(p for p in report.files if p.suffix == ".docx")
    table = next(p for p in report.files if p.suffix == ".xlsx")
    form = form_figures(next(p for p in forms.files if p.name.startswith("bieu-mau-cchc")))
    in_report = report_figures(docx_lines(word))
    in_table = table_figures(table)

    expected = EXPECTED[period]
    assert set(in_report) == set(in_table) == set(expected)  # Q3: no district section, no district row
    for level, (resolved, in_time, pct, withdrawn) in expected.items():
        row = FORM_ROW[level]
        # the hand-worked figures ...
        assert (in_report[level]["resolved"], in_report[level]["in_time"]) == (resolved, in_time), level
        # ... are what every document prints
        assert in_report[level]["share_resolved"] == in_table[level]["resolved"] == form[f"{row}.1"] == resolved
        assert in_report[level]["share_in_time"] == in_table[level]["in_time"] == form[f"{row}.2"] == in_time
        assert in_report[level]["pct"] == form[row] == pct
        assert in_report[level]["withdrawn"] == in_table[level]["withdrawn"] == withdrawn
