"""Due dates kept between runs (hạn giải quyết tính sẵn): ``dossiers.computed_due``, ``due_ready``, ``paused``.

A dossier's due date from its procedure's statutory time depends on the dossier row (received, unit, procedure), the
procedure's time limit, its province's working-day calendar and the deadline rules; never on the as-of moment. Only
clock-stopping pauses and a supplement restart move it, and those the status query computes at every run. So the
date is computed once, after each load, for the rows the load inserted or replaced, and for every row when what it
depends on changes; ``paused`` says whether the dossier has rows in ``pauses``. The status query
(:class:`chiso.status.timeliness.StatusQuery` with ``stored_due``) then reads the kept date for the dossiers without
pauses (98–99 % of them) and computes only the others, which it finds by those two columns alone (a filter the scan
applies, not a join of every dossier). At 10 million dossiers that is the difference between the status query and a
scan of the table.

Correctness never rests on a writer remembering the columns:

* ``due_ready`` and ``paused`` are NULL for a row nobody computed (a new row; the loader's update of a row sets them
  NULL again; the versions an unload restores come back without them); :func:`refresh` computes exactly those rows.
* The values hold for the tables they were computed from: the fingerprint :func:`fingerprint_sql` (the calendar's
  and the deadline rules' fingerprints, every procedure's time limit, every unit's province, the version of the
  computation) and a digest of ``pauses`` are stored with them. :func:`kept` compares them with the tables as they
  are, just before the query, on DuckDB (no other process can write while this one holds the store), or in the
  query itself elsewhere. When they differ, every dossier takes the full computation, right but slower, until the
  next :func:`refresh` (``chiso.api.prepare``, run by every command after a load or an edited ``chiso.toml``).
* ``due_ready`` FALSE marks the rows the computation does not reach (a received day outside the calendar): the full
  query treats them as it always did.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from chiso.config import Config
from chiso.store.db import Store

# Derived columns of the dossiers table: not loaded data, not copied to history or to a lake.
DERIVED_COLUMNS = ("computed_due", "due_ready", "paused", "settled_at")  # settled_at: chiso.scoring.kept_groups
SETTING = "due_fingerprint"
PAUSES_SETTING = "due_pauses_digest"
# The moment the computation is written for: every received dossier, none ended (the due date before pauses does
# not depend on either).
FAR = datetime(9999, 12, 31, 23, 59, 59)


@cache
def _version() -> str:
    """The computation's own text, so that a change of the code recomputes every stored date."""
    from chiso.status.timeliness import StatusQuery

    return hashlib.sha256(StatusQuery(as_of=FAR, config=Config()).computed_due_sql("").encode()).hexdigest()[:16]


def fingerprint_sql() -> str:
    """What the stored dates were computed from, as one SQL text expression over the store's tables."""
    return f"""md5(concat_ws('|', '{_version()}',
    (SELECT value FROM settings WHERE key = 'calendar_fingerprint'),
    (SELECT value FROM settings WHERE key = 'deadline_rules_fingerprint'),
    (SELECT string_agg(code || ':' || COALESCE(CAST(time_limit AS TEXT), '') || ':' || COALESCE(time_unit, ''), ','
                       ORDER BY code) FROM procedures),
    (SELECT string_agg(code || ':' || COALESCE(province_code, ''), ',' ORDER BY code) FROM units)))"""


def pauses_digest_sql(dialect: str | None) -> str:
    """The set of dossiers with pauses, as one cheap SQL text expression (the count and a sum of hashes)."""
    hashed = "hashtext(dossier_id)" if dialect == "postgres" else "hash(dossier_id)"
    return f"(SELECT CAST(count(*) AS TEXT) || ':' || CAST(COALESCE(sum({hashed}), 0) AS TEXT) FROM pauses)"


def current_sql(dialect: str | None) -> str:
    """TRUE when the kept dates and flags hold for the tables as they are (one row, one column ``ok``)."""
    return (f"SELECT COALESCE((SELECT value FROM settings WHERE key = '{SETTING}') = {fingerprint_sql()} "
            f"AND (SELECT value FROM settings WHERE key = '{PAUSES_SETTING}') = {pauses_digest_sql(dialect)}, "
            "FALSE) AS ok")


@dataclass(frozen=True)
class Kept:
    """Permission to read the kept dates, from :func:`kept`. ``verified``: checked just now on the store's connection
    (DuckDB: no other process writes while this one holds the store), so the query need not check again."""

    verified: bool


def kept(store: Store) -> Kept | None:
    """Whether the status query may read the store's kept dates: None over a lake (no such columns) and when they do
    not hold for the tables as they are (DuckDB); on PostgreSQL, where another process may write between a check
    and the query, the query checks itself."""
    if store.derived_ready:
        return None
    if store.dialect != "duckdb":
        return Kept(verified=False)

    return Kept(verified=True) if _current(store) else None


