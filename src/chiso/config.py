"""Workspace configuration (cấu hình): ``chiso.toml`` in the workspace folder, all of it optional.

See docs/configuration.md. Deadline rules can be set nationally, per province and per procedure.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CONFIG_FILE = "chiso.toml"
PAUSE_KINDS_STOPPING_CLOCK = ("supplement", "financial_obligation", "appraisal", "posting", "other_agency")


class ConfigError(ValueError):
    """A broken configuration file: names the file and the key."""


@dataclass(frozen=True)
class Limits:
    """What the loader reads at most (giới hạn khi nạp), ``[limits]`` in chiso.toml (docs/loading.md).

    A file past a limit is refused with a located message before the reader allocates for it.
    """

    max_file_mb: int = 4096           # size of one input file
    max_rows: int = 20_000_000        # data rows of one file
    max_columns: int = 1000           # columns (headers, JSON keys) of one file
    max_record_mb: int = 16           # one CSV record or one JSON line
    xlsx_max_cells: int = 10_000_000  # rows x columns of the first sheet's used area (the Excel reader allocates it)
    xlsx_max_unzipped_mb: int = 1024  # the workbook's parts read, uncompressed

    @staticmethod
    def parse(raw: dict[str, Any], where: str) -> Limits:
        values: dict[str, int] = {}
        for key, value in raw.items():
            if key not in Limits.__dataclass_fields__:
                raise ConfigError(f"{where}: khóa không hợp lệ '{key}' "
                                  f"(có: {', '.join(Limits.__dataclass_fields__)})")
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ConfigError(f"{where}.{key}: cần một số nguyên dương, không phải '{value}'")
            values[key] = value
        return Limits(**values)


def parse_clock(text: str, where: str) -> int:
    """'07:30' -> seconds after midnight."""
    try:
        hh, mm = str(text).split(":")
        value = int(hh) * 3600 + int(mm) * 60
    except ValueError:
        raise ConfigError(f"{where}: '{text}' không phải giờ dạng HH:MM") from None
    if not 0 <= value <= 24 * 3600:
        raise ConfigError(f"{where}: '{text}' ngoài khoảng 00:00–24:00")
    return value


@dataclass(frozen=True)
class DeadlineRule:
    """How a due date is computed (cách tính hạn giải quyết). Times are seconds after midnight."""

    morning_start: int = 7 * 3600
    morning_end: int = 11 * 3600 + 30 * 60
    afternoon_start: int = 13 * 3600 + 30 * 60
    afternoon_end: int = 17 * 3600
    cutoff: int = 15 * 3600
    supplement_mode: str = "resume"  # resume | restart

    def merged(self, raw: dict[str, Any], where: str) -> DeadlineRule:
        changes: dict[str, Any] = {}
        for key, value in raw.items():
            if key in ("morning", "afternoon"):
                if not isinstance(value, list) or len(value) != 2:
                    raise ConfigError(f"{where}.{key}: cần hai giờ, ví dụ [\"07:00\", \"11:30\"]")
                changes[f"{key}_start"] = parse_clock(value[0], f"{where}.{key}")
                changes[f"{key}_end"] = parse_clock(value[1], f"{where}.{key}")
            elif key == "cutoff":
                changes["cutoff"] = parse_clock(value, f"{where}.cutoff")
            elif key == "supplement":
                if value not in ("resume", "restart"):
                    raise ConfigError(f"{where}.supplement: chỉ nhận 'resume' hoặc 'restart', không phải '{value}'")
                changes["supplement_mode"] = value
            elif key in ("province", "procedure", "pause_kinds"):
                continue
            else:
                raise ConfigError(f"{where}: khóa không hợp lệ '{key}'")
        rule = replace(self, **changes)
        if not (rule.morning_start < rule.morning_end <= rule.afternoon_start < rule.afternoon_end):
            raise ConfigError(f"{where}: giờ làm việc buổi sáng phải trước buổi chiều và không chồng lấn")
        return rule

    @property
    def day_seconds(self) -> int:
        return (self.morning_end - self.morning_start) + (self.afternoon_end - self.afternoon_start)


@dataclass
class Config:
    deadline: DeadlineRule = field(default_factory=DeadlineRule)
    province_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    procedure_rules: dict[str, dict[str, Any]] = field(default_factory=dict)
    pause_kinds: tuple[str, ...] = PAUSE_KINDS_STOPPING_CLOCK
    calendar_years: tuple[int, int] = (2015, 2035)
    limits: Limits = field(default_factory=Limits)
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    # Raw [report] and [onestop] tables; the document and evaluation modules read and check their own keys.
    report: dict[str, Any] = field(default_factory=dict)
    onestop: dict[str, Any] = field(default_factory=dict)
    spark: dict[str, Any] = field(default_factory=dict)  # [spark]: master, driver_memory, conf (docs/scale.md)
    # [engine] memory_mb: what the embedded DuckDB may use before it spills to disk; None: half the machine's
    # memory, at most chiso.store.db.DEFAULT_MEMORY_CAP_MB (docs/scale.md#memory).
    memory_mb: int | None = None
    alerts: AlertsConfig = field(default_factory=lambda: AlertsConfig())
    source: Path | None = None


def load_config(workspace: Path | None) -> Config:
    path = workspace / CONFIG_FILE if workspace else None
    if path is None or not path.exists():
        return Config()
    return parse_config(path)


def parse_config(path: Path) -> Config:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: không phải tệp văn bản UTF-8 (lưu lại tệp dạng UTF-8)") from None
    for key in ("deadline", "calendar", "limits", "aliases", "report", "onestop", "alerts", "spark", "engine"):
        if not isinstance(raw.get(key, {}), dict):
            raise ConfigError(f"{path}: [{key}] phải là một bảng (ví dụ [{key}] rồi các dòng khóa = giá trị)")
    cfg = Config(source=path)
    dl = raw.get("deadline", {})
    cfg.deadline = DeadlineRule().merged(dl, f"{path}: deadline")
    for key in ("province", "procedure"):
        if not isinstance(dl.get(key, {}), dict) or not all(isinstance(v, dict) for v in dl.get(key, {}).values()):
            raise ConfigError(f"{path}: deadline.{key}: mỗi mục phải là một bảng, ví dụ [deadline.{key}.\"…\"]")
    cfg.province_rules = dict(dl.get("province", {}))
    cfg.procedure_rules = dict(dl.get("procedure", {}))
    for name, rule in {**cfg.province_rules, **cfg.procedure_rules}.items():
        cfg.deadline.merged(rule, f"{path}: deadline.{name}")  # validate early
    if "pause_kinds" in dl:
        kinds = dl["pause_kinds"]
        if not isinstance(kinds, list) or not all(isinstance(k, str) for k in kinds):
            raise ConfigError(f"{path}: deadline.pause_kinds: cần danh sách loại tạm dừng, ví dụ [\"supplement\"]")
        cfg.pause_kinds = tuple(kinds)
    years = raw.get("calendar", {}).get("years")
    if years is not None:
        cfg.calendar_years = _calendar_years(years, f"{path}: calendar.years")
    cfg.limits = Limits.parse(dict(raw.get("limits", {})), f"{path}: limits")
    aliases = raw.get("aliases", {})
    if not all(isinstance(m, dict) for m in aliases.values()):
        raise ConfigError(f"{path}: aliases: mỗi bảng dữ liệu là một bảng [aliases.dossiers] \"Tiêu đề\" = \"cột\"")
    cfg.aliases = {t: {str(k): str(v) for k, v in m.items()} for t, m in aliases.items()}
    cfg.report = dict(raw.get("report", {}))
    cfg.onestop = dict(raw.get("onestop", {}))
    cfg.spark = dict(raw.get("spark", {}))
    engine = dict(raw.get("engine", {}))
    _keys(engine, ("memory_mb",), f"{path}: engine")
    if "memory_mb" in engine:
        cfg.memory_mb = int(_positive(engine["memory_mb"], f"{path}: engine.memory_mb", integer=True, maximum=2**20))
    cfg.alerts = AlertsConfig.parse(dict(raw.get("alerts", {})), f"{path}: alerts")
    return cfg


def _calendar_years(value: Any, where: str) -> tuple[int, int]:
    """``[calendar] years = [2015, 2035]``: two whole years, first ≤ last, inside 1990–2100."""
    ok = (isinstance(value, list) and len(value) == 2 and all(type(y) is int for y in value)
          and 1990 <= value[0] <= value[1] <= 2100)
    if not ok:
        raise ConfigError(f"{where}: cần hai năm [đầu, cuối] trong khoảng 1990–2100, năm đầu không sau năm cuối, "
                          "ví dụ [2015, 2035]")
    return int(value[0]), int(value[1])


def read_mapping_file(path: Path) -> dict[str, dict[str, str]]:
    """A user mapping file: ``[dossiers]`` (or ``[aliases.dossiers]``) tables of ``"Header" = "column"``."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    raw = raw.get("aliases", raw)
    from chiso.load.profiles import check_mapping

    return check_mapping(raw, str(path))


