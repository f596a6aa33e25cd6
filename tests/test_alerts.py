"""Alerts (`chiso alerts`, chiso.alerts): which dossiers are overdue or due within N working days, counted by hand
on the calendar; delivery to a real SMTP server (aiosmtpd) and a real HTTP receiver on 127.0.0.1; idempotence per
day; failures reported; configuration checked; the daily scheduler.

Calendar facts used (Việt Nam, 2025): Fri 26/9 → Mon 29/9 is one working day; 30/8–31/8 is a weekend and 1/9–2/9
are the National Day holidays, so the working day after Fri 29/8 is Wed 3/9; Sat 26/4 is a make-up working day.
Due dates come from the source (dossiers.due_at), so no deadline arithmetic is involved.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import socket
import threading
from collections.abc import Iterator
from datetime import date, datetime
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from chiso import alerts
from chiso.cli import main
from chiso.config import ConfigError, parse_config
from chiso.store.audit import entries
from chiso.store.db import Store
from conftest import UNIT, Workspace, require_module

OTHER = "14.SCT"  # Sở Công Thương
RECEIVED = "2025-09-15 09:00"


def dossier(did: str, due: str, unit: str = UNIT, **extra: Any) -> dict[str, Any]:
    return {"dossier_id": did, "unit_code": unit, "procedure_code": "P5", "channel": "online",
            "received_at": RECEIVED, "due_at": due, "finished_at": "", **extra}


def load(ws: Workspace, rows: list[dict[str, Any]]) -> None:
    ws.load("procedures", [{"code": "P5", "name": "Cấp phiếu lý lịch tư pháp", "time_limit": 5,
                            "time_unit": "working_days"}])
    ws.load("dossiers", rows)


def ids(items: list[alerts.Item]) -> dict[str, int | None]:
    return {i.dossier_id: i.working_days for i in items}


def week_of_26_september(ws: Workspace) -> None:
    load(ws, [
        dossier("A", "2025-09-26 16:00"),          # Friday afternoon: due today
        dossier("B", "2025-09-29 17:00"),          # end of Monday: the 1st working day after Friday
        dossier("C", "2025-09-30 07:30"),          # Tuesday morning: the 2nd
        dossier("D", "2025-09-26 09:00"),          # an hour before the as-of moment: overdue
        dossier("E", "2025-09-24 10:00"),          # Wednesday: overdue, 2 working days (Thu, Fri)
        dossier("F", "2025-09-26 16:00", finished_at="2025-09-25 10:00"),  # ended: nothing to say
        dossier("G", "2025-09-29 09:00"),          # waiting for the citizen: the clock is stopped
    ])
    ws.load("pauses", [{"dossier_id": "G", "kind": "supplement", "started_at": "2025-09-25 10:00", "ended_at": ""}])


def test_due_within_n_working_days_across_a_weekend(ws: Workspace) -> None:
    week_of_26_september(ws)
    friday = datetime(2025, 9, 26, 10, 0)
    plan = alerts.build_plan(ws.store, friday, days=1)
    [unit] = plan.units
    assert unit.code == UNIT
    assert ids(unit.due_soon) == {"A": 0, "B": 1}
    assert ids(unit.overdue) == {"D": 0, "E": 2}
    assert plan.limit_day == date(2025, 9, 29)

    assert ids(alerts.build_plan(ws.store, friday, days=0).units[0].due_soon) == {"A": 0}
    assert ids(alerts.build_plan(ws.store, friday, days=2).units[0].due_soon) == {"A": 0, "B": 1, "C": 2}
    # Saturday counts as Friday: Monday is still 1 working day ahead; A (Fri 16:00) is now overdue.
    saturday = alerts.build_plan(ws.store, datetime(2025, 9, 27, 10, 0), days=1).units[0]
    assert ids(saturday.due_soon) == {"B": 1}
    assert ids(saturday.overdue) == {"A": 0, "D": 0, "E": 2}


def test_a_holiday_is_skipped_like_a_weekend(ws: Workspace) -> None:
    august = "2025-08-20 09:00"
    load(ws, [dossier("H", "2025-09-03 16:00", received_at=august),
              dossier("I", "2025-09-04 08:00", received_at=august),
              dossier("J", "2025-08-28 10:00", received_at=august)])
    plan = alerts.build_plan(ws.store, datetime(2025, 8, 29, 10, 0), days=1)
    assert plan.limit_day == date(2025, 9, 3)
    [unit] = plan.units
    assert ids(unit.due_soon) == {"H": 1}
    assert ids(unit.overdue) == {"J": 1}
    assert ids(alerts.build_plan(ws.store, datetime(2025, 8, 29, 10, 0), days=2).units[0].due_soon) == {"H": 1, "I": 2}


# --- real receivers ----------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler: refuses the addresses in ``refuse`` (550), keeps every message it accepts."""

    def __init__(self) -> None:
        self.refuse: set[str] = set()
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.messages if rcpt == [address]]


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    controller_mod = require_module("aiosmtpd.controller", "aiosmtpd is not installed (dev extras)")
    box, port = Mailbox(), free_port()
    controller = controller_mod.Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


