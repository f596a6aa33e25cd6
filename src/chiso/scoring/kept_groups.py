"""Measure counts kept between runs (số đếm đã chốt): a year scored without computing every dossier of it again.

Once every event of a dossier has happened — received, finished, returned, stopped, the start and end of each of its
pauses — its class, its flags and its procedure's facts are final: the status query gives the same row at every
later moment. ``dossiers.settled_at`` keeps that moment (rounded up to the whole second; 9999-12-31 while the
dossier is open, and for the few whose due date the kept computation does not reach, which the status computes in
full every time). For a period that starts on the first of a month, what a settled dossier adds to each measure
depends on the period through two facts only, and both are read off months: ``handled`` (it ended on or after the
period's start: its end month is not before the start month) and ``received_in_period`` (likewise its received
month). So the store keeps, per unit, received month, end month and settled month, each measure's count twice: as
if received in the period and as if not; and per unit and procedure the first settled month of a dossier (of one paid
online, of one that used population data), which is all the procedure measures read. A scoring at moment M adds

* the kept counts of the groups settled before the boundary B: the first of M's month, or of the next month when M
  is a whole second just before it (a month's, quarter's or year's own moment) — every event of those dossiers
  happened by M, and
* the live counts of every other dossier of the period (``settled_at`` NULL or not before B: open at M, settled
  since, not yet computed), from the usual status query at M with that one condition more.

The counts are brought up to date by :func:`refresh` (``chiso.api.prepare``, after every load and unload), month by
received month: a month is counted again when its dossiers changed (the number of rows and a sum of a hash of each
row's position and load: a replaced, restored or deleted row changes it, the loader writing every version under a
new load) or their pauses did (the same over the pause rows of its dossiers). A day of new dossiers counts again the
current month and the months of the dossiers it ended. What the counts were computed from otherwise (the kept due
dates' fingerprint, the procedures' facts, the measures, the text of this computation) is one fingerprint: when it
changes every month is counted again.

A scoring reads the counts when the fingerprint and the generation hold: the loads recorded (the highest load, the
unloads) and the number of dossiers, as at the last refresh. Every chiso command that writes dossiers records a
load or an unload, and refreshes after it; a load interrupted before its refresh leaves a generation that differs,
and the scorings count every dossier until the next command's preparation (a scoring never writes). The check and
the scoring's statements read one snapshot (:func:`snapshot`): in the web service another thread's load may commit
between them. Like the kept due dates, the counts trust that only chiso writes the dossier rows.

DuckDB only: PostgreSQL and a lake count every dossier of the period at each scoring, as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from chiso.config import Config
from chiso.rules.model import Measure, RuleSet
from chiso.status.stored_due import FAR, SETTING, Kept
from chiso.status.timeliness import StatusQuery, ts_literal
from chiso.store.db import Store

GROUPS = "kept_groups"  # the counts, per unit and months
FLAGS = "kept_group_flags"  # per unit and procedure (by number) and months: when a dossier, one paid online, one that
# used population data first settled (the engine's HANDLED: whether a unit handled any dossier of a procedure)
MONTHS = "kept_group_months"  # the digest of each received month the counts were computed from
PAIRS = "kept_group_pairs"  # every unit and procedure (by number) with dossiers, by received month
PAIR_IDS = "kept_pair_ids"  # a number for every unit and procedure with dossiers, never reused until a full count:
# the flags are grouped by an integer, not by two texts (three times faster)
UNIT_PROCEDURES = "kept_unit_procedures"  # every unit and procedure with dossiers now: the engine's unit_procedures
FLAG_BITS = "kept_flag_bits"  # the flags again, one row per unit and procedure (by number) and year of end month: a
# bit per end month where a dossier, one paid online, one that used population data settled within that month
FLAG_LATE = "kept_flag_late"  # the rows of the flags with a first settled month not their end month (1 %)
APPLICABLE = "kept_applicable"  # the engine's applicable_procedures with the numbers of the pair and the procedure
OPEN_DOSSIERS = "kept_open_dossiers"  # a copy of the rows of the dossiers not settled before the month after the
# latest received (open, never settled, or with events after the data's last month), every column: the live part of
# a scoring reads them here, not from the row groups of the whole table they lie in (:meth:`Use.source`)
OPEN_PAUSES = "kept_open_pauses"  # the pause rows of those dossiers
OPEN_FROM = "kept_open_from"  # the setting: the copy holds the rows settled on or after this moment (ISO text)
FINGERPRINT = "kept_groups_fingerprint"
GENERATION = "kept_groups_generation"
MEASURES = "kept_groups_measures"  # name -> condition of every measure counted, as JSON
KEYS = ("unit_code", "procedure_code", "received_month", "end_month", "settled_month", "in_period", "settled",
        "paid_settled", "population_settled", "pair_id")
MONTHLY = (GROUPS, FLAGS, MONTHS, PAIRS)  # counted again month by received month
TABLES = (*MONTHLY, PAIR_IDS, UNIT_PROCEDURES, FLAG_BITS, FLAG_LATE, APPLICABLE, OPEN_DOSSIERS, OPEN_PAUSES)
OWN = ("dossiers__",)
OPEN = ts_literal(FAR)  # settled_at of a dossier not ended


def _ceil_second(x: str) -> str:
    return (f"(date_trunc('second', {x}) + CASE WHEN {x} > date_trunc('second', {x}) "
            "THEN INTERVAL 1 SECOND ELSE INTERVAL 0 SECOND END)")


def boundary(moment: datetime) -> datetime:
    """B for a scoring at ``moment``: every dossier settled before it had all its events by ``moment``."""
    after = moment + timedelta(seconds=1) if moment.microsecond == 0 else moment
    return datetime(after.year, after.month, 1)


@dataclass(frozen=True)
class Use:
    """Permission to read the kept counts for one scoring (from :func:`use`)."""

    boundary: datetime
    start: date  # the period's first day, the first of a month
    open_from: datetime = FAR  # the copy of the open dossiers holds those settled on or after this moment
    # No dossier was received by the moment (the kept months begin after it): nothing is live, nothing kept counts;
    # the previous period of a first year of data. The engine then builds no status query at all.
    nothing_received: bool = False

    def live_where(self) -> str:
        """The dossiers the kept counts do not hold for this scoring (over ``d``)."""
        return f"(d.settled_at IS NULL OR d.settled_at >= {ts_literal(self.boundary)})"

    def source(self) -> str:
        """The dossier rows the live part reads (the status query's ``source``, every column of ``dossiers``): the
        copy of the dossiers settled on or after ``open_from`` (open ones among them), and, when the boundary is
        before it, those settled between the two from the table. The open dossiers lie in many row groups of the
        table; reading them from the copy instead of decompressing every column of those row groups was most of a
        year's live part (issue 13)."""
        if self.boundary >= self.open_from:
            return OPEN_DOSSIERS
        return f"(SELECT * FROM {OPEN_DOSSIERS} UNION ALL SELECT * FROM dossiers WHERE {self._between()})"

    def pauses(self) -> str:
        """The pause rows of the dossiers the live part reads (the status query's ``pauses``): the status reads them
        per dossier, so those of the others are left out."""
        if self.boundary >= self.open_from:
            return OPEN_PAUSES
        return (f"(SELECT * FROM {OPEN_PAUSES} UNION ALL SELECT * FROM pauses WHERE dossier_id IN "
                f"(SELECT dossier_id FROM dossiers WHERE {self._between()}))")

    def _between(self) -> str:
        return f"settled_at >= {ts_literal(self.boundary)} AND settled_at < {ts_literal(self.open_from)}"

    def _bounds(self) -> tuple[str, str]:
        return ts_literal(datetime.combine(self.start, datetime.min.time())), ts_literal(self.boundary)

    def units_sql(self, measures: list[Measure]) -> str:
        """The kept counts of ``measures`` this scoring adds, per unit (``unit_code`` and one column per measure)."""
        start, b = self._bounds()
        sums = "".join(f', CAST(sum("{m.name}") AS BIGINT) AS "{m.name}"' for m in measures)
        return (f"SELECT unit_code{sums} FROM {GROUPS} WHERE settled_month < {b} AND end_month >= {start} "
                f"AND in_period = (received_month >= {start}) GROUP BY unit_code")

    def flags_sql(self) -> str:
        """The kept flags this scoring adds, per unit and procedure by number (``pair_id``, ``has_dossiers``,
        ``paid_online``, ``used_population_data``; a pair may have several rows, which the reader ORs): whether a
        dossier handled in the period settled before the boundary, one paid online, one that used population data.
        A dossier handled in the period ended in a month from the start's to the boundary's (excluded) and settled
        before the boundary: for the flags settled in their end month, a bit of that month (:data:`FLAG_BITS`); for
        the others, their rows as kept (:data:`FLAG_LATE`)."""
        start, b = self._bounds()
        masks = self._month_masks()
        bits = "SELECT CAST(NULL AS INTEGER) AS pair_id, TRUE, FALSE, FALSE WHERE FALSE"
        if masks:
            window = "CASE year " + " ".join(f"WHEN {y} THEN {m}" for y, m in masks.items()) + " END"
            years = ", ".join(str(y) for y in masks)
            bits = (f"SELECT pair_id, TRUE, (paid_bits & w) <> 0, (population_bits & w) <> 0 "
                    f"FROM (SELECT *, {window} AS w FROM {FLAG_BITS} WHERE year IN ({years})) x "
                    "WHERE (has_bits & w) <> 0")
        return (f"SELECT pair_id, TRUE AS has_dossiers, COALESCE(paid_settled < {b}, FALSE) AS paid_online, "
                f"COALESCE(population_settled < {b}, FALSE) AS used_population_data "
                f"FROM {FLAG_LATE} WHERE settled < {b} AND end_month >= {start} UNION ALL {bits}")

    def _month_masks(self) -> dict[int, int]:
        """Year -> the bits of its months from the start's to the boundary's (excluded); the years without any left
        out. Our own integers: written into the SQL as they are."""
        masks: dict[int, int] = {}
        first, last = (self.start.year, self.start.month), (self.boundary.year, self.boundary.month)
        for year in range(first[0], last[0] + 1):
            low = first[1] - 1 if year == first[0] else 0
            high = last[1] - 1 if year == last[0] else 12
            if high > low:
                masks[year] = (1 << high) - (1 << low)
        return masks


GENERATION_SQL = ("SELECT concat_ws(':', (SELECT max(load_id) FROM loads), "
                  "(SELECT count(unloaded_at) FROM loads), (SELECT count(*) FROM dossiers))")


@contextmanager
def snapshot(store: Store) -> Iterator[None]:
    """One transaction around a scoring's check of the kept counts and its statements, so that they all read one
    snapshot of the store: the web service scores in one thread while another loads, and a load commits before its
    refresh does; between the two the kept counts describe the rows before the load (found in review). Nothing is
    written but temporary tables. Inside a transaction already open on the connection, that one is the snapshot.
    Within it the checks of the kept due dates and counts are made once (``store.snapshot_checks``): a command that
    scores two periods checks once."""
    if store.dialect != "duckdb" or store.in_transaction:  # DuckDB aborts a transaction on a second BEGIN
        yield
        return
    import duckdb

    store.con.execute("BEGIN TRANSACTION")
    store.in_transaction, store.snapshot_checks = True, {}
    try:
        yield
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            store.con.execute("ROLLBACK")
        raise
    else:
        store.con.execute("COMMIT")
    finally:
        store.in_transaction, store.snapshot_checks = False, None


def _library(rs: RuleSet) -> list[Measure]:
    """Every measure over dossiers the rule set defines (not only those it uses): a rule set with the same
    definitions reads the same counts."""
    return [rs.measures[m] for m in sorted(rs.measures) if rs.measures[m].over == "dossiers"]


def _month_after(moment: datetime) -> datetime:
    """The first of the month after ``moment``'s."""
    return datetime(moment.year + (moment.month == 12), moment.month % 12 + 1, 1)


def _months_in(months: list[datetime] | None, column: str) -> str:
    """``column`` within one of the months (all when None), as ranges: a scan skips the blocks outside them."""
    if months is None:
        return "TRUE"
    ranges: list[tuple[datetime, datetime]] = []
    for m in sorted(months):
        after = _month_after(m)
        if ranges and ranges[-1][1] == m:
            ranges[-1] = (ranges[-1][0], after)
        else:
            ranges.append((m, after))
    return "(" + " OR ".join(f"({column} >= {ts_literal(a)} AND {column} < {ts_literal(b)})"
                             for a, b in ranges) + ")" if ranges else "FALSE"


def _facts_sql(config: Config, months: list[datetime] | None) -> str:
    """The fact rows of the settled dossiers received in ``months`` (all when None), computed at a moment after every
    event (``FAR``) through the same status query and fact row as any scoring."""
    from chiso.scoring.engine import CARRY, facts_select

    status = StatusQuery(as_of=FAR, config=config, carry=(*CARRY, "settled_at"), dialect="duckdb",
                         stored_due=Kept(verified=True), where=_settled_in(months)).sql()
    return facts_select(status, "s.timeliness", "s.received_at, s.settled_at, TRUE AS handled")


def _counts_sql(rs: RuleSet, config: Config, months: list[datetime] | None) -> str:
    """The kept counts per unit and months."""
    counts = "".join(f', count(*) FILTER (WHERE {m.where}) AS "{m.name}"' for m in _library(rs))
    return f"""
SELECT f.unit_code, date_trunc('month', f.received_at) AS received_month, date_trunc('month', f.end_at) AS end_month,
       date_trunc('month', f.settled_at) AS settled_month, k.received_in_period AS in_period,
       count(*) AS dossiers__{counts}
FROM ({_facts_sql(config, months)}) f CROSS JOIN (VALUES (TRUE), (FALSE)) k(received_in_period)
GROUP BY ALL"""


def _settled_in(months: list[datetime] | None) -> str:
    return f"d.settled_at < {OPEN} AND {_months_in(months, 'd.received_at')}"


def _flags_sql(config: Config, months: list[datetime] | None) -> str:
    """Per unit and procedure (by number), received and end month, the first month a settled dossier settled, one
    paid online, one that used population data: what the flags of the engine's HANDLED read (from the same fact rows
    as the counts)."""
    settled = "date_trunc('month', f.settled_at)"
    return (f"SELECT i.pair_id, date_trunc('month', f.received_at) AS received_month, "
            f"date_trunc('month', f.end_at) AS end_month, min({settled}) AS settled, "
            f"min({settled}) FILTER (WHERE f.paid_online) AS paid_settled, "
            f"min({settled}) FILTER (WHERE f.used_population_data) AS population_settled "
            f"FROM ({_facts_sql(config, months)}) f "
            f"JOIN {PAIR_IDS} i ON i.unit_code = f.unit_code AND i.procedure_code = f.procedure_code GROUP BY ALL")


def _settle(months: list[datetime] | None) -> list[str]:
    """The statements that compute ``settled_at`` for the dossiers received in ``months`` (all when None) and those
    not computed: from the row, then later for a pause after its last event. A dossier whose due date the kept
    computation does not reach (``due_ready`` not TRUE: the status computes it in full) is never settled."""
    rows = f"(dossiers.settled_at IS NULL OR {_months_in(months, 'dossiers.received_at')})"
    end = "COALESCE(finished_at, returned_at, stopped_at)"
    last = _ceil_second("GREATEST(received_at, finished_at, returned_at, stopped_at)")
    pauses = ("SELECT dossier_id, GREATEST(max(started_at), max(ended_at)) AS last FROM pauses "
              "GROUP BY dossier_id")
    return [f"UPDATE dossiers SET settled_at = CASE WHEN {end} IS NULL OR due_ready IS NOT TRUE THEN {OPEN} "
            f"ELSE {last} END WHERE {rows}",
            f"UPDATE dossiers SET settled_at = {_ceil_second('p.last')} FROM ({pauses}) p "
            f"WHERE dossiers.dossier_id = p.dossier_id AND dossiers.paused AND {rows} "
            f"AND dossiers.settled_at < {OPEN} AND p.last > dossiers.settled_at"]


def _count(con: Any, rs: RuleSet, config: Config, months: list[datetime] | None,
           digests: dict[datetime, tuple[Any, ...]]) -> None:
    """Count the months into the tables: all of them, the tables made anew (``months`` None), or those listed, whose
    ``digests`` were just computed."""
    if months is None:
        con.execute(f"CREATE TABLE {PAIR_IDS} AS SELECT CAST(row_number() OVER (ORDER BY unit_code, procedure_code) "
                    "AS INTEGER) AS pair_id, unit_code, procedure_code "
                    "FROM (SELECT DISTINCT unit_code, procedure_code FROM dossiers)")
    else:  # the new pairs of the months numbered after the others
        con.execute(f"INSERT INTO {PAIR_IDS} SELECT CAST((SELECT COALESCE(max(pair_id), 0) FROM {PAIR_IDS}) "
                    "+ row_number() OVER (ORDER BY unit_code, procedure_code) AS INTEGER), unit_code, procedure_code "
                    f"FROM (SELECT DISTINCT unit_code, procedure_code FROM dossiers d "
                    f"WHERE {_months_in(months, 'd.received_at')} AND NOT EXISTS (SELECT 1 FROM {PAIR_IDS} i "
                    "WHERE i.unit_code = d.unit_code AND i.procedure_code = d.procedure_code))")
    for table, select in ((GROUPS, _counts_sql(rs, config, months)), (FLAGS, _flags_sql(config, months)),
                          (PAIRS, _pairs_sql(months))):
        if months is None:
            con.execute(f"CREATE TABLE {table} AS {select}")
        else:
            con.execute(f"INSERT INTO {table} {select}")
    con.execute(f"CREATE OR REPLACE TABLE {UNIT_PROCEDURES} AS SELECT i.pair_id, i.unit_code, i.procedure_code "
                f"FROM {PAIR_IDS} i WHERE i.pair_id IN (SELECT pair_id FROM {PAIRS})")
    if months is None:
        con.execute(f"CREATE TABLE {MONTHS} AS {DIGEST_SQL}")
        return
    rows = [(m, *digests[m]) for m in months if m in digests]  # our own integers: written as literals
    if rows:
        con.execute(f"INSERT INTO {MONTHS} VALUES " + ", ".join(
            f"({ts_literal(m)}, " + ", ".join("NULL" if v is None else f"CAST('{int(v)}' AS HUGEINT)" for v in rest)
            + ")" for m, *rest in rows))


_BIT = "CAST(1 << (month(end_month) - 1) AS INTEGER)"  # the end month's bit


def _flag_bits_sql(since: datetime | None = None) -> str:
    """The rows of :data:`FLAG_BITS` from the flags (those ending from ``since`` on)."""
    where = f"WHERE end_month >= {ts_literal(since)} " if since else ""
    return (f"SELECT pair_id, CAST(year(end_month) AS INTEGER) AS year, "
            f"CAST(COALESCE(bit_or({_BIT}) FILTER (WHERE settled = end_month), 0) AS INTEGER) AS has_bits, "
            f"CAST(COALESCE(bit_or({_BIT}) FILTER (WHERE paid_settled = end_month), 0) AS INTEGER) AS paid_bits, "
            f"CAST(COALESCE(bit_or({_BIT}) FILTER (WHERE population_settled = end_month), 0) AS INTEGER) "
            f"AS population_bits FROM {FLAGS} {where}GROUP BY ALL")


def _flag_late_sql(since: datetime | None = None) -> str:
    """The rows of :data:`FLAG_LATE` from the flags (those ending from ``since`` on)."""
    where = f"end_month >= {ts_literal(since)} AND " if since else ""
    return (f"SELECT pair_id, end_month, settled, paid_settled, population_settled FROM {FLAGS} WHERE {where}"
            "(settled <> end_month OR paid_settled <> end_month OR population_settled <> end_month)")


def _applicable_sql() -> str:
    """The procedures applicable to each unit (the engine's ``applicable_sql`` over the kept pairs), with the pair's
    number (NULL for a procedure of the unit's level without dossiers) and a number per procedure."""
    from chiso.scoring.engine import applicable_sql

    return (f"SELECT a.*, i.pair_id, CAST(dense_rank() OVER (ORDER BY a.procedure_code) AS INTEGER) AS procedure_no "
            f"FROM ({applicable_sql(UNIT_PROCEDURES)}) a LEFT JOIN {PAIR_IDS} i "
            "ON i.unit_code = a.unit_code AND i.procedure_code = a.procedure_code")


def _derive(con: Any, months: list[datetime] | None) -> None:
    """Derive :data:`FLAG_BITS` and :data:`FLAG_LATE` from the flags of the years the months counted again reach
    (all when ``months`` is None: 0.25 s for 1.8 million rows; a month's dossiers end in it or later, so the years
    before its own keep their bits), and :data:`APPLICABLE` from the units, the procedures and the kept pairs at
    every refresh (a units or procedures file is a load too)."""
    if months is None:
        con.execute(f"CREATE OR REPLACE TABLE {FLAG_BITS} AS {_flag_bits_sql()}")
        con.execute(f"CREATE OR REPLACE TABLE {FLAG_LATE} AS {_flag_late_sql()}")
    elif months:
        since = datetime(min(months).year, 1, 1)
        con.execute(f"DELETE FROM {FLAG_BITS} WHERE year >= {since.year}")
        con.execute(f"INSERT INTO {FLAG_BITS} {_flag_bits_sql(since)}")
        con.execute(f"DELETE FROM {FLAG_LATE} WHERE end_month >= {ts_literal(since)}")
        con.execute(f"INSERT INTO {FLAG_LATE} {_flag_late_sql(since)}")
    con.execute(f"CREATE OR REPLACE TABLE {APPLICABLE} AS {_applicable_sql()}")


def open_from(con: Any) -> datetime:
    """The moment the copy of the open dossiers starts from: the first of the month after the latest received
    dossier. A scoring of a period that ended before it reads the rest of its live dossiers from the table."""
    latest = con.execute("SELECT max(received_at) FROM dossiers").fetchall()[0][0]
    if latest is None:
        return FAR
    return _month_after(latest)


def _open_rows(since: datetime) -> str:
    """The rows of ``d`` the copy of the open dossiers holds when it starts from ``since``."""
    return f"(d.settled_at IS NULL OR d.settled_at >= {ts_literal(since)})"


def _copy_open(store: Store, months: list[datetime] | None) -> None:
    """Bring the copy of the open dossiers (:data:`OPEN_DOSSIERS`) and of their pauses up to date with the months
    just settled: made anew (``months`` None, or the cut-off moved back), or those months' rows replaced and the rows
    before a later cut-off left out. A dossier's settled moment changes only when its received month is counted again
    (its row, or its pauses, changed); the columns of the copy are those of ``dossiers`` (part of the fingerprint: a
    new column counts every month again)."""
    con = store.con
    held = store.get_setting(OPEN_FROM)
    before, after = datetime.fromisoformat(held) if held else None, open_from(con)
    rows = _open_rows(after)
    if months is None or before is None or after < before:
        con.execute(f"CREATE OR REPLACE TABLE {OPEN_DOSSIERS} AS SELECT * FROM dossiers d WHERE {rows}")
    else:
        if after > before:
            con.execute(f"DELETE FROM {OPEN_DOSSIERS} d WHERE NOT {rows}")
        if months:
            con.execute(f"DELETE FROM {OPEN_DOSSIERS} WHERE {_months_in(months, 'received_at')}")
            con.execute(f"INSERT INTO {OPEN_DOSSIERS} SELECT * FROM dossiers d "
                        f"WHERE {rows} AND {_months_in(months, 'd.received_at')}")
    con.execute(f"CREATE OR REPLACE TABLE {OPEN_PAUSES} AS SELECT * FROM pauses "
                f"WHERE dossier_id IN (SELECT dossier_id FROM {OPEN_DOSSIERS})")
    store.set_setting(OPEN_FROM, after.isoformat())


def _pairs_sql(months: list[datetime] | None) -> str:
    return (f"SELECT DISTINCT date_trunc('month', d.received_at) AS received_month, i.pair_id FROM dossiers d "
            f"JOIN {PAIR_IDS} i ON i.unit_code = d.unit_code AND i.procedure_code = d.procedure_code "
            f"WHERE {_months_in(months, 'd.received_at')}")


DIGEST_SQL = """
SELECT coalesce(d.received_month, p.received_month) AS received_month, d.n, d.loads, p.n AS pauses,
       p.loads AS pause_loads
FROM (SELECT date_trunc('month', received_at) AS received_month, count(*) AS n, sum(hash(rowid, load_id)) AS loads
      FROM dossiers GROUP BY 1) d
FULL JOIN (SELECT date_trunc('month', d.received_at) AS received_month, count(*) AS n,
                  sum(hash(p.rowid, p.load_id)) AS loads
           FROM pauses p JOIN dossiers d ON d.dossier_id = p.dossier_id GROUP BY 1) p
  ON p.received_month = d.received_month"""


_CODE: dict[tuple[Any, ...], str] = {}  # the computation's text per measures and configuration: built once


def _code(rs: RuleSet, config: Config) -> str:
    key = (tuple((m.name, m.where) for m in _library(rs)), repr(config))
    if key not in _CODE:
        text = "\n".join((_counts_sql(rs, config, None), *_settle(None), _flags_sql(config, None), _pairs_sql(None),
                          DIGEST_SQL, _flag_bits_sql(), _flag_late_sql(), _applicable_sql(), _open_rows(FAR)))
        _CODE[key] = hashlib.sha256(text.encode()).hexdigest()
    return _CODE[key]


def _fingerprint(store: Store, rs: RuleSet, config: Config) -> str:
    row = store.con.execute(
        "SELECT md5(COALESCE(string_agg(code || ':' || concat_ws(',', full_online_eligible, online_level, "
        "fee_bearing, paper_result, data_replaceable), '|' ORDER BY code), '')) FROM procedures").fetchall()
    columns = store.con.execute("SELECT string_agg(table_name || '.' || column_name || ' ' || data_type, ',' "
                                "ORDER BY table_name, ordinal_position) "
                                "FROM information_schema.columns WHERE table_schema = current_schema() "
                                "AND table_name IN ('dossiers', 'pauses')").fetchall()
    text = "\n".join((_code(rs, config), store.get_setting(SETTING) or "", str(row[0][0]), str(columns[0][0])))
    return hashlib.sha256(text.encode()).hexdigest()


def _generation(store: Store) -> str:
    return str(store.con.execute(GENERATION_SQL).fetchall()[0][0])


def _usable(store: Store, rs: RuleSet) -> bool:
    names = {m.name.lower() for m in _library(rs)}  # DuckDB's names are case-insensitive: In_Period is in_period
    return (store.dialect == "duckdb" and not store.derived_ready
            and not names & {*KEYS, *OWN, "has_dossiers", "paid_online", "used_population_data"})


def _tables_exist(store: Store) -> bool:
    names = ", ".join(f"'{t}'" for t in TABLES)
    row = store.con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() "
                            f"AND table_name IN ({names})").fetchall()
    return int(row[0][0]) == len(TABLES)


