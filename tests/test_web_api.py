"""The web service's API and its data pages against the command line (issue 12 §2–3): the same figures as
``chiso score`` and ``chiso status``, an ingest that goes through the loader, uploads with located errors, and
documents that are real Word files."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from chiso.cli import main
from chiso.web.app import WebSettings, create_app
from web_support import AS_OF, PERIOD, Province, build, csrf_of, login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Province:
    return build(tmp_path_factory.mktemp("web-api"))


@pytest.fixture(scope="module")
def app(province: Province) -> Iterator[Any]:
    application = create_app(WebSettings(workspace=province.workspace, as_of=AS_OF, warm=False))
    with TestClient(application):
        yield application


def bearer(province: Province, name: str = "admin") -> dict[str, str]:
    return {"Authorization": f"Bearer {province.tokens[name]}"}


def cli_output(province: Province, *args: str) -> str:
    """The CLI on the same store, run while the app holds it: through a copy of the DuckDB file would change
    nothing; DuckDB lets one process hold it, so the CLI runs in-process on the same connection's file."""
    result = CliRunner().invoke(main, ["-w", str(province.workspace), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout  # notes (a rule set not in force for the period …) go to standard error


def test_scores_are_exactly_the_cli_json(province: Province, app: Any) -> None:
    client = TestClient(app)
    for query, args in [
        (f"period={PERIOD}&level=commune&as_of=2025-09-30 17:00",
         ["--period", PERIOD, "--level", "commune", "--as-of", "2025-09-30 17:00"]),
        (f"period={PERIOD}&unit=14.STP&as_of=2025-09-20 10:00",
         ["--period", PERIOD, "--unit", "14.STP", "--as-of", "2025-09-20 10:00"]),
    ]:
        api = client.get(f"/api/scores?{query}", headers=bearer(province))
        assert api.status_code == 200
        assert api.text == cli_output(province, "score", *args, "--format", "json")


def test_unit_dossiers_are_the_cli_status_rows(province: Province, app: Any) -> None:
    client = TestClient(app)
    rows = client.get(f"/api/units/{province.commune}/dossiers?as_of=2025-09-30 17:00",
                      headers=bearer(province)).json()
    cli_rows = json.loads(cli_output(province, "status", "--as-of", "2025-09-30 17:00", "--unit", province.commune,
                                     "--format", "json"))
    assert [r["dossier_id"] for r in rows] == [r["dossier_id"] for r in cli_rows]
    assert [r["timeliness"] for r in rows] == [r["timeliness"] for r in cli_rows]
    late = client.get(f"/api/units/{province.commune}/dossiers?as_of=2025-09-30 17:00&timeliness=late,pending_late",
                      headers=bearer(province)).json()
    assert {r["dossier_id"] for r in late} == {r["dossier_id"] for r in cli_rows
                                                if r["timeliness"] in ("late", "pending_late")}
    as_csv = client.get(f"/api/units/{province.commune}/dossiers?as_of=2025-09-30 17:00&format=csv",
                        headers=bearer(province))
    assert as_csv.text.startswith("\ufeffdossier_id,")
    assert len(as_csv.text.strip().splitlines()) == len(rows) + 1
    assert client.get(f"/api/units/{province.commune}/dossiers?timeliness=tre", headers=bearer(province)
                      ).status_code == 400


def _new_rows(province: Province, n: int) -> list[dict[str, Any]]:
    with province.store() as store:
        procedure = store.con.execute(
            "SELECT procedure_code FROM dossiers WHERE unit_code = ? GROUP BY procedure_code "
            "ORDER BY count(*) DESC LIMIT 1", [province.commune]).fetchone()[0]
    start = datetime(2025, 9, 15, 8, 0)
    return [{"dossier_id": f"API-{n:03d}-{i:04d}", "unit_code": province.commune, "procedure_code": procedure,
             "channel": "online" if i % 2 else "direct",
             "received_at": (start + timedelta(minutes=7 * i)).isoformat(sep=" "),
             "finished_at": (start + timedelta(days=1, minutes=7 * i)).isoformat(sep=" ") if i % 3 else None,
             "e_result": bool(i % 2)} for i in range(n)]


def test_ingest_of_300_rows_shows_in_the_next_request(province: Province, app: Any) -> None:
    client = TestClient(app)
    headers = bearer(province, "xa")  # the commune's own account
    before = client.get(f"/api/units/{province.commune}/dossiers?as_of=2025-09-30 17:00", headers=headers).json()
    rows = _new_rows(province, 300)
    answer = client.post("/api/dossiers", json=rows, headers=headers)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["rows_read"], report["inserted"], report["updated"], report["rejected"]) == (300, 300, 0, 0)
    after = client.get(f"/api/units/{province.commune}/dossiers?as_of=2025-09-30 17:00", headers=headers).json()
    ids = {r["dossier_id"] for r in after}
    assert {r["dossier_id"] for r in rows} <= ids
    assert len(after) == len(before) + 300
    # the pages see it too (the cache follows the data version): 300 more received this month
    page = TestClient(app)
    login(page, "xa")
    listed = page.get(f"/don-vi/{province.commune}/ho-so?figure=received&period={PERIOD}&format=json").json()
    assert {r["dossier_id"] for r in rows} <= {r["dossier_id"] for r in listed}
    # idempotent: the same rows again change nothing
    again = client.post("/api/dossiers", json=rows, headers=headers).json()
    assert (again["inserted"], again["updated"], again["unchanged"]) == (0, 0, 300)


def test_ingest_with_a_bad_row_is_refused_whole_with_row_column_reason(province: Province, app: Any) -> None:
    client = TestClient(app)
    rows = _new_rows(province, 20)
    rows[6]["received_at"] = "31/02/2025 08:00"  # no such day
    rows[11]["channel"] = "fax"
    with province.store() as store:
        count = store.count("dossiers")
    answer = client.post("/api/dossiers", json=rows, headers=bearer(province))
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert {(e["row"], e["column"]) for e in errors} == {(7, "received_at"), (12, "channel")}
    assert all(e["reason"] for e in errors)
    with province.store() as store:
        assert store.count("dossiers") == count
        assert store.con.execute("SELECT count(*) FROM dossiers WHERE dossier_id LIKE 'API-020-%'").fetchone()[0] == 0


def test_ingest_refuses_what_is_not_rows(province: Province, app: Any) -> None:
    client = TestClient(app)
    for body, reason in [(b"{not json", "không phải JSON"), (b'{"a": 1}', "mảng JSON"),
                         (b'[{"dossier_id": {"x": 1}}]', "chuỗi, số")]:
        answer = client.post("/api/dossiers", content=body, headers={**bearer(province),
                                                                     "content-type": "application/json"})
        assert answer.status_code == 422
        assert reason in json.dumps(answer.json(), ensure_ascii=False)


def test_upload_page_shows_the_located_error_and_stores_nothing(province: Province, app: Any) -> None:
    client = TestClient(app)
    login(client, "admin")
    rows = _new_rows(province, 3)
    header = "dossier_id,unit_code,procedure_code,channel,received_at\n"
    body = header + "".join(f"UP-{i},{r['unit_code']},{r['procedure_code']},direct,{r['received_at']}\n"
                            for i, r in enumerate(rows))
    body += f"UP-bad,{rows[0]['unit_code']},{rows[0]['procedure_code']},direct,khong-phai-ngay\n"
    with province.store() as store:
        count = store.count("dossiers")
    answer = client.post("/nap-du-lieu", data={"csrf": csrf_of(client)},
                         files={"files": ("ho-so-thang-9.csv", body.encode(), "text/csv")})
    assert answer.status_code == 422
    assert "Không nạp tệp nào" in answer.text
    # file, row (the header is row 1), column and reason
    assert "ho-so-thang-9.csv" in answer.text and "<td class=\"num\">5</td>" in answer.text
    assert "received_at" in answer.text
    with province.store() as store:
        assert store.count("dossiers") == count
    good = client.post("/nap-du-lieu", data={"csrf": csrf_of(client)},
                       files={"files": ("ho-so.csv", body.rsplit("UP-bad", 1)[0].encode(), "text/csv")})
    assert good.status_code == 200
    assert "Đã nạp" in good.text
    with province.store() as store:
        assert store.count("dossiers") == count + 3


def test_upload_refuses_other_kinds_of_files(province: Province, app: Any) -> None:
    client = TestClient(app)
    login(client, "admin")
    answer = client.post("/nap-du-lieu", data={"csrf": csrf_of(client)},
                         files={"files": ("../../chiso.duckdb.exe", b"MZ", "application/octet-stream")})
    assert answer.status_code == 400
    assert "không nhận loại tệp" in answer.text


def test_page_tables_are_csv_and_json_too(province: Province, app: Any) -> None:
    client = TestClient(app)
    login(client, "admin")
    data = client.get(f"/xep-hang?period={PERIOD}&format=json").json()
    as_csv = client.get(f"/xep-hang?period={PERIOD}&format=csv")
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.startswith("\ufeffHạng,Mã,Đơn vị")
    assert len(as_csv.text.strip().splitlines()) == len(data) + 1
    scores = json.loads(cli_output(province, "score", "--period", PERIOD, "--as-of", "2025-09-30 17:00",
                                   "--format", "json"))
    assert {r["code"]: r["total"] for r in data} == {r["code"]: r["total"] for r in scores}
    indicators = client.get(f"/don-vi/{province.commune}?period={PERIOD}&format=json").json()
    mine = next(r for r in scores if r["code"] == province.commune)
    assert {i["code"]: i["score"] for i in indicators} == {k: v["score"] for k, v in mine["indicators"].items()}
    assert client.get(f"/xep-hang?period={PERIOD}&format=xml").status_code == 400


def test_overview_counts_match_the_dossiers_behind_them(province: Province, app: Any) -> None:
    client = TestClient(app)
    login(client, "admin")
    overview = client.get(f"/?period={PERIOD}&format=json").json()[0]
    assert overview["counts"]["received"] > 0 and overview["counts"]["resolved"] > 0
    for figure, count in overview["counts"].items():
        rows = client.get(f"/don-vi/14/ho-so?figure={figure}&period={PERIOD}&format=json").json()
        assert len(rows) == count, figure
    received = client.get(f"/don-vi/14/ho-so?figure=received&period={PERIOD}&format=json").json()
    assert all("2025-09-01" <= r["received_at"][:10] <= "2025-09-30" for r in received)
    late = client.get(f"/don-vi/14/ho-so?figure=late&period={PERIOD}&format=json").json()
    assert all(r["timeliness"] == "late" and r["due_at"] < r["end_at"] for r in late)


def test_indicator_figure_lists_the_dossiers_that_cost_points(province: Province, app: Any) -> None:
    client = TestClient(app)
    login(client, "admin")
    explained = json.loads(cli_output(province, "explain", "--unit", "14", "--period", PERIOD, "--as-of",
                                      "2025-09-30 17:00", "--format", "json"))
    short = next(s for s in explained["shortfalls"] if s["over"] == "dossiers" and s["item_count"])
    rows = client.get(f"/don-vi/14/ho-so?figure={short['code']}&period={PERIOD}&format=json").json()
    assert sorted(r["dossier_id"] for r in rows) == sorted(short["items"])


def test_monthly_letter_downloads_as_a_word_file(province: Province, app: Any) -> None:
    client = TestClient(app)
    login(client, "admin")
    answer = client.get(f"/van-ban/tai?loai=cong-van-thang&period={PERIOD}")
    assert answer.status_code == 200
    assert "cong-van" in answer.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(answer.content)) as docx:
        text = re.sub(r"<[^>]+>", "", docx.read("word/document.xml").decode("utf-8"))
    assert "Bộ chỉ số" in text and "Nghị quyết số 131/NQ-CP" in text
    # no explanation recorded on the Quá hạn page yet: the letter reads as the seeds do, without those counts
    assert "chưa có báo cáo giải trình" not in text
    assert client.get("/van-ban/tai?loai=cong-van-don-vi&period=2025-09&unit=KHONG-CO").status_code == 404


