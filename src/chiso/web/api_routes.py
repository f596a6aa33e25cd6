"""The API for machine clients (described at ``/openapi.json``): ``Authorization: Bearer TOKEN``.

* ``GET /api/scores`` — exactly the JSON of ``chiso score --format json``;
* ``GET /api/units/{code}/dossiers`` — the status rows of the unit and the units below it, as ``chiso status``
  prints them (JSON, or ``?format=csv``);
* ``POST /api/dossiers`` — a JSON array of dossier rows in the input contract's columns (docs/data-format.md),
  validated and stored by the loader itself (one validation, idempotent like every load); invalid rows → 422 with
  row, column and reason, and nothing stored.
"""

from __future__ import annotations

import csv
import io
import json
import math
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from chiso import api, api_web, vnformat
from chiso.load.loader import LoadError, LoadReport
from chiso.outputs import csv_text
from chiso.status.timeliness import CLASSES
from chiso.web.access import Ctx, Forbidden, Need, need
from chiso.web.app import moment
from chiso.web.pages import guarded

router = APIRouter(prefix="/api", tags=["api"])
MAX_ROWS = 100_000
MAX_BODY = 100 * 1024 * 1024


def _as_of(ctx: Ctx, text: str | None) -> Any:
    if not text:
        return moment(ctx.request.app)
    from click import BadParameter

    from chiso.cli import parse_moment

    try:
        return parse_moment(text)
    except BadParameter as exc:
        raise HTTPException(400, exc.message) from None


@router.get("/scores", summary="Điểm Bộ chỉ số của một kỳ (như chiso score --format json)")
def scores(period: str = Query(..., description="Kỳ: 2025-09, 2025-Q3, 2025"),
           level: str | None = Query(None, description="province | department | district | commune"),
           unit: str | None = Query(None, description="Một đơn vị và các đơn vị cấp dưới"),
           as_of: str | None = Query(None, description="Thời điểm tính (mặc định: bây giờ)"),
           ctx: Ctx = Depends(need(Need.AGGREGATES, unit_param="unit"))) -> Response:
    assert ctx.user is not None
    if level is not None and level not in api_web.LEVELS:
        raise HTTPException(400, f"cấp '{level}' không có (chọn {', '.join(api_web.LEVELS)})")
    if unit is None and ctx.user.role == "unit":
        unit = ctx.user.unit_code  # a unit account sees its own subtree
    if unit is not None:
        guarded(lambda: api_web.subtree(ctx.store, unit))
    when = _as_of(ctx, as_of)
    from chiso.rules.model import RuleSetError
    from chiso.scoring.period import PeriodError

    try:
        text = api_web.score_json(ctx.store, period, when, level=level, unit=unit)
    except (PeriodError, RuleSetError) as exc:
        raise HTTPException(400, str(exc)) from None
    return Response(text, media_type="application/json")


@router.get("/units/{code}/dossiers", summary="Tình trạng hồ sơ của một đơn vị và các đơn vị cấp dưới")
def unit_dossiers(code: str, as_of: str | None = Query(None, description="Thời điểm (mặc định: bây giờ)"),
                  timeliness: str | None = Query(None, description="Lọc: early,on_time,late,pending,pending_late"),
                  format: str = Query("json", description="json | csv"),  # noqa: A002 — the query's name
                  ctx: Ctx = Depends(need(Need.DOSSIERS, unit_param="code"))) -> Response:
    guarded(lambda: api_web.subtree(ctx.store, code))
    classes = [c for c in (timeliness or "").split(",") if c]
    unknown = [c for c in classes if c not in CLASSES]
    if unknown:
        raise HTTPException(400, f"tình trạng không có: {', '.join(unknown)} (chọn {', '.join(CLASSES)})")
    if format not in ("json", "csv"):
        raise HTTPException(400, "định dạng phải là json hoặc csv")
    rows = api.status_rows(ctx.store, _as_of(ctx, as_of), unit=code, timeliness=classes or None)
    if format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        names = list(rows[0]) if rows else ["dossier_id", "unit_code", "procedure_code", "received_at", "due_at",
                                            "end_at", "timeliness"]
        w.writerow(names)
        for r in rows:
            w.writerow([csv_text("" if r[n] is None else r[n]) for n in names])
        return Response("\ufeff" + buf.getvalue(), media_type="text/csv; charset=utf-8")
    return Response(json.dumps(rows, ensure_ascii=False), media_type="application/json")


