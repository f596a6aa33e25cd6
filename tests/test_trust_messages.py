"""Every refusal ends in a Vietnamese message and the right exit status, never "Lỗi không mong đợi" (70) nor a
traceback (issue 14, item 7): the paths the adversarial review found still ending in status 70 — broken settings,
rule sets that are not text, a Word template that is not a Word file, encodings that are not text encodings, a
quote in the workspace path, an unknown --unit, a very long file name under --partial, a report into the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chiso.cli import main
from chiso.failures import EXIT_SOFTWARE
from conftest import UNIT, Workspace

BROKEN_SETTINGS = {
    "syntax": b"[calendar\nyears = 1\n",
    "not UTF-8": b"\xff\xfe[report]\n",
    "years not a list": b"[calendar]\nyears = \"abc\"\n",
    "years out of range": b"[calendar]\nyears = [1, 99999]\n",
    "years reversed": b"[calendar]\nyears = [2035, 2015]\n",
    "report not a table": b"report = 3\n",
    "negative limit": b"[limits]\nmax_rows = -1\n",
}


def run(workspace: Path, *args: str) -> Result:
    result = CliRunner().invoke(main, ["--workspace", str(workspace), *args])
    assert result.exit_code != EXIT_SOFTWARE, result.output
    assert "Traceback" not in result.output and "Lỗi không mong đợi" not in result.output
    return result


@pytest.mark.parametrize("content", list(BROKEN_SETTINGS.values()), ids=list(BROKEN_SETTINGS))
def test_a_broken_chiso_toml_is_named(ws: Workspace, content: bytes) -> None:
    (ws.store.workspace / "chiso.toml").write_bytes(content)
    workspace = ws.store.workspace
    ws.store.close()
    for args in (["status", "--by-unit"], ["score", "--period", "2025-09"]):
        result = run(workspace, *args)
        assert result.exit_code == 1
        assert result.output.startswith("Lỗi: ") and "chiso.toml" in result.output


def test_a_rule_set_that_is_not_text(ws: Workspace, tmp_path: Path) -> None:
    (ws.store.workspace / "rules").mkdir()
    (ws.store.workspace / "rules" / "x.toml").write_bytes(b"\xff\xfe\x00binary")
    workspace = ws.store.workspace
    ws.store.close()
    result = run(workspace, "score", "--period", "2025-09")
    assert result.exit_code == 1 and "x.toml: không phải tệp văn bản UTF-8" in result.output
    result = run(workspace, "rules", "check", str(workspace / "rules" / "x.toml"))
    assert result.exit_code == 1 and "không phải tệp văn bản UTF-8" in result.output


def test_a_word_template_that_is_not_a_word_file(ws: Workspace, tmp_path: Path) -> None:
    (ws.store.workspace / "templates").mkdir()
    (ws.store.workspace / "templates" / "cong-van-thang.docx").write_bytes(b"not a zip")
    workspace = ws.store.workspace
    ws.store.close()
    result = run(workspace, "report", "monthly", "--period", "2025-09", "--out", str(tmp_path / "o"), "--no-pdf")
    assert result.exit_code == 1 and "cong-van-thang.docx: không mở được tệp Word" in result.output


@pytest.mark.parametrize("encoding", ["hex", "base64", "rot13", "punycode", "utf-16"])
def test_encodings_that_cannot_read_a_text_file(ws: Workspace, tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text("code,name,level\nX,Y,commune\n", encoding="utf-8")
    workspace = ws.store.workspace
    ws.store.close()
    result = run(workspace, "load", "--encoding", encoding, str(path))
    assert result.exit_code == 1 and "bảng mã" in result.output


def test_a_quote_in_the_workspace_path(ws: Workspace, tmp_path: Path) -> None:
    import shutil

    quoted = tmp_path / "o'ws"
    ws.store.close()
    shutil.copytree(ws.store.workspace, quoted)
    result = run(quoted, "status", "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


def test_an_unknown_unit_is_refused_not_silently_empty(ws: Workspace) -> None:
    workspace = ws.store.workspace
    ws.store.close()
    for args in (["status", "--unit", "NOPE"], ["score", "--period", "2025-09", "--unit", "NOPE"]):
        result = run(workspace, *args)
        assert result.exit_code == 2 and "không nhận ra đơn vị 'NOPE'; gần nhất: " in result.output
    assert run(workspace, "status", "--unit", UNIT).exit_code == 0


def test_no_single_row_read_leaves_a_result_open() -> None:
    """Found when a read-only command stopped checking the store twice: `status --unit CODE` looked the unit up with
    ``fetchone()``, which leaves DuckDB's result open, and the status stream that followed was refused ("connection
    has an unfinished result"; the test above). Single rows are read with ``chiso.store.rows.first_row``."""
    from pathlib import Path

    import chiso

    root = Path(chiso.__file__).parent
    offenders = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.py") if path.name not in ("pg.py", "rows.py")
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if ".fetchone()" in line]
    assert offenders == []


