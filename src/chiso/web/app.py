"""The web application (ứng dụng web): FastAPI, server-rendered Jinja2 pages, our own CSS, no CDN.

``create_app(settings)`` opens the store once (the embedded DuckDB file — the server is then its only writer — or
the shared PostgreSQL database) and serves every request with a handle of its own from a pool
(:class:`chiso.web.access.StorePool`). Writes (uploads, the ingest API) are serialised by one lock. Pages read the
cached data of :mod:`chiso.api_web`; a background thread warms the cache of the newest month at start.

Security: signed session cookies (HttpOnly, SameSite=Lax, Secure over https) whose secret is made once and kept in
the store's settings; CSRF tokens on every form (:func:`chiso.web.access.csrf_guard`); a Content-Security-Policy
without inline scripts or styles; no framing; no referrer; Jinja2 autoescaping; API docs pages (which would load
scripts from a CDN) are off — the description is at ``/openapi.json``.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chiso import __version__, api_web
from chiso.scoring.render import vn_number
from chiso.store.db import Store
from chiso.web.access import Forbidden, NotAuthenticated, StorePool

SESSION_HOURS = 8
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; "
       "base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


@dataclass
class WebSettings:
    workspace: Path | None = None
    database: str | None = None
    as_of: datetime | None = None  # a fixed moment (demonstrations, tests); None: now
    https: bool = False
    warm: bool = True
    alerts: bool = False  # run `chiso alerts` every working day at [alerts] hour (docs/alerts.md)


def _vn_int(value: Any) -> str:
    from chiso import vnformat

    return vnformat.integer(value)


def _dt(value: Any) -> str:
    """'2025-09-30 17:00:00' -> '30/09/2025 17:00'."""
    if not value:
        return ""
    text = str(value)
    if len(text) >= 16 and text[4] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[0:4]} {text[11:16]}"
    return text


def _signed(value: Any) -> str:
    if value is None:
        return ""
    return ("+" if value > 0 else "") + vn_number(value)


def templates_env() -> Environment:
    env = Environment(loader=PackageLoader("chiso.web", "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters.update(vn=vn_number, vn_int=_vn_int, dt=_dt, signed=_signed)
    env.globals.update(version=__version__)
    return env


def session_secret(store: Store) -> str:
    """The key that signs session cookies: made once, kept in the store's settings (never in code)."""
    secret = store.get_setting("web_session_secret")
    if secret:
        return secret
    secret = secrets.token_urlsafe(48)
    with store.transaction():
        store.set_setting("web_session_secret", secret)
    return secret


def create_app(settings: WebSettings) -> FastAPI:
    root = Store.open(settings.workspace, database=settings.database)
    try:
        secret = session_secret(root)
        api_web.prepare_store(root)
    except BaseException:
        root.close()
        raise

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.warm:
            threading.Thread(target=_warm, args=(app,), daemon=True, name="chiso-warm").start()
        scheduler = None
        if settings.alerts:
            from chiso.alerts import Scheduler

            scheduler = Scheduler(root.duplicate)
            scheduler.start()
        try:
            yield
        finally:
            if scheduler is not None:
                scheduler.stop()
            app.state.pool.close()
            root.close()

    app = FastAPI(title="chiso", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="Bộ chỉ số phục vụ người dân, doanh nghiệp — API của chiso (xem docs/web.md).")
    app.state.settings = settings
    app.state.pool = StorePool(root)
    app.state.write_lock = threading.Lock()
    app.state.templates = templates_env()
    app.state.documents = {}
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="chiso_phien",
                       max_age=SESSION_HOURS * 3600, same_site="lax", https_only=settings.https)

    app.add_middleware(SecurityHeaders)

    _errors(app)
    app.mount("/static", StaticFiles(directory=str(resources.files("chiso.web") / "static")), name="static")
    from chiso.web import api_routes, pages

    app.include_router(pages.router)
    app.include_router(api_routes.router)
    return app


class SecurityHeaders:
    """Pure ASGI middleware (cheaper than an ``http`` middleware) adding the security headers to every answer."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-frame-options", b"DENY"),
               (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer")]

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() not in
                           {h for h, _ in self.HEADERS}]
                headers += self.HEADERS
                if not static and not any(k.lower() == b"cache-control" for k, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def all_routes(app: FastAPI) -> list[Any]:
    """Every route of the application, routers included (FastAPI keeps included routers as branches)."""
    out: list[Any] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(list(inner.routes))
            else:
                out.append(route)
    walk(list(app.routes))
    return out


def _warm(app: FastAPI) -> None:
    """Compute the newest month's pages once, so the first visitor does not wait for the scoring."""
    pool: StorePool = app.state.pool
    store = pool.get()
    try:
        months = api_web.periods(store)
        if months:
            api_web.overview(store, months[0], moment(app))
    except Exception:  # noqa: BLE001 — warming is an optimisation; the request that needs it reports errors
        pass
    finally:
        pool.put(store)


def moment(app: Any) -> datetime:
    """The as-of moment of a request: the server's fixed one, else now (Asia/Ho_Chi_Minh) rounded to 15 minutes."""
    from chiso.clock import now_local

    fixed: datetime | None = app.state.settings.as_of
    return fixed if fixed is not None else api_web.round_moment(now_local())


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error_page(request: Request, status: int, title: str, message: str) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=status)
    html = request.app.state.templates.get_template("error.html").render(
        title=title, message=message, status=status, user=None, nav=None)
    return Response(html, status_code=status, media_type="text/html; charset=utf-8")


def _errors(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return JSONResponse({"detail": "Cần đăng nhập: gửi Authorization: Bearer <mã truy cập>."},
                                status_code=401, headers={"WWW-Authenticate": "Bearer"})
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse(f"/dang-nhap?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        return _error_page(request, 403, "Không có quyền", exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Không tìm thấy", 400: "Yêu cầu không hợp lệ", 405: "Phương thức không được hỗ trợ",
                  413: "Tệp quá lớn", 429: "Thử lại sau"}
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else None
        if exc.status_code == 404 and isinstance(exc.detail, str) and exc.detail != "Not Found":
            detail = exc.detail
        message = detail or {404: "Không có trang này.", 405: "Trang này không nhận yêu cầu kiểu đó."}.get(
            exc.status_code, "Yêu cầu không hợp lệ.")
        return _error_page(request, exc.status_code, titles.get(exc.status_code, "Lỗi"), message)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        where = ", ".join(".".join(str(p) for p in e.get("loc", ())) for e in exc.errors()[:5])
        message = f"Tham số không hợp lệ: {where}."
        if _is_api(request):
            return JSONResponse({"detail": message}, status_code=422)
        return _error_page(request, 400, "Yêu cầu không hợp lệ", message)
