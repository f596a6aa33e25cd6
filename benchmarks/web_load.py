"""Load run of the web service (issue 12 §6): province overview and ranking, 50 concurrent clients, on both stores.

    python benchmarks/run.py web [--clients 50] [--requests 20]

For each store (the embedded DuckDB file, then PostgreSQL at $CHISO_BENCH_PG or the local test database): the demo
province (Sơn La, 2025-07 → 2025-09, about 43,600 dossiers) is generated and loaded, an admin account made, and
``chiso serve`` started as its own process on 127.0.0.1. After one warming request per page (the first one scores
the month), every client logs in and requests the page ``--requests`` times in a row; all clients run at once. It
prints, for each of three runs, the latency median, 95th percentile and maximum, and the throughput (clients log in
before the timed part). Bounded: a fixed number of requests to
127.0.0.1 only, then the server is stopped.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx

HERE = Path(__file__).parent
PASSWORD = "mat-khau-do-tai-web"
RUNS = 3
PAGES = {"Tổng quan (/)": "/?period=2025-09", "Xếp hạng (/xep-hang)": "/xep-hang?period=2025-09"}


def chiso(*args: str, stdin: str | None = None) -> None:
    subprocess.run([sys.executable, "-m", "chiso.cli", *args], check=True, input=stdin, text=True,
                   stdout=subprocess.DEVNULL)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(data: Path, ws: Path, database: str | None) -> list[str]:
    base = ["-w", str(ws)] + (["--database", database] if database else [])
    if database:
        chiso(*base, "db", "upgrade")
    chiso(*base, "units", "init", "--province", "Sơn La")
    chiso(*base, "load", *(str(p) for p in sorted(data.iterdir())))
    chiso(*base, "users", "add", "admin", "--role", "admin", "--password-stdin", stdin=PASSWORD + "\n")
    return base


def login(client: httpx.Client | httpx.AsyncClient, page: str) -> dict[str, str]:
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    return {"csrf": token.group(1), "name": "admin", "password": PASSWORD}


async def logged_in(url: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=60)
    page = await client.get("/dang-nhap")
    answer = await client.post("/dang-nhap", data=login(client, page.text))
    assert answer.status_code in (200, 303), answer.status_code
    return client


async def one_client(client: httpx.AsyncClient, path: str, n: int, latencies: list[float]) -> None:
    for _ in range(n):
        start = time.perf_counter()
        r = await client.get(path)
        latencies.append(time.perf_counter() - start)
        assert r.status_code == 200, r.status_code


async def load(url: str, path: str, clients: int, requests: int) -> tuple[list[float], float]:
    """Every client logs in first (Argon2 is slow by design, and not what is measured); then all at once."""
    sessions = list(await asyncio.gather(*(logged_in(url) for _ in range(clients))))
    latencies: list[float] = []
    start = time.perf_counter()
    try:
        await asyncio.gather(*(one_client(c, path, requests, latencies) for c in sessions))
    finally:
        for c in sessions:
            await c.aclose()
    return latencies, time.perf_counter() - start


def serve(base: list[str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    log = (HERE / "data" / "web" / "server.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "chiso.cli", *base, "serve", "--port", str(port), "--as-of",
                             "2025-09-30 17:00"], stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/dang-nhap", timeout=2)
            return proc, url
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.2)


def measure(label: str, base: list[str], clients: int, requests: int) -> None:
    proc, url = serve(base)
    try:
        with httpx.Client(base_url=url, timeout=300) as warm:
            page = warm.get("/dang-nhap")
            warm.post("/dang-nhap", data=login(warm, page.text))
            for name, path in PAGES.items():
                start = time.perf_counter()
                assert warm.get(path).status_code == 200
                print(f"| {label} | {name}: first request (scores the month) | {time.perf_counter() - start:.2f} s "
                      "| | | |", flush=True)
        for name, path in PAGES.items():
            for run in range(1, RUNS + 1):
                latencies, wall = asyncio.run(load(url, path, clients, requests))
                ms = sorted(x * 1000 for x in latencies)
                p95 = ms[int(0.95 * (len(ms) - 1))]
                print(f"| {label} | {name}: {clients} clients × {requests}, run {run} | "
                      f"{statistics.median(ms):.0f} ms | {p95:.0f} ms | {ms[-1]:.0f} ms | {len(ms) / wall:.0f}/s |",
                      flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def web_suite(clients: int, requests: int, keep: bool) -> None:
    root = HERE / "data" / "web"
    shutil.rmtree(root, ignore_errors=True)
    data = root / "demo"
    chiso("generate", "--province", "Sơn La", "--from", "2025-07", "--to", "2025-09", "--seed", "1", "--out",
          str(data))
    print("| store | request | median | p95 | max | throughput |")
    print("|---|---|---|---|---|---|")
    measure("DuckDB", prepare(data, root / "ws-duckdb", None), clients, requests)
    dsn = os.environ.get("CHISO_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
    schema = f"chiso_bench_{uuid.uuid4().hex[:8]}"
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        try:
            url = f"{dsn}?options=-csearch_path%3D{schema}"
            measure("PostgreSQL", prepare(data, root / "ws-postgres", url), clients, requests)
        finally:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")
    if not keep:
        shutil.rmtree(root, ignore_errors=True)
