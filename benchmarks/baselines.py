"""Peer baselines for the status rules (issue 13 §4), on the same store and the same moment as `chiso status`:

* **chiso** — `chiso.api.status` (the set-based SQL of chiso.status.timeliness), rows as an Arrow table;
* **bare scan** — the lower bound: one DuckDB read of the same dossiers giving the same columns (end of processing
  as a COALESCE, no due date computed), as an Arrow table;
* **pandas, row-wise** — as dashboards in the field do it: `DataFrame.apply(axis=1)` stepping day by day over the
  weekends and the holiday list;
* **numpy, vectorised** — `numpy.busday_offset` over the same holiday list.

The two baselines implement what such tools implement: N working days from the reception day, due at the end
of the day; no make-up Saturdays (ngày làm bù), no 15:00 cut-off, no clock-stopping pauses, no hours or same-day
procedures (counted as working days). Their answers are compared with chiso's, dossier by dossier: the share
they get wrong is printed beside their time.

    python benchmarks/baselines.py WORKSPACE --as-of "2025-07-31 17:00" [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from chiso import api
from chiso.store.db import Store

COLUMNS = "d.dossier_id, d.unit_code, d.procedure_code, d.received_at, COALESCE(d.finished_at, d.returned_at, " \
          "d.stopped_at) AS end_at"


def inputs(con: duckdb.DuckDBPyConnection) -> tuple[pd.DataFrame, np.ndarray]:
    frame = con.execute(f"""
        SELECT {COLUMNS}, COALESCE(p.time_limit, 0) AS days
        FROM dossiers d JOIN procedures p ON p.code = d.procedure_code""").df()
    holidays = np.array([r[0] for r in con.execute(
        "SELECT day FROM calendar_days WHERE NOT is_working AND dayofweek(day) BETWEEN 1 AND 5 "
        "AND calendar_key = (SELECT min(calendar_key) FROM calendar_days)").fetchall()], dtype="datetime64[D]")
    return frame, holidays


def classify(end: Any, due: Any, as_of: datetime) -> str:
    if pd.isna(end):
        return "pending_late" if as_of > due else "pending"
    if end > due:
        return "late"
    return "early" if end.date() < due.date() else "on_time"


def rowwise(frame: pd.DataFrame, holidays: np.ndarray, as_of: datetime) -> pd.Series:
    off = {pd.Timestamp(h).date() for h in holidays}

    def due_of(received: pd.Timestamp, days: float) -> datetime:
        day: date = received.date()
        left = int(round(days))
        while left > 0:
            day += timedelta(days=1)
            if day.weekday() < 5 and day not in off:
                left -= 1
        return datetime.combine(day, datetime.min.time()) + timedelta(hours=17)

    def row(r: pd.Series) -> str:
        if r["received_at"] > as_of:
            return "not_received"
        return classify(r["end_at"] if r["end_at"] <= as_of else pd.NaT, due_of(r["received_at"], r["days"]), as_of)

    return frame.apply(row, axis=1)


def vectorised_due(frame: pd.DataFrame, holidays: np.ndarray) -> np.ndarray:
    received = frame["received_at"].to_numpy(dtype="datetime64[D]")
    days = np.rint(frame["days"].to_numpy()).astype(np.int64)
    return np.busday_offset(received, days, roll="forward", holidays=holidays)


def vectorised(frame: pd.DataFrame, holidays: np.ndarray, as_of: datetime) -> pd.Series:
    received = frame["received_at"].to_numpy(dtype="datetime64[D]")
    days = np.rint(frame["days"].to_numpy()).astype(np.int64)
    due_day = np.busday_offset(received, days, roll="forward", holidays=holidays)
    due = due_day.astype("datetime64[s]") + np.timedelta64(17 * 3600, "s")
    end = frame["end_at"].to_numpy(dtype="datetime64[s]")
    moment = np.datetime64(as_of, "s")
    ended = ~np.isnat(end) & (end <= moment)
    late = ended & (end > due)
    early = ended & ~late & (end.astype("datetime64[D]") < due_day)
    out = np.where(ended, np.where(late, "late", np.where(early, "early", "on_time")),
                   np.where(moment > due, "pending_late", "pending"))
    out = np.where(frame["received_at"].to_numpy(dtype="datetime64[s]") > moment, "not_received", out)
    return pd.Series(out, index=frame.index)


def timed(action: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


class _NoRules:
    """Stands in for the status query in the grouped read: the same rows and columns read straight from the
    dossiers, the class from the finish against the source's due date (no computed due date, no pauses)."""

    def __init__(self, **kw: Any) -> None:
        from chiso.status.timeliness import StatusQuery

        self.query = StatusQuery(**kw)

    def sql(self) -> str:
        q = self.query
        carried = "".join(f", d.{c}" for c in q.carried())
        return (f"SELECT d.dossier_id, d.unit_code, d.procedure_code, d.received_at, d.due_at, "
                "COALESCE(d.finished_at, d.returned_at, d.stopped_at) AS end_at, "
                "CASE WHEN d.finished_at > d.due_at THEN 'late' ELSE 'on_time' END AS timeliness, "
                f"CAST(NULL AS TIMESTAMP) AS waiting_since{carried} FROM dossiers d "
                f"WHERE d.received_at <= '{q.as_of}' {q.ended_filter()}")


