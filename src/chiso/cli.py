"""The ``chiso`` command: a thin layer over :mod:`chiso.api`. Messages for users are in Vietnamese."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from chiso import __version__, api
from chiso.config import ConfigError, read_mapping_file
from chiso.failures import EXIT_SOFTWARE, debugging, describe
from chiso.load.contract import TABLES
from chiso.load.loader import LoadError, LoadReport
from chiso.outputs import (
    OutputError,
    atomic_file,
    check_output,
    csv_text,
    csv_text_sql,
    staged_dir,
    write_text,
)
from chiso.status.timeliness import CLASS_LABELS, CLASSES
from chiso.store.db import Store, workspace_path
from chiso.units.catalog import UnitCatalogError

err = Console(stderr=True, soft_wrap=True)
LEVEL_LABELS = {"province": "Tỉnh", "department": "Sở, ngành", "district": "Huyện", "commune": "Xã, phường"}


def now_local() -> datetime:
    """Now in Asia/Ho_Chi_Minh (UTC+7, no daylight saving), as a naive local timestamp."""
    return (datetime.now(UTC) + timedelta(hours=7)).replace(tzinfo=None, microsecond=0)


def parse_moment(text: str | None) -> datetime:
    """--as-of: a date means the end of that day; also dd/mm/yyyy [HH:MM]."""
    if not text:
        return now_local()
    text = text.strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M",
                "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).replace(hour=23, minute=59, second=59)
        except ValueError:
            pass
    raise click.BadParameter(f"'{text}' không phải thời điểm (dùng yyyy-mm-dd [HH:MM] hoặc dd/mm/yyyy [HH:MM])")


def parse_day(text: str, option: str) -> date:
    """A day typed as yyyy-mm-dd or dd/mm/yyyy (--date, --since)."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            pass
    raise click.BadParameter(f"'{text}' không phải ngày (dùng yyyy-mm-dd hoặc dd/mm/yyyy)", param_hint=option)


def open_store(ctx: click.Context) -> Store:
    """The store the global options name: ``--database URL`` (PostgreSQL), else the workspace's DuckDB file."""
    obj = ctx.find_root().obj or {}
    return Store.open(obj.get("workspace"), database=obj.get("database"))


def check_unit(store: Store, unit: str | None) -> None:
    """--unit must name a unit of the catalogue (an unknown code would silently print nothing)."""
    if unit and store.con.execute("SELECT 1 FROM units WHERE code = ?", [unit]).fetchone() is None:
        raise click.BadParameter(f"không có đơn vị '{unit}' trong danh mục (xem chiso units list)",
                                 param_hint="--unit")


class CommandFailure(click.ClickException):
    """A failure reported to the user in Vietnamese ("Lỗi: …") with its own exit status."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        vars(self)["exit_code"] = exit_code  # click declares exit_code as a class constant

    def show(self, file: Any = None) -> None:
        click.echo(f"Lỗi: {self.format_message()}", err=True)


class ChisoGroup(click.Group):
    """The ``chiso`` group: whatever a command raises ends as a Vietnamese message and an exit status
    (:mod:`chiso.failures`), never as a traceback; ``CHISO_DEBUG=1`` lets unexpected errors through."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, SystemExit, CommandFailure):
            raise
        except BrokenPipeError:  # `chiso status | head`: the reader has gone, which is not an error to report
            with contextlib.suppress(OSError, ValueError):  # no real stdout (tests)
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise click.exceptions.Exit(141) from None
        except click.ClickException as exc:
            if type(exc) is not click.ClickException:  # usage errors keep click's form (command, option)
                raise
            raise CommandFailure(exc.format_message(), exc.exit_code) from None
        except (KeyboardInterrupt, Exception) as exc:
            failure = describe(exc, workspace_path((ctx.obj or {}).get("workspace")))
            if failure.exit_code == EXIT_SOFTWARE and debugging():
                raise
            raise CommandFailure(failure.message, failure.exit_code) from None


