"""``chiso report monthly --issuer``: a district's letter (before 1/7/2025), on a hand-built Sơn La of March 2024.

Units: Sơn La before 2025 (``api.init_units(store, "Sơn La", before_2025=True)``): 12 districts. Procedure P:
commune level, 5 working days, no fee, not eligible for full online processing. Every dossier is received Mon
4/3/2024 09:00 (due Mon 11/3/2024 09:00) and finished in March, read at 15/4/2024.

District A = 118 (UBND huyện Quỳnh Nhai), its communes a1 = 03682-2024 (xã Mường Chiên) and a2 = 03703-2024
(thị trấn Mường Giàng); district B = 116 (UBND thành phố Sơn La), its commune b1 = 03646-2024 (phường Chiềng Lề).

  A1 a1 early (6/3), synced, electronic result, digitised;  A2 a1 late (12/3 10:00), nothing;
  A3 a2 early (5/3), synced, electronic result;              B1 b1 early (5/3), synced, e-result, digitised,
                                                              shared to the citizen's store.

Inputs for the province (inherited): the three publicity indicators in full, 6 + 4 + 2 = 12. Certified copies
(ELECTRONIC_CERTIFIED_COPY, 2 points): A entered 1 of 2 -> 1.00; B never entered -> 0, missing, B provisional;
a commune has none below it -> 2 (full). No PAKN: processing 6 + satisfaction 6, classifications 0. No fee
procedure, no eligible dossier: TTTT 0/0 -> 0, CLGQ 0/0 -> 0 (default). No population data: 0.

By hand (rules in docs/index-engine.md; a threshold indicator scores max x min(1, ratio / threshold)):
  a1: received 2, handled 2. CKMB 12 + 6 x 1/2 = 15.00; TDGQ 20 x 1/2 = 10.00; MDSH e-result 6 x 1/2 = 3.00,
      digitised 4 x 1/2 = 2.00, ECC 2 -> 7.00; MDHL satisfaction 6 x 0.5/0.9 = 3.33 + 12 = 15.33. Total 47.33.
  a2: CKMB 18.00; TDGQ 20.00; MDSH 6 + 2 = 8.00; MDHL 6 + 12 = 18.00. Total 64.00.
  A (a1 + a2): received 3, handled 3. CKMB 12 + 6 x 2/3 = 16.00; TDGQ 20 x 2/3 = 13.33; MDSH 6 x 2/3 = 4.00,
      4 x 1/3 = 1.33, ECC 1.00 -> 6.33; MDHL 6 x 0.6667/0.9 = 4.44 + 12 = 16.44. Total 52.10.
  b1: CKMB 18; TDGQ 20; MDSH 6 + 4 + 4 (store) + 2 = 16; MDHL 18. Total 72.00.
  B: as b1 but ECC missing (0): MDSH 14.00. Total 70.00, provisional.
  The 10 other districts: CKMB 12 + MDHL 12 (ECC missing) = 24.00. The 9 other communes of A: 12 + 2 + 12 = 26.00.
Ranks among Sơn La's 12 districts: B 1, A 2, the others 3. A's communes: a2 1, a1 2, the other nine 3.
February has no dossiers: no change against it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chiso import api
from chiso.cli import main
from chiso.reports.district import DistrictLetterError
from chiso.reports.documents import copy_templates, write_district
from chiso.store.db import Store
from conftest import Workspace
from docs_reader import docx_lines, xlsx_rows

AS_OF = datetime(2024, 4, 15, 23, 59, 59)
LETTER = date(2024, 4, 5)
A, A1, A2, B, B1 = "118", "03682-2024", "03703-2024", "116", "03646-2024"
PROCS = [{"code": "P", "name": "Thủ tục P", "level": "commune", "time_limit": 5, "fee_bearing": "false",
          "full_online_eligible": "false", "online_level": "partial"}]
FLAGS = ("paid_online", "e_result", "digitized", "reused_data", "shared_to_citizen_store", "used_population_data",
         "synced_to_portal")


def d(did: str, unit: str, finished: str, **flags: bool) -> dict[str, Any]:
    row = {"dossier_id": did, "unit_code": unit, "procedure_code": "P", "channel": "direct",
           "received_at": "2024-03-04 09:00", "finished_at": finished, "fee_amount": 0, "rating": ""}
    row.update({f: "true" if flags.get(f) else "false" for f in FLAGS})
    return row


DOSSIERS = [
    d("A1", A1, "2024-03-06 10:00", synced_to_portal=True, e_result=True, digitized=True),
    d("A2", A1, "2024-03-12 10:00"),
    d("A3", A2, "2024-03-05 10:00", synced_to_portal=True, e_result=True),
    d("B1", B1, "2024-03-05 10:00", synced_to_portal=True, e_result=True, digitized=True,
      shared_to_citizen_store=True),
]


def inp(unit: str, indicator: str, numerator: int, denominator: int) -> dict[str, Any]:
    return {"period": "2024-03", "unit_code": unit, "indicator": indicator, "numerator": numerator,
            "denominator": denominator, "score": ""}


INPUTS = [inp("14", "PUBLISH_ON_TIME", 10, 10), inp("14", "PUBLIC_UPDATE_ON_TIME", 4, 4),
          inp("14", "PUBLIC_CONTENT_FULL", 1, 1), inp(A, "ELECTRONIC_CERTIFIED_COPY", 1, 2)]


@pytest.fixture(scope="module")
def units_2024(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Sơn La's units before 2025, made once for the module."""
    ws = tmp_path_factory.mktemp("sonla-2024")
    with Store.open(ws) as store:
        api.init_units(store, "Sơn La", before_2025=True)
    return ws


