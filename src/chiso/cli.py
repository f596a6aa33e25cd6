"""The ``chiso`` command: a thin layer over :mod:`chiso.api`. Messages for users are in Vietnamese."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table as RichTable
from rich.text import Text

from chiso import __version__, failures, vnformat
from chiso.cli_i18n import install as _vietnamese_click
from chiso.cli_params import PERIOD
from chiso.clock import OFFSET, now_local
from chiso.config import ConfigError, read_mapping_file
from chiso.failures import EXIT_INTERRUPTED, EXIT_SOFTWARE, debugging, describe, is_interrupt
from chiso.lazy import lazy_module
from chiso.load.contract import TABLES
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
from chiso.store.rows import first_row
from chiso.tabular import FORMATS, Col, TableError, emit

if TYPE_CHECKING:
    from chiso import api
    from chiso.load import loader
    from chiso.load.loader import LoadReport
    from chiso.units import catalog
else:  # loaded when a command first uses them, not for --help (chiso.lazy)
    api = lazy_module("chiso.api")
    loader = lazy_module("chiso.load.loader")
    catalog = lazy_module("chiso.units.catalog")

_vietnamese_click()
err = Console(stderr=True, soft_wrap=True)
LEVEL_LABELS = {"province": "Tỉnh", "department": "Sở, ngành", "district": "Huyện", "commune": "Xã, phường"}


def parse_moment(text: str | None) -> datetime:
    """--as-of: a date means the end of that day; also dd/mm/yyyy [HH:MM]; ISO 8601 with an offset or ``Z`` is
    turned into local time (UTC+7): ``2025-09-30T10:00:00Z`` is 17:00 on 30/09/2025."""
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
    if "T" in text or text.endswith(("Z", "z")) or "+" in text:
        try:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            moment = None
        if moment is not None and moment.tzinfo is not None:
            return (moment.astimezone(UTC) + OFFSET).replace(tzinfo=None)
        if moment is not None:
            return moment
    raise click.BadParameter(f"'{text}' không phải thời điểm (dùng yyyy-mm-dd [HH:MM], dd/mm/yyyy [HH:MM] hoặc "
                             "ISO 8601 như 2025-09-30T17:00:00+07:00)", param_hint="--as-of")


def parse_day(text: str, option: str) -> date:
    """A day typed as yyyy-mm-dd or dd/mm/yyyy (--date, --since)."""
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            pass
    raise click.BadParameter(f"'{text}' không phải ngày (dùng yyyy-mm-dd hoặc dd/mm/yyyy)", param_hint=option)


def open_store(ctx: click.Context, *, create: bool = False, read_only: bool = False) -> Store:
    """The store the global options name: ``--database URL`` (PostgreSQL), else the workspace's DuckDB file. Only
    the commands that make a workspace (``units init``, ``load``) pass ``create``; for the others a workspace
    without a store is wrong use: a mistyped ``-w`` would otherwise create an empty one and print nothing.

    Reading commands pass ``read_only``: the store is opened read-only, so several of them run at once (on
    PostgreSQL also beside a writer). When it first needs writing — a migration to apply, derived tables (working
    calendar, deadline rules) to bring up to date after a load or an edited chiso.toml — it is opened for
    writing once, then the command goes on."""
    obj = ctx.find_root().obj or {}
    if not create:
        require_workspace(ctx)
    if read_only and not obj.get("database"):  # PostgreSQL: readers never wait for a writer anyway (MVCC), and
        # scoring makes temporary tables, which a read-only PostgreSQL transaction refuses
        import duckdb

        try:
            store = Store.open(obj.get("workspace"), read_only=True)
        except duckdb.ConnectionException:  # this process already holds the file for writing (a script, a test)
            return Store.open(obj.get("workspace"))
        try:
            current = store.schema_current() and api.prepared(store)
        except Exception:
            store.close()
            raise
        if current:
            return store
        store.close()
    return Store.open(obj.get("workspace"), database=obj.get("database"))


def require_workspace(ctx: click.Context) -> None:
    """Refuse (status 2) a DuckDB workspace that has no store yet."""
    from chiso.store.db import DB_FILE

    obj = ctx.find_root().obj or {}
    if obj.get("database"):
        return
    ws = workspace_path(obj.get("workspace"))
    if not (ws / DB_FILE).is_file():
        what = "không có" if not ws.exists() else "chưa có kho dữ liệu (chiso.duckdb) trong"
        raise click.UsageError(
            f"{what} thư mục dữ liệu '{ws}'. Chỉ đúng thư mục bằng --workspace (hoặc $CHISO_WORKSPACE), hoặc tạo "
            "kho mới: chiso units init --province \"Tên tỉnh\" rồi chiso load TỆP.", ctx)


def resolve_unit(store: Store, unit: str, option: str = "--unit") -> str:
    """The code of the unit ``unit`` names: its code, or its name as people write it ("UBND phường Tô Hiệu",
    "Sở Tư pháp", "P. Tô Hiệu"), matched by :mod:`chiso.units.names` — never a guess. Anything else is wrong use
    (status 2) naming the closest units: an unknown unit would otherwise print nothing and succeed."""
    text = unit.strip()
    if first_row(store.con.execute("SELECT 1 FROM units WHERE code = ?", [text])) is not None:
        return text
    from chiso.official.importer import aliases
    from chiso.units.names import UnitMatcher

    rows = store.con.execute("SELECT code, name, level FROM units").fetchall()
    matcher = UnitMatcher(((str(c), str(n), str(lv)) for c, n, lv in rows), aliases(store))
    found = matcher.match(text)
    if found.code is None:
        raise click.BadParameter(matcher.describe(found) + " (xem chiso units list)", param_hint=option)
    return found.code


def check_unit(store: Store, unit: str | None) -> str | None:
    """--unit, when given, as a unit code (:func:`resolve_unit`)."""
    return resolve_unit(store, unit) if unit else None


class CommandFailure(click.ClickException):
    """A failure reported to the user in Vietnamese ("Lỗi: …") with its own exit status."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        vars(self)["exit_code"] = exit_code  # click declares exit_code as a class constant

    def show(self, file: Any = None) -> None:
        click.echo(f"Lỗi: {self.format_message()}", err=True)


