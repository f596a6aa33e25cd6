"""First page of each document as PNG for the README: ``python tools/render_images.py WORKSPACE docs/images``
(the demo workspace of ``make demo``; needs LibreOffice and pdftoppm, installed by the Makefile)."""

from __future__ import annotations

import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

from chiso.reports import pdf
from chiso.reports.documents import write_monthly, write_quarterly_onestop, write_unit
from chiso.store.db import Store


def main(workspace: str, out: str) -> None:
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    with Store.open(workspace) as store, tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp)
        as_of, letter = datetime(2025, 10, 5, 10), date(2025, 10, 6)
        written = [
            ("cong-van-thang", write_monthly(store, "2025-09", docs, as_of=as_of, letter_date=letter)),
            ("cong-van-don-vi", write_unit(store, "03646", "2025-09", docs, as_of=as_of, letter_date=letter)),
            ("bao-cao-mot-cua-quy", write_quarterly_onestop(store, "2025-Q3", docs, letter_date=date(2025, 9, 20))),
        ]
        for name, w in written:
            source = next(p for p in w.files if p.suffix == ".pdf")
            png = pdf.first_page_png(source, target / f"{name}.png", dpi=70)
            print(png)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
