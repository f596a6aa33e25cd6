"""Reading one row of a result (một dòng kết quả) without leaving the connection busy.

DuckDB 2.0 holds a result read with ``fetchone()`` open until a fetch returns nothing, and until then refuses its
relation API on that connection (``con.sql(...)``, ``to_arrow_reader``): "connection has an unfinished result from
execute()". A command that looked a unit up with ``fetchone()`` and then streamed the dossiers' status crashed, once
nothing ran in between (found when the preparation's checks stopped running twice). So chiso reads single rows with
:func:`first_row`, which reads the result to its end; ``tests/test_trust_messages.py`` refuses ``fetchone()`` in the
sources.
"""

from __future__ import annotations

from typing import Any


def first_row(result: Any) -> tuple[Any, ...] | None:
    """The first row of an executed result (None when it has none), the result read to its end."""
    rows = result.fetchall()
    return tuple(rows[0]) if rows else None
