"""A value the loader accepts never crashes a later command (issue 14, items 2 and 4), end to end: the hand-built
province of test_scoring.py with unit names, dossier ids and officers as hostile as the contract allows (formula
prefixes, DDE payloads, XML and Word markup, Jinja tags, quotes, very long names, scripts of other languages), then
every command a clerk runs. Each must succeed, and every document must show the values literally: as text in Excel,
escaped in Word, never evaluated as a template."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from lxml import etree

from chiso.cli import main
from chiso.store.db import Store
from conftest import Workspace
from docs_reader import docx_lines
from test_scoring import d, load_province

pytestmark = pytest.mark.filterwarnings("ignore:Glyph .* missing from font")  # CJK in a chart label

COMMUNE_NAME = '=HYPERLINK("http://x","y") & <b>Xã</b> {{ 7*7 }} {% if true %}ok{% endif %} "Mường" \'Bú\''
DEPARTMENT_NAME = "Sở Tư pháp </w:t></w:r><w:r><w:t>CHÈN]]> عربى 中文 " + "dài " * 50
HOSTILE_IDS = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-2+3", "{{ lipsum }}", "<x/>&amp;"]


@pytest.fixture
def hostile(ws: Workspace, tmp_path: Path) -> Path:
    ws.load("units", [
        {"code": "03646", "name": COMMUNE_NAME, "level": "commune", "parent_code": "14"},
        {"code": "14.STP", "name": DEPARTMENT_NAME.strip(), "level": "department", "parent_code": "14"},
    ])
    load_province(ws)
    ws.store = Store.open(ws.store.workspace)
    # Open and overdue at the period's end, so they are listed in the unit letter's overdue appendix.
    ws.load("dossiers", [d(did, "03646", "PB", "direct", "2025-09-08 09:00") | {"officer": "=1+1"}
                         for did in HOSTILE_IDS])
    ws.store.close()
    return ws.store.workspace


def run(workspace: Path, *args: str) -> str:
    result = CliRunner().invoke(main, ["--workspace", str(workspace), *args])
    assert result.exit_code == 0, (args, result.output)
    return result.stdout


def formula_cells(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [f"{ws.title}!{c.coordinate}={c.value}" for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.data_type == "f"]


def xlsx_texts(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path)
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_every_command_survives_hostile_values(hostile: Path, tmp_path: Path) -> None:
    # status, every format
    rows = list(csv.DictReader(io.StringIO(run(hostile, "status", "--as-of", "2025-10-15"))))
    ids = {r["dossier_id"] for r in rows}
    assert {"'=cmd|' /C calc'!A0", "'+1+1", "'@SUM(A1)", "'-2+3", "{{ lipsum }}", "<x/>&amp;"} <= ids
    data = json.loads(run(hostile, "status", "--as-of", "2025-10-15", "--format", "json"))
    assert set(HOSTILE_IDS) <= {r["dossier_id"] for r in data}
    run(hostile, "status", "--as-of", "2025-10-15", "--format", "table")
    for fmt in ("table", "csv", "json"):
        run(hostile, "status", "--as-of", "2025-10-15", "--by-unit", "--format", fmt)
    # score, explain, publish
    scored = {u["code"]: u for u in json.loads(run(hostile, "score", "--period", "2025-09", "--as-of", "2025-10-15",
                                                    "--format", "json"))}
    assert scored["03646"]["name"] == COMMUNE_NAME
    score_csv = run(hostile, "score", "--period", "2025-09", "--as-of", "2025-10-15", "--format", "csv")
    assert "'=HYPERLINK" in score_csv
    run(hostile, "score", "--period", "2025-09", "--as-of", "2025-10-15")
    run(hostile, "explain", "--unit", "03646", "--period", "2025-09", "--as-of", "2025-10-15")
    explained = json.loads(run(hostile, "explain", "--unit", "03646", "--period", "2025-09", "--as-of",
                               "2025-10-15", "--format", "json"))
    assert explained["name"] == COMMUNE_NAME
    run(hostile, "publish", "--period", "2025-09", "--as-of", "2025-10-15")
    # every document of the month and of the quarter
    out = tmp_path / "van-ban"
    run(hostile, "report", "all", "--period", "2025-09", "--as-of", "2025-10-15", "--date", "2025-10-06",
        "--out", str(out), "--no-pdf", "--workers", "1")
    run(hostile, "report", "unit", "14.STP", "--period", "2025-09", "--as-of", "2025-10-15", "--out",
        str(tmp_path / "stp"), "--no-pdf")
    documents = sorted(out.rglob("*.docx")) + sorted((tmp_path / "stp").rglob("*.docx"))
    workbooks = sorted(out.rglob("*.xlsx")) + sorted((tmp_path / "stp").rglob("*.xlsx"))
    assert len(documents) >= 3 and len(workbooks) >= 3

    for path in workbooks:
        assert formula_cells(path) == [], path.name  # data is text, never a formula (templates have none)
    unit_book = out / "don-vi" / "phu-luc-don-vi-03646-2025-09.xlsx"
    texts = xlsx_texts(unit_book)
    assert any(COMMUNE_NAME in t for t in texts)
    assert "=cmd|' /C calc'!A0" in texts  # the overdue dossier list holds the id as text

    for path in documents:
        with zipfile.ZipFile(path) as z:
            etree.fromstring(z.read("word/document.xml"))  # still well-formed XML
    letter = "\n".join(docx_lines(out / "don-vi" / "cong-van-don-vi-03646-2025-09.docx"))
    assert COMMUNE_NAME in letter  # literally: escaped, the Jinja tags of the data not evaluated
    assert "49" not in COMMUNE_NAME and "{{ 7*7 }}" in letter
    department = "\n".join(docx_lines(tmp_path / "stp" / "cong-van-don-vi-14.STP-2025-09.docx"))
    assert "</w:t></w:r><w:r><w:t>CHÈN]]>" in department
