"""``chiso import-official`` and ``chiso official show|review``: the national portal's results and the published
letters brought into the store (kết quả chính thức), and the names a user must confirm once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from chiso import api
from chiso.cli_params import PERIOD
from chiso.tabular import FORMATS, Col, TableError, emit

LEVELS = ("province", "department", "district", "commune")
GROUP_ORDER = ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDSH", "MDHL")
LEVEL_NAMES = {"province": "Tỉnh", "department": "Sở, ngành", "district": "Huyện", "commune": "Xã, phường"}


def show_columns(groups: list[str]) -> list[Col]:
    """The columns of ``official show``: one per group present, in the portal's order."""
    return [Col("code", "Mã đơn vị"), Col("name", "Tên đơn vị"), Col("level_name", "Cấp"),
            Col("total", "Tổng điểm", "number"), Col("rank", "Xếp hạng", "int"), Col("rank_of", "Trên số", "int"),
            *(Col(f"g_{g}", g, "number") for g in groups),
            Col("source", "Nguồn"), Col("matched_from", "Tên trong tệp"), Col("method_text", "Cách khớp"),
            Col("confidence", "Độ tin cậy", "number", 0)]
REVIEW_COLUMNS = [Col("id", "Số", "int"), Col("period", "Kỳ"), Col("level", "Cấp"), Col("name", "Tên trong tệp"),
                  Col("total", "Điểm", "number"), Col("source", "Nguồn"), Col("candidates_text", "Gần nhất"),
                  Col("status", "Trạng thái")]
IMPORT_COLUMNS = [Col("locator", "Vị trí"), Col("name", "Tên trong tệp"), Col("code", "Mã đơn vị"),
                  Col("unit_name", "Đơn vị"), Col("method_text", "Cách khớp"), Col("total", "Điểm", "number")]


def _method(method: str | None, confidence: float | None) -> str:
    from chiso.official.importer import METHOD_LABELS

    label = METHOD_LABELS.get(method or "", method or "")
    return f"{label} {confidence:.0f}%" if method in ("fuzzy", "ocr") and confidence is not None else label


def _candidates(cands: list[list[Any]]) -> str:
    return "; ".join(f"{c[1]} ({c[0]}, {float(c[2]):.0f}%)" for c in cands)


