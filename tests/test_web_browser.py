"""The web service in a real browser (Debian's chromium driven by Playwright), on the embedded store and on
PostgreSQL: the acceptance flow of issue 12 — log in, overview, sort the ranking, open a unit, click a figure and
see its dossiers, download a CSV and the month's letter, upload a file with a bad row and see the located error,
and a unit account refused another unit by page and by API.

``CHISO_SCREENSHOTS=1`` saves pictures of the main pages to docs/images/web-*.png (for the README)."""

from __future__ import annotations

import io
import os
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from conftest import postgres_schema, require, require_module
from web_support import AS_OF, PASSWORDS, PERIOD, Province, build

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
IMAGES = Path(__file__).resolve().parent.parent / "docs" / "images"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """uvicorn serving the app on 127.0.0.1 in a thread of this process."""

    def __init__(self, province: Province):
        import uvicorn

        from chiso.web.app import WebSettings, create_app

        self.port = _free_port()
        app = create_app(WebSettings(workspace=province.workspace, database=province.database, as_of=AS_OF))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture(scope="module", params=["duckdb", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Province, str]]:
    require(Path(CHROMIUM).exists(), f"chromium not installed ({CHROMIUM}): the setup installs Debian's chromium")
    require_module("playwright.sync_api", "playwright is not installed (the dev extras)")
    with ExitStack() as stack:
        database = None
        if request.param == "postgres":
            database = stack.enter_context(postgres_schema()).url
        province = build(tmp_path_factory.mktemp(f"web-browser-{request.param}"), database)
        server = Server(province)
        stack.callback(server.stop)
        yield province, server.url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(Path(CHROMIUM).exists(), f"chromium not installed ({CHROMIUM}): the setup installs Debian's chromium")
    sync_api = require_module("playwright.sync_api", "playwright is not installed (the dev extras)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield b
        b.close()


def _shot(page: Any, name: str) -> None:
    if os.environ.get("CHISO_SCREENSHOTS") == "1":
        IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(IMAGES / f"web-{name}.png"), full_page=False)


def _login(page: Any, url: str, name: str) -> None:
    page.goto(f"{url}/")
    assert "/dang-nhap" in page.url
    page.fill("#name", name)
    page.fill("#password", PASSWORDS[name])
    page.click("button[type=submit]")


def _numbers(texts: list[str]) -> list[float]:
    return [float(t.strip().replace(".", "").replace(",", ".")) for t in texts]


