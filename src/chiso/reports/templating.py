"""Templates (mẫu văn bản): every document is rendered from a Word or Excel template. The package ships
defaults in ``chiso/reports/templates``; a province copies them into ``<workspace>/templates`` (``chiso report
templates``), edits letterhead, signer, recipients and wording, and its copies win.

A template is text the office edits and a data value is text from a loaded file: neither may do more than fill
in the document (issue 14).

1. **Sandbox** (hộp cát). Templates render in Jinja's ``ImmutableSandboxedEnvironment`` (:class:`_Environment`):
   no attribute, item or name starting with ``_``, no unsafe call, no change to the data, and no Jinja global
   but ``pct`` (``range``, ``dict``, ``lipsum``, ``cycler``, ``joiner``, ``namespace`` are gone). Every
   template text is checked when it is compiled (:func:`check_tree`): only names, attributes, items, literals,
   operators, filters, tests, calls and the ``for``, ``if``, ``set`` statements. A tag that tries more is
   refused with the template file and the cell or paragraph (:class:`TemplateError`).
2. **Plain data**. The render context is dicts, lists, tuples, str, int, float, bool, None, date, datetime and
   :class:`Image`, checked before rendering (:func:`check_context`); anything else is a programming error.
3. **Values are text, never markup or formulas**. Word renders with autoescape: ``&``, ``<…>`` and Word XML in
   a value are shown as typed. Characters XML 1.0 forbids (control characters) are dropped from every value,
   in Word and Excel (:func:`clean_text`). Every value written into a workbook goes through :func:`set_cell`:
   a string is always a text cell (``=…`` never becomes a formula, ``#N/A`` never an error value). A cell or
   paragraph is rendered once: a value that contains ``{{ … }}`` is never rendered again.
"""

from __future__ import annotations

import copy
import functools
import html
import re
import zipfile
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from chiso.outputs import FORMULA_PREFIXES
from chiso.reports.numbers import NumberFormat

WORKSPACE_FOLDER = "templates"


class TemplateError(ValueError):
    """A template that cannot be used; the message names the template file and the offending tag."""


def packaged_dir() -> Path:
    return Path(str(resources.files("chiso.reports") / "templates"))


def template_path(name: str, workspace: Path | None) -> Path:
    """The workspace copy of template ``name`` when there is one, else the packaged default."""
    if workspace is not None:
        own = workspace / WORKSPACE_FOLDER / name
        if own.exists():
            return own
    path = packaged_dir() / name
    if not path.exists():
        raise TemplateError(f"không có mẫu '{name}'")
    return path


# --------------------------------------------------------------------------------------------------------------
# Values: plain data in, text out

@dataclass(frozen=True)
class Image:
    """A picture to place at a ``{{ name }}`` tag of a Word template (charts)."""

    path: Path
    width_mm: float = 160


_PLAIN = frozenset({str, int, float, bool, type(None), date, datetime, Image})
# The only types whose attributes a template may read or call (str.upper, dict.items …); ``Markup`` is a str.
_ATTRIBUTE_TYPES = (str, int, float, bool, date, dict, list, tuple, jinja2.runtime.LoopContext)
_CONTAINERS = frozenset({dict, list, tuple})


