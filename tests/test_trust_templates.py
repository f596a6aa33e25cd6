"""Issue 14, item 1: a template the office edits cannot run code. The attacks of the review are put into the
workspace copies of the packaged templates (`chiso report templates`): an Excel cell of `phu-luc-thang.xlsx`,
a paragraph of `cong-van-thang.docx`, a content control of it (a paragraph python-docx does not list but docxtpl
renders). Each must be refused with a TemplateError naming the template and the cell or paragraph, and the
command in it must not have run (its MARKER file does not exist)."""

from __future__ import annotations

from pathlib import Path

import docx
import openpyxl
import pytest
from click.testing import CliRunner
from lxml import etree

from chiso.cli import main
from chiso.reports import templating
from chiso.reports.documents import copy_templates
from chiso.reports.numbers import NumberFormat
from chiso.reports.templating import TemplateError, render_docx, render_xlsx
from conftest import Workspace
from test_reports_monthly import _edit, monthly, province  # noqa: F401 (province: the fixture)

XLSX_SHEET = "Phụ lục 2 - Xếp hạng"


def attacks(marker: Path) -> list[str]:
    """The review's payloads: each runs `touch MARKER` (or reaches Python's internals) on an unsandboxed Jinja."""
    touch = f"popen('touch {marker}').read()"
    return [
        f"{{{{ lipsum.__globals__['os'].{touch} }}}}",
        f"{{{{ cycler.__init__.__globals__.os.{touch} }}}}",
        f"{{{{ joiner.__init__.__globals__['os'].{touch} }}}}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ self.__init__ }}",
        "{{ range.__call__.__self__ }}",
        "{{ lipsum(1) }}",  # Jinja's default globals are gone, not only their internals
        "{{ namespace(a=1) }}",
        # built at run time, so that only the sandbox can see it
        "{{ ((province|attr('__cla' ~ 'ss__')|attr('__mr' ~ 'o__'))[1]|attr('__subcl' ~ 'asses__'))() }}",
    ]


def _excel_cell(book: Path, sheet: str, cell: str, text: str) -> None:
    wb = openpyxl.load_workbook(book)
    wb[sheet][cell] = text
    wb.save(book)


def _paragraph_number(letter: Path, text: str) -> int:
    """The position of the body paragraph holding ``text``, counted by python-docx (1-based)."""
    paragraphs = docx.Document(str(letter)).paragraphs
    return next(i for i, p in enumerate(paragraphs, 1) if text in p.text)


@pytest.mark.parametrize("index", range(9))
def test_code_in_an_excel_template_cell_is_refused(province: Workspace, tmp_path: Path, index: int) -> None:  # noqa: F811
    marker = tmp_path / "MARKER"
    attack = attacks(marker)[index]
    book = next(p for p in copy_templates(province.store) if p.name == "phu-luc-thang.xlsx")
    _excel_cell(book, XLSX_SHEET, "A1", attack)
    with pytest.raises(TemplateError) as err:
        monthly(province, tmp_path / "out")
    message = str(err.value)
    assert "phu-luc-thang.xlsx" in message and f"trang '{XLSX_SHEET}' ô A1" in message
    assert "không được phép" in message or "không có trong dữ liệu" in message
    assert not marker.exists()
    assert not (tmp_path / "out" / "phu-luc-bo-chi-so-2025-09.xlsx").exists()


def test_code_in_a_repeated_excel_row_is_refused(province: Workspace, tmp_path: Path) -> None:  # noqa: F811
    """A loop row's cell (B7: `{{ r.name }}` for each unit), where the renderer's fast attribute path runs."""
    marker = tmp_path / "MARKER"
    book = next(p for p in copy_templates(province.store) if p.name == "phu-luc-thang.xlsx")
    _excel_cell(book, XLSX_SHEET, "B7", "{{ r.name.__class__.__mro__[1].__subclasses__() }}")
    with pytest.raises(TemplateError, match=rf"phu-luc-thang.xlsx: trang '{XLSX_SHEET}' ô B7: .*'__subclasses__'"):
        monthly(province, tmp_path / "out")
    _excel_cell(book, XLSX_SHEET, "B7", f"{{{{ r|attr('__cla' ~ 'ss__') }}}}{{{{ lipsum.__globals__.os.popen("
                                         f"'touch {marker}').read() }}}}")
    with pytest.raises(TemplateError, match=rf"trang '{XLSX_SHEET}' ô B7: .*không"):
        monthly(province, tmp_path / "out")
    assert not marker.exists()