AFTER_LOAD = ("Đã dừng theo yêu cầu (Ctrl-C) sau khi nạp xong: các dòng đã nạp đã được lưu. Việc chuẩn bị sau khi "
              "nạp (lịch làm việc, hạn giải quyết, số đếm của Bộ chỉ số) nếu chưa xong sẽ được làm tiếp ở lệnh "
              "chiso sau.")


class ChisoGroup(click.Group):
    """The ``chiso`` group: whatever a command raises ends as a Vietnamese message and an exit status
    (:mod:`chiso.failures`), never as a traceback; ``CHISO_DEBUG=1`` lets unexpected errors through."""

    def invoke(self, ctx: click.Context) -> Any:
        commits = failures.commits()
        interrupts = failures.count_interrupts()
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
        except (KeyboardInterrupt, Exception) as raised:
            error = failures.as_interrupt(raised, interrupts)
            if is_interrupt(error) and failures.commits() > commits:
                # after a load's commit, wherever the Ctrl-C came: never "rolled back"
                raise CommandFailure(AFTER_LOAD, EXIT_INTERRUPTED) from None
            failure = describe(error, workspace_path((ctx.obj or {}).get("workspace")))
            if failure.exit_code == EXIT_SOFTWARE and debugging():
                raise
            raise CommandFailure(failure.message, failure.exit_code) from None