def current(store: Store, rs: RuleSet, config: Config) -> bool:
    """True when the kept counts hold for the store as it is and the rule set's measures (or cannot be kept)."""
    if not _usable(store, rs):
        return True
    return store.checked(("kept_groups", _code(rs, config)), lambda: (
        store.get_setting(FINGERPRINT) == _fingerprint(store, rs, config)
        and store.get_setting(GENERATION) == _generation(store) and _tables_exist(store)))


def use(store: Store, rs: RuleSet, config: Config, measures: list[Measure], start: date, moment: datetime,
        kept: Kept | None) -> Use | None:
    """The kept counts for a scoring of the period starting on ``start`` at ``moment``, counting ``measures``; None
    when the scoring must count every dossier: not the embedded store, the kept due dates not current (``kept``), a
    period not starting on the first of a month, a measure the counts do not hold as defined here, or counts not
    current (something was loaded or unloaded since :func:`refresh`, which ``chiso.api.prepare`` runs: a scoring
    never writes, so that two at once never race to refresh)."""
    if start.day != 1 or kept is None or not kept.verified or not _usable(store, rs):
        return None
    if not current(store, rs, config):  # brought up to date by chiso.api.prepare only: a scoring never writes
        return None
    held = json.loads(store.get_setting(MEASURES) or "{}")
    if any(held.get(m.name) != m.where for m in measures):
        return None
    held, first = store.checked(("kept_groups_since",), lambda: (store.get_setting(OPEN_FROM), store.con.execute(
        f"SELECT min(received_month) FROM {MONTHS} WHERE n > 0").fetchall()[0][0]))
    return Use(boundary(moment), start, datetime.fromisoformat(held) if held else FAR,
               nothing_received=first is None or first > moment)


