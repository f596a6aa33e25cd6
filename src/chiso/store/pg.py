"""The PostgreSQL store (kho dùng chung): a connection adapter with the surface the code uses on DuckDB's.

The code writes SQL once, in the subset DuckDB and PostgreSQL share, with ``?`` placeholders. This adapter:

1. translates ``?`` placeholders outside quotes and comments into PostgreSQL's native ``$1, $2 …`` and runs the
   statement through psycopg's :class:`psycopg.RawCursor` (so a ``%`` in the SQL is not special);
2. returns numeric values as ``float`` (DuckDB's DOUBLE), so results compare equal across engines;
3. offers ``register(name, arrow_table)`` as DuckDB does: a temporary table filled with ``COPY … FROM STDIN``
   (binary rows streamed from the Arrow batches, never one INSERT per row), and ``sql(query).to_arrow_table()``.

The connection runs in autocommit mode; :meth:`chiso.store.db.Store.transaction` and the loader open their own
transactions with ``BEGIN`` / ``COMMIT`` exactly as on DuckDB.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
import pyarrow as pa
from psycopg.conninfo import conninfo_to_dict
from psycopg.types.numeric import FloatLoader

URL_PREFIXES = ("postgresql://", "postgres://")
_TOKENS = re.compile(r"""('(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\?)""", re.S)


def is_postgres_url(text: str | None) -> bool:
    """A PostgreSQL connection string: a ``postgresql://`` URL, or libpq's ``key=value …`` form."""
    if not text:
        return False
    t = text.strip()
    if t.startswith(URL_PREFIXES):
        return True
    if not re.match(r"^[a-z_]+\s*=", t):
        return False
    try:
        return bool(conninfo_to_dict(t))
    except psycopg.ProgrammingError:
        return False


def placeholders(sql: str) -> str:
    """``?`` → ``$1, $2 …`` outside string literals, quoted names and comments."""
    n = 0

    def repl(m: re.Match[str]) -> str:
        nonlocal n
        if m.group(0) != "?":
            return m.group(0)
        n += 1
        return f"${n}"

    return _TOKENS.sub(repl, sql)


_ARROW_TO_PG = {
    pa.string(): "TEXT", pa.large_string(): "TEXT", pa.int64(): "BIGINT", pa.int32(): "INTEGER",
    pa.int16(): "SMALLINT", pa.int8(): "SMALLINT", pa.float64(): "DOUBLE PRECISION", pa.float32(): "REAL",
    pa.bool_(): "BOOLEAN", pa.date32(): "DATE", pa.timestamp("us"): "TIMESTAMP", pa.timestamp("ns"): "TIMESTAMP",
    pa.timestamp("ms"): "TIMESTAMP", pa.timestamp("s"): "TIMESTAMP",
}


_STREAMS = itertools.count(1)
_PG_TO_ARROW = {  # type OIDs (pg_type) of the columns chiso reads back; others are inferred from the values
    16: pa.bool_(), 20: pa.int64(), 21: pa.int16(), 23: pa.int32(), 25: pa.string(), 1043: pa.string(),
    700: pa.float64(), 701: pa.float64(), 1700: pa.float64(), 1082: pa.date32(), 1114: pa.timestamp("us"),
}


def pg_type(arrow_type: pa.DataType) -> str:
    if arrow_type in _ARROW_TO_PG:
        return _ARROW_TO_PG[arrow_type]
    if pa.types.is_null(arrow_type):
        return "TEXT"
    raise TypeError(f"no PostgreSQL type for Arrow type {arrow_type}")


class Result:
    """A statement's result. As on DuckDB, a statement without rows (INSERT, UPDATE …) answers one row: the
    number of rows it changed."""

    def __init__(self, cur: Any):
        self.cur = cur

    @property
    def description(self) -> Any:
        return self.cur.description

    def fetchone(self) -> tuple[Any, ...] | None:
        if self.cur.description is None:
            return (self.cur.rowcount,)
        row = self.cur.fetchone()
        return None if row is None else tuple(row)

    def fetchall(self) -> list[tuple[Any, ...]]:
        if self.cur.description is None:
            return [(self.cur.rowcount,)]
        return [tuple(r) for r in self.cur.fetchall()]


class Relation:
    """The little of DuckDB's relation the code uses: the query text and its rows as an Arrow table."""

    def __init__(self, con: PgConnection, query: str):
        self.con, self.query = con, query

    def sql_query(self) -> str:
        return self.query

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.con.execute(self.query).fetchall()

    def to_arrow_table(self) -> pa.Table:
        """The rows, each column typed from the server's column type (so an all-NULL column keeps its type)."""
        cur = self.con.execute(self.query)
        columns = list(cur.description or [])
        rows = cur.fetchall()
        return pa.table({d.name: pa.array([r[i] for r in rows], type=_PG_TO_ARROW.get(d.type_code))
                         for i, d in enumerate(columns)})

    def to_arrow_reader(self, batch_rows: int = 100_000) -> pa.RecordBatchReader:
        """The rows as a stream of Arrow batches from a server-side cursor: memory is one batch, whatever the
        result's size (the dossier ids a load mirrors: 10⁷ rows as Python tuples took gigabytes). Inside a
        transaction only (the load's), where the cursor lives until the transaction ends."""
        cur = self.con.raw.cursor(name=f"chiso_stream_{next(_STREAMS)}")  # names unique in a transaction
        cur.execute(placeholders(self.query))
        columns = list(cur.description or [])
        first = cur.fetchmany(batch_rows)
        types = [_PG_TO_ARROW.get(d.type_code) for d in columns]
        if any(t is None for t in types):  # a type to infer from the values: the first batch's
            sample = pa.table({d.name: pa.array([r[i] for r in first], type=types[i])
                               for i, d in enumerate(columns)})
            types = list(sample.schema.types)
        schema = pa.schema([(d.name, t) for d, t in zip(columns, types, strict=True)])

        def batches() -> Iterator[pa.RecordBatch]:
            rows = first
            try:
                while rows:
                    yield pa.record_batch([pa.array([r[i] for r in rows], type=schema.field(i).type)
                                           for i in range(len(columns))], schema=schema)
                    rows = cur.fetchmany(batch_rows)
            finally:
                cur.close()

        return pa.RecordBatchReader.from_batches(schema, batches())


class PgConnection:
    """A psycopg connection that takes the calls the chiso code makes on a DuckDB connection."""

    def __init__(self, conninfo: str, *, read_only: bool = False, connect_timeout: int = 10):
        self.conninfo, self.read_only = conninfo, read_only
        self.raw = psycopg.connect(conninfo, autocommit=True, cursor_factory=psycopg.RawCursor,
                                   connect_timeout=connect_timeout)
        self.raw.adapters.register_loader("numeric", FloatLoader)
        self.raw.execute("SET TIME ZONE 'UTC'")  # timestamps are naive local times; no session shift
        if read_only:
            self.raw.execute("SET default_transaction_read_only = on")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Result:
        cur = self.raw.cursor()
        cur.execute(placeholders(sql), list(params) if params is not None else None)
        return Result(cur)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(placeholders(sql), [list(r) for r in rows])

    def sql(self, query: str) -> Relation:
        return Relation(self, query)

    def register(self, name: str, table: pa.Table | pa.RecordBatchReader) -> None:
        """A temporary table ``name`` holding ``table``'s rows, streamed with COPY. A record batch reader is read
        batch by batch: a load's rows never all in memory at once (a table of 10⁷ dossiers held 7 GB)."""
        cols = ", ".join(f'"{f.name}" {pg_type(f.type)}' for f in table.schema)
        self.raw.execute(f'DROP TABLE IF EXISTS "{name}"')
        self.raw.execute(f'CREATE TEMP TABLE "{name}" ({cols})')
        copy_arrow(self.raw, name, table)

    def unregister(self, name: str) -> None:
        self.raw.execute(f'DROP TABLE IF EXISTS "{name}"')

    def cursor(self) -> PgConnection:
        """Another connection to the same database (a handle for another thread)."""
        return PgConnection(self.conninfo, read_only=self.read_only)

    def close(self) -> None:
        self.raw.close()


def copy_arrow(raw: psycopg.Connection[Any], name: str, table: pa.Table | pa.RecordBatchReader) -> int:
    """Stream an Arrow table, or a reader of record batches, into an existing table of the same column names with
    ``COPY … FROM STDIN``."""
    names = ", ".join(f'"{f}"' for f in table.schema.names)
    batches = table.to_batches(max_chunksize=50_000) if isinstance(table, pa.Table) else table
    done = 0
    with raw.cursor() as cur, cur.copy(f'COPY "{name}" ({names}) FROM STDIN') as copy:
        for batch in batches:
            columns = [c.to_pylist() for c in batch.columns]
            for row in zip(*columns, strict=True):
                copy.write_row(row)
            done += batch.num_rows
    return done
