"""The pages (các trang): Vietnamese, server-rendered, usable without JavaScript; each table also CSV and JSON.

Routes parse the request, declare their need (:mod:`chiso.web.access`) and call :mod:`chiso.api_web`; they never
run SQL or scoring themselves.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from chiso import accounts, api, api_web
from chiso.clock import today_local
from chiso.config import ConfigError
from chiso.load.loader import LoadError, LoadReport
from chiso.load.readers import LoadIssue
from chiso.outputs import safe_filename
from chiso.textnorm import fold
from chiso.web import charts
from chiso.web.access import Ctx, Need, need, session_csrf
from chiso.web.app import moment
from chiso.web.tables import cached_html, format_links, page, table, wanted_format

router = APIRouter()
T = TypeVar("T")
UPLOAD_SUFFIXES = {".csv", ".txt", ".xlsx", ".xlsm", ".xls", ".xlsb", ".ods", ".jsonl", ".ndjson", ".json",
                   ".parquet"}
MAX_UPLOAD = 200 * 1024 * 1024
MAX_ISSUES_SHOWN = 200
SORTS = {"rank", "name", "total", "change", "level", "classification"}

DOSSIER_COLUMNS = [("dossier_id", "Mã hồ sơ"), ("unit_name", "Đơn vị"), ("procedure_code", "Mã TTHC"),
                   ("procedure_name", "Thủ tục"), ("officer", "Cán bộ"), ("received_at", "Tiếp nhận"),
                   ("due_at", "Hạn giải quyết"), ("end_at", "Kết thúc"), ("status", "Tình trạng"),
                   ("working_days_overdue", "Số ngày làm việc quá hạn")]


async def cached_or_render(ctx: Ctx, render: Callable[..., Response], *args: Any) -> Response:
    """The page already rendered for this request's URL, role, unit and data (answered on the event loop, no
    thread), else ``render(*args)`` in a worker thread (it reads the store and may score)."""
    from starlette.concurrency import run_in_threadpool

    if not (ctx.user is not None and ctx.user.role == "unit" and ctx.request.url.path == "/"):
        hit = cached_html(ctx)
        if hit is not None:
            return hit
    return await run_in_threadpool(render, *args)


def guarded(fn: Callable[[], T]) -> T:
    """KeyError (unknown unit, dossier, period) → 404; ValueError (bad argument) → 400, with their message."""
    try:
        return fn()
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0]) if exc.args else "Không tìm thấy.") from None
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None


def period_of(ctx: Ctx) -> tuple[str, list[str]]:
    """The ?period= of the request (a month with data by default) and the months to choose from."""
    months = api_web.periods(ctx.store)
    text = ctx.request.query_params.get("period")
    if text:
        label = guarded(lambda: api_web.check_period(text)).label
        if label not in months:
            months = sorted({*months, label}, reverse=True)
        return label, months
    if not months:
        raise HTTPException(404, "Kho chưa có hồ sơ nào: nạp dữ liệu trước (trang Nạp dữ liệu).")
    return months[0], months


def due_within(ctx: Ctx) -> int:
    text = ctx.request.query_params.get("trong", "3")
    if not text.isdigit() or not 1 <= int(text) <= 30:
        raise HTTPException(400, "số ngày làm việc phải từ 1 đến 30")
    return int(text)


def base(ctx: Ctx, period: str, months: list[str], **extra: Any) -> dict[str, Any]:
    return {"period": period, "months": months, "links": format_links(ctx), **extra}


# --- login ------------------------------------------------------------------------------------------------------

@router.get("/dang-nhap")
def login_page(ctx: Ctx = Depends(need(Need.PUBLIC))) -> Response:
    return page(ctx, "login.html", login_csrf=session_csrf(ctx.request), next=_safe_next(ctx.request), error=None)


def _safe_next(request: Request) -> str:
    target = request.query_params.get("next") or "/"
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


@router.post("/dang-nhap")
async def login(request: Request, ctx: Ctx = Depends(need(Need.PUBLIC))) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    return await run_in_threadpool(_login, ctx, str(form.get("name", ""))[:100], str(form.get("password", "")))


def _login(ctx: Ctx, name: str, password: str) -> Response:
    request = ctx.request
    address = request.client.host if request.client else ""
    name = name.strip().lower()
    if accounts.throttled(ctx.store, name, address):
        return _login_again(ctx, "Đăng nhập sai quá nhiều lần. Thử lại sau 15 phút.", 429)
    with request.app.state.write_lock:
        user = accounts.authenticate(ctx.store, name, password, address)
    if user is None:
        return _login_again(ctx, "Tên đăng nhập hoặc mật khẩu không đúng.", 401)
    request.session.clear()
    request.session["user"] = user.name
    session_csrf(request)
    return RedirectResponse(_safe_next(request), status_code=303)


def _login_again(ctx: Ctx, error: str, status: int) -> Response:
    response = page(ctx, "login.html", login_csrf=session_csrf(ctx.request), next=_safe_next(ctx.request),
                    error=error)
    response.status_code = status
    return response


@router.post("/dang-xuat")
def logout(ctx: Ctx = Depends(need(Need.PUBLIC))) -> Response:
    ctx.request.session.clear()
    return RedirectResponse("/dang-nhap", status_code=303)


# --- overview, ranking, unit ------------------------------------------------------------------------------------

@router.get("/")
async def overview(ctx: Ctx = Depends(need(Need.AGGREGATES))) -> Response:
    return await cached_or_render(ctx, _overview, ctx)


def _overview(ctx: Ctx) -> Response:
    assert ctx.user is not None
    if ctx.user.role == "unit" and ctx.user.unit_code:
        query = f"?{ctx.request.url.query}" if ctx.request.url.query else ""
        return RedirectResponse(f"/don-vi/{quote(ctx.user.unit_code, safe='')}{query}", status_code=303)
    period, months = period_of(ctx)
    n = due_within(ctx)
    data = guarded(lambda: api_web.overview(ctx.store, period, moment(ctx.request.app), due_within=n))
    if wanted_format(ctx) == "json":
        return table(ctx, [data], [], "tong-quan", "overview.html")
    rows = data["worst"]
    p = data["province"]
    bars = charts.bars([(f"{g['code']} — {g['name']}", g["score"], g["max"]) for g in p["groups"]])
    trend = charts.line([(t["period"][5:] + "/" + t["period"][:4], t["total"]) for t in data["trend"]])
    return table(ctx, rows, RANK_COLUMNS, f"don-vi-diem-thap-nhat-{period}", "overview.html",
                 data=data, bars=bars, trend=trend, **base(ctx, period, months))


RANK_COLUMNS = [("rank", "Hạng"), ("code", "Mã"), ("name", "Đơn vị"), ("level_name", "Cấp"), ("total", "Tổng điểm"),
                ("classification", "Xếp loại"), ("previous_total", "Tháng trước"), ("change", "Thay đổi")]


@router.get("/xep-hang")
async def ranking(ctx: Ctx = Depends(need(Need.AGGREGATES))) -> Response:
    return await cached_or_render(ctx, _ranking, ctx)


def _ranking(ctx: Ctx) -> Response:
    period, months = period_of(ctx)
    q = ctx.request.query_params
    level = q.get("level", "")
    if level and level not in api_web.LEVELS:
        raise HTTPException(400, f"cấp '{level[:30]}' không có")
    band = q.get("band", "")
    name = q.get("q", "")[:100]
    sort = q.get("sort", "rank")
    direction = q.get("dir", "asc")
    if sort not in SORTS or direction not in ("asc", "desc"):
        raise HTTPException(400, "cách sắp xếp không hợp lệ")
    rows = guarded(lambda: api_web.ranking(ctx.store, period, moment(ctx.request.app)))
    groups = api_web.groups(ctx.store, period, moment(ctx.request.app))
    bands = sorted({r["classification"] for r in rows})
    if ctx.scope is not None:
        rows = [r for r in rows if r["code"] in ctx.scope]
    if level:
        rows = [r for r in rows if r["level"] == level]
    if band:
        rows = [r for r in rows if r["classification"] == band]
    if name:
        folded = fold(name)
        rows = [r for r in rows if folded in fold(r["name"]) or folded in fold(r["code"])]
    keys: dict[str, Callable[[dict[str, Any]], Any]] = {
        "rank": lambda r: (api_web.LEVEL_ORDER.get(r["level"], 9), r["rank"] or 0, fold(r["name"])),
        "name": lambda r: (fold(r["name"]), r["code"]),
        "total": lambda r: (r["total"], fold(r["name"])),
        "change": lambda r: (r["change"] if r["change"] is not None else -1e9, fold(r["name"])),
        "level": lambda r: (api_web.LEVEL_ORDER.get(r["level"], 9), fold(r["name"])),
        "classification": lambda r: (r["classification"], fold(r["name"])),
    }
    rows = sorted(rows, key=keys[sort], reverse=direction == "desc")
    flat = [{**r, **{f"group_{g}": v for g, v in r["groups"].items()}} for r in rows]
    columns = RANK_COLUMNS + [(f"group_{g['code']}", f"{g['code']} (/{g['max']:g})") for g in groups]
    levels = [(k, v) for k, v in api_web.LEVELS.items() if k != "province"]
    return table(ctx, flat, columns, f"xep-hang-{period}", "ranking.html", groups=groups, bands=bands,
                 levels=levels, level=level, band=band, q=name, sort=sort, dir=direction,
                 **base(ctx, period, months))


INDICATOR_COLUMNS = [("group", "Lĩnh vực"), ("code", "Chỉ số"), ("name", "Tên chỉ số"), ("numerator", "Tử số"),
                     ("denominator", "Mẫu số"), ("score", "Điểm"), ("max", "Tối đa"), ("lost", "Điểm bị trừ"),
                     ("provisional", "Tạm tính")]


@router.get("/don-vi/{code}")
async def unit(code: str, ctx: Ctx = Depends(need(Need.AGGREGATES, unit_param="code"))) -> Response:
    return await cached_or_render(ctx, _unit, code, ctx)


def _unit(code: str, ctx: Ctx) -> Response:
    assert ctx.user is not None
    period, months = period_of(ctx)
    n = due_within(ctx)
    dossiers = ctx.user.role != "viewer"
    data = guarded(lambda: api_web.unit_page(ctx.store, code, period, moment(ctx.request.app), due_within=n,
                                             with_dossiers=dossiers))
    trend = charts.line([(t["period"][5:] + "/" + t["period"][:4], t["total"]) for t in data["trend"]])
    return table(ctx, data["indicators"], INDICATOR_COLUMNS, f"chi-so-{code}-{period}", "unit.html", data=data,
                 trend=trend, dossiers=dossiers, dossier_columns=DOSSIER_COLUMNS, **base(ctx, period, months))


@router.get("/don-vi/{code}/ho-so")
async def unit_dossiers(code: str, ctx: Ctx = Depends(need(Need.DOSSIERS, unit_param="code"))) -> Response:
    return await cached_or_render(ctx, _unit_dossiers, code, ctx)


def _unit_dossiers(code: str, ctx: Ctx) -> Response:
    period, months = period_of(ctx)
    figure = ctx.request.query_params.get("figure", "pending_late")[:80]
    n = due_within(ctx)
    data = guarded(lambda: api_web.figure_dossiers(ctx.store, code, period, moment(ctx.request.app), figure,
                                                   due_within=n))
    info = api_web.units(ctx.store)[code]
    return table(ctx, data["rows"], DOSSIER_COLUMNS, f"ho-so-{code}-{figure}-{period}", "dossiers.html", data=data,
                 unit=info, figure=figure, **base(ctx, period, months))


@router.get("/ho-so/{dossier_id}")
def dossier(dossier_id: str, ctx: Ctx = Depends(need(Need.DOSSIERS))) -> Response:
    data = guarded(lambda: api_web.dossier_detail(ctx.store, dossier_id, moment(ctx.request.app)))
    ctx.check_unit(str(data["unit_code"]), Need.DOSSIERS)
    fmt = wanted_format(ctx)
    if fmt != "html":
        return table(ctx, data["timeline"], [("at", "Thời điểm"), ("event", "Sự kiện"), ("working_time", "Sau")],
                     f"ho-so-{dossier_id}", "dossier.html") if fmt == "csv" else table(ctx, [data], [], "", "")
    return page(ctx, "dossier.html", data=data, links=format_links(ctx), period=None, months=[])


OVERDUE_COLUMNS = [*DOSSIER_COLUMNS, ("explanation_done", "Giải trình (ngày)"), ("apology_done", "Xin lỗi (ngày)")]


@router.get("/qua-han")
async def overdue(ctx: Ctx = Depends(need(Need.DOSSIERS))) -> Response:
    return await cached_or_render(ctx, _overdue, ctx)


def _overdue(ctx: Ctx) -> Response:
    period, months = period_of(ctx)
    data = guarded(lambda: api_web.overdue(ctx.store, period, moment(ctx.request.app), scope=ctx.scope))
    rows = [{**r, "explanation_done": (r["explanation"] or {}).get("done_on"),
             "apology_done": (r["apology"] or {}).get("done_on")} for r in data["rows"]]
    return table(ctx, rows, OVERDUE_COLUMNS, f"qua-han-{period}", "overdue.html", data=data,
                 actions=api_web.ACTIONS, today=today_local().isoformat(),
                 notice=_known(ctx.request.query_params.get("ok"), rows), **base(ctx, period, months))


def _known(dossier_id: str | None, rows: list[dict[str, Any]]) -> str | None:
    """The dossier named in ?ok= after a mark, only when it is one of the page's (never a text from a link)."""
    return dossier_id if dossier_id and any(r["dossier_id"] == dossier_id for r in rows) else None