@click.group(cls=ChisoGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chiso")
@click.option("--workspace", "-w", type=click.Path(file_okay=False), default=None, metavar="THƯ-MỤC",
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


class _Count(ProgressColumn):
    """'13.597 / 20.000 dòng' (or without the total when it is not known), Vietnamese thousands."""

    def __init__(self, unit: str):
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        total = f" / {vn_int(int(task.total))}" if task.total else ""
        return Text(f"{vn_int(int(task.completed))}{total} {self.unit}")


@contextlib.contextmanager
def progress_bar(unit: str) -> Iterator[tuple[Progress, Callable[[str, int, int | None], None]]]:
    """A progress bar on standard error with counts and the time left, for long commands (load, generate,
    report all); nothing at all when standard error is not a terminal (a script, a log file, CI)."""
    with Progress(TextColumn("{task.description}"), BarColumn(), _Count(unit), TimeElapsedColumn(),
                  TextColumn("còn"), TimeRemainingColumn(), console=err, transient=True,
                  disable=not err.is_terminal) as bar:
        tasks: dict[str, Any] = {}

        def progress(label: str, done: int, total: int | None) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(label, total=total)
            bar.update(tasks[label], completed=done, total=total)

        yield bar, progress


def _print_report(report: LoadReport, max_issues: int = 50) -> None:
    for f in report.files:
        if f.personal_columns:
            err.print(f"[yellow]{f.path.name}: bỏ qua cột dữ liệu cá nhân (không lưu): "
                      f"{', '.join(f.personal_columns)}[/]")
        if f.ignored_columns:
            err.print(f"[yellow]{f.path.name}: cột không thuộc hợp đồng dữ liệu, bỏ qua: "
                      f"{', '.join(f.ignored_columns)}[/]")
        if f.skipped_rows:
            err.print(f"{f.path.name}: bỏ qua {f.skipped_rows} dòng tiêu đề phía trên (dòng tiêu đề cột là dòng "
                      f"{f.skipped_rows + 1})", markup=False, highlight=False)
        if f.encoding:
            names = {"cp1258": "Windows-1258", "utf-16": "UTF-16"}
            err.print(f"{f.path.name}: bảng mã nhận ra là {names.get(f.encoding, f.encoding)}, đã đổi sang UTF-8",
                      markup=False, highlight=False)
        if f.units_by_name:
            shown = "; ".join(f"'{v}' → {code} {name}" + ("" if pct >= 100 else f" ({pct:.0f}%)")
                              for v, code, name, pct in f.units_by_name[:10])
            more = f" … và {len(f.units_by_name) - 10} tên khác" if len(f.units_by_name) > 10 else ""
            err.print(f"{f.path.name}: đơn vị ghi bằng tên, đã nhận ra mã: {shown}{more}", markup=False,
                      highlight=False)
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
@click.option("--encoding", default=None,
              help="Bảng mã của tệp CSV (ví dụ cp1258, utf-16); mặc định: tự nhận (UTF-8, UTF-16, Windows-1258).")
@click.option("--profile", "profile_name", default=None, metavar="TÊN",
              help="Dùng hồ sơ ánh xạ đã lưu của một hệ thống nguồn (profiles/TÊN.toml trong thư mục dữ liệu).")
@click.option("--save-profile", "save_as", default=None, metavar="TÊN",
              help="Sau khi nạp xong, lưu --mapping, --encoding, --table thành hồ sơ ánh xạ TÊN để lần sau dùng "
                   "--profile TÊN.")
@click.pass_context
def load(ctx: click.Context, paths: tuple[str, ...], table: str | None, partial: bool, mapping: str | None,
         encoding: str | None, profile_name: str | None, save_as: str | None) -> None:
    """Nạp tệp dữ liệu (CSV, XLSX, XLS, ODS, JSON Lines, Parquet) vào kho."""
    from chiso.load.profiles import load_profile

    files = _expand(paths)
    ws = workspace_path(ctx.obj["workspace"])
    try:
        extra = read_mapping_file(Path(mapping)) if mapping else None
        if profile_name:
            prof = load_profile(ws, profile_name)
            extra = {t: {**prof.mapping.get(t, {}), **(extra or {}).get(t, {})}
                     for t in {*prof.mapping, *(extra or {})}}
            encoding = encoding or prof.encoding
            table = table or prof.table
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if save_as:
        try:
            from chiso.load.profiles import profile_path

            profile_path(ws, save_as)
        except ConfigError as exc:
            raise click.BadParameter(str(exc), param_hint="--save-profile") from None
    encoding = encoding or "utf-8"
    store = open_store(ctx, create=True)
    with progress_bar("dòng") as (bar, progress):
        try:
            report = api.load(store, files, table=table, partial=partial, mapping=extra, encoding=encoding,
                              progress=lambda label, done, total: progress(f"Nạp {label}", done, total))
        except loader.LoadError as exc:
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
        except loader.InterruptedAfterLoad as stopped:  # Ctrl-C after the commit: say what is stored, not "undone"
            bar.stop()
            _print_load(stopped.report, ws, save_as, extra, encoding, table)
            err.print(AFTER_LOAD.replace("các dòng đã nạp", "các dòng trên"), highlight=False)
            sys.exit(EXIT_INTERRUPTED)
    _print_load(report, ws, save_as, extra, encoding, table)


def _print_load(report: Any, ws: Path, save_as: str | None, extra: dict[str, dict[str, str]] | None,
                encoding: str, table: str | None) -> None:
    """The load's report: a line per file, the rejected rows' file, the saved mapping profile."""
    from chiso.load.profiles import Profile, save_profile

    _print_report(report)
    for f in report.files:
        line = (f"{f.path.name} → {f.table}: {vn_int(f.rows_read)} dòng; thêm {vn_int(f.inserted)}, "
                f"cập nhật {vn_int(f.updated)}, không đổi {vn_int(f.unchanged)}, loại {vn_int(f.rejected)}")
        if f.cleared:
            line += f"; xoá {vn_int(f.cleared)} giá trị theo ô để trống"
        click.echo(line)
        if f.rejected_file:
            click.echo(f"  Các dòng bị loại và lý do: {f.rejected_file}")
    if save_as:
        path = save_profile(ws, Profile(save_as, extra or {}, encoding if encoding != "utf-8" else None, table))
        click.echo(f"Đã lưu hồ sơ ánh xạ '{save_as}': {path} (lần sau: chiso load TỆP --profile {save_as})")


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
    store = open_store(ctx, create=True)
    try:
        report = api.init_units(store, province, before_2025=before_2025,
                                departments=Path(departments) if departments else None)
    except catalog.UnitCatalogError as exc:
        raise click.ClickException(str(exc)) from None
    except loader.LoadError as exc:
        _print_report(exc.report)
        sys.exit(1)
    counts = store.con.execute("SELECT level, count(*) FROM units GROUP BY level ORDER BY level").fetchall()
    click.echo("Danh mục đơn vị: " + ", ".join(f"{LEVEL_LABELS.get(lv, lv)} {n}" for lv, n in counts))
    click.echo(f"Danh sách sở, ngành (sửa được): {store.workspace / 'departments.csv'}")
    del report


@units.command("list")
@click.option("--level", type=click.Choice(list(LEVEL_LABELS)), default=None)
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="csv", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
@click.pass_context
def units_list(ctx: click.Context, level: str | None, fmt: str, out: str | None) -> None:
    """Liệt kê đơn vị."""
    _check_out(ctx, out)
    store = open_store(ctx, read_only=True)
    where = "WHERE u.level = ?" if level else ""
    rows = store.con.execute(
        f"SELECT u.code, u.name, u.level, COALESCE(u.parent_code, ''), COALESCE(p.name, ''), "
        f"COALESCE(CAST(u.valid_to AS VARCHAR), '') "
        f"FROM units u LEFT JOIN units p ON p.code = u.parent_code {where} ORDER BY u.level, u.code",
        [level] if level else []).fetchall()
    records = [{"code": c, "name": n, "level": lv, "level_name": LEVEL_LABELS.get(lv, lv), "parent_code": pc,
                "parent_name": pn, "valid_to": vt} for c, n, lv, pc, pn, vt in rows]
    if fmt == "csv":  # the columns scripts have read since the first version
        cols = [Col("code", "Mã"), Col("name", "Tên đơn vị"), Col("level", "Cấp"),
                Col("parent_code", "Mã đơn vị cấp trên"), Col("valid_to", "Hiệu lực đến")]
    else:
        cols = [Col("code", "Mã"), Col("name", "Tên đơn vị"), Col("level_name", "Cấp"),
                Col("parent_code", "Mã đơn vị cấp trên"), Col("parent_name", "Đơn vị cấp trên"),
                Col("valid_to", "Hiệu lực đến")]
    _table_out(cols, records, fmt, out, title="Danh mục đơn vị", sheet="Đơn vị")


def _table_out(cols: list[Col], rows: list[dict[str, Any]], fmt: str, out: str | None, *, title: str,
               sheet: str, total: int | None = None) -> None:
    try:
        emit(rows, cols, fmt, Path(out) if out else None, title=title, sheet=sheet, total=total)
    except TableError as exc:
        raise click.UsageError(str(exc)) from None


# --- status ---------------------------------------------------------------------------------------------


STATUS_COLUMNS = [
    Col("dossier_id", "Mã hồ sơ"), Col("unit_code", "Mã đơn vị"), Col("unit_name", "Đơn vị"),
    Col("procedure_code", "Mã TTHC"), Col("procedure_name", "Thủ tục hành chính"), Col("received_at", "Tiếp nhận"),
    Col("due_at", "Hạn giải quyết"), Col("end_at", "Kết thúc"), Col("timeliness_name", "Tình trạng"),
    Col("days_overdue", "Số ngày làm việc quá hạn", "int"), Col("officer", "Cán bộ xử lý")]
STATUS_DETAIL_COLUMNS = [
    Col("original_due_at", "Hạn gốc"), Col("due_source", "Nguồn hạn"), Col("paused_seconds", "Giây tạm dừng", "int"),
    Col("supplements", "Số lần bổ sung", "int"), Col("waiting_since", "Chờ bổ sung từ")]


def engine_options(command: Any) -> Any:
    """--engine, --lake, --spark-master: where the rules run and what they read (docs/scale.md)."""
    command = click.option("--spark-master", "spark_master", default=None, metavar="URL",
                           help="Cụm Spark (spark://máy:7077, yarn, k8s://…); mặc định local[*] hoặc [spark] master "
                                "trong chiso.toml.")(command)
    command = click.option("--lake", default=None, metavar="THƯ-MỤC",
                           help="Đọc kho Parquet (chiso export --format parquet) thay vì kho dữ liệu của thư mục "
                                "làm việc.")(command)
    return click.option("--engine", type=click.Choice(["duckdb", "postgres", "spark"]), default=None,
                        help="Máy tính toán: duckdb (mặc định), postgres (--database), spark.")(command)


def engine_stores(ctx: click.Context, engine: str | None, lake: str | None, spark_master: str | None
                  ) -> tuple[Store, Store]:
    """The workspace's store (settings, publications, official results) and the store the rules run on. With
    --lake and a workspace that has no store yet (a national team's folder), a scratch store stands in for it."""
    from chiso.engines import EngineError, compute_store
    from chiso.engines.lake import LakeError
    from chiso.engines.spark import SparkUnavailable
    from chiso.store.db import DB_FILE

    obj = ctx.find_root().obj or {}
    if spark_master and engine != "spark":
        raise click.UsageError("--spark-master chỉ dùng với --engine spark")
    if lake and not obj.get("database") and not (workspace_path(obj.get("workspace")) / DB_FILE).is_file():
        import atexit
        import shutil
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="chiso-scratch-"))
        atexit.register(shutil.rmtree, folder, True)
        scratch = Store.open(folder)
        store = Store(workspace_path(obj.get("workspace")), scratch.con, scratch.dialect)
    else:
        store = open_store(ctx, read_only=True)
    try:
        return store, compute_store(store, engine, lake=lake, spark_master=spark_master)
    except (EngineError, LakeError, SparkUnavailable, ConfigError) as exc:
        raise click.UsageError(str(exc)) from None


