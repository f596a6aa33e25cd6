"""Status of every dossier at a moment (tình trạng hồ sơ tại thời điểm), by the 766 rules.

One set-based query over the whole dossier table (no Python loop over dossiers):

* end of processing = ``finished_at``, else ``returned_at``, else ``stopped_at`` — only what had happened
  by the as-of moment counts;
* the due date is the source's first ``due_at`` (``original_due_at``; edits by administrators do not
  move it), else computed from the procedure's statutory time (:mod:`chiso.calendar.deadlines`);
* clock-stopping pauses (completed supplement requests by default, and the sector-law pause kinds in
  the configuration) extend the due date by their working time (resume mode) — only pauses that start
  at or before the due moment as extended by the pauses before them: a request made when the dossier
  is already overdue neither moves the due date nor cures the overdue (taken in order of start, the
  pauses that count are a prefix, found with two window passes); in restart mode a completed
  supplement restarts the count from the citizen's resubmission;
* a supplement request still waiting for the citizen freezes the dossier: it cannot become late;
* more than one supplement request makes the dossier late (766 method).

The steps are CTEs, each read once, so that DuckDB streams the dossiers through them: the due-date steps are
written twice (:meth:`StatusQuery._due_chain`), for every dossier and for the few with clock-stopping pauses,
rather than read twice (a CTE read twice is a copy of every dossier: 5.7 GB at 10 million). For PostgreSQL the
steps whose columns later steps build on are ``MATERIALIZED``: it otherwise inlines each once-used CTE into the
next, and the expression trees grow with every step (a status of 40,000 dossiers took 6 s instead of 1.8 s).
DuckDB and Spark get no hint: each would be a copy of every dossier. Spark streams the chain like DuckDB (its
optimizer does not merge a step into the next where that would repeat an expression); caching the three heavy steps
of every dossier, as it once did, was half of its time (a month of 10⁶ dossiers: 202 s with them, 96 s without,
the same scores).

With ``stored_due`` (a store's own tables, prepared) the dossiers without pauses take none of these steps: their
due date before pauses is kept in the store (:mod:`chiso.status.stored_due`), and the chain runs only for the
dossiers with pauses or not yet computed, few enough to be read twice. The fingerprint check is part of the query.

Classes (``timeliness``): ``early`` (ended, not late, end date before due date), ``on_time`` (ended, not
late, same date), ``late`` (ended after the due moment, or >1 supplement), ``pending`` (not ended, due
not passed, or waiting for the citizen), ``pending_late`` (not ended and due passed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from chiso.calendar.deadlines import (
    calendar_raw_due,
    due_work_seconds,
    from_work_seconds,
    ordinal_of,
    rule_columns_sql,
    rule_joins_sql,
    start_seconds,
    work_seconds,
)
from chiso.config import Config

if TYPE_CHECKING:
    from chiso.status.stored_due import Kept

CLASSES = ("early", "on_time", "late", "pending", "pending_late")
CLASS_LABELS = {
    "early": "Trước hạn",
    "on_time": "Đúng hạn",
    "late": "Quá hạn",
    "pending": "Đang xử lý trong hạn",
    "pending_late": "Đang xử lý quá hạn",
}
STREAMING = ("duckdb", "spark")  # engines that stream the status steps without the MATERIALIZED hints
OUTPUT_COLUMNS = ("dossier_id", "unit_code", "procedure_code", "received_at", "due_at", "end_at", "timeliness")
DETAIL_COLUMNS = ("original_due_at", "due_source", "paused_seconds", "supplements", "waiting_since")


def ts_literal(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.strftime('%Y-%m-%d %H:%M:%S')}'"


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class StatusQuery:
    """Builds the status SQL for one as-of moment; ``source`` names the dossier table or view."""

    as_of: datetime
    config: Config
    unit: str | None = None
    source: str = "dossiers"
    pauses: str = "pauses"
    # Leave out dossiers whose processing ended before this moment (scoring a period needs only those
    # handled in it or still open): a pushdown that keeps a month of a long history fast.
    ended_since: datetime | None = None
    # Carry the dossier's officer (cán bộ xử lý) to the output: `chiso status` lists it.
    with_officer: bool = False
    # Columns of the dossier row carried through to the output as they are (the index engine's facts: channel,
    # fee, the digital-service flags), so that no reader joins the status back to the dossiers on their text key:
    # at 10 million dossiers that join was most of the scoring time (issue 13).
    carry: tuple[str, ...] = ()
    # The engine the text is for (the store's dialect): PostgreSQL gets the MATERIALIZED hints, DuckDB and Spark
    # stream without them. None: with the hints, right everywhere.
    dialect: str | None = None
    # Read the due dates kept in the store (``dossiers.computed_due``, :mod:`chiso.status.stored_due`) for the
    # dossiers without pauses; the others take the full computation. Only from ``stored_due.kept(store)``, which
    # checked that they hold for the tables as they are (or leaves the check to the query). Only over the store's
    # own ``dossiers`` table (a lake has no such column).
    stored_due: Kept | None = None
    # One more condition on the dossier row ``d`` (SQL, built by chiso, never from input): the index engine's live
    # part, the dossiers its kept counts do not hold (:mod:`chiso.scoring.kept_groups`).
    where: str = ""
    # ``source`` is a selection of the store's own ``dossiers`` rows with every column (the kept due dates included):
    # the index engine's live part reads the copy of the open dossiers and the settled rows (kept_groups.Use.source).
    own_rows: bool = False

    def carried(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*(("officer",) if self.with_officer else ()), *self.carry)))

    def unit_filter(self) -> str:
        if not self.unit:
            return ""
        return f"""AND d.unit_code IN (
            WITH RECURSIVE tree(code) AS (
                SELECT code FROM units WHERE code = {_quote(self.unit)}
                UNION SELECT u.code FROM units u JOIN tree t ON u.parent_code = t.code)
            SELECT code FROM tree)"""

    def ended_filter(self) -> str:
        if self.ended_since is None:
            return ""
        return (f"AND (COALESCE(d.finished_at, d.returned_at, d.stopped_at) IS NULL "
                f"OR COALESCE(d.finished_at, d.returned_at, d.stopped_at) >= {ts_literal(self.ended_since)})")

    def extra_filter(self) -> str:
        return f"AND ({self.where})" if self.where else ""

    def materialized(self) -> str:
        """The planner hint of the heavy steps, for the engines that want it (see the module's docstring)."""
        return "" if self.dialect in STREAMING else " MATERIALIZED"

    def _due_chain(self, suffix: str, only: str, carried: tuple[str, ...], first: bool = False) -> str:
        """The steps from a dossier row to its due date before pauses (``base{suffix}`` … ``s4w{suffix}``), over the
        dossiers ``only`` keeps. Written twice by :meth:`sql`: for every dossier, and for the few with clock-stopping
        pauses, whose pause lengths need the due date first. Each step has one reader, so DuckDB streams the
        dossiers through the chain instead of keeping a copy of every step (at 10 million dossiers: 5.7 GB and
        most of the time, issue 13)."""
        t = ts_literal(self.as_of)
        mat = self.materialized()
        x = suffix
        # ``first``: the dossiers ``only`` keeps are chosen before the joins (a few of many)
        source = f"(SELECT * FROM {self.source} d WHERE TRUE {only})" if first else self.source
        return f"""
base{x} AS (
    SELECT d.dossier_id, d.unit_code, d.procedure_code, d.received_at,{"".join(f" d.{c}," for c in carried)}
           COALESCE(d.original_due_at, d.due_at) AS source_due,
           d.supplement_count, p.time_limit, COALESCE(p.time_unit, 'working_days') AS time_unit,
           COALESCE(u.province_code, '') AS ck,
           CASE WHEN d.finished_at <= {t} THEN d.finished_at
                WHEN d.returned_at <= {t} THEN d.returned_at
                WHEN d.stopped_at <= {t} THEN d.stopped_at END AS end_at,
           {rule_columns_sql()}
    FROM {source} d
    JOIN units u ON u.code = d.unit_code
    JOIN procedures p ON p.code = d.procedure_code
    {rule_joins_sql("COALESCE(u.province_code, '')", "d.procedure_code")}
    WHERE d.received_at <= {t} {self.unit_filter()} {self.ended_filter()} {self.extra_filter()} {"" if first else only}
),
st{x} AS (
    SELECT b.*, COALESCE(b.supplement_count, pz.n_supp, 0) AS supplements, pz.waiting_since,
           CASE WHEN b.supplement_mode = 'restart' AND pz.last_supp_end IS NOT NULL
                     AND (b.time_limit IS NOT NULL OR b.time_unit = 'same_day')
                THEN pz.last_supp_end ELSE b.received_at END AS start_at,
           COALESCE(b.supplement_mode = 'restart' AND pz.last_supp_end IS NOT NULL
                    AND (b.time_limit IS NOT NULL OR b.time_unit = 'same_day'), FALSE) AS restarted
    FROM base{x} b LEFT JOIN pz ON pz.dossier_id = b.dossier_id
),
s1{x} AS{mat} (
    SELECT st.*, {start_seconds('st.start_at', 'c', 'st')} AS start_ws,
           {calendar_raw_due('st.start_at', 'st.time_limit')} AS cal_raw
    FROM st{x} st JOIN calendar_days c ON c.calendar_key = st.ck AND c.day = CAST(st.start_at AS DATE)
),
s2{x} AS (
    SELECT s1.*, {due_work_seconds('s1.start_ws', 's1.time_limit', 's1.time_unit', 's1')} AS due_ws
    FROM s1{x} s1
),
s3{x} AS{mat} (
    SELECT s2.*,
           CASE WHEN s2.time_limit IS NULL AND s2.time_unit <> 'same_day' THEN NULL
                WHEN s2.time_unit = 'calendar_days' THEN
                     CASE WHEN cr.is_working THEN s2.cal_raw
                          ELSE CAST(wn.day AS TIMESTAMP) + CAST(s2.afternoon_end AS BIGINT) * INTERVAL '1 second' END
                ELSE {from_work_seconds('s2.due_ws', 'wd', 's2')} END AS computed_due
    FROM s2{x} s2
    LEFT JOIN calendar_days wd ON wd.calendar_key = s2.ck AND wd.is_working
         AND wd.working_ordinal = {ordinal_of('s2.due_ws', 's2')}
    LEFT JOIN calendar_days cr ON cr.calendar_key = s2.ck AND cr.day = CAST(s2.cal_raw AS DATE)
    LEFT JOIN calendar_days wn ON wn.calendar_key = s2.ck AND wn.is_working
         AND wn.working_ordinal = cr.working_ordinal + 1
),
s4{x} AS (
    SELECT s3.*,
           CASE WHEN s3.restarted THEN s3.computed_due ELSE COALESCE(s3.source_due, s3.computed_due) END AS base_due,
           CASE WHEN s3.restarted OR s3.source_due IS NULL THEN 'computed' ELSE 'source' END AS due_source
    FROM s3{x} s3
),
s4w{x} AS (
    SELECT s4.*, {work_seconds('s4.base_due', 'cd', 's4')} AS base_ws
    FROM s4{x} s4 LEFT JOIN calendar_days cd ON cd.calendar_key = s4.ck AND cd.day = CAST(s4.base_due AS DATE)
)"""

    def computed_due_sql(self, only: str) -> str:
        """Each dossier's due date from its procedure's statutory time, counted from the day received (no pauses, no
        restart): what :mod:`chiso.status.stored_due` keeps. ``only`` restricts the dossiers (SQL over ``d``)."""
        return f"""
WITH pz AS (
    SELECT CAST(NULL AS TEXT) AS dossier_id, CAST(NULL AS BIGINT) AS n_supp,
           CAST(NULL AS TIMESTAMP) AS waiting_since, CAST(NULL AS TIMESTAMP) AS last_supp_end
    WHERE FALSE
),{self._due_chain("", only, ())}
SELECT dossier_id, computed_due FROM s3
"""

    def _stored(self) -> bool:
        return self.stored_due is not None and (self.source == "dossiers" or self.own_rows)

    def sql(self) -> str:
        t = ts_literal(self.as_of)
        kinds = ", ".join(_quote(k) for k in self.config.pause_kinds) or "''"
        mat = self.materialized()
        stopping = f"pa.started_at <= {t} AND pa.kind IN ({kinds})"
        # Pauses stop the clock until they end, the dossier ends or the as-of moment, whichever is first.
        pause_end = (
            f"LEAST(COALESCE(CASE WHEN pa.ended_at <= {t} THEN pa.ended_at END, {t}), COALESCE(b.end_at, {t}))"
        )
        with_pauses = f"AND d.dossier_id IN (SELECT pa.dossier_id FROM {self.pauses} pa WHERE {stopping})"
        carried = "".join(f", {c}" for c in self.carried())
        # The due dates before pauses of the dossiers with clock-stopping pauses, which the pause lengths need: a
        # chain of their own over every dossier (the full computation streams through its chain once); with kept
        # dates the full chain holds only the few dossiers with pauses or not yet computed, and is read twice.
        paused_chain, paused_due = self._due_chain("_p", with_pauses, ()) + ",", "s4w_p"
        every, stored = "", ""
        if self._stored():
            from chiso.status.stored_due import current_sql

            # Which path a dossier takes is read from its own row (a filter the scan applies, not a join of every
            # dossier): the kept date when it is computed and the dossier has no pauses, the full chain otherwise.
            fast = "d.due_ready AND NOT d.paused"
            every = "AND (d.due_ready IS NOT TRUE OR d.paused IS NOT FALSE)"
            guard = ""
            if self.stored_due is not None and not self.stored_due.verified:  # the query checks the fingerprint
                guard = f"\ndv AS ({current_sql(self.dialect)}),"
                fast = f"(SELECT ok FROM dv) AND {fast}"
                every = "AND (NOT (SELECT ok FROM dv) OR d.due_ready IS NOT TRUE OR d.paused IS NOT FALSE)"
            stored = f"""{guard}
kept AS (
    SELECT d.dossier_id, d.unit_code, d.procedure_code, d.received_at,{"".join(f" d.{c}," for c in self.carried())}
           CASE WHEN d.finished_at <= {t} THEN d.finished_at
                WHEN d.returned_at <= {t} THEN d.returned_at
                WHEN d.stopped_at <= {t} THEN d.stopped_at END AS end_at,
           COALESCE(d.original_due_at, d.due_at, d.computed_due) AS base_due,
           CASE WHEN COALESCE(d.original_due_at, d.due_at) IS NULL THEN 'computed' ELSE 'source' END AS due_source,
           COALESCE(d.supplement_count, 0) AS supplements
    FROM {self.source} d
    WHERE {fast} AND d.received_at <= {t} {self.unit_filter()} {self.ended_filter()} {self.extra_filter()}
),"""
            paused_chain, paused_due = "", "s4w"
        return f"""
WITH pz AS (
    SELECT pa.dossier_id,
           count(*) FILTER (WHERE pa.kind = 'supplement') AS n_supp,
           min(pa.started_at) FILTER (WHERE pa.kind = 'supplement'
                                      AND (pa.ended_at IS NULL OR pa.ended_at > {t})) AS waiting_since,
           max(pa.ended_at) FILTER (WHERE pa.kind = 'supplement' AND pa.ended_at <= {t}) AS last_supp_end
    FROM {self.pauses} pa
    WHERE pa.started_at <= {t}
    GROUP BY pa.dossier_id
),{stored}{self._due_chain("", every, self.carried(), first=bool(every))},{paused_chain}
pw AS (
    SELECT pa.dossier_id, pa.kind, pa.started_at, b.base_ws,
           {work_seconds('pa.started_at', 'cs', 'b')} AS s_ws,
           CASE WHEN {pause_end} > pa.started_at
                THEN {work_seconds(pause_end, 'ce', 'b')} - {work_seconds('pa.started_at', 'cs', 'b')}
                ELSE 0 END AS d_ws
    FROM {self.pauses} pa
    JOIN {paused_due} b ON b.dossier_id = pa.dossier_id
    JOIN calendar_days cs ON cs.calendar_key = b.ck AND cs.day = CAST(pa.started_at AS DATE)
    JOIN calendar_days ce ON ce.calendar_key = b.ck AND ce.day = CAST({pause_end} AS DATE)
    WHERE {stopping}
      AND NOT (pa.kind = 'supplement' AND b.supplement_mode = 'restart')
),
pw2 AS (
    SELECT pw.*, pw.s_ws - COALESCE(sum(pw.d_ws) OVER (PARTITION BY pw.dossier_id ORDER BY pw.started_at, pw.kind
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS slack
    FROM pw
),
pw3 AS (
    SELECT pw2.*, max(pw2.slack) OVER (PARTITION BY pw2.dossier_id ORDER BY pw2.started_at, pw2.kind
                                       ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS worst
    FROM pw2
),
pt AS (
    SELECT dossier_id, sum(d_ws) AS paused_s FROM pw3 WHERE worst <= base_ws GROUP BY dossier_id
),
s5 AS{mat} (
    SELECT s4w.*, COALESCE(pt.paused_s, 0) AS paused_s, s4w.base_ws + COALESCE(pt.paused_s, 0) AS adj_ws
    FROM s4w LEFT JOIN pt ON pt.dossier_id = s4w.dossier_id
),
s6 AS (
    SELECT s5.*,
           CASE WHEN s5.paused_s = 0 THEN s5.base_due ELSE {from_work_seconds('s5.adj_ws', 'wa', 's5')} END AS due_at,
           COALESCE(CASE WHEN s5.waiting_since < s5.end_at THEN s5.waiting_since END, s5.end_at) AS end_cmp
    FROM s5
    LEFT JOIN calendar_days wa ON s5.paused_s <> 0 AND wa.calendar_key = s5.ck AND wa.is_working
         AND wa.working_ordinal = {ordinal_of('s5.adj_ws', 's5')}
)
{self._rows(carried)}
SELECT dossier_id, unit_code, procedure_code, received_at, due_at, end_at,
       CASE WHEN end_at IS NOT NULL THEN
                CASE WHEN supplements > 1 OR end_cmp > due_at THEN 'late'
                     WHEN CAST(end_cmp AS DATE) < CAST(due_at AS DATE) THEN 'early'
                     ELSE 'on_time' END
            WHEN supplements > 1 THEN 'pending_late'
            WHEN waiting_since IS NOT NULL AND waiting_since <= due_at THEN 'pending'
            WHEN {t} > due_at THEN 'pending_late'
            ELSE 'pending' END AS timeliness,
       base_due AS original_due_at, due_source, CAST(paused_s AS BIGINT) AS paused_seconds, supplements, waiting_since
       {carried}
FROM every_row
"""

    def _rows(self, carried: str) -> str:
        """The step the classes are read from: every dossier of the full computation, and those of the kept dates."""
        columns = ("dossier_id, unit_code, procedure_code, received_at, due_at, end_at, end_cmp, supplements, "
                   f"waiting_since, base_due, due_source, paused_s{carried}")
        if not self._stored():
            return f", every_row AS (SELECT {columns} FROM s6)"
        return f""", every_row AS (
    SELECT {columns} FROM s6
    UNION ALL
    SELECT dossier_id, unit_code, procedure_code, received_at, base_due, end_at, end_at, supplements,
           CAST(NULL AS TIMESTAMP), base_due, due_source, 0{carried}
    FROM kept
)"""

    def summary_sql(self) -> str:
        """Counts per unit: received, early, on time, late, pending, pending late."""
        counts = ", ".join(f"count(*) FILTER (WHERE s.timeliness = '{c}') AS {c}" for c in CLASSES)
        # The units with dossiers, read from one pass over the status: Spark computes a step read twice twice.
        return f"""
WITH s AS ({self.sql()})
SELECT u.code AS unit_code, u.name AS unit_name, u.level, count(s.dossier_id) AS received, {counts}
FROM units u JOIN s ON s.unit_code = u.code
GROUP BY u.code, u.name, u.level
ORDER BY CASE u.level WHEN 'province' THEN 0 WHEN 'department' THEN 1 WHEN 'district' THEN 2 ELSE 3 END, u.name, u.code
"""
