"""Builds the Word and Excel templates shipped in ``src/chiso/reports/templates`` (run it after changing the
layout: ``.venv/bin/python tools/build_templates.py``). The committed files are what users copy and edit;
tests check that they still carry every tag the documents need."""

from __future__ import annotations

import sys
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

sys.path.insert(0, str(Path(__file__).parent))
from docxkit import (  # noqa: E402
    CENTER,
    LEFT,
    grid,
    letterhead,
    new_document,
    page_break,
    para,
    save_slim,
    signature,
)

OUT = Path(__file__).resolve().parents[1] / "src" / "chiso" / "reports" / "templates"
B = {"bold": True}
# The letters and reports of the provincial office abbreviate as the published ones do (seed 002: "UBND TỈNH SƠN
# LA"), so that the issuing body stays on one line beside the motto.
HEAD_LEFT_SHORT = [("UBND TỈNH {{ province_upper }}", {"size": 13}), ("VĂN PHÒNG", {"bold": True, "size": 13}),
                   ("───────", {"size": 10})]
MOTTO = [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", {"bold": True, "size": 12}),  # Nghị định 30: 12–13, one line
         ("Độc lập - Tự do - Hạnh phúc", {"bold": True, "size": 14}), ("───────────────", {"size": 10})]


def number_line(doc, symbol: str, summary: str | None) -> None:
    from docxkit import cell_text, two_columns

    left, right = two_columns(doc, 68, 97)
    cell_text(left, f"Số:        /{symbol}", size=13)
    if summary:
        cell_text(left, summary, size=12, first=False)
    cell_text(right, "{{ place }}, {{ letter_date }}", italic=True, size=14)


RECIPIENTS = ["- Như trên;", "- Văn phòng Chính phủ (b/c);", "- CT, các PCT UBND tỉnh (b/c);", "- LĐ VPUBND tỉnh;",
              "- Các phòng nội dung VPUBND tỉnh;", "- TT PVHCC;", "- TT Thông tin;", "- Lưu: VT, TTPVHCC."]


def implementing_and_basis(doc) -> None:
    """The monthly letters' opening: the Government Office's instruction, then the start of the basis (the
    portal when its result was imported, else the province's system; the caller writes both branches)."""
    para(doc, "Thực hiện Công văn số 4660/VPCP-KSTT ngày 26/7/2022 của Văn phòng Chính phủ về việc triển khai "
              "Quyết định số 766/QĐ-TTg ngày 23/6/2022 của Thủ tướng Chính phủ.", indent=True)
    para(doc, "{%p if basis_portal %}")


def missing_and_groups(doc) -> None:
    """After the total: the inputs never entered (the total is provisional) and all six groups, as seed 002."""
    para(doc, "{%p if missing_inputs %}")
    para(doc, "(Điểm tạm tính: chưa có số liệu {{ missing_text }}; các chỉ số này đang được tính 0 điểm.)",
         italic=True, indent=True)
    para(doc, "{%p endif %}")
    para(doc, "Một số tiêu chí đạt kết quả như sau:", indent=True)
    para(doc, "{%p for g in headline_groups %}")
    para(doc, "- {{ g.name }} đạt: {{ g.score|fixed }}/{{ g.max|num(0) }} điểm{% if g.provisional %} (tạm tính)"
              "{% endif %}{{ ';' if not loop.last else '.' }}", indent=True)
    para(doc, "{%p endfor %}")