def test_a_clerk_goes_through_the_service(served: tuple[Province, str], browser: Any, tmp_path: Path) -> None:
    province, url = served
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="vi-VN")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    shots = province.database is None  # the pictures come from the embedded store's run

    # log in → overview of the province
    _login(page, url, "admin")
    page.wait_for_selector("h1")
    assert "Tỉnh Sơn La" in page.inner_text("h1")
    assert page.locator("svg.chart").count() == 2
    if shots:
        _shot(page, "tong-quan")

    # the ranking, sorted by total both ways with the header links (no JavaScript)
    page.click("nav >> text=Xếp hạng")
    page.select_option("#level", "commune")
    page.click("form.filters button")
    page.click("thead >> text=Tổng")
    ascending = _numbers(page.locator("table.ranking tbody tr td:nth-last-child(3)").all_inner_texts())
    assert len(ascending) >= 70 and ascending == sorted(ascending)
    page.click("thead >> text=Tổng")
    descending = _numbers(page.locator("table.ranking tbody tr td:nth-last-child(3)").all_inner_texts())
    assert descending == sorted(ascending, reverse=True)
    if shots:
        _shot(page, "xep-hang")

    # open a unit from the ranking
    with province.store() as store:
        name = str(store.con.execute("SELECT name FROM units WHERE code = ?", [province.commune]).fetchone()[0])
    page.click(f"table.ranking >> text={name}")
    assert page.inner_text("h1") == name
    if shots:
        _shot(page, "don-vi")

    # click a figure: the dossiers behind it, as many as the figure says
    card = page.locator("a.count-received")
    expected = int(card.locator(".value").inner_text().replace(".", ""))
    card.click()
    assert "Hồ sơ tiếp nhận trong kỳ" in page.inner_text("h1")
    assert page.locator("table tbody tr").count() == expected > 0

    # download that table as CSV
    with page.expect_download() as download:
        page.click("p.formats >> text=CSV")
    saved = tmp_path / "ho-so.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("\ufeffMã hồ sơ,")
    assert len(lines) == expected + 1

    # a dossier and why it is late (or not)
    page.locator("table tbody tr td a").first.click()
    assert page.inner_text("h1").startswith("Hồ sơ ")
    assert page.locator("ol.timeline li").count() >= 2
    if shots:
        _shot(page, "ho-so")

    # the month's letter, a real Word file
    page.goto(f"{url}/van-ban?period={PERIOD}")
    with page.expect_download(timeout=120_000) as download:
        page.click("text=Công văn công khai kết quả Bộ chỉ số tháng")
    letter = tmp_path / "cong-van.docx"
    download.value.save_as(letter)
    with zipfile.ZipFile(io.BytesIO(letter.read_bytes())) as docx:
        assert "Bộ chỉ số" in docx.read("word/document.xml").decode("utf-8")

    # upload a file with a bad row: the located error, nothing stored
    bad = tmp_path / "ho-so-loi.csv"
    bad.write_text("dossier_id,unit_code,procedure_code,channel,received_at\n"
                   f"WEB-1,{province.commune},X,direct,2025-09-10 08:00\n"
                   f"WEB-2,{province.commune},X,bằng bồ câu,2025-09-10 09:00\n", encoding="utf-8")
    page.goto(f"{url}/nap-du-lieu")
    page.set_input_files("#files", str(bad))
    page.click("form.stack button[type=submit]")
    assert "Không nạp tệp nào" in page.inner_text("p.error")
    issue_rows = page.locator("table.issues tbody tr").all_inner_texts()
    assert any("ho-so-loi.csv" in r and "\t3\t" in r and "channel" in r for r in issue_rows), issue_rows
    with province.store() as store:
        assert store.con.execute("SELECT count(*) FROM dossiers WHERE dossier_id LIKE 'WEB-%'").fetchone()[0] == 0

    if shots:
        page.goto(f"{url}/qua-han?period={PERIOD}")
        _shot(page, "qua-han")
        page.goto(f"{url}/du-bao?period={PERIOD}&ngay=2025-09-22")
        _shot(page, "du-bao")
        page.goto(f"{url}/cong-khai?period={PERIOD}")
        _shot(page, "cong-khai")
    # no script errors (there are no scripts), no blocked or missing resources; the refused upload's own 422 aside
    assert [e for e in errors if "422" not in e] == []
    context.close()


def test_pages_fit_a_phone_and_print_without_navigation(served: tuple[Province, str], browser: Any) -> None:
    province, url = served
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    _login(page, url, "admin")
    page.wait_for_selector("h1")
    for path in (f"/?period={PERIOD}", f"/xep-hang?period={PERIOD}", f"/don-vi/{province.commune}?period={PERIOD}",
                 f"/qua-han?period={PERIOD}"):
        page.goto(url + path)
        # wide tables scroll inside their own box; the page itself never scrolls sideways
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        if path.startswith("/xep-hang"):
            _shot(page, "dien-thoai") if province.database is None else None
    page.emulate_media(media="print")
    assert page.locator("nav").is_hidden() and page.locator("form.period").is_hidden()
    context.close()


def test_a_unit_account_is_refused_another_unit(served: tuple[Province, str], browser: Any) -> None:
    province, url = served
    context = browser.new_context()
    page = context.new_page()
    _login(page, url, "xa")
    page.wait_for_selector("h1")
    assert f"/don-vi/{province.commune}" in page.url  # a commune's account lands on its own page
    answer = page.goto(f"{url}/don-vi/{province.other_commune}?period={PERIOD}")
    assert answer is not None and answer.status == 403
    assert "Không có quyền" in page.inner_text("h1")
    api = context.request.get(f"{url}/api/units/{province.other_commune}/dossiers",
                              headers={"Authorization": f"Bearer {province.tokens['xa']}"})
    assert api.status == 403
    own = context.request.get(f"{url}/api/units/{province.commune}/dossiers",
                              headers={"Authorization": f"Bearer {province.tokens['xa']}"})
    assert own.status == 200 and len(own.json()) > 0
    context.close()
