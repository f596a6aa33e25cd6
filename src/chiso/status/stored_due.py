"""Due dates kept between runs (hạn giải quyết tính sẵn): ``dossiers.computed_due``.

A dossier's due date from its procedure's statutory time depends on the dossier row (received, unit, procedure), the
procedure's time limit, its province's working-day calendar and the deadline rules; never on the as-of moment. Only
clock-stopping pauses and a supplement restart move it, and those the status query computes at every run. So the
date is computed once, after each load, for the rows the load inserted or replaced, and for every row when what it
depends on changes; the status query (:class:`chiso.status.timeliness.StatusQuery` with ``stored_due``) then reads
it for the dossiers without pauses (98–99 % of them) and computes only the others. At 10 million dossiers that is
the difference between the status query and a scan of the table.

Correctness never rests on a writer remembering the column:

* ``due_ready`` is NULL for a row nobody computed (a new row; the loader's update of a row sets it NULL again; the
  versions an unload restores come back without it); :func:`refresh` computes exactly those rows.
* The values hold for the tables they were computed from: the fingerprint :func:`fingerprint_sql` (the calendar's
  and the deadline rules' fingerprints, every procedure's time limit, every unit's province, the version of the
  computation) is stored with them, and the status query compares it with the tables as they are, in the same SQL
  statement. When they differ, every dossier takes the full computation, right but slower, until the next
  :func:`refresh` (``chiso.api.prepare``, run by every command after a load or an edited ``chiso.toml``).
* ``due_ready`` FALSE marks the rows the computation does not reach (a received day outside the calendar): the full
  query treats them as it always did.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from functools import cache

from chiso.config import Config
from chiso.store.db import Store

# Derived columns of the dossiers table: not loaded data, not copied to history or to a lake.
DERIVED_COLUMNS = ("computed_due", "due_ready")
SETTING = "due_fingerprint"
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


def current_sql() -> str:
    """TRUE when the stored dates hold for the tables as they are (one row, one column ``ok``)."""
    return f"SELECT COALESCE((SELECT value FROM settings WHERE key = '{SETTING}') = {fingerprint_sql()}, FALSE) AS ok"


def _fingerprint(store: Store) -> str:
    row = store.con.execute(f"SELECT {fingerprint_sql()}").fetchall()
    return str(row[0][0])


def needs_refresh(store: Store) -> bool:
    """True when :func:`refresh` would write: the tables changed since the dates were computed, or rows are new."""
    if store.get_setting(SETTING) != _fingerprint(store):
        return True
    return bool(store.con.execute("SELECT 1 FROM dossiers WHERE due_ready IS NULL LIMIT 1").fetchall())


def refresh(store: Store, config: Config) -> int:
    """Compute the dates of the rows that need it (all of them when the tables changed). Returns the rows
    computed. Run after the calendar and the deadline rules are current (``chiso.api.prepare``)."""
    from chiso.status.timeliness import StatusQuery

    if not needs_refresh(store):
        return 0
    with store.transaction() as con:
        fp = _fingerprint(store)
        rows = "TRUE" if store.get_setting(SETTING) != fp else "d.due_ready IS NULL"
        computed = StatusQuery(as_of=FAR, config=config, dialect=store.dialect).computed_due_sql(f"AND {rows}")
        count = con.execute(f"SELECT count(*) FROM dossiers d WHERE {rows}").fetchall()
        # One update: the computed date, or FALSE for the rows the computation does not reach (no calendar day for
        # the day received, a unit or procedure missing), which the full query treats as it always did.
        con.execute(f"""UPDATE dossiers SET computed_due = x.computed_due, due_ready = x.reached
                        FROM (SELECT d.dossier_id, c.computed_due, c.dossier_id IS NOT NULL AS reached
                              FROM dossiers d LEFT JOIN ({computed}) c ON c.dossier_id = d.dossier_id
                              WHERE {rows}) x
                        WHERE dossiers.dossier_id = x.dossier_id""")
        store.set_setting(SETTING, fp)
    return int(count[0][0])
