"""``chiso users …`` (accounts of the web service) and ``chiso serve`` (the web service itself)."""

from __future__ import annotations

import secrets
import sys
from typing import Any

import click

from chiso.accounts import ROLES, AccountError


def _store(ctx: click.Context) -> Any:
    from chiso.cli import open_store

    return open_store(ctx)


def _password(from_stdin: bool, prompt: str) -> str:
    """The first line of standard input (--password-stdin), else asked twice, hidden."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt="Nhập lại mật khẩu"))


@click.group()
def users() -> None:
    """Tài khoản đăng nhập trang web và API (vai trò admin, unit, viewer)."""


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(list(ROLES)), required=True,
              help="admin: toàn quyền; unit: đơn vị mình và cấp dưới; viewer: số liệu tổng hợp, không xem hồ sơ.")
@click.option("--unit", "unit_code", default=None, help="Mã đơn vị của tài khoản vai trò unit.")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu từ đầu vào chuẩn (dòng đầu tiên).")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, unit_code: str | None, password_stdin: bool) -> None:
    """Thêm tài khoản. Ví dụ: echo 'mật-khẩu-dài' | chiso users add stp --role unit --unit 14.STP --password-stdin"""
    from chiso import accounts

    password = _password(password_stdin, "Mật khẩu")
    store = _store(ctx)
    with store:
        try:
            accounts.add_user(store, name, role, password, unit_code=unit_code)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
    scope = f", đơn vị {unit_code}" if unit_code else ""
    click.echo(f"Đã thêm tài khoản {name} (vai trò {role}{scope}).")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """Danh sách tài khoản."""
    from chiso import accounts

    store = _store(ctx)
    with store:
        rows = accounts.list_users(store)
    if not rows:
        click.echo("Chưa có tài khoản nào (thêm bằng chiso users add).")
    for u in rows:
        click.echo(f"{u.name}\t{u.role}\t{u.unit_code or ''}\t{'đã khóa' if u.disabled else 'hoạt động'}")


@users.command("disable")
@click.argument("name")
@click.pass_context
def users_disable(ctx: click.Context, name: str) -> None:
    """Khóa tài khoản (phiên đăng nhập và mã truy cập API của nó hết hiệu lực ngay)."""
    from chiso import accounts

    store = _store(ctx)
    with store:
        try:
            accounts.disable_user(store, name)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Đã khóa tài khoản {name}.")


@users.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Đọc mật khẩu mới từ đầu vào chuẩn (dòng đầu tiên).")
@click.pass_context
def users_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Đặt mật khẩu mới cho tài khoản."""
    from chiso import accounts

    password = _password(password_stdin, "Mật khẩu mới")
    store = _store(ctx)
    with store:
        try:
            accounts.set_password(store, name, password)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Đã đổi mật khẩu tài khoản {name}.")


@users.command("token")
@click.argument("name")
@click.pass_context
def users_token(ctx: click.Context, name: str) -> None:
    """Cấp mã truy cập API (in một lần; dùng trong tiêu đề Authorization: Bearer MÃ)."""
    from chiso import accounts

    store = _store(ctx)
    with store:
        try:
            token = accounts.issue_token(store, name)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(token)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Địa chỉ lắng nghe.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="Cổng.")
@click.option("--as-of", "as_of", default=None,
              help="Cố định thời điểm tính (trình diễn, kiểm thử); mặc định: bây giờ.")
@click.option("--https", is_flag=True, help="Máy chủ đứng sau HTTPS: cookie phiên chỉ gửi qua HTTPS.")
@click.option("--alerts", is_flag=True,
              help="Gửi cảnh báo hạn giải quyết mỗi ngày làm việc vào giờ [alerts] hour (xem chiso alerts).")
@click.option("--demo-admin", is_flag=True,
              help="Khi chưa có tài khoản admin: tạo tài khoản admin với mật khẩu ngẫu nhiên và in ra (make serve).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, as_of: str | None, https: bool, alerts: bool,
          demo_admin: bool) -> None:
    """Chạy trang web và API của chiso. Ví dụ: chiso serve --port 8000"""
    import uvicorn

    from chiso.lazy import load_all

    load_all()  # the modules the command line loads lazily, now, before the server's threads start
    from chiso import accounts
    from chiso.cli import parse_moment, require_workspace
    from chiso.store.db import workspace_path
    from chiso.web.app import WebSettings, create_app
    from chiso.web.lock import remove_lock, write_lock

    obj = ctx.find_root().obj or {}
    require_workspace(ctx)
    if demo_admin:
        store = _store(ctx)
        with store:
            if accounts.get_user(store, "admin") is None:
                password = secrets.token_urlsafe(12)
                accounts.add_user(store, "admin", "admin", password)
                click.echo(f"Đã tạo tài khoản quản trị: tên admin, mật khẩu {password} (chỉ in lần này).")
            else:
                click.echo("Tài khoản admin đã có (quên mật khẩu: chiso users password admin).")
    settings = WebSettings(workspace=workspace_path(obj.get("workspace")), database=obj.get("database"),
                           as_of=parse_moment(as_of) if as_of else None, https=https, alerts=alerts)
    app = create_app(settings)
    assert settings.workspace is not None
    embedded = not settings.database
    if embedded:
        write_lock(settings.workspace, host, port)
    click.echo(f"chiso đang chạy tại http://{host}:{port}/ (Ctrl+C để dừng).")
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, timeout_keep_alive=30)
    finally:
        if embedded:
            remove_lock(settings.workspace)


def register(main: click.Group) -> None:
    main.add_command(users)
    main.add_command(serve)
