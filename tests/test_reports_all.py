"""`chiso report all`: every document of a month from one scoring, on the hand-built province of
test_scoring.py (commune X = 03646: 57.23, rank 2 of 75; commune Y = 03667: 60.90, rank 1; the province
63.89, provisional). Expected figures are the hand-worked ones of test_scoring.py, test_explain.py and
test_reports_monthly.py; here we check that the shared scoring, the bulk explanations and the worker
processes give the same letters as the one-unit commands."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from chiso import api
from chiso.cli import main
from chiso.reports import charts
from chiso.reports.documents import write_all, write_unit
from chiso.reports.numbers import NumberFormat
from chiso.scoring.explain import actions_by_unit
from chiso.store.db import Store
from conftest import Workspace
from docs_reader import docx_lines, xlsx_rows
from test_scoring import load_province

AS_OF = datetime(2025, 10, 15, 23, 59, 59)
LETTER = date(2025, 10, 6)


@pytest.fixture
def province(ws: Workspace) -> Workspace:
    load_province(ws)
    ws.store = Store.open(ws.store.workspace)
    return ws


def test_bulk_actions_equal_each_units_explanation(province: Workspace) -> None:
    rs, results, previous = api.score_with_previous(province.store, "2025-09", as_of=AS_OF)
    assert previous["03646"]["total"] == 43.00  # August, test_scoring.test_change_against_previous_month
    bulk = actions_by_unit(province.store, rs, results)
    # test_explain.test_best_three_actions, worked out by hand for commune X
    assert [(a["text"], a["gain"]) for a in bulk["03646"]] == [
        ("tiếp nhận trực tuyến thêm 1 hồ sơ", 6.00),
        ("giải quyết đúng hạn thêm 2 hồ sơ", 10.00),
        ("thu phí trực tuyến thêm 1 hồ sơ", 3.00),
    ]
    # Every unit of a distinct score (the province, its departments, X, Y) and two of the 73 identical communes.
    seen: dict[float, int] = {}
    for r in results:
        seen[r["total"]] = seen.get(r["total"], 0) + 1
        if seen[r["total"]] <= 2:
            assert bulk[r["code"]] == api.explain(province.store, r["code"], "2025-09", as_of=AS_OF)["actions"], \
                r["code"]
    assert sum(min(n, 2) for n in seen.values()) >= 4


def test_all_documents_of_a_quarter_closing_month(province: Workspace, tmp_path: Path) -> None:
    province.config('[report]\nwindow = "calendar"\n')
    written = write_all(province.store, "2025-09", tmp_path, as_of=AS_OF, letter_date=LETTER, want_pdf=False,
                        units=["03646", "03667"], workers=2)
    names = {p.relative_to(tmp_path).as_posix() for p in written.files}
    assert {"cong-van-bo-chi-so-2025-09.docx", "phu-luc-bo-chi-so-2025-09.xlsx",
            "bieu-do/chart-groups-2025-09.png", "bieu-do/chart-ranking-2025-09.png",
            "bao-cao-mot-cua-2025-Q3.docx", "bieu-mot-cua-2025-Q3.xlsx",  # September closes the third quarter
            "bieu-mau-cchc-2025-Q3.xlsx", "nhap-lieu-cchc-2025-Q3.xlsx",
            "don-vi/cong-van-don-vi-03646-2025-09.docx", "don-vi/phu-luc-don-vi-03646-2025-09.xlsx",
            "don-vi/cong-van-don-vi-03667-2025-09.docx", "don-vi/phu-luc-don-vi-03667-2025-09.xlsx"} <= names
    assert all(p.exists() and p.stat().st_size > 0 for p in written.files)
    assert written.unit_letters == 2

    letter = "\n".join(docx_lines(tmp_path / "cong-van-bo-chi-so-2025-09.docx"))
    assert "63,89/100 điểm (tạm tính)" in letter
    x_lines = docx_lines(tmp_path / "don-vi/cong-van-don-vi-03646-2025-09.docx")
    x = "\n".join(x_lines)
    assert "1. Tổng số điểm đạt: 57,23/100 điểm, xếp hạng 2/75 xã, phường" in x
    assert "(tăng 14,23 điểm so với tháng 08/2025)" in x
    # One paragraph per best action, in the order of the bulk actions above, written as a person writes a list:
    # a capital first letter, ";" between items, "." after the last.
    actions = x_lines.index("3. Việc cần làm để tăng điểm:")
    assert x_lines[actions + 1:actions + 4] == ["- Tiếp nhận trực tuyến thêm 1 hồ sơ;",
                                                "- Giải quyết đúng hạn thêm 2 hồ sơ;",
                                                "- Thu phí trực tuyến thêm 1 hồ sơ."]
    y = "\n".join(docx_lines(tmp_path / "don-vi/cong-van-don-vi-03667-2025-09.docx"))
    # 60.90 with two decimals as published (50 <= 60.9 < 70: Trung bình).
    assert "1. Tổng số điểm đạt: 60,90/100 điểm, xếp hạng 1/75 xã, phường, xếp loại Trung bình" in y
    late = xlsx_rows(tmp_path / "don-vi/phu-luc-don-vi-03646-2025-09.xlsx", "Hồ sơ quá hạn")
    assert sorted(r[1] for r in late if r[1] in {"X2", "X3"}) == ["X2", "X3"]
    quarterly = "\n".join(docx_lines(tmp_path / "bao-cao-mot-cua-2025-Q3.docx"))
    assert "- Tỷ lệ hồ sơ trực tuyến/tổng hồ sơ tiếp nhận đạt 66,67%." in quarterly  # test_reports_quarterly


def test_unit_letter_from_all_equals_the_single_unit_command(province: Workspace, tmp_path: Path) -> None:
    write_all(province.store, "2025-09", tmp_path / "all", as_of=AS_OF, letter_date=LETTER, want_pdf=False,
              units=["03646"], workers=1)
    single = write_unit(province.store, "03646", "2025-09", tmp_path / "one", as_of=AS_OF, letter_date=LETTER,
                        want_pdf=False)
    assert docx_lines(tmp_path / "all/don-vi/cong-van-don-vi-03646-2025-09.docx") == docx_lines(single.files[0])
    for sheet in ("Chỉ số", "Hồ sơ quá hạn", "Đơn vị trực thuộc"):
        assert xlsx_rows(tmp_path / "all/don-vi/phu-luc-don-vi-03646-2025-09.xlsx", sheet) == \
            xlsx_rows(single.files[1], sheet), sheet


def test_every_unit_gets_a_letter_and_other_months_no_quarterly_report(province: Workspace, tmp_path: Path) -> None:
    written = write_all(province.store, "2025-08", tmp_path, as_of=AS_OF, letter_date=LETTER, want_pdf=False,
                        workers=2)
    units = province.store.con.execute(  # units valid during August (merged departments are not) that the portal
        # ranks (Văn phòng UBND, the service centre and Thanh tra get no letter: ranked = FALSE)
        "SELECT count(*) FROM units WHERE level IN ('department', 'commune') AND ranked IS DISTINCT FROM FALSE "
        "AND (valid_from IS NULL OR valid_from < DATE '2025-09-01') "
        "AND (valid_to IS NULL OR valid_to >= DATE '2025-08-01')").fetchone()[0]
    assert units == 14 + 75
    letters = sorted((tmp_path / "don-vi").glob("cong-van-don-vi-*-2025-08.docx"))
    assert written.unit_letters == units == len(letters)  # two levels: departments and communes
    assert len(list((tmp_path / "don-vi").glob("phu-luc-don-vi-*-2025-08.xlsx"))) == units
    assert not list(tmp_path.glob("bao-cao-mot-cua-*"))  # August does not close a quarter
    # commune X in August: 43.00 (test_scoring), with two decimals as published; first of the 75 communes (the
    # others have no August dossiers: 14.00); below 50: Yếu. July has no data at all (nothing loaded): a change
    # against the defaults it would score is not written.
    x = "\n".join(docx_lines(tmp_path / "don-vi/cong-van-don-vi-03646-2025-08.docx"))
    assert ("1. Tổng số điểm đạt: 43,00/100 điểm, xếp hạng 1/75 xã, phường, xếp loại Yếu. (Số liệu tại thời "
            "điểm") in x
    assert "so với tháng 07/2025" not in x


def test_report_all_command_and_its_errors(province: Workspace, tmp_path: Path) -> None:
    province.store.close()
    base = ["--workspace", str(province.store.workspace), "report", "all", "--as-of", "2025-10-15",
            "--date", "2025-10-06", "--no-pdf"]
    r = CliRunner().invoke(main, [*base, "--period", "2025-09", "--out", str(tmp_path / "a"), "--units", "none"])
    assert r.exit_code == 0, r.stderr
    assert str(tmp_path / "a" / "cong-van-bo-chi-so-2025-09.docx") in r.stdout
    assert not (tmp_path / "a" / "don-vi").exists()
    r = CliRunner().invoke(main, [*base, "--period", "2025-09", "--out", str(tmp_path / "b"), "--units",
                                  "03646,99999"])
    assert r.exit_code == 2 and "không nhận ra đơn vị '99999'" in r.stderr  # wrong use, with the closest units
    r = CliRunner().invoke(main, [*base, "--period", "2025-Q3", "--out", str(tmp_path / "c")])
    assert r.exit_code == 1 and "kỳ tháng" in r.stderr


def test_group_chart_is_redrawn_per_unit(tmp_path: Path) -> None:
    nf = NumberFormat()
    groups = [{"name": "Công khai, minh bạch", "max": 18.0}, {"name": "Tiến độ giải quyết", "max": 20.0}]
    first = charts.group_scores([{**groups[0], "score": 18.0, "weak": False},
                                 {**groups[1], "score": 20.0, "weak": False}],
                                tmp_path / "a.png", nf, "Đơn vị A", keep=True)
    second = charts.group_scores([{**groups[0], "score": 3.0, "weak": True},
                                  {**groups[1], "score": 20.0, "weak": False}],
                                 tmp_path / "b.png", nf, "Đơn vị B", keep=True)
    red = tuple(int(charts.RED[i:i + 2], 16) for i in (1, 3, 5))
    a, b = Image.open(first).convert("RGB"), Image.open(second).convert("RGB")
    assert a.size == b.size  # the same laid-out figure
    assert red not in {c for _, c in a.getcolors(1 << 20)}  # nothing weak at A
    assert red in {c for _, c in b.getcolors(1 << 20)}  # A's full bars are not left behind at B: a red bar


def test_workers_without_forkserver_write_the_same_letters(province: Workspace, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Where forkserver does not exist (Windows), the pool falls back to spawn (issue 9, item 11). Forced here
    the way a platform without it would choose: the same unit letter as the one written in this process."""
    from chiso.reports import workers

    monkeypatch.setattr(workers.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert workers.start_method() == "spawn"
    write_all(province.store, "2025-09", tmp_path / "spawn", as_of=AS_OF, letter_date=LETTER, want_pdf=False,
              units=["03646"], workers=2)
    # The single-unit command writes the same letter as report all (test_unit_letter_from_all_equals_…).
    single = write_unit(province.store, "03646", "2025-09", tmp_path / "here", as_of=AS_OF, letter_date=LETTER,
                        want_pdf=False)
    assert docx_lines(tmp_path / "spawn" / "don-vi/cong-van-don-vi-03646-2025-09.docx") == docx_lines(single.files[0])
    monkeypatch.setenv("CHISO_START_METHOD", "forkserver")  # not among the platform's methods: refused
    with pytest.raises(ValueError, match="CHISO_START_METHOD=forkserver"):
        workers.start_method()
