"""Writing the documents: context -> Word and Excel templates -> files (and PDF when LibreOffice is there).
The template of each document is looked up in the workspace first (``<workspace>/templates``), then in the
package, so a province's edited copies are used."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import Executor, Future
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

from chiso import api
from chiso.clock import today_local
from chiso.outputs import check_output, final_path, safe_filename, staged_dir
from chiso.reports import charts, pdf
from chiso.reports.charts import ChartJob
from chiso.reports.common import ReportSettings, ensure_dir
from chiso.reports.monthly import MonthScores, monthly_context, unit_context
from chiso.reports.templating import (
    WORKSPACE_FOLDER,
    Image,
    packaged_dir,
    render_docx,
    render_xlsx,
    template_path,
)
from chiso.reports.workers import UnitJob, render_unit
from chiso.scoring.period import Period, parse_period
from chiso.store.db import Store

MONTHLY_DOCX, MONTHLY_XLSX = "cong-van-thang.docx", "phu-luc-thang.xlsx"
UNIT_DOCX, UNIT_XLSX = "cong-van-don-vi.docx", "phu-luc-don-vi.xlsx"
QUARTERLY_DOCX, QUARTERLY_XLSX = "bao-cao-mot-cua-quy.docx", "bieu-mot-cua-quy.xlsx"
CCHC_XLSX, CCHC_DOCX = "bieu-mau-cchc.xlsx", "bao-cao-cchc-quy.docx"


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    pdf_skipped: str | None = None  # why no PDF was written
    unit_letters: int = 0  # detail letters written (report all)
    missing_inputs: int = 0  # reform statistics rows still waiting for the staff input file
    missing_items: list[str] = field(default_factory=list)  # what the reform report still lacks ("Biểu mẫu 1 2.1")
    notes: list[str] = field(default_factory=list)  # said on the terminal, never in the documents


def _rule_notes(data: MonthScores, rules: str | None) -> list[str]:
    """The warning of a month scored by a rule set not yet in force then (none was chosen with ``--rules``)."""
    from chiso.rules.model import not_in_force_note

    note = None if rules else not_in_force_note(data.rs, data.period.start, data.period.label)
    return [note] if note else []


def _finish(written: Written, docx_files: list[Path], out_dir: Path, settings: ReportSettings, want_pdf: bool
            ) -> Written:
    if not (want_pdf and settings.pdf):
        return written
    if pdf.office_binary() is None:
        written.pdf_skipped = ("chưa cài LibreOffice (gói Debian libreoffice-writer-nogui): "
                               "bỏ qua bản PDF")
        return written
    written.files += pdf.to_pdf(docx_files, out_dir)
    return written


def settings_for(store: Store) -> ReportSettings:
    return ReportSettings.from_config(api.prepare(store))


@dataclass
class _MonthlyLetter:
    """The public letter between its two steps: context made and charts sent off, then files rendered."""

    ctx: dict[str, Any]
    charts: dict[str, ChartJob]
    drawing: dict[str, Future[Path]]
    label: str


def _start_monthly(store: Store, data: MonthScores, out_dir: Path, settings: ReportSettings, letter_date: date,
                   national_rank: str | None, pool: Executor | None) -> _MonthlyLetter:
    label = data.period.label
    charts_dir = ensure_dir(out_dir / "bieu-do")
    ctx = monthly_context(store, data, letter_date=letter_date, settings=settings, workdir=charts_dir,
                          national_rank=national_rank)
    jobs = {k: replace(job, out=charts_dir / f"{k.replace('_', '-')}-{label}.png")
            for k, job in ctx.pop("chart_jobs").items()}
    drawing = {k: pool.submit(charts.draw, job) for k, job in jobs.items()} if pool is not None else {}
    return _MonthlyLetter(ctx, jobs, drawing, label)


OFFICIAL_SHEET = "Phụ lục 3 - Chính thức"  # the comparison with the official results, only when imported


def _finish_monthly(store: Store, letter: _MonthlyLetter, out_dir: Path, settings: ReportSettings) -> list[Path]:
    ctx = letter.ctx
    # the comparison with the official results only when they were imported (removed before the one save)
    excel = render_xlsx(template_path(MONTHLY_XLSX, store.workspace), ctx,
                        out_dir / f"phu-luc-bo-chi-so-{letter.label}.xlsx", settings.numbers,
                        drop=() if ctx.get("official_differences") else (OFFICIAL_SHEET,))
    for key, job in letter.charts.items():  # the Excel appendix is rendered while the charts are drawn
        path = letter.drawing[key].result() if key in letter.drawing else job.draw()
        ctx[key] = Image(path, 155 if key.startswith("chart_ranking") else 150)
    word = render_docx(template_path(MONTHLY_DOCX, store.workspace), ctx,
                       out_dir / f"cong-van-bo-chi-so-{letter.label}.docx", settings.numbers)
    return [word, excel, *(ctx[k].path for k in ("chart_groups", "chart_trend", "chart_ranking",
                                                  "chart_ranking_local") if ctx.get(k))]


def _staged(store: Store, out_dir: Path, write: Callable[[Path], Written]) -> Written:
    """Run ``write`` into a staging folder and move its files into ``out_dir`` when all of them were written: a
    failed run leaves no partial set of documents. ``out_dir`` may not be one of the workspace's own folders."""
    check_output(out_dir, store.workspace, directory=True)
    with staged_dir(out_dir) as stage:
        written = write(stage)
    written.files = [final_path(p, stage, out_dir) for p in written.files]
    return written