@click.group(cls=ChisoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chiso")
@click.option("--workspace", "-w", type=click.Path(file_okay=False), default=None,
              help="Thư mục dữ liệu (mặc định $CHISO_WORKSPACE hoặc ./chiso-data).")
@click.option("--database", envvar="CHISO_DATABASE", default=None, metavar="URL",
              help="Cơ sở dữ liệu PostgreSQL dùng chung (postgresql://người-dùng@máy/csdl; mặc định $CHISO_DATABASE). "
                   "Không có: kho DuckDB trong thư mục dữ liệu.")
@click.pass_context
def main(ctx: click.Context, workspace: str | None, database: str | None) -> None:
    """chiso — Bộ chỉ số phục vụ người dân, doanh nghiệp: nạp hồ sơ, tính hạn, tình trạng, báo cáo."""
    if database:
        from chiso.store.pg import is_postgres_url  # psycopg is imported only for a PostgreSQL store

        if not is_postgres_url(database):
                raise click.BadParameter(f"'{database}' không phải địa chỉ PostgreSQL (postgresql://…)",
                                     param_hint="--database")
    ctx.obj = {"workspace": workspace, "database": database or None}


# --- load -----------------------------------------------------------------------------------------------


def _expand(paths: tuple[str, ...]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith(".")))
        else:
            out.append(p)
    return out


def _print_report(report: LoadReport, max_issues: int = 50) -> None:
    for f in report.files:
        if f.personal_columns:
            err.print(f"[yellow]{f.path.name}: bỏ qua cột dữ liệu cá nhân (không lưu): "
                      f"{', '.join(f.personal_columns)}[/]")
        if f.ignored_columns:
            err.print(f"[yellow]{f.path.name}: cột không thuộc hợp đồng dữ liệu, bỏ qua: "
                      f"{', '.join(f.ignored_columns)}[/]")
    issues = report.issues
    for issue in issues[:max_issues]:
        err.print(str(issue), markup=False, highlight=False)
    if len(issues) > max_issues:
        err.print(f"… và {len(issues) - max_issues} lỗi khác")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--table", type=click.Choice(list(TABLES)), default=None,
              help="Bảng dữ liệu (mặc định: đoán từ dòng tiêu đề).")