@pytest.fixture
def district_ws(units_2024: Path, tmp_path: Path) -> Iterator[Workspace]:
    import shutil

    target = tmp_path / "ws"
    shutil.copytree(units_2024, target)
    store = Store.open(target)
    w = Workspace(store, tmp_path)
    w.load("procedures", PROCS)
    w.load("dossiers", DOSSIERS)
    w.load("indicator_inputs", INPUTS)
    try:
        yield w
    finally:
        w.store.close()


def letter(ws: Workspace, out: Path, issuer: str = A) -> list[str]:
    written = write_district(ws.store, issuer, "2024-03", out, as_of=AS_OF, letter_date=LETTER, want_pdf=False)
    word, excel = written.files
    assert word.name == f"cong-van-huyen-{issuer}-2024-03.docx"
    assert excel.name == f"phu-luc-huyen-{issuer}-2024-03.xlsx"
    return docx_lines(word)


def test_scores_worked_out_by_hand(district_ws: Workspace) -> None:
    _, rows = api.score(district_ws.store, "2024-03", as_of=AS_OF)
    results = {r["code"]: r for r in rows}
    groups = {c: {g: v["score"] for g, v in results[c]["groups"].items()} for c in (A, A1, A2, B, B1)}
    assert groups[A1] == {"CKMB": 15.0, "TDGQ": 10.0, "CLGQ": 0.0, "TTTT": 0.0, "MDSH": 7.0, "MDHL": 15.33}
    assert groups[A] == {"CKMB": 16.0, "TDGQ": 13.33, "CLGQ": 0.0, "TTTT": 0.0, "MDSH": 6.33, "MDHL": 16.44}
    assert groups[B] == {"CKMB": 18.0, "TDGQ": 20.0, "CLGQ": 0.0, "TTTT": 0.0, "MDSH": 14.0, "MDHL": 18.0}
    totals = {c: results[c]["total"] for c in (A, A1, A2, B, B1, "120", "03685-2024")}
    assert totals == {A: 52.10, A1: 47.33, A2: 64.00, B: 70.00, B1: 72.00, "120": 24.00, "03685-2024": 26.00}
    assert results[B]["missing_inputs"] == ["ELECTRONIC_CERTIFIED_COPY"]