def monthly_letter() -> None:
    doc = new_document()
    letterhead(doc, HEAD_LEFT_SHORT, MOTTO)
    number_line(doc, "VPUB-TTPVHCC", "V/v công khai kết quả Bộ chỉ số phục vụ người dân, doanh nghiệp "
                                     "tháng {{ period.mm_yyyy }}")
    para(doc, "")
    para(doc, "Kính gửi:", align=CENTER)
    para(doc, "- Các sở, ban, ngành tỉnh;", align=CENTER, after=0)
    para(doc, "- {{ local_addressee }}.", align=CENTER)
    implementing_and_basis(doc)
    para(doc, "Căn cứ kết quả trên Cổng Dịch vụ công quốc gia (https://dichvucong.gov.vn), tại mục “Kết quả đánh giá "
              "Bộ chỉ số phục vụ người dân và doanh nghiệp của bộ, ngành, địa phương”. Văn phòng UBND tỉnh công bố "
              "kết quả Bộ chỉ số phục vụ người dân và doanh nghiệp trong tháng {{ period.month }} năm "
              "{{ period.year }} của tỉnh như sau:", indent=True)
    para(doc, "{%p else %}")
    para(doc, "Căn cứ kết quả tính Bộ chỉ số phục vụ người dân, doanh nghiệp từ dữ liệu trên Hệ thống thông tin giải "
              "quyết thủ tục hành chính của tỉnh, Văn phòng UBND tỉnh công bố kết quả Bộ chỉ số phục vụ người dân và "
              "doanh nghiệp trong tháng {{ period.month }} năm {{ period.year }} của tỉnh như sau:", indent=True)
    para(doc, "{%p endif %}")
    para(doc, "**1. Tổng số điểm {{ province }} đạt: {{ headline_total|fixed }}/100 điểm"
              "{% if headline_provisional %} (tạm tính){% endif %}, xếp hạng {{ national_rank }} tỉnh, thành "
              "phố**{{ change_text }} (Số liệu tại thời điểm {{ as_of_text }}. Số liệu này có thể thay đổi theo "
              "thời gian)", indent=True)
    missing_and_groups(doc)
    para(doc, "{{ chart_groups }}", align=CENTER)
    para(doc, "{%p if chart_trend %}")
    para(doc, "{{ chart_trend }}", align=CENTER)
    para(doc, "{%p endif %}")
    para(doc, "(Có Phụ lục 1 một số tiêu chí thành phần kèm theo)", italic=True, indent=True)
    para(doc, "**2. Các cơ quan, đơn vị có hồ sơ giải quyết TTHC quá hạn tháng {{ period.mm_yyyy }}**", indent=True)
    para(doc, "- Trong tháng {{ period.month }}/{{ period.year }}, toàn tỉnh {{ province }} "
              "{% if overdue.total %}có {{ overdue.total|whole }} hồ sơ quá hạn tại {{ overdue.units|pad2 }} cơ quan, "
              "đơn vị (Trong đó, gồm {{ overdue.breakdown }}).{% else %}không có hồ sơ quá hạn.{% endif %}",
         indent=True)
    para(doc, "{%p if overdue.total %}")
    para(doc, "- Đề nghị các cơ quan, đơn vị có hồ sơ quá hạn rà soát, có báo cáo giải trình rõ nguyên nhân giải quyết "
              "quá hạn gửi về Văn phòng UBND tỉnh **trước ngày {{ explanation_deadline }}** để tổng hợp, báo cáo "
              "Chủ tịch UBND tỉnh theo quy định, bảo đảm 100% hồ sơ thủ tục hành chính để chậm, muộn đều phải có "
              "báo cáo giải trình lý do với người đứng đầu cơ quan, đơn vị và thực hiện xin lỗi người dân, doanh "
              "nghiệp theo đúng yêu cầu của Chính phủ tại mục II.2 Nghị quyết số 131/NQ-CP ngày 06/10/2022."
              "{% if overdue.tracked %} Đến nay còn {{ overdue.explanation_missing|whole }} hồ sơ chưa có báo cáo "
              "giải trình và {{ overdue.apology_missing|whole }} hồ sơ chưa có thư xin lỗi.{% endif %}",
         indent=True)
    para(doc, "(Thống kê hồ sơ xử lý quá hạn tháng {{ period.mm_yyyy }} tại Phụ lục 1)", italic=True, indent=True)
    para(doc, "{%p endif %}")
    para(doc, "**3. Kết quả đánh giá Bộ chỉ số phục vụ người dân, doanh nghiệp của các sở, ban, ngành; "
              "{{ local_title }}**", indent=True)
    para(doc, "(Có Phụ lục 2 kèm theo)", italic=True, indent=True)
    para(doc, "{{ chart_ranking }}", align=CENTER)
    para(doc, "{{ chart_ranking_local }}", align=CENTER)
    para(doc, "Văn phòng UBND tỉnh công khai kết quả trên đến các cơ quan, đơn vị, địa phương biết để phát huy những "
              "điểm tốt và khắc phục những tiêu chí đạt tỷ lệ thấp./.", indent=True)
    signature(doc, ["{%p for r in recipients %}", "- {{ r }}", "{%p endfor %}"],
              ["{%p if signer_above %}", "{{ signer_above }}", "{%p endif %}", "{{ signer_title }}"],
              "{{ signer_name }}")

    page_break(doc)
    para(doc, "Phụ lục 1", bold=True, align=CENTER, after=0)
    para(doc, "THỐNG KÊ HỒ SƠ XỬ LÝ QUÁ HẠN VÀ MỘT SỐ TIÊU CHÍ THÀNH PHẦN TRONG BỘ CHỈ SỐ PHỤC VỤ NGƯỜI DÂN, "
              "DOANH NGHIỆP THÁNG {{ period.mm_yyyy }}", bold=True, align=CENTER, after=0)
    para(doc, "(Kèm theo Công văn số:        /VPUB-TTPVHCC {{ letter_date }} của Văn phòng UBND tỉnh)",
         italic=True, align=CENTER)
    para(doc, "1. Thống kê hồ sơ xử lý quá hạn", bold=True)
    grid(doc, ["TT", "Tên cơ quan, đơn vị", "Đã giải quyết quá hạn", "Đang xử lý quá hạn", "Tổng số"],
         [["{%tr for g in overdue.groups %}"],
          ["{{ g.roman }}", "{{ g.title }}", "", "", "{{ g.total|whole }}"],
          ["{%tr for r in g.rows %}"],
          ["{{ loop.index }}", "{{ r.name }}", "{{ r.resolved_late|whole }}", "{{ r.open_late|whole }}",
           "{{ r.total|whole }}"],
          ["{%tr endfor %}"], ["{%tr endfor %}"]],
         [12, 78, 25, 25, 25], bold_rows=(1,), aligns=[CENTER, LEFT, CENTER, CENTER, CENTER])
    para(doc, "")
    para(doc, "2. Một số tiêu chí thành phần", bold=True)
    grid(doc, ["STT", "Tên đơn vị", "Tổng số hồ sơ xử lý quá hạn", "Tỷ lệ hồ sơ nộp trực tuyến (%)",
               "Mức độ hài lòng (%)", "Hồ sơ đồng bộ DVCQG (%)", "Hồ sơ số hóa (%)"],
         [["{%tr for r in criteria_rows %}"],
          ["{{ loop.index }}", "{{ r.name }}", "{{ r.overdue|whole }}", "{{ r.online_pct|num(1) }}",
           "{{ r.satisfied_pct|num(1) }}", "{{ r.synced_pct|num(1) }}", "{{ r.digitized_pct|num(1) }}"],
          ["{%tr endfor %}"]],
         [11, 56, 20, 20, 19, 19, 20], size=11, aligns=[CENTER, LEFT] + [CENTER] * 5)

    page_break(doc)
    para(doc, "Phụ lục 2", bold=True, align=CENTER, after=0)
    para(doc, "KẾT QUẢ ĐÁNH GIÁ BỘ CHỈ SỐ PHỤC VỤ NGƯỜI DÂN, DOANH NGHIỆP CỦA CÁC SỞ, BAN, NGÀNH; "
              "{{ local_title|upper }} THÁNG {{ period.mm_yyyy }}", bold=True, align=CENTER, after=0)
    para(doc, "(Kèm theo Công văn số:        /VPUB-TTPVHCC {{ letter_date }} của Văn phòng UBND tỉnh)",
         italic=True, align=CENTER)
    grid(doc, ["TT", "Tên cơ quan, đơn vị", "Điểm", "Xếp hạng", "Xếp loại"],
         [["{%tr for g in ranking %}"],
          ["{{ g.roman }}", "{{ g.title }}", "", "", ""],
          ["{%tr for r in g.rows %}"],
          ["{{ loop.index }}", "{{ r.name }}", "{{ r.total|fixed }}", "{{ r.rank }}", "{{ r.classification }}"],
          ["{%tr endfor %}"], ["{%tr endfor %}"]],
         [13, 92, 22, 18, 25], bold_rows=(1,), aligns=[CENTER, LEFT, CENTER, CENTER, CENTER])
    save_slim(doc, OUT / "cong-van-thang.docx")