@router.post("/qua-han/{dossier_id}")
async def mark_overdue(dossier_id: str, request: Request, ctx: Ctx = Depends(need(Need.DOSSIERS))) -> Response:
    from starlette.concurrency import run_in_threadpool

    form = await request.form()
    upload = form.get("file")
    content = None
    name = None
    if isinstance(upload, UploadFile) and upload.filename:
        content = await upload.read(api_web.MAX_ATTACHMENT + 1)
        name = Path(upload.filename).name
    return await run_in_threadpool(_mark, ctx, dossier_id, str(form.get("action", "")), str(form.get("done_on", "")),
                                   name, content, str(form.get("period", "")))


def _mark(ctx: Ctx, dossier_id: str, action: str, done_on: str, name: str | None, content: bytes | None,
          period: str) -> Response:
    assert ctx.user is not None
    unit_code = guarded(lambda: api_web.dossier_unit(ctx.store, dossier_id))
    ctx.check_unit(unit_code, Need.DOSSIERS)
    try:
        day = date.fromisoformat(done_on)
    except ValueError:
        raise HTTPException(400, f"ngày '{done_on[:20]}' không hợp lệ (dùng yyyy-mm-dd)") from None
    with ctx.request.app.state.write_lock:
        guarded(lambda: api_web.mark_overdue(ctx.store, dossier_id, action, done_on=day, recorded_by=ctx.user.name
                                             if ctx.user else "", file_name=name, content=content, who=ctx.actor()))
    back = f"/qua-han?ok={quote(dossier_id, safe='')}"
    if period and len(period) == 7:
        back += f"&period={quote(period, safe='')}"
    return RedirectResponse(back, status_code=303)