def test_district_letter(district_ws: Workspace, tmp_path: Path) -> None:
    lines = letter(district_ws, tmp_path / "out")
    text = "\n".join(lines)
    # Letterhead, number symbol, place (the district's name) and date, summary (Nghị định 30 layout).
    # Signed TL. CHỦ TỊCH: the district committee is the issuing body (Nghị định 30/2020), its office drafts it.
    assert lines[0].startswith("ỦY BAN NHÂN DÂN\nHUYỆN QUỲNH NHAI\n")
    for expected in ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Số:        /UBND-VP",
                     "Quỳnh Nhai, ngày 05 tháng 4 năm 2024",
                     "V/v công khai kết quả Bộ chỉ số phục vụ người dân, doanh nghiệp tháng 03/2024"):
        assert expected in text, expected
    # Kính gửi: the district's offices and its communes (xã and thị trấn: Quỳnh Nhai has both).
    k = lines.index("Kính gửi:")
    assert lines[k + 1:k + 3] == ["- Các phòng, ban chuyên môn thuộc UBND huyện;", "- UBND các xã, thị trấn."]
    # The total with two decimals, provisional (the full-online conversion is provisional in the rule set), the
    # rank among Sơn La's 12 districts, no change (February has no dossiers).
    headline = next(line for line in lines if line.startswith("1. Tổng số điểm"))
    assert headline.startswith("1. Tổng số điểm huyện Quỳnh Nhai đạt: 52,10/100 điểm (tạm tính), xếp hạng 2/12 "
                               "huyện, thành phố của tỉnh Sơn La (Số liệu tại thời điểm")
    assert "so với tháng" not in text
    # Every group with its figure; the provisional one marked. No input is missing for A.
    g = lines.index("Một số tiêu chí đạt kết quả như sau:")
    assert lines[g + 1:g + 7] == ["- Công khai, minh bạch đạt: 16,00/18 điểm;",
                                  "- Tiến độ giải quyết đạt: 13,33/20 điểm;",
                                  "- Dịch vụ công trực tuyến đạt: 0,00/12 điểm (tạm tính);",
                                  "- Thanh toán trực tuyến đạt: 0,00/10 điểm;", "- Số hóa hồ sơ đạt: 6,33/22 điểm;",
                                  "- Mức độ hài lòng đạt: 16,44/18 điểm."]
    assert "Điểm tạm tính: chưa có số liệu" not in text
    assert "toàn huyện có 1 hồ sơ quá hạn" in text  # A2
    # Signature and recipients of a district letter.
    sig = next(line for line in lines if line.startswith("Nơi nhận:"))
    assert [x for x in sig.split("\n")[1:] if x] == ["- Như trên;", "- TT Huyện ủy (b/c);", "- TT HĐND huyện (b/c);",
                                    "- CT, các PCT UBND huyện;", "- Lưu: VT. | TL. CHỦ TỊCH", "CHÁNH VĂN PHÒNG"]
    # Appendix: the district's 11 communes, serial number and rank apart, two decimals, classification.
    h = lines.index("STT | Tên đơn vị | Điểm | Xếp hạng | Xếp loại")
    rows = lines[h + 1:]
    assert len(rows) == 11
    assert rows[:3] == ["1 | UBND thị trấn Mường Giàng | 64,00 | 1 | Trung bình",
                        "2 | UBND xã Mường Chiên | 47,33 | 2 | Yếu", "3 | UBND xã Cà Nàng | 26,00 | 3 | Yếu"]
    assert rows[-1] == "11 | UBND xã Pá Ma Pha Khinh | 26,00 | 3 | Yếu"
    assert "Kèm theo Công văn số:        /UBND-VP ngày 05 tháng 4 năm 2024 của UBND huyện Quỳnh Nhai" in text


def test_district_excel_appendix(district_ws: Workspace, tmp_path: Path) -> None:
    """The Excel appendix beside the letter: A's indicators as worked out above, its overdue dossier A2 and its
    communes ranked as in the letter's appendix; the title ranks A among Sơn La's 12 districts, as the letter does."""
    written = write_district(district_ws.store, A, "2024-03", tmp_path, as_of=AS_OF, letter_date=LETTER,
                             want_pdf=False)
    excel = written.files[1]
    indicators = xlsx_rows(excel, "Chỉ số")
    assert indicators[1][0] == "(Tổng điểm 52,10/100, hạng 2/12)"
    header = indicators.index(["Nhóm", "Chỉ số", "Tử số", "Mẫu số", "Tỷ lệ (%)", "Điểm", "Tối đa",
                               "Điểm tháng trước", "Thay đổi"])
    on_time = next(r for r in indicators[header + 1:] if r[0] == "TDGQ")
    assert on_time[2:7] == [2, 3, pytest.approx(200 / 3, abs=1e-4), 13.33, 20]  # A1, A3 on time of A1 A2 A3
    overdue = xlsx_rows(excel, "Hồ sơ quá hạn")
    assert [r[1] for r in overdue if isinstance(r[0], int)] == ["A2"]
    children = [r for r in xlsx_rows(excel, "Đơn vị trực thuộc") if isinstance(r[0], int)]
    assert len(children) == 11
    assert children[:2] == [[1, "UBND thị trấn Mường Giàng", 64.0, "Trung bình"],
                            [2, "UBND xã Mường Chiên", 47.33, "Yếu"]]


