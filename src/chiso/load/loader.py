"""Loading files into the store (nạp dữ liệu): map headers, stage, validate, merge — one transaction.

* Headers are matched to contract columns through aliases (Vietnamese, with or without diacritics) and
  the user's mapping; the table is guessed from the header when not given.
* Columns with applicant personal data (recognised by the phrases of ``contract.PERSONAL_DATA_PHRASES``) are
  never read, and are named in the report; other unknown columns are reported and ignored.
* Readers stream each file within the ``[limits]`` of chiso.toml; what they cannot take in a row (a ragged
  record, undecodable bytes, a nested value) is staged with its reason and rejected like a bad value.
* By default any error rejects the whole load (nothing stored, exit status 1). With ``partial=True`` the
  valid rows are loaded and the rejected ones written, with their true row numbers and reasons, to
  ``<workspace>/rejected/``. A file that cannot be read at all (past a limit, broken) rejects the load even then:
  ``partial`` is about rows, and such a file's rows could be neither loaded nor listed.
* On PostgreSQL (``--database``) staging, typing and validation run unchanged in a scratch in-memory DuckDB that
  mirrors the store's keys the checks refer to (unit, procedure and dossier codes), so both stores accept and
  reject exactly the same rows with the same messages; the valid rows are then streamed into PostgreSQL with
  ``COPY`` and merged there, in the load's one PostgreSQL transaction.
* Loading is idempotent: unchanged rows are left alone (row hash). A newer version of a dossier replaces
  the current one, which moves to ``dossier_history``; an older or already-superseded version only goes
  to history.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from chiso.clock import now_local
from chiso.config import Config, load_config
from chiso.failures import interrupts_held, is_interrupt, note_commit
from chiso.load.contract import TABLES, Table, alias_index, is_personal_header
from chiso.load.readers import LoadIssue, ReadError, Restart, Source, open_source
from chiso.load.validate import error_checks, post_checks, q, typed_select
from chiso.outputs import csv_text, csv_text_sql, safe_filename
from chiso.status.stored_due import DERIVED_COLUMNS
from chiso.store import audit
from chiso.store.db import Store, database_errors, duckdb_settings
from chiso.store.dialect import lock_writers, refresh_statistics
from chiso.store.history import keep_replaced
from chiso.store.rows import first_row
from chiso.textnorm import fold

MAX_ISSUES_KEPT = 100_000
Progress = Callable[[str, int, int | None], None]  # (label, rows done, total rows or None)


@dataclass
class FileReport:
    path: Path
    table: str = ""
    rows_read: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    issues: list[LoadIssue] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    personal_columns: list[str] = field(default_factory=list)
    rejected_file: Path | None = None
    load_id: int | None = None
    cleared: int = 0  # stored values emptied by an explicitly empty cell
    skipped_rows: int = 0  # the title block above the header
    encoding: str | None = None  # an encoding recognised from the bytes (not UTF-8)
    units_by_name: list[tuple[str, str, str, float]] = field(default_factory=list)  # (as written, code, name, %)
    unreadable: bool = False  # the file itself could not be read: the load fails even with partial=True


@dataclass
class LoadReport:
    files: list[FileReport]
    committed: bool

    @property
    def issues(self) -> list[LoadIssue]:
        return [i for f in self.files for i in f.issues]


class InterruptedAfterLoad(KeyboardInterrupt):
    """Ctrl-C after the load committed (its statistics, the derived data: calendar, kept due dates, being brought up
    to date): the rows are stored, and what was interrupted is done again by the next command (each step keeps its
    fingerprint last). A KeyboardInterrupt still, for callers that only stop."""

    def __init__(self, report: LoadReport):
        super().__init__()
        self.report = report


@contextlib.contextmanager
def after_commit(report: LoadReport) -> Iterator[None]:
    """Work after the load's commit: a Ctrl-C in it (Python's, or DuckDB's inside a query) becomes
    :class:`InterruptedAfterLoad`, so nobody is told that stored rows were rolled back."""
    try:
        yield
    except BaseException as exc:
        if is_interrupt(exc) and not isinstance(exc, InterruptedAfterLoad):
            raise InterruptedAfterLoad(report) from exc
        raise


class LoadError(Exception):
    """The load was rejected; nothing was stored. ``report`` says why, file by file."""

    def __init__(self, report: LoadReport):
        super().__init__("; ".join(str(i) for i in report.issues[:5]))
        self.report = report


@dataclass
class Mapped:
    table: Table
    columns: dict[str, int]  # contract column -> position in file
    ignored: list[str]
    personal: list[str]


def map_headers(src: Source, table_name: str | None, mapping: dict[str, dict[str, str]]) -> Mapped:
    """Match the file's headers to a contract table (guessed when not given)."""
    header_row = int(src.extra.get("header_row", 1))  # below a title block, the header is not on row 1
    candidates = [TABLES[table_name]] if table_name else list(TABLES.values())
    best: tuple[int, int, Table] | None = None
    for table in candidates:
        index = alias_index(table, mapping.get(table.name))
        hits = {index[fold(h)] for h in src.headers if fold(h) in index}
        has_required = all(r in hits for r in table.required)
        score = (int(has_required), len(hits))
        if best is None or score > best[:2]:
            best = (*score, table)
    assert best is not None
    table = best[2]
    if table_name is None and not best[0]:
        raise ReadError(LoadIssue(src.path.name, header_row, "(tiêu đề)",
                                  "không nhận ra bảng dữ liệu từ dòng tiêu đề; dùng --table "
                                  f"({', '.join(TABLES)}) hoặc tệp ánh xạ --mapping"))
    index = alias_index(table, mapping.get(table.name))
    columns: dict[str, int] = {}
    ignored, personal = [], []
    for pos, header in enumerate(src.headers):
        key = fold(header)
        if not key:
            continue
        if key in index:
            name = index[key]
            if name in columns:
                first = src.headers[columns[name]]
                raise ReadError(LoadIssue(src.path.name, header_row, header,
                                          f"cột trùng nghĩa với '{first}' (đều là {name})"))
            columns[name] = pos
        elif is_personal_header(header):
            personal.append(header)
        else:
            ignored.append(header)
    missing = [c for c in table.required if c not in columns]
    if missing:
        raise ReadError(LoadIssue(src.path.name, header_row, ", ".join(missing),
                                  f"thiếu cột bắt buộc của bảng {table.name} ({table.label})"))
    return Mapped(table, columns, ignored, personal)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _hash_expr(columns: Sequence[str], prefix: str = "v_") -> str:
    parts = ", ".join(f"COALESCE(CAST({q(prefix + c)} AS VARCHAR), '\x1f')" for c in columns)
    return f"md5(concat_ws('|', {parts}))"