@router.get("/qua-han/{dossier_id}/tep/{action}")
def overdue_file(dossier_id: str, action: str, ctx: Ctx = Depends(need(Need.DOSSIERS))) -> Response:
    unit_code = guarded(lambda: api_web.dossier_unit(ctx.store, dossier_id))
    ctx.check_unit(unit_code, Need.DOSSIERS)
    found = api_web.overdue_attachment(ctx.store, dossier_id, action)
    if found is None:
        raise HTTPException(404, "Không có tệp đính kèm.")
    name, content = found
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


FORECAST_COLUMNS = [("name", "Đơn vị"), ("level_name", "Cấp"), ("total_forecast", "Điểm nếu xử lý đúng hạn"),
                    ("total_if_late", "Điểm nếu để quá hạn"), ("points_at_risk", "Điểm có nguy cơ mất"),
                    ("due_in_period", "Hồ sơ đến hạn trước cuối kỳ")]


@router.get("/du-bao")
async def forecast(ctx: Ctx = Depends(need(Need.AGGREGATES))) -> Response:
    return await cached_or_render(ctx, _forecast, ctx)


def _forecast(ctx: Ctx) -> Response:
    assert ctx.user is not None
    period, months = period_of(ctx)
    when = moment(ctx.request.app)
    day = ctx.request.query_params.get("ngay", "")
    if day:
        try:
            when = datetime.combine(date.fromisoformat(day), datetime.max.time()).replace(microsecond=0)
        except ValueError:
            raise HTTPException(400, f"ngày '{day[:20]}' không hợp lệ (dùng yyyy-mm-dd)") from None
    data = guarded(lambda: api_web.forecast(ctx.store, period, when, scope=ctx.scope))
    return table(ctx, data["units"], FORECAST_COLUMNS, f"du-bao-{period}", "forecast.html", data=data, day=day,
                 dossiers=ctx.user.role != "viewer", **base(ctx, period, months))


