"""Writing the documents: context -> Word and Excel templates -> files (and PDF when LibreOffice is there).
The template of each document is looked up in the workspace first (``<workspace>/templates``), then in the
package, so a province's edited copies are used."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from chiso import api
from chiso.reports import pdf
from chiso.reports.common import ReportSettings, ensure_dir
from chiso.reports.templating import WORKSPACE_FOLDER, packaged_dir, render_docx, render_xlsx, template_path
from chiso.scoring.period import parse_period
from chiso.store.db import Store

MONTHLY_DOCX, MONTHLY_XLSX = "cong-van-thang.docx", "phu-luc-thang.xlsx"
UNIT_DOCX, UNIT_XLSX = "cong-van-don-vi.docx", "phu-luc-don-vi.xlsx"
QUARTERLY_DOCX, QUARTERLY_XLSX = "bao-cao-mot-cua-quy.docx", "bieu-mot-cua-quy.xlsx"
CCHC_XLSX = "bieu-mau-cchc.xlsx"


@dataclass
class Written:
    files: list[Path] = field(default_factory=list)
    pdf_skipped: str | None = None  # why no PDF was written


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


def write_monthly(store: Store, period_text: str, out_dir: Path, *, as_of: datetime, letter_date: date,
                  national_rank: str | None = None, rules: str | None = None, want_pdf: bool = True) -> Written:
    from chiso.reports.monthly import monthly_context

    settings = settings_for(store)
    period = parse_period(period_text)
    ensure_dir(out_dir)
    with tempfile.TemporaryDirectory(prefix="chiso-charts-") as tmp:
        ctx = monthly_context(store, period.label, as_of=as_of, letter_date=letter_date, settings=settings,
                              workdir=Path(tmp), national_rank=national_rank, rules=rules)
        from chiso.reports.templating import Image

        for key in ("chart_groups", "chart_trend", "chart_ranking"):
            if ctx.get(key) is not None:
                ctx[key] = Image(ctx[key], 150 if key != "chart_ranking" else 155)
        word = render_docx(template_path(MONTHLY_DOCX, store.workspace), ctx,
                           out_dir / f"cong-van-bo-chi-so-{period.label}.docx", settings.numbers)
        excel = render_xlsx(template_path(MONTHLY_XLSX, store.workspace), ctx,
                            out_dir / f"phu-luc-bo-chi-so-{period.label}.xlsx", settings.numbers)
        charts_dir = ensure_dir(out_dir / "bieu-do")
        chart_files = [Path(shutil.copy(ctx[k].path, charts_dir / f"{k.replace('_', '-')}-{period.label}.png"))
                       for k in ("chart_groups", "chart_trend", "chart_ranking") if ctx.get(k) is not None]
    return _finish(Written([word, excel, *chart_files]), [word], out_dir, settings, want_pdf)


def write_unit(store: Store, unit: str, period_text: str, out_dir: Path, *, as_of: datetime, letter_date: date,
               rules: str | None = None, want_pdf: bool = True) -> Written:
    from chiso.reports.monthly import unit_context
    from chiso.reports.templating import Image

    settings = settings_for(store)
    period = parse_period(period_text)
    ensure_dir(out_dir)
    with tempfile.TemporaryDirectory(prefix="chiso-charts-") as tmp:
        ctx = unit_context(store, unit, period.label, as_of=as_of, letter_date=letter_date, settings=settings,
                           workdir=Path(tmp), rules=rules)
        ctx["chart_unit_groups"] = Image(ctx["chart_unit_groups"], 150)
        safe = unit.replace("/", "-")
        word = render_docx(template_path(UNIT_DOCX, store.workspace), ctx,
                           out_dir / f"cong-van-don-vi-{safe}-{period.label}.docx", settings.numbers)
        excel = render_xlsx(template_path(UNIT_XLSX, store.workspace), ctx,
                            out_dir / f"phu-luc-don-vi-{safe}-{period.label}.xlsx", settings.numbers)
    return _finish(Written([word, excel]), [word], out_dir, settings, want_pdf)


def write_quarterly_onestop(store: Store, period_text: str, out_dir: Path, *, letter_date: date,
                            want_pdf: bool = True) -> Written:
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
