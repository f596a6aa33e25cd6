"""Responses of the pages: HTML from a template, and every table also as CSV and JSON at the same URL
(``?format=csv`` / ``?format=json``, as Datasette does). CSV for people: UTF-8 with a BOM (Excel reads the
Vietnamese), every text cell neutralised against formula injection (:func:`chiso.outputs.csv_text`)."""

from __future__ import annotations

import csv
import io
import json
import threading
from collections import OrderedDict
from html import escape
from typing import Any
from urllib.parse import quote

from fastapi import HTTPException
from fastapi.responses import HTMLResponse, Response

from chiso import api_web
from chiso.accounts import User
from chiso.clock import today_local
from chiso.outputs import csv_text, safe_filename
from chiso.web.access import Ctx

FORMATS = ("html", "csv", "json")


def wanted_format(ctx: Ctx) -> str:
    fmt = ctx.request.query_params.get("format", "html")
    if fmt not in FORMATS:
        raise HTTPException(400, f"định dạng '{fmt}' không có (chọn html, csv hoặc json)")
    return fmt


# Rendered pages are kept per (URL, role, unit, moment, data version) with two markers where the only personal
# parts go — the user's name and the session's CSRF token — replaced on the way out (user names are [a-z0-9._-]).
USER_MARK = "chiso-ten-nguoi-dung-9d41c7"
CSRF_MARK = "chiso-ma-chong-gia-mao-9d41c7"
HTML_CACHE_SIZE = 512
_html: OrderedDict[tuple[Any, ...], str] = OrderedDict()
_html_lock = threading.Lock()


def cached_html(ctx: Ctx) -> Response | None:
    """The page already rendered for the same request, role, unit and data (None: render it, and keep it)."""
    from chiso.web.app import moment

    if ctx.request.query_params.get("format", "html") != "html":
        return None
    user = ctx.user
    ctx.cache_key = (ctx.request.url.path, tuple(sorted(ctx.request.query_params.multi_items())),
                     user.role if user else "", user.unit_code if user else "", moment(ctx.request.app),
                     today_local(), api_web.data_version(ctx.store))
    with _html_lock:
        html = _html.get(ctx.cache_key)
        if html is not None:
            _html.move_to_end(ctx.cache_key)
    return None if html is None else HTMLResponse(_personal(ctx, html))


def _personal(ctx: Ctx, html: str) -> str:
    if ctx.user is None:
        return html
    return html.replace(USER_MARK, escape(ctx.user.name)).replace(CSRF_MARK, ctx.csrf_token())


def page(ctx: Ctx, template: str, **context: Any) -> HTMLResponse:
    env = ctx.request.app.state.templates
    user = ctx.user
    marked = User(USER_MARK, user.role, user.unit_code) if user else None
    html = env.get_template(template).render(user=marked, csrf=CSRF_MARK if user else "",
                                             request=ctx.request, path=ctx.request.url.path, **context)
    if ctx.cache_key is not None:
        with _html_lock:
            _html[ctx.cache_key] = html
            while len(_html) > HTML_CACHE_SIZE:
                _html.popitem(last=False)
    return HTMLResponse(_personal(ctx, html))


def csv_response(rows: list[dict[str, Any]], columns: list[tuple[str, str]], name: str) -> Response:
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow([label for _, label in columns])
    for r in rows:
        w.writerow([csv_text(_cell(r.get(key))) for key, _ in columns])
    filename = safe_filename(name) + ".csv"
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "có" if value else "không"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else value


def json_response(data: Any) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, default=str), media_type="application/json")


def table(ctx: Ctx, rows: list[dict[str, Any]], columns: list[tuple[str, str]], name: str, template: str,
          **context: Any) -> Response:
    """The page, or its main table as CSV or JSON."""
    fmt = wanted_format(ctx)
    if fmt == "csv":
        return csv_response(rows, columns, name)
    if fmt == "json":
        return json_response(rows)
    return page(ctx, template, rows=rows, columns=columns, **context)


def format_links(ctx: Ctx) -> dict[str, str]:
    """The CSV and JSON URLs of the current page."""
    params = dict(ctx.request.query_params)
    out = {}
    for fmt in ("csv", "json"):
        params["format"] = fmt
        out[fmt] = ctx.request.url.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())
    return out
