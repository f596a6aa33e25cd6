"""No command can destroy the store (issue 14, item 3): an output path never points into the workspace's own files,
files are written to a temporary name and renamed on success, and a set of documents appears whole or not at all."""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from chiso.cli import main
from chiso.outputs import OutputError, atomic_file, check_output, csv_text, safe_filename, staged_dir
from chiso.reports.documents import copy_templates, write_all, write_monthly
from chiso.store.db import DB_FILE, Store
from conftest import UNIT, Workspace
from test_scoring import load_province

AS_OF = datetime(2025, 10, 15, 23, 59, 59)


def cli(workspace: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--workspace", str(workspace), *args])
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def setup_dossiers(ws: Workspace) -> None:
    ws.load("procedures", [{"code": "P5", "name": "5 ngày", "time_limit": 5, "time_unit": "working_days"}])
    ws.load("dossiers", [{"dossier_id": "A", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
                          "received_at": "2024-02-07 09:00"}])


def dossier_count(workspace: Path) -> int:
    with Store.open(workspace) as store:
        return store.count("dossiers")


@pytest.mark.parametrize("target", [DB_FILE, "chiso.toml", "departments.csv", "templates/x.csv", "units/u.csv",
                                    "rejected/r.csv", "backups/b.json", "chiso.duckdb.tmp"])
def test_status_out_into_the_store_is_refused_and_the_store_survives(ws: Workspace, target: str) -> None:
    setup_dossiers(ws)
    workspace = ws.store.workspace
    ws.store.close()
    before = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file() and p.name != DB_FILE}
    code, out = cli(workspace, "status", "--as-of", "2024-02-21", "--out", str(workspace / target))
    assert code == 2
    assert "kho dữ liệu" in out
    assert dossier_count(workspace) == 1  # the database still opens and holds its dossier
    after = {p: p.read_bytes() for p in workspace.rglob("*") if p.is_file() and p.name != DB_FILE}
    assert after == before


def test_a_link_to_the_database_is_the_database(ws: Workspace, tmp_path: Path) -> None:
    setup_dossiers(ws)
    workspace = ws.store.workspace
    ws.store.close()
    link = tmp_path / "innocent.csv"
    link.symlink_to(workspace / DB_FILE)
    code, out = cli(workspace, "status", "--as-of", "2024-02-21", "--out", str(link))
    assert code == 2 and DB_FILE in out
    assert dossier_count(workspace) == 1


def test_status_out_elsewhere_in_the_workspace_is_written(ws: Workspace) -> None:
    setup_dossiers(ws)
    workspace = ws.store.workspace
    ws.store.close()
    target = workspace / "xuat" / "tinh-trang.csv"
    code, _ = cli(workspace, "status", "--as-of", "2024-02-21 10:00", "--out", str(target))
    assert code == 0
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")  # a CSV file for people: a BOM for Excel
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
    assert [(r["dossier_id"], r["timeliness"]) for r in rows] == [("A", "pending_late")]
    assert [p.name for p in target.parent.iterdir()] == ["tinh-trang.csv"]  # no temporary file left


def test_report_into_the_templates_folder_is_refused(ws: Workspace) -> None:
    with pytest.raises(OutputError):
        write_monthly(ws.store, "2025-09", ws.store.workspace / "templates", as_of=AS_OF,
                      letter_date=date(2025, 10, 6), want_pdf=False)
    assert not (ws.store.workspace / "templates").exists()


def test_atomic_file_keeps_the_old_file_when_writing_fails(tmp_path: Path) -> None:
    target = tmp_path / "kq.csv"
    target.write_text("cũ\n", encoding="utf-8")
    with pytest.raises(RuntimeError), atomic_file(target) as fh:
        fh.write(b"half of the new ")
        raise RuntimeError("disk gone")
    assert target.read_text(encoding="utf-8") == "cũ\n"
    assert os.listdir(tmp_path) == ["kq.csv"]


def test_staged_set_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    out = tmp_path / "van-ban"
    with pytest.raises(ValueError), staged_dir(out) as stage:
        (stage / "a.docx").write_bytes(b"a")
        raise ValueError("the third letter failed")
    assert list(out.iterdir()) == []
    with staged_dir(out) as stage:
        (stage / "don-vi").mkdir()
        (stage / "don-vi" / "b.docx").write_bytes(b"b")
        (stage / "a.docx").write_bytes(b"a")
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["a.docx", "don-vi", "don-vi/b.docx"]


