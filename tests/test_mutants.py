"""The rules no test guarded (issue 14, item 9): each of the eight small changes the review made to the rules must be
caught by at least one test. ``tools/mutants.py`` applies each change to a copy of the repository and runs the rule
tests there; the whole set of 30 mutations is run by hand (``python tools/mutants.py``, about 4 minutes), these eight
in every CI run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REVIEW_MUTATIONS = ("pakn-14-days", "band-trung-binh-55", "band-floor-strict", "appraisal-runs-clock",
                    "workday-override-ignored", "pending-late-at-due", "freeze-by-due-date", "open-pause-unclamped")


def test_the_reviews_eight_rule_mutations_are_caught() -> None:
    args = [sys.executable, str(ROOT / "tools" / "mutants.py"), "--no-baseline"]
    for name in REVIEW_MUTATIONS:
        args += ["--only", name]
    proc = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"{len(REVIEW_MUTATIONS)} of {len(REVIEW_MUTATIONS)} mutations caught" in proc.stdout
    for name in REVIEW_MUTATIONS:
        assert any(line.startswith(f"{name}:") and line.rstrip().endswith("| caught")
                   for line in proc.stdout.splitlines()), name
