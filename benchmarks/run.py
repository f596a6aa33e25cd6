"""Benchmarks for chiso. Prints the figures; record them in benchmarks/README.md.

    python benchmarks/run.py [status|score|reports|web|engines|national] [--dossiers N] [--runs R] [--keep]

1. generate a one-month Sơn La province with N dossiers (`chiso generate`),
2. load it into a fresh workspace (`chiso load`),
3. time `chiso status` (CSV of every dossier, to a file) and `chiso status --by-unit`,
each as a separate process, the way a user runs them.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
MONTH_AT_SCALE_1 = 43_600 / 3  # chiso.generate.province.QUARTER_DOSSIERS / 3


def run(label: str, args: list[str], out: Path | None = None) -> float:
    chiso = [sys.executable, "-m", "chiso.cli"]
    start = time.perf_counter()
    with (out.open("wb") if out else open(os.devnull, "wb")) as sink:
        subprocess.run([*chiso, *args], check=True, stdout=sink)
    elapsed = time.perf_counter() - start
    print(f"| {label} | {elapsed:.1f} s |", flush=True)
    return elapsed


def status_suite(args: argparse.Namespace) -> None:
    data = HERE / "data"
    shutil.rmtree(data, ignore_errors=True)
    gen, ws = data / "generated", data / "workspace"
    scale = args.dossiers / MONTH_AT_SCALE_1
    print(f"chiso benchmarks — {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"One month (2025-07), Sơn La, {args.dossiers:,} dossiers (scale {scale:.2f})\n")
    print("| step | time |\n|---|---|")
    run("generate", ["generate", "--province", "Sơn La", "--from", "2025-07", "--to", "2025-07",
                     "--scale", f"{scale:.4f}", "--seed", "1", "--out", str(gen)])
    run("units init", ["--workspace", str(ws), "units", "init", "--province", "Sơn La"])
    run("load (all files)", ["--workspace", str(ws), "load", str(gen)])
    # A correction file as offices send them: the required columns and finished_at only, for a fifth of the
    # dossiers; every other stored field must be kept (issue 9), which the loader fills before its checks.
    fix = data / "correction.parquet"
    import duckdb

    duckdb.sql(f"""COPY (SELECT dossier_id, unit_code, procedure_code, channel, received_at,
                               received_at AS finished_at
                        FROM read_parquet('{gen / "dossiers.parquet"}') USING SAMPLE 20 PERCENT (reservoir, 1))
                   TO '{fix}' (FORMAT PARQUET)""")
    run("load a correction file (20 % of the dossiers, 6 columns)", ["--workspace", str(ws), "load", str(fix)])
    out = data / "status.csv"
    run("status, every dossier, CSV", ["--workspace", str(ws), "status", "--as-of", "2025-07-31 17:00"], out)
    rows = sum(1 for _ in out.open(encoding="utf-8")) - 1
    run("status --by-unit", ["--workspace", str(ws), "status", "--as-of", "2025-07-31 17:00", "--by-unit"])
    print(f"\nstatus rows written: {rows:,}")
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)


def score_suite(args: argparse.Namespace) -> None:
    """Scoring every unit and level: the demo province-quarter, then a year of N dossiers."""
    data = HERE / "data"
    shutil.rmtree(data, ignore_errors=True)
    print(f"chiso scoring benchmarks — {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("\n| step | time |\n|---|---|")
    gen, ws = data / "quarter", data / "ws-quarter"
    run("generate Sơn La 2025-Q3 (scale 1)", ["generate", "--province", "Sơn La", "--from", "2025-07", "--to",
                                               "2025-09", "--seed", "1", "--out", str(gen)])
    run("load", ["--workspace", str(ws), "load", str(gen)])
    run("score --period 2025-Q3, all units, JSON", ["--workspace", str(ws), "score", "--period", "2025-Q3",
                                                   "--as-of", "2025-10-15", "--format", "json"])
    scale = args.dossiers / (MONTH_AT_SCALE_1 * 12)
    gen, ws = data / "year", data / "ws-year"
    run(f"generate 2026, {args.dossiers:,} dossiers (scale {scale:.2f})",
        ["generate", "--province", "Sơn La", "--from", "2026-01", "--to", "2026-12", "--scale", f"{scale:.4f}",
         "--seed", "1", "--out", str(gen)])
    run("load", ["--workspace", str(ws), "load", str(gen)])
    run("score --period 2026, all units, JSON", ["--workspace", str(ws), "score", "--period", "2026",
                                                "--as-of", "2027-01-15", "--format", "json"])
    run("score --period 2026-12, all units, JSON", ["--workspace", str(ws), "score", "--period", "2026-12",
                                                   "--as-of", "2027-01-15", "--format", "json"])
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)


def reports_suite(args: argparse.Namespace) -> None:
    """All documents of a 75-commune province month (Sơn La, demo data at scale 1): `chiso report all` (the
    public letter with appendices and charts, a letter to each of the 90 units, the quarterly one-stop report and
    the reform forms, September closing the quarter), without and with PDF; then each command on its own."""
    data = HERE / "data"
    shutil.rmtree(data, ignore_errors=True)
    print(f"chiso document benchmarks — {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print("\n| step | time |\n|---|---|")
    gen, ws, out = data / "quarter", data / "ws", data / "documents"
    run("generate Sơn La 2025-Q3 (scale 1)", ["generate", "--province", "Sơn La", "--from", "2025-07", "--to",
                                               "2025-09", "--seed", "1", "--out", str(gen)])
    run("units init", ["--workspace", str(ws), "units", "init", "--province", "Sơn La"])
    run("load", ["--workspace", str(ws), "load", str(gen)])
    common = ["--as-of", "2025-10-05 10:00", "--date", "2025-10-06"]
    report = ["--workspace", str(ws), "report"]
    run("report all 2025-09, no PDF", [*report, "all", "--period", "2025-09", *common, "--out", str(out / "a"),
                                       "--no-pdf"])
    if shutil.which("soffice"):
        run("report all 2025-09 with PDF of the letter and the quarterly report",
            [*report, "all", "--period", "2025-09", *common, "--out", str(out / "b")])
        run("report all 2025-09 with PDF of every letter (--unit-pdf)",
            [*report, "all", "--period", "2025-09", *common, "--out", str(out / "c"), "--unit-pdf"])
    run("report all 2025-09, no PDF, one process (--workers 1)",
        [*report, "all", "--period", "2025-09", *common, "--out", str(out / "d"), "--no-pdf", "--workers", "1"])
    run("report monthly 2025-09, no PDF", [*report, "monthly", "--period", "2025-09", *common, "--out",
                                           str(out / "e"), "--no-pdf"])
    run("report unit 03646 2025-09, no PDF", [*report, "unit", "03646", "--period", "2025-09", *common, "--out",
                                              str(out / "e"), "--no-pdf"])
    run("report quarterly-onestop 2025-Q3, no PDF", [*report, "quarterly-onestop", "--period", "2025-Q3", "--date",
                                                     "2025-09-20", "--out", str(out / "e"), "--no-pdf"])
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)


def _tree_rss(pid: int) -> int:
    """Resident memory of a process and every process below it (the Spark JVM is a grandchild), in bytes."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status", encoding="ascii") as fh:
                total += next(int(line.split()[1]) * 1024 for line in fh if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children", encoding="ascii") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def measured(args: list[str]) -> tuple[float, int]:
    """Wall time and peak resident memory of ``chiso ARGS`` with all its descendants (sampled every 20 ms)."""
    import threading

    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "chiso.cli", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    peak = 0

    def sample() -> None:
        nonlocal peak
        while proc.poll() is None:
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    proc.wait()
    sampler.join()
    if proc.returncode:
        raise SystemExit(f"chiso {' '.join(args)} failed ({proc.returncode})")
    return time.perf_counter() - start, peak


def engines_suite(args: argparse.Namespace) -> None:
    """One month scored (with the month before, as `chiso score` does) by each engine on the same data: the
    embedded store, DuckDB over the exported Parquet lake, Spark in local mode over the lake; the median of
    ``--runs`` runs and the peak memory of the whole process tree."""
    import statistics

    data = HERE / "data"
    shutil.rmtree(data, ignore_errors=True)
    gen, ws, lake = data / "gen", data / "ws", data / "lake"
    scale = args.dossiers / (MONTH_AT_SCALE_1 * 2)
    print(f"chiso engines — {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.dossiers:,} dossiers in 2025-08..09 (scale {scale:.3f}), {args.runs} runs each\n")
    print("| step | time |\n|---|---|")
    run("generate", ["generate", "--province", "Sơn La", "--from", "2025-08", "--to", "2025-09", "--scale",
                     f"{scale:.4f}", "--seed", "1", "--out", str(gen)])
    run("units init", ["--workspace", str(ws), "units", "init", "--province", "Sơn La"])
    run("load", ["--workspace", str(ws), "load", str(gen)])
    run("export --format parquet", ["--workspace", str(ws), "export", "--format", "parquet", "--out", str(lake)])
    score = ["--workspace", str(ws), "score", "--period", "2025-09", "--as-of", "2025-09-30 17:00", "--format", "json"]
    status = ["--workspace", str(ws), "status", "--as-of", "2025-09-30 17:00", "--by-unit", "--format", "csv"]
    wanted = set(args.only.split(",")) if args.only else None
    schema = _pg_store(args, ws, gen) if wanted is None or "postgres" in wanted else None
    print("\n| engine | score 2025-09 (median) | peak memory | status --by-unit (median) | peak memory |")
    print("|---|---|---|---|---|")
    engines = [("DuckDB, the store", [], "store"),
               ("DuckDB over the lake", ["--engine", "duckdb", "--lake", str(lake)], "lake"),
               ("Spark local[*] over the lake", ["--engine", "spark", "--lake", str(lake)], "spark")]
    if schema is not None:
        engines.insert(2, ("PostgreSQL (`--database`), the same files loaded into it",
                           ["--database", schema[1], "--engine", "postgres"], "postgres"))
    try:
        for label, extra, key in engines:
            if wanted is not None and key not in wanted:
                continue
            cells = []
            for command in (score, status):
                if key == "postgres" and schema is not None:  # `chiso --database URL --workspace W score …`
                    command = [*extra[:2], *(str(schema[3]) if c == str(ws) else c for c in command), *extra[2:]]
                    runs = [measured(command) for _ in range(args.runs)]
                else:
                    runs = [measured([*command, *extra]) for _ in range(args.runs)]
                cells += [f"{statistics.median(t for t, _ in runs):.1f} s",
                          f"{max(m for _, m in runs) / 2**20:,.0f} MB"]
            print(f"| {label} | {' | '.join(cells)} |", flush=True)
    finally:
        if schema is not None and not args.keep:
            schema[0].execute(f"DROP SCHEMA {schema[2]} CASCADE")
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)