def _current(store: Store) -> bool:
    """:func:`current_sql` on the store, once per snapshot or read-only connection (``Store.checked``)."""
    def check() -> bool:
        ok = store.con.execute(current_sql(store.dialect)).fetchall()
        return bool(ok and ok[0][0])

    return store.checked("stored_due", check)


def _fingerprint(store: Store) -> str:
    row = store.con.execute(f"SELECT {fingerprint_sql()}").fetchall()
    return str(row[0][0])


def _pauses_digest(store: Store) -> str:
    row = store.con.execute(f"SELECT {pauses_digest_sql(store.dialect)}").fetchall()
    return str(row[0][0])


def needs_refresh(store: Store) -> bool:
    """True when :func:`refresh` would write: the tables changed since the dates were computed, or rows are new."""
    if not _current(store):
        return True
    return bool(store.con.execute("SELECT 1 FROM dossiers WHERE due_ready IS NULL OR paused IS NULL LIMIT 1"
                                  ).fetchall())


def refresh(store: Store, config: Config) -> int:
    """Compute the dates and flags of the rows that need it (every row's date when the tables it depends on changed,
    every row's flag when the pauses changed). Returns the dates computed. Run after the calendar and the deadline
    rules are current (``chiso.api.prepare``)."""
    from chiso.status.timeliness import StatusQuery

    if not needs_refresh(store):
        return 0
    fp, digest = _fingerprint(store), _pauses_digest(store)
    rows = "TRUE" if store.get_setting(SETTING) != fp else "d.due_ready IS NULL"
    count = int(store.con.execute(f"SELECT count(*) FROM dossiers d WHERE {rows}").fetchall()[0][0])
    query = StatusQuery(as_of=FAR, config=config, dialect=store.dialect)
    # One update per chunk of the table: the computed date, or FALSE for the rows the computation does not reach
    # (no calendar day for the day received, a unit or procedure missing), which the full query treats as it always
    # did. Chunks by row number on DuckDB, each its own transaction: one update of 90 million rows spilled its join
    # (10 minutes where 10 million took 4 s). A chunk done before an interruption is right under the new
    # fingerprint, which is stored last: until then the status takes the full computation.
    for chunk in _chunks(store, count):
        with store.transaction() as con:
            computed = query.computed_due_sql(f"AND {rows} {chunk}")
            key = "rowid" if chunk else "dossier_id"
            # the row's paused flag in the same write: on PostgreSQL every UPDATE writes the row anew, and a
            # second pass for the flags took as long as the dates (10⁷ rows: minutes)
            con.execute(f"""UPDATE dossiers SET computed_due = x.computed_due, due_ready = x.reached,
                                                paused = x.paused
                            FROM (SELECT d.{key} AS k, c.computed_due, c.dossier_id IS NOT NULL AS reached,
                                         d.dossier_id IN (SELECT dossier_id FROM pauses) AS paused
                                  FROM dossiers d LEFT JOIN ({computed}) c ON c.dossier_id = d.dossier_id
                                  WHERE {rows} {chunk}) x
                            WHERE dossiers.{key} = x.k""")
    with store.transaction() as con:
        paused = "dossier_id IN (SELECT dossier_id FROM pauses)"
        if store.get_setting(PAUSES_SETTING) != digest:  # every flag that is not what the pauses say (the rows
            # just computed have theirs: these touch only the others whose pauses changed)
            con.execute(f"UPDATE dossiers SET paused = TRUE WHERE paused IS NOT TRUE AND {paused}")
            con.execute(f"UPDATE dossiers SET paused = FALSE WHERE paused IS NOT FALSE AND NOT {paused}")
        else:  # the new rows' flags
            con.execute(f"UPDATE dossiers SET paused = {paused} WHERE paused IS NULL")
        store.set_setting(SETTING, fp)
        store.set_setting(PAUSES_SETTING, digest)
    return count


CHUNK_ROWS = 5_000_000


def _chunks(store: Store, count: int) -> list[str]:
    """Conditions on ``d`` splitting the table into chunks of at most about CHUNK_ROWS rows (DuckDB's row numbers);
    one chunk, no condition, when the rows to compute are fewer or on PostgreSQL."""
    if store.dialect != "duckdb" or count <= CHUNK_ROWS:
        return [""]
    low, high = store.con.execute("SELECT min(rowid), max(rowid) FROM dossiers").fetchall()[0]
    return [f"AND d.rowid BETWEEN {start} AND {start + CHUNK_ROWS - 1}"
            for start in range(int(low), int(high) + 1, CHUNK_ROWS)]
