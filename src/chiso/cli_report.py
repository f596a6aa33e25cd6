"""``chiso report …``: the official documents (công văn, báo cáo, phụ lục, biểu mẫu)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from chiso.config import ConfigError


def _ctx_store(ctx: click.Context) -> Any:
    from chiso.store.db import Store

    return Store.open(ctx.obj["workspace"])


def _letter_date(text: str | None) -> date:
    from chiso.cli import now_local

    if not text:
        return now_local().date()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            pass
    raise click.BadParameter(f"'{text}' không phải ngày (dùng yyyy-mm-dd hoặc dd/mm/yyyy)", param_hint="--date")


def _run(action: Callable[[], Any]) -> Any:
    from chiso.reports.templating import TemplateError
    from chiso.rules.model import RuleSetError
    from chiso.scoring.period import PeriodError

    try:
        return action()
    except (TemplateError, ConfigError, PeriodError, RuleSetError, ValueError, KeyError, RuntimeError, OSError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None


def _print_written(written: Any) -> None:
    for path in written.files:
        click.echo(str(path))
    if written.pdf_skipped:
        click.echo(f"Lưu ý: {written.pdf_skipped}", err=True)


PERIOD = click.option("--period", required=True, help="Kỳ báo cáo: tháng 2025-09 (quý 2025-Q3 cho báo cáo quý).")
OUT = click.option("--out", required=True, type=click.Path(file_okay=False), help="Thư mục ghi văn bản.")
AS_OF = click.option("--as-of", "as_of", default=None,
                     help="Thời điểm lấy số liệu (mặc định: bây giờ; kỳ đã qua tính đến hết kỳ).")
DATE = click.option("--date", "letter_date", default=None, help="Ngày ban hành văn bản (mặc định: hôm nay).")
RULES = click.option("--rules", "rules_name", default=None, help="Bộ quy tắc (mặc định: theo ngày hiệu lực).")
NO_PDF = click.option("--no-pdf", is_flag=True, help="Không xuất bản PDF (kể cả khi có LibreOffice).")


@click.group("report")
def report() -> None:
    """Văn bản chính thức: công văn tháng, công văn đơn vị, báo cáo một cửa quý, biểu mẫu CCHC."""


@report.command("monthly")
@PERIOD
@OUT
@AS_OF
@DATE
@RULES
@click.option("--national-rank", default=None, help="Thứ hạng toàn quốc theo Cổng DVCQG, ví dụ 15/34.")
@NO_PDF
@click.pass_context
def monthly(ctx: click.Context, period: str, out: str, as_of: str | None, letter_date: str | None,
            rules_name: str | None, national_rank: str | None, no_pdf: bool) -> None:
    """Công văn công khai kết quả Bộ chỉ số tháng (.docx, .pdf) và phụ lục (.xlsx)."""
    from chiso.cli import parse_moment
    from chiso.reports.documents import write_monthly

    store = _ctx_store(ctx)
    written = _run(lambda: write_monthly(store, period, Path(out), as_of=parse_moment(as_of),
                                         letter_date=_letter_date(letter_date), national_rank=national_rank,
                                         rules=rules_name, want_pdf=not no_pdf))
    _print_written(written)


@report.command("unit")
@click.argument("unit")
@PERIOD
@OUT
@AS_OF
@DATE
@RULES
@NO_PDF
@click.pass_context
def unit(ctx: click.Context, unit: str, period: str, out: str, as_of: str | None, letter_date: str | None,
         rules_name: str | None, no_pdf: bool) -> None:
    """Công văn chi tiết của một đơn vị (mọi chỉ số thành phần, hồ sơ quá hạn, xếp hạng đơn vị trực thuộc)."""
    from chiso.cli import parse_moment
    from chiso.reports.documents import write_unit

    store = _ctx_store(ctx)
    written = _run(lambda: write_unit(store, unit, period, Path(out), as_of=parse_moment(as_of),
                                      letter_date=_letter_date(letter_date), rules=rules_name,
                                      want_pdf=not no_pdf))
    _print_written(written)


@report.command("quarterly-onestop")
@PERIOD
@OUT
@DATE
@NO_PDF
@click.pass_context
def quarterly_onestop(ctx: click.Context, period: str, out: str, letter_date: str | None, no_pdf: bool) -> None:
    """Báo cáo quý đánh giá việc giải quyết TTHC theo cơ chế một cửa, một cửa liên thông (.docx, .xlsx)."""
    from chiso.reports.documents import write_quarterly_onestop

    store = _ctx_store(ctx)
    written = _run(lambda: write_quarterly_onestop(store, period, Path(out), letter_date=_letter_date(letter_date),
                                                   want_pdf=not no_pdf))
    _print_written(written)


@report.command("cchc")
@PERIOD
@OUT
@click.option("--inputs", "inputs_file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Tệp Excel số liệu do cán bộ nhập (theo mẫu nhập liệu); được lưu cùng kỳ báo cáo.")
@click.pass_context
def cchc(ctx: click.Context, period: str, out: str, inputs_file: str | None) -> None:
    """Biểu mẫu 3 và 7 báo cáo cải cách hành chính (.xlsx) và mẫu nhập liệu cho các chỉ tiêu cần nhập tay."""
    from chiso import api
    from chiso.reports import cchc as forms
    from chiso.reports.numbers import NumberFormat
    from chiso.scoring.period import parse_period

    store = _ctx_store(ctx)

    def action() -> list[Path]:
        label = parse_period(period).label
        target = Path(out)
        target.mkdir(parents=True, exist_ok=True)
        if inputs_file:
            forms.save_inputs(store, label, forms.read_inputs(Path(inputs_file)))
        report = forms.make_report(store, label, target / f"bieu-mau-cchc-{label}.xlsx")
        nf = NumberFormat.from_config(api.prepare(store).report)
        template = forms.write_input_template(target / f"nhap-lieu-cchc-{label}.xlsx", label,
                                              values=forms.stored_inputs(store, label), number_format=nf)
        if report.missing:
            click.echo(f"Lưu ý: {len(report.missing)} chỉ tiêu chưa nhập số liệu (điền vào {template.name} rồi chạy "
                       "lại với --inputs).", err=True)
        return [report.path, template]

    for path in _run(action):
        click.echo(str(path))


@report.command("templates")
@click.option("--overwrite", is_flag=True, help="Ghi đè các bản mẫu đã có trong thư mục dữ liệu.")
@click.pass_context
def templates(ctx: click.Context, overwrite: bool) -> None:
    """Sao chép các mẫu văn bản vào thư mục dữ liệu (templates/) để Văn phòng chỉnh sửa."""
    from chiso.reports.documents import copy_templates

    store = _ctx_store(ctx)
    copied = copy_templates(store, overwrite=overwrite)
    for path in copied:
        click.echo(str(path))
    if not copied:
        click.echo("Các mẫu đã có trong thư mục dữ liệu (dùng --overwrite để ghi đè).", err=True)