def write_monthly(store: Store, period_text: str, out_dir: Path, *, as_of: datetime, letter_date: date,
                  national_rank: str | None = None, rules: str | None = None, want_pdf: bool = True) -> Written:
    """The monthly public letter (.docx), its appendices (.xlsx), the three charts (``bieu-do/``) and the
    PDF."""
    return _staged(store, out_dir, lambda stage: _write_monthly(store, period_text, stage, as_of, letter_date,
                                                                national_rank, rules, want_pdf))


def _write_monthly(store: Store, period_text: str, out_dir: Path, as_of: datetime, letter_date: date,
                   national_rank: str | None, rules: str | None, want_pdf: bool) -> Written:
    settings = settings_for(store)
    period = parse_period(period_text)
    data = MonthScores.compute(store, period.label, as_of=as_of, rules=rules)
    ensure_dir(out_dir)
    letter = _start_monthly(store, data, out_dir, settings, letter_date, national_rank, None)
    files = _finish_monthly(store, letter, out_dir, settings)
    return _finish(Written(files, notes=_rule_notes(data, rules)), files[:1], out_dir, settings, want_pdf)


def _unit_job(store: Store, data: MonthScores, code: str, out_dir: Path, chart_dir: Path, letter_date: date,
              settings: ReportSettings) -> UnitJob:
    ctx = unit_context(store, data, code, letter_date=letter_date, settings=settings, workdir=chart_dir)
    safe = safe_filename(code)
    label = data.period.label
    return UnitJob(ctx, template_path(UNIT_DOCX, store.workspace), template_path(UNIT_XLSX, store.workspace),
                   out_dir / f"cong-van-don-vi-{safe}-{label}.docx",
                   out_dir / f"phu-luc-don-vi-{safe}-{label}.xlsx", settings.numbers)


def write_unit(store: Store, unit: str, period_text: str, out_dir: Path, *, as_of: datetime, letter_date: date,
               rules: str | None = None, want_pdf: bool = True) -> Written:
    return _staged(store, out_dir, lambda stage: _write_unit(store, unit, period_text, stage, as_of, letter_date,
                                                             rules, want_pdf))


def _write_unit(store: Store, unit: str, period_text: str, out_dir: Path, as_of: datetime, letter_date: date,
                rules: str | None, want_pdf: bool) -> Written:
    settings = settings_for(store)
    period = parse_period(period_text)
    data = MonthScores.compute(store, period.label, as_of=as_of, rules=rules)
    data.result(unit)  # unknown unit: KeyError naming it, before anything is written
    ensure_dir(out_dir)
    with tempfile.TemporaryDirectory(prefix="chiso-charts-") as tmp:
        files = render_unit(_unit_job(store, data, unit, out_dir, Path(tmp), letter_date, settings))
    return _finish(Written(files, notes=_rule_notes(data, rules)), files[:1], out_dir, settings, want_pdf)


