"""Mutation runner for the rules (issue 14, item 9): does some test fail when a rule is changed a little?

Each mutation is one exact text replacement in one file of ``src/`` (the PAKN deadline 15 -> 14 working days, a
band floor, ``>=`` -> ``>``, a pause kind dropped, ...). For each, the runner applies it to a temporary copy of the
repository, runs a chosen subset of test files against that copy, and reports whether a test failed (``caught``)
or the whole subset passed (``SURVIVED``: no test guards that rule). The repository itself is never modified.

Usage, from the repository root::

    .venv/bin/python tools/mutants.py                 # every mutation, copy of the working tree
    .venv/bin/python tools/mutants.py --rev HEAD      # copy of a commit (git archive) instead of the working tree
    .venv/bin/python tools/mutants.py --only pakn-14-days --only band-floor-strict
    .venv/bin/python tools/mutants.py --list          # the mutations and the tests each one runs
    .venv/bin/python tools/mutants.py --exclude tests/test_rule_boundaries.py   # what survives without that file

How it works:

* the repository is copied once to a temporary directory (``shutil.copytree`` without ``.venv``, ``.git``,
  caches and workspaces; or ``git archive`` of ``--rev``);
* a baseline run of every selected test file on the unmutated copy must pass first (otherwise a "caught" would
  mean nothing); ``--no-baseline`` skips it;
* per mutation: the file is read, the old text must occur exactly once (else the runner stops: the mutation is
  stale), the new text is written, ``<repo>/.venv/bin/python -m pytest -x -q -p no:cacheprovider <tests>`` runs
  with ``PYTHONPATH=<copy>/src`` from the copy's root (bytecode writing off, so no stale ``.pyc`` is ever
  used), then the original file is put back;
* that the copy's ``src`` is what gets imported is checked once (``chiso.__file__`` is printed);
* pytest's exit code 1 with a failed test is ``caught``; 0 is ``SURVIVED``; anything else (a collection or
  import error) is ``broken`` — not counted as caught.

The table ``mutation | caught by | result`` is printed at the end with the totals; the exit code is 0 when every
mutation was caught, 1 otherwise. It takes about 3-4 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, replace
from io import BytesIO
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
IGNORED = shutil.ignore_patterns(".venv", ".git", "__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache",
                                 ".hypothesis", "chiso-data", "demo-data", "*.pyc")

BOUNDARIES = "tests/test_rule_boundaries.py"
STATUS = "tests/test_status.py"
DEADLINES = "tests/test_deadlines.py"
SCORING = "tests/test_scoring.py"
RULES = "tests/test_rules.py"
ONESTOP = "tests/test_onestop.py"


@dataclass(frozen=True)
class Mutation:
    name: str
    what: str
    path: str  # relative to the repository root
    old: str
    new: str
    tests: tuple[str, ...]


TIMELINESS = "src/chiso/status/timeliness.py"
MUTATIONS = (
    # --- the eight changes no test caught before issue 14 ------------------------------------------------
    Mutation("pakn-14-days", "default PAKN deadline 15 -> 14 working days", "src/chiso/scoring/engine.py",
             "PAKN_WORKING_DAYS = 15", "PAKN_WORKING_DAYS = 14", (BOUNDARIES, SCORING, ONESTOP)),
    Mutation("band-trung-binh-55", "index band 'Trung bình' 50 -> 55", "src/chiso/rules/sets/vn-766-2026.toml",
             '["Trung bình", 50]', '["Trung bình", 55]', (BOUNDARIES, RULES, SCORING)),
    Mutation("band-floor-strict", "band comparison >= -> >", "src/chiso/rules/model.py",
             "if total >= floor:", "if total > floor:", (BOUNDARIES, RULES, SCORING)),
    Mutation("appraisal-runs-clock", "'appraisal' no longer stops the clock", "src/chiso/config.py",
             '("supplement", "financial_obligation", "appraisal", "posting", "other_agency")',
             '("supplement", "financial_obligation", "posting", "other_agency")', (BOUNDARIES, STATUS)),
    Mutation("workday-override-ignored", "calendar 'workday' override ignored", "src/chiso/calendar/workcal.py",
             'working = o.kind == "workday"', 'working = working and o.kind == "workday"',
             (BOUNDARIES, DEADLINES)),
    Mutation("pending-late-at-due", "pending_late when as-of = due moment", TIMELINESS,
             "WHEN {t} > due_at THEN 'pending_late'", "WHEN {t} >= due_at THEN 'pending_late'",
             (BOUNDARIES, STATUS)),
    Mutation("freeze-by-due-date", "supplement freeze against the due date, not moment", TIMELINESS,
             "WHEN waiting_since IS NOT NULL AND waiting_since <= due_at THEN 'pending'",
             "WHEN waiting_since IS NOT NULL AND CAST(waiting_since AS DATE) <= CAST(due_at AS DATE) THEN 'pending'",
             (BOUNDARIES, STATUS)),
    Mutation("open-pause-unclamped", "open pause not clamped to the dossier's end", TIMELINESS,
             'f"LEAST(COALESCE(CASE WHEN pa.ended_at <= {t} THEN pa.ended_at END, {t}), COALESCE(b.end_at, {t}))"',
             'f"COALESCE(CASE WHEN pa.ended_at <= {t} THEN pa.ended_at END, {t})"', (BOUNDARIES, STATUS)),
    # --- other small changes to the rules --------------------------------------------------------------------
    Mutation("cutoff-15-01", "cut-off 15:00 -> 15:01", "src/chiso/config.py",
             "cutoff: int = 15 * 3600", "cutoff: int = 15 * 3600 + 60", (BOUNDARIES, DEADLINES)),
    Mutation("cutoff-strict", "reception at 15:00 counts the same day (>= -> >)",
             "src/chiso/calendar/deadlines.py", "{seconds_of_day(ts)} >= {r}.cutoff",
             "{seconds_of_day(ts)} > {r}.cutoff", (BOUNDARIES, DEADLINES)),
    Mutation("late-at-due", "ended at the due moment is late (> -> >=)", TIMELINESS,
             "supplements > 1 OR end_cmp > due_at THEN 'late'", "supplements > 1 OR end_cmp >= due_at THEN 'late'",
             (STATUS, BOUNDARIES)),
    Mutation("early-same-date", "early when ended on the due date (< -> <=)", TIMELINESS,
             "CAST(end_cmp AS DATE) < CAST(due_at AS DATE) THEN 'early'",
             "CAST(end_cmp AS DATE) <= CAST(due_at AS DATE) THEN 'early'", (STATUS, BOUNDARIES)),
    Mutation("one-supplement-late", "one supplement request makes a dossier late (> 1 -> >= 1)", TIMELINESS,
             "CASE WHEN supplements > 1 OR end_cmp", "CASE WHEN supplements >= 1 OR end_cmp", (STATUS, ONESTOP)),
    Mutation("edited-due-wins", "score against the edited due date, not the first one", TIMELINESS,
             "COALESCE(d.original_due_at, d.due_at) AS source_due",
             "COALESCE(d.due_at, d.original_due_at) AS source_due", (STATUS,)),
    Mutation("received-at-as-of-excluded", "a dossier received at the as-of moment is left out", TIMELINESS,
             "WHERE d.received_at <= {t}", "WHERE d.received_at < {t}", (BOUNDARIES, STATUS)),
    Mutation("finished-at-as-of-ignored", "a finish at the as-of moment is ignored", TIMELINESS,
             "CASE WHEN d.finished_at <= {t} THEN d.finished_at", "CASE WHEN d.finished_at < {t} THEN d.finished_at",
             (BOUNDARIES, STATUS)),
    Mutation("restart-by-default", "supplement mode restart by default", "src/chiso/config.py",
             'supplement_mode: str = "resume"', 'supplement_mode: str = "restart"', (STATUS, BOUNDARIES)),
    Mutation("boundary-next-morning", "a due time on a day's end moves to the next morning (CEIL -> FLOOR + 1)",
             "src/chiso/calendar/deadlines.py",
             "CAST(CEIL(CAST({x} AS DOUBLE PRECISION) / {day_seconds(r)}) AS BIGINT)",
             "CAST(FLOOR(CAST({x} AS DOUBLE PRECISION) / {day_seconds(r)}) + 1 AS BIGINT)", (DEADLINES, BOUNDARIES)),
    Mutation("make-up-saturday-ignored", "announced make-up Saturdays not worked", "src/chiso/calendar/workcal.py",
             "if day in workdays:", "if day in workdays and False:", (DEADLINES,)),
    Mutation("pakn-due-16h", "PAKN due at 16:00 instead of the end of the day", "src/chiso/scoring/engine.py",
             "INTERVAL '17 hours' AS due", "INTERVAL '16 hours' AS due", (BOUNDARIES, SCORING)),
    Mutation("pakn-on-time-strict", "PAKN handled at its due moment is late (<= -> <)",
             "src/chiso/scoring/engine.py", "AND f.handled_at <= COALESCE(f.due_at, dd.due) AS handled_on_time",
             "AND f.handled_at < COALESCE(f.due_at, dd.due) AS handled_on_time", (BOUNDARIES, SCORING)),
    Mutation("rounding-3-places", "indicator rounding 2 -> 3 decimals", "src/chiso/rules/sets/vn-766-2026.toml",
             "rounding = 2", "rounding = 3", (RULES, SCORING)),
    Mutation("rounding-half-even", "rounding half up -> half even", "src/chiso/rules/arithmetic.py",
             "rounding=ROUND_HALF_UP))", 'rounding="ROUND_HALF_EVEN"))', (RULES,)),
    Mutation("dense-rank", "competition ranking -> dense ranking", "src/chiso/rules/arithmetic.py",
             "return [1 + sum(1 for other in values if other > v + 1e-9) for v in values]",
             "return [1 + len({o for o in values if o > v + 1e-9}) for v in values]", (BOUNDARIES, SCORING)),
    Mutation("payment-threshold-0.9", "payment indicator B threshold 0.8 -> 0.9",
             "src/chiso/rules/sets/vn-766-2026.toml",
             'threshold = 0.8\nnumerator = "fee_procedures_paid_online"',
             'threshold = 0.9\nnumerator = "fee_procedures_paid_online"', (RULES,)),
    Mutation("satisfaction-threshold-0.8", "satisfaction threshold 0.9 -> 0.8", "src/chiso/rules/sets/vn-766-2026.toml",
             "threshold = 0.9", "threshold = 0.8", (RULES, SCORING)),
    Mutation("threshold-ignored", "threshold indicators scored linearly", "src/chiso/rules/arithmetic.py",
             "raw = min(ind.max, ind.max * ratio / ind.threshold)", "raw = min(ind.max, ind.max * ratio)", (RULES,)),
    Mutation("zero-denominator-zero", "'no PAKN => full' scores 0", "src/chiso/rules/arithmetic.py",
             'return ind.max if ind.zero_denominator == "full" else 0.0', "return 0.0", (RULES, SCORING)),
    Mutation("onestop-band-inclusive", "one-stop bands: a total on a floor takes the higher band (> -> >=)",
             "src/chiso/reports/onestop.py", "if total > band.lower or", "if total >= band.lower or", (ONESTOP,)),
    Mutation("onestop-i8-90-strict", "one-stop item 8: exactly 90 % on time gives 0 (>= -> >)",
             "src/chiso/reports/onestop.py", "WHEN fb.ok * 10 >= fb.n * 9 THEN 1", "WHEN fb.ok * 10 > fb.n * 9 THEN 1",
             (BOUNDARIES, ONESTOP)),
)


def copy_repository(target: Path, rev: str | None) -> None:
    if rev is None:
        shutil.copytree(REPO, target, ignore=IGNORED)
        return
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev], check=True,
                             capture_output=True).stdout
    target.mkdir(parents=True)
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")


def environment(copy: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(copy / "src")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("CI", None)  # the runner checks rules, not the CI-only requirements
    return env


def check_import(copy: Path, python: Path) -> None:
    out = subprocess.run([str(python), "-c", "import chiso; print(chiso.__file__)"], cwd=copy, env=environment(copy),
                         check=True, capture_output=True, text=True).stdout.strip()
    print(f"chiso imported from {out}")
    if not Path(out).resolve().is_relative_to((copy / "src").resolve()):
        sys.exit(f"the copy's src is not what is imported ({out}); is chiso installed non-editable in .venv?")


def run_tests(copy: Path, python: Path, tests: tuple[str, ...]) -> tuple[int, str]:
    proc = subprocess.run([str(python), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-rf", *tests],
                          cwd=copy, env=environment(copy), capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def first_failure(output: str) -> str:
    """The node id of the first failed test in pytest's short summary (its \\uXXXX escapes decoded)."""
    m = re.search(r"^FAILED (.+?)(?: - .*)?$", output, re.MULTILINE)
    if not m:
        return ""
    node = re.sub(r"\\u([0-9a-f]{4})", lambda e: chr(int(e.group(1), 16)), m.group(1))
    return node.removeprefix("tests/")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rev", help="copy this commit (git archive) instead of the working tree")
    parser.add_argument("--only", action="append", default=[], help="run only this mutation (repeatable)")
    parser.add_argument("--list", action="store_true", help="list the mutations and exit")
    parser.add_argument("--no-baseline", action="store_true", help="skip the run on the unmutated copy")
    parser.add_argument("--exclude", action="append", default=[], metavar="TEST_FILE",
                        help="leave this test file out of every run (repeatable): which mutations does it alone catch?")
    args = parser.parse_args()

    selected = [replace(m, tests=tuple(t for t in m.tests if t not in args.exclude))
                for m in MUTATIONS if not args.only or m.name in args.only]
    selected = [m for m in selected if m.tests]
    unknown = set(args.only) - {m.name for m in MUTATIONS}
    if unknown:
        sys.exit(f"unknown mutation(s): {', '.join(sorted(unknown))}")
    if args.list:
        for m in selected:
            print(f"{m.name:28} {m.what}  [{m.path}]  tests: {' '.join(m.tests)}")
        return 0
    python = REPO / ".venv" / "bin" / "python"
    if not python.exists():
        sys.exit(f"{python} not found: run `make setup` first")

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="chiso-mutants-") as tmp:
        copy = Path(tmp) / "repo"
        copy_repository(copy, args.rev)
        check_import(copy, python)
        for m in selected:  # every mutation must still apply exactly once before anything runs
            count = (copy / m.path).read_text(encoding="utf-8").count(m.old)
            if count != 1:
                sys.exit(f"mutation {m.name}: the old text occurs {count} times in {m.path} (must be exactly once)")
        if not args.no_baseline:
            tests = tuple(dict.fromkeys(t for m in selected for t in m.tests))
            code, output = run_tests(copy, python, tests)
            if code != 0:
                print(output[-3000:])
                sys.exit("baseline: the selected tests fail on the unmutated copy; fix that first")
            print(f"baseline: {len(tests)} test files pass on the unmutated copy ({time.monotonic() - started:.0f} s)")
        rows: list[tuple[str, str, str]] = []
        for m in selected:
            path = copy / m.path
            original = path.read_text(encoding="utf-8")
            path.write_text(original.replace(m.old, m.new, 1), encoding="utf-8")
            t0 = time.monotonic()
            try:
                code, output = run_tests(copy, python, m.tests)
            finally:
                path.write_text(original, encoding="utf-8")
            failed = first_failure(output)
            result = "caught" if code == 1 and failed else "SURVIVED" if code == 0 else f"broken (exit {code})"
            rows.append((f"{m.name}: {m.what}", failed or "-", result))
            print(f"{m.name:28} {result:10} {failed or '-'} ({time.monotonic() - t0:.0f} s)", flush=True)
            if result.startswith("broken"):
                print("    " + "\n    ".join(output.strip().splitlines()[-5:]), flush=True)
    width = max(len(r[0]) for r in rows)
    cwidth = max(len(r[1]) for r in rows)
    print()
    print(f"{'mutation':{width}} | {'caught by':{cwidth}} | result")
    print(f"{'-' * width}-|-{'-' * cwidth}-|-------")
    for what, by, result in rows:
        print(f"{what:{width}} | {by:{cwidth}} | {result}")
    caught = sum(1 for r in rows if r[2] == "caught")
    print(f"\n{caught} of {len(rows)} mutations caught in {time.monotonic() - started:.0f} s")
    return 0 if caught == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