def test_forecast_counts_the_dossiers_that_fall_due_before_month_end(province: Province, app: Any,
                                                                   tmp_path: Any) -> None:
    """A new commune with four dossiers of its own, seen on 20/09: two finished early, two in progress due on
    25/09. If the two are finished in time the commune keeps 20/20 on PROGRESS_ON_TIME (linear, max 20) and 6/6 on
    DOSSIER_RECEIVING_SATISFACTION (threshold 90 %, max 6); if not, 4 handled of which 2 not late: 20 × 2/4 = 10
    and min(6, 6 × 0.5 / 0.9) = 3.33 — 12.67 points at risk (domain.md, the score formulas)."""
    from chiso import api

    with province.store() as store:
        (tmp_path / "xa-moi.csv").write_text(
            "code,name,level,parent_code,valid_from\n99999,UBND xã Thử Nghiệm,commune,14,2025-07-01\n",
            encoding="utf-8")
        api.load(store, [tmp_path / "xa-moi.csv"], table="units")
        procedure = store.con.execute("SELECT code FROM procedures WHERE level = 'commune' ORDER BY code LIMIT 1"
                                      ).fetchone()[0]
    done = {"received_at": "2025-09-15 08:00:00", "due_at": "2025-09-17 17:00:00",
            "finished_at": "2025-09-16 10:00:00", "returned_at": "2025-09-16 10:00:00"}
    open_ = {"received_at": "2025-09-18 08:00:00", "due_at": "2025-09-25 17:00:00"}
    rows = [{"dossier_id": f"DB-{n}", "unit_code": "99999", "procedure_code": procedure, "channel": "direct",
             **(done if n <= 2 else open_)} for n in (1, 2, 3, 4)]
    client = TestClient(app)
    assert client.post("/api/dossiers", json=rows, headers=bearer(province)).status_code == 200
    login(client, "admin")
    data = {r["code"]: r for r in client.get(f"/du-bao?period={PERIOD}&ngay=2025-09-20&format=json").json()}
    mine = data["99999"]
    scores = json.loads(cli_output(province, "score", "--period", PERIOD, "--as-of", "2025-09-20 23:59:59",
                                   "--unit", "99999", "--format", "json"))[0]
    assert scores["indicators"]["PROGRESS_ON_TIME"]["score"] == 20.0
    assert scores["indicators"]["DOSSIER_RECEIVING_SATISFACTION"]["score"] == 6.0
    assert mine["total_forecast"] == scores["total"]
    assert mine["points_at_risk"] == 12.67
    assert mine["total_if_late"] == round(scores["total"] - 12.67, 2)
    assert mine["due_in_period"] == 2
    assert data["14"]["due_in_period"] >= 2
    listed = client.get(f"/don-vi/99999/ho-so?figure=due_in_period&period={PERIOD}&format=json").json()
    assert listed == []  # at the server's own moment (30/09 17:00) they are already past due:
    late = client.get(f"/don-vi/99999/ho-so?figure=pending_late&period={PERIOD}&format=json").json()
    assert sorted(r["dossier_id"] for r in late) == ["DB-3", "DB-4"]
    assert client.get(f"/du-bao?period={PERIOD}&ngay=20-09-2025").status_code == 400


