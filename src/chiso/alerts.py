"""Alerts (cảnh báo hạn giải quyết): per unit, the dossiers due within N working days and the overdue ones, sent by
e-mail and/or a webhook; ``chiso alerts`` and the server's daily run (:class:`Scheduler`). See docs/alerts.md.

Design:

1. **What is said** (:func:`build_plan`): one set-based query over the status rows at ``as_of``
   (:class:`chiso.status.timeliness.StatusQuery`), joined to the working-day calendar of each unit's province.
   ``ord(d)`` is the running count of working days (``calendar_days.working_ordinal``; a non-working day has the
   count of the last working day before it).

   * *overdue* (quá hạn): timeliness ``pending_late`` — not ended, due moment passed (or more than one supplement
     request). "Quá k ngày làm việc": k = ord(as_of day) − ord(due day), 0 = the due moment was earlier today.
   * *due soon* (sắp đến hạn): timeliness ``pending``, not waiting for the citizen (a supplement request still open
     stops the clock: the unit cannot act), and ord(due day) ≤ ord(as_of day) + N. In words: due before the
     (N+1)-th working day after the as-of day begins. N = 0: due today. As of Friday with N = 1: due by the end of
     Monday (and over the weekend); a holiday in between is skipped like a weekend. "Còn k ngày làm việc":
     k = ord(due day) − ord(as_of day).

   Each unit hears about its own dossiers (``dossiers.unit_code``); ``--unit`` limits the run to a unit and the
   units below it. Nothing personal is sent (the store holds none): dossier id, procedure, due moment, days.
2. **Who hears it**: ``[alerts.recipients]`` maps a unit code to e-mail addresses; a unit without addresses of its
   own goes to ``default`` (the province office), so no unit's alert is dropped silently; a unit with neither is
   listed in the plan as having no recipient. The webhook (one JSON POST per run) carries every unit.
3. **Sending** (:func:`send`): one message per (unit, address) over one SMTP session; one POST for the webhook,
   signed with HMAC-SHA256 of the body (``X-Chiso-Signature: sha256=<hex>``) when ``secret_env`` is set. A failure
   of one delivery does not stop the others; every failure is returned with a Vietnamese reason. Each delivery is
   recorded in ``alert_deliveries`` (migration 0006) and in the audit trail (``alert_sent`` / ``alert_failed``, with
   counts, never a password or the webhook's full URL). A delivery already made the same day (the as-of day) for
   the same unit, channel and recipient is not made again unless ``force``: rerunning after a partial failure
   retries only what failed.
4. **Daily run** (:class:`Scheduler`): a daemon thread that calls :meth:`Scheduler.tick` every minute; a tick runs
   the alerts once per working day of the province's calendar (not on holidays or ordinary Saturdays, yes on
   make-up Saturdays), at or after ``[alerts] hour``; a run with failures is retried 30 minutes later the same day.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import smtplib
import ssl
import threading
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid
from typing import Any
from urllib.parse import urlsplit

from chiso import api
from chiso.config import DEFAULT_RECIPIENTS, Config, SmtpSettings, WebhookSettings, load_config
from chiso.store.audit import now_local, record
from chiso.store.db import Store
from chiso.store.rows import first_row

log = logging.getLogger("chiso.alerts")

MAX_LISTED = 200  # dossiers listed per section of one e-mail; the webhook carries them all
RETRY_AFTER = timedelta(minutes=30)


class AlertError(Exception):
    """A run that cannot start (no channel configured, unknown unit): the message is for the user, in Vietnamese."""


@dataclass(frozen=True)
class Item:
    """One dossier in an alert. ``working_days``: left before the due day (due soon) or passed since it (overdue)."""

    dossier_id: str
    procedure_code: str
    procedure_name: str
    due_at: datetime | None
    working_days: int | None

    def as_json(self, key: str) -> dict[str, Any]:
        return {"dossier_id": self.dossier_id, "procedure_code": self.procedure_code,
                "procedure_name": self.procedure_name,
                "due_at": self.due_at.isoformat(sep=" ") if self.due_at else None, key: self.working_days}


@dataclass
class UnitAlert:
    code: str
    name: str
    level: str
    due_soon: list[Item] = field(default_factory=list)
    overdue: list[Item] = field(default_factory=list)
    recipients: tuple[str, ...] = ()
    recipients_from: str = "none"  # own | default | none

    @property
    def empty(self) -> bool:
        return not self.due_soon and not self.overdue

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "level": self.level,
                "due_soon": [i.as_json("working_days_left") for i in self.due_soon],
                "overdue": [i.as_json("working_days_late") for i in self.overdue]}


@dataclass
class Plan:
    """What a run would send: per unit with something to say (or every unit with addresses when ``send_empty``)."""

    as_of: datetime
    days: int
    limit_day: date | None  # the N-th working day after the as-of day (province calendar): due by its end
    units: list[UnitAlert]
    unknown_codes: list[str] = field(default_factory=list)  # [alerts.recipients] keys that name no unit

    @property
    def day(self) -> date:
        return self.as_of.date()


@dataclass(frozen=True)
class Delivery:
    channel: str  # email | webhook
    recipient: str  # the address, or the webhook as scheme://host
    units: tuple[str, ...]
    status: str  # sent | already_sent | failed
    error: str = ""


@dataclass
class RunReport:
    plan: Plan
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def failures(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status == "failed"]

    @property
    def sent(self) -> list[Delivery]:
        return [d for d in self.deliveries if d.status == "sent"]


# --- the plan ---------------------------------------------------------------------------------------------------


def one_line(text: object, limit: int = 200) -> str:
    """Data shown in a header or a list line: control characters (CR, LF, tabs, format characters, line and
    paragraph separators) become spaces, runs of spaces one, at most ``limit`` characters."""
    out = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in str(text))
    out = " ".join(out.split())
    return out if len(out) <= limit else out[: limit - 1] + "…"


def _subtree_sql(unit: str | None) -> tuple[str, list[Any]]:
    if not unit:
        return "SELECT code FROM units", []
    return ("WITH RECURSIVE tree(code) AS (SELECT code FROM units WHERE code = ? "
            "UNION SELECT u.code FROM units u JOIN tree t ON u.parent_code = t.code) SELECT code FROM tree", [unit])


def province_calendar_key(store: Store) -> str:
    """The calendar of the workspace's province (its code), '' (national) when no province is loaded."""
    row = first_row(store.con.execute("SELECT code FROM units WHERE level = 'province' ORDER BY code LIMIT 1"))
    return str(row[0]) if row else ""