class _NotPlain(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


def check_context(context: dict[str, Any]) -> None:
    """Refuse a render context that is not plain data (a programming error, raised as :class:`TypeError`
    naming the key): only plain data can be reached from a template, whatever the sandbox allows on objects."""
    try:
        _check_plain(context, 0)
    except _NotPlain as exc:
        path = "".join(reversed(exc.path)).lstrip(".")
        raise TypeError(f"lỗi chương trình: dữ liệu văn bản '{path}': {exc.reason}, không phải dữ liệu thuần "
                        "(dict, list, tuple, str, int, float, bool, None, date, datetime, Image)") from None


def _check_plain(value: Any, depth: int) -> None:
    kind = type(value)
    if kind in _PLAIN:
        return
    if kind not in _CONTAINERS:
        raise _NotPlain(f"kiểu {kind.__module__}.{kind.__qualname__}")
    if depth > 32:
        raise _NotPlain("lồng quá sâu (tự tham chiếu?)")
    items = value.items() if kind is dict else enumerate(value)
    for key, item in items:
        if kind is dict and type(key) is not str:
            raise _NotPlain(f"khóa {key!r} không phải chữ")
        if type(item) in _PLAIN:
            continue
        try:
            _check_plain(item, depth + 1)
        except _NotPlain as exc:
            exc.path.append(f".{key}" if kind is dict else f"[{key}]")
            raise


_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def clean_text(text: str) -> str:
    """``text`` as XML 1.0 (Word, Excel) can hold it: control characters other than tab and line feed and the
    non-characters U+FFFE, U+FFFF and lone surrogates are dropped; a carriage return becomes a line feed."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _XML_FORBIDDEN.search(text):
        text = _XML_FORBIDDEN.sub("", text)
    return text


def _word_value(value: Any) -> Any:
    """Jinja ``finalize`` of Word templates: every value becomes escaped XML text (autoescape then leaves it as
    it is); docxtpl's pictures (``__html__``) pass. Braces become character references, so docxtpl's own
    clean-up of ``{_{`` in the rendered XML cannot touch a value."""
    if type(value) is str:
        text = escape(clean_text(value))
    elif isinstance(value, Markup):  # escaped already (``|e``, ``|tojson``)
        text = Markup(clean_text(str(value)))
    elif hasattr(value, "__html__"):  # docxtpl's InlineImage, made from our Image
        return value
    else:
        text = escape(clean_text(str(value)))
    if "{" in text or "}" in text:
        text = Markup(str(text).replace("{", "&#123;").replace("}", "&#125;"))
    return text


def _text_value(value: Any) -> str:
    """Jinja ``finalize`` of Excel cells: plain text without characters XML forbids."""
    return clean_text(value if type(value) is str else str(value))


EXCEL_MAX_TEXT = 32_767  # characters in one cell
_CELL_VALUES = (int, float, Decimal, date, datetime, time)


def set_cell(cell: Any, value: Any) -> None:
    """Write a value into an openpyxl cell as data. Every value of our workbooks that comes from data or from
    rendering is written here. A string is always a text cell: ``=…`` is never a formula and ``#N/A`` never an
    error value (openpyxl would make them so), and one that starts with ``=``, ``+``, ``-``, ``@`` gets Excel's
    quote prefix, so it stays text when someone edits the cell. Text is cleaned (:func:`clean_text`) and cut to
    Excel's 32,767 characters, ending with '…'. Numbers, booleans, dates and None are written as they are;
    anything else is a :class:`TypeError`."""
    if isinstance(value, str):
        text = clean_text(str(value))
        if len(text) > EXCEL_MAX_TEXT:
            text = text[: EXCEL_MAX_TEXT - 1] + "…"
        cell.value = text
        cell.data_type = "s"
        if text.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    elif value is None or isinstance(value, _CELL_VALUES):  # bool is an int
        cell.value = value
    else:
        raise TypeError(f"giá trị kiểu {type(value).__name__} không ghi được vào ô Excel")


# --------------------------------------------------------------------------------------------------------------
# The sandbox

class ForbiddenTag(jinja2.TemplateSyntaxError):
    """A tag that asks for more than a template may do (refused when the template is compiled)."""


_ALLOWED_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Const, nodes.Tuple, nodes.List, nodes.Dict, nodes.Pair,
    nodes.Keyword, nodes.Name, nodes.Getattr, nodes.Getitem, nodes.Slice, nodes.Filter, nodes.Test, nodes.Call,
    nodes.CondExpr, nodes.Compare, nodes.Operand, nodes.Concat, nodes.BinExpr, nodes.UnaryExpr, nodes.For, nodes.If,
    nodes.Assign,
)
_STATEMENT_WORDS = {"Extends": "extends", "Block": "block", "Include": "include", "Import": "import",
                    "FromImport": "from … import", "Macro": "macro", "CallBlock": "call", "FilterBlock": "filter",
                    "With": "with", "AssignBlock": "set … endset", "ScopedEvalContextModifier": "autoescape",
                    "EvalContextModifier": "autoescape", "ExprStmt": "do", "Break": "break",
                    "Continue": "continue"}
OWN_FILTERS = ("num", "fixed", "whole", "pad2", "share")
DROPPED_FILTERS = ("safe", "urlize", "xmlattr")  # output markup: a value could become Word XML


def check_tree(tree: nodes.Node, env: jinja2.Environment) -> None:
    """Refuse (:class:`ForbiddenTag`) what a template may not do: statements other than for, if and set;
    names, attributes and items starting with ``_``; filters and tests that do not exist."""
    for node in (tree, *tree.find_all(nodes.Node)):
        problem = _forbidden(node, env)
        if problem:
            raise ForbiddenTag(problem, node.lineno)


def _forbidden(node: nodes.Node, env: jinja2.Environment) -> str:
    if not isinstance(node, _ALLOWED_NODES):
        kind = type(node).__name__
        return f"câu lệnh '{_STATEMENT_WORDS.get(kind, kind)}' không dùng được trong mẫu (chỉ for, if, set)"
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        return f"thuộc tính '{node.attr}' bắt đầu bằng '_'"
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) \
            and node.arg.value.startswith("_"):
        return f"thuộc tính '{node.arg.value}' bắt đầu bằng '_'"
    if isinstance(node, nodes.Name) and node.name.startswith("_"):
        return f"tên '{node.name}' bắt đầu bằng '_'"
    if isinstance(node, nodes.Filter) and node.name not in env.filters:
        return f"không có bộ lọc '{node.name}' (bộ lọc của chiso: {', '.join(OWN_FILTERS)})"
    if isinstance(node, nodes.Test) and node.name not in env.tests:
        return f"không có phép thử '{node.name}'"
    return ""


class _Environment(ImmutableSandboxedEnvironment):
    """The sandbox of one kind of document: Word (``word``: autoescape, values as escaped XML text) or Excel
    (values as plain text). Compiles each distinct template text once: the body of a Word template is the same
    text for every unit letter of a month, and compiling it costs more than rendering it."""

    def __init__(self, *, word: bool) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=word, keep_trailing_newline=True,
                         finalize=_word_value if word else _text_value)
        self.globals.clear()  # Jinja's range, dict, lipsum, cycler, joiner, namespace: not in docs/templates.md
        for name in DROPPED_FILTERS:
            self.filters.pop(name, None)
        self._compiled: dict[str, jinja2.Template] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        """Attributes (and methods) only of plain data: a picture (``Image``, docxtpl's ``InlineImage``) is an
        opaque value to place, never an object to explore (its path, its template, their methods)."""
        if not isinstance(obj, _ATTRIBUTE_TYPES) or isinstance(obj, Image | Path):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        check_tree(source, self)  # every template text and expression is compiled through here
        return super()._generate(source, name, filename, defer_init)

    def from_string(self, source: str | jinja2.nodes.Template, globals: Any = None,  # noqa: A002 (jinja's name)
                    template_class: Any = None) -> jinja2.Template:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        if source not in self._compiled:
            if len(self._compiled) > 200:
                self._compiled.clear()
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]


def share(nf: NumberFormat, count: float | None, pct: float | None, noun: str = "hồ sơ") -> str:
    """A count with its share as the seeds write it ("14 hồ sơ, chiếm 0,11%"), and "không có hồ sơ nào" for none:
    an official report never prints "0 hồ sơ, chiếm 0,00%"."""
    if not count:
        return f"không có {noun} nào"
    return f"{nf.integer(count)} {noun}, chiếm {nf.fixed(pct, 2)}%"


@functools.lru_cache(maxsize=16)
def environment(nf: NumberFormat, word: bool = False) -> jinja2.Environment:
    """The Jinja sandbox of documents in number format ``nf``, for Word (``word``) or Excel (one per format,
    kind and process)."""
    env = _Environment(word=word)
    env.filters["num"] = lambda v, places=2: nf.number(v, places)
    env.filters["fixed"] = lambda v, places=2: nf.fixed(v, places)
    env.filters["whole"] = lambda v: nf.integer(v)
    env.filters["pad2"] = lambda v: f"{int(v):02d}"
    env.filters["share"] = lambda count, pct, noun="hồ sơ": share(nf, count, pct, noun)
    env.globals["pct"] = lambda part, whole, places=2: nf.percent(part, whole, places)
    return env


# --------------------------------------------------------------------------------------------------------------
# Checking tags, and errors that name the tag

TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{\{(?:(?!\}\}).)*$|\{%(?:(?!%\}).)*$")
BLOCK = re.compile(r"^\{%-?\s*(?:tr|tc|p|r)?\s+(\w+)(.*?)-?%\}$|^\{%-?\s*(\w+)(.*?)-?%\}$", re.S)
OPENERS = {"for": "endfor", "if": "endif"}
MIDDLES = {"else": ("for", "if"), "elif": ("if",)}
LOOP_MARK = re.compile(r"^\s*\{%\s*for\s+(\w+)\s+in\s+(.+?)\s*%\}(.*)$", re.S)
SINGLE_EXPR = re.compile(r"^\s*\{\{(.*?)\}\}\s*$", re.S)
RENDER_ERRORS = (jinja2.TemplateError, TypeError, ValueError, ArithmeticError, LookupError)


def _parse_tag(env: jinja2.Environment, source: str, template: Path, where: str, tag: str) -> None:
    try:
        check_tree(env.parse(source), env)
    except ForbiddenTag as exc:
        raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' không được phép: {exc.message} "
                            "(mẫu chỉ đọc dữ liệu của văn bản, xem docs/templates.md)") from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' sai cú pháp ({exc.message})") from None


def _check_tags(tags: Iterable[tuple[str, str]], env: jinja2.Environment, template: Path) -> None:
    """Find the first broken or forbidden tag (``where``, ``tag``) so the error can name it: expressions that
    do not parse or ask for more than the sandbox allows, unknown statements, unbalanced for/if blocks, tags
    left open."""
    stack: list[tuple[str, str, str]] = []
    for where, tag in tags:
        if not (tag.endswith("}}") or tag.endswith("%}")):
            raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' chưa đóng")
        if tag.startswith("{{"):
            _parse_tag(env, tag, template, where, tag)
            continue
        m = BLOCK.match(tag)
        keyword = (m.group(1) or m.group(3)) if m else ""
        rest = ((m.group(2) if m.group(1) else m.group(4)) or "") if m else ""
        if keyword in OPENERS:
            _parse_tag(env, f"{{% {keyword}{rest} %}}{{% {OPENERS[keyword]} %}}", template, where, tag)
            stack.append((keyword, where, tag))
        elif keyword in MIDDLES:
            if not stack or stack[-1][0] not in MIDDLES[keyword]:
                raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' không nằm trong khối for/if")
            if keyword == "elif":
                _parse_tag(env, f"{{% if{rest} %}}{{% endif %}}", template, where, tag)
        elif keyword in OPENERS.values():
            if not stack or OPENERS[stack[-1][0]] != keyword:
                raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' không có thẻ mở tương ứng")
            stack.pop()
        elif keyword == "set":
            _parse_tag(env, f"{{% set{rest} %}}", template, where, tag)
        else:
            raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' không hợp lệ "
                                "(chỉ dùng for, if, elif, else, endfor, endif, set)")
    if stack:
        _, where, tag = stack[-1]
        raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' thiếu thẻ đóng "
                            f"{{% {OPENERS[stack[-1][0]]} %}}")


def _short(tag: str) -> str:
    tag = " ".join(tag.split())
    return tag if len(tag) <= 80 else tag[:77] + "..."


def _same(text: str) -> str:
    """Text of a tag as docxtpl sees it (typographic quotes made straight), spaces collapsed."""
    for curly, straight in (("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'")):
        text = text.replace(curly, straight)
    return " ".join(text.split())


def _name_in(exc: BaseException) -> str:
    m = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'|attribute '([^']+)'", str(exc))
    return next((g for g in m.groups() if g), "") if m else ""


def _template_line(exc: BaseException) -> int | None:
    """The line of the template text where rendering failed (Jinja puts template lines in the traceback)."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        return exc.lineno
    line = None
    tb: TracebackType | None = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _render_error(exc: BaseException, template: Path, tags: list[tuple[str, str]],
                  source: str | None = None, part: str = "") -> TemplateError:
    """A rendering failure as a :class:`TemplateError` naming the tag: the tag that uses the name in the error,
    else the tag on the template line that failed (``source``: the template text of a Word part), else the
    first of ``tags`` when they are one cell's."""
    name = _name_in(exc)
    if isinstance(exc, jinja2.UndefinedError) and not isinstance(exc, SecurityError):
        reason = f"dùng '{name}' không có trong dữ liệu của văn bản (xem docs/templates.md)"
    elif isinstance(exc, SecurityError | ForbiddenTag):
        what = exc.message if isinstance(exc, ForbiddenTag) else (f"truy cập '{name}'" if name else
                                                                    "thao tác không an toàn")
        reason = f"không được phép: {what} (mẫu chỉ đọc dữ liệu của văn bản, xem docs/templates.md)"
    elif isinstance(exc, jinja2.TemplateSyntaxError):
        reason = f"sai cú pháp ({exc.message})"
    else:
        reason = f"không điền được dữ liệu ({type(exc).__name__}: {exc})"
    found: tuple[str, str] | None = None
    if name:
        pattern = re.compile(rf"\b{re.escape(name)}\b" if re.fullmatch(r"\w+", name) else re.escape(name))
        found = next(((w, t) for w, t in tags if w.startswith(part) and pattern.search(t)), None)
    near = ""
    if found is None and source is not None and (line := _template_line(exc)) is not None:
        lines = source.splitlines()
        if 0 < line <= len(lines):
            text = _same(html.unescape(re.sub(r"<[^>]+>", "", lines[line - 1])))
            found = next(((w, t) for w, t in tags if w.startswith(part) and _same(t) in text), None)
            near = f"đoạn có nội dung '{_short(text)}': " if text else ""
    if found is None and tags and source is None:
        found = tags[0]
    if found is not None:
        where, tag = found
        return TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' {reason}")
    return TemplateError(f"mẫu {template}: {part + ': ' if part else ''}{near}{reason}")


# --- Word ---------------------------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


def _xml_text(paragraph: Any) -> str:
    return "".join(t.text or "" for t in paragraph.iter(f"{_W}t"))


def _docx_tags(path: Path) -> list[tuple[str, str]]:
    """Every tag of a Word template with where it is: the body, its tables, headers and footers by section, and
    then the paragraphs python-docx does not list but docxtpl renders (text boxes, content controls, other
    headers and footers, footnotes)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.oxml import parse_xml

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, PackageNotFoundError) as exc:
        raise TemplateError(f"mẫu {path}: không mở được tệp Word ({exc})") from None
    found: list[tuple[str, str]] = []
    seen: set[Any] = set()

    def paragraphs(container: Any, where: str) -> None:
        for i, p in enumerate(container.paragraphs, 1):
            seen.add(p._p)
            for tag in TAG.findall(p.text):
                found.append((f"{where} đoạn {i}", tag))
        for t, table in enumerate(getattr(container, "tables", []), 1):
            for r, row in enumerate(table.rows, 1):
                for c, cell in enumerate(row.cells, 1):
                    paragraphs(cell, f"{where} bảng {t} dòng {r} ô {c}")

    def others(element: Any, where: str) -> None:
        for i, p in enumerate(element.iter(f"{_W}p"), 1):
            if p not in seen:
                found.extend((f"{where} (khung chữ, ô nội dung) đoạn {i}", tag) for tag in TAG.findall(_xml_text(p)))

    paragraphs(document, "thân văn bản")
    for s, section in enumerate(document.sections, 1):
        paragraphs(section.header, f"đầu trang {s}")
        paragraphs(section.footer, f"chân trang {s}")
    others(document.element.body, "thân văn bản")
    for rel in document.part.rels.values():
        if rel.reltype.endswith("/header") or rel.reltype.endswith("/footer"):
            kind = "đầu trang" if rel.reltype.endswith("/header") else "chân trang"
            others(rel.target_part.element, f"{kind} ({rel.target_part.partname.rsplit('/', 1)[-1]})")
    for part in document.part.package.iter_parts():
        if part.content_type == _FOOTNOTES:
            others(parse_xml(part.blob), "chú thích")
    return found


def _part_label(partname: str) -> str:
    name = partname.rsplit("/", 1)[-1]
    if name.startswith("header"):
        return "đầu trang"
    if name.startswith("footer"):
        return "chân trang"
    if name.startswith("footnotes"):
        return "chú thích"
    return "thân văn bản"


_CHECKED: dict[tuple[str, int, int, bool], list[tuple[str, str]]] = {}


def _checked_tags(template: Path, gather: Any, env: jinja2.Environment) -> list[tuple[str, str]]:
    """The tags of a template, checked once per version of the file (path, size, modification time)."""
    st = template.stat()
    key = (str(template.resolve()), st.st_size, st.st_mtime_ns, bool(env.autoescape))
    if key not in _CHECKED:
        tags = gather(template, env)
        _check_tags(tags, env, template)
        _CHECKED[key] = tags
    return _CHECKED[key]


class _PartFailure(Exception):
    """Rendering one XML part of a Word template failed: the error, the part's template text and its name."""

    def __init__(self, error: Exception, source: str, partname: str) -> None:
        super().__init__(str(error))
        self.error, self.source, self.partname = error, source, partname


@functools.cache
def _docx_template_class() -> Any:
    from docxtpl import DocxTemplate

    patched: dict[str, str] = {}

    class Template(DocxTemplate):  # type: ignore[misc]
        """docxtpl's template whose XML clean-up (``patch_xml``: tags split across Word runs joined, ``{%tr``
        made into row loops) is done once per distinct part text, not once per letter; a part that fails to
        render says which text failed."""

        def patch_xml(self, src_xml: str) -> str:
            if src_xml not in patched:
                if len(patched) > 64:
                    patched.clear()
                patched[src_xml] = super().patch_xml(src_xml)
            return patched[src_xml]

        def render_xml_part(self, src_xml: str, part: Any, context: dict[str, Any], jinja_env: Any = None) -> str:
            try:
                return str(super().render_xml_part(src_xml, part, context, jinja_env))
            except RENDER_ERRORS as exc:  # as docxtpl splits it into lines before rendering
                source = re.sub(r"<w:p([ >])", r"\n<w:p\1", src_xml)
                raise _PartFailure(exc, source, str(getattr(part, "partname", ""))) from exc

    return Template


def render_docx(template: Path, context: dict[str, Any], out: Path, nf: NumberFormat) -> Path:
    """Fill a Word template (docxtpl: Jinja tags in the text, ``{%tr for %}`` for table rows) in the sandbox,
    every value escaped."""
    from docx.shared import Mm
    from docxtpl import InlineImage

    check_context(context)
    env = environment(nf, word=True)
    tags = _checked_tags(template, lambda path, _env: _docx_tags(path), env)
    tpl = _docx_template_class()(str(template))
    ctx = {k: (InlineImage(tpl, str(v.path), width=Mm(v.width_mm)) if isinstance(v, Image) else v)
           for k, v in context.items()}
    try:
        tpl.render(ctx, env, autoescape=True)
    except _PartFailure as failure:
        raise _render_error(failure.error, template, tags, failure.source, _part_label(failure.partname)) from None
    except jinja2.TemplateError as exc:  # document properties, rendered outside the parts
        raise _render_error(exc, template, tags, "", "thuộc tính tài liệu") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    tpl.save(str(out))
    return out


# --- Excel --------------------------------------------------------------------------------------------------------

def render_xlsx(template: Path, context: dict[str, Any], out: Path, nf: NumberFormat, *,
                drop: Collection[str] = ()) -> Path:
    """Fill an Excel template in the sandbox. A cell holding only ``{{ expr }}`` gets the value itself (numbers
    stay numbers and keep the cell's number format); other cells with tags are rendered as text; every string
    is a text cell (:func:`set_cell`). A row whose first tagged cell starts with ``{% for x in items %}`` is
    repeated once per item (its styles, height and merges below follow); an empty list removes the row. The
    office's own formulas (cells without tags) stay formulas. Each cell is rendered once. The sheets named in
    ``drop`` (an appendix with nothing to show) are removed, unless the template has no other sheet."""
    check_context(context)
    context = {k: v for k, v in context.items() if not isinstance(v, Image)}  # pictures go in Word letters only
    wb = _workbook(template)
    env = environment(nf)
    _checked_tags(template, lambda _path, _env: _xlsx_tags(wb, template, env), env)
    for title in drop:
        if title in wb.sheetnames and len(wb.sheetnames) > 1:
            del wb[title]
    for ws in wb.worksheets:
        loops: list[tuple[int, str, str, str]] = []
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and (m := LOOP_MARK.match(cell.value)):
                    loops.append((cell.row, cell.coordinate, m.group(1), m.group(2)))
                    break
        loop_rows = {r for r, *_ in loops}
        for row in ws.iter_rows():  # first the cells outside loops, so that no rendered value is rendered again
            if row and row[0].row in loop_rows:
                continue
            for cell in row:
                if isinstance(cell.value, str) and ("{{" in cell.value or "{%" in cell.value):
                    _fill_cell(cell, cell.value, context, env, template, f"trang '{ws.title}' ô {cell.coordinate}")
        for r, coordinate, var, expr in sorted(loops, reverse=True):
            try:
                items = list(env.compile_expression(expr)(**context) or [])
            except RENDER_ERRORS as exc:
                if isinstance(exc, TemplateError):
                    raise
                raise _render_error(exc, template, [(f"trang '{ws.title}' ô {coordinate}",
                                                     f"{{% for {var} in {expr} %}}")]) from None
            _repeat_row(ws, r, var, items, context, env, template)
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


def _workbook(template: Path) -> Any:
    """A fresh workbook of an Excel template, parsed for each document. (A parsed copy kept and unpickled per
    document was tried: openpyxl's row and column dimensions lose their defaults in a pickle, so a repeated row
    without a height of its own failed.)"""
    import openpyxl

    try:
        return openpyxl.load_workbook(template)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TemplateError(f"mẫu {template}: không mở được tệp Excel ({exc})") from None


def _fill_cell(cell: Any, text: str, context: dict[str, Any], env: jinja2.Environment, template: Path,
               where: str) -> None:
    try:
        set_cell(cell, _cell_value(text, context, env))
    except RENDER_ERRORS as exc:
        if isinstance(exc, TemplateError):
            raise
        raise _render_error(exc, template, [(where, t) for t in TAG.findall(text)] or [(where, text)]) from None


def _xlsx_tags(wb: Any, template: Path, env: jinja2.Environment) -> list[tuple[str, str]]:
    """Every tag of an Excel template, per sheet checked for balance; loop marks checked for syntax."""
    found: list[tuple[str, str]] = []
    for ws in wb.worksheets:
        tags: list[tuple[str, str]] = []
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and ("{{" in cell.value or "{%" in cell.value):
                    text = LOOP_MARK.sub(lambda m: m.group(3), cell.value)
                    where = f"trang '{ws.title}' ô {cell.coordinate}"
                    tags += [(where, t) for t in TAG.findall(text)]
                    if (m := LOOP_MARK.match(cell.value)) is not None:
                        mark = f"{{% for {m.group(1)} in {m.group(2)} %}}"
                        _parse_tag(env, f"{mark}{{% endfor %}}", template, where, mark)
        _check_tags(tags, env, template)
        found += tags
    return found


_COMPILED: dict[tuple[int, str], Any] = {}
PATH = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[\d+\])*$")
STEP = re.compile(r"^[A-Za-z_]\w*|\.[A-Za-z_]\w*|\[\d+\]")
_MISSING = object()


def _compiled(env: jinja2.Environment, text: str) -> Any:
    """Each distinct cell text is compiled once per environment (a repeated row has thousands of cells)."""
    key = (id(env), text)
    if key not in _COMPILED:
        if len(_COMPILED) > 10_000:
            _COMPILED.clear()
        m = SINGLE_EXPR.match(text)
        if m is not None and "{{" not in m.group(1):
            expr = m.group(1).strip()
            compiled = env.compile_expression(expr, undefined_to_none=False)  # checked by the sandbox
            if PATH.match(expr):
                steps = [(s[0] == "[", int(s[1:-1]) if s[0] == "[" else s.lstrip(".")) for s in STEP.findall(expr)]
                _COMPILED[key] = ("path", (steps, compiled))
            else:
                _COMPILED[key] = ("expr", compiled)
        else:
            _COMPILED[key] = ("text", env.from_string(text))
    return _COMPILED[key]


def _cell_value(text: str, context: dict[str, Any], env: jinja2.Environment) -> Any:
    kind, compiled = _compiled(env, text)
    if kind == "path":  # ``r.name``, ``r.groups[0]``: looked up as the sandbox does, without a template context
        steps, full = compiled
        value: Any = context.get(steps[0][1], _MISSING)
        for is_index, step in steps[1:]:
            if value is _MISSING or isinstance(value, jinja2.Undefined):
                break
            value = env.getitem(value, step) if is_index else env.getattr(value, step)
        if value is _MISSING or isinstance(value, jinja2.Undefined):
            kind, compiled = "expr", full  # let Jinja raise its error naming the variable
        else:
            return value
    if kind == "expr":
        value = compiled(**context)
        if isinstance(value, jinja2.Undefined):
            str(value)  # raises UndefinedError naming the variable (SecurityError for an unsafe attribute)
        return value
    return compiled.render(**context)


def _repeat_row(ws: Any, r: int, var: str, items: list[Any], context: dict[str, Any], env: jinja2.Environment,
                template: Path) -> None:
    from openpyxl.utils import get_column_letter

    width = ws.max_column
    prototype = [(ws.cell(r, c).value, ws.cell(r, c).data_type, copy.copy(ws.cell(r, c)._style))
                 for c in range(1, width + 1)]
    height = ws.row_dimensions[r].height
    extra = len(items) - 1
    merges_below = [m for m in ws.merged_cells.ranges if m.min_row > r]
    for m in merges_below:
        ws.merged_cells.remove(m)
    if extra > 0:
        ws.insert_rows(r + 1, extra)
    elif extra < 0:
        ws.delete_rows(r, 1)
    for m in merges_below:
        m.shift(0, extra)
        ws.merged_cells.add(m)
    for i, item in enumerate(items):
        row = r + i
        local = {**context, var: item, "loop": {"index": i + 1, "first": i == 0, "last": i == len(items) - 1}}
        if height is not None:
            ws.row_dimensions[row].height = height
        for c, (value, data_type, style) in enumerate(prototype, 1):
            cell = ws.cell(row, c)
            cell._style = copy.copy(style)
            if isinstance(value, str) and ("{{" in value or "{%" in value):
                _fill_cell(cell, LOOP_MARK.sub(lambda m: m.group(3), value), local, env, template,
                           f"trang '{ws.title}' ô {get_column_letter(c)}{r}")
            else:  # the template's own text, number or formula, as it was
                cell.value = value
                cell.data_type = data_type
