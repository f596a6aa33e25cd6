"""``chiso report …``: the official documents (công văn, báo cáo, phụ lục, biểu mẫu)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import click

from chiso.cli_params import PERIOD as PERIOD_TYPE
from chiso.config import ConfigError


def _ctx_store(ctx: click.Context) -> Any:
    from chiso.cli import open_store

    return open_store(ctx)


def _letter_date(text: str | None) -> date:
    from chiso.cli import parse_day
    from chiso.clock import now_local

    return parse_day(text, "--date") if text else now_local().date()


def _run(action: Callable[[], Any]) -> Any:
    from chiso.outputs import OutputError, PartialOutput
    from chiso.reports.templating import TemplateError
    from chiso.rules.model import RuleSetError
    from chiso.scoring.period import PeriodError

    try:
        return action()
    except OutputError as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None  # wrong use: status 2, as for --out elsewhere
    except KeyError as exc:  # an unknown unit: str() of a KeyError quotes its message
        raise click.ClickException(str(exc.args[0]) if exc.args else str(exc)) from None
    except (TemplateError, ConfigError, PeriodError, RuleSetError, PartialOutput) as exc:
        raise click.ClickException(str(exc)) from None
    except (ValueError, RuntimeError) as exc:
        if type(exc).__module__.startswith("chiso.") or type(exc) in (ValueError, RuntimeError):
            raise click.ClickException(str(exc)) from None
        raise


def _print_written(written: Any) -> None:
    for path in written.files:
        click.echo(str(path))
    if written.pdf_skipped:
        click.echo(f"Lưu ý: {written.pdf_skipped}", err=True)
    for note in written.notes:
        click.echo(note, err=True)


PERIOD = click.option("--period", type=PERIOD_TYPE, required=True,
                      help="Kỳ báo cáo: tháng 2025-09 hoặc 09/2025 (quý 2025-Q3 hoặc quý III/2025 cho báo cáo quý).")
OUT = click.option("--out", required=True, type=click.Path(file_okay=False), help="Thư mục ghi văn bản.")
AS_OF = click.option("--as-of", "as_of", default=None,
                     help="Thời điểm lấy số liệu (mặc định: bây giờ; kỳ đã qua tính đến hết kỳ).")
DATE = click.option("--date", "letter_date", default=None, help="Ngày ban hành văn bản (mặc định: hôm nay).")
RULES = click.option("--rules", "rules_name", default=None, help="Bộ quy tắc (mặc định: theo ngày hiệu lực).")
NO_PDF = click.option("--no-pdf", is_flag=True, help="Không xuất bản PDF (kể cả khi có LibreOffice).")
NATIONAL_RANK = click.option("--national-rank", default=None, help="Thứ hạng toàn quốc theo Cổng DVCQG, ví dụ 15/34.")


def MONTH_OPTIONS(command: Callable[..., Any]) -> Callable[..., Any]:  # noqa: N802 (used as a decorator)
    """--period, --out, --as-of, --date, --rules: the options of every monthly document command."""
    for option in (RULES, DATE, AS_OF, OUT, PERIOD):
        command = option(command)
    return command


@click.group("report")
def report() -> None:
    """Văn bản chính thức: công văn tháng, công văn đơn vị, báo cáo một cửa quý, biểu mẫu CCHC."""


@report.command("monthly")
@MONTH_OPTIONS
@NATIONAL_RANK
@click.option("--issuer", default=None,
              help="Công văn của UBND một huyện (trước 01/7/2025): mã hoặc tên huyện, thị xã, thành phố thuộc tỉnh; "
                   "gửi các phòng, ban và UBND các xã, thị trấn, xếp hạng trong các huyện của tỉnh.")
@NO_PDF
@click.pass_context
def monthly(ctx: click.Context, period: str, out: str, as_of: str | None, letter_date: str | None,
            rules_name: str | None, national_rank: str | None, issuer: str | None, no_pdf: bool) -> None:
    """Công văn công khai kết quả Bộ chỉ số tháng (.docx, .pdf) và phụ lục (.xlsx); với --issuer, công văn của
    UBND huyện (trước 01/7/2025) kèm phụ lục xếp hạng các xã, thị trấn."""
    from chiso.cli import parse_moment
    from chiso.reports.documents import write_monthly

    store = _ctx_store(ctx)
    if issuer is not None:
        _monthly_district(ctx, store, issuer, period, out, as_of, letter_date, rules_name, national_rank, no_pdf)
        return
    written = _run(lambda: write_monthly(store, period, Path(out), as_of=parse_moment(as_of),
                                         letter_date=_letter_date(letter_date), national_rank=national_rank,
                                         rules=rules_name, want_pdf=not no_pdf))
    _print_written(written)


def _monthly_district(ctx: click.Context, store: Any, issuer: str, period: str, out: str, as_of: str | None,
                      letter_date: str | None, rules_name: str | None, national_rank: str | None,
                      no_pdf: bool) -> None:
    """``report monthly --issuer``: the district's letter; a wrong issuer or period is wrong use (status 2)."""
    from chiso.cli import parse_moment, resolve_unit
    from chiso.reports.district import DistrictLetterError, check_issuer
    from chiso.reports.documents import write_district
    from chiso.scoring.period import PeriodError, parse_period

    if national_rank:
        raise click.UsageError("--national-rank là thứ hạng của tỉnh: không dùng cùng --issuer")
    code = resolve_unit(store, issuer, "--issuer")
    try:
        check_issuer(store, code, parse_period(period))
    except PeriodError as exc:
        raise click.BadParameter(str(exc), param_hint="--period") from None
    except DistrictLetterError as exc:
        hint = "--period" if "01/7/2025" in str(exc) and "không còn cấp huyện" in str(exc) else "--issuer"
        raise click.BadParameter(str(exc), param_hint=hint) from None
    written = _run(lambda: write_district(store, code, period, Path(out), as_of=parse_moment(as_of),
                                          letter_date=_letter_date(letter_date), rules=rules_name,
                                          want_pdf=not no_pdf))
    _print_written(written)