def limit_day(store: Store, day: date, days: int, key: str) -> date | None:
    """The ``days``-th working day after ``day`` in the calendar ``key`` (``day`` itself when 0 and working)."""
    row = first_row(store.con.execute(
        "SELECT min(w.day) FROM calendar_days w JOIN calendar_days c ON c.calendar_key = w.calendar_key "
        "WHERE w.calendar_key = ? AND c.day = CAST(? AS DATE) AND w.is_working "
        "AND w.working_ordinal = c.working_ordinal + ?", [key, day.isoformat(), days]))
    return row[0] if row and row[0] is not None else None


def is_working_day(store: Store, day: date, key: str | None = None) -> bool:
    """Whether ``day`` is a working day of the province's calendar (holidays, swaps and make-up Saturdays)."""
    key = province_calendar_key(store) if key is None else key
    row = first_row(store.con.execute(
        "SELECT is_working FROM calendar_days WHERE calendar_key = ? AND day = CAST(? AS DATE)",
        [key, day.isoformat()]))
    return bool(row and row[0])


def build_plan(store: Store, as_of: datetime, *, days: int | None = None, unit: str | None = None,
               config: Config | None = None) -> Plan:
    """Per unit, its overdue dossiers and those due within ``days`` working days (``[alerts] days`` by default),
    with the addresses it goes to. ``unit`` limits the plan to that unit and the units below it."""
    config = config or load_config(store.workspace)
    settings = config.alerts
    n = settings.days if days is None else days
    if n < 0:
        raise AlertError(f"số ngày làm việc phải từ 0 trở lên, không phải {n}")
    if unit and first_row(store.con.execute("SELECT 1 FROM units WHERE code = ?", [unit])) is None:
        raise AlertError(f"không có đơn vị '{unit}' trong danh mục (xem chiso units list)")
    query = api.status_query(store, as_of, unit)  # brings the calendar up to date too
    rows = store.con.execute(f"""
WITH s AS ({query.sql()})
SELECT s.unit_code, s.dossier_id, s.procedure_code, COALESCE(p.name, s.procedure_code), s.due_at, s.timeliness,
       cn.working_ordinal - cd.working_ordinal AS days_after_due
FROM s
JOIN units u ON u.code = s.unit_code
LEFT JOIN procedures p ON p.code = s.procedure_code
JOIN calendar_days cn ON cn.calendar_key = COALESCE(u.province_code, '') AND cn.day = CAST(? AS DATE)
LEFT JOIN calendar_days cd ON cd.calendar_key = COALESCE(u.province_code, '') AND cd.day = CAST(s.due_at AS DATE)
WHERE s.timeliness = 'pending_late'
   OR (s.timeliness = 'pending' AND s.waiting_since IS NULL AND cd.working_ordinal <= cn.working_ordinal + ?)
ORDER BY s.unit_code, s.due_at, s.dossier_id""", [as_of.date().isoformat(), n]).fetchall()
    sub_sql, sub_params = _subtree_sql(unit)
    names = {str(r[0]): (str(r[1]), str(r[2])) for r in store.con.execute(
        f"SELECT code, name, level FROM units WHERE code IN ({sub_sql})", sub_params).fetchall()}
    by_unit: dict[str, UnitAlert] = {}

    def alert(code: str) -> UnitAlert:
        if code not in by_unit:
            name, level = names.get(code, (code, ""))
            by_unit[code] = UnitAlert(code, name, level)
        return by_unit[code]

    for code, dossier_id, proc, proc_name, due_at, timeliness, after in rows:
        late = timeliness == "pending_late"
        days_n = None if after is None else int(after) if late else -int(after)
        item = Item(str(dossier_id), str(proc), str(proc_name), due_at, days_n)
        (alert(str(code)).overdue if late else alert(str(code)).due_soon).append(item)
    if settings.send_empty:
        for code in settings.recipients:
            if code in names:
                alert(code)
    default = settings.recipients.get(DEFAULT_RECIPIENTS, ())
    for a in by_unit.values():
        own = settings.recipients.get(a.code, ())
        a.recipients, a.recipients_from = (own, "own") if own else (default, "default") if default else ((), "none")
    known = {str(r[0]) for r in store.con.execute("SELECT code FROM units").fetchall()}
    unknown = sorted(c for c in settings.recipients if c != DEFAULT_RECIPIENTS and c not in known)
    units = sorted(by_unit.values(), key=lambda a: (a.level != "province", a.code))
    return Plan(as_of, n, limit_day(store, as_of.date(), n, province_calendar_key(store)), units, unknown)


