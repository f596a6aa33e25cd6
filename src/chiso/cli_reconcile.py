"""``chiso reconcile``: two dossier exports that should agree — the province's own system and another source such as
the national portal — compared for a period: per unit how many dossiers differ and how, the dossiers themselves,
and what the differences do to each indicator (đối chiếu hai nguồn dữ liệu hồ sơ). The store is only read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from chiso import api
from chiso.cli_params import PERIOD
from chiso.reconcile import KIND_LABELS, KINDS, SIDE_LABELS, SIDE_OPTIONS, ExportError
from chiso.tabular import FORMATS, TABLE_MAX_ROWS, Col, TableError, emit, table_text, write_workbook

SUMMARY_COLUMNS = [
    Col("unit_code", "Mã đơn vị"), Col("unit_name", "Tên đơn vị"),
    Col("ours", "Hồ sơ nguồn của tỉnh", "int"), Col("theirs", "Hồ sơ nguồn đối chiếu", "int"),
    Col("matched", "Có ở cả hai nguồn", "int"),
    *(Col(k, KIND_LABELS[k], "int") for k in KINDS),
    Col("differences", "Tổng số chênh lệch", "int"), Col("dossiers_differing", "Số hồ sơ có chênh lệch", "int"),
    Col("total_ours", "Tổng điểm theo nguồn của tỉnh", "number"),
    Col("total_theirs", "Tổng điểm theo nguồn đối chiếu", "number")]
DIFFERENCE_COLUMNS = [
    Col("dossier_id", "Mã hồ sơ"), Col("kind_label", "Loại chênh lệch"), Col("unit_code", "Mã đơn vị"),
    Col("unit_name", "Tên đơn vị"), Col("procedure_code", "Mã thủ tục"), Col("field_labels", "Trường khác nhau"),
    Col("ours", SIDE_LABELS["ours"]), Col("theirs", SIDE_LABELS["theirs"])]
# CSV is for scripts too: the kinds' and fields' codes beside the Vietnamese words.
DIFFERENCE_CSV_COLUMNS = [
    Col("dossier_id", "Mã hồ sơ"), Col("kind", "Mã loại chênh lệch"), Col("kind_label", "Loại chênh lệch"),
    Col("unit_code", "Mã đơn vị"), Col("unit_name", "Tên đơn vị"), Col("procedure_code", "Mã thủ tục"),
    Col("fields", "Mã trường khác nhau"), Col("field_labels", "Trường khác nhau"),
    Col("ours", SIDE_LABELS["ours"]), Col("theirs", SIDE_LABELS["theirs"])]
INDICATOR_COLUMNS = [
    Col("unit_code", "Mã đơn vị"), Col("unit_name", "Tên đơn vị"), Col("code", "Mã chỉ số"),
    Col("name", "Tên chỉ số"), Col("max", "Tối đa", "number"),
    Col("numerator_ours", "Tử số (nguồn của tỉnh)", "number", 0),
    Col("denominator_ours", "Mẫu số (nguồn của tỉnh)", "number", 0),
    Col("score_ours", "Điểm (nguồn của tỉnh)", "number"),
    Col("numerator_theirs", "Tử số (nguồn đối chiếu)", "number", 0),
    Col("denominator_theirs", "Mẫu số (nguồn đối chiếu)", "number", 0),
    Col("score_theirs", "Điểm (nguồn đối chiếu)", "number"),
    Col("difference", "Chênh lệch điểm (đối chiếu − tỉnh)", "number")]
# On the terminal: the codes only, so that the figures fit the width.
INDICATOR_TERMINAL_COLUMNS = [
    Col("unit_code", "Mã đơn vị"), Col("code", "Mã chỉ số"),
    Col("numerator_ours", "Tử số (tỉnh)", "number", 0), Col("denominator_ours", "Mẫu số (tỉnh)", "number", 0),
    Col("score_ours", "Điểm (tỉnh)", "number"), Col("numerator_theirs", "Tử số (đối chiếu)", "number", 0),
    Col("denominator_theirs", "Mẫu số (đối chiếu)", "number", 0), Col("score_theirs", "Điểm (đối chiếu)", "number"),
    Col("difference", "Chênh lệch điểm", "number")]
SHEETS = ("Tổng hợp", "Chênh lệch hồ sơ", "Ảnh hưởng chỉ số")


def register(main: click.Group) -> None:
    from chiso.cli import _check_out, _emit, open_store, parse_moment, resolve_unit

    @main.command()
    @click.option("--ours", "ours", type=click.Path(dir_okay=False), required=True, metavar="TỆP",
                  help="Danh sách hồ sơ xuất từ hệ thống của tỉnh (CSV, XLSX, XLS, ODS …, theo hợp đồng dữ liệu).")
    @click.option("--theirs", "theirs", type=click.Path(dir_okay=False), required=True, metavar="TỆP",
                  help="Danh sách hồ sơ xuất từ nguồn đối chiếu, ví dụ Cổng Dịch vụ công quốc gia.")
    @click.option("--period", type=PERIOD, required=True, help="Kỳ đối chiếu: 2025-09, 09/2025, quý III/2025 …")
    @click.option("--unit", default=None, help="Mã hoặc tên đơn vị (gồm cả các đơn vị trực thuộc; mặc định: "
                                               "cả tỉnh).")
    @click.option("--as-of", "as_of", default=None, help="Thời điểm tính tình trạng và điểm (mặc định: bây giờ).")
    @click.option("--format", "fmt", type=click.Choice(list(FORMATS)), default="table", show_default=True)
    @click.option("--out", type=click.Path(dir_okay=False), default=None, help="Ghi ra tệp thay vì màn hình.")
    @click.option("--mapping-ours", "mapping_ours", type=click.Path(exists=True, dir_okay=False), default=None,
                  metavar="TỆP", help="Tệp TOML ánh xạ tiêu đề cột của tệp --ours, như chiso load --mapping.")
    @click.option("--mapping-theirs", "mapping_theirs", type=click.Path(exists=True, dir_okay=False), default=None,
                  metavar="TỆP", help="Tệp TOML ánh xạ tiêu đề cột của tệp --theirs.")
    @click.pass_context
    def reconcile(ctx: click.Context, ours: str, theirs: str, period: str, unit: str | None, as_of: str | None,
                  fmt: str, out: str | None, mapping_ours: str | None, mapping_theirs: str | None) -> None:
        """Đối chiếu hai nguồn dữ liệu hồ sơ (hệ thống của tỉnh và Cổng DVCQG …) trong một kỳ: hồ sơ thiếu ở
        nguồn nào, khác đơn vị, tình trạng, ngày hay thông tin nào, và ảnh hưởng đến từng chỉ số. Không thay
        đổi kho dữ liệu."""
        from chiso.config import ConfigError, read_mapping_file
        from chiso.rules.model import RuleSetError

        _check_out(ctx, out)
        try:
            maps = [read_mapping_file(Path(m)) if m else None for m in (mapping_ours, mapping_theirs)]
        except ConfigError as exc:
            raise click.ClickException(str(exc)) from None
        store = open_store(ctx, read_only=True)
        code = resolve_unit(store, unit) if unit else None
        try:
            data = api.reconcile(store, Path(ours), Path(theirs), period, as_of=parse_moment(as_of), unit=code,
                                 mapping_ours=maps[0], mapping_theirs=maps[1])
        except ExportError as exc:
            raise click.ClickException(_export_message(exc)) from None
        except (RuleSetError, ConfigError) as exc:
            raise click.ClickException(str(exc)) from None
        if fmt == "json":
            _emit(json.dumps(data, ensure_ascii=False, indent=1) + "\n", out)
            return
        summary = [*data["units"], {"unit_code": "", "unit_name": "Tổng cộng", **data["totals"]}]
        differences = [d | {"fields": ",".join(d["fields"])} for d in data["differences"]]
        target = Path(out) if out else None
        try:
            if fmt == "xlsx":
                write_workbook([(SHEETS[0], SUMMARY_COLUMNS, summary),
                                (SHEETS[1], DIFFERENCE_COLUMNS, differences),
                                (SHEETS[2], INDICATOR_COLUMNS, data["indicators"])], target, title=_title(data))
            elif fmt == "csv":
                emit(differences, DIFFERENCE_CSV_COLUMNS, "csv", target)
            else:
                _emit(_text(data, summary, differences), out)
        except TableError as exc:
            raise click.UsageError(str(exc)) from None


def _title(data: dict[str, Any]) -> str:
    where = f"{data['unit_name']} ({data['unit']})" if data["unit"] else "cả tỉnh"
    files = data["files"]
    return (f"Đối chiếu hồ sơ kỳ {data['period']}, {where}, tính tại {_moment(data['as_of'])}: "
            f"{SIDE_LABELS['ours'].lower()} {files['ours']['file']} với {SIDE_LABELS['theirs'].lower()} "
            f"{files['theirs']['file']}")


def _moment(text: str) -> str:
    from datetime import datetime

    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").strftime("%d/%m/%Y %H:%M")


def _text(data: dict[str, Any], summary: list[dict[str, Any]], differences: list[dict[str, Any]]) -> str:
    """The terminal report: the summary per unit, the dossiers that differ, the indicators whose figures differ."""
    from chiso import vnformat

    text = "".join(f"{SIDE_LABELS[side]}: {data['files'][side]['file']} có cột không thuộc hợp đồng dữ liệu, "
                   f"bỏ qua: {', '.join(data['files'][side]['ignored_columns'])}\n"
                   for side in ("ours", "theirs") if data["files"][side]["ignored_columns"])
    text += table_text(summary, SUMMARY_COLUMNS, _title(data))
    if not differences:
        return text + "Hai nguồn khớp nhau: không có hồ sơ nào chênh lệch trong kỳ.\n"
    shown = differences[:TABLE_MAX_ROWS]
    title = "Chênh lệch từng hồ sơ"
    if len(shown) < len(differences):
        title += (f" ({vnformat.integer(len(shown))} / {vnformat.integer(len(differences))} dòng đầu; "
                  "cả bảng: --format csv|xlsx --out TỆP)")
    text += table_text(shown, DIFFERENCE_COLUMNS, title)
    changed = [i for i in data["indicators"] if i["changed"]]
    if changed:
        text += table_text(changed, INDICATOR_TERMINAL_COLUMNS, "Chỉ số có số liệu khác nhau giữa hai nguồn")
    else:
        text += "Các chênh lệch không làm thay đổi số liệu của chỉ số nào.\n"
    return text


def _export_message(exc: ExportError, shown: int = 20) -> str:
    """Every problem of the export that did not load, located (file, row, column), and what to do."""
    issues = exc.report.issues
    lines = [f"{SIDE_LABELS[exc.side]} ({SIDE_OPTIONS[exc.side]}) không đọc được hoặc có dòng sai hợp đồng dữ liệu "
             f"({len(issues)} lỗi); chưa đối chiếu gì:"]
    lines += [f"  {issue}" for issue in issues[:shown]]
    if len(issues) > shown:
        lines.append(f"  … và {len(issues) - shown} lỗi khác")
    lines.append("Sửa tệp (hoặc ánh xạ tiêu đề cột bằng --mapping-ours/--mapping-theirs) rồi chạy lại.")
    return "\n".join(lines)