@report.command("unit")
@click.argument("unit_arg", required=False, metavar="[MÃ-ĐƠN-VỊ]")
@click.option("--unit", "unit_opt", default=None, help="Mã hoặc tên đơn vị (như --unit ở các lệnh khác).")
@MONTH_OPTIONS
@NO_PDF
@click.pass_context
def unit(ctx: click.Context, unit_arg: str | None, unit_opt: str | None, period: str, out: str, as_of: str | None,
         letter_date: str | None, rules_name: str | None, no_pdf: bool) -> None:
    """Công văn chi tiết của một đơn vị (mọi chỉ số thành phần, hồ sơ quá hạn, xếp hạng đơn vị trực thuộc).
    Đơn vị: --unit (cách viết cũ, mã ngay sau lệnh, vẫn dùng được)."""
    from chiso.cli import parse_moment, resolve_unit
    from chiso.reports.documents import write_unit

    if unit_arg and unit_opt and unit_arg != unit_opt:
        raise click.UsageError("hai đơn vị khác nhau: chỉ dùng --unit")
    if not (unit_arg or unit_opt):
        raise click.MissingParameter(ctx=ctx, param=next(p for p in ctx.command.params if p.name == "unit_opt"))
    store = _ctx_store(ctx)
    unit = resolve_unit(store, unit_opt or unit_arg or "")
    written = _run(lambda: write_unit(store, unit, period, Path(out), as_of=parse_moment(as_of),
                                      letter_date=_letter_date(letter_date), rules=rules_name,
                                      want_pdf=not no_pdf))
    _print_written(written)


@report.command("all")
@MONTH_OPTIONS
@NATIONAL_RANK
@click.option("--units", "units_text", default="all", show_default=True,
              help="Công văn đơn vị cho: all (các sở, ngành và các huyện/xã của công văn), none, "
                   "hoặc danh sách mã đơn vị cách nhau bởi dấu phẩy.")