# --- the messages -----------------------------------------------------------------------------------------------


def _vn_moment(moment: datetime | None) -> str:
    return moment.strftime("%H:%M %d/%m/%Y") if moment else "không có hạn"


def _line(item: Item, overdue: bool) -> str:
    k = item.working_days
    if k is None:
        when = ""
    elif overdue:
        when = ", vừa quá hạn (chưa tròn 1 ngày làm việc)" if k <= 0 else f", quá {k} ngày làm việc"
    else:
        when = ", hết hạn trong ngày hôm nay" if k <= 0 else f", còn {k} ngày làm việc"
    return (f"- {one_line(item.dossier_id, 80)} — {one_line(item.procedure_name)} ({one_line(item.procedure_code, 80)})"
            f": hạn {_vn_moment(item.due_at)}{when}")


def subject(plan: Plan, unit: UnitAlert) -> str:
    """One line whatever the unit's name holds (no CR/LF reaches the header)."""
    return one_line(f"[chiso] {unit.name}: {len(unit.overdue)} hồ sơ quá hạn, {len(unit.due_soon)} hồ sơ sắp đến "
                    f"hạn ({plan.as_of:%d/%m/%Y})", 250)


def body(plan: Plan, unit: UnitAlert) -> str:
    """The plain-text message, in Vietnamese."""
    until = f" (đến hết ngày {plan.limit_day:%d/%m/%Y})" if plan.limit_day else ""
    lines = [f"Kính gửi: {one_line(unit.name)} (mã {one_line(unit.code, 80)})", "",
             f"Tình trạng hồ sơ lúc {plan.as_of:%H:%M} ngày {plan.as_of:%d/%m/%Y}:", ""]
    for title, items, overdue in (
            (f"Hồ sơ đang xử lý QUÁ HẠN: {len(unit.overdue)}", unit.overdue, True),
            (f"Hồ sơ SẮP ĐẾN HẠN trong {plan.days} ngày làm việc{until}: {len(unit.due_soon)}", unit.due_soon, False)):
        lines.append(title)
        lines += [_line(i, overdue) for i in items[:MAX_LISTED]]
        if len(items) > MAX_LISTED:
            lines.append(f"- … và {len(items) - MAX_LISTED} hồ sơ khác (xem: chiso status --unit {unit.code})")
        lines.append("")
    if unit.overdue:
        lines += ["Với mỗi hồ sơ quá hạn, đơn vị lập văn bản giải trình và gửi thư xin lỗi người dân, doanh nghiệp "
                  "(Nghị quyết 131/NQ-CP).", ""]
    lines.append("Thư gửi tự động từ chiso; xin không trả lời thư này.")
    return "\n".join(lines) + "\n"


