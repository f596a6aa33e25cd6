"""Access control (phân quyền) — the one layer every page and API endpoint goes through.

A route declares what it needs with ``ctx: Ctx = Depends(need(Need.X, unit_param="code"))`` and never checks roles
itself. The dependency:

1. takes a store handle from the pool for the request (returned after the response);
2. finds the user: an ``Authorization: Bearer TOKEN`` header (machine clients, ``chiso users token``) or the
   signed session cookie of a page login — re-read from the store on every request, so a disabled account stops
   at once;
3. checks CSRF on every state-changing request authenticated by the cookie (form field ``csrf`` or header
   ``X-CSRF-Token`` equal to the session's token); bearer requests carry no cookie and need none;
4. applies the need:

   ============  ======================  ============================  =============================
   need          admin                   unit (its unit and below)     viewer
   ============  ======================  ============================  =============================
   PUBLIC        yes                     yes                           yes (and anonymous)
   AGGREGATES    every unit              units of its subtree          every unit
   DOSSIERS      every unit              units of its subtree          no (403)
   ADMIN         yes                     no (403)                      no (403)
   ============  ======================  ============================  =============================

   Anonymous on anything but PUBLIC: 401 for ``/api/…`` (with ``WWW-Authenticate: Bearer``), a redirect to the
   login page otherwise. Routes that learn the unit only from the data (a dossier's page) call
   :meth:`Ctx.check_unit` before showing anything.
"""

from __future__ import annotations

import hmac
import queue
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from fastapi import Depends, HTTPException, Request

from chiso import accounts, api_web
from chiso.accounts import User
from chiso.store.audit import Actor
from chiso.store.db import Store


class Need(Enum):
    PUBLIC = "public"
    AGGREGATES = "aggregates"
    DOSSIERS = "dossiers"
    ADMIN = "admin"


class NotAuthenticated(Exception):
    """No valid login: 401 (API) or a redirect to the login page."""


class Forbidden(Exception):
    """Logged in, but the role or the unit scope does not allow it: 403."""

    def __init__(self, message: str = "Tài khoản của bạn không được xem nội dung này."):
        super().__init__(message)
        self.message = message


class StorePool:
    """Store handles for requests: one per request at a time (DuckDB cursors of the server's connection, or
    PostgreSQL connections), kept for reuse."""

    def __init__(self, root: Store, size: int = 48):
        self.root = root
        self.idle: queue.LifoQueue[Store] = queue.LifoQueue()
        self.size = size
        self.lock = threading.Lock()

    def get(self) -> Store:
        try:
            return self.idle.get_nowait()
        except queue.Empty:
            with self.lock:
                return self.root.duplicate()

    def put(self, store: Store) -> None:
        try:
            if self.root.dialect == "postgres":
                store.con.execute("ROLLBACK")  # never keep a transaction open between requests
        except Exception:  # noqa: BLE001 — a broken handle is dropped, not reused
            store.close()
            return
        if self.idle.qsize() < self.size:
            self.idle.put(store)
        else:
            store.close()

    def close(self) -> None:
        while True:
            try:
                self.idle.get_nowait().close()
            except queue.Empty:
                break


@dataclass
class Ctx:
    """What a route gets: the request, a store handle, the user (None when anonymous) and how they came."""

    request: Request
    store: Store
    user: User | None
    via_token: bool = False
    scope: set[str] | None = field(default=None)  # units the user may see (None: all)
    cache_key: tuple[Any, ...] | None = None  # set by chiso.web.tables.cached_html: the page is kept once rendered

    @property
    def app_state(self) -> Any:
        return self.request.app.state

    def check_unit(self, code: str, need: Need = Need.AGGREGATES) -> None:
        """Raise :class:`Forbidden` unless the user may see ``code`` at this level of need."""
        if need is Need.PUBLIC:
            return
        user = self.user
        if user is None:
            raise NotAuthenticated()
        if user.role == "admin":
            return
        if need is Need.ADMIN:
            raise Forbidden("Chỉ tài khoản quản trị được làm việc này.")
        if user.role == "viewer":
            if need is Need.DOSSIERS:
                raise Forbidden("Tài khoản xem chỉ xem số liệu tổng hợp, không xem từng hồ sơ.")
            return
        if self.scope is None or code not in self.scope:
            raise Forbidden(f"Tài khoản {user.name} chỉ xem được đơn vị của mình và các đơn vị cấp dưới.")

    def actor(self) -> Actor:
        """Who acts, for the audit trail: the web user, the client's address, the request."""
        client = self.request.client.host if self.request.client else ""
        name = self.user.name if self.user else "(khách)"
        return Actor(f"web:{name}", client, f"{self.request.method} {self.request.url.path}"[:1000])

    def csrf_token(self) -> str:
        return session_csrf(self.request)


