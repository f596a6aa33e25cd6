"""``chiso backup | restore | audit | unload``: a thin layer over :mod:`chiso.api_admin`. Messages in Vietnamese;
every refusal is a :class:`click.ClickException` (exit status 1, no traceback)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from chiso import api_admin
from chiso.outputs import OutputError, check_output, csv_text, write_text

T = TypeVar("T")


def _workspace(ctx: click.Context) -> str | None:
    obj = ctx.find_root().obj or {}
    value = obj.get("workspace")
    return None if value is None else str(value)


@contextmanager
def _store(ctx: click.Context) -> Iterator[Any]:
    """The open store; a busy or damaged store is reported by the ``chiso`` group (chiso.failures)."""
    from chiso.cli import open_store

    try:
        store = open_store(ctx)
    except api_admin.BackupError as exc:  # the automatic backup before a migration
        raise click.ClickException(str(exc)) from None
    try:
        yield store
    finally:
        store.close()


def _no_postgres(ctx: click.Context, what: str, tool: str) -> None:
    """backup/restore copy the workspace's DuckDB file: a PostgreSQL database is backed up by its own tools."""
    if (ctx.find_root().obj or {}).get("database"):
        raise click.ClickException(
            f"chiso {what} làm việc với kho DuckDB; cơ sở dữ liệu PostgreSQL dùng công cụ của PostgreSQL "
            f"({tool}, xem docs/postgres.md)")


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except api_admin.BackupTargetError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    except (api_admin.BackupError, api_admin.UnloadError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None


def _size(n: int) -> str:
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}".replace(".", ",")
    return f"{n} byte"


@click.command()
@click.option("--out", type=click.Path(file_okay=False), default=None,
              help="Thư mục sao lưu mới (mặc định: <thư mục dữ liệu>/backups/<thời điểm>).")
@click.pass_context
def backup(ctx: click.Context, out: str | None) -> None:
    """Sao lưu toàn bộ thư mục dữ liệu: kho, cấu hình, mẫu văn bản, bộ quy tắc, kết quả đã công bố."""
    _no_postgres(ctx, "sao lưu", "pg_dump --format=custom")
    with _store(ctx) as store:
        info = _run(lambda: api_admin.backup(store, out))
    click.echo(f"Đã sao lưu {store.workspace} vào {info.path}: {len(info.manifest.files)} tệp, "
               f"{_size(info.manifest.total_size)} (lược đồ kho số {info.manifest.schema_version}).")


@click.command()
@click.argument("source", type=click.Path(file_okay=False))
@click.option("--check", is_flag=True, help="Chỉ kiểm tra bản sao lưu (mã băm từng tệp), không khôi phục.")
@click.pass_context
def restore(ctx: click.Context, source: str, check: bool) -> None:
    """Khôi phục thư mục dữ liệu từ một bản sao lưu (dữ liệu hiện có được sao lưu tự động trước)."""
    if check:
        manifest = _run(lambda: api_admin.verify_backup(source))
        click.echo(f"Bản sao lưu {source} nguyên vẹn: {len(manifest.files)} tệp, {_size(manifest.total_size)}, "
                   f"tạo lúc {manifest.created_at} bởi {manifest.user}@{manifest.host}, lược đồ kho số "
                   f"{manifest.schema_version}.")
        return
    _no_postgres(ctx, "khôi phục", "pg_restore")
    info = _run(lambda: api_admin.restore(source, _workspace(ctx)))
    if info.auto_backup:
        click.echo(f"Dữ liệu trước khi khôi phục đã được sao lưu vào {info.auto_backup}")
    click.echo(f"Đã khôi phục {info.workspace} từ {info.source} (sao lưu lúc {info.manifest.created_at}, "
               f"{len(info.manifest.files)} tệp).")


@click.command()
@click.argument("load_id", type=int)
@click.pass_context
def unload(ctx: click.Context, load_id: int) -> None:
    """Gỡ một lần nạp: trả mọi dòng về đúng như trước lần nạp đó (số lần nạp: xem chiso audit)."""
    with _store(ctx) as store:
        result = _run(lambda: api_admin.unload(store, load_id))
    click.echo(f"Đã gỡ lần nạp số {result.load_id} ({Path(result.file).name}, bảng {result.table}): xóa "
               f"{result.deleted} dòng lần nạp đã thêm, trả lại {result.restored} dòng như trước, bỏ "
               f"{result.history_removed} phiên bản cũ lần nạp đã đưa vào lịch sử.")


HEADERS = {"id": "Số", "recorded_at": "Thời điểm", "user": "Người dùng", "host": "Máy", "action": "Thao tác",
           "object": "Đối tượng", "summary": "Nội dung", "command": "Lệnh"}


def _since(text: str | None) -> date | None:
    from chiso.cli import parse_day

    return parse_day(text, "--since") if text else None


@click.command("audit")
@click.option("--since", default=None, help="Từ ngày (yyyy-mm-dd hoặc dd/mm/yyyy), kể cả ngày đó.")
@click.option("--action", "actions", multiple=True, type=click.Choice(list(api_admin.ACTIONS)),
              help="Chỉ loại thao tác này (lặp lại để chọn nhiều loại).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
@click.pass_context
def audit(ctx: click.Context, since: str | None, actions: tuple[str, ...], fmt: str, out: str | None) -> None:
    """Nhật ký thao tác: nạp, gỡ lần nạp, công bố, sao lưu, khôi phục, sửa cấu hình, mẫu văn bản, bộ quy tắc."""
    day = _since(since)
    with _store(ctx) as store:
        if out:
            try:
                check_output(Path(out), store.workspace)
            except OutputError as exc:
                raise click.BadParameter(str(exc), param_hint="--out") from None
        entries = _run(lambda: api_admin.audit(store, since=day, actions=actions))
    if fmt == "json":
        _emit(api_admin.entries_json(entries) + "\n", out)
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        keys = ["id", "recorded_at", "user", "host", "command", "action", "object", "summary", "details"]
        w.writerow(keys)
        for e in entries:
            row = {**e.as_dict(), "summary": api_admin.describe(e)}
            row["details"] = json.dumps(e.details, ensure_ascii=False, sort_keys=True)
            w.writerow([csv_text(row[k]) for k in keys])
        _emit(buf.getvalue(), out)
    else:
        _emit(_table(entries), out)


def _table(entries: list[api_admin.AuditEntry]) -> str:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Nhật ký thao tác ({len(entries)} mục, mới nhất trước)")
    for key in ("id", "recorded_at", "user", "host", "action", "object", "summary"):
        table.add_column(HEADERS[key], justify="right" if key == "id" else "left")
    for e in entries:  # Text cells: a value with [brackets] is never read as markup
        table.add_row(*(Text(v) for v in (str(e.id), f"{e.recorded_at:%d/%m/%Y %H:%M:%S}", e.user, e.host,
                                           e.action_label, e.object, api_admin.describe(e))))
    buf = io.StringIO()
    Console(file=buf, width=200, highlight=False, emoji=False).print(table)
    return buf.getvalue()


def _emit(text: str, out: str | None) -> None:
    """Standard output, or the --out file (written to a temporary file, renamed when complete)."""
    if out:
        write_text(Path(out), text)
    else:
        click.echo(text, nl=False)


COMMANDS = (backup, restore, audit, unload)


def register(group: click.Group) -> None:
    for command in COMMANDS:
        group.add_command(command)
