"""``chiso compare``: two periods side by side — per indicator the change and the dossiers behind it, and the units
that moved most (so sánh hai kỳ)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from chiso import api
from chiso.cli_params import PERIOD
from chiso.tabular import FORMATS, Col, TableError, emit, table_text, write_workbook

INDICATOR_COLUMNS = [
    Col("code", "Mã chỉ số"), Col("name", "Tên chỉ số"), Col("max", "Tối đa", "number"),
    Col("score_then", "Điểm kỳ trước", "number"), Col("score_now", "Điểm kỳ này", "number"),
    Col("change", "Thay đổi", "number"), Col("numerator_now", "Tử số", "number", 0),
    Col("denominator_now", "Mẫu số", "number", 0), Col("lost_now", "Điểm bị trừ", "number"),
    Col("item_count_now", "Số hồ sơ/TTHC/PAKN chưa đạt", "int"), Col("items", "Mã hồ sơ (đầu danh sách)")]
MOVER_COLUMNS = [Col("direction", "Chiều"), Col("code", "Mã đơn vị"), Col("name", "Tên đơn vị"),
                 Col("total_then", "Kỳ trước", "number"), Col("total_now", "Kỳ này", "number"),
                 Col("change", "Thay đổi", "number")]


def register(main: click.Group) -> None:
    from chiso.cli import _check_out, _emit, open_store, parse_moment, resolve_unit

    @main.command()
    @click.option("--period", type=PERIOD, required=True, help="Kỳ này: 2025-09, 09/2025, quý III/2025 …")
    @click.option("--with", "with_period", type=PERIOD, required=True, help="Kỳ so sánh, ví dụ 2025-08.")
    @click.option("--unit", default=None, help="Mã hoặc tên đơn vị (mặc định: cả tỉnh).")
    @click.option("--as-of", "as_of", default=None, help="Thời điểm tính (mặc định: bây giờ).")
    @click.option("--rules", "rules_name", default=None, help="Bộ quy tắc (mặc định: theo ngày hiệu lực của kỳ).")
    @click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="table", show_default=True)
    @click.option("--limit", type=click.IntRange(0, 1000), default=10, show_default=True,
                  help="Số mã hồ sơ in ra cho mỗi chỉ số.")
    @click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
    @click.pass_context
    def compare(ctx: click.Context, period: str, with_period: str, unit: str | None, as_of: str | None,
                rules_name: str | None, fmt: str, limit: int, out: str | None) -> None:
        """So sánh hai kỳ: mỗi chỉ số tăng, giảm bao nhiêu và vì những hồ sơ nào; các đơn vị tăng, giảm nhiều
        nhất."""
        from chiso.rules.model import RuleSetError
        from chiso.scoring.period import PeriodError

        _check_out(ctx, out)
        store = open_store(ctx, read_only=True)
        code = resolve_unit(store, unit) if unit else None
        try:
            data = api.compare(store, period, with_period, as_of=parse_moment(as_of), unit=code, rules=rules_name)
        except (PeriodError, RuleSetError) as exc:
            raise click.ClickException(str(exc)) from None
        except KeyError as exc:
            raise click.ClickException(str(exc.args[0])) from None
        if fmt == "json":
            _emit(json.dumps(data, ensure_ascii=False, indent=1) + "\n", out)
            return
        rows = [i | {"items": ", ".join(i["items_now"][:limit]) + (" …" if i["item_count_now"] > limit else "")}
                for i in data["indicators"]]
        movers = ([m | {"direction": "tăng"} for m in data["rose"]]
                  + [m | {"direction": "giảm"} for m in data["fell"]])
        title = (f"{data['name']}: kỳ {data['period']} so với kỳ {data['with']} — "
                 f"{_vn(data['total_now'])} điểm, kỳ trước {_vn(data['total_then'])}, "
                 f"thay đổi {_signed(data['change'])}")
        target = Path(out) if out else None
        try:
            if fmt == "xlsx":
                write_workbook([("Chỉ số", INDICATOR_COLUMNS, rows), ("Đơn vị thay đổi nhiều", MOVER_COLUMNS,
                                                                       movers)], target, title=title)
            elif fmt == "csv":
                emit(rows, INDICATOR_COLUMNS, "csv", target)
            else:
                text = table_text(rows, INDICATOR_COLUMNS, title)
                if movers:
                    text += table_text(movers, MOVER_COLUMNS, "Đơn vị tăng, giảm nhiều nhất")
                _emit(text, out)
        except TableError as exc:
            raise click.UsageError(str(exc)) from None


def _vn(value: float | None) -> str:
    from chiso import vnformat

    return "—" if value is None else vnformat.number(value)


def _signed(value: float | None) -> str:
    if value is None:
        return "—"
    return ("+" if value > 0 else "") + _vn(value)