def session_csrf(request: Request) -> str:
    """The session's CSRF token (made on first use)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 20:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


MAX_FORM_BODY = 210 * 1024 * 1024  # the largest form a page sends: an upload of at most 200 MB of files


async def csrf_guard(request: Request) -> None:
    """State-changing requests authenticated by the session cookie must carry the session's CSRF token. A form
    larger than :data:`MAX_FORM_BODY` (or of unknown length) is refused before it is read."""
    if request.method in ("GET", "HEAD", "OPTIONS") or _bearer(request) is not None:
        return
    if request.headers.get("content-type", "").startswith(("multipart/form-data",
                                                           "application/x-www-form-urlencoded")):
        length = request.headers.get("content-length", "")
        if not length.isdigit():
            raise HTTPException(411, "Thiếu độ dài nội dung (Content-Length) của biểu mẫu.")
        if int(length) > MAX_FORM_BODY:
            raise HTTPException(413, "Tệp tải lên quá lớn (tối đa 200 MB một lần).")
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("multipart/form-data", "application/x-www-form-urlencoded")):
        form = await request.form()  # Starlette keeps the parsed form for the route
        value = form.get("csrf")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        if request.session.get("user") is None and request.url.path != "/dang-nhap":
            raise NotAuthenticated()  # not logged in at all: log in first (the login form itself carries a token)
        raise Forbidden("Phiên làm việc đã hết hạn hoặc biểu mẫu không hợp lệ (thiếu mã chống giả mạo). "
                        "Tải lại trang rồi thử lại.")


def need(level: Need, unit_param: str | None = None) -> Callable[..., AsyncIterator[Ctx]]:
    """The dependency a route declares: ``Depends(need(Need.DOSSIERS, unit_param="code"))``. It runs on the event
    loop (what it reads is small: the user, the unit tree from the cache), so a request hops to a worker thread
    once, for the route itself."""

    async def dependency(request: Request, _csrf: None = Depends(csrf_guard)) -> AsyncIterator[Ctx]:
        pool: StorePool = request.app.state.pool
        store = pool.get()
        try:
            ctx = Ctx(request, store, *_identify(request, store))
            if ctx.user is not None and ctx.user.role == "unit" and ctx.user.unit_code:
                try:
                    ctx.scope = api_web.subtree(store, ctx.user.unit_code)
                except KeyError:
                    ctx.scope = set()
            if level is not Need.PUBLIC:
                if ctx.user is None:
                    raise NotAuthenticated()
                unit = request.path_params.get(unit_param) if unit_param else None
                if unit is None and unit_param:
                    unit = request.query_params.get(unit_param)
                if unit is not None:
                    ctx.check_unit(str(unit), level)
                elif level is Need.ADMIN:
                    ctx.check_unit("", Need.ADMIN)
                elif level is Need.DOSSIERS and ctx.user.role == "viewer":
                    ctx.check_unit("", Need.DOSSIERS)
            yield ctx
        finally:
            pool.put(store)

    dependency.need = level  # type: ignore[attr-defined]  # read by the role × route test
    return dependency


def _identify(request: Request, store: Store) -> tuple[User | None, bool]:
    token = _bearer(request)
    if token is not None:
        user = accounts.user_for_token(store, token)
        if user is None:
            raise NotAuthenticated()
        return user, True
    name = request.session.get("user")
    if not isinstance(name, str):
        return None, False
    user = accounts.get_user(store, name)
    if user is None or user.disabled:
        request.session.clear()
        return None, False
    return user, False