def email_message(plan: Plan, unit: UnitAlert, recipient: str, smtp: SmtpSettings) -> Message:
    """A plain-text UTF-8 message. The subject is an :class:`email.header.Header`: every byte of it goes into
    RFC 2047 encoded words, so no data reaches the header block raw (the ``email.policy`` folder drops the spaces
    between encoded words of a long Vietnamese subject: "sắp đến" arrived as "sắpđến"). Addresses are checked
    plain addresses (chiso.config.check_email)."""
    msg = MIMEText(body(plan, unit), "plain", "utf-8")
    msg["Subject"] = Header(subject(plan, unit), "utf-8")  # type: ignore[assignment]  # compat32 takes a Header
    msg["From"] = smtp.sender
    msg["To"] = recipient
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = make_msgid("chiso-alert", domain=smtp.sender.rsplit("@", 1)[1])
    msg["Auto-Submitted"] = "auto-generated"
    return msg


def webhook_payload(plan: Plan, units: list[UnitAlert]) -> dict[str, Any]:
    return {"as_of": plan.as_of.isoformat(sep=" "), "day": plan.day.isoformat(), "days": plan.days,
            "due_by": plan.limit_day.isoformat() if plan.limit_day else None,
            "sent_at": now_local().isoformat(sep=" "), "units": [u.as_json() for u in units]}


def signature(secret: str, payload: bytes) -> str:
    """The ``X-Chiso-Signature`` header: ``sha256=`` and the HMAC-SHA256 of the exact body, in hex."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), payload, hashlib.sha256).hexdigest()


def webhook_label(url: str) -> str:
    """The webhook as recorded (the path and query may hold a token): scheme://host[:port] and a hash of the URL."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}#{hashlib.sha256(url.encode('utf-8')).hexdigest()[:12]}"


# --- sending ----------------------------------------------------------------------------------------------------


class SendFailure(Exception):
    """One delivery failed: the message, in Vietnamese, says why."""