@click.option("--unit-pdf", is_flag=True, help="Xuất cả bản PDF của các công văn đơn vị (chậm hơn).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Số tiến trình viết công văn đơn vị (mặc định: số lõi CPU).")
@NO_PDF
@click.pass_context
def all_documents(ctx: click.Context, period: str, out: str, as_of: str | None, letter_date: str | None,
                  rules_name: str | None, national_rank: str | None, units_text: str, unit_pdf: bool,
                  workers: int | None, no_pdf: bool) -> None:
    """Mọi văn bản của tháng từ một lần tính: công văn công khai, phụ lục, biểu đồ, công văn từng đơn vị
    (thư mục don-vi/) và, khi tháng kết thúc quý, báo cáo một cửa và biểu mẫu CCHC của quý."""
    from chiso.cli import parse_moment, progress_bar, resolve_unit
    from chiso.reports.documents import write_all

    units: str | list[str] = units_text.strip()
    store = _ctx_store(ctx)
    if units not in {"all", "none"}:
        units = [resolve_unit(store, c.strip(), "--units") for c in str(units).split(",") if c.strip()]
    with progress_bar("đơn vị") as (_, progress):
        written = _run(lambda: write_all(store, period, Path(out), as_of=parse_moment(as_of),
                                         letter_date=_letter_date(letter_date), national_rank=national_rank,
                                         rules=rules_name, want_pdf=not no_pdf, units=units, unit_pdf=unit_pdf,
                                         workers=workers, progress=progress))
    unit_dir = Path(out) / "don-vi"
    for path in written.files:  # the unit letters are summed up in one line, not listed
        if path.parent != unit_dir:
            click.echo(str(path))
    if written.pdf_skipped:
        click.echo(f"Lưu ý: {written.pdf_skipped}", err=True)
    for note in written.notes:
        click.echo(note, err=True)
    if written.unit_letters:
        kinds = sorted({p.suffix for p in written.files if p.parent == unit_dir})
        click.echo(f"{unit_dir}/: {written.unit_letters} công văn đơn vị ({', '.join(kinds)})")
    if written.missing_inputs:
        click.echo(f"Lưu ý: {written.missing_inputs} chỉ tiêu biểu mẫu CCHC chưa nhập số liệu (xem chiso report "
                   "cchc --inputs).", err=True)


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
              help="Tệp Excel số liệu và nội dung do cán bộ nhập (theo mẫu nhập liệu); được lưu cùng kỳ báo cáo.")
@click.option("--empty-inputs", is_flag=True,
              help="Chỉ ghi mẫu nhập liệu trống (mỗi biểu mẫu một trang) để cán bộ điền, không lập báo cáo.")
@DATE
@NO_PDF
@click.pass_context
def cchc(ctx: click.Context, period: str, out: str, inputs_file: str | None, empty_inputs: bool,
         letter_date: str | None, no_pdf: bool) -> None:
    """Báo cáo cải cách hành chính quý: Biểu mẫu 1-7 (.xlsx), báo cáo mục I-V (.docx, .pdf) và mẫu nhập liệu
    cho các chỉ tiêu, nội dung cần nhập tay."""
    from chiso.reports.documents import write_cchc

    if empty_inputs and inputs_file:
        raise click.UsageError("--empty-inputs ghi mẫu trống: không dùng cùng --inputs")
    store = _ctx_store(ctx)
    written = _run(lambda: write_cchc(store, period, Path(out),
                                      inputs_file=Path(inputs_file) if inputs_file else None,
                                      letter_date=_letter_date(letter_date), want_pdf=not no_pdf,
                                      empty_inputs=empty_inputs))
    _print_written(written)
    if written.missing_items:
        by_where: dict[str, list[str]] = {}
        for item in written.missing_items:
            where, _, code = item.rpartition(" ")
            by_where.setdefault(where, []).append(code)
        listed = "; ".join(f"{where}: {', '.join(codes)}" for where, codes in by_where.items())
        click.echo(f"Lưu ý: còn thiếu {written.missing_inputs} chỉ tiêu chưa nhập số liệu và "
                   f"{len(written.missing_items) - written.missing_inputs} mục nội dung chưa soạn ({listed}). "
                   f"Danh sách ở trang \"Chưa có số liệu\" của {written.files[0].name}; điền vào "
                   f"{written.files[1].name} rồi chạy lại với --inputs.", err=True)


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
