"""Accounts of the web service (tài khoản): users with a role and a unit scope, API tokens, login throttling.

* Roles (vai trò): ``admin`` — everything; ``unit`` (đơn vị) — its unit and the units below it (dossiers,
  scores, explanations); ``viewer`` (xem) — aggregates of every unit, never dossier-level data. What each role may
  do is decided in one place, :mod:`chiso.web.access`; this module only stores who is who.
* Only hashes are stored: passwords with Argon2id (argon2-cffi's defaults), API tokens (mã truy cập) as the
  SHA-256 of a random 256-bit token shown once.
* Throttling (chống dò mật khẩu): :data:`MAX_FAILURES` failed logins for a name, or from an address, within
  :data:`WINDOW` refuse further attempts until the window has passed — also for a name that does not exist, so
  the answer does not tell which names do.
* Every change is written to the audit trail (:mod:`chiso.store.audit`) in its transaction.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from chiso.clock import now_local
from chiso.store import audit
from chiso.store.db import Store
from chiso.store.rows import first_row

ROLES = {"admin": "quản trị", "unit": "đơn vị", "viewer": "xem"}
NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)

_hasher = PasswordHasher()
_dummy: list[str] = []


def _dummy_hash() -> str:
    """Verified against when the name is unknown, so a wrong name takes as long as a wrong password (made on first
    use: every command imports this module, few log anyone in)."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[0]


class AccountError(ValueError):
    """A refused account operation, with a Vietnamese message naming what is wrong."""


@dataclass(frozen=True)
class User:
    name: str
    role: str
    unit_code: str | None
    disabled: bool = False

    @property
    def role_label(self) -> str:
        return ROLES.get(self.role, self.role)


def _now() -> datetime:
    return now_local()


def _user(row: tuple[object, ...]) -> User:
    return User(str(row[0]), str(row[1]), None if row[2] is None else str(row[2]), bool(row[3]))


def get_user(store: Store, name: str) -> User | None:
    row = first_row(store.con.execute("SELECT name, role, unit_code, disabled FROM users WHERE name = ?", [name]))
    return _user(row) if row else None


def list_users(store: Store) -> list[User]:
    rows = store.con.execute("SELECT name, role, unit_code, disabled FROM users ORDER BY name").fetchall()
    return [_user(r) for r in rows]


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"mật khẩu dài quá {MAX_PASSWORD} ký tự")


def add_user(store: Store, name: str, role: str, password: str, *, unit_code: str | None = None,
             by: audit.Actor | None = None) -> User:
    """Create an account; ``unit`` needs a unit of the catalogue, the others none."""
    if not NAME.match(name):
        raise AccountError(f"tên đăng nhập '{name}' không hợp lệ: 2–40 ký tự a-z, 0-9, dấu chấm, gạch ngang, "
                           "gạch dưới, bắt đầu bằng chữ hoặc số")
    if role not in ROLES:
        raise AccountError(f"vai trò '{role}' không có (chọn: {', '.join(ROLES)})")
    if role == "unit" and not unit_code:
        raise AccountError("tài khoản vai trò 'unit' cần --unit MÃ_ĐƠN_VỊ")
    if role != "unit" and unit_code:
        raise AccountError(f"chỉ tài khoản vai trò 'unit' mới gắn với đơn vị (vai trò '{role}' xem mọi đơn vị)")
    if unit_code and first_row(store.con.execute("SELECT 1 FROM units WHERE code = ?", [unit_code])) is None:
        raise AccountError(f"không có đơn vị '{unit_code}' trong danh mục (xem chiso units list)")
    check_password(password)
    if get_user(store, name) is not None:
        raise AccountError(f"đã có tài khoản '{name}'")
    digest = _hasher.hash(password)
    with store.transaction() as con:
        con.execute("INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [name, role, unit_code, digest, False, _now(), by.user if by else None])
        audit.record(con, "user_added", name, {"role": role, "unit_code": unit_code}, by)
    return User(name, role, unit_code)


def set_password(store: Store, name: str, password: str, *, by: audit.Actor | None = None) -> None:
    check_password(password)
    if get_user(store, name) is None:
        raise AccountError(f"không có tài khoản '{name}'")
    with store.transaction() as con:
        con.execute("UPDATE users SET password_hash = ? WHERE name = ?", [_hasher.hash(password), name])
        audit.record(con, "user_changed", name, {"password": "changed"}, by)


def disable_user(store: Store, name: str, *, by: audit.Actor | None = None) -> None:
    """Lock an account: its sessions and tokens stop working at their next request."""
    if get_user(store, name) is None:
        raise AccountError(f"không có tài khoản '{name}'")
    with store.transaction() as con:
        con.execute("UPDATE users SET disabled = ? WHERE name = ?", [True, name])
        con.execute("UPDATE api_tokens SET revoked = ? WHERE user_name = ?", [True, name])
        audit.record(con, "user_disabled", name, {}, by)


def issue_token(store: Store, name: str, *, by: audit.Actor | None = None) -> str:
    """A new API token for ``name`` (shown once: only its hash is kept)."""
    user = get_user(store, name)
    if user is None:
        raise AccountError(f"không có tài khoản '{name}'")
    if user.disabled:
        raise AccountError(f"tài khoản '{name}' đã bị khóa")
    token = "chiso_" + secrets.token_urlsafe(32)
    with store.transaction() as con:
        con.execute("INSERT INTO api_tokens VALUES (?, ?, ?, ?)", [_token_hash(token), name, _now(), False])
        audit.record(con, "token_issued", name, {"token_sha256_prefix": _token_hash(token)[:12]}, by)
    return token


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def user_for_token(store: Store, token: str) -> User | None:
    """The active user a token belongs to (None: unknown, revoked or disabled)."""
    if not token or len(token) > 200:
        return None
    row = first_row(store.con.execute(
        "SELECT u.name, u.role, u.unit_code, u.disabled FROM api_tokens t JOIN users u ON u.name = t.user_name "
        "WHERE t.token_hash = ? AND NOT t.revoked", [_token_hash(token)]))
    if row is None or bool(row[3]):
        return None
    return _user(row)


def throttled(store: Store, name: str, address: str, now: datetime | None = None) -> bool:
    """Whether login attempts for ``name`` or from ``address`` are refused for now."""
    since = (now or _now()) - WINDOW
    row = first_row(store.con.execute(
        "SELECT count(*) FILTER (WHERE user_name = ?), count(*) FILTER (WHERE address = ?) FROM login_failures "
        "WHERE failed_at > ?", [name, address, since]))
    return bool(row and (row[0] >= MAX_FAILURES or row[1] >= MAX_FAILURES * 4))


def authenticate(store: Store, name: str, password: str, address: str) -> User | None:
    """The user when the name and password match an active account; a failure is recorded for throttling.
    Call :func:`throttled` first."""
    row = first_row(store.con.execute("SELECT password_hash, disabled FROM users WHERE name = ?", [name[:100]]))
    ok = False
    try:
        ok = _hasher.verify(str(row[0]) if row and row[0] else _dummy_hash(), password[:MAX_PASSWORD])
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None or not row[0] or bool(row[1]):
        with store.transaction() as con:
            now = _now()
            con.execute("DELETE FROM login_failures WHERE failed_at < ?", [now - WINDOW])
            con.execute("INSERT INTO login_failures VALUES (?, ?, ?)", [name[:100], address[:100], now])
        return None
    return get_user(store, name)