def _classes(value: str | None) -> list[str] | None:
    """--timeliness: a comma-separated list of classes, in English codes or Vietnamese labels."""
    if not value:
        return None
    from chiso.textnorm import fold

    by_label = {fold(label): code for code, label in CLASS_LABELS.items()}
    out = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        code = part if part in CLASSES else by_label.get(fold(part))
        if code is None:
            raise click.BadParameter(f"không có tình trạng '{part}' (có: {', '.join(CLASSES)})",
                                     param_hint="--timeliness")
        out.append(code)
    return out


@main.command()
@click.option("--as-of", "as_of", default=None, help="Thời điểm xét (mặc định: bây giờ). Chỉ ngày = cuối ngày.")
@click.option("--unit", default=None, help="Mã hoặc tên đơn vị (gồm cả đơn vị cấp dưới).")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="csv", show_default=True)
@click.option("--by-unit", is_flag=True, help="Tổng hợp theo đơn vị thay vì từng hồ sơ.")
@click.option("--details", is_flag=True, help="Thêm cột: hạn gốc, nguồn hạn, thời gian tạm dừng, số lần bổ sung.")
@click.option("--timeliness", default=None, metavar="TÌNH-TRẠNG,...",
              help=f"Chỉ các tình trạng này, cách nhau bởi dấu phẩy ({', '.join(CLASSES)}).")
