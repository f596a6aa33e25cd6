"""The same schema, migrations and deadline/status SQL on PostgreSQL (the future multi-user server).

Runs against 127.0.0.1:5432, database ``test`` (``CHISO_TEST_PG`` overrides the connection string): when psycopg
or the server is missing, skipped with a message, failed when ``CI=true`` (conftest.require). Each test works in a
schema of its own, dropped afterwards (the ``pg`` fixture of conftest). The whole store on PostgreSQL
(``--database``) is tested in test_postgres_store.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from chiso import api
from chiso.status.timeliness import StatusQuery
from chiso.store.db import migrations
from conftest import UNIT, Workspace

pytestmark = pytest.mark.postgres


def copy_store(ws: Workspace, pg: Any, tables: tuple[str, ...]) -> None:
    """Apply the migrations on PostgreSQL and copy the given tables from the DuckDB store."""
    for _, _, sql in migrations("postgres"):
        if sql:
            pg.execute(sql)
    for table in tables:
        cur = ws.store.con.execute(f"SELECT * FROM {table}")
        cols = [d[0] for d in cur.description]
        rows = cur.fetchall()
        if rows:
            with pg.cursor() as c:
                c.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                              rows)


def test_migrations_apply_on_postgres(pg: Any) -> None:
    steps = migrations("postgres")
    assert [v for v, _, _ in steps] == [v for v, _, _ in migrations("duckdb")]  # the same versions on both
    for _, _, sql in steps:
        if sql:
            pg.execute(sql)
    tables = {r[0] for r in pg.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()").fetchall()}
    assert {"units", "procedures", "dossiers", "dossier_history", "pauses", "calendar_days", "deadline_rules",
            "loads"} <= tables
    # PostgreSQL keeps the keys of the tables the embedded store holds without a key index (migration 0013)
    keyed = {r[0] for r in pg.execute(
        "SELECT table_name FROM information_schema.table_constraints "
        "WHERE constraint_type = 'PRIMARY KEY' AND table_schema = current_schema()").fetchall()}
    assert {"dossiers", "dossier_history", "pauses", "evaluations", "feedback"} <= keyed


def test_status_query_gives_the_same_result_on_postgres(pg: Any, ws: Workspace) -> None:
    """Load through DuckDB, copy the tables to PostgreSQL, run the same status SQL on both."""
    ws.load("procedures", [{"code": "P5", "name": "5 ngày", "time_limit": 5, "time_unit": "working_days"},
                           {"code": "C3", "name": "3 ngày", "time_limit": 3, "time_unit": "calendar_days"}])
    ws.load("dossiers", [
        {"dossier_id": "A", "unit_code": UNIT, "procedure_code": "P5", "channel": "online",
         "received_at": "2024-02-07 09:00", "finished_at": "2024-02-21 09:30"},
        {"dossier_id": "B", "unit_code": UNIT, "procedure_code": "C3", "channel": "online",
         "received_at": "2026-08-28 09:00"},
        {"dossier_id": "C", "unit_code": UNIT, "procedure_code": "P5", "channel": "direct",
         "received_at": "2025-06-02 09:00", "finished_at": "2025-06-10 15:00"},
    ])
    ws.load("pauses", [{"dossier_id": "C", "kind": "supplement", "started_at": "2025-06-03 09:00",
                        "ended_at": "2025-06-05 09:00"}])
    config = api.prepare(ws.store)
    copy_store(ws, pg, ("units", "procedures", "dossiers", "pauses", "calendar_days", "deadline_rules"))
    query = StatusQuery(as_of=datetime(2026, 9, 10, 12, 0), config=config)
    sql = f"SELECT dossier_id, due_at, timeliness FROM ({query.sql()}) s ORDER BY dossier_id"
    on_duck = ws.store.con.execute(sql).fetchall()
    on_pg = pg.execute(sql).fetchall()
    assert on_pg == on_duck
    # And the values are the hand-computed ones (see test_deadlines and test_status).
    assert [(r[0], r[1].strftime("%Y-%m-%d %H:%M"), r[2]) for r in on_pg] == [
        ("A", "2024-02-21 09:00", "late"),
        ("B", "2026-09-03 17:00", "pending_late"),
        ("C", "2025-06-11 09:00", "early"),
    ]


def test_scoring_sql_gives_the_same_counts_on_postgres(pg: Any, ws: Workspace) -> None:
    """The index engine's fact tables and grouped measure queries, run on both engines."""
    from chiso.rules.model import available
    from chiso.scoring.engine import Facts, build_sql
    from chiso.scoring.period import parse_period
    from test_scoring import DOSSIERS, FEEDBACK, INPUTS, PROCS

    ws.load("procedures", PROCS)
    ws.load("dossiers", DOSSIERS)
    ws.load("feedback", FEEDBACK)
    ws.load("indicator_inputs", INPUTS)
    config = api.prepare(ws.store)
    copy_store(ws, pg, ("units", "procedures", "dossiers", "pauses", "feedback", "calendar_days",
                        "deadline_rules"))
    period = parse_period("2025-09")
    setup, queries = build_sql(available()["vn-766-2026"], Facts(period, period.moment(datetime(2025, 10, 15)),
                                                                  config))
    results = {}
    for name, con in (("duckdb", ws.store.con), ("postgres", pg)):
        for statement in setup:
            con.execute(statement)
        results[name] = {t: sorted(tuple(float(v) if i else v for i, v in enumerate(r))
                                   for r in con.execute(q).fetchall()) for t, q in queries.items()}
    assert results["postgres"] == results["duckdb"]
    # Spot check against the hand computation of test_scoring: commune X handles 4 dossiers, 2 not late.
    dossiers = {r[0]: r for r in results["postgres"]["dossiers"]}
    cur = pg.execute(queries["dossiers"])
    names = [d[0] for d in cur.description]
    x = dict(zip(names, dossiers["03646"], strict=True))
    assert (x["handled"], x["handled_not_late"]) == (4, 2)


def test_a_large_result_streams_in_batches_with_its_types(pg_schema: Any) -> None:
    """What a load into PostgreSQL mirrors (the store's dossier ids, 10⁷ rows in a national store) is read from a
    server-side cursor batch by batch, not fetched whole as Python tuples: the same rows and types as the whole
    table, in several batches."""
    from chiso.store.pg import PgConnection

    con = PgConnection(pg_schema.dsn)
    con.execute("CREATE TABLE t (id TEXT, n INTEGER, at TIMESTAMP, ok BOOLEAN, note TEXT)")
    con.execute("INSERT INTO t SELECT 'D' || i, i, TIMESTAMP '2025-09-01 08:00' + i * INTERVAL '1 minute', "
                "i % 2 = 0, NULL FROM generate_series(1, 2500) i")
    con.execute("BEGIN")  # a server-side cursor lives in a transaction (a load's)
    reader = con.sql("SELECT * FROM t ORDER BY n").to_arrow_reader(1000)
    batches = list(reader)
    con.execute("COMMIT")
    assert [b.num_rows for b in batches] == [1000, 1000, 500]
    whole = con.sql("SELECT * FROM t ORDER BY n").to_arrow_table()
    import pyarrow as pa

    streamed = pa.Table.from_batches(batches)
    assert streamed.schema.types[:4] == [pa.string(), pa.int32(), pa.timestamp("us"), pa.bool_()]
    assert streamed.equals(whole.cast(streamed.schema))
    con.close()