@pytest.mark.parametrize("index", range(9))
def test_code_in_a_word_paragraph_is_refused(province: Workspace, tmp_path: Path, index: int) -> None:  # noqa: F811
    marker = tmp_path / "MARKER"
    attack = attacks(marker)[index]
    letter = next(p for p in copy_templates(province.store) if p.name == "cong-van-thang.docx")
    _edit(letter, "{{ local_addressee }}", attack)
    number = _paragraph_number(letter, attack[:12])
    with pytest.raises(TemplateError) as err:
        monthly(province, tmp_path / "out")
    message = str(err.value)
    assert "cong-van-thang.docx" in message and f"thân văn bản đoạn {number}:" in message
    assert "không được phép" in message or "không có trong dữ liệu" in message
    assert not marker.exists()
    assert not (tmp_path / "out" / "cong-van-bo-chi-so-2025-09.docx").exists()


def test_code_in_a_content_control_is_refused(province: Workspace, tmp_path: Path) -> None:  # noqa: F811
    """A paragraph inside a content control (w:sdt) is not in python-docx's paragraph list, but docxtpl renders
    it: it must be checked and sandboxed all the same."""
    marker = tmp_path / "MARKER"
    letter = next(p for p in copy_templates(province.store) if p.name == "cong-van-thang.docx")
    document = docx.Document(str(letter))
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    sdt = etree.fromstring(
        f'<w:sdt xmlns:w="{w}"><w:sdtContent><w:p><w:r><w:t>'
        f"{{{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}}}"
        "</w:t></w:r></w:p></w:sdtContent></w:sdt>")
    body = document.element.body
    body.insert(len(body) - 1, sdt)  # before the section properties
    document.save(str(letter))
    with pytest.raises(TemplateError, match=r"cong-van-thang.docx: thân văn bản \(khung chữ, ô nội dung\) đoạn \d+: "
                                            r".*'__globals__'"):
        monthly(province, tmp_path / "out")
    assert not marker.exists()


def test_code_in_a_template_through_the_command(province: Workspace, tmp_path: Path) -> None:  # noqa: F811
    marker = tmp_path / "MARKER"
    letter = next(p for p in copy_templates(province.store) if p.name == "cong-van-thang.docx")
    _edit(letter, "{{ local_addressee }}", f"{{{{ lipsum.__globals__['os'].popen('touch {marker}').read() }}}}")
    province.store.close()
    r = CliRunner().invoke(main, ["--workspace", str(province.store.workspace), "report", "monthly", "--period",
                                  "2025-09", "--out", str(tmp_path / "cli"), "--as-of", "2025-10-15", "--no-pdf"])
    assert r.exit_code == 1
    assert "cong-van-thang.docx" in r.stderr and "không được phép: thuộc tính '__globals__'" in r.stderr
    assert "Traceback" not in r.stdout + r.stderr and isinstance(r.exception, SystemExit)
    assert not marker.exists()


def _tiny_docx(path: Path, text: str) -> Path:
    document = docx.Document()
    document.add_paragraph(text)
    document.save(str(path))
    return path


def test_render_context_must_be_plain_data(tmp_path: Path) -> None:
    """Objects in a context would expose their attributes and methods to templates: refused before rendering,
    naming the key (a programming error, TypeError)."""

    class Unit:
        name = "Xã A"

    template = _tiny_docx(tmp_path / "t.docx", "{{ unit.name }}")
    out = tmp_path / "out.docx"
    with pytest.raises(TypeError, match=r"'unit'.*Unit"):
        render_docx(template, {"unit": Unit()}, out, NumberFormat())
    assert not out.exists()
    with pytest.raises(TypeError, match=r"'rows\[1\]\.path'.*Path"):
        templating.check_context({"rows": [{"path": "a"}, {"path": Path("a")}]})
    wb = openpyxl.Workbook()
    wb.active["A1"] = "{{ unit.name }}"
    wb.save(tmp_path / "t.xlsx")
    with pytest.raises(TypeError, match=r"'unit'"):
        render_xlsx(tmp_path / "t.xlsx", {"unit": Unit()}, tmp_path / "out.xlsx", NumberFormat())
    templating.check_context({"a": [1, 2.5, True, None, ("x", {"b": "c"})]})  # plain: no error