def _text(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class _Mailer:
    """One SMTP session for a run, opened at the first message. A failure to connect or log in fails every
    message of the run at once (no 300 time-outs in a row); a dropped connection is reopened for the next one."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.smtp: smtplib.SMTP | None = None
        self.broken = ""

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        where = f"{s.host}:{s.port}"
        password = None
        if s.user and s.password_env:
            password = os.environ.get(s.password_env)
            if password is None:
                raise SendFailure(f"biến môi trường {s.password_env} (mật khẩu máy chủ thư) chưa được đặt")
        try:
            smtp: smtplib.SMTP
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
                if s.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailure(f"không kết nối được máy chủ thư {where} ({one_line(exc)})") from None
        if s.user and password is not None:
            try:
                smtp.login(s.user, password)
            except smtplib.SMTPAuthenticationError:
                smtp.close()
                raise SendFailure(f"máy chủ thư {where} từ chối đăng nhập của '{s.user}' "
                                  f"(kiểm tra tên và mật khẩu trong {s.password_env})") from None
            except UnicodeError:  # smtplib sends user and password as ASCII only
                smtp.close()
                raise SendFailure(f"tên hoặc mật khẩu máy chủ thư ({s.password_env}) có ký tự ngoài ASCII: "
                                  "smtplib không gửi được") from None
            except (smtplib.SMTPException, OSError) as exc:
                smtp.close()
                raise SendFailure(f"không đăng nhập được máy chủ thư {where} ({one_line(exc)})") from None
        return smtp

    def send(self, msg: Message) -> None:
        if self.broken:
            raise SendFailure(self.broken)
        if self.smtp is None:
            try:
                self.smtp = self._connect()
            except SendFailure as exc:
                self.broken = str(exc)
                raise
        try:
            refused = self.smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            reasons = "; ".join(f"{code} {one_line(_text(text))}" for code, text in exc.recipients.values())
            raise SendFailure(f"máy chủ thư từ chối địa chỉ ({reasons})") from None
        except smtplib.SMTPServerDisconnected as exc:
            self.smtp = None
            raise SendFailure(f"máy chủ thư ngắt kết nối ({one_line(exc)})") from None
        except smtplib.SMTPResponseException as exc:
            raise SendFailure(f"máy chủ thư trả lỗi {exc.smtp_code} ({one_line(_text(exc.smtp_error))})") from None
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendFailure(f"gửi thư không được ({one_line(exc)})") from None
        if refused:
            raise SendFailure("máy chủ thư từ chối địa chỉ")

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
            self.smtp = None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer other than 2xx: reported, not followed with the signed body


def post_webhook(settings: WebhookSettings, payload: dict[str, Any]) -> None:
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {"Content-Type": "application/json; charset=utf-8", "User-Agent": "chiso-alerts"}
    if settings.secret_env:
        secret = os.environ.get(settings.secret_env)
        if secret is None:
            raise SendFailure(f"biến môi trường {settings.secret_env} (khóa ký webhook) chưa được đặt")
        headers["X-Chiso-Signature"] = signature(secret, data)
    request = urllib.request.Request(settings.url, data=data, headers=headers, method="POST")
    opener = urllib.request.build_opener(_NoRedirect)
    where = webhook_label(settings.url).split("#", 1)[0]
    try:
        with opener.open(request, timeout=settings.timeout) as answer:
            answer.read(65536)
    except urllib.error.HTTPError as exc:
        raise SendFailure(f"webhook {where} trả lời mã {exc.code} ({one_line(exc.reason, 120)})") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        raise SendFailure(f"không gửi được tới webhook {where} ({one_line(reason, 160)})") from None


def _already_sent(store: Store, day: date, channel: str, recipient: str) -> set[str]:
    return {str(r[0]) for r in store.con.execute(
        "SELECT unit_code FROM alert_deliveries WHERE day = CAST(? AS DATE) AND channel = ? AND recipient = ?",
        [day.isoformat(), channel, recipient]).fetchall()}


def _record(store: Store, plan: Plan, delivery: Delivery, units: list[UnitAlert]) -> None:
    """The delivery in the audit trail, and (when sent) in alert_deliveries — one transaction."""
    counts = {"due_soon": sum(len(u.due_soon) for u in units), "overdue": sum(len(u.overdue) for u in units)}
    details: dict[str, Any] = {"channel": delivery.channel, "recipient": delivery.recipient,
                               "units": list(delivery.units), "day": plan.day.isoformat(),
                               "as_of": plan.as_of.isoformat(sep=" "), "days": plan.days, **counts}
    if delivery.error:
        details["error"] = delivery.error
    obj = delivery.units[0] if len(delivery.units) == 1 else f"{len(delivery.units)} đơn vị"
    with store.transaction() as con:
        if delivery.status == "sent":
            sent_at = now_local()
            for u in units:
                con.execute(
                    "INSERT INTO alert_deliveries VALUES (CAST(? AS DATE), ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (day, unit_code, channel, recipient) DO UPDATE SET as_of = excluded.as_of, "
                    "sent_at = excluded.sent_at, due_soon = excluded.due_soon, overdue = excluded.overdue",
                    [plan.day.isoformat(), u.code, delivery.channel, delivery.recipient, plan.as_of, sent_at,
                     len(u.due_soon), len(u.overdue)])
        record(con, "alert_sent" if delivery.status == "sent" else "alert_failed", obj, details)


def send(store: Store, plan: Plan, config: Config | None = None, *, force: bool = False) -> RunReport:
    """Deliver the plan by every configured channel; never raises for one failed delivery (see the report)."""
    config = config or load_config(store.workspace)
    settings = config.alerts
    if settings.smtp is None and settings.webhook is None:
        raise AlertError("chưa cấu hình kênh gửi: thêm [alerts.smtp] và/hoặc [alerts.webhook] vào chiso.toml "
                         "(xem docs/alerts.md)")
    report = RunReport(plan)
    wanted = [u for u in plan.units if settings.send_empty or not u.empty]
    if settings.smtp is not None:
        mailer = _Mailer(settings.smtp)
        try:
            for unit in wanted:
                for address in unit.recipients:
                    if not force and unit.code in _already_sent(store, plan.day, "email", address):
                        report.deliveries.append(Delivery("email", address, (unit.code,), "already_sent"))
                        continue
                    try:
                        mailer.send(email_message(plan, unit, address, settings.smtp))
                        delivery = Delivery("email", address, (unit.code,), "sent")
                    except SendFailure as exc:
                        delivery = Delivery("email", address, (unit.code,), "failed", str(exc))
                    _record(store, plan, delivery, [unit])
                    report.deliveries.append(delivery)
        finally:
            mailer.close()
    if settings.webhook is not None:
        label = webhook_label(settings.webhook.url)
        done = set() if force else _already_sent(store, plan.day, "webhook", label)
        todo = [u for u in wanted if u.code not in done]
        if done & {u.code for u in wanted}:
            report.deliveries.append(Delivery("webhook", label, tuple(sorted(done & {u.code for u in wanted})),
                                              "already_sent"))
        if todo:
            codes = tuple(u.code for u in todo)
            try:
                post_webhook(settings.webhook, webhook_payload(plan, todo))
                delivery = Delivery("webhook", label, codes, "sent")
            except SendFailure as exc:
                delivery = Delivery("webhook", label, codes, "failed", str(exc))
            _record(store, plan, delivery, todo)
            report.deliveries.append(delivery)
    return report


def run(store: Store, as_of: datetime, *, days: int | None = None, unit: str | None = None, force: bool = False,
        config: Config | None = None) -> RunReport:
    """Build the plan and send it (what ``chiso alerts`` and the scheduler do)."""
    config = config or load_config(store.workspace)
    plan = build_plan(store, as_of, days=days, unit=unit, config=config)
    return send(store, plan, config, force=force)


# --- the daily run ----------------------------------------------------------------------------------------------


def _seconds(moment: datetime) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


class Scheduler:
    """Runs the alerts once per working day at ``[alerts] hour`` (read from chiso.toml at each run unless
    ``config`` is given). ``store_factory`` gives a store the scheduler owns for one tick and closes; ``now`` gives
    the local time (tests pass explicit moments to :meth:`tick` instead)."""

    def __init__(self, store_factory: Callable[[], Store], config: Config | None = None, *,
                 now: Callable[[], datetime] = now_local, interval: float = 60.0):
        self.store_factory, self.config, self.now, self.interval = store_factory, config, now, interval
        self.done_day: date | None = None  # the last day whose run is finished (or that was not a working day)
        self.next_try: datetime | None = None
        self.hour: int | None = config.alerts.hour if config else None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def due(self, now: datetime) -> bool:
        """Whether a tick at ``now`` may run (before looking at the calendar): after the hour, not done today."""
        if self.done_day == now.date() or (self.next_try is not None and now < self.next_try):
            return False
        return self.hour is None or _seconds(now) >= self.hour

    def tick(self, now: datetime | None = None) -> RunReport | None:
        """Run the day's alerts if due at ``now``; the report of the run, or None when nothing was run."""
        now = now or self.now()
        if not self.due(now):
            return None
        store = self.store_factory()
        try:
            config = self.config or load_config(store.workspace)
            self.hour = config.alerts.hour
            if _seconds(now) < self.hour:
                return None
            api.prepare(store, config)  # the calendar, up to date with the data
            if not is_working_day(store, now.date()):
                self.done_day = now.date()
                return None
            if config.alerts.smtp is None and config.alerts.webhook is None:
                self.done_day = now.date()
                log.warning("cảnh báo hằng ngày: chưa cấu hình kênh gửi ([alerts.smtp], [alerts.webhook])")
                return None
            report = run(store, now, config=config)
        except Exception:
            self.next_try = now + RETRY_AFTER
            raise
        finally:
            store.close()
        if report.failures:
            self.next_try = now + RETRY_AFTER
            for d in report.failures:
                log.warning("cảnh báo: %s %s: %s", d.channel, d.recipient, d.error)
        else:
            self.done_day, self.next_try = now.date(), None
        return report

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("cảnh báo hằng ngày không chạy được; thử lại sau %s", RETRY_AFTER)
            self._stop.wait(self.interval)

    def start(self) -> None:
        """Start the daemon thread (idempotent)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="chiso-alerts", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
