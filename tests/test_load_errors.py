"""Bad input: every error located as ``file:row: column: reason``; reject by default, --partial on demand;
loading is idempotent and keeps the history of replaced versions."""

from __future__ import annotations

import csv
import unicodedata
from pathlib import Path

import pytest
from click.testing import CliRunner

from chiso import api
from chiso.cli import main
from chiso.load.loader import LoadError
from conftest import UNIT, Workspace

PROC = [{"code": "P5", "name": "Thủ tục 5 ngày", "time_limit": 5, "time_unit": "working_days"}]
HEADER = "dossier_id,unit_code,procedure_code,channel,received_at\n"


def good(i: int) -> str:
    return f"D{i},{UNIT},P5,online,2025-07-0{i} 08:00\n"


def to_cp1258(text: str) -> bytes:
    """Encode as Windows-1258 does: precomposed where the code page has it, tone marks as combining."""
    out = b""
    for ch in text:
        try:
            out += ch.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        # A base letter of the code page (ô, ơ, ư, â, ê, ă) followed by the combining tone mark.
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in "\u0300\u0301\u0303\u0309\u0323")
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in tones))
        out += base.encode("cp1258") + tones.encode("cp1258")
    return out


def cli(ws: Workspace, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["--workspace", str(ws.store.workspace), *args], catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ready(ws: Workspace) -> Workspace:
    ws.load("procedures", PROC)
    ws.store.close()  # the CLI opens its own connection
    return ws


def test_bad_date_in_row_3(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + good(1) + f"D2,{UNIT},P5,online,31/02/2025 08:00\n" + good(3), encoding="utf-8")
    code, _, err = cli(ready, "load", str(path))
    assert code == 1
    assert "bad.csv:3: received_at: '31/02/2025 08:00' không phải ngày giờ hợp lệ" in err


def test_unknown_unit(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + good(1) + good(2) + "D3,SO-KHONG-CO,P5,online,2025-07-03 08:00\n", encoding="utf-8")
    code, _, err = cli(ready, "load", str(path))
    assert code == 1
    assert "bad.csv:4: unit_code: 'SO-KHONG-CO' không có trong danh mục đơn vị" in err


def test_duplicate_id(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + good(1) + good(2) + good(1), encoding="utf-8")
    code, _, err = cli(ready, "load", str(path))
    assert code == 1
    assert "bad.csv:4: dossier_id: trùng khóa (dossier_id) với dòng 2" in err


def test_windows_1258_text(ready: Workspace, tmp_path: Path) -> None:
    """A Windows-1258 export with Vietnamese headers is recognised without --encoding (issue 9) and said so."""
    path = tmp_path / "cp1258.csv"
    text = "Mã hồ sơ,Đơn vị,Mã TTHC,Kênh thực hiện,Ngày tiếp nhận\n" + good(1).replace("online", "Trực tuyến")
    path.write_bytes(to_cp1258(text))
    code, out, err = cli(ready, "load", str(path))
    assert code == 0, err
    assert "thêm 1" in out and "cp1258.csv: bảng mã nhận ra là Windows-1258" in err
    # Given explicitly, as before.
    code, out, err = cli(ready, "load", "--encoding", "cp1258", str(path))
    assert code == 0, err


def test_windows_1258_in_data_row_names_the_column(ready: Workspace, tmp_path: Path) -> None:
    """A UTF-8 file (its Vietnamese header says so) with one Windows-1258 row: that row is refused, naming the
    column, not the file re-read in another encoding."""
    path = tmp_path / "mixed.csv"
    header = "Mã hồ sơ,Đơn vị,Mã TTHC,Kênh thực hiện,Ngày tiếp nhận\n"
    path.write_bytes((header + good(1)).encode() + to_cp1258(f"D2,{UNIT},P5,Trực tuyến,2025-07-02 08:00\n"))
    code, _, err = cli(ready, "load", str(path))
    assert code == 1
    assert "mixed.csv:3: Kênh thực hiện: tệp không phải UTF-8" in err


def test_rejected_file_stores_nothing(ready: Workspace, tmp_path: Path) -> None:
    good_file = tmp_path / "good.csv"
    good_file.write_text(HEADER + good(1) + good(2), encoding="utf-8")
    bad_file = tmp_path / "bad.csv"
    bad_file.write_text(HEADER + good(3) + f"D4,{UNIT},P5,fax,2025-07-04 08:00\n", encoding="utf-8")
    from chiso.store.db import Store

    with Store.open(ready.store.workspace) as store:
        loads_before = store.count("loads")
    code, _, err = cli(ready, "load", str(good_file), str(bad_file))
    assert code == 1
    assert "bad.csv:3: channel: 'fax' không thuộc các giá trị cho phép: direct, online, postal" in err
    with Store.open(ready.store.workspace) as store:
        assert store.count("dossiers") == 0 and store.count("loads") == loads_before


def test_partial_loads_valid_rows_and_writes_rejected(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(HEADER + good(1) + f"D2,{UNIT},P5,online,hôm qua\n" + good(3) + f"D4,{UNIT},,online,\n",
                    encoding="utf-8")
    code, out, err = cli(ready, "load", "--partial", str(path))
    assert code == 0, err
    assert "thêm 2" in out and "loại 2" in out
    from chiso.store.db import Store

    with Store.open(ready.store.workspace) as store:
        ids = [r[0] for r in store.con.execute("SELECT dossier_id FROM dossiers ORDER BY 1").fetchall()]
        assert ids == ["D1", "D3"]
        rejected = list(Path(store.workspace, "rejected").glob("mixed-load*.csv"))
    assert len(rejected) == 1
    with rejected[0].open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["dong"], r["dossier_id"]) for r in rows] == [("3", "D2"), ("5", "D4")]
    assert "received_at: 'hôm qua' không phải ngày giờ hợp lệ" in rows[0]["ly_do"]
    assert "procedure_code: thiếu giá trị bắt buộc" in rows[1]["ly_do"]
    assert "received_at: thiếu giá trị bắt buộc" in rows[1]["ly_do"]