def test_the_unit_page_shows_the_official_result_beside_ours(province: Province, app: Any, tmp_path: Any) -> None:
    """Issue 11 §5: an imported official total on the unit's page, with the score computed from the province's
    data and the difference between them."""
    table = tmp_path / "chinh-thuc.csv"
    table.write_text(f"Mã đơn vị,Tên cơ quan, đơn vị,Tổng điểm\n{province.department},Sở Tư pháp,55.5\n"
                     .replace("Tên cơ quan, đơn vị", "\"Tên cơ quan, đơn vị\""), encoding="utf-8")
    imported = cli_output(province, "import-official", str(table), "--period", PERIOD, "--level", "department")
    assert "1 đơn vị đã nhận ra, 0 tên cần xác nhận" in imported
    ours = json.loads(cli_output(province, "score", "--period", PERIOD, "--as-of", "2025-09-30 17:00", "--unit",
                                 province.department, "--format", "json"))[0]
    assert ours["official"]["total"] == 55.5
    assert ours["official"]["difference"] == round(55.5 - ours.get("computed_total", ours["total"]), 2)
    client = TestClient(app)
    login(client, "admin")
    page = client.get(f"/don-vi/{province.department}?period={PERIOD}").text
    section = page[page.index("So với kết quả chính thức"):]
    from chiso import vnformat

    assert "Điểm chính thức <strong>55,50</strong>" in section
    assert f"tính từ dữ liệu của tỉnh {vnformat.number(ours.get('computed_total', ours['total']))}" in section
    assert "chinh-thuc.csv" in section