def test_a_very_long_file_name_under_partial(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / ("=HYPERLINK(1)" + "x" * 230 + ".csv")
    path.write_text("code,name,time_limit\nP1,Một,nan\nP2,Hai,5\n", encoding="utf-8")
    workspace = ws.store.workspace
    ws.store.close()
    result = run(workspace, "load", "--partial", "--table", "procedures", str(path))
    assert result.exit_code == 0, result.output
    (rejected,) = (workspace / "rejected").iterdir()
    assert len(rejected.name) < 100
    assert rejected.read_text(encoding="utf-8").splitlines()[1].startswith("'=HYPERLINK(1)")  # the file column


def test_a_report_into_the_store_is_wrong_use(ws: Workspace) -> None:
    workspace = ws.store.workspace
    ws.store.close()
    result = run(workspace, "report", "monthly", "--period", "2025-09", "--out", str(workspace / "templates"),
                 "--no-pdf")
    assert result.exit_code == 2 and f"'{workspace / 'templates'}'" in result.output


def test_out_of_memory_says_what_to_do() -> None:
    """Found loading 10⁸ dossiers as five files in one command: the key index of the rows one transaction added
    did not spill (the large tables keep none since migration 0013), and past the budget DuckDB raised
    OutOfMemoryException — which reached the user as "Lỗi không mong đợi … báo cho nhóm phát triển". It is the
    user's to act on: raise the budget, free the machine's memory."""
    import duckdb

    from chiso.failures import EXIT_OSERR, describe

    con = duckdb.connect(config={"memory_limit": "2MB", "threads": 1})  # a real one, raised by DuckDB
    with pytest.raises(duckdb.OutOfMemoryException) as raised:
        con.execute("SELECT list(range) FROM range(10000000)").fetchall()
    failure = describe(raised.value)
    assert failure.exit_code == EXIT_OSERR == 71
    assert "Không đủ bộ nhớ" in failure.message and "memory_mb" in failure.message
    assert "Tăng memory_mb" in failure.message and "không mất" in failure.message
    assert "không mong đợi" not in failure.message


def test_a_ctrl_c_that_duckdb_turns_into_another_error_is_still_a_ctrl_c() -> None:
    """Found by the fault test of a load stopped half-way: the Ctrl-C came while DuckDB read the batch (a Python
    object, by name) and reached the user as "Lỗi không mong đợi (InvalidInputException …)" with exit 70. DuckDB
    wraps the KeyboardInterrupt its Python call raised ("reading the schema of the Python object … failed"), or
    loses it in the name's lookup ("Table with name … does not exist"): chiso counts the Ctrl-C itself."""
    import os
    import signal
    import time

    import click
    import duckdb
    import pyarrow as pa

    from chiso.cli import ChisoGroup
    from chiso.failures import EXIT_INTERRUPTED, is_interrupt

    class Batch:  # a batch whose reading is where the user's Ctrl-C lands
        def __arrow_c_stream__(self, requested_schema: object = None) -> object:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)  # the handler runs at the next bytecode, inside DuckDB's call
            return pa.table({"a": [1]}).__arrow_c_stream__(requested_schema)

    raised: list[BaseException] = []

    @click.group(cls=ChisoGroup)
    def group() -> None:
        pass

    @group.command()
    def stage() -> None:
        batch_in = Batch()  # noqa: F841  (read by DuckDB by its name)
        try:
            duckdb.connect().execute("SELECT * FROM batch_in").fetchall()
        except BaseException as exc:
            raised.append(exc)
            raise

    result = CliRunner().invoke(group, ["stage"])
    assert raised and not is_interrupt(raised[0])  # what DuckDB raised does not say Ctrl-C by itself
    assert result.exit_code == EXIT_INTERRUPTED, result.output
    assert "Ctrl-C" in result.output and "hoàn tác" in result.output and "không mong đợi" not in result.output


def test_a_store_a_newer_chiso_migrated_is_refused_by_name(ws: Workspace, tmp_path: Path) -> None:
    """Found measuring loads: a chiso of before migration 0013 opened a store that this one had migrated, went on,
    and its load ended in "unexpected error (BinderException)" (its upsert needs the key index 0013 removes). A
    store with steps this chiso does not know is refused, reading or writing, with what to do."""
    from datetime import datetime

    from chiso.failures import EXIT_CONFIG

    ws.store.con.execute("INSERT INTO schema_migrations VALUES (99, '0099_tuong_lai.sql', ?)", [datetime(2027, 1, 1)])
    workspace = ws.store.workspace
    ws.store.close()
    rows = tmp_path / "units.csv"
    rows.write_text("code,name,level\n99,Thử,province\n", encoding="utf-8")
    for args in (["status", "--by-unit"], ["score", "--period", "2025-09"], ["load", str(rows)]):
        result = run(workspace, *args)
        assert result.exit_code == EXIT_CONFIG == 78, (args, result.output)
        assert "có lược đồ mới hơn phiên bản chiso này (bước 0099" in result.output
        assert str(workspace) in result.output and "cập nhật chiso" in result.output