def unit_letter() -> None:
    doc = new_document()
    letterhead(doc, HEAD_LEFT_SHORT, MOTTO)
    number_line(doc, "VPUB-TTPVHCC", "V/v kết quả Bộ chỉ số phục vụ người dân, doanh nghiệp tháng "
                                     "{{ period.mm_yyyy }} của {{ unit.name }}")
    para(doc, "")
    para(doc, "Kính gửi: {{ unit.name }}.", align=CENTER)
    para(doc, "Căn cứ kết quả tính Bộ chỉ số phục vụ người dân, doanh nghiệp từ dữ liệu trên Hệ thống thông tin giải "
              "quyết thủ tục hành chính của tỉnh, Văn phòng UBND tỉnh thông báo kết quả tháng {{ period.month }} năm "
              "{{ period.year }} của {{ unit.name }} như sau:", indent=True)
    para(doc, "**1. Tổng số điểm đạt: {{ unit.total|fixed }}/100 điểm, xếp hạng {{ unit.rank }}/{{ unit.peers }} "
              "{{ unit.peers_label }}, xếp loại {{ unit.classification }}**{% if unit.change is not none %} "
              "({{ unit.change_text }} so với tháng {{ previous.mm_yyyy }}){% endif %}. (Số liệu tại thời điểm "
              "{{ as_of_text }})", indent=True)
    para(doc, "{{ chart_unit_groups }}", align=CENTER)
    para(doc, "Chi tiết từng chỉ số thành phần (tử số, mẫu số, tỷ lệ, điểm):", indent=True)
    grid(doc, ["TT", "Chỉ số", "Tử số", "Mẫu số", "Tỷ lệ (%)", "Điểm", "Tối đa", "Thay đổi"],
         [["{%tr for g in groups %}"],
          ["{{ g.roman }}", "{{ g.name }}", "", "", "", "{{ g.score|fixed }}", "{{ g.max|num(0) }}",
           "{{ g.change_text }}"],
          ["{%tr for i in g.indicators %}"],
          ["{{ loop.index }}", "{{ i.name }}{{ ' (chưa có số liệu)' if i.missing else (' (tạm tính)' if "
           "i.provisional else '') }}",
           "{{ i.numerator|whole }}", "{{ i.denominator|whole }}", "{{ i.ratio_pct|num }}", "{{ i.score|fixed }}",
           "{{ i.max|num(0) }}", "{{ i.change_text }}"],
          ["{%tr endfor %}"], ["{%tr endfor %}"]],
         [10, 62, 17, 17, 16, 14, 14, 15], size=10, bold_rows=(1,),
         aligns=[CENTER, LEFT] + [CENTER] * 6)
    para(doc, "")
    para(doc, "**2. Hồ sơ giải quyết quá hạn:** {% if overdue.total %}trong tháng có {{ overdue.sentence }} (danh sách "
              "tại phụ lục Excel kèm theo). Đề nghị rà soát, báo cáo giải trình và thực hiện xin lỗi người dân, doanh "
              "nghiệp trước ngày {{ explanation_deadline }}{% if overdue.tracked and (overdue.explanation_missing or "
              "overdue.apology_missing) %}; đến nay còn {{ overdue.explanation_missing|whole }} hồ sơ chưa có báo "
              "cáo giải trình và {{ overdue.apology_missing|whole }} hồ sơ chưa có thư xin lỗi{% endif %}."
              "{% else %}không có hồ sơ quá hạn.{% endif %}",
         indent=True)
    para(doc, "{%p if actions %}")
    para(doc, "**3. Việc cần làm để tăng điểm:**", indent=True)
    para(doc, "{%p for a in actions %}")
    para(doc, "- {{ a }}{{ ';' if not loop.last else '.' }}", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "{%p endif %}")
    para(doc, "{%p if children %}")  # the heading and the table only when the unit has units below it
    para(doc, "**{{ 4 if actions else 3 }}. Xếp hạng các đơn vị trực thuộc**", indent=True)
    grid(doc, ["TT", "Đơn vị", "Điểm", "Xếp hạng", "Xếp loại"],
         [["{%tr for r in children %}"],
          ["{{ loop.index }}", "{{ r.name }}", "{{ r.total|fixed }}", "{{ r.rank }}", "{{ r.classification }}"],
          ["{%tr endfor %}"]],
         [13, 92, 22, 18, 25], aligns=[CENTER, LEFT, CENTER, CENTER, CENTER])
    para(doc, "{%p endif %}")
    para(doc, "Văn phòng UBND tỉnh thông báo để {{ unit.name }} biết, phát huy những điểm tốt và khắc phục những "
              "tiêu chí đạt tỷ lệ thấp./.", indent=True)
    signature(doc, ["- Như trên;", "- LĐ VPUBND tỉnh;", "- Lưu: VT, TTPVHCC."],
              ["{%p if signer_above %}", "{{ signer_above }}", "{%p endif %}", "{{ signer_title }}"],
              "{{ signer_name }}")
    save_slim(doc, OUT / "cong-van-don-vi.docx")


