"""``chiso reconcile`` (đối chiếu hai nguồn dữ liệu hồ sơ): two hand-made exports of the same month in which every
kind of difference appears exactly once, compared through the API and the command line.

The expected figures come from the rows below and the rules of docs/domain.md (§3: on time ⇔ end ≤ due; §4:
PROGRESS_ON_TIME = (early or on time + in progress within time) / dossiers handled, linear, 20 points), never from
the command's own output."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from chiso import api
from chiso.cli import ChisoGroup, main
from chiso.cli_reconcile import register
from chiso.reconcile import KINDS, ExportError
from chiso.store.db import Store
from conftest import UNIT, Workspace, write_csv

OTHER = "14.SYT"  # Sở Y tế tỉnh Sơn La, from the shipped departments list
PROVINCE = "14"
AS_OF = "2025-09-30 17:00"
PROC = {"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": "5", "time_unit": "working_days",
        "fee_bearing": "true", "full_online_eligible": "true"}
# Received Monday 08/09/2025, due Monday 15/09/2025 17:00 on both sides, online, fee paid online.
BASE = {"unit_code": UNIT, "procedure_code": "P5", "channel": "online", "received_at": "2025-09-08 09:00",
        "due_at": "2025-09-15 17:00", "finished_at": "2025-09-12 10:00", "fee_amount": "50000",
        "paid_online": "true"}
OURS = [
    BASE | {"dossier_id": "H01"},  # only ours: missing_theirs
    BASE | {"dossier_id": "H03"},  # unit_differs (theirs: Sở Y tế)
    BASE | {"dossier_id": "H04"},  # finished 12/09, early; theirs 17/09, late: status_differs + dates_differ
    BASE | {"dossier_id": "H05"},  # theirs direct, not paid online: fields_differ
    BASE | {"dossier_id": "H06", "received_at": "2025-09-26 09:00", "due_at": "2025-10-03 17:00",
            "finished_at": ""},  # the same on both sides, in progress within time
    BASE | {"dossier_id": "H07", "received_at": "2025-07-01 09:00", "due_at": "2025-07-08 17:00",
            "finished_at": "2025-07-03 10:00"},  # ended in July: does not count for September, so never reported
]
THEIRS = [
    BASE | {"dossier_id": "H02"},  # only theirs: missing_ours
    BASE | {"dossier_id": "H03", "unit_code": OTHER},
    BASE | {"dossier_id": "H04", "finished_at": "2025-09-17 10:00"},
    BASE | {"dossier_id": "H05", "channel": "direct", "paid_online": "false"},
    OURS[4],
]
EXPECTED = {"missing_theirs": ("H01", []), "missing_ours": ("H02", []), "unit_differs": ("H03", ["unit_code"]),
            "status_differs": ("H04", ["timeliness"]), "dates_differ": ("H04", ["finished_at"]),
            "fields_differ": ("H05", ["channel", "paid_online"])}
# The headers a one-stop system exports (Vietnamese, aliases of the contract).
VN_HEADERS = {"dossier_id": "Mã hồ sơ", "unit_code": "Đơn vị", "procedure_code": "Mã TTHC",
              "channel": "Kênh thực hiện", "received_at": "Ngày tiếp nhận", "due_at": "Ngày hẹn trả",
              "finished_at": "Ngày kết thúc xử lý", "fee_amount": "Lệ phí", "paid_online": "Thanh toán trực tuyến"}


def write_vn_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """An export as one-stop systems write it: a title row and a blank row above Vietnamese headers."""
    keys = list(VN_HEADERS)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["DANH SÁCH HỒ SƠ THÁNG 9/2025"])
        w.writerow([])
        w.writerow([VN_HEADERS[k] for k in keys])
        for r in rows:
            w.writerow([r.get(k, "") for k in keys])
    return path


def write_xlsx(path: Path, rows: list[dict[str, Any]]) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    keys = list(VN_HEADERS)
    ws.append(keys)  # the contract's own names
    for r in rows:
        ws.append([r.get(k) or None for k in keys])
    wb.save(path)
    return path


@pytest.fixture(scope="module")
def cli() -> click.Group:
    """``chiso`` with the reconcile command: ``main`` itself once cli.py registers it, until then a copy of it (so
    other tests' view of ``main`` never changes)."""
    if "reconcile" in main.commands:
        return main
    group = ChisoGroup(name=main.name, params=main.params, callback=main.callback, commands=dict(main.commands),
                       context_settings=main.context_settings)
    register(group)
    return group


@pytest.fixture(scope="module")
def site(units_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with the Sơn La units, procedure P5 and two exports beside it; closed (each test opens it)."""
    root = tmp_path_factory.mktemp("reconcile")
    shutil.copytree(units_template, root / "ws")
    with Store.open(root / "ws") as store:
        api.load(store, [write_csv(root / "procedures.csv", [PROC])], table="procedures")
    write_vn_csv(root / "ours.csv", OURS)
    write_xlsx(root / "theirs.xlsx", THEIRS)
    return root


@pytest.fixture(scope="module")
def result(site: Path) -> dict[str, Any]:
    with Store.open(site / "ws") as store:
        return api.reconcile(store, site / "ours.csv", site / "theirs.xlsx", "2025-09",
                             as_of=datetime.fromisoformat(AS_OF))


def run(cli: click.Group, site: Path, *args: str, code: int = 0) -> Result:
    r = CliRunner().invoke(cli, ["--workspace", str(site / "ws"), "reconcile", *args])
    assert r.exit_code == code, (r.exit_code, r.output)
    return r


def indicator(data: dict[str, Any], unit: str, code: str) -> dict[str, Any]:
    found = [i for i in data["indicators"] if i["unit_code"] == unit and i["code"] == code]
    assert len(found) == 1, (unit, code)
    return found[0]


# --- the differences ---------------------------------------------------------------------------------------------


def test_every_kind_is_reported_once_with_its_dossier_and_fields(result: dict[str, Any]) -> None:
    found = [(d["kind"], d["dossier_id"], d["fields"]) for d in result["differences"]]
    assert sorted(found) == sorted((k, dossier, fields) for k, (dossier, fields) in EXPECTED.items())
    assert len(found) == len(KINDS)


def test_the_values_of_each_side_are_shown(result: dict[str, Any]) -> None:
    by_kind = {d["kind"]: d for d in result["differences"]}
    assert by_kind["missing_theirs"]["theirs"] == "không có" and by_kind["missing_ours"]["ours"] == "không có"
    assert by_kind["unit_differs"]["ours"] == f"{UNIT} Sở Tư pháp"
    assert by_kind["unit_differs"]["theirs"] == f"{OTHER} Sở Y tế"
    # H04: ended 12/09 before its due day 15/09 (early) against 17/09, after the due moment (late).
    assert by_kind["status_differs"]["ours_values"] == {"timeliness": "early"}
    assert by_kind["status_differs"]["theirs_values"] == {"timeliness": "late"}
    assert (by_kind["status_differs"]["ours"], by_kind["status_differs"]["theirs"]) == ("Trước hạn", "Quá hạn")
    assert by_kind["dates_differ"]["theirs_values"] == {"finished_at": "2025-09-17 10:00:00"}
    assert "17/09/2025 10:00" in by_kind["dates_differ"]["theirs"]
    assert by_kind["fields_differ"]["ours_values"] == {"channel": "online", "paid_online": True}
    assert by_kind["fields_differ"]["theirs_values"] == {"channel": "direct", "paid_online": False}


def test_a_dossier_outside_the_period_is_not_compared(result: dict[str, Any]) -> None:
    assert "H07" not in {d["dossier_id"] for d in result["differences"]}
    assert result["files"]["ours"]["rows"] == len(OURS) and result["files"]["ours"]["counted"] == len(OURS) - 1


def test_counts_per_unit_and_in_total(result: dict[str, Any]) -> None:
    units = {u["unit_code"]: u for u in result["units"]}
    assert set(units) == {UNIT, OTHER}
    stp, syt = units[UNIT], units[OTHER]
    # Ours in Sở Tư pháp: H01, H03, H04, H05, H06; theirs: H02, H04, H05, H06 (H03 is Sở Y tế's there).
    assert (stp["ours"], stp["theirs"], stp["matched"]) == (5, 4, 4)
    assert (syt["ours"], syt["theirs"], syt["matched"]) == (0, 1, 0)
    # Every difference belongs to the dossier's unit on our side (H02, only theirs: its unit there).
    assert all(stp[k] == 1 for k in KINDS) and all(syt[k] == 0 for k in KINDS)
    assert stp["differences"] == 6 and stp["dossiers_differing"] == 5
    totals = result["totals"]
    assert (totals["ours"], totals["theirs"], totals["matched"]) == (5, 5, 4)
    assert all(totals[k] == 1 for k in KINDS) and totals["differences"] == 6


# --- the effect on the index -----------------------------------------------------------------------------------------


def test_progress_on_time_of_each_side_follows_the_rule(result: dict[str, Any]) -> None:
    # Sở Tư pháp, ours: 5 handled, none late -> 5/5 = 20. Theirs: H02, H04, H05, H06 handled, H04 late -> 3/4 = 15.
    stp = indicator(result, UNIT, "PROGRESS_ON_TIME")
    assert (stp["numerator_ours"], stp["denominator_ours"], stp["score_ours"]) == (5, 5, 20)
    assert (stp["numerator_theirs"], stp["denominator_theirs"], stp["score_theirs"]) == (3, 4, 15)
    assert stp["difference"] == -5
    # Sở Y tế has H03 only in theirs: 0/0 scores 0 (a zero denominator scores 0), 1/1 scores 20.
    syt = indicator(result, OTHER, "PROGRESS_ON_TIME")
    assert (syt["denominator_ours"], syt["score_ours"], syt["numerator_theirs"], syt["score_theirs"]) == (0, 0, 1, 20)
    assert syt["difference"] == 20
    # The province counts every dossier below it: ours 5/5; theirs 4/5 -> 20 × 0.8 = 16.
    province = indicator(result, PROVINCE, "PROGRESS_ON_TIME")
    assert (province["numerator_theirs"], province["denominator_theirs"], province["score_theirs"]) == (4, 5, 16)
    assert (province["numerator_ours"], province["denominator_ours"]) == (5, 5)


def test_channel_and_payment_differences_move_their_indicators(result: dict[str, Any]) -> None:
    # H05 direct and not paid online on their side: online 3 of 4 eligible, paid online 3 of 4 with a fee.
    online = indicator(result, UNIT, "ONLINE_FULL_PROCESS")
    assert (online["numerator_ours"], online["denominator_ours"]) == (5, 5)
    assert (online["numerator_theirs"], online["denominator_theirs"]) == (3, 4)
    paid = indicator(result, UNIT, "PAYMENT_ONLINE_DOSSIER")
    assert (paid["numerator_ours"], paid["denominator_ours"], paid["numerator_theirs"], paid["denominator_theirs"]) \
        == (5, 5, 3, 4)
    assert paid["score_ours"] == 6 and paid["score_theirs"] == 4.5  # linear, 6 points


def test_the_unit_option_keeps_the_unit_and_its_dossiers(site: Path) -> None:
    with Store.open(site / "ws") as store:
        data = api.reconcile(store, site / "ours.csv", site / "theirs.xlsx", "2025-09",
                             as_of=datetime.fromisoformat(AS_OF), unit=OTHER)
    # Only H03 has Sở Y tế on one side.
    assert [(d["kind"], d["dossier_id"]) for d in data["differences"]] == [("unit_differs", "H03")]
    assert {i["unit_code"] for i in data["indicators"]} == {OTHER}


# --- the store is only read -------------------------------------------------------------------------------------------


def _fingerprint(store: Store) -> dict[str, tuple[int, str]]:
    tables = [str(r[0]) for r in store.con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
    ).fetchall()]
    out = {}
    for t in tables:
        [(count, digest)] = store.con.execute(
            f"SELECT count(*), md5(COALESCE(string_agg(CAST(x AS VARCHAR), '|' ORDER BY CAST(x AS VARCHAR)), '')) "
            f"FROM \"{t}\" x").fetchall()
        out[t] = (int(count), str(digest))
    return out


def test_the_store_is_unchanged(site: Path, cli: click.Group, result: dict[str, Any]) -> None:
    files_before = sorted(p.relative_to(site / "ws") for p in (site / "ws").rglob("*") if ".wal" not in p.name)
    with Store.open(site / "ws") as store:
        before = _fingerprint(store)
        assert before["dossiers"][0] == 0
        api.reconcile(store, site / "ours.csv", site / "theirs.xlsx", "2025-09", as_of=datetime.fromisoformat(AS_OF))
        assert _fingerprint(store) == before
    as_json = run(cli, site, "--ours", str(site / "ours.csv"), "--theirs", str(site / "theirs.xlsx"),
                  "--period", "09/2025", "--as-of", AS_OF, "--format", "json").stdout
    assert json.loads(as_json) == json.loads(json.dumps(result))  # the command answers as the API
    with Store.open(site / "ws", read_only=True) as store:
        assert _fingerprint(store) == before
    assert sorted(p.relative_to(site / "ws") for p in (site / "ws").rglob("*") if ".wal" not in p.name) == files_before


def test_on_postgresql_the_same_differences(pg_ws: Workspace, tmp_path: Path) -> None:
    pg_ws.load("procedures", [PROC])
    ours, theirs = write_vn_csv(tmp_path / "ours.csv", OURS), write_xlsx(tmp_path / "theirs.xlsx", THEIRS)
    data = api.reconcile(pg_ws.store, ours, theirs, "2025-09", as_of=datetime.fromisoformat(AS_OF))
    found = [(d["kind"], d["dossier_id"], d["fields"]) for d in data["differences"]]
    assert sorted(found) == sorted((k, dossier, fields) for k, (dossier, fields) in EXPECTED.items())
    assert pg_ws.store.count("dossiers") == 0 and pg_ws.store.count("loads") == 2  # units and procedures only


# --- the command line -------------------------------------------------------------------------------------------------


def test_the_command_prints_the_summary_and_the_differences(site: Path, cli: click.Group) -> None:
    out = run(cli, site, "--ours", str(site / "ours.csv"), "--theirs", str(site / "theirs.xlsx"),
              "--period", "09/2025", "--as-of", AS_OF).stdout
    for text in ("Tổng cộng", "Thiếu ở nguồn đối chiếu", "Khác tình trạng", "Xử lý xong lúc", "H05",
                 "PROGRESS_ON_TIME", "Sở Tư pháp"):
        assert text in out, text


def test_the_workbook_has_three_sheets_with_vietnamese_headers(site: Path, cli: click.Group, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "doi-chieu.xlsx"
    run(cli, site, "--ours", str(site / "ours.csv"), "--theirs", str(site / "theirs.xlsx"), "--period", "2025-09",
        "--as-of", AS_OF, "--format", "xlsx", "--out", str(out))
    wb = load_workbook(out)
    assert wb.sheetnames == ["Tổng hợp", "Chênh lệch hồ sơ", "Ảnh hưởng chỉ số"]
    heads = {name: [c.value for c in next(wb[name].iter_rows(max_row=1))] for name in wb.sheetnames}
    assert heads["Tổng hợp"][:3] == ["Mã đơn vị", "Tên đơn vị", "Hồ sơ nguồn của tỉnh"]
    assert heads["Chênh lệch hồ sơ"][:2] == ["Mã hồ sơ", "Loại chênh lệch"]
    assert "Chênh lệch điểm (đối chiếu − tỉnh)" in heads["Ảnh hưởng chỉ số"]
    rows = list(wb["Chênh lệch hồ sơ"].iter_rows(min_row=2, values_only=True))
    assert sorted((r[0], r[1]) for r in rows) == sorted((dossier, kind_label) for dossier, kind_label in (
        ("H01", "Thiếu ở nguồn đối chiếu"), ("H02", "Thiếu ở nguồn của tỉnh"), ("H03", "Khác đơn vị"),
        ("H04", "Khác tình trạng"), ("H04", "Khác ngày"), ("H05", "Khác thông tin")))
    summary = list(wb["Tổng hợp"].iter_rows(min_row=2, values_only=True))
    assert summary[-1][1] == "Tổng cộng" and summary[-1][2] == 5  # numbers stay numbers


def test_a_hostile_dossier_id_stays_text(site: Path, cli: click.Group, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    hostile = '=HYPERLINK("http://example.invalid/x","bấm")'
    ours = write_csv(tmp_path / "ours.csv", [BASE | {"dossier_id": hostile}, BASE | {"dossier_id": "H10"}])
    theirs = write_csv(tmp_path / "theirs.csv", [BASE | {"dossier_id": "H10"}])
    out = tmp_path / "x.xlsx"
    run(cli, site, "--ours", str(ours), "--theirs", str(theirs), "--period", "2025-09", "--as-of", AS_OF,
        "--format", "xlsx", "--out", str(out))
    cell = load_workbook(out)["Chênh lệch hồ sơ"]["A2"]
    assert cell.value == hostile and cell.data_type == "s"  # text, never a formula
    text = run(cli, site, "--ours", str(ours), "--theirs", str(theirs), "--period", "2025-09", "--as-of", AS_OF,
               "--format", "csv").stdout
    rows = list(csv.DictReader(text.splitlines()))
    assert [(r["dossier_id"], r["kind"]) for r in rows] == [("'" + hostile, "missing_theirs")]


# --- wrong input -----------------------------------------------------------------------------------------------------


def test_a_row_that_breaks_the_contract_is_located(site: Path, cli: click.Group, tmp_path: Path) -> None:
    bad = write_vn_csv(tmp_path / "cong-dvcqg.csv", [BASE | {"dossier_id": "H01"},
                                                      BASE | {"dossier_id": "H02", "received_at": "32/13/2025"}])
    r = run(cli, site, "--ours", str(site / "ours.csv"), "--theirs", str(bad), "--period", "2025-09", code=1)
    # Row 5 of the file: the title, a blank row, the header, H01, then H02.
    assert "Nguồn đối chiếu (--theirs)" in r.output and "cong-dvcqg.csv:5: Ngày tiếp nhận" in r.output
    with Store.open(site / "ws", read_only=True) as store, pytest.raises(ExportError) as caught:
        api.reconcile(store, bad, site / "theirs.xlsx", "2025-09", as_of=datetime.fromisoformat(AS_OF))
    assert caught.value.side == "ours" and caught.value.report.issues[0].row == 5


def test_wrong_use(site: Path, cli: click.Group, tmp_path: Path) -> None:
    files = ["--ours", str(site / "ours.csv"), "--theirs", str(site / "theirs.xlsx")]
    run(cli, site, *files, code=2)  # no --period
    run(cli, site, *files, "--period", "tháng mười", code=2)
    run(cli, site, *files, "--period", "2025-09", "--as-of", "hôm qua", code=2)
    run(cli, site, *files, "--period", "2025-09", "--unit", "Sở Không Có Thật", code=2)
    run(cli, site, *files, "--period", "2025-09", "--mapping-ours", str(tmp_path / "none.toml"), code=2)
    missing = run(cli, site, "--ours", str(tmp_path / "khong-co.csv"), "--theirs", str(site / "theirs.xlsx"),
                  "--period", "2025-09", code=66)
    assert "khong-co.csv" in missing.output


def test_a_mapping_and_units_by_name(site: Path, cli: click.Group, tmp_path: Path) -> None:
    names = {UNIT: "Sở Tư pháp", OTHER: "Sở Y tế"}  # as one-stop systems write the unit
    rows = [{("Số biên nhận" if k == "dossier_id" else k): (names[v] if k == "unit_code" else v) for k, v in r.items()}
            for r in THEIRS]
    theirs = write_csv(tmp_path / "theirs.csv", rows)
    mapping = tmp_path / "anh-xa.toml"
    mapping.write_text('[dossiers]\n"Số biên nhận" = "dossier_id"\n', encoding="utf-8")
    data = json.loads(run(cli, site, "--ours", str(site / "ours.csv"), "--theirs", str(theirs), "--period", "2025-09",
                          "--as-of", AS_OF, "--mapping-theirs", str(mapping), "--format", "json").stdout)
    found = [(d["kind"], d["dossier_id"], d["fields"]) for d in data["differences"]]
    assert sorted(found) == sorted((k, dossier, fields) for k, (dossier, fields) in EXPECTED.items())
    assert {(u["value"], u["code"]) for u in data["files"]["theirs"]["units_by_name"]} == {
        ("Sở Tư pháp", UNIT), ("Sở Y tế", OTHER)}


@pytest.fixture(autouse=True)
def _no_stray_registration() -> Iterator[None]:
    """The tests never leave a command registered on ``main`` that cli.py does not register itself."""
    before = set(main.commands)
    yield
    assert set(main.commands) == before