# --- upload, documents ------------------------------------------------------------------------------------------

@router.get("/nap-du-lieu")
def upload_page(ctx: Ctx = Depends(need(Need.ADMIN))) -> Response:
    return page(ctx, "upload.html", report=None, issues=[], failed=None, period=None, months=[])


@router.post("/nap-du-lieu")
async def upload(request: Request, ctx: Ctx = Depends(need(Need.ADMIN))) -> Response:
    form = await request.form()
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename]
    table_name = str(form.get("table") or "") or None
    partial = form.get("partial") == "1"
    if not files:
        return _upload_result(ctx, None, [], "Chưa chọn tệp nào.")
    with tempfile.TemporaryDirectory(prefix="chiso-upload-") as tmp:
        paths, total = [], 0
        for n, f in enumerate(files, start=1):
            original = Path(str(f.filename)).name
            suffix = Path(original).suffix.lower()
            if suffix not in UPLOAD_SUFFIXES:
                return _upload_result(ctx, None, [], f"Tệp '{original}': không nhận loại tệp '{suffix}' (nhận CSV, "
                                                     "Excel, ODS, JSON Lines, Parquet).")
            name = safe_filename(Path(original).stem) + suffix
            target = Path(tmp) / (name if not (Path(tmp) / name).exists() else f"{n}-{name}")
            with target.open("wb") as out:
                while chunk := await f.read(1 << 20):
                    total += len(chunk)
                    if total > MAX_UPLOAD:
                        return _upload_result(ctx, None, [], "Tệp tải lên quá lớn (tối đa 200 MB một lần).")
                    out.write(chunk)
            paths.append(target)
        from starlette.concurrency import run_in_threadpool

        return await run_in_threadpool(_load_files, ctx, paths, table_name, partial)


