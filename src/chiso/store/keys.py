"""The keys of the loaded tables (khóa của các bảng nạp), checked.

On the embedded store (DuckDB) the tables that grow with the dossiers (dossiers, pauses, feedback, evaluations and
their histories) have no key index: DuckDB keeps such an index whole in memory, so the keys one load adds would have
to fit the memory budget (migration 0013). The loader keeps the keys unique by itself — it decides by key what is
new, what replaces a row and what goes to history only (chiso.load.loader) — and it is the only writer of those
tables. :func:`duplicate_keys` finds what would break that promise (a table written by hand, outside chiso);
``chiso db check`` runs it. PostgreSQL keeps its primary keys, and the check finds nothing there by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chiso.load.contract import TABLES

HISTORY_KEYS = {"dossier_history": ("dossier_id", "row_hash")}  # a version of a dossier is kept once


@dataclass(frozen=True)
class Duplicate:
    table: str
    key: tuple[str, ...]
    values: tuple[Any, ...]  # one key that appears more than once (the first in order)
    keys: int  # how many keys appear more than once
    extra_rows: int  # rows beyond the first of each such key


def keyed_tables() -> list[tuple[str, tuple[str, ...]]]:
    """(table, key columns) of every loaded table and its history."""
    out: list[tuple[str, tuple[str, ...]]] = []
    for table in TABLES.values():
        out.append((table.name, tuple(table.key)))
        history = "dossier_history" if table.name == "dossiers" else f"{table.name}_history"
        out.append((history, HISTORY_KEYS.get(history, (*table.key, "superseded_by_load"))))
    return out


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def duplicate_keys(con: Any) -> list[Duplicate]:
    """The tables where a key appears more than once (none on a store only chiso wrote)."""
    found = []
    for table, key in keyed_tables():
        cols = ", ".join(_q(c) for c in key)
        rows = con.execute(
            f"""SELECT {cols}, n, count(*) OVER (), sum(n - 1) OVER ()
                FROM (SELECT {cols}, count(*) AS n FROM {_q(table)} GROUP BY {cols} HAVING count(*) > 1) d
                ORDER BY {cols} LIMIT 1""").fetchall()
        if rows:
            row = rows[0]
            found.append(Duplicate(table, key, tuple(row[:len(key)]), int(row[-2]), int(row[-1])))
    return found