def test_missing_required_column(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "nocol.csv"
    path.write_text("dossier_id,unit_code,procedure_code,received_at\nD1,14.STP,P5,2025-07-01\n", encoding="utf-8")
    code, _, err = cli(ready, "load", "--table", "dossiers", str(path))
    assert code == 1
    assert "nocol.csv:1: channel: thiếu cột bắt buộc của bảng dossiers" in err


def test_loading_twice_stores_the_same_rows(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    path = tmp_path / "hoso.csv"
    path.write_text(HEADER + good(1) + good(2) + good(3), encoding="utf-8")
    first = api.load(ws.store, [path]).files[0]
    snapshot = ws.store.con.execute("SELECT * EXCLUDE (load_id) FROM dossiers ORDER BY dossier_id").fetchall()
    second = api.load(ws.store, [path]).files[0]
    assert (first.inserted, second.inserted, second.updated, second.unchanged) == (3, 0, 0, 3)
    assert ws.store.con.execute("SELECT * EXCLUDE (load_id) FROM dossiers ORDER BY dossier_id").fetchall() == snapshot
    assert ws.store.count("dossier_history") == 0


def test_newer_version_replaces_and_history_keeps_the_old(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    v1 = tmp_path / "v1.csv"
    v1.write_text(HEADER.strip() + ",finished_at,updated_at\n"
                  f"D1,{UNIT},P5,online,2025-07-01 08:00,,2025-07-01 08:00\n", encoding="utf-8")
    v2 = tmp_path / "v2.csv"
    v2.write_text(HEADER.strip() + ",finished_at,updated_at\n"
                  f"D1,{UNIT},P5,online,2025-07-01 08:00,2025-07-03 10:00,2025-07-03 10:00\n", encoding="utf-8")
    api.load(ws.store, [v1])
    assert api.load(ws.store, [v2]).files[0].updated == 1
    # Loading the old file again changes nothing: it is an older version (updated_at) already in history.
    assert api.load(ws.store, [v1]).files[0].updated == 0
    assert ws.store.con.execute("SELECT finished_at FROM dossiers").fetchone() == (
        ws.store.con.execute("SELECT TIMESTAMP '2025-07-03 10:00'").fetchone())
    assert ws.store.count("dossier_history") == 1


def test_later_file_wins_without_updated_at(ws: Workspace, tmp_path: Path) -> None:
    ws.load("procedures", PROC)
    ws.load("dossiers", [{"dossier_id": "D1", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
                          "received_at": "2025-07-01 08:00"}])
    ws.load("dossiers", [{"dossier_id": "D1", "unit_code": UNIT, "procedure_code": "P5", "channel": "direct",
                          "received_at": "2025-07-01 08:00"}])
    assert ws.store.con.execute("SELECT channel FROM dossiers").fetchone() == ("direct",)
    assert ws.store.con.execute("SELECT channel FROM dossier_history").fetchall() == [("online",)]


def test_unknown_header_cannot_be_guessed(ready: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "what.csv"
    path.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    code, _, err = cli(ready, "load", str(path))
    assert code == 1 and "what.csv:1: (tiêu đề): không nhận ra bảng dữ liệu" in err


def test_load_error_is_raised_by_the_api(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + f"D1,{UNIT},NOPE,online,2025-07-01\n", encoding="utf-8")
    with pytest.raises(LoadError) as info:
        api.load(ws.store, [path])
    assert [str(i) for i in info.value.report.issues] == [
        "bad.csv:2: procedure_code: 'NOPE' không có trong danh mục thủ tục hành chính"]


def test_indicator_input_period_is_checked(ws: Workspace) -> None:
    with pytest.raises(LoadError) as info:
        ws.load("indicator_inputs", [
            {"period": "2026-Q1", "unit_code": UNIT, "indicator": "PUBLISH_ON_TIME", "numerator": 10,
             "denominator": 10},
            {"period": "Q1/2026", "unit_code": UNIT, "indicator": "PUBLISH_ON_TIME", "numerator": 9,
             "denominator": 10},
        ])
    assert [str(i).split(": ", 1)[1] for i in info.value.report.issues] == [
        "period: 'Q1/2026' không phải kỳ hợp lệ (yyyy-mm, yyyy-Qn hoặc yyyy)"]