def write_quarterly_onestop(store: Store, period_text: str, out_dir: Path, *, letter_date: date,
                            want_pdf: bool = True) -> Written:
    return _staged(store, out_dir, lambda stage: _write_quarterly_onestop(store, period_text, stage, letter_date,
                                                                          want_pdf))


def _write_quarterly_onestop(store: Store, period_text: str, out_dir: Path, letter_date: date,
                             want_pdf: bool) -> Written:
    from chiso.reports.quarterly import quarterly_context

    settings = settings_for(store)
    period = parse_period(period_text)
    ensure_dir(out_dir)
    ctx = quarterly_context(store, period.label, letter_date=letter_date, settings=settings)
    word = render_docx(template_path(QUARTERLY_DOCX, store.workspace), ctx,
                       out_dir / f"bao-cao-mot-cua-{period.label}.docx", settings.numbers)
    excel = render_xlsx(template_path(QUARTERLY_XLSX, store.workspace), ctx,
                        out_dir / f"bieu-mot-cua-{period.label}.xlsx", settings.numbers)
    return _finish(Written([word, excel]), [word], out_dir, settings, want_pdf)


def write_cchc(store: Store, period_text: str, out_dir: Path, *, inputs_file: Path | None = None,
               letter_date: date | None = None, want_pdf: bool = True, empty_inputs: bool = False) -> Written:
    """The quarterly administrative-reform report: Biểu mẫu 1-7 (.xlsx), the narrative report with sections I-V
    (.docx, .pdf) and the staff input workbook, pre-filled with what is stored for the period; with
    ``inputs_file`` the staff figures and texts are read (errors name file, sheet, row and column) and stored
    first; with ``empty_inputs`` only the empty input workbook is written."""
    return _staged(store, out_dir, lambda stage: _write_cchc(store, period_text, stage, inputs_file, letter_date,
                                                             want_pdf, empty_inputs))


def _write_cchc(store: Store, period_text: str, out_dir: Path, inputs_file: Path | None,
                letter_date: date | None = None, want_pdf: bool = False, empty_inputs: bool = False) -> Written:
    from chiso.reports import cchc

    label = parse_period(period_text).label
    config = api.prepare(store)
    settings = ReportSettings.from_config(config)
    ensure_dir(out_dir)
    inputs_path = out_dir / f"nhap-lieu-cchc-{label}.xlsx"
    if empty_inputs:
        return Written([cchc.write_input_template(inputs_path, label, number_format=settings.numbers)])
    if inputs_file is not None:
        cchc.save_inputs(store, label, cchc.read_inputs(inputs_file, settings.numbers, label))
    report = cchc.make_report(store, label, out_dir / f"bieu-mau-cchc-{label}.xlsx", config)
    stored = cchc.stored_inputs(store, label)
    template = cchc.write_input_template(inputs_path, label, values=stored, number_format=settings.numbers)
    ctx = cchc.report_context(store, label, config, report.rows, stored, settings=settings,
                              letter_date=letter_date or today_local())
    word = render_docx(template_path(CCHC_DOCX, store.workspace), ctx, out_dir / f"bao-cao-cchc-{label}.docx",
                       settings.numbers)
    written = Written([report.path, template, word])
    written.missing_inputs = len(report.missing)
    written.missing_items = [f"{where} {code}" for where, code, _, _ in report.missing_items]
    return _finish(written, [word], out_dir, settings, want_pdf)


def letter_units(data: MonthScores, which: str | list[str]) -> list[str]:
    """The units that get a detail letter: ``"all"`` = the departments the portal ranks and the local level of
    the public letter (districts while they exist, else communes), ``"none"``, or the given codes (checked)."""
    if which == "none":
        return []
    if which == "all":
        departments = [r["code"] for r in data.results if r["level"] == "department" and r.get("ranked", True)]
        districts = [r["code"] for r in data.results if r["level"] == "district"]
        return departments + (districts or [r["code"] for r in data.results if r["level"] == "commune"])
    codes = [which] if isinstance(which, str) else list(which)
    for code in codes:
        data.result(code)
    return codes


