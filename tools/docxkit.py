"""Small python-docx helpers for building the shipped Word templates in the layout of Nghị định 30/2020/NĐ-CP:
A4, Times New Roman, margins top/bottom 20 mm, left 30 mm, right 15 mm; national motto and slogan at the top
right, issuing body at the top left, recipients and signature block at the end."""

from __future__ import annotations

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

FONT = "Times New Roman"
CENTER = WD_ALIGN_PARAGRAPH.CENTER
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY
LEFT = WD_ALIGN_PARAGRAPH.LEFT
RIGHT = WD_ALIGN_PARAGRAPH.RIGHT


def new_document(size: int = 14) -> Document:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.orientation = WD_ORIENT.PORTRAIT
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(size)
    rpr = style.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.append(fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    pf = style.paragraph_format
    pf.space_before, pf.space_after = Pt(0), Pt(6)
    pf.line_spacing = 1.15
    return doc


def para(container, text: str = "", *, bold: bool = False, italic: bool = False, size: float | None = None,
         align=JUSTIFY, indent: bool = False, after: float | None = None, underline: bool = False):
    """A paragraph; ``text`` may contain **bold** spans."""
    p = container.add_paragraph()
    p.alignment = align
    if indent:
        p.paragraph_format.first_line_indent = Mm(10)
    if after is not None:
        p.paragraph_format.space_after = Pt(after)
    parts = text.split("**")
    for i, part in enumerate(parts):
        if not part:
            continue
        run = p.add_run(part)
        run.bold = bold or i % 2 == 1
        run.italic = italic
        run.underline = underline
        if size:
            run.font.size = Pt(size)
    return p


def page_break(doc) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def no_borders(table) -> None:
    tbl = table._tbl
    props = tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    props.append(borders)


def cell_text(cell, text: str, *, bold: bool = False, italic: bool = False, size: float = 13, align=CENTER,
              first: bool = True):
    p = cell.paragraphs[0] if first and not cell.paragraphs[0].text else cell.add_paragraph()
    p.alignment = align
    p.paragraph_format.space_after = Pt(0)
    parts = text.split("**")
    for i, part in enumerate(parts):
        if part:
            run = p.add_run(part)
            run.bold = bold or i % 2 == 1
            run.italic = italic
            run.font.size = Pt(size)
    return p


def letterhead(doc, left: list[tuple[str, dict]], right: list[tuple[str, dict]]) -> None:
    """Two-column borderless heading: issuing body (left), motto and slogan (right)."""
    table = doc.add_table(rows=1, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    no_borders(table)
    table.autofit = False
    widths = (Mm(70), Mm(95))
    for col, w in zip(table.columns, widths, strict=True):
        col.width = w  # the grid LibreOffice reads: the motto stays on one line
        for c in col.cells:
            c.width = w
    for text, kw in left:
        cell_text(table.cell(0, 0), text, **kw)
    for text, kw in right:
        cell_text(table.cell(0, 1), text, **kw)


def grid(doc, headers: list[str], rows: list[list[str]], widths_mm: list[float], *, size: float = 12,
         bold_rows: tuple[int, ...] = (), aligns: list | None = None):
    """A bordered table: header row, then template rows (each a list of cell texts)."""
    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    for i, h in enumerate(headers):
        cell_text(table.cell(0, i), h, bold=True, size=size)
    for r, row in enumerate(rows, 1):
        for i, text in enumerate(row):
            align = (aligns[i] if aligns else CENTER) if len(row) > 1 else LEFT
            cell_text(table.cell(r, i), text, bold=(r - 1) in bold_rows, size=size, align=align)
    for i, w in enumerate(widths_mm):
        table.columns[i].width = Mm(w)  # the grid LibreOffice reads
        for c in table.columns[i].cells:
            c.width = Mm(w)
    repeat_header(table)
    return table


def two_columns(doc, left_mm: float, right_mm: float):
    """A borderless one-row table of two fixed-width cells (number line, signature block); returns the cells."""
    table = doc.add_table(rows=1, cols=2)
    no_borders(table)
    table.autofit = False
    for c, w in zip(table.columns, (Mm(left_mm), Mm(right_mm)), strict=True):
        c.width = w
        for cell in c.cells:
            cell.width = w
    return table.cell(0, 0), table.cell(0, 1)


def repeat_header(table) -> None:
    """Mark the table's first row as a header row: Word and LibreOffice repeat it on every page."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def signature(doc, recipients: list[str], title_lines: list[str], signer: str) -> None:
    left, right = two_columns(doc, 85, 80)
    cell_text(left, "Nơi nhận:", bold=True, italic=True, size=12, align=LEFT)
    for r in recipients:
        cell_text(left, r, size=11, align=LEFT, first=False)
    for line in title_lines:
        cell_text(right, line, bold=True, size=14, first=line == title_lines[0])
    for _ in range(4):
        cell_text(right, "", size=14, first=False)
    cell_text(right, signer, bold=True, size=14, first=False)


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
UNUSED_PARTS = ("word/stylesWithEffects.xml", "docProps/thumbnail.jpeg")


def save_slim(doc, path) -> None:
    """Save, then drop what python-docx's default template carries and the letters never use: the Word 2010
    duplicate of the styles (stylesWithEffects.xml), the thumbnail, the latent-style table and every style the
    document does not reference (directly or through basedOn/link/next/numbering). 850 kB of XML become
    ~30 kB, which every rendered letter parses and writes again: a letter renders twice as fast."""
    import re
    import zipfile

    from lxml import etree

    doc.save(str(path))
    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info.filename)) for info in z.infolist() if info.filename not in UNUSED_PARTS]
    parts = {info.filename: data for info, data in entries}
    referenced = set()
    for name, data in parts.items():
        if name.startswith("word/") and name.endswith(".xml") and name != "word/styles.xml":
            referenced |= {m.decode() for m in re.findall(
                rb'<w:(?:pStyle|rStyle|tblStyle|numStyleLink|styleLink) w:val="([^"]+)"', data)}
    styles = etree.fromstring(parts["word/styles.xml"])
    w = f"{{{W_NS}}}"
    by_id = {s.get(f"{w}styleId"): s for s in styles.findall(f"{w}style")}
    keep = referenced | {i for i, s in by_id.items() if s.get(f"{w}default") in ("1", "true")}
    todo = list(keep)
    while todo:
        style = by_id.get(todo.pop())
        if style is None:
            continue
        for tag in ("basedOn", "link", "next"):
            ref = style.find(f"{w}{tag}")
            if ref is not None and ref.get(f"{w}val") not in keep:
                keep.add(ref.get(f"{w}val"))
                todo.append(ref.get(f"{w}val"))
    for latent in styles.findall(f"{w}latentStyles"):
        styles.remove(latent)
    for i, style in by_id.items():
        if i not in keep:
            styles.remove(style)
    parts["word/styles.xml"] = etree.tostring(styles, xml_declaration=True, encoding="UTF-8", standalone=True)
    for rels in ("word/_rels/document.xml.rels", "_rels/.rels", "[Content_Types].xml"):
        parts[rels] = re.sub(rb'<(?:Relationship|Override)[^>]*(?:stylesWithEffects|thumbnail)[^>]*/>', b"",
                             parts[rels])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, _ in entries:
            z.writestr(info, parts[info.filename])