@click.option("--due-within", type=click.IntRange(0, 365), default=None, metavar="N",
              help="Chỉ hồ sơ đang giải quyết, chưa quá hạn, đến hạn trong N ngày làm việc tới.")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
@engine_options
@click.pass_context
def status(ctx: click.Context, as_of: str | None, unit: str | None, fmt: str, by_unit: bool, details: bool,
           timeliness: str | None, due_within: int | None, out: str | None, engine: str | None = None,
           lake: str | None = None, spark_master: str | None = None) -> None:
    """Hạn giải quyết và tình trạng của từng hồ sơ tại một thời điểm."""
    moment = parse_moment(as_of)
    classes = _classes(timeliness)
    _check_out(ctx, out)
    store, compute = engine_stores(ctx, engine, lake, spark_master)
    unit = check_unit(compute, unit)
    if by_unit:
        rows = api.status_summary(compute, moment, unit=unit)
        _print_summary(rows, moment, fmt, out)
        return
    rel = api.status_relation(compute, moment, unit=unit, details=details, timeliness=classes,
                              due_within=due_within)
    local = compute.con
    if compute.dialect != "duckdb":  # rows computed by the server; written out by an in-memory DuckDB, same format
        import duckdb

        local = duckdb.connect()
        local.register("status_rows", rel.to_arrow_table())
        rel = local.sql("SELECT * FROM status_rows")
    if fmt in ("table", "xlsx"):
        cols = STATUS_COLUMNS + (STATUS_DETAIL_COLUMNS if details else [])
        limit = None if fmt == "xlsx" or out else 200
        total = int(local.sql(f"SELECT count(*) FROM ({rel.sql_query()}) s").fetchall()[0][0])
        query = rel.sql_query() + (f" LIMIT {limit}" if limit else "")
        cur = local.execute(query)
        names = [d[0] for d in cur.description]
        rows = []
        for r in cur.fetchall():
            row = dict(zip(names, r, strict=True))
            row["timeliness_name"] = CLASS_LABELS.get(str(row["timeliness"]), row["timeliness"])
            for k in ("received_at", "due_at", "end_at", "original_due_at", "waiting_since"):
                if row.get(k):
                    row[k] = datetime.fromisoformat(str(row[k]))
            rows.append(row)
        title = f"Tình trạng hồ sơ lúc {moment:%H:%M ngày %d/%m/%Y}"
        if fmt == "table" and total > len(rows):
            title += f" — {vn_int(len(rows))} / {vn_int(total)} hồ sơ đầu"
        _table_out(cols, rows, fmt, out, title=title, sheet="Tình trạng hồ sơ", total=total)
        return
    with _output(out) as sink:
        if fmt == "csv":
            if out:
                sink.write("\ufeff".encode())  # a BOM, so Excel reads the Vietnamese names
            text_columns = {"dossier_id", "unit_code", "procedure_code", "unit_name", "procedure_name", "officer"}
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
    return vnformat.integer(n)


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
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
@click.pass_context
def rules_show(ctx: click.Context, name: str, fmt: str, out: str | None) -> None:
    """Nội dung một bộ quy tắc: nhóm, chỉ số, điểm tối đa, cách tính."""
    from chiso.rules.model import RuleSetError, for_period

    _check_out(ctx, out)
    try:
        rs = for_period(now_local().date(), workspace_path(ctx.obj["workspace"]), name)
    except RuleSetError as exc:
        raise click.ClickException(str(exc)) from None
    kinds = {"linear": "tuyến tính", "threshold": "ngưỡng", "display": "chỉ hiển thị"}
    if fmt != "table":
        groups = {g.code: g for g in rs.groups}
        rows = [{"group": i.group, "group_name": groups[i.group].name if i.group in groups else "",
                 "code": i.code, "name": i.name, "max": i.max, "kind": i.kind, "kind_name": kinds.get(i.kind, i.kind),
                 "threshold": i.threshold, "source": i.source, "numerator": i.numerator or "",
                 "denominator": i.denominator or "", "zero_denominator": i.zero_denominator, "inherit": i.inherit,
                 "provisional": i.provisional} for g in rs.groups for i in rs.group_indicators(g.code)]
        cols = [Col("group", "Nhóm"), Col("group_name", "Tên nhóm"), Col("code", "Mã chỉ số"),
                Col("name", "Tên chỉ số"), Col("max", "Điểm tối đa", "number"),
                Col("kind" if fmt in ("csv", "json") else "kind_name", "Cách tính"),
                Col("threshold", "Ngưỡng", "percent", 0), Col("source", "Nguồn"), Col("numerator", "Tử số"),
                Col("denominator", "Mẫu số"), Col("zero_denominator", "Mẫu số 0"),
                Col("inherit", "Kế thừa từ tỉnh", "bool"), Col("provisional", "Tạm tính", "bool")]
        _table_out(cols, rows, fmt, out, title=f"{rs.name} — {rs.title}", sheet="Bộ chỉ số")
        return
    lines = [f"{rs.name} — {rs.title} (hiệu lực từ {rs.effective_from:%d/%m/%Y}; làm tròn {rs.rounding} chữ số)"]
    for g in rs.groups:
        lines.append(f"{g.code} {g.name}: {g.max:g} điểm")
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
            lines.append(f"  {i.code}: {i.max:g} điểm, {rule}; {'; '.join(extra)} — {i.name}")
    lines.append("Xếp loại: " + ", ".join(f"{label} ≥ {floor:g}" for label, floor in rs.bands))
    _emit("\n".join(lines) + "\n", out)


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
    except loader.LoadError as exc:
        _print_report(exc.report)
        sys.exit(1)
    except (RuleSetError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render.render(results, rs, fmt, f"Tính thử theo {rs.name}"), nl=False)