def closes_quarter(period: Period) -> bool:
    return period.kind == "month" and period.start.month % 3 == 0


def write_all(store: Store, period_text: str, out_dir: Path, *, as_of: datetime, letter_date: date,
              national_rank: str | None = None, rules: str | None = None, want_pdf: bool = True,
              units: str | list[str] = "all", unit_pdf: bool = False, workers: int | None = None,
              progress: Callable[[str, int, int | None], None] | None = None) -> Written:
    """Every document of a month from one scoring: the public letter with its appendices and charts, a detail
    letter to every unit (``don-vi/``, rendered by worker processes) and, when the month closes a quarter, the
    quarterly one-stop report and the reform statistics forms of that quarter. PDF for the public letter and
    the quarterly report (LibreOffice, started as soon as they exist); for the unit letters with
    ``unit_pdf``. Everything is written in a staging folder and moved into ``out_dir`` at the end, so a failed
    run leaves no partial set of documents."""
    period = parse_period(period_text)
    if period.kind != "month":
        raise ValueError(f"'{period.label}': chiso report all nhận kỳ tháng (ví dụ 2025-09)")
    return _staged(store, out_dir, lambda stage: _write_all_pooled(store, period, stage, as_of, letter_date,
                                                                   national_rank, rules, want_pdf, units, unit_pdf,
                                                                   workers, progress))


def _write_all_pooled(store: Store, period: Period, out_dir: Path, as_of: datetime, letter_date: date,
                      national_rank: str | None, rules: str | None, want_pdf: bool, units: str | list[str],
                      unit_pdf: bool, workers: int | None,
                      progress: Callable[[str, int, int | None], None] | None = None) -> Written:
    from chiso.reports import workers as pool_module

    settings = settings_for(store)
    args = (store, period, out_dir, as_of, letter_date, national_rank, rules, want_pdf and settings.pdf, units,
            unit_pdf, settings)
    pool = pool_module.start(workers) if units != "none" else None
    try:
        return _write_all(*args, pool, progress)
    except BrokenProcessPool:
        # Workers that could not start (a script run from standard input, a sandbox without fork): do it all
        # again in this process; the files are simply written anew.
        return _write_all(*args, None, progress)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def _write_all(store: Store, period: Period, out_dir: Path, as_of: datetime, letter_date: date,
               national_rank: str | None, rules: str | None, want_pdf: bool, units: str | list[str],
               unit_pdf: bool, settings: ReportSettings, pool: Executor | None,
               progress: Callable[[str, int, int | None], None] | None = None) -> Written:
    data = MonthScores.compute(store, period.label, as_of=as_of, rules=rules)
    codes = letter_units(data, units)
    unit_dir = ensure_dir(out_dir / "don-vi") if codes else out_dir / "don-vi"
    ensure_dir(out_dir)
    conversion: pdf.Conversion | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="chiso-charts-") as tmp:
            jobs = [_unit_job(store, data, code, unit_dir, Path(tmp), letter_date, settings) for code in codes]
            letter = _start_monthly(store, data, out_dir, settings, letter_date, national_rank, pool)
            rendered = pool.map(render_unit, jobs, chunksize=4) if pool is not None else None  # after the charts
            written = Written(_finish_monthly(store, letter, out_dir, settings), notes=_rule_notes(data, rules))
            words = [written.files[0]]
            if closes_quarter(period):
                quarter = f"{period.start.year}-Q{(period.start.month - 1) // 3 + 1}"
                quarterly = _write_quarterly_onestop(store, quarter, out_dir, letter_date, want_pdf=False)
                words.append(quarterly.files[0])
                forms = _write_cchc(store, quarter, out_dir, None, letter_date)
                words.append(forms.files[2])
                written.files += quarterly.files + forms.files
                written.missing_inputs = forms.missing_inputs
                written.missing_items = forms.missing_items
            if want_pdf and pdf.office_binary() is not None:
                conversion = pdf.Conversion(words, out_dir)  # runs while the unit letters are finished
            elif want_pdf:
                written.pdf_skipped = "chưa cài LibreOffice (gói Debian libreoffice-writer-nogui): bỏ qua bản PDF"
            results = rendered if rendered is not None else map(render_unit, jobs)
            unit_files = []
            for done, files in enumerate(results, start=1):
                unit_files += files
                if progress is not None:
                    progress("Công văn đơn vị", done, len(jobs))
    except BaseException:
        if conversion is not None:
            conversion.cancel()
        raise
    if conversion is not None:
        written.files += conversion.wait()
        if unit_pdf and codes:
            unit_files += pdf.to_pdf([f for f in unit_files if f.suffix == ".docx"], unit_dir)
    written.files += unit_files
    written.unit_letters = len(codes)
    return written