def district_letter() -> None:
    """A district's monthly letter (before 1/7/2025): UBND huyện to its offices and communes, signed "TL. CHỦ TỊCH /
    CHÁNH VĂN PHÒNG" by default, the communes' ranking in the appendix (its header row repeated on every page)."""
    doc = new_document()
    # Signed "TL. CHỦ TỊCH": the letter is the district committee's own (Nghị định 30/2020), so the committee is the
    # issuing body and the symbol is UBND-VP (drafted by its office).
    letterhead(doc, [("ỦY BAN NHÂN DÂN", {"bold": True, "size": 13}),
                     ("{{ district.title_upper }}", {"bold": True, "size": 13}), ("───────", {"size": 10})], MOTTO)
    number_line(doc, "UBND-VP", "V/v công khai kết quả Bộ chỉ số phục vụ người dân, doanh nghiệp "
                                "tháng {{ period.mm_yyyy }}")
    para(doc, "")
    para(doc, "Kính gửi:", align=CENTER)
    para(doc, "- {{ offices_addressee }};", align=CENTER, after=0)
    para(doc, "- {{ communes_addressee }}.", align=CENTER)
    implementing_and_basis(doc)
    para(doc, "Căn cứ kết quả trên Cổng Dịch vụ công quốc gia (https://dichvucong.gov.vn), tại mục “Kết quả đánh giá "
              "Bộ chỉ số phục vụ người dân và doanh nghiệp của bộ, ngành, địa phương”, UBND {{ district.title }} "
              "công khai kết quả Bộ chỉ số phục vụ người dân và doanh nghiệp trong tháng {{ period.month }} năm "
              "{{ period.year }} của {{ district.kind }} như sau:", indent=True)
    para(doc, "{%p else %}")
    para(doc, "Căn cứ kết quả tính Bộ chỉ số phục vụ người dân, doanh nghiệp từ dữ liệu trên Hệ thống thông tin giải "
              "quyết thủ tục hành chính của tỉnh, UBND {{ district.title }} công khai kết quả Bộ chỉ số phục vụ người "
              "dân và doanh nghiệp trong tháng {{ period.month }} năm {{ period.year }} của {{ district.kind }} như "
              "sau:", indent=True)
    para(doc, "{%p endif %}")
    para(doc, "**1. Tổng số điểm {{ district.title }} đạt: {{ headline_total|fixed }}/100 điểm"
              "{% if headline_provisional %} (tạm tính){% endif %}, xếp hạng {{ district_rank }} huyện, thành phố"
              "{% if district.province_title %} của {{ district.province_title }}{% endif %}**{{ change_text }} "
              "(Số liệu tại thời điểm {{ as_of_text }}. Số liệu này có thể thay đổi theo thời gian)", indent=True)
    missing_and_groups(doc)
    para(doc, "**2. Hồ sơ giải quyết thủ tục hành chính quá hạn tháng {{ period.mm_yyyy }}**", indent=True)
    para(doc, "- Trong tháng {{ period.month }}/{{ period.year }}, toàn {{ district.kind }} "
              "{% if overdue_total %}có {{ overdue_total|whole }} hồ sơ quá hạn. Đề nghị các cơ quan, đơn vị có hồ sơ "
              "quá hạn rà soát, báo cáo giải trình rõ nguyên nhân và thực hiện xin lỗi người dân, doanh nghiệp theo "
              "quy định.{% else %}không có hồ sơ quá hạn.{% endif %}", indent=True)
    para(doc, "{%p if communes %}")
    para(doc, "**3. Kết quả đánh giá Bộ chỉ số phục vụ người dân, doanh nghiệp của {{ communes_addressee }}**",
         indent=True)
    para(doc, "(Có Phụ lục kèm theo)", italic=True, indent=True)
    para(doc, "{%p endif %}")
    para(doc, "UBND {{ district.title }} công khai kết quả trên đến các cơ quan, đơn vị, địa phương biết để phát huy "
              "những điểm tốt và khắc phục những tiêu chí đạt tỷ lệ thấp./.", indent=True)
    signature(doc, ["{%p for r in recipients %}", "- {{ r }}", "{%p endfor %}"],
              ["{%p if signer_above %}", "{{ signer_above }}", "{%p endif %}", "{{ signer_title }}"],
              "{{ signer_name }}")
    para(doc, "{%p if communes %}")
    page_break(doc)
    para(doc, "Phụ lục", bold=True, align=CENTER, after=0)
    para(doc, "XẾP HẠNG BỘ CHỈ SỐ PHỤC VỤ NGƯỜI DÂN, DOANH NGHIỆP CỦA {{ communes_addressee|upper }} "
              "THÁNG {{ period.mm_yyyy }}", bold=True, align=CENTER, after=0)
    para(doc, "(Kèm theo Công văn số:        /UBND-VP {{ letter_date }} của UBND {{ district.title }})",
         italic=True, align=CENTER)
    grid(doc, ["STT", "Tên đơn vị", "Điểm", "Xếp hạng", "Xếp loại"],
         [["{%tr for r in communes %}"],
          ["{{ loop.index }}", "{{ r.name }}", "{{ r.total|fixed }}", "{{ r.rank }}", "{{ r.classification }}"],
          ["{%tr endfor %}"]],
         [13, 92, 22, 18, 25], aligns=[CENTER, LEFT, CENTER, CENTER, CENTER])
    para(doc, "{%p endif %}")
    save_slim(doc, OUT / "cong-van-huyen.docx")