def _load_files(ctx: Ctx, paths: list[Path], table_name: str | None, partial: bool) -> Response:
    from chiso.load.contract import TABLES

    if table_name is not None and table_name not in TABLES:
        return _upload_result(ctx, None, [], f"Không có bảng '{table_name}'.")
    try:
        with ctx.request.app.state.write_lock:
            try:
                report = api.load(ctx.store, paths, table=table_name, partial=partial)
            finally:
                api_web.invalidate(ctx.store)
    except LoadError as exc:
        return _upload_result(ctx, exc.report, exc.report.issues, "Không nạp tệp nào: sửa các lỗi dưới đây rồi tải "
                                                                  "lên lại (hoặc chọn nạp các dòng hợp lệ).")
    except ConfigError as exc:
        return _upload_result(ctx, None, [], str(exc))
    return _upload_result(ctx, report, report.issues, None)


def _upload_result(ctx: Ctx, report: LoadReport | None, issues: list[LoadIssue], failed: str | None) -> Response:
    response = page(ctx, "upload.html", report=report, issues=issues[:MAX_ISSUES_SHOWN], issue_count=len(issues),
                    failed=failed, period=None, months=[])
    if failed:
        response.status_code = 422 if report is not None else 400
    return response


DOCUMENTS = {
    "cong-van-thang": ("Công văn công khai kết quả Bộ chỉ số tháng", ".docx"),
    "phu-luc-thang": ("Phụ lục kết quả Bộ chỉ số tháng", ".xlsx"),
    "cong-van-don-vi": ("Công văn chi tiết gửi một đơn vị", ".docx"),
    "bao-cao-quy": ("Báo cáo quý về thực hiện cơ chế một cửa, một cửa liên thông", ".docx"),
}


