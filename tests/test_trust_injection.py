"""Issue 14, item 2: data cannot inject into documents. Unit names and dossier ids are loaded with formula
prefixes (a DDE payload included), XML specials, Word XML, Jinja tags, console markup and mathtext, then every
document of the month is written: no workbook cell is a formula unless the template had that formula, every
value is there as typed, every Word file opens and its XML parses, and `chiso score --format csv` neutralises
the formulas. The renderer is also tested on its own with values the loader refuses (control characters), and
a Hypothesis property checks that random values never change a document's structure."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from lxml import etree

from chiso.cli import main
from chiso.reports import charts
from chiso.reports.cchc import FormRow, write_forms, write_input_template
from chiso.reports.documents import write_cchc, write_monthly, write_quarterly_onestop, write_unit
from chiso.reports.numbers import NumberFormat
from chiso.reports.templating import Image, packaged_dir, render_docx, render_xlsx
from chiso.store.db import Store
from conftest import Workspace
from docs_reader import docx_lines
from test_scoring import DOSSIERS, FEEDBACK, INPUTS, PROCS

AS_OF = datetime(2025, 10, 15, 23, 59, 59)
LETTER = date(2025, 10, 6)
NAMES = {
    "03646": '=HYPERLINK("http://x","y") & <b>Xã</b> </w:t></w:r><w:r><w:t>X',  # commune X: overdue dossiers
    "03667": "=cmd|' /C calc'!A0",  # commune Y: the DDE payload
    "14.STP": "+1+1 Sở & <Ngành> {{ 7*7 }}",  # a Jinja tag in data is text
    "03670": "@SUM(A1) [bold]Xã[/] [/] $\\frac{$",  # console markup and broken mathtext (charts)
}
PROVINCE = "Tỉnh =Sơn La & <Lai Châu>"  # "=Sơn La & <Lai Châu>" in the letters
IDS = {"X2": '=HYPERLINK("http://evil","X2")', "X3": "=1+2"}  # X2 resolved late, X3 open past due


@pytest.fixture
def hostile(ws: Workspace) -> Workspace:
    """The hand-built province of test_scoring.py with hostile names and dossier ids, loaded as files."""
    cur = ws.store.con.execute("SELECT code, level, parent_code, valid_from, valid_to FROM units WHERE code IN "
                               "('14', '03646', '03667', '14.STP', '03670')")
    units = [{"code": code, "name": NAMES.get(code, PROVINCE), "level": level, "parent_code": parent or "",
              "valid_from": valid_from or "", "valid_to": valid_to or ""}
             for code, level, parent, valid_from, valid_to in cur.fetchall()]
    assert len(units) == 5
    ws.load("units", units)
    ws.load("procedures", PROCS)
    ws.load("dossiers", [{**d, "dossier_id": IDS.get(d["dossier_id"], d["dossier_id"])} for d in DOSSIERS])
    ws.load("feedback", FEEDBACK)
    ws.load("indicator_inputs", INPUTS)
    ws.config('[report]\nwindow = "calendar"\n')
    ws.store.close()
    ws.store = Store.open(ws.store.workspace)
    return ws


def _cells(path: Path) -> list[Any]:
    wb = openpyxl.load_workbook(path)
    return [cell for sheet in wb.worksheets for row in sheet.iter_rows() for cell in row]


def _check_workbook(path: Path, template: str) -> dict[str, Any]:
    """No cell of ``path`` is a formula unless the template has that formula there; the text cells by value."""
    own = {str(c.value) for c in _cells(packaged_dir() / template) if c.data_type == "f"}
    cells = _cells(path)
    assert [c.coordinate for c in cells if c.data_type == "f" and str(c.value) not in own] == [], path.name
    return {c.value: c for c in cells if isinstance(c.value, str)}


def _check_word(path: Path) -> str:
    """The file opens (python-docx), its XML parses strictly, and its text."""
    docx.Document(str(path))
    with zipfile.ZipFile(path) as z:
        etree.fromstring(z.read("word/document.xml"))  # no recover: a broken part raises
    return "\n".join(docx_lines(path))


def test_documents_show_hostile_names_and_ids_as_typed(hostile: Workspace, tmp_path: Path) -> None:
    store = hostile.store
    monthly = write_monthly(store, "2025-09", tmp_path, as_of=AS_OF, letter_date=LETTER, want_pdf=False)
    unit = write_unit(store, "03646", "2025-09", tmp_path, as_of=AS_OF, letter_date=LETTER, want_pdf=False)
    quarterly = write_quarterly_onestop(store, "2025-Q3", tmp_path, letter_date=LETTER, want_pdf=False)
    forms = write_cchc(store, "2025-Q3", tmp_path)
    province = PROVINCE.removeprefix("Tỉnh ")

    # Excel: every value a text cell, as typed; Excel's quote prefix keeps "=…" text when a cell is edited.
    texts = _check_workbook(monthly.files[1], "phu-luc-thang.xlsx")
    for name in NAMES.values():
        assert texts[name].data_type == "s", name  # ranking appendix: one row per unit
    assert texts[NAMES["03646"]].quotePrefix and texts[NAMES["03667"]].quotePrefix
    texts = _check_workbook(unit.files[1], "phu-luc-don-vi.xlsx")
    assert {IDS["X2"], IDS["X3"], NAMES["03646"]} <= set(texts)  # the overdue dossiers and their unit
    assert texts[IDS["X3"]].quotePrefix
    texts = _check_workbook(quarterly.files[1], "bieu-mot-cua-quy.xlsx")
    assert {NAMES["03646"], NAMES["03667"]} <= set(texts)
    _check_workbook(forms.files[0], "bieu-mau-cchc.xlsx")
    assert [c.coordinate for c in _cells(forms.files[1]) if c.data_type == "f"] == []

    # Word: every letter opens and shows the names as typed (escaped, not markup, not tags).
    letter = _check_word(monthly.files[0])
    assert f"UBND TỈNH {province.upper()}" in letter
    for name in NAMES.values():
        assert name in letter, name  # appendix 2 ranks every unit
    assert f"1 | {NAMES['03646']} | 1 | 1 | 2" in letter  # appendix 1: X2 resolved late, X3 open and overdue
    assert f"Kính gửi: {NAMES['03646']}." in _check_word(unit.files[0])
    assert province in _check_word(quarterly.files[0])


def test_score_outputs_show_hostile_names_as_text(hostile: Workspace) -> None:
    hostile.store.close()
    base = ["--workspace", str(hostile.store.workspace), "score", "--period", "2025-09", "--as-of", "2025-10-15"]
    r = CliRunner().invoke(main, [*base, "--format", "csv"])
    assert r.exit_code == 0, r.stderr
    rows = [row for row in csv.DictReader(io.StringIO(r.stdout)) if row["item"] == "TOTAL"]
    names = {row["unit_code"]: row["unit_name"] for row in rows}
    for code, name in NAMES.items():
        assert names[code] == "'" + name, code  # each starts with a formula prefix: neutralised
    totals = {row["unit_code"]: row["score"] for row in rows}
    assert totals["03646"] == "57.23"  # numbers as they were (test_scoring: commune X 57.23)
    r = CliRunner().invoke(main, [*base, "--level", "commune", "--format", "table"])
    assert r.exit_code == 0, r.stderr
    assert NAMES["03670"] in r.stdout  # console markup shown, not applied


def test_control_characters_cannot_break_a_document(tmp_path: Path) -> None:
    """The loader refuses control characters; the renderer must not depend on it. XML 1.0 cannot hold them:
    dropped, in Word (where docxtpl would turn BEL into a new paragraph and FF into a page break) and Excel."""
    value = "A\x00B\x07C\x0cD\x1bE\ufffeF\rG\r\nH\tI"
    word = render_docx(_docx(tmp_path / "t.docx", ["Tên: {{ v }}", "Hết"]), {"v": value}, tmp_path / "o.docx",
                       NumberFormat())
    paragraphs = docx.Document(str(_valid(word))).paragraphs
    assert [p.text for p in paragraphs] == ["Tên: ABCDEF\nG\nH\tI", "Hết"]
    excel = render_xlsx(_xlsx(tmp_path / "t.xlsx", {"A1": "{{ v }}", "A2": "Tên: {{ v }}"}), {"v": value},
                        tmp_path / "o.xlsx", NumberFormat())
    sheet = openpyxl.load_workbook(excel).active
    assert (sheet["A1"].value, sheet["A2"].value) == ("ABCDEF\nG\nH\tI", "Tên: ABCDEF\nG\nH\tI")


def test_a_value_longer_than_an_excel_cell_is_cut_visibly(tmp_path: Path) -> None:
    value = "=" + "x" * 40_000
    excel = render_xlsx(_xlsx(tmp_path / "t.xlsx", {"A1": "{{ v }}"}), {"v": value}, tmp_path / "o.xlsx",
                        NumberFormat())
    cell = openpyxl.load_workbook(excel).active["A1"]
    assert cell.data_type == "s" and len(cell.value) == 32_767
    assert cell.value == value[:32_766] + "…"
    word = render_docx(_docx(tmp_path / "t.docx", ["{{ v }}"]), {"v": value}, tmp_path / "o.docx", NumberFormat())
    assert docx.Document(str(word)).paragraphs[0].text == value  # Word has no such limit


def test_rendered_values_are_never_rendered_again(tmp_path: Path) -> None:
    """A value holding a tag, in a repeated row and in a plain cell, stays the text it was."""
    template = _xlsx(tmp_path / "t.xlsx", {"A1": "{{ v }}", "A2": "{% for r in rows %}{{ r }}", "B2": "{{ r }}!"})
    values = {"v": "{{ 6*7 }}", "rows": ["{{ 7*7 }}", "{% if true %}có{% endif %}"]}
    sheet = openpyxl.load_workbook(render_xlsx(template, values, tmp_path / "o.xlsx", NumberFormat())).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["{{ 6*7 }}", None], ["{{ 7*7 }}", "{{ 7*7 }}!"], ["{% if true %}có{% endif %}", "{% if true %}có{% endif %}!"]]


def test_word_keeps_pictures_and_number_filters_while_escaping(tmp_path: Path) -> None:
    """Autoescape must not escape our own output: pictures (docxtpl's InlineImage) and the number filters."""
    png = charts.group_scores([{"name": "Nhóm & <1>", "max": 18.0, "score": 9.0, "weak": True}],
                              tmp_path / "c.png", NumberFormat(), "Đơn vị & <A>")
    template = _docx(tmp_path / "t.docx", ["{{ chart }}", "{{ n|num }} / {{ m|fixed }} / {{ k|whole }} — {{ name }}"])
    word = render_docx(template, {"chart": Image(png, 100), "n": 71.31, "m": 99.0, "k": 13597, "name": "A & <B>"},
                       tmp_path / "o.docx", NumberFormat())
    document = docx.Document(str(_valid(word)))
    assert document.paragraphs[1].text == "71,31 / 99,00 / 13.597 — A & <B>"
    assert len(document.inline_shapes) == 1


def test_charts_draw_names_as_typed(tmp_path: Path) -> None:
    """"$…$" in a name was parsed as mathtext: "$\\frac{$" stopped the chart (and report all)."""
    rows = [{"code": "a", "name": "Xã $\\frac{$ A\x1b[31m", "total": 50.0},
            {"code": "b", "name": "Xã $x^2$", "total": 60.0}, {"code": "c", "name": "Xã $x^2$", "total": 40.0}]
    out = charts.ranking(rows, tmp_path / "r.png", NumberFormat(), "Xếp hạng $\\bad{$")
    assert out.stat().st_size > 0
    assert charts.label("Xã\x1b[31m A\x00") == "Xã [31m A"
    assert charts.label("x" * 100) == "x" * 79 + "…"


def test_reform_forms_keep_notes_as_text(tmp_path: Path) -> None:
    """Staff notes are stored and written back into the forms and the input file: text, never formulas."""
    note = '=HYPERLINK("http://x","y")'
    path = write_input_template(tmp_path / "nhap.xlsx", "2025-Q3", values={("7", "3"): (0.5, note)})
    cells = [c for c in _cells(path) if c.value == note]
    assert len(cells) == 1 and cells[0].data_type == "s"
    rows = [FormRow("7", "3", "Tỷ lệ", "%", "input", 0.5, note)]
    forms = write_forms(rows, tmp_path / "bieu.xlsx", packaged_dir() / "bieu-mau-cchc.xlsx",
                        header={"ky_bao_cao": "=1+1", "tinh": "@SUM(A1)"})
    cells = _cells(forms)
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert any(c.value == note and c.data_type == "s" for c in cells)


# --- the property: random values never change a document's structure -------------------------------------------

PIECES = ["&", "<", ">", '"', "'", "&amp;", "&#123;", "]]>", "<![CDATA[x", "</w:t></w:r><w:r><w:t>X", "<w:p/>",
          "</w:p>", "{{", "}}", "{%", "%}", "{#", "#}", "{_{", "}_}", "{_%", "%_}", "{{ 7*7 }}", "{% if x %}",
          "=", "+", "-", "@", "=cmd|' /C calc'!A0", '=HYPERLINK("http://x","y")', "#N/A", "$x^2$", " ", "\t",
          "\n", "\r", "\r\n", "\x00", "\x07", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\ufffe", "\uffff",
          "\ud800", "Xã Mường Giôn"]
VALUES = st.one_of(
    st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), min_size=1, max_size=25).map("".join),
    st.text(min_size=1, max_size=40),
    st.text(alphabet=st.sampled_from("ab <&{}=\x00\n"), min_size=1000, max_size=3000),
)
FORBIDDEN = {chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 0xFFFE, 0xFFFF, *range(0xD800, 0xE000)]}