def test_report_all_that_fails_midway_leaves_no_partial_set(ws: Workspace, tmp_path: Path) -> None:
    load_province(ws)
    store = ws.store = Store.open(ws.store.workspace)
    out = tmp_path / "van-ban"
    out.mkdir()
    (out / "earlier.docx").write_bytes(b"from last month")
    copy_templates(store)
    # A unit letter template that names a value the letters do not have: the unit letters fail after the public
    # letter, its appendix and its charts were already rendered.
    import docx

    path = store.workspace / "templates" / "cong-van-don-vi.docx"
    document = docx.Document(str(path))
    document.add_paragraph("{{ khong_co_gia_tri_nay }}")
    document.save(str(path))
    code, output = cli(store.workspace, "report", "all", "--period", "2025-09", "--as-of", "2025-10-15",
                       "--date", "2025-10-06", "--out", str(out), "--no-pdf", "--workers", "1")
    assert code == 1
    assert "khong_co_gia_tri_nay" in output
    assert sorted(p.name for p in out.rglob("*")) == ["earlier.docx"]
    assert (out / "earlier.docx").read_bytes() == b"from last month"


def test_report_all_writes_the_whole_set_in_place(ws: Workspace, tmp_path: Path) -> None:
    load_province(ws)
    store = ws.store = Store.open(ws.store.workspace)
    out = tmp_path / "van-ban"
    written = write_all(store, "2025-09", out, as_of=AS_OF, letter_date=date(2025, 10, 6), want_pdf=False,
                        units=["03646"], workers=1)
    assert all(p.exists() and out in p.parents for p in written.files)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # the staging folder is gone
    assert (out / "don-vi" / "cong-van-don-vi-03646-2025-09.docx") in written.files


def test_check_output_allows_the_workspace_subfolders_for_documents(tmp_path: Path) -> None:
    ws = tmp_path / "chiso-data"
    assert check_output(ws / "van-ban", ws, directory=True) == ws / "van-ban"
    with pytest.raises(OutputError):
        check_output(ws / "rules" / "x", ws, directory=True)
    with pytest.raises(OutputError):
        check_output(ws, ws)


def test_csv_cells_for_people_never_start_a_formula() -> None:
    for hostile in ("=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "=cmd|' /C calc'!A0"):
        assert csv_text(hostile) == "'" + hostile
    assert csv_text("Sở Tư pháp") == "Sở Tư pháp"
    assert csv_text(-5) == -5  # numbers stay numbers
    assert csv_text("-5") == "-5" and csv_text("-1.500,5") == "-1.500,5"  # so does a plain number as text


def test_unit_list_csv_neutralises_formulas(ws: Workspace) -> None:
    ws.load("units", [{"code": "=1+1", "name": "=HYPERLINK(\"http://x\",\"y\")", "level": "department",
                       "parent_code": "14"}])
    workspace = ws.store.workspace
    ws.store.close()
    code, out = cli(workspace, "units", "list", "--level", "department")
    assert code == 0
    rows = {r["code"]: r for r in csv.DictReader(io.StringIO(out))}
    assert rows["'=1+1"]["name"] == "'=HYPERLINK(\"http://x\",\"y\")"


def test_status_csv_neutralises_formulas(ws: Workspace) -> None:
    ws.load("procedures", [{"code": "P5", "name": "5 ngày", "time_limit": 5, "time_unit": "working_days"}])
    ws.load("dossiers", [{"dossier_id": "=cmd|' /C calc'!A0", "unit_code": UNIT, "procedure_code": "P5",
                          "channel": "online", "received_at": "2024-02-07 09:00"}])
    workspace = ws.store.workspace
    ws.store.close()
    code, out = cli(workspace, "status", "--as-of", "2024-02-21 10:00")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["dossier_id"] == "'=cmd|' /C calc'!A0"


def test_file_names_from_data_are_bounded_and_have_no_path() -> None:
    assert safe_filename("14.STP") == "14.STP"
    assert "/" not in safe_filename("../../etc/passwd") and not safe_filename("../x").startswith(".")
    long_a, long_b = "A" * 300, "A" * 299 + "B"
    assert len(safe_filename(long_a)) <= 60 and safe_filename(long_a) != safe_filename(long_b)
    assert safe_filename("a\x00b\nc").startswith("a-b-c-")
    # Codes that clean to the same text keep apart (found by the adversarial review: two units, one letter).
    codes = ["A/B", "A-B", "-2+3", "2+3", "A:B", "A\\B"]
    assert len({safe_filename(c) for c in codes}) == len(codes)



def test_generate_replaces_a_link_instead_of_writing_through_it(ws: Workspace, tmp_path: Path) -> None:
    """Found by the adversarial review: `generate --out` wrote its units.csv through a link to the database."""
    workspace = ws.store.workspace
    ws.store.close()
    database = workspace / DB_FILE
    before = database.read_bytes()
    out = tmp_path / "sinh"
    out.mkdir()
    (out / "units.csv").symlink_to(database)
    code, _ = cli(workspace, "generate", "--province", "Sơn La", "--from", "2025-09", "--to", "2025-09", "--scale",
                  "0.01", "--out", str(out))
    assert code == 0
    assert database.read_bytes() == before
    assert not (out / "units.csv").is_symlink() and (out / "units.csv").read_text(encoding="utf-8").startswith("code")
    assert dossier_count(workspace) == 0