def register(main: click.Group) -> None:
    from chiso.cli import _check_out, _emit, open_store

    @main.command("import-official")
    @click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--period", type=PERIOD, required=True, help="Kỳ của kết quả: 2025-07, 07/2025, quý III/2025 …")
    @click.option("--level", type=click.Choice(LEVELS), default=None,
                  help="Cấp của mọi đơn vị trong tệp (mặc định: theo các mục trong tệp).")
    @click.option("--rules", "rules_name", default=None, help="Bộ quy tắc (mặc định: theo ngày hiệu lực của kỳ).")
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
    @click.pass_context
    def import_official(ctx: click.Context, path: Path, period: str, level: str | None, rules_name: str | None,
                        fmt: str) -> None:
        """Nhập kết quả chính thức: tệp JSON của Cổng DVCQG, bảng điểm Excel/CSV, hoặc công văn đã công bố
        (.docx, .pdf, văn bản nhận dạng từ bản quét .txt). Tên đơn vị được đối chiếu với danh mục; tên chưa chắc
        chắn vào danh sách cần xác nhận (chiso official review)."""
        from chiso.official.parse import OfficialError
        from chiso.rules.model import RuleSetError

        store = open_store(ctx)
        try:
            rep = api.import_official(store, path, period, level=level, rules=rules_name)
        except OfficialError as exc:
            raise click.UsageError(str(exc)) from None
        except RuleSetError as exc:
            raise click.ClickException(str(exc)) from None
        if fmt == "json":
            click.echo(json.dumps(rep, ensure_ascii=False, indent=1))
            return
        names = dict(store.con.execute("SELECT code, name FROM units").fetchall())
        kind = {"portal-json": "kết quả Cổng DVCQG (JSON)", "table": "bảng điểm", "letter": "công văn"}[rep["kind"]]
        click.echo(f"Đã nhập {kind} '{path.name}' cho kỳ {rep['period']} (lần nhập số {rep['import_id']}, "
                   f"SHA-256 {rep['sha256'][:12]}): {len(rep['stored'])} đơn vị đã nhận ra, "
                   f"{len(rep['review'])} tên cần xác nhận.")
        if rep["indicator_inputs"]:
            click.echo(f"Ghi {rep['indicator_inputs']} giá trị chỉ số chính thức vào indicator_inputs"
                       + (f" (thay {rep['replaced']} giá trị đã có)." if rep["replaced"] else "."))
        rows = [r | {"unit_name": names.get(r["code"], ""), "method_text": _method(r["method"], r["confidence"])}
                for r in rep["stored"]]
        emit(rows, IMPORT_COLUMNS, "table", None, title="Các đơn vị đã nhận ra")
        for note in rep["notes"]:
            click.echo(f"Ghi chú: {note}")
        if rep["review"]:
            click.echo("Cần xác nhận (chiso official review --confirm SỐ --unit MÃ):")
            for r in rep["review"]:
                click.echo(f"  - {r['locator']}: '{r['name']}' — {r['reason']}; gần nhất: "
                           f"{_candidates(r['candidates']) or 'không có'}")

    @main.group()
    def official() -> None:
        """Kết quả chính thức đã nhập: xem, và xác nhận các tên đơn vị chưa nhận ra."""

    @official.command("show")
    @click.option("--period", type=PERIOD, required=True, help="Kỳ, ví dụ 2025-07.")
    @click.option("--level", type=click.Choice(LEVELS), default=None, help="Chỉ một cấp.")
    @click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="table", show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
    @click.pass_context
    def show(ctx: click.Context, period: str, level: str | None, fmt: str, out: str | None) -> None:
        """Kết quả chính thức của một kỳ: mỗi đơn vị với tổng điểm, xếp hạng, điểm nhóm, nguồn và cách khớp tên."""
        _check_out(ctx, out)
        store = open_store(ctx, read_only=True)
        data = api.official(store, period, level=level)
        if fmt == "json":
            _emit(json.dumps(data, ensure_ascii=False, indent=1) + "\n", out)
            return
        if not data:
            click.echo(f"Chưa có kết quả chính thức cho kỳ {period} (nhập bằng chiso import-official TỆP --period "
                       f"{period}).")
            return
        present = {g for u in data for g in u["groups"]}
        groups = [g for g in GROUP_ORDER if g in present] + sorted(present - set(GROUP_ORDER))
        rows = [u | {f"g_{g}": v["score"] for g, v in u["groups"].items()}
                | {"level_name": LEVEL_NAMES.get(str(u["level"]), u["level"]),
                   "method_text": _method(u["match_method"], u["confidence"])} for u in data]
        try:
            emit(rows, show_columns(groups), fmt, Path(out) if out else None,
                 title=f"Kết quả chính thức kỳ {period}: {len(rows)} đơn vị", sheet="Kết quả chính thức")
        except TableError as exc:
            raise click.UsageError(str(exc)) from None

    @official.command("review")
    @click.option("--period", type=PERIOD, default=None, help="Chỉ một kỳ.")
    @click.option("--confirm", "confirm_id", type=int, default=None, help="Số của dòng cần xác nhận.")
    @click.option("--unit", default=None, help="Mã hoặc tên đơn vị đúng của dòng đó (cùng --confirm).")
    @click.option("--create", "create_key", default=None,
                  help="Cùng --confirm: tạo sở, ngành mới mà danh mục chưa có, mã viết tắt KEY (ví dụ BQLKKT), "
                       "tên ở --name.")
    @click.option("--name", "new_name", default=None, help="Tên đầy đủ của sở, ngành mới (cùng --create).")
    @click.option("--drop", "drop_id", type=int, default=None, help="Bỏ dòng này (không lưu điểm của nó).")
    @click.option("--all", "show_all", is_flag=True, help="Cả các dòng đã xử lý.")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
    @click.pass_context
    def review(ctx: click.Context, period: str | None, confirm_id: int | None, unit: str | None,
               create_key: str | None, new_name: str | None, drop_id: int | None, show_all: bool,
               fmt: str) -> None:
        """Các tên đơn vị chưa nhận ra khi nhập kết quả chính thức; xác nhận một lần, chiso nhớ tên đó."""
        from chiso.official.importer import ReviewError

        if confirm_id is not None or drop_id is not None:
            if confirm_id is not None and drop_id is not None:
                raise click.UsageError("chỉ dùng một trong --confirm và --drop")
            if confirm_id is not None and not unit and not create_key:
                raise click.UsageError("--confirm cần --unit MÃ_ĐƠN_VỊ (hoặc tên đơn vị), hoặc --create KEY --name TÊN")
            if create_key and (unit or not new_name or confirm_id is None):
                raise click.UsageError("--create KEY dùng cùng --confirm SỐ và --name \"Tên đơn vị\", "
                                       "không cùng --unit")
            store = open_store(ctx)
            try:
                if confirm_id is not None:
                    if create_key:
                        assert new_name is not None
                        unit = api.create_department(store, create_key, new_name)
                        click.echo(f"Đã thêm đơn vị {unit} '{new_name}' vào danh mục (và departments.csv).")
                    assert unit is not None
                    done = api.confirm_official(store, confirm_id, unit)
                    click.echo(f"Đã xác nhận dòng {done['id']}: '{done['name']}' là {done['unit_name']} "
                               f"({done['code']}); kết quả kỳ {done['period']} đã lưu, tên này được ghi nhớ.")
                else:
                    assert drop_id is not None
                    api.drop_official(store, drop_id)
                    click.echo(f"Đã bỏ dòng {drop_id}.")
            except ReviewError as exc:
                raise click.UsageError(str(exc)) from None
            return
        store = open_store(ctx, read_only=True)
        items = api.official_review(store, period=period, status="all" if show_all else "open")
        if fmt == "json":
            click.echo(json.dumps(items, ensure_ascii=False, indent=1))
            return
        if not items and fmt == "table":
            click.echo("Không có tên nào cần xác nhận.")
            return
        status = {"open": "chờ xác nhận", "confirmed": "đã xác nhận", "dropped": "đã bỏ",
                  "superseded": "đã nhận ra ở lần nhập sau"}
        rows = [i | {"candidates_text": _candidates(i["candidates"]), "status": status.get(i["status"], i["status"])}
                for i in items]
        emit(rows, REVIEW_COLUMNS, fmt, None, title=f"Tên đơn vị cần xác nhận: {len(rows)}")
