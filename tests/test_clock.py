"""Vietnamese time whatever the server's zone: "today" decides whether a date is in the future, which rule set is in
force and the date a letter carries, and a server on UTC (every container by default) is seven hours behind."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta


def _now_under(zone: str) -> datetime:
    code = "from chiso.clock import now_local; print(now_local().isoformat())"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "TZ": zone}, capture_output=True,
                         text=True, check=True).stdout
    return datetime.fromisoformat(out.strip())


def test_now_is_vietnamese_time_on_a_server_of_any_zone() -> None:
    # UTC-12 and UTC+14 are a day and two hours apart: a clock that read the machine's zone would differ by 26 h
    behind, ahead = _now_under("Etc/GMT+12"), _now_under("Etc/GMT-14")
    assert abs((ahead - behind).total_seconds()) < 60
    vietnam = (datetime.now(UTC) + timedelta(hours=7)).replace(tzinfo=None)
    assert abs((behind - vietnam).total_seconds()) < 60


def test_no_module_reads_the_machine_clock_for_a_date() -> None:
    # the class of bug made impossible: every "now" and "today" of chiso goes through chiso.clock
    from pathlib import Path

    import chiso

    root = Path(chiso.__file__).parent
    offenders = [f"{path.relative_to(root)}:{n}" for path in root.rglob("*.py") if path.name != "clock.py"
                 for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "datetime.now()" in line or "date.today()" in line]
    assert offenders == []