@router.post("/dossiers", summary="Gửi hồ sơ (mảng JSON theo hợp đồng dữ liệu); trả về báo cáo nạp",
             responses={422: {"description": "Dòng không hợp lệ: dòng, cột, lý do; không lưu gì"}})
async def post_dossiers(request: Request, ctx: Ctx = Depends(need(Need.DOSSIERS))) -> Response:
    body = await read_capped(request, MAX_BODY)
    try:
        rows = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        return _invalid([{"row": 0, "column": "(nội dung)", "reason": f"không phải JSON hợp lệ: {exc}"}])
    if not isinstance(rows, list):
        return _invalid([{"row": 0, "column": "(nội dung)", "reason": "cần một mảng JSON các hồ sơ"}])
    if len(rows) > MAX_ROWS:
        raise HTTPException(413, f"tối đa {vnformat.integer(MAX_ROWS)} hồ sơ một lần")
    problems = _shape_problems(rows)
    if problems:
        return _invalid(problems)
    if ctx.scope is not None:  # a unit account posts only its own units' dossiers
        outside = [n for n, r in enumerate(rows, start=1) if str(r.get("unit_code", "")) not in ctx.scope]
        if outside:
            raise Forbidden(f"Dòng {', '.join(map(str, outside[:10]))}: đơn vị ngoài phạm vi của tài khoản.")
    return await run_in_threadpool(_load_rows, ctx, rows)


async def read_capped(request: Request, limit: int) -> bytes:
    """The request's body, refused with 413 as soon as it passes ``limit`` bytes (declared or streamed)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise HTTPException(413, f"nội dung quá lớn (tối đa {limit // (1024 * 1024)} MB một lần)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"nội dung quá lớn (tối đa {limit // (1024 * 1024)} MB một lần)")
        chunks.append(chunk)
    return b"".join(chunks)


def _shape_problems(rows: list[Any]) -> list[dict[str, Any]]:
    problems = []
    for n, r in enumerate(rows, start=1):
        if not isinstance(r, dict):
            problems.append({"row": n, "column": "(dòng)", "reason": "mỗi hồ sơ phải là một đối tượng JSON"})
            continue
        for key, value in r.items():
            if isinstance(value, (dict, list)) or (isinstance(value, float) and not math.isfinite(value)):
                problems.append({"row": n, "column": str(key)[:100],
                                 "reason": "giá trị phải là chuỗi, số, true/false hoặc null"})
    return problems[:1000]


def _invalid(problems: list[dict[str, Any]]) -> Response:
    return JSONResponse({"detail": f"{len(problems)} lỗi; không lưu hồ sơ nào", "errors": problems}, status_code=422)


def _load_rows(ctx: Ctx, rows: list[dict[str, Any]]) -> Response:
    with tempfile.TemporaryDirectory(prefix="chiso-api-") as tmp:
        path = Path(tmp) / "api-dossiers.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
        try:
            with ctx.request.app.state.write_lock:
                try:
                    report = api.load(ctx.store, [path], table="dossiers")
                finally:
                    api_web.invalidate(ctx.store)
        except LoadError as exc:
            problems = [{"row": i.row, "column": i.column, "reason": i.reason} for i in exc.report.issues[:1000]]
            return _invalid(problems)
    return JSONResponse(_report(report))


def _report(report: LoadReport) -> dict[str, Any]:
    f = report.files[0]
    return {"table": f.table, "rows_read": f.rows_read, "inserted": f.inserted, "updated": f.updated,
            "unchanged": f.unchanged, "rejected": f.rejected, "load_id": f.load_id,
            "ignored_columns": f.ignored_columns, "personal_columns_dropped": f.personal_columns}
