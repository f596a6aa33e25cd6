"""Build the packaged Excel template of the administrative-reform statistics forms (Biểu mẫu 3 and 7):
``src/chiso/reports/templates/bieu-mau-cchc.xlsx``.

The rows come from :data:`chiso.reports.cchc.FORMS`, so the template and the code never disagree. The output is
byte-for-byte reproducible (fixed document dates and zip timestamps): run it again after changing a row and
commit the file.

    .venv/bin/python tools/build_cchc_template.py [OUTPUT]
"""

from __future__ import annotations

import re
import sys
import zipfile
from datetime import datetime
from io import BytesIO
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.worksheet.properties import PageSetupProperties

from chiso.reports.cchc import FORMS, FormDef

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "chiso" / "reports" / "templates" / "bieu-mau-cchc.xlsx"
FIXED_DATE = datetime(2025, 1, 1)
FONT = "Times New Roman"
TITLE = "BIỂU THỐNG KÊ SỐ LIỆU BÁO CÁO CẢI CÁCH HÀNH CHÍNH"
SUBTITLE = "{{ky_bao_cao}} CỦA ỦY BAN NHÂN DÂN {{tinh}}"
WINDOW = "(Số liệu tính từ ngày {{tu_ngay}} đến ngày {{den_ngay}})"
CRITERION = "Chỉ tiêu thống kê\n(Sử dụng trong kỳ báo cáo hàng quý, 6 tháng, năm)"
WIDTHS = {"A": 8, "B": 58, "C": 15, "D": 14, "E": 26}
HEADER_TOP = 7  # the two header rows: 7 and 8; form rows from 9


def _font(size: int = 12, bold: bool = False, italic: bool = False) -> Font:
    return Font(name=FONT, size=size, bold=bold, italic=italic)


def _sheet(wb: Workbook, form: FormDef) -> None:
    ws = wb.create_sheet(form.sheet)
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    for r, text, font in ((1, TITLE, _font(13, bold=True)), (2, SUBTITLE, _font(13, bold=True)),
                          (3, WINDOW, _font(12, italic=True)), (4, f"Biểu mẫu {form.form}", _font(12, bold=True)),
                          (5, form.title, _font(12, bold=True))):
        ws.cell(r, 1, text).font = font
        ws.cell(r, 1).alignment = center
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=5)

    top, sub = HEADER_TOP, HEADER_TOP + 1
    headers = {(top, 1): "STT", (top, 2): CRITERION, (top, 3): "Kết quả thống kê", (top, 5): "Ghi chú",
               (sub, 3): "Đơn vị tính", (sub, 4): "Số liệu"}
    for r in (top, sub):
        for c in range(1, 6):
            cell = ws.cell(r, c, headers.get((r, c)))
            cell.font, cell.alignment, cell.border = _font(bold=True), center, border
    for rng in (f"A{top}:A{sub}", f"B{top}:B{sub}", f"C{top}:D{top}", f"E{top}:E{sub}"):
        ws.merge_cells(rng)
    ws.row_dimensions[top].height = 20
    ws.row_dimensions[sub].height = 34

    for r, row in enumerate(form.rows, start=sub + 1):
        strong = row.source == "heading" or "." not in row.code
        values = (row.code, row.label, row.unit or None, None, None)
        for c, value in enumerate(values, start=1):
            cell = ws.cell(r, c, value)
            cell.font, cell.border = _font(bold=strong), border
            horizontal = "left" if c in (2, 5) else ("right" if c == 4 else "center")
            cell.alignment = Alignment(horizontal=horizontal, vertical="center", wrap_text=True)
            if c == 1:
                cell.number_format = "@"  # '1.1' stays text, never a number

    for letter, width in WIDTHS.items():
        ws.column_dimensions[letter].width = width
    ws.print_title_rows = f"{top}:{sub}"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.6
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.freeze_panes = f"A{sub + 1}"


def build(out: Path = DEFAULT_OUTPUT) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for form in FORMS.values():
        _sheet(wb, form)
    wb.properties.creator = "chiso"
    wb.properties.title = TITLE
    wb.properties.created = FIXED_DATE
    raw = BytesIO()
    wb.save(raw)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(_reproducible(raw.getvalue()))
    return out


def _reproducible(data: bytes) -> bytes:
    """The same workbook with fixed zip timestamps and a fixed modification date (openpyxl stamps 'now')."""
    stamp = FIXED_DATE.strftime("%Y-%m-%dT%H:%M:%SZ")
    src = zipfile.ZipFile(BytesIO(data))
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                                 rb"\g<1>" + stamp.encode() + rb"\g<2>", content)
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, content)
    return buf.getvalue()


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    print(build(target))