def quarterly_report() -> None:
    """Seed 001_…: I. CẤP TỈNH (1. the centre's counts and score, its agencies, its officials), then each local
    level (counts, desks, officials), ĐÁNH GIÁ CHUNG (strengths, weaknesses) and KIẾN NGHỊ from the figures."""
    doc = new_document()
    letterhead(doc, HEAD_LEFT_SHORT, MOTTO)
    number_line(doc, "BC-VPUB", None)
    para(doc, "BÁO CÁO", bold=True, align=CENTER, after=0)
    para(doc, "Đánh giá việc giải quyết thủ tục hành chính theo cơ chế một cửa, một cửa liên thông "
              "{{ period.text }}", bold=True, align=CENTER)
    para(doc, "Kính gửi: Văn phòng Chính phủ", align=CENTER)
    para(doc, "Thực hiện quy định tại {{ legal_basis }}.", indent=True)
    para(doc, "Văn phòng UBND tỉnh báo cáo kết quả đánh giá việc giải quyết thủ tục hành chính {{ period.text }} "
              "(thời điểm từ {{ window.first }} đến hết {{ window.last }}) như sau:", indent=True)
    para(doc, "{%p for s in sections %}")
    para(doc, "**{{ s.roman }}. {{ s.title }}**", indent=True)
    para(doc, "{%p if s.key == 'centre' %}")
    para(doc, "**1. Đánh giá cơ quan giải quyết TTHC** (Biểu số 01, 02, 03 kèm theo)", indent=True)
    para(doc, "**1.1. {{ s.desk }}:**", indent=True)
    para(doc, "{%p else %}")
    para(doc, "**Kết quả tổng hợp như sau:** (Biểu số 01, 02, 03 kèm theo)", indent=True)
    para(doc, "{%p endif %}")
    para(doc, "- Tổng số hồ sơ tiếp nhận và giải quyết trong kỳ báo cáo: {{ s.all.total|whole }} hồ sơ (Kỳ trước "
              "chuyển sang: {{ s.all.carried_over|whole }} hồ sơ, trong kỳ tiếp nhận {{ s.all.new|whole }} hồ sơ). "
              "Số hồ sơ đã giải quyết {{ s.all.resolved|share(s.all.resolved_pct) }}. "
              "Trong đó, trả trước hạn {{ s.all.early|share(s.all.early_pct) }}; trả đúng "
              "hạn: {{ s.all.on_time|share(s.all.on_time_pct) }}; trả quá hạn: "
              "{{ s.all.late|share(s.all.late_pct) }}. Hồ sơ đang giải quyết (trong hạn) "
              "{{ s.all.in_progress|share(s.all.in_progress_pct) }}"
              "{% if s.all.in_progress_late %}; đang giải quyết quá hạn {{ s.all.in_progress_late|whole }} hồ sơ, "
              "chiếm {{ s.all.in_progress_late_pct|fixed }}%{% endif %}. Số hồ sơ tạm dừng, bổ sung hồ sơ: "
              "{{ s.all.paused|share(s.all.paused_pct) }}. Số hồ sơ hủy và công dân rút: "
              "{{ s.all.withdrawn|share(s.all.withdrawn_pct) }}.", indent=True)
    para(doc, "- Tổng số hồ sơ tiếp nhận trực tuyến là: {{ s.online.total|whole }} hồ sơ (Kỳ trước chuyển sang: "
              "{{ s.online.carried_over|whole }} hồ sơ, trong kỳ tiếp nhận {{ s.online.new|whole }} hồ sơ). Số hồ "
              "sơ đã giải quyết {{ s.online.resolved|share(s.online.resolved_pct) }}. "
              "Trong đó, trả trước hạn {{ s.online.early|share(s.online.early_pct) }}; "
              "trả đúng hạn: {{ s.online.on_time|share(s.online.on_time_pct) }}; trả quá "
              "hạn: {{ s.online.late|share(s.online.late_pct) }}. Hồ sơ đang giải quyết "
              "(trong hạn) {{ s.online.in_progress|share(s.online.in_progress_pct) }}"
              "{% if s.online.in_progress_late %}; đang giải quyết quá hạn {{ s.online.in_progress_late|whole }} hồ "
              "sơ, chiếm {{ s.online.in_progress_late_pct|fixed }}%{% endif %}. Số hồ sơ tạm dừng, bổ sung hồ sơ: "
              "{{ s.online.paused|share(s.online.paused_pct) }}. Số hồ sơ hủy và công dân "
              "rút: {{ s.online.withdrawn|share(s.online.withdrawn_pct) }}.", indent=True)
    para(doc, "- Tỷ lệ hồ sơ trực tuyến/tổng hồ sơ tiếp nhận đạt {{ s.online_share|fixed }}%.", indent=True)
    para(doc, "{%p if s.score is not none %}")
    para(doc, "Tổng điểm đánh giá: {{ s.score|fixed }}. Xếp loại {{ s.classification }}.", indent=True)
    para(doc, "{%p endif %}")
    para(doc, "{%p if s.key == 'centre' %}")
    para(doc, "**1.2. Số cơ quan được đánh giá: {{ s.agencies|whole }} cơ quan**", indent=True)
    para(doc, "{%p for c in s.agency_counts %}")
    para(doc, "+ {{ c.count|pad2 }}/{{ c.total|pad2 }} cơ quan xếp loại {{ c.label }}"
              "{{ ';' if not loop.last else '.' }}", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "**1.3. Đánh giá công chức Bộ phận Một cửa các sở, ban, ngành tại {{ s.desk }}**", indent=True)
    para(doc, "{%p if s.officers %}")
    para(doc, "- Tổng số công chức, viên chức được đánh giá {{ s.officers|whole }} người thuộc "
              "{{ s.officer_units|whole }} cơ quan.", indent=True)
    para(doc, "{%p endif %}")
    para(doc, "{%p else %}")
    para(doc, "**1. Xếp loại Bộ phận Một cửa {{ s.level_word }}:**", indent=True)
    para(doc, "{%p for c in s.agency_counts %}")
    para(doc, "- {{ c.count|pad2 }}/{{ c.total|pad2 }} BPMC {{ s.level_word }} xếp loại {{ c.label }}"
              "{{ ';' if not loop.last else '.' }}", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "**2. Xếp loại công chức làm việc tại Bộ phận Một cửa {{ s.level_word }}:**", indent=True)
    para(doc, "{%p endif %}")
    para(doc, "{%p for c in s.officer_counts %}")
    para(doc, "- {% if loop.first and s.key == 'centre' %}Kết quả: {% endif %}{{ c.count|pad2 }}/{{ c.total|pad2 }} "
              "công chức xếp loại {{ c.label }}{{ ';' if not loop.last else '.' }}", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "{%p if not s.officer_counts %}")
    para(doc, "- Không có công chức được đánh giá trong kỳ.", indent=True)
    para(doc, "{%p endif %}")
    para(doc, "{%p endfor %}")
    para(doc, "**{{ general_roman }}. ĐÁNH GIÁ CHUNG**", indent=True)
    para(doc, "**1. Ưu điểm**", indent=True)
    para(doc, "{%p for line in strengths %}")
    para(doc, "- {{ line }}", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "**2. Tồn tại, hạn chế**", indent=True)
    para(doc, "{%p for line in weaknesses %}")
    para(doc, "- {{ line }}", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "**{{ proposal_roman }}. KIẾN NGHỊ, ĐỀ XUẤT**", indent=True)
    para(doc, "{%p for line in proposals %}")
    para(doc, "{{ loop.index }}. {{ line }}", indent=True)
    para(doc, "{%p endfor %}")
    para(doc, "Trên đây là báo cáo đánh giá việc giải quyết TTHC {{ period.text }} của tỉnh {{ province }}. Văn phòng "
              "UBND tỉnh trân trọng báo cáo Văn phòng Chính phủ./.", indent=True)
    signature(doc, ["- Văn phòng Chính phủ;", "- Chủ tịch UBND tỉnh (b/c);", "- Các sở, ban, ngành giải quyết TTHC;",
                    "- {{ local_addressee }};", "- Trung tâm Thông tin - VPUBND tỉnh;", "- Lưu: VT, TTPVHCC."],
              ["{%p if signer_above %}", "{{ signer_above }}", "{%p endif %}", "{{ signer_title }}"],
              "{{ signer_name }}")
    save_slim(doc, OUT / "bao-cao-mot-cua-quy.docx")