def _pg_store(args: argparse.Namespace, ws: Path, gen: Path) -> tuple[Any, str, str, Path] | None:
    """A schema of its own in the PostgreSQL database ``--pg`` (the tests' database by default), the generated
    files loaded into it with ``chiso --database URL load``: (connection, URL, schema, workspace folder). None,
    with a line saying why, when PostgreSQL or psycopg is missing."""
    from urllib.parse import quote

    try:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        conn = psycopg.connect(args.pg, autocommit=True, connect_timeout=5)
    except Exception as exc:  # psycopg missing, or PostgreSQL not reachable
        print(f"\nPostgreSQL left out: {exc}".rstrip())
        return None
    name = f"chiso_bench_{os.getpid()}"
    conn.execute(f"CREATE SCHEMA {name}")
    params = conninfo_to_dict(args.pg)
    url = (f"postgresql://{quote(str(params.get('user', '')))}@{params.get('host', '127.0.0.1')}:"
           f"{params.get('port', 5432)}/{quote(str(params.get('dbname', '')))}"
           f"?options={quote('-csearch_path=' + name, safe='')}")
    pg_ws = ws.parent / "ws-pg"
    where = ["--workspace", str(pg_ws), "--database", url]
    try:
        run("db upgrade (PostgreSQL)", [*where, "db", "upgrade"])
        run("units init (PostgreSQL)", [*where, "units", "init", "--province", "Sơn La"])
        took, peak = measured([*where, "load", str(gen)])
    except BaseException:
        conn.execute(f"DROP SCHEMA {name} CASCADE")
        raise
    print(f"| load (PostgreSQL) | {took:.1f} s, {peak / 2**20:,.0f} MB |", flush=True)
    return conn, url, name, pg_ws