@main.command()
@click.option("--period", type=PERIOD, required=True,
              help="Kỳ: 2025-07 hoặc 07/2025 (tháng), 2025-Q3 hoặc quý III/2025 (quý), 2025 (năm), "
                   "2025-07-01..2025-09-30.")
@click.option("--level", type=click.Choice(list(LEVEL_LABELS)), default=None, help="Chỉ in đơn vị của một cấp.")
@click.option("--unit", default=None, help="Chỉ in một đơn vị và các đơn vị cấp dưới.")
@click.option("--as-of", "as_of", default=None, help="Thời điểm tính (mặc định: bây giờ).")
@click.option("--rules", "rules_name", default=None, help="Bộ quy tắc (mặc định: theo ngày hiệu lực của kỳ).")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
@click.option("--history", is_flag=True,
              help="Diễn biến qua các kỳ của đơn vị (--unit) và các đơn vị trước sắp xếp 1/7/2025: điểm chính "
                   "thức đã nhập, điểm đã công bố.")
@engine_options
@click.pass_context
def score(ctx: click.Context, period: str, level: str | None, unit: str | None, as_of: str | None,
          rules_name: str | None, fmt: str, out: str | None, history: bool = False, engine: str | None = None,
          lake: str | None = None, spark_master: str | None = None) -> None:
    """Điểm Bộ chỉ số của mọi đơn vị trong một kỳ, xếp hạng và so với kỳ trước."""
    from chiso.rules.model import RuleSetError
    from chiso.scoring import render
    from chiso.scoring.period import PeriodError

    _check_out(ctx, out)
    if history and (engine or lake):
        raise click.UsageError("--history đọc kết quả đã lưu của kho: không dùng cùng --engine, --lake")
    store, compute = engine_stores(ctx, engine, lake, spark_master)
    unit = check_unit(compute, unit)
    if history:
        if unit is None:
            raise click.UsageError("--history cần --unit (mã hoặc tên đơn vị)")
        _history(api.unit_history(store, unit), period, fmt, out)
        return
    try:
        rs, results, previous = api.score_with_previous(store, period, as_of=parse_moment(as_of), rules=rules_name,
                                                        compute=None if compute is store else compute,
                                                        keep_facts=False)
    except (PeriodError, RuleSetError) as exc:
        raise click.ClickException(str(exc)) from None
    results = api.filter_results(compute, results, level=level, unit=unit)
    _warn_not_in_force(rs, period, rules_name)
    title = f"Bộ chỉ số kỳ {period} ({rs.name})"
    if fmt == "xlsx":
        from chiso.tabular import write_workbook

        try:
            write_workbook(render.sheets(results, rs, previous), Path(out) if out else None, title=title)
        except TableError as exc:
            raise click.UsageError(str(exc)) from None
        return
    text = render.render(results, rs, fmt, title, previous)
    if out and fmt == "csv":
        write_text(Path(out), text, bom=True)
    else:
        _emit(text, out)


def _warn_not_in_force(rs: Any, period: str, rules_name: str | None) -> None:
    """On standard error: the period was scored by a rule set not yet in force then (none was chosen)."""
    from chiso.rules.model import not_in_force_note
    from chiso.scoring.period import parse_period

    note = None if rules_name else not_in_force_note(rs, parse_period(period).start, period)
    if note:
        click.echo(note, err=True)