def copy_templates(store: Store, *, overwrite: bool = False) -> list[Path]:
    """Copy the packaged templates into the workspace for the office to edit; existing copies are kept
    unless ``overwrite``."""
    target = ensure_dir(store.workspace / WORKSPACE_FOLDER)
    copied = []
    for src in sorted(packaged_dir().iterdir()):
        if src.suffix not in {".docx", ".xlsx"}:
            continue
        dest = target / src.name
        if dest.exists() and not overwrite:
            continue
        shutil.copyfile(src, dest)
        copied.append(dest)
    return copied


DISTRICT_DOCX = "cong-van-huyen.docx"


def write_district(store: Store, issuer: str, period_text: str, out_dir: Path, *, as_of: datetime,
                   letter_date: date, rules: str | None = None, want_pdf: bool = True) -> Written:
    """A district's monthly letter (before 1/7/2025): the letter of UBND huyện ``issuer`` to its offices and
    communes, with its communes' ranking in the appendix (.docx, and .pdf with LibreOffice), and the Excel appendix
    (.xlsx: its indicators, its overdue dossiers, its communes' ranking)."""
    from chiso.reports.district import check_issuer

    check_issuer(store, issuer, parse_period(period_text))  # before anything is scored or written
    return _staged(store, out_dir, lambda stage: _write_district(store, issuer, period_text, stage, as_of,
                                                                 letter_date, rules, want_pdf))


def _write_district(store: Store, issuer: str, period_text: str, out_dir: Path, as_of: datetime, letter_date: date,
                    rules: str | None, want_pdf: bool) -> Written:
    from chiso.reports.district import district_context

    config = api.prepare(store)
    settings = ReportSettings.from_config(config)
    period = parse_period(period_text)
    data = MonthScores.compute(store, period.label, as_of=as_of, rules=rules)
    ctx = district_context(store, data, issuer, letter_date=letter_date, settings=settings,
                           report_settings=dict(config.report))
    ensure_dir(out_dir)
    safe = safe_filename(issuer)
    word = render_docx(template_path(DISTRICT_DOCX, store.workspace), ctx,
                       out_dir / f"cong-van-huyen-{safe}-{period.label}.docx", settings.numbers)
    # The Excel appendix: the district's indicators, its overdue dossiers and its communes' ranking (the unit
    # appendix's sheets), ranked as the letter ranks it, among the districts of its own province.
    with tempfile.TemporaryDirectory(prefix="chiso-charts-") as tmp:
        appendix = unit_context(store, data, issuer, letter_date=letter_date, settings=settings, workdir=Path(tmp))
    appendix.pop("chart_jobs")
    appendix["unit"] = {**appendix["unit"], "rank": ctx["district"]["rank"], "peers": ctx["district"]["peers"]}
    excel = render_xlsx(template_path(UNIT_XLSX, store.workspace), appendix,
                        out_dir / f"phu-luc-huyen-{safe}-{period.label}.xlsx", settings.numbers)
    return _finish(Written([word, excel], notes=_rule_notes(data, rules)), [word], out_dir, settings, want_pdf)