@router.get("/van-ban")
def documents(ctx: Ctx = Depends(need(Need.ADMIN))) -> Response:
    period, months = period_of(ctx)
    ranked = api_web.ranking(ctx.store, period, moment(ctx.request.app))
    quarters = sorted({f"{m[:4]}-Q{(int(m[5:7]) - 1) // 3 + 1}" for m in months}, reverse=True)
    return page(ctx, "documents.html", documents=DOCUMENTS, units=[r for r in ranked if r["level"] != "province"],
                quarters=quarters, **base(ctx, period, months))


@router.get("/van-ban/tai")
def download_document(ctx: Ctx = Depends(need(Need.ADMIN))) -> Response:
    q = ctx.request.query_params
    kind = q.get("loai", "")
    if kind not in DOCUMENTS:
        raise HTTPException(400, "loại văn bản không có")
    period, _ = period_of(ctx) if kind != "bao-cao-quy" else (q.get("quy", ""), [])
    code = q.get("unit", "") if kind == "cong-van-don-vi" else ""
    if kind == "cong-van-don-vi":
        guarded(lambda: api_web.subtree(ctx.store, code))
    version = api_web.data_version(ctx.store)
    key = (kind, period, code, version)
    cache: dict[tuple[str, ...], tuple[str, bytes]] = ctx.request.app.state.documents
    if key not in cache:
        with ctx.request.app.state.write_lock:  # one document at a time: they are long and use LibreOffice's fonts
            cache[key] = guarded(lambda: _make_document(ctx, kind, period, code))
        while len(cache) > 16:
            cache.pop(next(iter(cache)))
    name, content = cache[key]
    media = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document" if name.endswith(".docx")
             else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(content, media_type=media,
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def _make_document(ctx: Ctx, kind: str, period: str, code: str) -> tuple[str, bytes]:
    from chiso.reports import documents as docs

    when = moment(ctx.request.app)
    today = today_local()
    with tempfile.TemporaryDirectory(prefix="chiso-van-ban-") as tmp:
        out = Path(tmp) / "out"
        if kind in ("cong-van-thang", "phu-luc-thang"):
            written = docs.write_monthly(ctx.store, period, out, as_of=when, letter_date=today, want_pdf=False)
            suffix = DOCUMENTS[kind][1]
            path = next(p for p in written.files if p.suffix == suffix and p.parent == out)
        elif kind == "cong-van-don-vi":
            written = docs.write_unit(ctx.store, code, period, out, as_of=when, letter_date=today, want_pdf=False)
            path = next(p for p in written.files if p.suffix == ".docx")
        else:
            written = docs.write_quarterly_onestop(ctx.store, period, out, letter_date=today, want_pdf=False)
            path = next(p for p in written.files if p.suffix == ".docx")
        return path.name, path.read_bytes()


# --- public -----------------------------------------------------------------------------------------------------

PUBLIC_COLUMNS = [("rank", "Hạng"), ("name", "Đơn vị"), ("level_name", "Cấp"), ("total", "Tổng điểm"),
                  ("classification", "Xếp loại"), ("overdue", "Hồ sơ quá hạn")]


@router.get("/cong-khai")
async def public(ctx: Ctx = Depends(need(Need.PUBLIC))) -> Response:
    return await cached_or_render(ctx, _public, ctx)


def _public(ctx: Ctx) -> Response:
    published = api_web.public_periods(ctx.store)
    text = ctx.request.query_params.get("period") or (published[0] if published else "")
    data = guarded(lambda: api_web.public_results(ctx.store, text)) if text else None
    rows = data["units"] if data else []
    return table(ctx, rows, PUBLIC_COLUMNS, f"cong-khai-{text or 'chua-co'}", "public.html", data=data,
                 period=text, months=published, links=format_links(ctx))
