"""Templates (mẫu văn bản): every document is rendered from a Word or Excel template. The package ships
defaults in ``chiso/reports/templates``; a province copies them into ``<workspace>/templates`` (``chiso report
templates``), edits letterhead, signer, recipients and wording, and its copies win."""

from __future__ import annotations

import copy
import functools
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

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
# Rendering

TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{\{(?:(?!\}\}).)*$|\{%(?:(?!%\}).)*$")
BLOCK = re.compile(r"^\{%-?\s*(?:tr|tc|p|r)?\s+(\w+)(.*?)-?%\}$|^\{%-?\s*(\w+)(.*?)-?%\}$", re.S)
OPENERS = {"for": "endfor", "if": "endif"}
MIDDLES = {"else": ("for", "if"), "elif": ("if",)}
LOOP_MARK = re.compile(r"^\s*\{%\s*for\s+(\w+)\s+in\s+(.+?)\s*%\}(.*)$", re.S)
SINGLE_EXPR = re.compile(r"^\s*\{\{(.*?)\}\}\s*$", re.S)


@dataclass(frozen=True)
class Image:
    """A picture to place at a ``{{ name }}`` tag of a Word template (charts)."""

    path: Path
    width_mm: float = 160


class _Environment(jinja2.Environment):
    """Compiles each distinct template text once: the body of a Word template is the same text for every unit
    letter of a month, and compiling it costs more than rendering it."""

    def __init__(self) -> None:
        super().__init__(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)
        self._compiled: dict[str, jinja2.Template] = {}

    def from_string(self, source: str | jinja2.nodes.Template, globals: Any = None,  # noqa: A002 (jinja's name)
                    template_class: Any = None) -> jinja2.Template:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        if source not in self._compiled:
            if len(self._compiled) > 200:
                self._compiled.clear()
            self._compiled[source] = super().from_string(source)
        return self._compiled[source]


@functools.lru_cache(maxsize=8)
def environment(nf: NumberFormat) -> jinja2.Environment:
    """The Jinja environment of documents in number format ``nf`` (one per format and process)."""
    env = _Environment()
    env.filters["num"] = lambda v, places=2: nf.number(v, places)
    env.filters["fixed"] = lambda v, places=2: nf.fixed(v, places)
    env.filters["whole"] = lambda v: nf.integer(v)
    env.filters["pad2"] = lambda v: f"{int(v):02d}"
    env.globals["pct"] = lambda part, whole, places=2: nf.percent(part, whole, places)
    return env


def _check_tags(tags: Iterable[tuple[str, str]], env: jinja2.Environment, template: Path) -> None:
    """Find the first broken tag (``where``, ``tag``) so the error can name it: expressions that do not
    parse, unknown statements, unbalanced for/if blocks, tags left open."""
    stack: list[tuple[str, str, str]] = []
    for where, tag in tags:
        if not (tag.endswith("}}") or tag.endswith("%}")):
            raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' chưa đóng")
        if tag.startswith("{{"):
            try:
                env.parse(tag)
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' sai cú pháp ({exc.message})"
                                    ) from None
            continue
        m = BLOCK.match(tag)
        keyword = (m.group(1) or m.group(3)) if m else ""
        rest = ((m.group(2) if m.group(1) else m.group(4)) or "") if m else ""
        if keyword in OPENERS:
            try:
                env.parse(f"{{% {keyword}{rest} %}}{{% {OPENERS[keyword]} %}}")
            except jinja2.TemplateSyntaxError as exc:
                raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' sai cú pháp ({exc.message})"
                                    ) from None
            stack.append((keyword, where, tag))
        elif keyword in MIDDLES:
            if not stack or stack[-1][0] not in MIDDLES[keyword]:
                raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' không nằm trong khối for/if")
        elif keyword in OPENERS.values():
            if not stack or OPENERS[stack[-1][0]] != keyword:
                raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' không có thẻ mở tương ứng")
            stack.pop()
        elif keyword != "set":
            raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' không hợp lệ "
                                "(chỉ dùng for, if, elif, else, endfor, endif, set)")
    if stack:
        _, where, tag = stack[-1]
        raise TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' thiếu thẻ đóng "
                            f"{{% {OPENERS[stack[-1][0]]} %}}")


def _short(tag: str) -> str:
    tag = " ".join(tag.split())
    return tag if len(tag) <= 80 else tag[:77] + "..."


def _undefined(exc: jinja2.UndefinedError, tags: Iterable[tuple[str, str]], template: Path) -> TemplateError:
    m = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", str(exc))
    name = (m.group(1) or m.group(2)) if m else ""
    for where, tag in tags:
        if name and re.search(rf"\b{re.escape(name)}\b", tag):
            return TemplateError(f"mẫu {template}: {where}: thẻ '{_short(tag)}' dùng '{name}' không có trong dữ liệu "
                                 "của văn bản (xem docs/templates.md)")
    return TemplateError(f"mẫu {template}: '{name or exc}' không có trong dữ liệu của văn bản (xem docs/templates.md)")


# --- Word ---------------------------------------------------------------------------------------------------------

