"""Quá hạn: every overdue dossier with the two actions Nghị quyết 131/NQ-CP requires (an explanation report to the
head of the unit, an apology to the citizen), marked done with a date and a file, counted per unit."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from chiso import api_web
from chiso.clock import today_local
from chiso.web.app import WebSettings, create_app
from web_support import AS_OF, PERIOD, Province, build, login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Province:
    return build(tmp_path_factory.mktemp("web-overdue"))


@pytest.fixture(scope="module")
def app(province: Province) -> Iterator[Any]:
    application = create_app(WebSettings(workspace=province.workspace, as_of=AS_OF, warm=False))
    with TestClient(application):
        # three dossiers of the commune made late by hand: due 03/09, finished 10/09 (late), and one still open
        # past its due date at the as-of moment (pending_late)
        with province.store() as store:
            procedure = store.con.execute("SELECT procedure_code FROM dossiers WHERE unit_code = ? LIMIT 1",
                                          [province.commune]).fetchone()[0]
        rows = [{"dossier_id": f"TRE-{i}", "unit_code": province.commune, "procedure_code": procedure,
                 "channel": "direct", "received_at": "2025-09-01 08:00:00", "due_at": "2025-09-03 17:00:00",
                 "finished_at": None if i == 3 else "2025-09-10 09:00:00"} for i in (1, 2, 3)]
        answer = TestClient(application).post("/api/dossiers", json=rows,
                                              headers={"Authorization": f"Bearer {province.tokens['admin']}"})
        assert answer.status_code == 200, answer.text
        yield application


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/qua-han?period={PERIOD}").text)
    assert found
    return found.group(1)


def _missing(client: TestClient, code: str) -> tuple[int, int]:
    rows = client.get(f"/qua-han?period={PERIOD}&format=json").json()
    mine = [r for r in rows if r["unit_code"] == code]
    return (sum(r["explanation_done"] is None for r in mine), sum(r["apology_done"] is None for r in mine))


def test_overdue_page_lists_the_late_dossiers_with_what_is_missing(province: Province, app: Any) -> None:
    client = TestClient(app)
    login(client, "xa")
    rows = client.get(f"/qua-han?period={PERIOD}&format=json").json()
    ours = {r["dossier_id"]: r for r in rows if r["dossier_id"].startswith("TRE-")}
    assert set(ours) == {"TRE-1", "TRE-2", "TRE-3"}
    assert ours["TRE-1"]["timeliness"] == "late" and ours["TRE-3"]["timeliness"] == "pending_late"
    # due Wed 03/09 17:00 (02/09 is National Day): finished Wed 10/09 → Thu 4, Fri 5, Mon 8, Tue 9, Wed 10 = 5
    assert ours["TRE-1"]["working_days_overdue"] == 5
    assert all(r["unit_code"] == province.commune for r in rows)  # a commune's account sees its own only
    page = client.get(f"/qua-han?period={PERIOD}").text
    # the explanation deadline: [report] explanation_working_days (5) working days after 30/09/2025
    assert "07/10/2025" in page


def test_marking_an_action_with_its_file(province: Province, app: Any) -> None:
    client = TestClient(app)
    login(client, "xa")
    explanation_before, apology_before = _missing(client, province.commune)
    done = date(2025, 10, 2)
    answer = client.post("/qua-han/TRE-1", data={"csrf": _csrf(client), "action": "explanation",
                                                 "done_on": done.isoformat(), "period": PERIOD},
                         files={"file": ("Báo cáo giải trình TRE-1.pdf", PDF, "application/pdf")},
                         follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert _missing(client, province.commune) == (explanation_before - 1, apology_before)
    file = client.get("/qua-han/TRE-1/tep/explanation")
    assert file.status_code == 200 and file.content == PDF
    page = client.get(f"/qua-han?period={PERIOD}").text
    assert "đã làm 02/10/2025" in page
    with province.store() as store:
        entry = store.con.execute("SELECT user_name, details FROM audit_log WHERE action = 'overdue_marked' "
                                  "AND object = 'TRE-1'").fetchone()
    assert entry is not None and entry[0] == "web:xa" and "explanation" in entry[1]
    # the counts per unit roll up to the province
    counts = api_web.missing_actions(_store(app), PERIOD, AS_OF)
    assert counts[province.commune]["explanation_missing"] == explanation_before - 1
    assert counts["14"]["explanation_missing"] >= counts[province.commune]["explanation_missing"]


def _store(app: Any) -> Any:
    return app.state.pool.root


@pytest.mark.parametrize(("form", "file", "message"), [
    ({"action": "explanation", "done_on": "TOMORROW"}, None, "chưa đến"),
    ({"action": "explanation", "done_on": "2025-08-01"}, None, "trước ngày tiếp nhận"),
    ({"action": "khen-thuong", "done_on": "2025-10-02"}, None, "không có"),
    ({"action": "apology", "done_on": "02/10/2025"}, None, "không hợp lệ"),
    ({"action": "apology", "done_on": "2025-10-02"}, ("thu.exe", b"MZ\x90\x00"), "chỉ nhận PDF"),
    ({"action": "apology", "done_on": "2025-10-02"}, ("thu.pdf", b"<html>not a pdf</html>"), "không phải tệp .pdf"),
])
def test_marks_refuse_bad_input(app: Any, form: dict[str, str], file: tuple[str, bytes] | None,
                                message: str) -> None:
    if form["done_on"] == "TOMORROW":  # tomorrow in Vietnam when the request is made, not when tests are collected
        form = {**form, "done_on": (today_local() + timedelta(days=1)).isoformat()}
    client = TestClient(app)
    login(client, "xa")
    files = {"file": (file[0], file[1], "application/octet-stream")} if file else None
    answer = client.post("/qua-han/TRE-2", data={"csrf": _csrf(client), **form}, files=files, follow_redirects=False)
    assert answer.status_code == 400
    assert message in answer.text
    assert client.get("/qua-han/TRE-2/tep/apology").status_code == 404


def test_another_unit_cannot_mark_or_read(app: Any) -> None:
    client = TestClient(app)
    login(client, "so")
    answer = client.post("/qua-han/TRE-1", data={"csrf": _csrf(client), "action": "apology", "done_on": "2025-10-02"},
                         follow_redirects=False)
    assert answer.status_code == 403
    assert client.get("/qua-han/TRE-1/tep/explanation").status_code == 403


def test_the_unit_letter_counts_what_is_still_missing(province: Province, app: Any) -> None:
    import io
    import zipfile

    client = TestClient(app)
    login(client, "xa")
    # an apology recorded for TRE-3 (whatever the other tests recorded): the letter must count it as done
    answer = client.post("/qua-han/TRE-3", data={"csrf": _csrf(client), "action": "apology", "done_on": "2025-10-03"},
                         follow_redirects=False)
    assert answer.status_code == 303
    rows = client.get(f"/qua-han?period={PERIOD}&format=json").json()
    explanation_missing = sum(r["explanation_done"] is None for r in rows)
    apology_missing = sum(r["apology_done"] is None for r in rows)
    assert apology_missing < len(rows)
    admin = TestClient(app)
    login(admin, "admin")
    letter = admin.get(f"/van-ban/tai?loai=cong-van-don-vi&period={PERIOD}&unit={province.commune}")
    assert letter.status_code == 200
    with zipfile.ZipFile(io.BytesIO(letter.content)) as docx:
        xml = docx.read("word/document.xml").decode("utf-8")
    text = re.sub(r"<[^>]+>", "", xml)
    assert (f"còn {explanation_missing} hồ sơ chưa có báo cáo giải trình và {apology_missing} hồ sơ chưa có "
            "thư xin lỗi") in text


def test_the_monthly_letter_counts_what_is_still_missing_province_wide(app: Any) -> None:
    import io
    import zipfile

    # the sentence is written once the office tracks actions on the Quá hạn page: record one here, so the test
    # holds alone and in any order
    clerk = TestClient(app)
    login(clerk, "xa")
    answer = clerk.post("/qua-han/TRE-3", data={"csrf": _csrf(clerk), "action": "apology", "done_on": "2025-10-03"},
                        follow_redirects=False)
    assert answer.status_code == 303
    admin = TestClient(app)
    login(admin, "admin")
    rows = admin.get(f"/qua-han?period={PERIOD}&format=json").json()
    explanation_missing = sum(r["explanation_done"] is None for r in rows)
    apology_missing = sum(r["apology_done"] is None for r in rows)
    letter = admin.get(f"/van-ban/tai?loai=cong-van-thang&period={PERIOD}")
    with zipfile.ZipFile(io.BytesIO(letter.content)) as docx:
        text = re.sub(r"<[^>]+>", "", docx.read("word/document.xml").decode("utf-8"))
    assert (f"Đến nay còn {explanation_missing} hồ sơ chưa có báo cáo giải trình và {apology_missing} hồ sơ chưa "
            "có thư xin lỗi.") in text