def national_suite(args: argparse.Namespace) -> None:
    """The national generator (34 provinces, 2026, N dossiers) straight into a lake, then the year scored and the
    year-end status by unit over it with DuckDB: the median of ``--runs`` runs and the peak memory of each."""
    import statistics

    data = HERE / "data"
    shutil.rmtree(data, ignore_errors=True)
    lake, ws = data / "lake", data / "ws"
    ws.mkdir(parents=True)
    scale = args.dossiers / 7_722_432  # a year of the 34 provinces at scale 1 (3,321 communes and wards)
    print(f"chiso national — {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.dossiers:,} dossiers in 2026 (scale {scale:.3f}), {args.runs} runs each\n")
    print("| step | time (median) | peak memory |\n|---|---|---|")
    took, peak = measured(["generate", "--national", "--from", "2026-01", "--to", "2026-12", "--scale",
                           f"{scale:.4f}", "--seed", "1", "--out", str(lake)])
    print(f"| generate --national | {took:.1f} s | {peak / 2**20:,.0f} MB |", flush=True)
    lake_args = ["--engine", "duckdb", "--lake", str(lake)]
    steps = (("score --period 2026, all units, JSON", ["score", "--period", "2026", "--as-of", "2027-01-15",
                                                       "--format", "json"]),
             ("score --period 2026-12, all units, JSON", ["score", "--period", "2026-12", "--as-of", "2027-01-15",
                                                          "--format", "json"]),
             ("status --by-unit at 31/12 17:00", ["status", "--as-of", "2026-12-31 17:00", "--by-unit", "--format",
                                                 "csv"]))
    for label, command in steps:
        runs = [measured(["--workspace", str(ws), *command, *lake_args]) for _ in range(args.runs)]
        print(f"| {label} | {statistics.median(t for t, _ in runs):.1f} s | "
              f"{max(m for _, m in runs) / 2**20:,.0f} MB |", flush=True)
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("suite", nargs="?", choices=["status", "score", "reports", "web", "engines", "national"],
                        default="status")
    parser.add_argument("--dossiers", type=int, default=None,
                        help="status: dossiers in the month (1,000,000); score: dossiers in the year (10,000,000)")
    parser.add_argument("--runs", type=int, default=3, help="engines: runs per engine and command (median)")
    parser.add_argument("--only", default=None,
                        help="engines: some of store,lake,postgres,spark (default: all four)")
    parser.add_argument("--pg", default=os.environ.get("CHISO_TEST_PG",
                                                       "host=127.0.0.1 port=5432 dbname=test user=postgres"),
                        help="engines: the PostgreSQL database (libpq key=value) for the postgres engine")
    parser.add_argument("--keep", action="store_true", help="keep benchmarks/data for inspection")
    parser.add_argument("--clients", type=int, default=50, help="web: concurrent clients")
    parser.add_argument("--requests", type=int, default=20, help="web: requests per client and page")
    args = parser.parse_args()
    if args.suite == "web":
        sys.path.insert(0, str(HERE))
        from web_load import web_suite

        web_suite(args.clients, args.requests, args.keep)
        return
    if args.suite == "status":
        args.dossiers = args.dossiers or 1_000_000
        status_suite(args)
    elif args.suite == "reports":
        reports_suite(args)
    elif args.suite == "engines":
        args.dossiers = args.dossiers or 100_000
        engines_suite(args)
    elif args.suite == "national":
        args.dossiers = args.dossiers or 10_000_000
        national_suite(args)
    else:
        args.dossiers = args.dossiers or 10_000_000
        score_suite(args)


if __name__ == "__main__":
    main()