def test_city_letter_lists_missing_inputs(district_ws: Workspace, tmp_path: Path) -> None:
    """B (thành phố Sơn La) never entered its certified copies: provisional, listed; ranked first; a city's
    party committee and wards."""
    lines = letter(district_ws, tmp_path / "out", B)
    text = "\n".join(lines)
    assert lines[0].startswith("ỦY BAN NHÂN DÂN\nTHÀNH PHỐ SƠN LA\n")
    assert "- UBND các xã, phường." in lines
    assert ("1. Tổng số điểm thành phố Sơn La đạt: 70,00/100 điểm (tạm tính), xếp hạng 1/12 huyện, thành phố của "
            "tỉnh Sơn La") in text
    assert "(Điểm tạm tính: chưa có số liệu Cấp bản sao điện tử có chứng thực (2 điểm); các chỉ số này đang được " \
           "tính 0 điểm.)" in text
    assert "- Số hóa hồ sơ đạt: 14,00/22 điểm (tạm tính);" in text  # the missing input is in this group
    assert "- TT Thành ủy (b/c);" in text and "- TT HĐND thành phố (b/c);" in text
    assert "1 | UBND phường Chiềng Lề | 72,00 | 1 | " in text


def test_office_settings_sign_the_letter(district_ws: Workspace, tmp_path: Path) -> None:
    district_ws.config('[report]\nsigner_authority = "KT."\nsigner_for = "CHÁNH VĂN PHÒNG"\n'
                       'signer_title = "PHÓ CHÁNH VĂN PHÒNG"\nsigner_name = "Lò Văn Tám"\n'
                       'recipients = ["Như trên;", "Lưu: VT, VP."]\n')
    lines = letter(district_ws, tmp_path / "out")
    sig = next(line for line in lines if line.startswith("Nơi nhận:"))
    assert [x for x in sig.split("\n")[1:] if x] == ["- Như trên;", "- Lưu: VT, VP. | KT. CHÁNH VĂN PHÒNG",
                                                    "PHÓ CHÁNH VĂN PHÒNG", "Lò Văn Tám"]


def test_district_of_a_merged_province_ranks_among_its_old_province(tmp_path: Path) -> None:
    """Tuyên Quang merged with Hà Giang on 1/7/2025: its units before 2025 hold the districts of both under one
    province code; a Hà Giang district ranks among Hà Giang's districts only."""
    from vietnamadminunits.database.main import query

    def districts(province_key: str) -> list[str]:
        rows = query(f"SELECT DISTINCT districtCode FROM admin_units_legacy WHERE provinceKey = '{province_key}'")
        return sorted(str(r["districtCode"]) for r in rows)

    ha_giang, tuyen_quang = districts("tinhhagiang"), districts("tinhtuyenquang")
    assert (len(ha_giang), len(tuyen_quang)) == (11, 7)
    with Store.open(tmp_path / "ws") as store:
        api.init_units(store, "Tuyên Quang", before_2025=True)
        w = Workspace(store, tmp_path)
        stored = {str(r[0]) for r in store.con.execute("SELECT code FROM units WHERE level = 'district'").fetchall()}
        assert stored == set(ha_giang) | set(tuyen_quang)  # 18 under one province
        issuer, other = ha_giang[0], tuyen_quang[0]
        commune = {c: str(store.con.execute("SELECT min(code) FROM units WHERE parent_code = ?", [c]).fetchone()[0])
                   for c in (issuer, other)}
        w.load("procedures", PROCS)
        # one dossier in each: equal scores, both above every idle district
        w.load("dossiers", [d("H1", commune[issuer], "2024-03-05 10:00", synced_to_portal=True),
                            d("T1", commune[other], "2024-03-05 10:00", synced_to_portal=True)])
        lines = letter(w, tmp_path / "out", issuer)
    text = "\n".join(lines)
    assert "xếp hạng 1/11 huyện, thành phố của tỉnh Hà Giang" in text


def run_cli(ws: Workspace, *args: str) -> Any:
    ws.store.close()
    return CliRunner().invoke(main, ["--workspace", str(ws.store.workspace), "report", "monthly",
                                     "--as-of", "2024-04-15", "--date", "2024-04-05", "--no-pdf", *args])