def _history(data: dict[str, Any], period: str, fmt: str, out: str | None) -> None:
    """``score --history``: one row per period and unit, the unit's predecessors marked."""
    from chiso.scoring.period import parse_period

    cols = [Col("period", "Kỳ"), Col("unit_code", "Mã đơn vị"), Col("unit_name", "Đơn vị"),
            Col("role", "Quan hệ"), Col("official_total", "Điểm chính thức", "number"),
            Col("official_rank", "Xếp hạng chính thức", "int"), Col("published_total", "Điểm đã công bố", "number"),
            Col("published_rank", "Xếp hạng đã công bố", "int")]
    end = parse_period(period).end
    rows = [p | {"role": "đơn vị trước sắp xếp" if p["predecessor"] else "chính đơn vị"}
            for p in data["points"] if parse_period(p["period"]).start < end]
    before = ", ".join(f"{p['name']} ({p['code']})" for p in data["predecessors"])
    title = (f"Diễn biến của {data['unit']['name']} ({data['unit']['code']})"
             + (f"; trước 1/7/2025: {before}" if before else ""))
    if fmt == "json":
        _emit(json.dumps({**data, "points": rows}, ensure_ascii=False, indent=1, default=str) + "\n", out)
        return
    if not rows and fmt == "table":
        click.echo(title + "\nChưa có kết quả chính thức hay kết quả đã công bố nào (chiso import-official, "
                   "chiso publish).")
        return
    try:
        emit(rows, cols, fmt, Path(out) if out else None, title=title, sheet="Diễn biến")
    except TableError as exc:
        raise click.UsageError(str(exc)) from None


@main.command()
@click.option("--unit", required=True, help="Mã đơn vị.")
@click.option("--period", type=PERIOD, required=True,
              help="Kỳ: 2025-07 hoặc 07/2025, 2025-Q3 hoặc quý III/2025, 2025, 2025-07-01..2025-09-30.")
@click.option("--as-of", "as_of", default=None, help="Thời điểm tính (mặc định: bây giờ).")
@click.option("--rules", "rules_name", default=None, help="Bộ quy tắc (mặc định: theo ngày hiệu lực của kỳ).")
@click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="table", show_default=True)
@click.option("--limit", default=20, show_default=True, help="Số mã hồ sơ in ra cho mỗi chỉ số (bảng).")
@click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
@engine_options
@click.pass_context
def explain(ctx: click.Context, unit: str, period: str, as_of: str | None, rules_name: str | None, fmt: str,
            limit: int, out: str | None, engine: str | None = None, lake: str | None = None,
            spark_master: str | None = None) -> None:
    """Giải thích điểm bị trừ của một đơn vị: hồ sơ nào, vì sao, làm gì để tăng điểm."""
    from chiso.rules.model import RuleSetError
    from chiso.scoring.period import PeriodError
    from chiso.scoring.render import vn_number

    _check_out(ctx, out)
    _, compute = engine_stores(ctx, engine, lake, spark_master)
    unit = resolve_unit(compute, unit)
    try:
        data = api.explain(compute, unit, period, as_of=parse_moment(as_of), rules=rules_name)
    except (PeriodError, RuleSetError, KeyError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
    if fmt == "json":
        _emit(json.dumps(data, ensure_ascii=False, indent=1) + "\n", out)
        return
    if fmt in ("csv", "xlsx"):
        kinds = {"dossiers": "hồ sơ", "procedures": "TTHC", "feedback": "PAKN"}
        items = [{"indicator": s["code"], "lost": s["lost"], "numerator": s["numerator"],
                  "denominator": s["denominator"], "kind": kinds.get(s["over"], s["over"] or ""),
                  "item": item, "reason": s["reason"]} for s in data["shortfalls"] for item in (s["items"] or [""])]
        cols = [Col("indicator", "Chỉ số"), Col("lost", "Điểm bị trừ", "number"),
                Col("numerator", "Tử số", "number", 0), Col("denominator", "Mẫu số", "number", 0),
                Col("kind", "Loại"), Col("item", "Mã hồ sơ/TTHC/PAKN"), Col("reason", "Lý do")]
        title = f"Giải thích điểm — {data['name'] or data['code']}, kỳ {data['period']}"
        if fmt == "csv":
            _table_out(cols, items, fmt, out, title=title, sheet="Giải thích")
            return
        from chiso.tabular import write_workbook

        actions = [{"n": n, "text": a["text"], "gain": a["gain"]} for n, a in enumerate(data["actions"], start=1)]
        action_cols = [Col("n", "STT", "int"), Col("text", "Việc cần làm"), Col("gain", "Điểm tăng", "number")]
        try:
            write_workbook([("Giải thích", cols, items), ("Việc tăng điểm", action_cols, actions)],
                           Path(out) if out else None, title=title)
        except TableError as exc:
            raise click.UsageError(str(exc)) from None
        return
    lines: list[str] = []
    echo = lines.append
    echo(f"Giải thích điểm — {data['name'] or data['code']}, kỳ {data['period']} ({data['rule_set']}): "
         f"{vn_number(data['total'])} điểm, bị trừ {vn_number(data['lost'])} điểm")
    kinds = {"dossiers": "hồ sơ", "procedures": "TTHC", "feedback": "PAKN"}
    for s in data["shortfalls"]:
        ratio = ""
        if s["denominator"]:
            ratio = f" ({vn_number(s['numerator'], 0)}/{vn_number(s['denominator'], 0)})"
        echo(f"- {s['code']}{ratio}: mất {vn_number(s['lost'])} điểm")
        if s["item_count"]:
            shown = ", ".join(s["items"][:limit]) + (" …" if s["item_count"] > limit else "")
            echo(f"    {vn_int(s['item_count'])} {kinds[s['over']]} {s['reason']}: {shown}")
        elif not s["over"]:
            echo(f"    {s['reason']}")
    if data["actions"]:
        echo("Ba việc tăng điểm nhiều nhất với ít hồ sơ nhất:")
        for n, a in enumerate(data["actions"], start=1):
            echo(f"  {n}. {a['text']}: +{vn_number(a['gain'])} điểm")
    _emit("\n".join(lines) + "\n", out)


@main.command()
@click.option("--period", type=PERIOD, required=True,
              help="Kỳ: 2025-07 hoặc 07/2025, 2025-Q3 hoặc quý III/2025, 2025, 2025-07-01..2025-09-30.")
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
@click.option("--province", "province_names", multiple=True,
              help="Tỉnh cần sinh; với --national có thể nhắc lại để chọn một số tỉnh.")
@click.option("--national", is_flag=True,
              help="Cả nước (34 tỉnh, thành phố), ghi thẳng thành kho Parquet như chiso export --format parquet.")
@click.option("--from", "start", required=True, help="Tháng đầu, ví dụ 2025-07.")
@click.option("--to", "end", required=True, help="Tháng cuối, ví dụ 2025-09.")
@click.option("--scale", type=float, default=1.0, show_default=True, help="Hệ số quy mô (1 = thực tế).")
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--format", "fmt", type=click.Choice(["parquet", "csv"]), default="parquet", show_default=True,
              help="Định dạng tệp hồ sơ (các bảng nhỏ luôn là CSV).")
