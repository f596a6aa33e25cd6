"""The one clock of chiso's decisions: now and today in Asia/Ho_Chi_Minh (UTC+7, no daylight saving).

Offices work on Vietnamese time whatever the server's time zone: a clerk marking a dossier done at 06:00 on the
4th must not be told the 4th has not come because the server runs on UTC. Every "today" that decides something (a
date refused as future, the rule set in force, the default date of a letter, the as-of moment) reads this clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

OFFSET = timedelta(hours=7)


def now_local() -> datetime:
    """Now in Asia/Ho_Chi_Minh, as a naive local timestamp to the second."""
    return (datetime.now(UTC) + OFFSET).replace(tzinfo=None, microsecond=0)


def today_local() -> date:
    """Today's date in Asia/Ho_Chi_Minh."""
    return now_local().date()