@click.option("--partial", is_flag=True, help="Nạp các dòng hợp lệ; ghi các dòng bị loại ra tệp CSV.")
@click.option("--mapping", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Tệp TOML ánh xạ tiêu đề cột: [dossiers] \"Số biên nhận\" = \"dossier_id\".")
@click.option("--encoding", default="utf-8", show_default=True, help="Bảng mã của tệp CSV (ví dụ cp1258).")
@click.pass_context
def load(ctx: click.Context, paths: tuple[str, ...], table: str | None, partial: bool, mapping: str | None,
         encoding: str) -> None:
    """Nạp tệp dữ liệu (CSV, XLSX, JSON Lines, Parquet) vào kho."""
    files = _expand(paths)
    try:
        extra = read_mapping_file(Path(mapping)) if mapping else None
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    store = open_store(ctx)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} dòng"),
                  TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, Any] = {}

        def progress(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(f"Nạp {label}", total=total)
            bar.update(tasks[label], completed=done)

        try:
            report = api.load(store, files, table=table, partial=partial, mapping=extra, encoding=encoding,
                              progress=progress)
        except LoadError as exc:
            bar.stop()
            _print_report(exc.report)
            n = len(exc.report.issues)
            unreadable = [f.path.name for f in exc.report.files if f.unreadable]
            if partial and unreadable:
                names = escape(", ".join(unreadable))
                err.print(f"[red]Không nạp tệp nào: không đọc được {names} ({n} lỗi). Sửa hoặc bỏ tệp đó rồi "
                          "nạp lại.[/]", highlight=False)
            else:
                err.print(f"[red]Không nạp tệp nào: {n} lỗi. Sửa tệp rồi nạp lại, "
                          "hoặc dùng --partial để nạp các dòng hợp lệ.[/]")
            sys.exit(1)
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
    _print_report(report)
    for f in report.files:
        line = (f"{f.path.name} → {f.table}: {vn_int(f.rows_read)} dòng; thêm {vn_int(f.inserted)}, "
                f"cập nhật {vn_int(f.updated)}, không đổi {vn_int(f.unchanged)}, loại {vn_int(f.rejected)}")
        click.echo(line)
        if f.rejected_file:
            click.echo(f"  Các dòng bị loại và lý do: {f.rejected_file}")


# --- units ----------------------------------------------------------------------------------------------


@main.group()
def units() -> None:
    """Danh mục đơn vị: tỉnh, sở ngành, huyện (trước 1/7/2025), xã phường."""


@units.command("init")
@click.option("--province", required=True, help="Tên tỉnh, thành phố, ví dụ \"Sơn La\".")
@click.option("--before-2025", "before_2025", is_flag=True,
              help="Thêm huyện, xã trước sáp nhập 1/7/2025 và liên kết cũ → mới.")
@click.option("--departments", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Tệp CSV danh sách sở, ngành (mặc định: departments.csv trong thư mục dữ liệu).")
@click.pass_context
def units_init(ctx: click.Context, province: str, before_2025: bool, departments: str | None) -> None:
    """Lập danh mục đơn vị của một tỉnh từ danh mục hành chính chính thức."""
    store = open_store(ctx)
    try:
        report = api.init_units(store, province, before_2025=before_2025,
                                departments=Path(departments) if departments else None)
    except UnitCatalogError as exc:
        raise click.ClickException(str(exc)) from None
    except LoadError as exc:
        _print_report(exc.report)
        sys.exit(1)
    counts = store.con.execute("SELECT level, count(*) FROM units GROUP BY level ORDER BY level").fetchall()
    click.echo("Danh mục đơn vị: " + ", ".join(f"{LEVEL_LABELS.get(lv, lv)} {n}" for lv, n in counts))
    click.echo(f"Danh sách sở, ngành (sửa được): {store.workspace / 'departments.csv'}")
    del report


@units.command("list")
@click.option("--level", type=click.Choice(list(LEVEL_LABELS)), default=None)
@click.pass_context
def units_list(ctx: click.Context, level: str | None) -> None:
    """Liệt kê đơn vị."""
    store = open_store(ctx)
    where = "WHERE level = ?" if level else ""
    rows = store.con.execute(
        f"SELECT code, name, level, COALESCE(parent_code, ''), COALESCE(CAST(valid_to AS VARCHAR), '') "
        f"FROM units {where} ORDER BY level, code", [level] if level else []).fetchall()
    w = csv.writer(sys.stdout)
    w.writerow(["code", "name", "level", "parent_code", "valid_to"])
    w.writerows([[csv_text(v) for v in row] for row in rows])


# --- status ---------------------------------------------------------------------------------------------


@main.command()
@click.option("--as-of", "as_of", default=None, help="Thời điểm xét (mặc định: bây giờ). Chỉ ngày = cuối ngày.")
@click.option("--unit", default=None, help="Mã đơn vị (gồm cả đơn vị cấp dưới).")
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "table"]), default="csv", show_default=True)
@click.option("--by-unit", is_flag=True, help="Tổng hợp theo đơn vị thay vì từng hồ sơ.")
@click.option("--details", is_flag=True, help="Thêm cột: hạn gốc, nguồn hạn, thời gian tạm dừng, số lần bổ sung.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
@click.pass_context
def status(ctx: click.Context, as_of: str | None, unit: str | None, fmt: str, by_unit: bool, details: bool,
           out: str | None) -> None:
    """Hạn giải quyết và tình trạng của từng hồ sơ tại một thời điểm."""
    moment = parse_moment(as_of)
    _check_out(ctx, out)
    store = open_store(ctx)
    check_unit(store, unit)
    if by_unit:
        rows = api.status_summary(store, moment, unit=unit)
        _print_summary(rows, moment, fmt, out)
        return
    rel = api.status_relation(store, moment, unit=unit, details=details)
    local = store.con
    if store.dialect != "duckdb":  # rows computed by the server; written out by an in-memory DuckDB, same format
        import duckdb

        local = duckdb.connect()
        local.register("status_rows", rel.to_arrow_table())
        rel = local.sql("SELECT * FROM status_rows")
    if fmt == "table":
        click.echo(rel.limit(200))
        return
    with _output(out) as sink:
        if fmt == "csv":
            text_columns = {"dossier_id", "unit_code", "procedure_code"}
            rel = rel.project(", ".join(f"{csv_text_sql(c)} AS {c}" if c in text_columns else c for c in rel.columns))
            import pyarrow.csv as pacsv

            reader = rel.to_arrow_reader(100_000)
            opts = pacsv.WriteOptions(quoting_style="needed")
            with pacsv.CSVWriter(sink, reader.schema, write_options=opts) as writer:
                for batch in reader:
                    writer.write_batch(batch)
        else:
            import shutil
            import tempfile

            with tempfile.TemporaryDirectory(dir=store.workspace if store.workspace.is_dir() else None) as tmp:
                path = Path(tmp) / "status.json"
                target = str(path).replace("'", "''")  # the workspace path may hold a quote
                local.execute(f"COPY ({rel.sql_query()}) TO '{target}' (FORMAT JSON, ARRAY true)")
                with path.open("rb") as fh:
                    shutil.copyfileobj(fh, sink)


def _check_out(ctx: click.Context, out: str | None, *, directory: bool = False) -> None:
    """Refuse an --out that points into the workspace's own files (the database, configuration, templates …)."""
    if out:
        try:
            check_output(Path(out), workspace_path(ctx.obj["workspace"]), directory=directory)
        except OutputError as exc:
            raise click.BadParameter(str(exc), param_hint="--out") from None


@contextlib.contextmanager
def _output(out: str | None) -> Iterator[BinaryIO]:
    """A binary sink: the --out file (written to a temporary file, renamed when complete), or standard output
    (never reopened, so redirections stay intact)."""
    if out:
        with atomic_file(Path(out)) as fh:
            yield fh
    else:
        sys.stdout.flush()
        yield sys.stdout.buffer
        sys.stdout.buffer.flush()


def _print_summary(rows: list[dict[str, Any]], moment: datetime, fmt: str, out: str | None) -> None:
    keys = ["unit_code", "unit_name", "level", "received", *CLASSES]
    if fmt == "json":
        text = json.dumps([{k: r[k] for k in keys} for r in rows], ensure_ascii=False, indent=1)
        _emit(text + "\n", out)
        return
    if fmt == "csv":
        import io

        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(keys)
        w.writerows([[csv_text(r[k]) for k in keys] for r in rows])
        _emit(buf.getvalue(), out)
        return
    table = RichTable(title=f"Tình trạng hồ sơ theo đơn vị tại {moment:%H:%M ngày %d/%m/%Y}")
    table.add_column("Đơn vị")
    for label in ("Tiếp nhận", *(CLASS_LABELS[c] for c in CLASSES)):
        table.add_column(label, justify="right")
    total = {k: 0 for k in ["received", *CLASSES]}
    for r in rows:
        table.add_row(str(r["unit_name"]), *(vn_int(int(r[k])) for k in ["received", *CLASSES]))
        for k in total:
            total[k] += int(r[k])
    table.add_section()
    table.add_row("Tổng cộng", *(vn_int(total[k]) for k in ["received", *CLASSES]))
    Console(width=160).print(table)


def _emit(text: str, out: str | None) -> None:
    if out:
        write_text(Path(out), text)
    else:
        sys.stdout.write(text)


def vn_int(n: int) -> str:
    """13597 -> '13.597' (Vietnamese thousands separator)."""
    return f"{n:,}".replace(",", ".")


# --- rules, simulate ------------------------------------------------------------------------------------


@main.group()
def rules() -> None:
    """Bộ quy tắc tính điểm Bộ chỉ số (dữ liệu, có ngày hiệu lực)."""


@rules.command("list")
@click.pass_context
def rules_list(ctx: click.Context) -> None:
    """Liệt kê các bộ quy tắc: có sẵn và của tỉnh (thư mục rules/ trong thư mục dữ liệu)."""
    from chiso.rules.model import RuleSetError, available

    try:
        sets = available(workspace_path(ctx.obj["workspace"]))
    except RuleSetError as exc:
        raise click.ClickException(str(exc)) from None
    for rs in sorted(sets.values(), key=lambda r: r.effective_from):
        click.echo(f"{rs.name}\thiệu lực từ {rs.effective_from:%d/%m/%Y}\t{rs.title}")


@rules.command("show")
@click.argument("name")
@click.pass_context
def rules_show(ctx: click.Context, name: str) -> None:
    """Nội dung một bộ quy tắc: nhóm, chỉ số, điểm tối đa, cách tính."""
    from chiso.rules.model import RuleSetError, for_period

    try:
        rs = for_period(datetime.now().date(), workspace_path(ctx.obj["workspace"]), name)
    except RuleSetError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{rs.name} — {rs.title} (hiệu lực từ {rs.effective_from:%d/%m/%Y}; làm tròn {rs.rounding} chữ số)")
    for g in rs.groups:
        click.echo(f"{g.code} {g.name}: {g.max:g} điểm")
        for i in rs.group_indicators(g.code):
            rule = {"linear": "tuyến tính", "threshold": f"ngưỡng {i.threshold:.0%}" if i.threshold else "ngưỡng",
                    "display": "chỉ hiển thị"}[i.kind]
            extra = []
            if i.source == "input":
                extra.append("nhập tay")
            else:
                extra.append(f"{i.numerator} / {i.denominator}")
            if i.zero_denominator == "full":
                extra.append("mẫu số 0 → đủ điểm")
            if i.inherit:
                extra.append("kế thừa từ tỉnh")
            if i.provisional:
                extra.append("tạm tính")
            click.echo(f"  {i.code}: {i.max:g} điểm, {rule}; {'; '.join(extra)} — {i.name}")
    click.echo("Xếp loại: " + ", ".join(f"{label} ≥ {floor:g}" for label, floor in rs.bands))


@rules.command("check")
@click.argument("file", type=click.Path(dir_okay=False))
def rules_check(file: str) -> None:
    """Kiểm tra một tệp bộ quy tắc (TOML)."""
    from chiso.rules.model import RuleSetError, load_rule_set

    try:
        rs = load_rule_set(Path(file))
    except RuleSetError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Hợp lệ: {rs.name}, {len(rs.groups)} nhóm, {len(rs.indicators)} chỉ số, "
               f"hiệu lực từ {rs.effective_from:%d/%m/%Y}")


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--rules", "rules_name", default=None, help="Tên bộ quy tắc (mặc định: bộ đang hiệu lực hôm nay).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_context
def simulate(ctx: click.Context, file: str, rules_name: str | None, fmt: str) -> None:
    """Tính thử điểm từ tệp chỉ số (indicator_inputs), không cần dữ liệu hồ sơ."""
    from chiso.rules.model import RuleSetError, for_period
    from chiso.scoring import render
    from chiso.scoring.simulate import simulate as run_simulation

    try:
        rs = for_period(now_local().date(), workspace_path(ctx.obj["workspace"]), rules_name)
        results = run_simulation(rs, Path(file))
    except LoadError as exc:
        _print_report(exc.report)
        sys.exit(1)
    except (RuleSetError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render.render(results, rs, fmt, f"Tính thử theo {rs.name}"), nl=False)