def generate(province_names: tuple[str, ...], national: bool, start: str, end: str, scale: float, seed: int,
             out: str, fmt: str) -> None:
    """Sinh dữ liệu mẫu thực tế của một tỉnh theo hợp đồng dữ liệu, hoặc của cả nước thành kho Parquet."""
    from chiso.generate.province import GeneratorError, generate_province

    ctx = click.get_current_context()
    _check_out(ctx, out, directory=True)
    if not national and len(province_names) != 1:
        raise click.UsageError("cần đúng một --province (hoặc --national cho cả nước)")
    if national and fmt != "parquet":
        raise click.BadParameter("dữ liệu cả nước là kho Parquet", param_hint="--format")
    try:
        if national:
            from chiso.engines.lake import LakeError
            from chiso.generate.national import generate_national

            try:
                with progress_bar("phần") as (_, progress):
                    written = generate_national(
                        Path(out), start, end, scale=scale, seed=seed, only=province_names,
                        progress=lambda done, total: progress("Sinh hồ sơ", done, total))
            except LakeError as exc:
                raise click.ClickException(str(exc)) from None
            summary = written.rows
        else:
            # Written in a staging folder and moved into place: a file (or a link) already in --out is replaced,
            # never written through.
            with staged_dir(Path(out)) as stage, progress_bar("phần") as (_, progress):
                summary = generate_province(province_names[0], start, end, stage, scale=scale, seed=seed, fmt=fmt,
                                            progress=lambda done, total: progress("Sinh hồ sơ", done, total))
    except (GeneratorError, catalog.UnitCatalogError) as exc:
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


@db.command("check")
@click.pass_context
def db_check(ctx: click.Context) -> None:
    """Kiểm tra khóa của các bảng nạp: mỗi hồ sơ, thời gian tạm dừng, phản ánh, phiếu đánh giá và mỗi phiên bản
    trong lịch sử chỉ có một dòng (kho DuckDB không giữ chỉ mục khóa cho các bảng lớn; chỉ chiso ghi vào đó)."""
    with open_store(ctx, read_only=True) as store:
        found = api.check_keys(store)
    if not found:
        click.echo("Khóa của các bảng nạp: không có dòng trùng.")
        return
    for dup in found:
        key = ", ".join(f"{c} = {v}" for c, v in zip(dup.key, dup.values, strict=True))
        click.echo(f"Bảng {dup.table}: {vn_int(dup.keys)} khóa có nhiều dòng ({vn_int(dup.extra_rows)} dòng thừa), "
                   f"ví dụ {key}.", err=True)
    raise CommandFailure("kho có dòng trùng khóa: các bảng này đã bị ghi ngoài chiso. Khôi phục bản sao lưu gần "
                         "nhất còn đúng (chiso restore --check rồi chiso restore), rồi nạp lại các tệp sau đó.", 1)


def _register() -> None:
    from chiso.cli_admin import register as register_admin
    from chiso.cli_report import report

    main.add_command(report)
    register_admin(main)
    from chiso.cli_web import register as register_web; register_web(main)  # noqa: E702, I001
    from chiso.cli_alerts import alerts; main.add_command(alerts)  # noqa: E702, I001
    from chiso.cli_dossier import register as register_dossier; register_dossier(main)  # noqa: E702, I001
    from chiso.cli_compare import register as register_compare; register_compare(main)  # noqa: E702, I001
    from chiso.cli_official import register as register_official; register_official(main)  # noqa: E702, I001
    from chiso.cli_reconcile import register as register_reconcile; register_reconcile(main)  # noqa: E702, I001
    from chiso.cli_scale import register as register_scale; register_scale(main)  # noqa: E702, I001
    from chiso.cli_i18n import name_the_parts; name_the_parts(main)  # noqa: E702, I001


_register()

if __name__ == "__main__":
    main()