def _docx_tags(path: Path) -> list[tuple[str, str]]:
    import docx

    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise TemplateError(f"mẫu {path}: không mở được tệp Word ({exc})") from None
    found: list[tuple[str, str]] = []

    def paragraphs(container: Any, where: str) -> None:
        for i, p in enumerate(container.paragraphs, 1):
            for tag in TAG.findall(p.text):
                found.append((f"{where} đoạn {i}", tag))
        for t, table in enumerate(getattr(container, "tables", []), 1):
            for r, row in enumerate(table.rows, 1):
                for c, cell in enumerate(row.cells, 1):
                    paragraphs(cell, f"{where} bảng {t} dòng {r} ô {c}")

    paragraphs(document, "thân văn bản")
    for s, section in enumerate(document.sections, 1):
        paragraphs(section.header, f"đầu trang {s}")
        paragraphs(section.footer, f"chân trang {s}")
    return found


_CHECKED: dict[tuple[str, int, int], list[tuple[str, str]]] = {}


def _checked_tags(template: Path, gather: Any, env: jinja2.Environment) -> list[tuple[str, str]]:
    """The tags of a template, checked once per version of the file (path, size, modification time)."""
    st = template.stat()
    key = (str(template.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _CHECKED:
        tags = gather(template, env)
        _check_tags(tags, env, template)
        _CHECKED[key] = tags
    return _CHECKED[key]


@functools.cache
def _docx_template_class() -> Any:
    from docxtpl import DocxTemplate

    patched: dict[str, str] = {}

    class Template(DocxTemplate):  # type: ignore[misc]
        """docxtpl's template whose XML clean-up (``patch_xml``: tags split across Word runs joined, ``{%tr``
        made into row loops) is done once per distinct part text, not once per letter."""

        def patch_xml(self, src_xml: str) -> str:
            if src_xml not in patched:
                if len(patched) > 64:
                    patched.clear()
                patched[src_xml] = super().patch_xml(src_xml)
            return patched[src_xml]

    return Template


def render_docx(template: Path, context: dict[str, Any], out: Path, nf: NumberFormat) -> Path:
    """Fill a Word template (docxtpl: Jinja tags in the text, ``{%tr for %}`` for table rows)."""
    from docx.shared import Mm
    from docxtpl import InlineImage

    env = environment(nf)
    tags = _checked_tags(template, lambda path, _env: _docx_tags(path), env)
    tpl = _docx_template_class()(str(template))
    ctx = {k: (InlineImage(tpl, str(v.path), width=Mm(v.width_mm)) if isinstance(v, Image) else v)
           for k, v in context.items()}
    try:
        tpl.render(ctx, env)
    except jinja2.UndefinedError as exc:
        raise _undefined(exc, tags, template) from None
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"mẫu {template}: dòng {exc.lineno}: {exc.message}") from None
    out.parent.mkdir(parents=True, exist_ok=True)
    tpl.save(str(out))
    return out


# --- Excel --------------------------------------------------------------------------------------------------------

def render_xlsx(template: Path, context: dict[str, Any], out: Path, nf: NumberFormat) -> Path:
    """Fill an Excel template. A cell holding only ``{{ expr }}`` gets the value itself (numbers stay numbers
    and keep the cell's number format); other cells with tags are rendered as text. A row whose first tagged
    cell starts with ``{% for x in items %}`` is repeated once per item (its styles, height and merges below
    follow); an empty list removes the row."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(template)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TemplateError(f"mẫu {template}: không mở được tệp Excel ({exc})") from None
    env = environment(nf)
    all_tags = _checked_tags(template, lambda _path, _env: _xlsx_tags(wb, template, env), env)
    for ws in wb.worksheets:
        prefix = f"trang '{ws.title}' "
        tags = [t for t in all_tags if t[0].startswith(prefix)]
        loops = []
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and (m := LOOP_MARK.match(cell.value)):
                    loops.append((cell.row, m.group(1), m.group(2)))
                    break
        try:
            for r, var, expr in sorted(loops, reverse=True):
                items = list(env.compile_expression(expr)(**context) or [])
                _repeat_row(ws, r, var, items, context, env)
            for row in ws.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and ("{{" in cell.value or "{%" in cell.value):
                        cell.value = _cell_value(cell.value, context, env)
        except jinja2.UndefinedError as exc:
            raise _undefined(exc, tags, template) from None
    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out


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
                        try:
                            env.parse(f"{{% for {m.group(1)} in {m.group(2)} %}}{{% endfor %}}")
                        except jinja2.TemplateSyntaxError as exc:
                            raise TemplateError(f"mẫu {template}: {where}: thẻ vòng lặp sai cú pháp ({exc.message})"
                                                ) from None
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
            compiled = env.compile_expression(expr, undefined_to_none=False)
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
    if kind == "path":  # ``r.name``, ``r.groups[0]``: looked up as Jinja does, without a template context
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
            str(value)  # raises UndefinedError naming the variable
        return value
    return compiled.render(**context)


def _repeat_row(ws: Any, r: int, var: str, items: list[Any], context: dict[str, Any], env: jinja2.Environment
                ) -> None:
    width = ws.max_column
    prototype = [(ws.cell(r, c).value, copy.copy(ws.cell(r, c)._style)) for c in range(1, width + 1)]
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
        for c, (value, style) in enumerate(prototype, 1):
            cell = ws.cell(row, c)
            cell._style = copy.copy(style)
            if isinstance(value, str):
                value = LOOP_MARK.sub(lambda m: m.group(3), value)
                cell.value = _cell_value(value, local, env) if ("{{" in value or "{%" in value) else value
            else:
                cell.value = value