@main.command()
@click.option("--period", required=True, help="Kỳ: 2025-07 (tháng), 2025-Q3 (quý), 2025 (năm), 2025-07-01..2025-09-30.")
@click.option("--level", type=click.Choice(list(LEVEL_LABELS)), default=None, help="Chỉ in đơn vị của một cấp.")
@click.option("--unit", default=None, help="Chỉ in một đơn vị và các đơn vị cấp dưới.")
@click.option("--as-of", "as_of", default=None, help="Thời điểm tính (mặc định: bây giờ).")
@click.option("--rules", "rules_name", default=None, help="Bộ quy tắc (mặc định: theo ngày hiệu lực của kỳ).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.pass_context
def score(ctx: click.Context, period: str, level: str | None, unit: str | None, as_of: str | None,
          rules_name: str | None, fmt: str) -> None:
    """Điểm Bộ chỉ số của mọi đơn vị trong một kỳ, xếp hạng và so với kỳ trước."""
    from chiso.rules.model import RuleSetError
    from chiso.scoring import render
    from chiso.scoring.period import PeriodError

    store = open_store(ctx)
    check_unit(store, unit)
    try:
        rs, results = api.score(store, period, as_of=parse_moment(as_of), rules=rules_name, level=level, unit=unit)
    except (PeriodError, RuleSetError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render.render(results, rs, fmt, f"Bộ chỉ số kỳ {period} ({rs.name})"), nl=False)


@main.command()
@click.option("--unit", required=True, help="Mã đơn vị.")
@click.option("--period", required=True, help="Kỳ: 2025-07, 2025-Q3, 2025 hoặc 2025-07-01..2025-09-30.")
@click.option("--as-of", "as_of", default=None, help="Thời điểm tính (mặc định: bây giờ).")
@click.option("--rules", "rules_name", default=None, help="Bộ quy tắc (mặc định: theo ngày hiệu lực của kỳ).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--limit", default=20, show_default=True, help="Số mã hồ sơ in ra cho mỗi chỉ số (bảng).")
@click.pass_context
def explain(ctx: click.Context, unit: str, period: str, as_of: str | None, rules_name: str | None, fmt: str,
            limit: int) -> None:
    """Giải thích điểm bị trừ của một đơn vị: hồ sơ nào, vì sao, làm gì để tăng điểm."""
    from chiso.rules.model import RuleSetError
    from chiso.scoring.period import PeriodError
    from chiso.scoring.render import vn_number

    store = open_store(ctx)
    try:
        data = api.explain(store, unit, period, as_of=parse_moment(as_of), rules=rules_name)
    except (PeriodError, RuleSetError, KeyError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
    if fmt == "json":
        click.echo(json.dumps(data, ensure_ascii=False, indent=1))
        return
    click.echo(f"Giải thích điểm — {data['name'] or data['code']}, kỳ {data['period']} ({data['rule_set']}): "
               f"{vn_number(data['total'])} điểm, bị trừ {vn_number(data['lost'])} điểm")
    kinds = {"dossiers": "hồ sơ", "procedures": "TTHC", "feedback": "PAKN"}
    for s in data["shortfalls"]:
        ratio = ""
        if s["denominator"]:
            ratio = f" ({vn_number(s['numerator'], 0)}/{vn_number(s['denominator'], 0)})"
        click.echo(f"- {s['code']}{ratio}: mất {vn_number(s['lost'])} điểm")
        if s["item_count"]:
            shown = ", ".join(s["items"][:limit]) + (" …" if s["item_count"] > limit else "")
            click.echo(f"    {vn_int(s['item_count'])} {kinds[s['over']]} {s['reason']}: {shown}")
        elif not s["over"]:
            click.echo(f"    {s['reason']}")
    if data["actions"]:
        click.echo("Ba việc tăng điểm nhiều nhất với ít hồ sơ nhất:")
        for n, a in enumerate(data["actions"], start=1):
            click.echo(f"  {n}. {a['text']}: +{vn_number(a['gain'])} điểm")


@main.command()
@click.option("--period", required=True, help="Kỳ: 2025-07, 2025-Q3, 2025 hoặc 2025-07-01..2025-09-30.")
@click.option("--as-of", "as_of", default=None, help="Thời điểm tính (mặc định: bây giờ).")
@click.option("--rules", "rules_name", default=None, help="Bộ quy tắc (mặc định: theo ngày hiệu lực của kỳ).")
@click.pass_context
def publish(ctx: click.Context, period: str, as_of: str | None, rules_name: str | None) -> None:
    """Công bố (đóng băng) kết quả một kỳ: bộ quy tắc, dấu vân tay dữ liệu, thời điểm."""
    from chiso.rules.model import RuleSetError
    from chiso.scoring.period import PeriodError

    store = open_store(ctx)
    try:
        pid, fp = api.publish(store, period, as_of=parse_moment(as_of), rules=rules_name)
    except (PeriodError, RuleSetError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Đã công bố kết quả kỳ {period}: số {pid}, dấu vân tay dữ liệu {fp[:16]}")


# --- generate -------------------------------------------------------------------------------------------


@main.command()
@click.option("--province", required=True)
@click.option("--from", "start", required=True, help="Tháng đầu, ví dụ 2025-07.")
@click.option("--to", "end", required=True, help="Tháng cuối, ví dụ 2025-09.")
@click.option("--scale", type=float, default=1.0, show_default=True, help="Hệ số quy mô (1 = thực tế).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="Định dạng tệp hồ sơ (các bảng nhỏ luôn là CSV).")
def generate(province: str, start: str, end: str, scale: float, seed: int, out: str, fmt: str) -> None:
    """Sinh dữ liệu mẫu thực tế của một tỉnh theo hợp đồng dữ liệu."""
    from chiso.generate.province import GeneratorError, generate_province

    _check_out(click.get_current_context(), out, directory=True)
    try:
        # Written in a staging folder and moved into place: a file (or a link) already in --out is replaced,
        # never written through.
        with staged_dir(Path(out)) as stage:
            summary = generate_province(province, start, end, stage, scale=scale, seed=seed, fmt=fmt)
    except (GeneratorError, UnitCatalogError) as exc:
        raise click.ClickException(str(exc)) from None
    for name, n in summary.items():
        click.echo(f"{name}: {vn_int(n)} dòng")


@main.group()
def db() -> None:
    """Cơ sở dữ liệu: tạo, nâng cấp lược đồ."""


@db.command("upgrade")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    """Tạo hoặc nâng cấp lược đồ (các bước migration chưa áp dụng, ghi lại trong cơ sở dữ liệu)."""
    obj = ctx.find_root().obj or {}
    store = Store.open(obj.get("workspace"), database=obj.get("database"), upgrade=True)
    with store:
        done = store.applied_migrations()
    where = "PostgreSQL" if obj.get("database") else f"kho {workspace_path(obj.get('workspace'))}"
    if store.upgraded:
        click.echo(f"Lược đồ {where}: đã áp dụng " + ", ".join(store.upgraded) + ".")
    click.echo(f"Lược đồ {where} đã mới nhất: {len(done)} bước, bước cuối {max(done):04d}.")


def _register() -> None:
    from chiso.cli_admin import register as register_admin
    from chiso.cli_report import report

    main.add_command(report)
    register_admin(main)
    from chiso.cli_web import register as register_web; register_web(main)  # noqa: E702, I001
    from chiso.cli_alerts import alerts; main.add_command(alerts)  # noqa: E702, I001


_register()

if __name__ == "__main__":
    main()