def score_bound(store: Store, period_text: str, as_of: datetime, runs: int) -> None:
    """Scoring every unit (`chiso.api.score`, in process) against two grouped reads of the same table with no rule
    applied: the review's minimal one (per unit: received in the period, finished, online), and the one scoring
    cannot do without (the rows it reads, the columns it reads, one row per unit and procedure with every
    measure's count, as ``dossier_groups``; the status query replaced by the columns as stored)."""
    from chiso.config import load_config
    from chiso.rules.model import for_period
    from chiso.scoring import engine
    from chiso.scoring.period import parse_period

    period = parse_period(period_text)
    t_score, results = timed(lambda: api.score(store, period_text, as_of=as_of), runs)
    t_read, _ = timed(lambda: store.con.execute(
        "SELECT unit_code, count(*), count(*) FILTER (WHERE finished_at IS NOT NULL), "
        "count(*) FILTER (WHERE channel = 'online') FROM dossiers WHERE received_at >= ? AND received_at < ? "
        "GROUP BY unit_code", [period.start, period.end]).fetchall(), runs)
    rs = for_period(period.start, store.workspace)
    facts = engine.Facts(period, period.moment(as_of), load_config(store.workspace), dialect=store.dialect)
    real = engine.StatusQuery
    engine.StatusQuery = _NoRules
    try:
        setup, _ = engine.build_sql(rs, facts, keep_facts=False, pairs_ready=True)
    finally:
        engine.StatusQuery = real
    groups = next(s for s in setup if s.startswith("CREATE TEMP TABLE dossier_groups AS "))
    select = groups.removeprefix("CREATE TEMP TABLE dossier_groups AS ")
    t_same, _ = timed(lambda: store.con.execute(select).fetchall(), runs)
    print(f"score {period.label}, {len(results[1]):,} units: chiso {t_score:.2f} s; minimal grouped read "
          f"{t_read:.2f} s ({t_score / t_read:.1f}×); the same grouped read without rules {t_same:.2f} s "
          f"({t_score / t_same:.1f}×); medians of {runs} runs, in one process\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("workspace")
    parser.add_argument("--as-of", required=True)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rowwise-sample", type=int, default=200_000,
                        help="pandas row-wise on at most this many dossiers, its time scaled up (it is slow)")
    parser.add_argument("--period", default=None,
                        help="also score this period in process (all units) against a minimal grouped read")
    args = parser.parse_args()
    as_of = datetime.fromisoformat(args.as_of)
    with Store.open(Path(args.workspace), read_only=True) as store:
        api.prepare(store)
        if args.period:
            score_bound(store, args.period, as_of, args.runs)
        t_chiso, table = timed(lambda: api.status(store, as_of), args.runs)
        truth = pd.Series(table.column("timeliness").to_pylist(), index=table.column("dossier_id").to_pylist())
        t_scan, scanned = timed(lambda: store.con.sql(
            f"SELECT {COLUMNS}, 'pending' AS timeliness FROM dossiers d WHERE d.received_at <= '{as_of}' "
            "ORDER BY d.dossier_id").to_arrow_table(), args.runs)
        frame, holidays = inputs(store.con)
    n = len(truth)
    print(f"{n:,} dossiers received by {as_of}; median of {args.runs} runs, in one process\n")
    print("| method | time | × bare scan | wrong answers |\n|---|---|---|---|")
    print(f"| bare scan (DuckDB, same rows and columns, no rules) | {t_scan:.2f} s | 1.0 | — |")
    print(f"| chiso status (all rules) | {t_chiso:.2f} s | {t_chiso / t_scan:.1f} | 0 (reference) |")
    assert scanned.num_rows == n
    t_vec, vec = timed(lambda: vectorised(frame, holidays, as_of), args.runs)
    vec.index = frame["dossier_id"]
    vec = vec[vec != "not_received"]
    wrong = int((vec != truth.reindex(vec.index)).sum())
    print(f"| numpy busday_offset (no make-up Saturdays, cut-off, pauses) | {t_vec:.2f} s | {t_vec / t_scan:.1f} | "
          f"{wrong:,} ({100 * wrong / n:.1f} %) |")
    sample = frame.head(args.rowwise_sample)
    t_row, row = timed(lambda: rowwise(sample, holidays, as_of), 1)
    row.index = sample["dossier_id"]
    row = row[row != "not_received"]
    wrong = int((row != truth.reindex(row.index)).sum())
    scaled = t_row * len(frame) / max(len(sample), 1)
    print(f"| pandas row-wise apply (same simplifications) | {scaled:.2f} s"
          f"{' (scaled from ' + format(len(sample), ',') + ')' if len(sample) < len(frame) else ''} | "
          f"{scaled / t_scan:.1f} | {wrong:,} of {len(row):,} ({100 * wrong / max(len(row), 1):.1f} %) |")
    due_truth = pd.Series(table.column("due_at").to_pylist(), index=truth.index).dropna()
    due_vec = pd.Series(vectorised_due(frame, holidays), index=frame["dossier_id"]).reindex(due_truth.index)
    differ = int((due_vec.dt.date != pd.to_datetime(due_truth).dt.date).sum())
    print(f"\nchiso vs pandas row-wise: {scaled / t_chiso:.0f}× faster. Due day computed by busday_offset differs "
          f"from chiso's for {differ:,} of {len(due_truth):,} dossiers ({100 * differ / max(len(due_truth), 1):.1f} "
          "%; chiso takes the source's first due date when it has one, and counts the cut-off, make-up days and "
          "pauses).")


if __name__ == "__main__":
    main()