def refresh(store: Store, rs: RuleSet, config: Config) -> bool:
    """Count again the months whose dossiers or pauses changed (every month when the fingerprint changed). False
    when the counts are not current and the store is read-only, or cannot be kept (not the embedded store)."""
    if not _usable(store, rs):
        return False
    con = store.con
    fingerprint, generation = _fingerprint(store, rs, config), _generation(store)
    same = store.get_setting(FINGERPRINT) == fingerprint and _tables_exist(store)
    if same and store.get_setting(GENERATION) == generation:
        return True
    if store.read_only:
        return False
    with store.transaction():
        months: list[datetime] | None = None
        now: dict[datetime, tuple[Any, ...]] = {}
        if same:
            now = {r[0]: tuple(r[1:]) for r in con.execute(DIGEST_SQL).fetchall()}
            kept = {r[0]: tuple(r[1:]) for r in con.execute(f"SELECT * FROM {MONTHS}").fetchall()}
            months = sorted(m for m in now.keys() | kept.keys() if now.get(m) != kept.get(m))
        for statement in _settle(months):  # no change to the digests: rows keep their positions and loads
            con.execute(statement)
        if months is None:
            for table in TABLES:
                con.execute(f"DROP TABLE IF EXISTS {table}")
        else:
            for table in MONTHLY:
                con.execute(f"DELETE FROM {table} WHERE {_months_in(months, 'received_month')}")
        if months is None or months:
            _count(con, rs, config, months, now)
        _copy_open(store, months)
        _derive(con, months)
        store.set_setting(FINGERPRINT, fingerprint)
        store.set_setting(GENERATION, generation)
        store.set_setting(MEASURES, json.dumps({m.name: m.where for m in _library(rs)}, ensure_ascii=False))
    return True