def test_cli_by_name(district_ws: Workspace, tmp_path: Path) -> None:
    r = run_cli(district_ws, "--period", "2024-03", "--issuer", "UBND huyện Quỳnh Nhai", "--out",
                str(tmp_path / "out"))
    assert r.exit_code == 0, r.output
    assert r.stdout.split() == [str(tmp_path / "out" / "cong-van-huyen-118-2024-03.docx"),
                                str(tmp_path / "out" / "phu-luc-huyen-118-2024-03.xlsx")]
    # March 2024 precedes every rule set shipped (vn-766-2026 from 1/1/2026): said on the terminal, not in the letter
    note = ("Lưu ý: chưa có bộ quy tắc có hiệu lực cho kỳ 2024-03; điểm tính theo vn-766-2026 (hiệu lực từ "
            "01/01/2026).")
    assert note in r.stderr
    assert "vn-766-2026" not in "\n".join(docx_lines(tmp_path / "out" / "cong-van-huyen-118-2024-03.docx"))
    ws = ["--workspace", str(district_ws.store.workspace)]
    r = CliRunner().invoke(main, [*ws, "score", "--period", "2024-03", "--as-of", "2024-04-15", "--format", "csv"])
    assert r.exit_code == 0 and note in r.stderr
    r = CliRunner().invoke(main, [*ws, "score", "--period", "2026-01", "--as-of", "2026-02-15", "--format", "csv"])
    assert r.exit_code == 0 and "Lưu ý" not in r.stderr
    r = CliRunner().invoke(main, [*ws, "score", "--period", "2024-03", "--as-of", "2024-04-15", "--format", "csv",
                                  "--rules", "vn-766-2026"])
    assert r.exit_code == 0 and "Lưu ý" not in r.stderr  # chosen by the office: nothing to warn of


@pytest.mark.parametrize(("args", "message"), [
    (["--period", "2024-03", "--issuer", "14"], "không phải UBND cấp huyện"),  # the province
    (["--period", "2024-03", "--issuer", A1], "không phải UBND cấp huyện"),  # a commune
    (["--period", "2024-03", "--issuer", "14.STP"], "không phải UBND cấp huyện"),  # a department
    (["--period", "2025-07", "--issuer", A], "từ ngày 01/7/2025 không còn cấp huyện"),
    (["--period", "2024-03", "--issuer", A, "--national-rank", "5/63"], "không dùng cùng --issuer"),
])
def test_cli_refusals(district_ws: Workspace, tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "out"
    r = run_cli(district_ws, *args, "--out", str(out))
    assert r.exit_code == 2, r.output
    assert message in r.stderr
    assert not out.exists()


def test_refusal_through_the_api(district_ws: Workspace, tmp_path: Path) -> None:
    with pytest.raises(DistrictLetterError, match="không phải UBND cấp huyện"):
        write_district(district_ws.store, "14", "2024-03", tmp_path / "out", as_of=AS_OF, letter_date=LETTER)


def test_template_is_copied_for_the_office(district_ws: Workspace) -> None:
    names = {p.name for p in copy_templates(district_ws.store)}
    assert "cong-van-huyen.docx" in names


def test_change_against_the_month_before(district_ws: Workspace, tmp_path: Path) -> None:
    """A February dossier at a2: received Thu 1/2/2024 09:00, finished 2/2 (early), synced. February for A, by
    hand: no inputs entered for February (publicity and certified copies missing: 0); sync 1/1 = 6; on time 1/1 =
    20; satisfaction 1/1 = 6 + PAKN 12; the rest 0 -> 44.00. March is unchanged (a dossier received and finished
    in February is not March's): 52.10, so "tăng 8,10 điểm so với tháng 02/2024"."""
    feb = d("F1", A2, "2024-02-02 10:00", synced_to_portal=True) | {"received_at": "2024-02-01 09:00"}
    district_ws.load("dossiers", [feb])
    text = "\n".join(letter(district_ws, tmp_path / "out"))
    assert ("1. Tổng số điểm huyện Quỳnh Nhai đạt: 52,10/100 điểm (tạm tính), xếp hạng 2/12 huyện, thành phố của "
            "tỉnh Sơn La, tăng 8,10 điểm so với tháng 02/2024 (Số liệu") in text
