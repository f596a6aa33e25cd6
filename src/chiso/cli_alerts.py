"""``chiso alerts``: a thin layer over :mod:`chiso.alerts` (docs/alerts.md). Messages in Vietnamese; any failed
delivery ends the command with status 1 after every other delivery was made."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from chiso.config import load_config
from chiso.lazy import lazy_module

if TYPE_CHECKING:
    from chiso import alerts as core
else:  # e-mail and HTTP modules: run when the command runs, not by every command's start (chiso.lazy)
    core = lazy_module("chiso.alerts")


def _print_plan(plan: core.Plan, config_has: dict[str, bool], webhook: str | None) -> None:
    for unit in plan.units:
        click.echo(f"== {core.one_line(unit.code, 80)} {core.one_line(unit.name)}: {len(unit.overdue)} quá hạn, "
                   f"{len(unit.due_soon)} sắp đến hạn")
        if unit.recipients:
            source = "của đơn vị" if unit.recipients_from == "own" else "mặc định (văn phòng tỉnh)"
            click.echo(f"Gửi thư tới ({source}): {', '.join(unit.recipients)}")
        else:
            click.echo("Không có người nhận thư (thêm vào [alerts.recipients] hoặc default)")
        click.echo(f"Tiêu đề: {core.subject(plan, unit)}")
        click.echo(core.body(plan, unit))
    if webhook:
        click.echo(f"Webhook {webhook.split('#', 1)[0]}: {len(plan.units)} đơn vị")
    if not config_has["smtp"] and not config_has["webhook"]:
        click.echo("Chưa cấu hình kênh gửi ([alerts.smtp], [alerts.webhook]): chỉ xem trước được.")


@click.command("alerts")
@click.option("--as-of", "as_of", default=None, help="Thời điểm xét (mặc định: bây giờ). Chỉ ngày = cuối ngày.")
@click.option("--days", type=click.IntRange(0, 60), default=None,
              help="Số ngày làm việc nhìn trước cho hồ sơ sắp đến hạn (mặc định [alerts] days, 2).")
@click.option("--unit", default=None, help="Chỉ đơn vị này (gồm cả đơn vị cấp dưới).")
@click.option("--dry-run", is_flag=True, help="Chỉ in kế hoạch gửi (người nhận, nội dung), không gửi.")
@click.option("--force", is_flag=True, help="Gửi lại cả những cảnh báo đã gửi trong ngày.")
@click.pass_context
def alerts(ctx: click.Context, as_of: str | None, days: int | None, unit: str | None, dry_run: bool,
           force: bool) -> None:
    """Cảnh báo hồ sơ quá hạn và sắp đến hạn cho từng đơn vị, qua thư điện tử và/hoặc webhook."""
    from chiso.cli import open_store, parse_moment

    moment = parse_moment(as_of)
    store = open_store(ctx)
    try:
        config = load_config(store.workspace)
        try:
            plan = core.build_plan(store, moment, days=days, unit=unit, config=config)
        except core.AlertError as exc:
            raise click.BadParameter(str(exc), param_hint="--unit") from None
        settings = config.alerts
        until = f", đến hết ngày {plan.limit_day:%d/%m/%Y}" if plan.limit_day else ""
        click.echo(f"Cảnh báo lúc {plan.as_of:%H:%M %d/%m/%Y} (sắp đến hạn trong {plan.days} ngày làm việc{until}): "
                   f"{len([u for u in plan.units if not u.empty])} đơn vị có hồ sơ cần chú ý, "
                   f"{sum(len(u.overdue) for u in plan.units)} hồ sơ quá hạn, "
                   f"{sum(len(u.due_soon) for u in plan.units)} hồ sơ sắp đến hạn.")
        if plan.unknown_codes:
            click.echo("Cảnh báo: [alerts.recipients] có mã không thuộc danh mục đơn vị: "
                       + ", ".join(core.one_line(c, 80) for c in plan.unknown_codes), err=True)
        if dry_run:
            webhook = core.webhook_label(settings.webhook.url) if settings.webhook else None
            _print_plan(plan, {"smtp": settings.smtp is not None, "webhook": settings.webhook is not None}, webhook)
            return
        try:
            report = core.send(store, plan, config, force=force)
        except core.AlertError as exc:
            raise click.ClickException(str(exc)) from None
    finally:
        store.close()
    nobody = [u for u in plan.units if not u.recipients and (settings.send_empty or not u.empty)]
    if settings.smtp is not None and nobody:
        click.echo("Không có người nhận thư: " + ", ".join(core.one_line(u.code, 80) for u in nobody)
                   + " (thêm vào [alerts.recipients] hoặc default)", err=True)
    mails = [d for d in report.sent if d.channel == "email"]
    hooks = [d for d in report.sent if d.channel == "webhook"]
    skipped = [d for d in report.deliveries if d.status == "already_sent"]
    click.echo(f"Đã gửi {len(mails)} thư" + (f", webhook {len(hooks[0].units)} đơn vị" if hooks else "") + ".")
    if skipped:
        click.echo(f"Bỏ qua {len(skipped)} lần gửi đã làm trong ngày {plan.day:%d/%m/%Y} (dùng --force để gửi lại).")
    if report.failures:
        lines = [f"- {'thư tới ' + d.recipient if d.channel == 'email' else 'webhook ' + d.recipient.split('#')[0]}"
                 f" ({', '.join(d.units) if len(d.units) <= 5 else str(len(d.units)) + ' đơn vị'}): {d.error}"
                 for d in report.failures]
        raise click.ClickException(f"{len(report.failures)} lần gửi không thành công (các lần khác đã gửi):\n"
                                   + "\n".join(lines))