# --- [alerts]: `chiso alerts` and the server's daily run (docs/alerts.md) ------------------------------------------

_EMAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
DEFAULT_RECIPIENTS = "default"  # [alerts.recipients] default = [...]: the province office (văn phòng UBND tỉnh)


def check_email(value: Any, where: str) -> str:
    """One plain address (no display name, no spaces or line breaks), at most 254 characters."""
    if not isinstance(value, str) or len(value) > 254 or not _EMAIL.fullmatch(value):
        raise ConfigError(f"{where}: '{value}' không phải địa chỉ thư điện tử hợp lệ (ví dụ van.thu@sonla.gov.vn)")
    return value


def _keys(raw: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in raw:
        if key == "password":
            raise ConfigError(f"{where}.password: không ghi mật khẩu trong tệp cấu hình; đặt mật khẩu vào một biến "
                              "môi trường và ghi tên biến ở password_env")
        if key not in allowed:
            raise ConfigError(f"{where}: khóa không hợp lệ '{key}' (có: {', '.join(allowed)})")


def _positive(value: Any, where: str, *, integer: bool = False, maximum: float | None = None) -> float:
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0 or (maximum and value > maximum):
        limit = f" không quá {maximum:g}" if maximum else ""
        raise ConfigError(f"{where}: cần một số {'nguyên ' if integer else ''}dương{limit}, không phải '{value}'")
    return float(value)


def _env_name(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _ENV_NAME.fullmatch(value):
        raise ConfigError(f"{where}: cần TÊN một biến môi trường (ví dụ CHISO_SMTP_PASSWORD), không phải '{value}'")
    return value


@dataclass(frozen=True)
class SmtpSettings:
    """``[alerts.smtp]``: the mail server. The password is read from the environment variable ``password_env``."""

    host: str
    sender: str
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    user: str | None = None
    password_env: str | None = None
    timeout: float = 30.0

    @staticmethod
    def parse(raw: dict[str, Any], where: str) -> SmtpSettings:
        _keys(raw, ("host", "port", "security", "user", "password_env", "from", "timeout"), where)
        host = raw.get("host")
        if not isinstance(host, str) or not host.strip() or any(c.isspace() for c in host):
            raise ConfigError(f"{where}.host: cần tên hoặc địa chỉ máy chủ thư, ví dụ \"mail.sonla.gov.vn\"")
        if "from" not in raw:
            raise ConfigError(f"{where}.from: cần địa chỉ gửi, ví dụ from = \"chiso@sonla.gov.vn\"")
        security = raw.get("security", "starttls")
        if security not in ("starttls", "ssl", "none"):
            raise ConfigError(f"{where}.security: chỉ nhận 'starttls', 'ssl' hoặc 'none', không phải '{security}'")
        port = int(_positive(raw.get("port", 465 if security == "ssl" else 587), f"{where}.port", integer=True,
                             maximum=65535))
        user = raw.get("user")
        if user is not None and (not isinstance(user, str) or not user or any(c in user for c in "\r\n")):
            raise ConfigError(f"{where}.user: cần tên đăng nhập (một dòng chữ)")
        env = _env_name(raw["password_env"], f"{where}.password_env") if "password_env" in raw else None
        if user and not env:
            raise ConfigError(f"{where}: có user thì cần password_env (tên biến môi trường giữ mật khẩu)")
        return SmtpSettings(host.strip(), check_email(raw["from"], f"{where}.from"), port, security, user, env,
                            _positive(raw.get("timeout", 30), f"{where}.timeout", maximum=600))


@dataclass(frozen=True)
class WebhookSettings:
    """``[alerts.webhook]``: a JSON POST; signed with HMAC-SHA256 when ``secret_env`` names the secret's variable."""

    url: str
    secret_env: str | None = None
    timeout: float = 10.0

    @staticmethod
    def parse(raw: dict[str, Any], where: str) -> WebhookSettings:
        _keys(raw, ("url", "secret_env", "timeout"), where)
        url = raw.get("url")
        parts = urlsplit(url) if isinstance(url, str) else None
        if (parts is None or parts.scheme not in ("http", "https") or not parts.hostname
                or any(c.isspace() or ord(c) < 32 for c in str(url))):
            raise ConfigError(f"{where}.url: cần địa chỉ http:// hoặc https://, không phải '{url}'")
        if parts.username or parts.password:
            raise ConfigError(f"{where}.url: không ghi tên đăng nhập, mật khẩu trong địa chỉ; dùng secret_env")
        env = _env_name(raw["secret_env"], f"{where}.secret_env") if "secret_env" in raw else None
        return WebhookSettings(str(url), env, _positive(raw.get("timeout", 10), f"{where}.timeout", maximum=600))


@dataclass(frozen=True)
class AlertsConfig:
    """``[alerts]``: look-ahead in working days, the hour of the daily run, channels and recipients by unit code."""

    days: int = 2
    hour: int = 7 * 3600 + 30 * 60  # seconds after midnight
    send_empty: bool = False
    smtp: SmtpSettings | None = None
    webhook: WebhookSettings | None = None
    recipients: dict[str, tuple[str, ...]] = field(default_factory=dict)  # unit code (or "default") -> addresses

    @staticmethod
    def parse(raw: dict[str, Any], where: str) -> AlertsConfig:
        _keys(raw, ("days", "hour", "send_empty", "smtp", "webhook", "recipients"), where)
        for key in ("smtp", "webhook", "recipients"):
            if not isinstance(raw.get(key, {}), dict):
                raise ConfigError(f"{where}.{key}: phải là một bảng [alerts.{key}]")
        days = raw.get("days", 2)
        if isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 60:
            raise ConfigError(f"{where}.days: cần số ngày làm việc từ 0 đến 60, không phải '{days}'")
        hour = parse_clock(raw.get("hour", "07:30"), f"{where}.hour")
        if hour >= 24 * 3600:
            raise ConfigError(f"{where}.hour: '{raw.get('hour')}' phải trước 24:00")
        send_empty = raw.get("send_empty", False)
        if not isinstance(send_empty, bool):
            raise ConfigError(f"{where}.send_empty: cần true hoặc false, không phải '{send_empty}'")
        recipients: dict[str, tuple[str, ...]] = {}
        for code, value in raw.get("recipients", {}).items():
            at = f"{where}.recipients.{code}"
            if isinstance(value, dict):
                raise ConfigError(f"{at}: mã đơn vị có dấu chấm phải đặt trong ngoặc kép, ví dụ \"14.STP\" = [...]")
            addresses = [value] if isinstance(value, str) else value
            if not isinstance(addresses, list) or not addresses:
                raise ConfigError(f"{at}: cần danh sách địa chỉ thư, ví dụ [\"van.thu@sonla.gov.vn\"]")
            recipients[str(code)] = tuple(dict.fromkeys(check_email(a, at) for a in addresses))
        smtp = SmtpSettings.parse(raw["smtp"], f"{where}.smtp") if "smtp" in raw else None
        webhook = WebhookSettings.parse(raw["webhook"], f"{where}.webhook") if "webhook" in raw else None
        return AlertsConfig(days, hour, send_empty, smtp, webhook, recipients)
