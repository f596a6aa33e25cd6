"""``chiso dossier show ID`` and ``chiso dossier history ID``: one dossier (hồ sơ) as stored, and its versions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from chiso import api
from chiso.tabular import Col, emit


def register(main: click.Group) -> None:
    from chiso.cli import open_store, parse_moment

    @main.group()
    def dossier() -> None:
        """Một hồ sơ: mọi trường, hạn, tình trạng, quá trình và các phiên bản đã nạp."""

    @dossier.command("show")
    @click.argument("dossier_id")
    @click.option("--as-of", "as_of", default=None, help="Thời điểm xét tình trạng (mặc định: bây giờ).")
    @click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
    @click.pass_context
    def dossier_show(ctx: click.Context, dossier_id: str, as_of: str | None, fmt: str, out: str | None) -> None:
        """Mọi trường của một hồ sơ, hạn giải quyết và tình trạng, quá trình tính bằng ngày làm việc,
        các phiên bản.

        \b
        Ví dụ: chiso dossier show 000.00.14.H53-250901-0001 --as-of 2025-09-30"""
        from chiso.cli import _check_out, _emit

        _check_out(ctx, out)
        store = open_store(ctx, read_only=True)
        try:
            data = api.dossier(store, dossier_id, as_of=parse_moment(as_of))
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="DOSSIER_ID") from None
        if fmt == "json":
            _emit(json.dumps(data, ensure_ascii=False, indent=1, default=str) + "\n", out)
            return
        _emit(_show_text(data), out)

    @dossier.command("history")
    @click.argument("dossier_id")
    @click.option("--format", "fmt", type=click.Choice(["table", "csv", "json", "xlsx"]), default="table",
                  show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
    @click.pass_context
    def dossier_history(ctx: click.Context, dossier_id: str, fmt: str, out: str | None) -> None:
        """Các phiên bản của một hồ sơ: lần nạp nào đưa vào, lúc nào, ai nạp, trường nào đã đổi.

        \b
        Ví dụ: chiso dossier history 000.00.14.H53-250901-0001 --format xlsx --out lich-su.xlsx"""
        from chiso.cli import _check_out

        _check_out(ctx, out)
        store = open_store(ctx, read_only=True)
        try:
            versions = api.dossier_versions(store, dossier_id)
        except KeyError as exc:
            raise click.BadParameter(str(exc.args[0]), param_hint="DOSSIER_ID") from None
        if fmt == "json":
            from chiso.cli import _emit

            _emit(json.dumps(versions, ensure_ascii=False, indent=1, default=str) + "\n", out)
            return
        rows: list[dict[str, Any]] = []
        for n, v in enumerate(versions, start=1):
            changes = "; ".join(f"{c['label']}: {_shown(c['before'])} → {_shown(c['after'])}" for c in v["changes"])
            rows.append({"version": n, "load_id": v["load_id"], "loaded_at": v["loaded_at"], "file": v["file"],
                         "user": v["user"], "current": "hiện hành" if v["current"] else "",
                         "updated_at": v["fields"].get("updated_at"),
                         "changes": changes or ("(bản đầu tiên)" if n == 1 else "(không đổi trường nào)")})
        cols = [Col("version", "Phiên bản", "int"), Col("load_id", "Lần nạp", "int"),
                Col("loaded_at", "Nạp lúc"), Col("file", "Tệp"), Col("user", "Người nạp"),
                Col("current", "Hiện hành"), Col("updated_at", "Cập nhật lúc (nguồn)"),
                Col("changes", "Thay đổi so với phiên bản trước")]
        emit(rows, cols, fmt, Path(out) if out else None, title=f"Các phiên bản của hồ sơ {dossier_id}",
             sheet="Phiên bản")


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(trống)"
    if isinstance(value, bool):
        return "có" if value else "không"
    return str(value)


def _vn_time(text: str | None) -> str:
    """'2025-09-08 09:00:00' -> '09:00 08/09/2025' (as the letters write a moment)."""
    if not text:
        return ""
    from datetime import datetime

    return datetime.fromisoformat(text).strftime("%H:%M %d/%m/%Y")


def _show_text(d: dict[str, Any]) -> str:
    lines = [f"Hồ sơ {d['dossier_id']} — {d['unit_name'] or d['unit_code']}",
             f"Tình trạng lúc {_vn_time(d['as_of'])}: {d['status']}",
             f"Hạn giải quyết: {_vn_time(d['due_at']) or '(không tính được)'} ({d['due_source_label']})"]
    if d.get("why_late"):
        lines.append(f"Vì sao quá hạn: {d['why_late']}")
    lines.append("")
    lines.append("Các trường:")
    width = max(len(f["label"]) for f in d["labelled"])
    for f in d["labelled"]:
        lines.append(f"  {f['label'].ljust(width)}  {f['value']}")
    lines.append("")
    lines.append("Quá trình:")
    for e in d["timeline"]:
        extra = f" — {e['working_time']}" if e["working_time"] else ""
        lines.append(f"  {_vn_time(e['at'])}  {e['event']}{extra}")
    lines.append("")
    n = len(d["versions"])
    lines.append(f"Phiên bản: {n} (xem chiso dossier history {d['dossier_id']})")
    for i, v in enumerate(d["versions"], start=1):
        mark = " (hiện hành)" if v["current"] else ""
        lines.append(f"  {i}. lần nạp {v['load_id']} lúc {_vn_time(v['loaded_at'])}, tệp {v['file']}{mark}")
    return "\n".join(lines) + "\n"
