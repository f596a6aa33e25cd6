"""Build the packaged Word template of the quarterly administrative-reform report (báo cáo kết quả thực hiện
công tác cải cách hành chính quý, seed ``003_…``): ``src/chiso/reports/templates/bao-cao-cchc-quy.docx``.

Sections I–V as in the seed; each section's paragraphs come from the context (``sec.I_1`` …: the office's text
from the input workbook, then the sentences chiso writes from the forms' figures); the appendix repeats the seven
forms (Biểu mẫu 1–7) as tables, from the same rows as the Excel forms. The sections and forms come from
:mod:`chiso.reports.cchc`, so the template and the code never disagree. Run it after changing the layout and
commit the file:

    .venv/bin/python tools/build_cchc_report.py [OUTPUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm

sys.path.insert(0, str(Path(__file__).parent))
from docxkit import (  # noqa: E402
    CENTER,
    LEFT,
    cell_text,
    grid,
    letterhead,
    new_document,
    page_break,
    para,
    save_slim,
    signature,
    two_columns,
)

from chiso.reports.cchc import FORMS, TEXT_SECTIONS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "src" / "chiso" / "reports" / "templates" / "bao-cao-cchc-quy.docx"
HEAD_LEFT = [("ỦY BAN NHÂN DÂN", {"bold": True, "size": 13}), ("TỈNH {{ province_upper }}", {"bold": True, "size": 13}),
             ("───────", {"size": 10})]
MOTTO = [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", {"bold": True, "size": 13}),
         ("Độc lập - Tự do - Hạnh phúc", {"bold": True, "size": 14}), ("───────────────", {"size": 10})]
RECIPIENTS = ["- Như trên;", "- Thường trực HĐND tỉnh;", "- Chủ tịch, các Phó Chủ tịch UBND tỉnh;",
              "- Văn phòng Tỉnh ủy;", "- Ban Tổ chức Tỉnh ủy;", "- MTTQ và các đoàn thể CT-XH tỉnh;",
              "- Các sở, ban, ngành;", "- {{ local_addressee }};", "- Lãnh đạo VP UBND tỉnh;",
              "- Trung tâm Thông tin tỉnh;", "- Lưu: VT, NC."]
ROMAN_TITLES = {
    "I": "CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH CẢI CÁCH HÀNH CHÍNH",
    "II": "KẾT QUẢ THỰC HIỆN CÔNG TÁC CCHC",
    "IV": "ĐÁNH GIÁ CHUNG",
    "V": "PHƯƠNG HƯỚNG, NHIỆM VỤ TRỌNG TÂM CCHC {{ next_quarter_upper }}",
}
SUBTITLES = {"IV.2": "2. Tồn tại, hạn chế và nguyên nhân"}
WIDTHS = [12, 80, 26, 24, 23]  # STT, chỉ tiêu, đơn vị tính, số liệu, ghi chú: 165 mm


def _loop(doc, key: str) -> None:
    para(doc, f"{{%p for t in sec.{key} %}}")
    para(doc, "{{ t }}", indent=True)
    para(doc, "{%p endfor %}")


def _section_headings(doc) -> None:
    done: set[str] = set()
    for code, title in TEXT_SECTIONS:
        parts = code.split(".")
        roman = parts[0]
        if roman == "IV" and "III" not in done:
            para(doc, "**III. KẾT QUẢ THỐNG KÊ SỐ LIỆU BÁO CÁO CẢI CÁCH HÀNH CHÍNH {{ period_upper }}** (có Biểu "
                      "mẫu 1, 2, 3, 4, 5, 6, 7 kèm theo).", indent=True)
            done.add("III")
        if roman not in done:
            para(doc, f"**{roman}. {ROMAN_TITLES[roman]}**", indent=True)
            done.add(roman)
        if len(parts) == 2:
            para(doc, f"**{parts[1]}. {title}**", indent=True)
        elif len(parts) == 3:
            parent = ".".join(parts[:2])
            if parent not in done:
                para(doc, f"**{SUBTITLES[parent]}**", indent=True)
                done.add(parent)
            para(doc, f"**{parts[2]}) {title}**", italic=True, indent=True)
        _loop(doc, code.replace(".", "_"))


def _repeat_header(table) -> None:
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    tr_pr.append(header)


def _forms_appendix(doc) -> None:
    page_break(doc)
    para(doc, "Phụ lục", bold=True, align=CENTER, after=0)
    para(doc, "BIỂU THỐNG KÊ SỐ LIỆU BÁO CÁO CẢI CÁCH HÀNH CHÍNH", bold=True, align=CENTER, after=0)
    para(doc, "{{ period_upper }} CỦA ỦY BAN NHÂN DÂN TỈNH {{ province_upper }}", bold=True, align=CENTER, after=0)
    para(doc, "(Số liệu tính từ ngày {{ window.first }} đến ngày {{ window.last }})", italic=True, align=CENTER)
    headers = ["STT", "Chỉ tiêu thống kê\n(Sử dụng trong kỳ báo cáo hàng quý, 6 tháng, năm)", "Đơn vị tính",
               "Số liệu", "Ghi chú"]
    for i, _form in enumerate(FORMS.values()):
        if i:
            page_break(doc)
        para(doc, f"{{{{ forms[{i}].name }}}}", bold=True, align=CENTER, after=0)
        para(doc, f"{{{{ forms[{i}].title }}}}", bold=True, align=CENTER)
        rows = [[f"{{%tr for r in forms[{i}].rows %}}"],
                ["{{ r.code }}", "{{ r.label }}", "{{ r.unit }}", "{{ r.value }}", "{{ r.note }}"],
                ["{%tr endfor %}"]]
        table = grid(doc, headers, rows, WIDTHS, size=11, aligns=[CENTER, LEFT, CENTER, CENTER, LEFT])
        _repeat_header(table)


def build(out: Path = DEFAULT_OUTPUT) -> Path:
    doc = new_document()
    letterhead(doc, HEAD_LEFT, MOTTO)
    for column, width in zip(doc.tables[0].columns, (Mm(60), Mm(105)), strict=True):
        column.width = width  # the grid LibreOffice reads: the motto stays on one line
        for cell in column.cells:
            cell.width = width
    left, right = two_columns(doc, 68, 97)
    cell_text(left, "Số:        /BC-UBND", size=13)
    cell_text(right, "{{ place }}, {{ letter_date }}", italic=True, size=14)
    para(doc, "")
    para(doc, "BÁO CÁO", bold=True, align=CENTER, after=0)
    para(doc, "Kết quả lãnh đạo, chỉ đạo thực hiện công tác cải cách hành chính {{ quarter }} và nhiệm vụ trọng tâm "
              "{{ next_quarter }}", bold=True, align=CENTER)
    para(doc, "Kính gửi:", align=CENTER, after=0)
    para(doc, "- Bộ Nội vụ;", align=CENTER, after=0)
    para(doc, "- Thường trực Tỉnh ủy.", align=CENTER)
    para(doc, "Thực hiện {{ cchc_basis }}, Ủy ban nhân dân tỉnh {{ province }} báo cáo kết quả thực hiện "
              "công tác cải cách hành chính (CCHC) {{ period.text }} và phương hướng, nhiệm vụ {{ next_quarter }} "
              "với những nội dung sau:", indent=True)
    _section_headings(doc)
    para(doc, "Ủy ban nhân dân tỉnh {{ province }} trân trọng báo cáo./.", indent=True)
    signature(doc, RECIPIENTS, ["TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"], "")
    _forms_appendix(doc)
    out.parent.mkdir(parents=True, exist_ok=True)
    save_slim(doc, out)
    return out


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUTPUT
    print(build(target))
