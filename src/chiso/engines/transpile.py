"""One SQL source, every engine's dialect (phương ngữ): chiso's queries are written in the subset DuckDB and
PostgreSQL share; for Spark they are transpiled by SQLGlot (parsed as DuckDB SQL, written as Spark SQL).

The one construct SQLGlot keeps that Spark refuses is ``WITH x AS MATERIALIZED (…)``, a planner hint for
PostgreSQL (:mod:`chiso.status.timeliness`): it is dropped from the tree before writing. Everything else — ``FILTER``
clauses, interval arithmetic, recursive CTEs, ``?`` parameters — SQLGlot writes in Spark's own syntax.
"""

from __future__ import annotations

import functools

SHARED = ("duckdb", "postgres")  # the dialects the source is written in: passed through unchanged


@functools.lru_cache(maxsize=512)
def to_dialect(sql: str, dialect: str) -> str:
    """``sql`` (chiso's shared subset) in ``dialect``'s syntax ("spark")."""
    if dialect in SHARED:
        return sql
    import sqlglot
    from sqlglot import exp

    statements = sqlglot.parse(sql, read="duckdb")
    out = []
    for tree in statements:
        if tree is None:
            continue
        for cte in tree.find_all(exp.CTE):
            cte.set("materialized", None)
        out.append(tree.sql(dialect=dialect))
    return ";\n".join(out)