def test_the_sandbox_keeps_what_templates_use(tmp_path: Path) -> None:
    """Filters, tests, loops, `set`, `pct` and str methods still work in the sandbox."""
    template = _tiny_docx(tmp_path / "t.docx", "{% set n = rows|length %}{{ total|num }} {{ pct(1, 3) }} "
                                              "{{ name|upper }} {% for r in rows %}{{ loop.index }}.{{ r.x|whole }}"
                                              "{% endfor %} {{ 'có' if flag is not none else 'không' }} {{ n }}"
                                              " {{ name.replace('A', 'B') }}")
    out = render_docx(template, {"total": 71.31, "rows": [{"x": 13597}, {"x": 4}], "name": "Xã A", "flag": None},
                      tmp_path / "out.docx", NumberFormat())
    assert docx.Document(str(out)).paragraphs[0].text == "71,31 33,33 XÃ A 1.13.5972.4 không 2 Xã B"


@pytest.mark.parametrize("attack", [
    "{{ chart_groups.tpl.save(TARGET) }}",  # docxtpl's InlineImage holds the whole template object
    "{{ chart_groups.image_descriptor }}",  # and the picture's path on this machine
    "{{ chart_groups.tpl.template_file }}",
])
def test_a_picture_is_not_an_object_to_explore(province: Workspace, tmp_path: Path, attack: str) -> None:  # noqa: F811
    """Found by the adversarial review: the sandbox blocked `_` names, but a picture in the context exposed its
    path (`Path.read_text`, `write_text`) and docxtpl's template (`tpl.save(any path)`) — a template could
    overwrite the store. Attributes are now readable only on plain data."""
    database = province.store.workspace / "chiso.duckdb"
    before = database.read_bytes()
    letter = next(p for p in copy_templates(province.store) if p.name == "cong-van-thang.docx")
    _edit(letter, "{{ local_addressee }}", attack.replace("TARGET", repr(str(database))))
    with pytest.raises(TemplateError, match="cong-van-thang.docx: thân văn bản đoạn"):
        monthly(province, tmp_path / "out")
    assert database.read_bytes() == before


def test_pictures_never_reach_a_workbook_and_are_opaque_in_a_letter(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("bí mật", encoding="utf-8")
    picture = templating.Image(secret)
    book = openpyxl.Workbook()
    book.active["A1"] = "{{ pic.path.read_text() }}"
    book.save(tmp_path / "t.xlsx")
    with pytest.raises(TemplateError, match="'pic'"):
        render_xlsx(tmp_path / "t.xlsx", {"pic": picture}, tmp_path / "o.xlsx", NumberFormat())
    with pytest.raises(TemplateError, match="không được phép|path"):
        render_docx(_tiny_docx(tmp_path / "t.docx", "{{ pic.path }}"), {"pic": picture}, tmp_path / "o.docx",
                    NumberFormat())
    assert not (tmp_path / "o.xlsx").exists() and not (tmp_path / "o.docx").exists()


def test_an_excel_template_read_once_gives_each_document_its_own_copy(tmp_path: Path) -> None:
    """The unit appendices of a month share a template parsed once (``templating._workbook``): each document
    must start from the template as written, not from the document before it, and a template edited between two
    documents must be read again."""
    book = openpyxl.Workbook()
    book.active["A1"] = "{{ name }}"
    book.active["A2"] = "{% for r in rows %}{{ r }}"
    book.create_sheet("Phụ")["A1"] = "{{ name|upper }}"
    template = tmp_path / "t.xlsx"
    book.save(template)
    first = render_xlsx(template, {"name": "Xã A", "rows": [1, 2, 3]}, tmp_path / "a.xlsx", NumberFormat())
    second = render_xlsx(template, {"name": "Xã B", "rows": [4]}, tmp_path / "b.xlsx", NumberFormat(),
                         drop=("Phụ",))
    third = render_xlsx(template, {"name": "Xã C", "rows": []}, tmp_path / "c.xlsx", NumberFormat())
    values = [[[c.value for c in row] for row in openpyxl.load_workbook(p).active.iter_rows()]
              for p in (first, second, third)]
    assert values == [[["Xã A"], [1], [2], [3]], [["Xã B"], [4]], [["Xã C"]]]
    assert openpyxl.load_workbook(second).sheetnames == ["Sheet"]  # dropped from that document only
    assert openpyxl.load_workbook(third)["Phụ"]["A1"].value == "XÃ C"
    book.active["A1"] = "Tên: {{ name }}"  # the office edits the template
    book.save(template)
    edited = render_xlsx(template, {"name": "Xã D", "rows": []}, tmp_path / "d.xlsx", NumberFormat())
    assert openpyxl.load_workbook(edited).active["A1"].value == "Tên: Xã D"