class Loader:
    def __init__(self, store: Store, *, partial: bool = False, mapping: dict[str, dict[str, str]] | None = None,
                 encoding: str = "utf-8", progress: Progress | None = None, config: Config | None = None):
        self.store = store
        self.con = store.con  # the store: registering, merging, history, audit
        # Where files are staged and checked: the store itself on DuckDB, a scratch DuckDB on PostgreSQL.
        self.on_postgres = store.dialect == "postgres"
        self.scratch = tempfile.TemporaryDirectory(prefix="chiso-load-") if self.on_postgres else None
        self.work: duckdb.DuckDBPyConnection = (
            duckdb.connect(config=duckdb_settings(store.workspace, self.scratch.name)) if self.scratch else store.con)
        self.partial = partial
        self.mapping = mapping or {}
        self.encoding = encoding
        self.progress = progress
        self.config = config or load_config(store.workspace)
        self._hints_ready = self._hints_used = False

    def load(self, paths: Sequence[Path], table: str | None = None) -> LoadReport:
        reports: list[FileReport] = []
        planned: list[tuple[FileReport, Source, Mapped]] = []
        for path in paths:
            rep = FileReport(path)
            reports.append(rep)
            try:
                src = open_source(path, self.encoding, self.config.limits, self.mapping)
                mapped = map_headers(src, table, self.mapping)
            except ReadError as exc:
                rep.issues.append(exc.issue)
                rep.unreadable = True
                continue
            except FileNotFoundError:
                rep.issues.append(LoadIssue(path.name, 0, "(tệp)", f"không tìm thấy tệp {path}"))
                rep.unreadable = True
                continue
            rep.table, rep.ignored_columns, rep.personal_columns = (
                mapped.table.name, mapped.ignored, mapped.personal)
            rep.skipped_rows = int(src.extra.get("header_row", 1)) - 1
            rep.encoding = src.extra.get("detected_encoding")
            planned.append((rep, src, mapped))
        if any(r.issues for r in reports):
            raise LoadError(LoadReport(reports, committed=False))
        order = list(TABLES)
        planned.sort(key=lambda item: order.index(item[2].table.name))
        committed = False
        self.con.execute("BEGIN TRANSACTION")
        try:
            lock_writers(self.con, self.store.dialect)  # PostgreSQL: one chiso writer at a time, as on DuckDB
            for rep, src, mapped in planned:
                self._load_one(rep, src, mapped)
            if any(r.issues and (r.unreadable or not self.partial) for r in reports):
                raise LoadError(LoadReport(reports, committed=False))
            self._after_load({r.table for r in reports})
            with interrupts_held():  # the commit and its note are one step for a Ctrl-C
                self.con.execute("COMMIT")
                committed = True
                note_commit()
        except BaseException as exc:
            if committed:  # a Ctrl-C held during the commit: the rows are stored
                raise InterruptedAfterLoad(LoadReport(reports, committed=True)) from exc
            # A failed COMMIT (disk full) has already ended the transaction, and a fatal error leaves none to
            # roll back: the original error is the one to report.
            with contextlib.suppress(*database_errors()):
                self.con.execute("ROLLBACK")
            for rep in reports:
                if rep.rejected_file is not None:
                    rep.rejected_file.unlink(missing_ok=True)  # the rows it lists were not loaded either
                rep.rejected_file = None
            raise
        finally:
            if self.scratch is not None:
                self.work.close()
                self.scratch.cleanup()
        changed = {r.table for r in reports if r.table and (r.inserted or r.updated)}
        report = LoadReport(reports, committed=True)
        with after_commit(report):  # the statistics are then the next command's to refresh
            refresh_statistics(self.con, self.store.dialect, changed)
        return report

    def _mirror_references(self, table: Table) -> None:
        """On PostgreSQL: the store's keys the checks of ``table`` refer to, copied into the scratch DuckDB (as
        they stand in the load's transaction, so a units file earlier in the same load counts)."""
        wanted = {"units": "*", "procedures": "*", "dossiers": "dossier_id"}  # units, procedures: small tables
        refs = {c.references[0] for c in table.columns if c.references} | {"units"}
        for name, cols in wanted.items():
            if name not in refs:
                continue
            self.work.execute(f"DROP TABLE IF EXISTS {name}")
            if self.con.execute(f"SELECT 1 FROM {name} LIMIT 1").fetchall():
                # streamed from a server-side cursor: the store's 10⁷ dossier ids never all in Python at once
                self.work.register("mirror_in", self.con.sql(f"SELECT {cols} FROM {name}").to_arrow_reader())
                self.work.execute(f"CREATE TABLE {name} AS SELECT * FROM mirror_in")
                self.work.unregister("mirror_in")
            else:  # the same columns, no rows
                names = [d[0] for d in self.con.execute(f"SELECT {cols} FROM {name} LIMIT 0").description]
                self.work.execute(f"CREATE TABLE {name} (" + ", ".join(f'"{n}" VARCHAR' for n in names) + ")")

    # --- one file ---------------------------------------------------------------------------------------

    def _load_one(self, rep: FileReport, src: Source, mapped: Mapped) -> None:
        table = mapped.table
        present = list(mapped.columns)
        con = self.work
        if self.on_postgres:
            self._mirror_references(table)
        # Each batch is typed into ``typed`` (which keeps the raw text too) as it is read, through the view ``stg``
        # over the batch: the file is held once, never as text and typed side by side (10 million rows: 4 GB less).
        con.execute("DROP TABLE IF EXISTS stg")
        con.execute("DROP VIEW IF EXISTS stg")
        con.execute("CREATE TEMP TABLE stg (_row BIGINT, _bad_col VARCHAR, _bad VARCHAR, "
                    + ", ".join(f"{q(c)} VARCHAR" for c in present) + ")")
        con.execute("DROP TABLE IF EXISTS typed")
        con.execute(f"CREATE TEMP TABLE typed AS {typed_select(table, present)}")  # no rows yet: the columns
        con.execute("DROP TABLE stg")
        try:
            try:
                done = self._stage(src, mapped, typed_select(table, present))
            except Restart:  # the fast CSV reader gave up: what it staged is discarded, the exact one reads again
                con.execute("DELETE FROM typed")
                done = self._stage(src, mapped, typed_select(table, present))
        except ReadError as exc:  # the reader's own refusal: the transaction is sound, the load goes on
            con.execute("DROP VIEW IF EXISTS stg")
            rep.issues.append(exc.issue)
            rep.unreadable = True
            return
        # Not in a `finally`: after an interruption (Ctrl-C) the transaction is aborted and any statement fails,
        # which would hide the interruption; the rollback removes the view anyway.
        con.execute("DROP VIEW IF EXISTS stg")
        rep.rows_read = done
        self._fill_absent(table, present)
        self._match_unit_names(rep, table, present)
        store_tables = {"units", "procedures", "dossiers"}
        flagged = first_row(con.execute("SELECT count(*) FROM typed WHERE _bad IS NOT NULL"))
        checks = error_checks(table, present, store_tables, self.config.calendar_years,
                              reader_rows=bool(flagged and flagged[0]))
        con.execute("DROP TABLE IF EXISTS errs")
        con.execute("CREATE TEMP TABLE errs AS " + " UNION ALL ".join(f"({c})" for c in checks))
        for check in post_checks(table):
            con.execute(f"INSERT INTO errs {check}")
        header_of = {name: src.headers[pos] for name, pos in mapped.columns.items()}
        rows = con.execute(
            f"SELECT _row, col, reason FROM errs ORDER BY _row, col LIMIT {MAX_ISSUES_KEPT}").fetchall()
        rep.issues = [LoadIssue(src.path.name, int(r), header_of.get(c, c), reason) for r, c, reason in rows]
        bad = first_row(con.execute("SELECT count(DISTINCT _row) FROM errs"))
        rep.rejected = int(bad[0]) if bad else 0
        if rep.issues and not self.partial:
            return
        load_id = self._register_load(rep, src, table)
        rep.load_id = load_id
        if rep.rejected:
            rep.rejected_file = self._write_rejected(rep, src, mapped, load_id)
        self._merge(rep, table, load_id, present)
        self.con.execute(
            "UPDATE loads SET rows_inserted = ?, rows_updated = ?, rows_unchanged = ?, rows_rejected = ?, "
            "rejected_file = ? WHERE load_id = ?",
            [rep.inserted, rep.updated, rep.unchanged, rep.rejected,
             str(rep.rejected_file) if rep.rejected_file else None, load_id])

    def _stage(self, src: Source, mapped: Mapped, typing: str) -> int:
        """Stage the file's rows (text, with their row numbers and the reader's verdict) batch by batch, each typed
        into ``typed`` by ``typing`` (a SELECT over ``stg``); the number staged."""
        con = self.work
        select = ", ".join(f"CAST(c{pos} AS VARCHAR) AS {q(name)}" for name, pos in mapped.columns.items())
        view = (f"CREATE OR REPLACE TEMP VIEW stg AS SELECT CAST(_row AS BIGINT) AS _row, CAST(_bad_col AS VARCHAR) "
                f"AS _bad_col, CAST(_bad AS VARCHAR) AS _bad, {select} FROM batch_in")
        done = 0
        for batch_in in src.batches(list(mapped.columns.values())):
            # Read by name from this frame (DuckDB's replacement scan), not registered: inside the load's
            # transaction every registered batch stayed alive until the commit, the whole file in memory (3 GB of
            # the 7.4 GB a load of 10 million dossiers took).
            con.execute(view)
            con.execute(f"INSERT INTO typed {typing}")
            done += batch_in.num_rows
            if self.progress:
                self.progress(src.path.name, done, src.total_rows)
        return done

    def _register_load(self, rep: FileReport, src: Source, table: Table) -> int:
        row = first_row(self.con.execute("SELECT nextval('load_seq')"))
        assert row is not None
        load_id = int(row[0])
        who = audit.actor()
        self.con.execute(
            "INSERT INTO loads (load_id, file, sha256, table_name, loaded_at, rows_read, rows_inserted, rows_updated, "
            "rows_unchanged, rows_rejected, rejected_file, user_name, host, command, history_kept) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, 0, NULL, ?, ?, ?, TRUE)",
            [load_id, str(src.path), file_sha256(src.path), table.name, now_local(), rep.rows_read,
             who.user, who.host, who.command])
        return load_id

    def _write_rejected(self, rep: FileReport, src: Source, mapped: Mapped, load_id: int) -> Path:
        out_dir = self.store.rejected_dir
        out_dir.mkdir(parents=True, exist_ok=True)
        out = out_dir / f"{safe_filename(src.path.stem)}-load{load_id}.csv"
        # The values as the file had them, neutralised like every CSV written for people (a leading = + - @ gets
        # an apostrophe; plain numbers stay as they are).
        raw_cols = ", ".join(f"{csv_text_sql('t.' + q('raw_' + c))} AS {q(str(csv_text(src.headers[pos])))}"
                             for c, pos in mapped.columns.items())
        self.work.execute(
            f"""COPY (SELECT {_sql_str(str(csv_text(src.path.name)))} AS tep, t._row AS dong,
                        string_agg(e.col || ': ' || e.reason, ' | ' ORDER BY e.col) AS ly_do, {raw_cols}
                 FROM typed t JOIN errs e ON e._row = t._row
                 GROUP BY ALL ORDER BY t._row) TO {_sql_str(str(out))} (HEADER, DELIMITER ',')"""
        )
        return out

    def _fill_absent(self, table: Table, present: list[str]) -> None:
        """Columns the file does not have keep the stored values of the rows it corrects (a correction file with
        only some columns blanks nothing). Done before the checks, so they judge the row as it will be stored."""
        absent = [c for c in table.names if c not in present]
        if not absent:
            return
        work = self.work
        keys = list(table.key)
        on = " AND ".join(f"s.{q(k)} = {_key_expr(table, k)}" for k in keys)
        if self.on_postgres:
            # The stored values of the file's keys, fetched from PostgreSQL into the scratch DuckDB.
            wanted = work.sql(f"SELECT DISTINCT {', '.join(_key_expr(table, k) + ' AS ' + q(k) for k in keys)} "
                              "FROM typed t").to_arrow_table()
            self.con.register("load_keys", wanted)
            cols = ", ".join(f"s.{q(c)}" for c in [*keys, *absent])
            match = " AND ".join(f"s.{q(k)} = k.{q(k)}" for k in keys)
            stored = self.con.sql(f"SELECT {cols} FROM {table.name} s JOIN load_keys k ON {match}").to_arrow_table()
            self.con.unregister("load_keys")
            if stored.num_rows == 0:  # only new rows: nothing to keep
                return
            work.execute("DROP TABLE IF EXISTS stored_rows")
            work.register("stored_in", stored)
            work.execute("CREATE TEMP TABLE stored_rows AS SELECT * FROM stored_in")
            work.unregister("stored_in")
            source = "stored_rows"
        else:
            source = table.name
            if first_row(work.execute(f"SELECT 1 FROM typed t JOIN {source} s ON {on} LIMIT 1")) is None:
                return  # only new rows: nothing to keep
        typed_cols = [d[0] for d in work.execute("SELECT * FROM typed LIMIT 0").description]
        fill = {q("v_" + c) for c in absent}
        select = ", ".join(
            f"CASE WHEN s.{q(keys[0])} IS NOT NULL THEN s.{q(col[2:])} ELSE t.{q(col)} END AS {q(col)}"
            if q(col) in fill else f"t.{q(col)}" for col in typed_cols)
        work.execute("DROP TABLE IF EXISTS typed_filled")
        work.execute(f"CREATE TEMP TABLE typed_filled AS SELECT {select} FROM typed t LEFT JOIN {source} s ON {on}")
        work.execute("DROP TABLE typed")
        work.execute("ALTER TABLE typed_filled RENAME TO typed")

    def _match_unit_names(self, rep: FileReport, table: Table, present: list[str]) -> None:
        """A unit given by its name instead of its code ("UBND phường Tô Hiệu", "Sở Tư pháp") becomes the code when
        :mod:`chiso.units.names` matches it without doubt; a value it cannot match is left for the reference check,
        which names the closest units (``unit_hints``)."""
        work = self.work
        if not self._hints_ready:  # one table per load, emptied per file
            work.execute("CREATE OR REPLACE TEMP TABLE unit_hints (value VARCHAR, hint VARCHAR)")
            self._hints_ready = True
        elif self._hints_used:
            work.execute("DELETE FROM unit_hints")
        self._hints_used = False
        cols = [c.name for c in table.columns
                if c.references and c.references[0] == "units" and c.name in present]
        unknown: set[str] = set()
        for c in cols:
            v = q("v_" + c)
            unknown |= {str(r[0]) for r in work.execute(
                f"SELECT DISTINCT {v} FROM typed WHERE {v} IS NOT NULL AND {v} NOT IN (SELECT code FROM units)"
            ).fetchall()}
        if not unknown:
            return
        from chiso.official.importer import aliases
        from chiso.units.names import UnitMatcher

        matcher = UnitMatcher(((str(c), str(n), str(lv)) for c, n, lv in work.execute(
            "SELECT code, name, level FROM units").fetchall()), aliases(self.store))
        found: list[tuple[str, str]] = []
        hints: list[tuple[str, str]] = []
        for value in sorted(unknown):
            m = matcher.match(value)
            if m.code is not None:
                found.append((value, m.code))
                rep.units_by_name.append((value, m.code, m.name or "", m.confidence))
            elif m.candidates:
                hints.append((value, ", ".join(f"{c.name} ({c.code})" for c in m.candidates)))
        if hints:
            work.executemany("INSERT INTO unit_hints VALUES (?, ?)", hints)
            self._hints_used = True
        if found:
            work.execute("CREATE OR REPLACE TEMP TABLE unit_names (value VARCHAR, code VARCHAR)")
            work.executemany("INSERT INTO unit_names VALUES (?, ?)", found)
            for c in cols:
                v = q("v_" + c)
                work.execute(f"UPDATE typed SET {v} = n.code FROM unit_names n WHERE typed.{v} = n.value")

    # --- merging ----------------------------------------------------------------------------------------

    def _merge(self, rep: FileReport, table: Table, load_id: int, present: list[str]) -> None:
        con = self.con
        names = list(table.names)
        cols = ", ".join(f"{q('v_' + c)} AS {q(c)}" for c in names)
        work = self.work
        valid = (f"SELECT {cols}, {_hash_expr(names)} AS row_hash, CAST({load_id} AS BIGINT) AS load_id "
                 "FROM typed WHERE _row NOT IN (SELECT _row FROM errs)")
        if table.name == "dossiers" and self._first_dossiers():
            self._insert_first(rep, names, valid, load_id)
            return
        work.execute("DROP TABLE IF EXISTS incoming")
        work.execute(f"CREATE TEMP TABLE incoming AS {valid}")
        if table.name == "calendar":
            work.execute("UPDATE incoming SET province = COALESCE(province, '')")
        if self.on_postgres:  # the valid rows, streamed into a PostgreSQL temporary table with COPY, batch by batch
            con.register("incoming", work.sql("SELECT * FROM incoming").to_arrow_reader(50_000))
        key = list(table.key)
        on = " AND ".join(f"cur.{q(k)} = i.{q(k)}" for k in key)
        clearable = [c.name for c in table.columns if c.name in present and not c.required and c.name not in key]
        if table.name == "dossiers":
            self._merge_dossiers(rep, names, on, load_id, clearable)
        else:
            rep.cleared = self._count_cleared(table, on, clearable, "")
            row = first_row(con.execute(
                f"""SELECT count(*) FILTER (WHERE cur.row_hash IS NULL),
                           count(*) FILTER (WHERE cur.row_hash <> i.row_hash),
                           count(*) FILTER (WHERE cur.row_hash = i.row_hash)
                    FROM incoming i LEFT JOIN {table.name} cur ON {on}"""
            ))
            assert row is not None
            rep.inserted, rep.updated, rep.unchanged = (int(x) for x in row)
            keep_replaced(con, table.name, load_id)  # the rows about to be replaced, to <table>_history
            all_cols = [*names, "row_hash", "load_id"]
            sets = ", ".join(f"{q(c)} = i.{q(c)}" for c in all_cols if c not in key)
            # By key, without the store's key index (the embedded store keeps none on the large tables: migration
            # 0013): the changed rows updated, then the new keys inserted.
            con.execute(f"UPDATE {table.name} AS cur SET {sets} FROM incoming i "
                        f"WHERE {on} AND cur.row_hash <> i.row_hash")
            con.execute(
                f"""INSERT INTO {table.name} ({", ".join(q(c) for c in all_cols)})
                    SELECT {", ".join("i." + q(c) for c in all_cols)} FROM incoming i
                    WHERE NOT EXISTS (SELECT 1 FROM {table.name} cur WHERE {on})"""
            )
        self._record(rep, table, load_id)

    def _record(self, rep: FileReport, table: Table, load_id: int) -> None:
        audit.record_load(self.con, load_id, {
            "file": str(rep.path), "table": table.name, "rows_read": rep.rows_read, "inserted": rep.inserted,
            "updated": rep.updated, "unchanged": rep.unchanged, "rejected": rep.rejected, "cleared": rep.cleared,
            "units_by_name": len(rep.units_by_name),
            "rejected_file": str(rep.rejected_file) if rep.rejected_file else None,
            "ignored_columns": rep.ignored_columns, "personal_columns": rep.personal_columns})

    def _first_dossiers(self) -> bool:
        """No dossier stored, and none ever replaced: every valid row of the file is new (the first load of a
        workspace, or of a year into a fresh one). On the embedded store only; PostgreSQL merges as usual."""
        if self.on_postgres:
            return False
        return (first_row(self.con.execute("SELECT 1 FROM dossiers LIMIT 1")) is None
                and first_row(self.con.execute("SELECT 1 FROM dossier_history LIMIT 1")) is None)

    def _insert_first(self, rep: FileReport, names: list[str], valid: str, load_id: int) -> None:
        """A plain insert into the empty table, straight from the typed rows: no copy of the file as ``incoming``,
        no decision table, no upsert probing the key for every row."""
        col_list = ", ".join(q(c) for c in names)
        self.con.execute(f"""INSERT INTO dossiers ({col_list}, original_due_at, row_hash, load_id)
                             SELECT {col_list}, due_at, row_hash, load_id FROM ({valid}) i""")
        counted = first_row(self.con.execute("SELECT count(*) FROM dossiers"))
        rep.inserted = int(counted[0]) if counted else 0
        self._record(rep, TABLES["dossiers"], load_id)

    def _count_cleared(self, table: Table, on: str, clearable: list[str], only: str) -> int:
        """Stored values the file empties explicitly (an empty cell in a column it has): counted for the report."""
        if not clearable:
            return 0
        expr = " + ".join(f"count(*) FILTER (WHERE cur.{q(c)} IS NOT NULL AND i.{q(c)} IS NULL)" for c in clearable)
        row = first_row(self.con.execute(f"SELECT {expr} FROM incoming i JOIN {table.name} cur ON {on} {only}"))
        return int(row[0] or 0) if row else 0

    def _merge_dossiers(self, rep: FileReport, names: list[str], on: str, load_id: int,
                        clearable: list[str]) -> None:
        con = self.con
        con.execute("DROP TABLE IF EXISTS decide")
        con.execute(
            f"""CREATE TEMP TABLE decide AS
                SELECT i.dossier_id,
                       CASE WHEN cur.dossier_id IS NULL THEN 'insert'
                            WHEN cur.row_hash = i.row_hash THEN 'unchanged'
                            WHEN h.dossier_id IS NOT NULL THEN 'older'
                            WHEN i.updated_at < cur.updated_at THEN 'older'
                            ELSE 'replace' END AS action
                FROM incoming i
                LEFT JOIN dossiers cur ON {on}
                LEFT JOIN dossier_history h ON h.dossier_id = i.dossier_id AND h.row_hash = i.row_hash"""
        )
        counts = dict(con.execute("SELECT action, count(*) FROM decide GROUP BY action").fetchall())
        rep.inserted = int(counts.get("insert", 0))
        rep.updated = int(counts.get("replace", 0))
        rep.unchanged = int(counts.get("unchanged", 0)) + int(counts.get("older", 0))
        rep.cleared = self._count_cleared(
            TABLES["dossiers"], on, clearable,
            "JOIN decide d ON d.dossier_id = i.dossier_id AND d.action = 'replace'")
        col_list = ", ".join(q(c) for c in names)
        icols = ", ".join(f"i.{q(c)}" for c in names)
        # A version is kept in history once (dossier, row hash): the embedded store has no key index to refuse a
        # second copy (migration 0013), so each insert leaves out what is there already.
        kept = ("NOT EXISTS (SELECT 1 FROM dossier_history h "
                "WHERE h.dossier_id = {0}.dossier_id AND h.row_hash = {0}.row_hash)")
        # Older versions arriving late: history only.
        con.execute(
            f"""INSERT INTO dossier_history ({col_list}, original_due_at, row_hash, load_id, superseded_by_load)
                SELECT {icols}, i.due_at, i.row_hash, i.load_id, {load_id}
                FROM incoming i JOIN decide d ON d.dossier_id = i.dossier_id AND d.action = 'older'
                WHERE {kept.format("i")}"""
        )
        # Current versions being replaced: to history.
        con.execute(
            f"""INSERT INTO dossier_history ({col_list}, original_due_at, row_hash, load_id, superseded_by_load)
                SELECT {", ".join("cur." + q(c) for c in names)}, cur.original_due_at, cur.row_hash,
                       cur.load_id, {load_id}
                FROM dossiers cur JOIN decide d ON d.dossier_id = cur.dossier_id AND d.action = 'replace'
                WHERE {kept.format("cur")}"""
        )
        # The replaced rows updated in place (keeping the first due date known; a replaced row's derived values go
        # with it: chiso.status.stored_due and chiso.scoring.kept_groups compute them again), then the new ones
        # inserted: decided by key above, so no key index is needed to keep dossier_id unique.
        sets = ", ".join([*(f"{q(c)} = i.{q(c)}" for c in [*names, "row_hash", "load_id"] if c != "dossier_id"),
                          "original_due_at = COALESCE(cur.original_due_at, i.due_at)",
                          *(f"{c} = NULL" for c in DERIVED_COLUMNS)])
        con.execute(
            f"""UPDATE dossiers AS cur SET {sets}
                FROM incoming i JOIN decide d ON d.dossier_id = i.dossier_id AND d.action = 'replace'
                WHERE cur.dossier_id = i.dossier_id"""
        )
        all_cols = [*names, "original_due_at", "row_hash", "load_id"]
        con.execute(
            f"""INSERT INTO dossiers ({", ".join(q(c) for c in all_cols)})
                SELECT {icols}, i.due_at, i.row_hash, i.load_id
                FROM incoming i JOIN decide d ON d.dossier_id = i.dossier_id AND d.action = 'insert'"""
        )

    def _after_load(self, tables: set[str]) -> None:
        if "units" in tables:
            update_province_codes(self.con)


def update_province_codes(con: duckdb.DuckDBPyConnection) -> None:
    """units.province_code: the province at the root of each unit's tree (NULL when none)."""
    con.execute(
        """UPDATE units SET province_code = m.province_code FROM (
               WITH RECURSIVE up(code, anc, depth) AS (
                   SELECT code, code, 0 FROM units
                   UNION ALL
                   SELECT up.code, u.parent_code, up.depth + 1 FROM up JOIN units u ON u.code = up.anc
                   WHERE u.parent_code IS NOT NULL AND up.depth < 10)
               SELECT up.code, min(up.anc) AS province_code FROM up
               JOIN units p ON p.code = up.anc AND p.level = 'province' GROUP BY up.code) m
           WHERE units.code = m.code"""
    )


def _key_expr(table: Table, column: str) -> str:
    """A key column of the typed rows as the store holds it (a calendar row for the whole country: province '')."""
    expr = f"t.{q('v_' + column)}"
    return f"COALESCE({expr}, '')" if (table.name, column) == ("calendar", "province") else expr


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
