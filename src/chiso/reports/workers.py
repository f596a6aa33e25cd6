"""Rendering many documents at once (the unit letters of ``chiso report all``) in worker processes.

A job (:class:`UnitJob`, :class:`~chiso.reports.charts.ChartJob`) carries everything its document needs, so a
worker never touches the database. Workers come from a fork server that imports matplotlib, python-docx, docxtpl,
openpyxl and the renderers once (``chiso.reports._preload``), not the database, so each starts warm without
inheriting the parent's connection or threads. With one core, or ``workers=1``, jobs run in the calling process.

As with any ``multiprocessing`` code, a script that calls ``write_all`` must do so under
``if __name__ == "__main__":``."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import threading
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chiso.reports.numbers import NumberFormat
from chiso.reports.templating import Image, render_docx, render_xlsx


@dataclass(frozen=True)
class UnitJob:
    """One unit letter: its context (``chart_jobs`` included), templates and output files."""

    context: dict[str, Any]
    word_template: Path
    excel_template: Path
    word: Path
    excel: Path
    numbers: NumberFormat


def render_unit(job: UnitJob) -> list[Path]:
    """Draw the unit's chart and fill its Word and Excel templates."""
    ctx = dict(job.context)
    for key, chart in ctx.pop("chart_jobs", {}).items():
        ctx[key] = Image(chart.draw(), 150)
    return [render_docx(job.word_template, ctx, job.word, job.numbers),
            render_xlsx(job.excel_template, ctx, job.excel, job.numbers)]


def preload() -> None:
    """What every worker needs, imported once in the fork server (not in the parent, which may never draw)."""
    from chiso.lazy import load_all

    load_all()
    import docx  # noqa: F401
    import docxtpl  # noqa: F401
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401
    import openpyxl  # noqa: F401

    from chiso.reports import charts

    charts._pyplot()


def _ready() -> int:
    return os.getpid()


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def start_method() -> str:
    """``forkserver`` where the platform has it (Linux, macOS), else ``spawn`` (Windows): each worker then
    imports what it needs itself, slower to start but the same documents. ``CHISO_START_METHOD`` forces one
    (the tests force ``spawn``)."""
    methods = multiprocessing.get_all_start_methods()
    forced = os.environ.get("CHISO_START_METHOD")
    if forced:
        if forced not in methods:
            raise ValueError(f"CHISO_START_METHOD={forced}: máy này chỉ có {', '.join(methods)}")
        return forced
    return "forkserver" if "forkserver" in methods else "spawn"


def start(workers: int | None = None) -> Executor | None:
    """A pool of ``workers`` processes, started now so that they warm up while the caller scores the month;
    None (run in this process) for one worker."""
    n = default_workers() if workers is None else workers
    if n <= 1:
        return None
    method = start_method()
    ctx = multiprocessing.get_context(method)
    if method == "forkserver":
        # Each worker re-imports the main module (multiprocessing's rule); for the ``chiso`` command that is
        # chiso.cli, preloaded here once so that the workers find it imported instead of importing it again.
        ctx.set_forkserver_preload(["chiso.reports._preload", "chiso.cli"])
    pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx)
    # Started from a thread: spawning the first worker waits until the fork server has imported the renderers
    # (0.6 s on 2 cores), time the caller spends scoring the month instead.
    threading.Thread(target=_warm, args=(pool, n), name="chiso-warm-workers", daemon=True).start()
    return pool


def _warm(pool: Executor, n: int) -> None:
    # A pool shut down or broken before its workers started: the caller sees that on its own first job (and
    # falls back to rendering in its own process).
    with contextlib.suppress(RuntimeError, BrokenProcessPool):
        for _ in range(n):
            pool.submit(_ready)
