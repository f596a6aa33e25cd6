"""Who may see what on the web service: every route × every role, on a real workspace (issue 12 §4).

The matrix below is written by hand from the rules in docs/web.md (admin: everything; unit: its unit and the units
below it; viewer: aggregates, never a dossier; anonymous: the login and public pages only). Every route of the
application must have a row: a new route without one fails :func:`test_every_route_is_in_the_matrix`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount

from chiso import accounts
from chiso.web.app import WebSettings, all_routes, create_app
from web_support import AS_OF, PERIOD, Province, build, csrf_of, login

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
ROLES = ("anonymous", "admin", "viewer", "xa", "so")


@pytest.fixture(scope="module")
def province(tmp_path_factory: pytest.TempPathFactory) -> Province:
    return build(tmp_path_factory.mktemp("web-access"))


@pytest.fixture(scope="module")
def app(province: Province) -> Iterator[Any]:
    application = create_app(WebSettings(workspace=province.workspace, as_of=AS_OF, warm=False))
    with TestClient(application):  # runs the lifespan once; clients below share the app
        yield application


@pytest.fixture(scope="module")
def clients(app: Any) -> Iterator[dict[str, TestClient]]:
    out = {}
    for role in ROLES:
        client = TestClient(app)
        if role != "anonymous":
            login(client, role)
        out[role] = client
    yield out


def _dossier_row(province: Province, dossier_id: str) -> dict[str, Any]:
    with province.store() as store:
        cur = store.con.execute("SELECT * FROM dossiers WHERE dossier_id = ?", [dossier_id])
        names = [d[0] for d in cur.description]
        row = dict(zip(names, cur.fetchone(), strict=True))
    return {k: (v.isoformat(sep=" ") if hasattr(v, "isoformat") else v) for k, v in row.items()
            if k not in ("row_hash", "load_id")}


# route -> (method, url with {own}/{other} for a unit code, {own_dossier}/{other_dossier}) and the expected
# status per role, for the user's own unit ("own") and another unit ("other"). 303 = to the login page (anonymous)
# or, for a unit account on the overview, to its own unit's page.
P = f"period={PERIOD}"
MATRIX: dict[tuple[str, str], list[tuple[str, dict[str, int]]]] = {
    ("GET", "/dang-nhap"): [("/dang-nhap", dict(anonymous=200, admin=200, viewer=200, xa=200, so=200))],
    ("GET", "/"): [(f"/?{P}", dict(anonymous=303, admin=200, viewer=200, xa=303, so=303))],
    ("GET", "/xep-hang"): [(f"/xep-hang?{P}", dict(anonymous=303, admin=200, viewer=200, xa=200, so=200))],
    ("GET", "/don-vi/{code}"): [
        (f"/don-vi/{{own}}?{P}", dict(anonymous=303, admin=200, viewer=200, xa=200, so=200)),
        (f"/don-vi/{{other}}?{P}", dict(anonymous=303, admin=200, viewer=200, xa=403, so=403))],
    ("GET", "/don-vi/{code}/ho-so"): [
        (f"/don-vi/{{own}}/ho-so?figure=received&{P}", dict(anonymous=303, admin=200, viewer=403, xa=200, so=200)),
        (f"/don-vi/{{other}}/ho-so?figure=received&{P}", dict(anonymous=303, admin=200, viewer=403, xa=403,
                                                               so=403))],
    ("GET", "/ho-so/{dossier_id}"): [
        ("/ho-so/{own_dossier}", dict(anonymous=303, admin=200, viewer=403, xa=200, so=403)),
        ("/ho-so/{other_dossier}", dict(anonymous=303, admin=200, viewer=403, xa=403, so=403))],
    ("GET", "/du-bao"): [(f"/du-bao?{P}", dict(anonymous=303, admin=200, viewer=200, xa=200, so=200))],
    ("GET", "/qua-han"): [(f"/qua-han?{P}", dict(anonymous=303, admin=200, viewer=403, xa=200, so=200))],
    ("GET", "/nap-du-lieu"): [("/nap-du-lieu", dict(anonymous=303, admin=200, viewer=403, xa=403, so=403))],
    # no file chosen: the admin gets the form back with the message (400); nobody else gets that far
    ("POST", "/nap-du-lieu"): [("/nap-du-lieu", dict(anonymous=303, admin=400, viewer=403, xa=403, so=403))],
    ("GET", "/van-ban"): [(f"/van-ban?{P}", dict(anonymous=303, admin=200, viewer=403, xa=403, so=403))],
    # an unknown kind of document: 400 for the admin (the documents themselves are checked in test_web_api)
    ("GET", "/van-ban/tai"): [("/van-ban/tai?loai=khong-co", dict(anonymous=303, admin=400, viewer=403, xa=403,
                                                                 so=403))],
    ("GET", "/cong-khai"): [(f"/cong-khai?{P}", dict(anonymous=200, admin=200, viewer=200, xa=200, so=200))],
    # an empty form: the dossier's unit is checked first (403 out of scope), then the missing date (400)
    ("POST", "/qua-han/{dossier_id}"): [
        ("/qua-han/{own_dossier}", dict(anonymous=303, admin=400, viewer=403, xa=400, so=403)),
        ("/qua-han/{other_dossier}", dict(anonymous=303, admin=400, viewer=403, xa=403, so=403))],
    # nothing attached yet: 404 for those who may see the dossier
    ("GET", "/qua-han/{dossier_id}/tep/{action}"): [
        ("/qua-han/{own_dossier}/tep/explanation", dict(anonymous=303, admin=404, viewer=403, xa=404, so=403)),
        ("/qua-han/{other_dossier}/tep/apology", dict(anonymous=303, admin=404, viewer=403, xa=403, so=403))],
    ("POST", "/dang-nhap"): [],  # test_login_*
    ("POST", "/dang-xuat"): [],  # test_logout_needs_the_csrf_token
    ("GET", "/api/scores"): [
        (f"/api/scores?{P}&unit={{own}}", dict(anonymous=401, admin=200, viewer=200, xa=200, so=200)),
        (f"/api/scores?{P}&unit={{other}}", dict(anonymous=401, admin=200, viewer=200, xa=403, so=403))],
    ("GET", "/api/units/{code}/dossiers"): [
        ("/api/units/{own}/dossiers", dict(anonymous=401, admin=200, viewer=403, xa=200, so=200)),
        ("/api/units/{other}/dossiers", dict(anonymous=401, admin=200, viewer=403, xa=403, so=403))],
    ("POST", "/api/dossiers"): [
        ("own_row", dict(anonymous=401, admin=200, viewer=403, xa=200, so=403)),
        ("other_row", dict(anonymous=401, admin=200, viewer=403, xa=403, so=403))],
    ("GET", "/openapi.json"): [("/openapi.json", dict(anonymous=200, admin=200, viewer=200, xa=200, so=200))],
    ("GET", "/static"): [("/static/chiso.css", dict(anonymous=200, admin=200, viewer=200, xa=200, so=200))],
}


def _routes(app: Any) -> set[tuple[str, str]]:
    out = set()
    for route in all_routes(app):
        if isinstance(route, Mount):
            out.add(("GET", route.path))
        else:
            for method in sorted(getattr(route, "methods", None) or ()):
                if method != "HEAD":
                    out.add((method, route.path))
    return out


def test_every_route_is_in_the_matrix(app: Any) -> None:
    assert _routes(app) == set(MATRIX)


def _declares_need(dependant: Any) -> bool:
    return any(hasattr(d.call, "need") or _declares_need(d) for d in dependant.dependencies)


def test_every_page_and_endpoint_goes_through_the_access_layer(app: Any) -> None:
    ours = [r for r in all_routes(app) if isinstance(r, APIRoute)]
    assert len(ours) >= 15
    missing = [r.path for r in ours if not _declares_need(r.dependant)]
    assert missing == []


def _request(client: TestClient, role: str, method: str, url: str, province: Province) -> Any:
    headers = {}
    if url.startswith("/api/") or url.endswith("_row"):
        headers = {"Authorization": f"Bearer {province.tokens[role]}"} if role != "anonymous" else {}
        client = TestClient(client.app)  # the API by token alone: no session cookie
    if method == "POST" and url.endswith("_row"):
        unit_is_own = url == "own_row"
        dossier = province.dossier_own if unit_is_own else province.dossier_other
        return client.post("/api/dossiers", json=[_dossier_row(province, dossier)], headers=headers)
    if method == "POST":
        data = {"csrf": csrf_of(client, "/cong-khai")} if role != "anonymous" else {}
        return client.post(url, data=data, headers=headers, follow_redirects=False)
    return client.get(url, headers=headers, follow_redirects=False)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_role_by_route(route: tuple[str, str], province: Province, clients: dict[str, TestClient]) -> None:
    for template, expected in MATRIX[route]:
        for role, status in expected.items():
            own = {"xa": province.commune, "so": province.department}.get(role, province.commune)
            url = template.format(own=own, other=province.other_commune, own_dossier=province.dossier_own,
                                  other_dossier=province.dossier_other)
            if role == "so" and "{own_dossier}" in template:
                url = template.format(own_dossier=province.dossier_own)  # a commune's dossier: not the department's
            answer = _request(clients[role], role, route[0], url, province)
            assert answer.status_code == status, f"{role} {route[0]} {url}: {answer.status_code} {answer.text[:300]}"
            if status == 303 and role == "anonymous":
                assert answer.headers["location"].startswith("/dang-nhap?next=")
            if status == 401:
                assert answer.headers.get("www-authenticate") == "Bearer"
                assert "đăng nhập" in answer.json()["detail"].lower()


def test_unit_account_sees_only_its_units_in_the_ranking(province: Province, clients: dict[str, TestClient]) -> None:
    rows = clients["xa"].get(f"/xep-hang?{P}&format=json").json()
    assert [r["code"] for r in rows] == [province.commune]
    everyone = clients["viewer"].get(f"/xep-hang?{P}&format=json").json()
    assert {province.commune, province.other_commune, "14.STP", "14"} <= {r["code"] for r in everyone}


def test_viewer_sees_aggregates_but_no_dossier_id(province: Province, clients: dict[str, TestClient]) -> None:
    page = clients["viewer"].get(f"/don-vi/{province.commune}?{P}")
    assert page.status_code == 200
    with province.store() as store:
        ids = [str(r[0]) for r in store.con.execute("SELECT dossier_id FROM dossiers").fetchall()]
    assert not [i for i in ids if i in page.text]
    assert "/ho-so" not in page.text


def test_public_page_shows_published_results_and_never_a_dossier_id(province: Province,
                                                                     clients: dict[str, TestClient]) -> None:
    anonymous = clients["anonymous"]
    html = anonymous.get(f"/cong-khai?{P}").text
    csv_text = anonymous.get(f"/cong-khai?{P}&format=csv").text
    data = anonymous.get(f"/cong-khai?{P}&format=json").json()
    with province.store() as store:
        ids = [str(r[0]) for r in store.con.execute("SELECT dossier_id FROM dossiers").fetchall()]
        published = json.loads(store.con.execute("SELECT results FROM publications").fetchone()[0])
    for text in (html, csv_text, json.dumps(data, ensure_ascii=False)):
        assert not [i for i in ids if i in text]
    # the published totals, not a fresh scoring
    assert {r["code"]: r["total"] for r in data} == {r["code"]: r["total"] for r in published}
    # overdue count = handled − handled not late of the published on-time indicator
    commune = next(r for r in published if r["code"] == province.commune)
    ind = commune["indicators"]["PROGRESS_ON_TIME"]
    assert next(r for r in data if r["code"] == province.commune)["overdue"] == ind["denominator"] - ind["numerator"]
    assert anonymous.get("/cong-khai?period=2025-08").status_code == 200  # not published: says so, shows nothing
    assert "Chưa có kết quả nào được công bố" in anonymous.get("/cong-khai?period=2025-08").text


def test_forms_without_the_csrf_token_are_refused(clients: dict[str, TestClient]) -> None:
    admin = clients["admin"]
    answer = admin.post("/nap-du-lieu", files={"files": ("a.csv", b"x\n1\n", "text/csv")})
    assert answer.status_code == 403
    assert "mã chống giả mạo" in answer.text
    answer = admin.post("/nap-du-lieu", data={"csrf": "not-the-token"}, files={"files": ("a.csv", b"x\n", "text/csv")})
    assert answer.status_code == 403


def test_logout_needs_the_csrf_token(app: Any) -> None:
    client = TestClient(app)
    login(client, "viewer")
    assert client.post("/dang-xuat", follow_redirects=False).status_code == 403
    assert client.get(f"/xep-hang?{P}", follow_redirects=False).status_code == 200  # still logged in
    token = csrf_of(client, f"/xep-hang?{P}")
    assert client.post("/dang-xuat", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert client.get(f"/xep-hang?{P}", follow_redirects=False).status_code == 303  # logged out


def test_login_is_throttled_after_repeated_failures(app: Any, province: Province) -> None:
    with province.store() as store:
        accounts.add_user(store, "thu", "viewer", "mat-khau-dung-roi")
    client = TestClient(app)
    for _ in range(accounts.MAX_FAILURES):
        page = client.get("/dang-nhap")
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        wrong = client.post("/dang-nhap", data={"csrf": token, "name": "thu", "password": "sai-mat-khau"})
        assert wrong.status_code == 401
        assert "không đúng" in wrong.text
    page = client.get("/dang-nhap")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    right = client.post("/dang-nhap", data={"csrf": token, "name": "thu", "password": "mat-khau-dung-roi"},
                        follow_redirects=False)
    assert right.status_code == 429
    assert "Thử lại sau 15 phút" in right.text


def test_login_redirects_only_inside_the_site(app: Any) -> None:
    client = TestClient(app)
    page = client.get("/dang-nhap?next=//evil.example/")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    answer = client.post("/dang-nhap?next=//evil.example/", data={"csrf": token, "name": "viewer",
                                                                 "password": "mat-khau-chi-xem"},
                         follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_a_disabled_account_stops_at_once(app: Any, province: Province) -> None:
    with province.store() as store:
        accounts.add_user(store, "tam", "unit", "mat-khau-tam-thoi", unit_code=province.commune)
        token = accounts.issue_token(store, "tam")
    client = TestClient(app)
    login(client, "tam", "mat-khau-tam-thoi")
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/don-vi/{province.commune}?{P}").status_code == 200
    assert TestClient(app).get(f"/api/units/{province.commune}/dossiers", headers=bearer).status_code == 200
    with province.store() as store:
        accounts.disable_user(store, "tam")
    assert client.get(f"/don-vi/{province.commune}?{P}", follow_redirects=False).status_code == 303
    assert TestClient(app).get(f"/api/units/{province.commune}/dossiers", headers=bearer).status_code == 401
    assert TestClient(app).get("/api/scores?period=2025-09", headers={"Authorization": "Bearer sai"}).status_code == 401


def test_security_headers(clients: dict[str, TestClient]) -> None:
    answer = clients["admin"].get(f"/?{P}")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["referrer-policy"] == "no-referrer"
    cookie = TestClient(clients["admin"].app).get("/dang-nhap").headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_no_api_documentation_page_loads_scripts_from_a_cdn(clients: dict[str, TestClient]) -> None:
    assert clients["admin"].get("/docs").status_code == 404
    spec = clients["anonymous"].get("/openapi.json").json()
    assert {"/api/scores", "/api/units/{code}/dossiers", "/api/dossiers"} <= set(spec["paths"])


def test_accounts_store_only_hashes(province: Province) -> None:
    with province.store() as store:
        rows = store.con.execute("SELECT name, password_hash FROM users").fetchall()
        tokens = [str(r[0]) for r in store.con.execute("SELECT token_hash FROM api_tokens").fetchall()]
        audit = " ".join(str(r[0]) for r in store.con.execute("SELECT details FROM audit_log").fetchall())
    from web_support import PASSWORDS

    for name, digest in rows:
        assert str(digest).startswith("$argon2id$")
        if name in PASSWORDS:
            assert PASSWORDS[name] not in str(digest)
    for token in province.tokens.values():
        assert token not in tokens and token not in audit
    for password in PASSWORDS.values():
        assert password not in audit


def test_accounts_refuse_bad_input(province: Province) -> None:
    with province.store() as store:
        for args, message in [(("Bad Name", "viewer", "mat-khau-du-dai"), "không hợp lệ"),
                              (("ok1", "root", "mat-khau-du-dai"), "vai trò"),
                              (("ok2", "viewer", "ngan"), "ít nhất"),
                              (("admin", "viewer", "mat-khau-du-dai"), "đã có")]:
            with pytest.raises(accounts.AccountError, match=message):
                accounts.add_user(store, *args)
        with pytest.raises(accounts.AccountError, match="cần --unit"):
            accounts.add_user(store, "ok3", "unit", "mat-khau-du-dai")
        with pytest.raises(accounts.AccountError, match="không có đơn vị"):
            accounts.add_user(store, "ok4", "unit", "mat-khau-du-dai", unit_code="99.KHONG")


def test_server_lock_message(province: Province, tmp_path: Path) -> None:
    """A CLI command on a workspace a running server holds says so, in Vietnamese, instead of a lock error."""
    import os

    from chiso.web.lock import busy_message, remove_lock, running_server, write_lock

    write_lock(tmp_path, "127.0.0.1", 8123)
    try:
        server = running_server(tmp_path)
        assert server == {"pid": os.getpid(), "host": "127.0.0.1", "port": 8123, "url": "http://127.0.0.1:8123/"}
        message = busy_message(tmp_path)
        assert message and "http://127.0.0.1:8123/" in message and "Nạp dữ liệu" in message
    finally:
        remove_lock(tmp_path)
    assert running_server(tmp_path) is None


def test_the_server_runs_the_daily_alerts_when_asked(province: Province) -> None:
    import threading

    application = create_app(WebSettings(workspace=province.workspace, as_of=AS_OF, warm=False, alerts=True))
    with TestClient(application):
        assert any(t.name == "chiso-alerts" and t.is_alive() for t in threading.enumerate())
    assert not any(t.name == "chiso-alerts" for t in threading.enumerate())


def test_a_command_on_a_workspace_the_server_holds_names_the_server(tmp_path: Path) -> None:
    """With the embedded store the server is the only writer: a CLI command gets a Vietnamese message pointing to
    the server and its upload page (status 75), not a lock error; after the server stops, commands work again."""
    import signal
    import socket
    import subprocess
    import sys
    import time

    import httpx

    ws = tmp_path / "ws"
    chiso = [sys.executable, "-m", "chiso.cli", "-w", str(ws)]
    subprocess.run([*chiso, "units", "init", "--province", "Sơn La"], check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([*chiso, "serve", "--port", str(port)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/dang-nhap", timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, server.stderr.read() if server.stderr \
                    else ""
                time.sleep(0.2)
        assert (ws / "serve.lock").exists()
        for args in (["status", "--as-of", "2025-09-30"], ["load", str(ws / "units")]):
            done = subprocess.run([*chiso, *args], capture_output=True, text=True)
            assert done.returncode == 75, done.stderr
            assert f"http://127.0.0.1:{port}/" in done.stderr and "trang Nạp dữ liệu" in done.stderr
            assert "Traceback" not in done.stderr and "lock" not in done.stderr.lower()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    assert not (ws / "serve.lock").exists()
    after = subprocess.run([*chiso, "status", "--as-of", "2025-09-30"], capture_output=True, text=True)
    assert after.returncode == 0, after.stderr


def test_hostile_requests_are_refused_before_they_cost_anything(province: Province,
                                                               clients: dict[str, TestClient]) -> None:
    admin = clients["admin"]
    token = csrf_of(admin)
    # a form declaring more than the largest upload: refused before it is read
    big = admin.post("/nap-du-lieu", content=b"x" * 10,
                     headers={"content-type": "multipart/form-data; boundary=b", "content-length": str(300 << 20)})
    assert big.status_code == 413 and "quá lớn" in big.text
    # the API body is read with a cap, declared or not
    huge = TestClient(admin.app).post("/api/dossiers", content=b"[" + b" " * (101 << 20) + b"]",
                                      headers={"Authorization": f"Bearer {province.tokens['admin']}",
                                               "content-type": "application/json"})
    assert huge.status_code == 413
    # query values that end up in links are checked, and reflected text is not shown unless it is data
    assert admin.get(f"/xep-hang?{P}&level=commune%22%3E%3Cscript%3E").status_code == 400
    page = admin.get(f"/qua-han?{P}&ok=G%E1%BB%8Di%20s%E1%BB%91%200900").text
    assert "Gọi số 0900" not in page and "Đã ghi nhận" not in page
    assert token  # the session still works after the refusals
    assert admin.get(f"/xep-hang?{P}").status_code == 200