class Receiver(ThreadingHTTPServer):
    status = 200
    received: list[tuple[dict[str, str], bytes]]


class Hook(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[Receiver]:
    server = Receiver(("127.0.0.1", 0), Hook)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def configure(ws: Workspace, port: int | None, hook: Receiver | None, recipients: str) -> None:
    text = "[alerts]\ndays = 1\n"
    if port:
        text += f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nfrom = "chiso@sonla.gov.vn"\n'
    if hook:
        text += (f'[alerts.webhook]\nurl = "http://127.0.0.1:{hook.server_address[1]}/hook?token=abc"\n'
                 'secret_env = "CHISO_TEST_HOOK_SECRET"\n')
    ws.config(text + "[alerts.recipients]\n" + recipients)


def cli(ws: Workspace, *args: str) -> Any:
    ws.store.close()
    return CliRunner().invoke(main, ["--workspace", str(ws.store.workspace), "alerts", *args])


def test_mail_and_webhook_with_a_refused_recipient(ws: Workspace, smtp: tuple[Mailbox, int], hook: Receiver,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    box, port = smtp
    week_of_26_september(ws)
    ws.load("dossiers", [dossier("K", "2025-09-25 15:00", unit=OTHER)])  # overdue 1 working day (Fri)
    monkeypatch.setenv("CHISO_TEST_HOOK_SECRET", "bí mật")
    configure(ws, port, hook, f'"{UNIT}" = ["tuphap@sonla.gov.vn", "nobody@sonla.gov.vn"]\n'
                              'default = ["vanphong@sonla.gov.vn"]\n')
    box.refuse = {"nobody@sonla.gov.vn"}

    result = cli(ws, "--as-of", "2025-09-26 10:00")
    assert result.exit_code == 1
    assert "nobody@sonla.gov.vn" in result.stderr and "từ chối" in result.stderr
    assert "Đã gửi 2 thư, webhook 2 đơn vị." in result.stdout

    [mail] = box.to("tuphap@sonla.gov.vn")
    assert mail["Subject"] == "[chiso] Sở Tư pháp: 2 hồ sơ quá hạn, 2 hồ sơ sắp đến hạn (26/09/2025)"
    assert mail["From"] == "chiso@sonla.gov.vn" and mail["To"] == "tuphap@sonla.gov.vn"
    text = mail.get_body().get_content()
    assert "Hồ sơ đang xử lý QUÁ HẠN: 2" in text and "quá 2 ngày làm việc" in text
    assert "SẮP ĐẾN HẠN trong 1 ngày làm việc (đến hết ngày 29/09/2025): 2" in text
    assert "- B — Cấp phiếu lý lịch tư pháp (P5): hạn 17:00 29/09/2025, còn 1 ngày làm việc" in text
    listed = {line.split(" — ")[0][2:] for line in text.splitlines() if line.startswith("- ")}
    assert listed == {"A", "B", "D", "E"}
    [other] = box.to("vanphong@sonla.gov.vn")  # Sở Công Thương has no address of its own: the province office
    assert "Sở Công Thương" in other["Subject"] and "- K — " in other.get_body().get_content()
    assert len(box.messages) == 2

    [(headers, body)] = hook.received
    expected = "sha256=" + hmac.new("bí mật".encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-chiso-signature"] == expected
    payload = json.loads(body)
    assert payload["as_of"] == "2025-09-26 10:00:00" and payload["days"] == 1 and payload["due_by"] == "2025-09-29"
    by_code = {u["code"]: u for u in payload["units"]}
    assert set(by_code) == {UNIT, OTHER}
    assert [(d["dossier_id"], d["working_days_late"]) for d in by_code[OTHER]["overdue"]] == [("K", 1)]
    assert {d["dossier_id"] for d in by_code[UNIT]["due_soon"]} == {"A", "B"}

    with Store.open(ws.store.workspace) as store:
        log = entries(store.con, actions=["alert_sent", "alert_failed"])
    assert sorted((e.action, e.details["recipient"]) for e in log if e.details["channel"] == "email") == [
        ("alert_failed", "nobody@sonla.gov.vn"), ("alert_sent", "tuphap@sonla.gov.vn"),
        ("alert_sent", "vanphong@sonla.gov.vn")]
    hook_entry = next(e for e in log if e.details["channel"] == "webhook")
    assert "token" not in json.dumps(hook_entry.details) and hook_entry.details["overdue"] == 3

    # The same day again: only the failed delivery is tried again (and fails again).
    box.refuse = set()
    again = cli(ws, "--as-of", "2025-09-26 11:00")
    assert again.exit_code == 0, again.output
    assert [rcpt for rcpt, _ in box.messages[2:]] == [["nobody@sonla.gov.vn"]]
    assert len(hook.received) == 1
    assert "Bỏ qua 3 lần gửi" in again.stdout
    # --force sends everything again.
    forced = cli(ws, "--as-of", "2025-09-26 11:00", "--force")
    assert forced.exit_code == 0, forced.output
    assert len(box.messages) == 6 and len(hook.received) == 2


def test_webhook_failure_does_not_stop_the_mail(ws: Workspace, smtp: tuple[Mailbox, int], hook: Receiver,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    box, port = smtp
    week_of_26_september(ws)
    monkeypatch.setenv("CHISO_TEST_HOOK_SECRET", "s")
    configure(ws, port, hook, f'"{UNIT}" = ["tuphap@sonla.gov.vn"]\n')
    hook.status = 500
    result = cli(ws, "--as-of", "2025-09-26 10:00")
    assert result.exit_code == 1
    assert "webhook http://127.0.0.1:" in result.stderr and "trả lời mã 500" in result.stderr
    assert "token=abc" not in result.output
    assert len(box.to("tuphap@sonla.gov.vn")) == 1
    hook.status = 200
    assert cli(ws, "--as-of", "2025-09-26 12:00").exit_code == 0  # the webhook is retried, the mail is not
    assert len(hook.received) == 2 and len(box.messages) == 1


def test_dry_run_sends_nothing(ws: Workspace, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    week_of_26_september(ws)
    configure(ws, port, None, f'"{UNIT}" = ["tuphap@sonla.gov.vn"]\n')
    result = cli(ws, "--as-of", "2025-09-26 10:00", "--dry-run", "--unit", UNIT)
    assert result.exit_code == 0, result.output
    assert "Gửi thư tới (của đơn vị): tuphap@sonla.gov.vn" in result.stdout and "- E — " in result.stdout
    assert box.messages == []
    unknown = cli(ws, "--as-of", "2025-09-26 10:00", "--unit", "14.KHONGCO")
    assert unknown.exit_code == 2 and "không có đơn vị '14.KHONGCO'" in unknown.stderr


def test_no_header_injection_from_a_unit_name(ws: Workspace, smtp: tuple[Mailbox, int]) -> None:
    box, port = smtp
    # The loader refuses control characters; a name written into the store some other way must still be harmless.
    ws.store.con.execute("INSERT INTO units (code, name, level, parent_code, province_code, row_hash) "
                         "VALUES ('14.XX', ?, 'department', '14', '14', 'x')",
                         ["Sở Thử\r\nBcc: evil@attacker.example\u2028X-Evil: 1"])
    load(ws, [dossier("Z", "2025-09-24 10:00", unit="14.XX")])
    configure(ws, port, None, '"14.XX" = ["thu@sonla.gov.vn"]\n')
    report = alerts.run(ws.store, datetime(2025, 9, 26, 10, 0))
    assert report.failures == []
    [(rcpt, msg)] = box.messages
    assert rcpt == ["thu@sonla.gov.vn"]
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    # One line, every space kept (a long Vietnamese subject is folded into several encoded words).
    assert msg["Subject"] == ("[chiso] Sở Thử Bcc: evil@attacker.example X-Evil: 1: 1 hồ sơ quá hạn, "
                              "0 hồ sơ sắp đến hạn (26/09/2025)")


def test_smtp_login_uses_the_password_from_the_environment(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    controller_mod = require_module("aiosmtpd.controller", "aiosmtpd is not installed (dev extras)")
    from aiosmtpd.smtp import AuthResult, LoginPassword

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"chiso", b"Mat-khau-9")
        return AuthResult(success=ok, handled=False)  # aiosmtpd answers 535 itself

    box, port = Mailbox(), free_port()
    controller = controller_mod.Controller(box, hostname="127.0.0.1", port=port, authenticator=check,
                                           auth_require_tls=False)
    controller.start()
    try:
        week_of_26_september(ws)
        ws.config(f'[alerts.smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "none"\nuser = "chiso"\n'
                  'password_env = "CHISO_TEST_SMTP_PASSWORD"\nfrom = "chiso@sonla.gov.vn"\n'
                  f'[alerts.recipients]\n"{UNIT}" = ["tuphap@sonla.gov.vn"]\n')
        monkeypatch.delenv("CHISO_TEST_SMTP_PASSWORD", raising=False)
        [missing] = alerts.run(ws.store, datetime(2025, 9, 26, 10, 0)).failures
        assert "CHISO_TEST_SMTP_PASSWORD" in missing.error and "chưa được đặt" in missing.error
        monkeypatch.setenv("CHISO_TEST_SMTP_PASSWORD", "Wrong-Pw-123")
        [wrong] = alerts.run(ws.store, datetime(2025, 9, 26, 10, 0)).failures
        assert "từ chối đăng nhập" in wrong.error and "Wrong-Pw-123" not in wrong.error
        monkeypatch.setenv("CHISO_TEST_SMTP_PASSWORD", "Mat-khau-9")
        report = alerts.run(ws.store, datetime(2025, 9, 26, 10, 0))
        assert report.failures == [] and len(box.messages) == 1
    finally:
        controller.stop()
    logged = json.dumps([e.details for e in entries(ws.store.con, actions=["alert_sent", "alert_failed"])])
    assert "Mat-khau-9" not in logged and "Wrong-Pw-123" not in logged


# --- configuration ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "names"), [
    ('[alerts]\ndays = -1\n', "alerts.days"),
    ('[alerts]\nhour = "25:00"\n', "alerts.hour"),
    ('[alerts]\ncolour = 1\n', "colour"),
    ('[alerts.smtp]\nhost = "mail"\nfrom = "chiso@sonla.gov.vn"\npassword = "x"\n', "password_env"),
    ('[alerts.smtp]\nhost = "mail"\nfrom = "chiso@sonla.gov.vn"\nuser = "u"\n', "password_env"),
    ('[alerts.smtp]\nhost = "mail"\nfrom = "không phải địa chỉ"\n', "alerts.smtp.from"),
    ('[alerts.smtp]\nhost = "mail"\nfrom = "a@b.vn"\nsecurity = "tls"\n', "alerts.smtp.security"),
    ('[alerts.smtp]\nhost = "mail"\nfrom = "a@b.vn"\npassword_env = "MẬT KHẨU"\nuser = "u"\n', "password_env"),
    ('[alerts.webhook]\nurl = "ftp://example.org/x"\n', "alerts.webhook.url"),
    ('[alerts.webhook]\nurl = "file:///etc/passwd"\n', "alerts.webhook.url"),
    ('[alerts.webhook]\nurl = "https://user:pw@example.org/"\n', "alerts.webhook.url"),
    ('[alerts.recipients]\n14.STP = ["a@b.vn"]\n', "ngoặc kép"),
    ('[alerts.recipients]\n"14.STP" = ["a@b.vn\\r\\nBcc: x@y.vn"]\n', "alerts.recipients.14.STP"),
    ('[alerts.recipients]\n"14.STP" = []\n', "alerts.recipients.14.STP"),
])
def test_config_errors_name_the_key(tmp_path: Path, text: str, names: str) -> None:
    path = tmp_path / "chiso.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=names.replace(".", r"\.")):
        parse_config(path)


def test_config_defaults_and_values(tmp_path: Path) -> None:
    path = tmp_path / "chiso.toml"
    path.write_text('[alerts]\nhour = "06:45"\n[alerts.smtp]\nhost = "mail.sonla.gov.vn"\nsecurity = "ssl"\n'
                    'from = "chiso@sonla.gov.vn"\n[alerts.recipients]\ndefault = "vp@sonla.gov.vn"\n', encoding="utf-8")
    cfg = parse_config(path).alerts
    assert (cfg.days, cfg.hour, cfg.send_empty) == (2, 6 * 3600 + 45 * 60, False)
    assert cfg.smtp is not None and (cfg.smtp.port, cfg.smtp.security) == (465, "ssl")
    assert cfg.recipients == {"default": ("vp@sonla.gov.vn",)} and cfg.webhook is None


# --- the daily run ----------------------------------------------------------------------------------------------


def test_scheduler_runs_once_per_working_day_at_the_hour(ws: Workspace, hook: Receiver) -> None:
    load(ws, [dossier("S", "2025-04-20 10:00", received_at="2025-04-01 09:00")])  # overdue on every day used
    configure(ws, None, hook, "")
    ws.config((ws.store.workspace / "chiso.toml").read_text(encoding="utf-8").replace("days = 1", 'hour = "07:30"')
              .replace('secret_env = "CHISO_TEST_HOOK_SECRET"\n', ""))
    workspace = ws.store.workspace
    ws.store.close()
    scheduler = alerts.Scheduler(lambda: Store.open(workspace))
    assert scheduler.tick(datetime(2025, 4, 25, 7, 29)) is None            # Friday, before the hour
    first = scheduler.tick(datetime(2025, 4, 25, 7, 30))                    # Friday at the hour
    assert first is not None and len(hook.received) == 1
    assert scheduler.tick(datetime(2025, 4, 25, 9, 0)) is None             # once a day
    sat = scheduler.tick(datetime(2025, 4, 26, 8, 0))                      # make-up Saturday: a working day
    assert sat is not None and len(hook.received) == 2
    assert json.loads(hook.received[1][1])["day"] == "2025-04-26"
    assert scheduler.tick(datetime(2025, 4, 27, 8, 0)) is None             # Sunday
    assert scheduler.tick(datetime(2025, 9, 1, 8, 0)) is None              # National Day holiday
    assert scheduler.tick(datetime(2025, 9, 6, 8, 0)) is None              # an ordinary Saturday
    assert len(hook.received) == 2
    hook.status = 500
    failed = scheduler.tick(datetime(2025, 9, 3, 7, 30))                   # Wednesday: fails, retried later
    assert failed is not None and failed.failures
    assert scheduler.tick(datetime(2025, 9, 3, 7, 45)) is None             # not before 30 minutes
    hook.status = 200
    retried = scheduler.tick(datetime(2025, 9, 3, 8, 0))
    assert retried is not None and not retried.failures and len(hook.received) == 4


def test_scheduler_thread_starts_and_stops(ws: Workspace, hook: Receiver) -> None:
    load(ws, [dossier("S", "2025-09-24 10:00")])
    configure(ws, None, hook, "")
    ws.config((ws.store.workspace / "chiso.toml").read_text(encoding="utf-8")
              .replace('secret_env = "CHISO_TEST_HOOK_SECRET"\n', ""))
    workspace = ws.store.workspace
    ws.store.close()
    ran = threading.Event()

    def factory() -> Store:
        ran.set()
        return Store.open(workspace)

    scheduler = alerts.Scheduler(factory, now=lambda: datetime(2025, 9, 26, 10, 0), interval=0.05)
    scheduler.start()
    try:
        assert ran.wait(10)
    finally:
        scheduler.stop()
    assert scheduler.done_day == date(2025, 9, 26) and len(hook.received) == 1


def test_the_same_on_postgresql(pg_ws: Workspace, hook: Receiver) -> None:
    week_of_26_september(pg_ws)
    friday = datetime(2025, 9, 26, 10, 0)
    [unit] = alerts.build_plan(pg_ws.store, friday, days=1).units
    assert ids(unit.due_soon) == {"A": 0, "B": 1} and ids(unit.overdue) == {"D": 0, "E": 2}
    configure(pg_ws, None, hook, "")
    pg_ws.config((pg_ws.store.workspace / "chiso.toml").read_text(encoding="utf-8")
                 .replace('secret_env = "CHISO_TEST_HOOK_SECRET"\n', ""))
    first = alerts.run(pg_ws.store, friday, force=True)  # force: the upsert path on PostgreSQL too
    assert [d.status for d in first.deliveries] == ["sent"]
    again = alerts.run(pg_ws.store, friday)
    assert [d.status for d in again.deliveries] == ["already_sent"] and len(hook.received) == 1
    assert alerts.run(pg_ws.store, friday, force=True).sent and len(hook.received) == 2