# --- Excel --------------------------------------------------------------------------------------------------------
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)


def sheet(wb: Workbook, title: str, titles: list[str], headers: list[str], widths: list[float],
          rows: list[list[str]], formats: list[str | None], *, first: bool = False):
    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToHeight = 0
    n = len(headers)
    for r, text in enumerate(titles, 1):
        ws.cell(r, 1, text).font = Font(name="Times New Roman", size=13, bold=r < len(titles),
                                        italic=r == len(titles))
        ws.cell(r, 1).alignment = Alignment(horizontal="center", wrap_text=True)
        ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=n)
    h = len(titles) + 2
    for c, text in enumerate(headers, 1):
        cell = ws.cell(h, c, text)
        cell.font = Font(name="Times New Roman", size=12, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = BOX
        ws.column_dimensions[get_column_letter(c)].width = widths[c - 1]
    ws.row_dimensions[h].height = 48
    for i, row in enumerate(rows, h + 1):
        bold = row[0].startswith("{{ ") and "roman" in row[0] or row[0] in {"I", "II"}
        for c, text in enumerate(row, 1):
            cell = ws.cell(i, c, text)
            cell.font = Font(name="Times New Roman", size=12, bold=bold)
            cell.alignment = Alignment(horizontal="left" if c == 2 else "center", vertical="center", wrap_text=True)
            cell.border = BOX
            if formats[c - 1]:
                cell.number_format = formats[c - 1]
    ws.freeze_panes = ws.cell(h + 1, 1)
    return ws


INT, DEC, PCT = "#,##0", "#,##0.00", "#,##0.0"


def monthly_appendix() -> None:
    wb = Workbook()
    note = "(Kèm theo Công văn số:        /VPUB-TTPVHCC {{ letter_date }} của Văn phòng UBND tỉnh)"
    sheet(wb, "Phụ lục 1 - Quá hạn",
          ["Phụ lục 1", "THỐNG KÊ HỒ SƠ XỬ LÝ QUÁ HẠN THÁNG {{ period.mm_yyyy }}", note],
          ["TT", "Tên cơ quan, đơn vị", "Đã giải quyết quá hạn", "Đang xử lý quá hạn", "Tổng số"],
          [8, 50, 16, 16, 14],
          [["I", "Các sở, ban, ngành", "", "", "{{ overdue.departments_total }}"],
           ["{% for r in overdue.departments %}{{ loop.index }}", "{{ r.name }}", "{{ r.resolved_late }}",
            "{{ r.open_late }}", "{{ r.total }}"],
           ["II", "{{ local_title }}", "", "", "{{ overdue.locals_total }}"],
           ["{% for r in overdue.locals %}{{ loop.index }}", "{{ r.name }}", "{{ r.resolved_late }}",
            "{{ r.open_late }}", "{{ r.total }}"]],
          [None, None, INT, INT, INT], first=True)
    sheet(wb, "Phụ lục 1 - Tiêu chí",
          ["Phụ lục 1 (tiếp)", "MỘT SỐ TIÊU CHÍ THÀNH PHẦN TRONG BỘ CHỈ SỐ THÁNG {{ period.mm_yyyy }}", note],
          ["STT", "Tên đơn vị", "Tổng số hồ sơ xử lý quá hạn", "Tỷ lệ hồ sơ nộp trực tuyến (%)",
           "Mức độ hài lòng (%)", "Hồ sơ đồng bộ DVCQG (%)", "Hồ sơ số hóa (%)"],
          [7, 45, 14, 14, 14, 14, 14],
          [["{% for r in criteria_rows %}{{ loop.index }}", "{{ r.name }}", "{{ r.overdue }}", "{{ r.online_pct }}",
            "{{ r.satisfied_pct }}", "{{ r.synced_pct }}", "{{ r.digitized_pct }}"]],
          [None, None, INT, PCT, PCT, PCT, PCT])
    sheet(wb, "Phụ lục 2 - Xếp hạng",
          ["Phụ lục 2", "KẾT QUẢ ĐÁNH GIÁ BỘ CHỈ SỐ PHỤC VỤ NGƯỜI DÂN, DOANH NGHIỆP THÁNG {{ period.mm_yyyy }}", note],
          ["TT", "Tên cơ quan, đơn vị", "{{ group_names[0] }}", "{{ group_names[1] }}", "{{ group_names[2] }}",
           "{{ group_names[3] }}", "{{ group_names[4] }}", "{{ group_names[5] }}", "Tổng điểm", "Xếp hạng",
           "Xếp loại"],
          [6, 42, 12, 12, 12, 12, 12, 12, 11, 9, 13],
          [["I", "Các sở, ban, ngành", "", "", "", "", "", "", "", "", ""],
           ["{% for r in ranking[0].rows %}{{ loop.index }}", "{{ r.name }}", "{{ r.groups[0] }}",
            "{{ r.groups[1] }}", "{{ r.groups[2] }}", "{{ r.groups[3] }}", "{{ r.groups[4] }}", "{{ r.groups[5] }}",
            "{{ r.total }}", "{{ r.rank }}", "{{ r.classification }}"],
           ["II", "{{ local_title }}", "", "", "", "", "", "", "", "", ""],
           ["{% for r in ranking[1].rows %}{{ loop.index }}", "{{ r.name }}", "{{ r.groups[0] }}",
            "{{ r.groups[1] }}", "{{ r.groups[2] }}", "{{ r.groups[3] }}", "{{ r.groups[4] }}", "{{ r.groups[5] }}",
            "{{ r.total }}", "{{ r.rank }}", "{{ r.classification }}"]],
          [None, None, DEC, DEC, DEC, DEC, DEC, DEC, DEC, None, None])
    sheet(wb, "Chi tiết chỉ số",
          ["CHI TIẾT CÁC CHỈ SỐ THÀNH PHẦN THÁNG {{ period.mm_yyyy }}", "{{ rule_set_title }}"],
          ["Mã đơn vị", "Tên đơn vị", "Nhóm", "Mã chỉ số", "Chỉ số", "Tử số", "Mẫu số", "Tỷ lệ (%)", "Điểm", "Tối đa"],
          [11, 40, 8, 30, 45, 11, 11, 10, 9, 8],
          [["{% for r in detail_rows %}{{ r.code }}", "{{ r.unit }}", "{{ r.group }}", "{{ r.indicator }}",
            "{{ r.name }}", "{{ r.numerator }}", "{{ r.denominator }}", "{{ r.ratio_pct }}", "{{ r.score }}",
            "{{ r.max }}"]],
          [None, None, None, None, None, INT, INT, DEC, DEC, DEC])
    # Only when official results of the month were imported (chiso import-official); the sheet is removed otherwise.
    sheet(wb, "Phụ lục 3 - Chính thức",
          ["Phụ lục 3", "SO SÁNH VỚI KẾT QUẢ CHÍNH THỨC TRÊN CỔNG DỊCH VỤ CÔNG QUỐC GIA THÁNG {{ period.mm_yyyy }}",
           "(những chênh lệch lớn nhất giữa số liệu của tỉnh và kết quả chính thức)"],
          ["STT", "Tên cơ quan, đơn vị", "Chỉ số", "Tính từ dữ liệu của tỉnh", "Kết quả chính thức", "Chênh lệch",
           "Nguyên nhân có thể"],
          [7, 38, 40, 13, 13, 12, 30],
          [["{% for r in official_differences %}{{ loop.index }}", "{{ r.unit }}", "{{ r.item }}", "{{ r.ours }}",
            "{{ r.theirs }}", "{{ r.difference }}", "{{ r.cause }}"]],
          [None, None, None, DEC, DEC, DEC, None])
    wb.save(OUT / "phu-luc-thang.xlsx")


def unit_appendix() -> None:
    wb = Workbook()
    sheet(wb, "Chỉ số", ["KẾT QUẢ BỘ CHỈ SỐ THÁNG {{ period.mm_yyyy }} - {{ unit.name|upper }}",
                         "(Tổng điểm {{ unit.total_text }}/100, hạng {{ unit.rank }}/{{ unit.peers }})"],
          ["Nhóm", "Chỉ số", "Tử số", "Mẫu số", "Tỷ lệ (%)", "Điểm", "Tối đa", "Điểm tháng trước", "Thay đổi"],
          [8, 55, 11, 11, 10, 9, 8, 12, 10],
          [["{% for i in indicator_rows %}{{ i.group }}", "{{ i.name }}", "{{ i.numerator }}", "{{ i.denominator }}",
            "{{ i.ratio_pct }}", "{{ i.score }}", "{{ i.max }}", "{{ i.previous }}", "{{ i.change }}"]],
          [None, None, INT, INT, DEC, DEC, DEC, DEC, DEC], first=True)
    sheet(wb, "Hồ sơ quá hạn", ["DANH SÁCH HỒ SƠ QUÁ HẠN THÁNG {{ period.mm_yyyy }} - {{ unit.name|upper }}",
                                "(Tại thời điểm {{ as_of_text }})"],
          ["TT", "Mã hồ sơ", "Đơn vị", "Mã TTHC", "Ngày tiếp nhận", "Hạn giải quyết", "Ngày kết thúc", "Tình trạng"],
          [6, 24, 30, 26, 17, 17, 17, 20],
          [["{% for d in overdue_dossiers %}{{ loop.index }}", "{{ d.dossier_id }}", "{{ d.unit_name }}",
            "{{ d.procedure_code }}", "{{ d.received_at }}", "{{ d.due_at }}", "{{ d.end_at }}", "{{ d.status }}"]],
          [None] * 8)
    sheet(wb, "Đơn vị trực thuộc", ["XẾP HẠNG CÁC ĐƠN VỊ TRỰC THUỘC {{ unit.name|upper }} THÁNG {{ period.mm_yyyy }}",
                                    "{{ rule_set_title }}"],
          ["Hạng", "Đơn vị", "Điểm", "Xếp loại"], [8, 50, 12, 16],
          [["{% for r in children %}{{ r.rank }}", "{{ r.name }}", "{{ r.total }}", "{{ r.classification }}"]],
          [None, None, DEC, None])
    wb.save(OUT / "phu-luc-don-vi.xlsx")


def quarterly_appendix() -> None:
    """Biểu số 01 (handling counts: each level's totals, then its units), 02 (agencies and desks), 03 (officials),
    referred to by the report."""
    wb = Workbook()
    note = "(Kèm theo Báo cáo số:        /BC-VPUB {{ letter_date }} của Văn phòng UBND tỉnh)"
    sheet(wb, "Giải quyết hồ sơ", ["Biểu số 01", "TỔNG HỢP KẾT QUẢ GIẢI QUYẾT TTHC {{ period.text|upper }}",
                                   "(Từ {{ window.first }} đến hết {{ window.last }}) " + note[1:-1]],
          ["TT", "Cơ quan, đơn vị", "Cấp", "Kỳ trước chuyển sang", "Tiếp nhận trong kỳ", "Tổng số", "Đã giải quyết",
           "Trước hạn", "Đúng hạn", "Quá hạn", "Đang giải quyết trong hạn", "Đang giải quyết quá hạn",
           "Tạm dừng, bổ sung", "Hủy, rút", "Trực tuyến", "Tỷ lệ trực tuyến (%)"],
          [6, 40, 10] + [11] * 12 + [11],
          [["{% for r in table_rows %}{{ r.tt }}", "{{ r.name }}", "{{ r.level_text }}", "{{ r.carried_over }}",
            "{{ r.new }}", "{{ r.total }}", "{{ r.resolved }}", "{{ r.early }}", "{{ r.on_time }}", "{{ r.late }}",
            "{{ r.in_progress }}", "{{ r.in_progress_late }}", "{{ r.paused }}", "{{ r.withdrawn }}",
            "{{ r.online_total }}", "{{ r.online_pct }}"]],
          [None, None, None] + [INT] * 12 + [DEC], first=True)
    items = [f"({i})" for i in range(1, 10)]
    sheet(wb, "Đánh giá cơ quan", ["Biểu số 02", "KẾT QUẢ ĐÁNH GIÁ VIỆC GIẢI QUYẾT TTHC CỦA CƠ QUAN, BỘ PHẬN MỘT CỬA "
                                   "{{ period.text|upper }}", note],
          ["TT", "Cơ quan, đơn vị", "Cấp", "Số hồ sơ đánh giá", *items, "Tổng điểm", "Xếp loại"],
          [6, 40, 10, 11] + [7] * 9 + [10, 32],
          [["{% for r in evaluation_rows %}{{ loop.index }}", "{{ r.name }}", "{{ r.level_text }}", "{{ r.dossiers }}",
            *[f"{{{{ r.i{i} }}}}" for i in range(1, 10)], "{{ r.total }}", "{{ r.classification }}"]],
          [None, None, None, INT] + [DEC] * 10 + [None])
    sheet(wb, "Đánh giá công chức", ["Biểu số 03", "KẾT QUẢ ĐÁNH GIÁ CÔNG CHỨC BỘ PHẬN MỘT CỬA "
                                     "{{ period.text|upper }}", note],
          ["TT", "Công chức", "Cơ quan, đơn vị", "Số hồ sơ đánh giá", "Tổng điểm", "Xếp loại"],
          [6, 16, 40, 12, 10, 32],
          [["{% for r in officer_rows %}{{ loop.index }}", "{{ r.code }}", "{{ r.unit_name }}", "{{ r.dossiers }}",
            "{{ r.total }}", "{{ r.classification }}"]],
          [None, None, None, INT, DEC, None])
    wb.save(OUT / "bieu-mot-cua-quy.xlsx")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    monthly_letter()
    unit_letter()
    district_letter()
    quarterly_report()
    monthly_appendix()
    unit_appendix()
    quarterly_appendix()
    print(f"đã ghi các mẫu vào {OUT}")