def expected(value: str) -> str:
    """What a document shows for ``value`` (docs/templates.md): characters XML 1.0 forbids dropped, a carriage
    return (alone or before a line feed) made a line feed."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in value if ch not in FORBIDDEN)


def _docx(path: Path, paragraphs: list[str], table: list[list[str]] | None = None) -> Path:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        t = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, text in enumerate(row):
                t.cell(r, c).text = text
    document.save(str(path))
    return path


def _xlsx(path: Path, cells: dict[str, Any]) -> Path:
    wb = openpyxl.Workbook()
    for ref, value in cells.items():
        wb.active[ref] = value
    wb.save(path)
    return path


def _valid(path: Path) -> Path:
    with zipfile.ZipFile(path) as z:
        etree.fromstring(z.read("word/document.xml"))
    return path


def _shape(path: Path) -> tuple[int, int, int]:
    with zipfile.ZipFile(path) as z:
        root = etree.fromstring(z.read("word/document.xml"))
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    return len(list(root.iter(f"{w}p"))), len(list(root.iter(f"{w}tbl"))), len(list(root.iter(f"{w}tc")))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tiny")
    word = _docx(folder / "t.docx", ["Tên: {{ v }}", "Cố định & <giữ nguyên>"],
                 [["{{ v }}", "x"], ["{{ n|num }}", "{% if v %}có{% endif %}"]])
    excel = _xlsx(folder / "t.xlsx", {"A1": "{{ v }}", "B1": "Tên: {{ v }}", "C1": "=1+1", "A2": "Cố định",
                                      "A3": "{% for r in rows %}{{ r }}", "B3": "{{ r }}-{{ loop.index }}",
                                      "A4": "Cuối"})
    return {"word": word, "excel": excel, "folder": folder}


@settings(max_examples=100, deadline=timedelta(seconds=5))  # two files written and read back per example
@given(value=VALUES)
def test_random_values_never_change_a_documents_structure(tiny: dict[str, Path], value: str) -> None:
    shown = expected(value)
    assume(shown.strip())
    context = {"v": value, "n": 71.31, "rows": [value, value]}
    word = render_docx(tiny["word"], context, tiny["folder"] / "o.docx", NumberFormat())
    assert _shape(word) == _shape(tiny["word"])  # same paragraphs, tables, cells
    document = docx.Document(str(word))
    assert [p.text for p in document.paragraphs] == [f"Tên: {shown}", "Cố định & <giữ nguyên>"]
    table = document.tables[0]
    assert [[c.text for c in row.cells] for row in table.rows] == [[shown, "x"], ["71,31", "có"]]

    excel = render_xlsx(tiny["excel"], context, tiny["folder"] / "o.xlsx", NumberFormat())
    sheet = openpyxl.load_workbook(excel).active
    cells = {c.coordinate: c for row in sheet.iter_rows() for c in row if c.value is not None}
    assert {k: c.value for k, c in cells.items()} == {
        "A1": shown, "B1": f"Tên: {shown}", "C1": "=1+1", "A2": "Cố định", "A3": shown, "B3": f"{shown}-1",
        "A4": shown, "B4": f"{shown}-2", "A5": "Cuối"}
    assert [k for k, c in cells.items() if c.data_type == "f"] == ["C1"]  # the template's own formula only
