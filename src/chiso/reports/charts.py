"""Charts for the documents (biểu đồ), drawn offline with matplotlib (Agg backend, DejaVu Sans, which carries
Vietnamese diacritics) into PNG files that the Word templates embed. Names on a chart are data: drawn as typed
(no mathtext), without control characters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chiso.reports.numbers import NumberFormat
from chiso.textnorm import CONTROL

BLUE, RED, GREY = "#1f5fa8", "#c0392b", "#d5d8dc"
PNG = {"compress_level": 1}  # fast zlib: a unit letter's chart is 30 kB instead of 25 kB, drawn 25 % faster


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    # text.parse_math off: unit names are data, and "$…$" in a name must be drawn as typed, not parsed as
    # mathtext (a name like "Xã $\frac{$" would otherwise stop the chart, and with it ``report all``).
    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "svg.fonttype": "none", "text.parse_math": False})
    return plt


LABEL_LENGTH = 80


def label(text: str, length: int = LABEL_LENGTH) -> str:
    """A name as a chart shows it: control characters dropped, at most ``length`` characters (longer names end
    with '…'; the documents' tables carry the full name)."""
    text = " ".join(CONTROL.sub(" ", str(text)).split())
    return text if len(text) <= length else text[: length - 1] + "…"


class GroupChart:
    """Horizontal bars: each group's score against its maximum, weak groups in red. Laid out and drawn once
    for a rule set's groups (axes, group names, maxima, legend); each unit then only draws its bars, score
    labels and title over that background (matplotlib blitting): the unit letters of a month share the
    background, and drawing only what changes is three times faster."""

    def __init__(self, names: list[str], maxima: list[float], nf: NumberFormat, title: str = " ", dpi: int = 150
                 ) -> None:
        plt = _pyplot()
        self.nf, self.maxima = nf, maxima[::-1]
        self.fig, ax = plt.subplots(figsize=(6.3, 0.42 * len(names) + 1.1), dpi=dpi)
        labels = [label(n) for n in names[::-1]]
        ys = list(range(len(labels)))  # positions, not categories: two equal names stay two bars
        ax.barh(ys, self.maxima, color=GREY, label="Điểm tối đa")
        self.bars = ax.barh(ys, [0.0] * len(labels), color=BLUE, label="Điểm đạt")
        ax.set_yticks(ys, labels)
        self.texts = [ax.text(m + 0.3, y, f"{nf.fixed(m)}/{nf.number(m, 0)}", va="center", fontsize=8)
                      for y, m in enumerate(self.maxima)]
        ax.set_xlim(0, max(maxima) * 1.25)
        self.title = ax.set_title(label(title, 200), fontsize=10, loc="left")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=7, frameon=False)
        self.fig.tight_layout()  # with the widest score labels in place
        self.moving = [*self.bars, *self.texts, self.title]
        for artist in self.moving:
            artist.set_animated(True)
        self.fig.canvas.draw()
        self.background = self.fig.canvas.copy_from_bbox(self.fig.bbox)

    def draw(self, scores: list[float], weak: list[bool], title: str, out: Path) -> Path:
        from PIL import Image

        for bar, text, score, low, m in zip(self.bars, self.texts, scores[::-1], weak[::-1], self.maxima,
                                            strict=True):
            bar.set_width(score)
            bar.set_color(RED if low else BLUE)
            text.set_text(f"{self.nf.fixed(score)}/{self.nf.number(m, 0)}")  # as published: 15,40/18
        self.title.set_text(label(title, 200))
        canvas = self.fig.canvas
        canvas.restore_region(self.background)
        for artist in self.moving:
            self.fig.draw_artist(artist)
        size = canvas.get_width_height(physical=True)
        image = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        image.save(out, format="PNG", dpi=(self.fig.dpi, self.fig.dpi), **PNG)
        return out

    def close(self) -> None:
        _pyplot().close(self.fig)


_GROUP_CHARTS: dict[tuple[tuple[str, ...], tuple[float, ...], NumberFormat, int], GroupChart] = {}


def group_scores(groups: list[dict[str, Any]], out: Path, nf: NumberFormat, title: str, *, keep: bool = False,
                 dpi: int = 150) -> Path:
    """The group chart of one unit; with ``keep`` the laid-out figure is kept for the next unit of the same
    groups (letters to every unit)."""
    names, maxima = [g["name"] for g in groups], [float(g["max"]) for g in groups]
    key = (tuple(names), tuple(maxima), nf, dpi)
    chart = _GROUP_CHARTS.get(key) if keep else None
    if chart is None:
        chart = GroupChart(names, maxima, nf, title, dpi)
        if keep:
            _GROUP_CHARTS[key] = chart
    try:
        return chart.draw([g["score"] for g in groups], [bool(g.get("weak")) for g in groups], title, out)
    finally:
        if not keep:
            chart.close()


MAX_RANKING_HEIGHT = 9.5  # inches at 6.3 inches wide: one A4 page in the letter


def ranking(rows: list[dict[str, Any]], out: Path, nf: NumberFormat, title: str, highlight: str | None = None
            ) -> Path:
    """Units by total score, best first (top to bottom)."""
    plt = _pyplot()
    rows = sorted(rows, key=lambda r: (-r["total"], r["name"]))
    # At most one page: inserted 155 mm wide, the picture may be 235 mm high (6.3 x 235/155 inches).
    height = min(MAX_RANKING_HEIGHT, max(2.0, 0.16 * len(rows) + 0.9))
    fig, ax = plt.subplots(figsize=(6.3, height), dpi=150)
    names = [label(r["name"]) for r in rows][::-1]
    totals = [r["total"] for r in rows][::-1]
    colors = [RED if r["code"] == highlight else BLUE for r in rows][::-1]
    ys = list(range(len(names)))  # positions, not categories: two units of the same name stay two bars
    ax.barh(ys, totals, color=colors, height=0.7)
    ax.set_yticks(ys, names)
    small = 5 if len(rows) > 60 else (6 if len(rows) > 30 else 8)
    ax.tick_params(axis="y", labelsize=small)
    for y, t in enumerate(totals):
        ax.text(t + 0.5, y, nf.fixed(t), va="center", fontsize=small - 0.5)
    ax.set_xlim(0, 110)
    ax.set_title(label(title, 200), fontsize=10, loc="left")
    ax.margins(y=0.01)
    fig.tight_layout()
    fig.savefig(out, pil_kwargs=PNG)
    plt.close(fig)
    return out


def trend(points: list[tuple[str, float]], out: Path, nf: NumberFormat, title: str) -> Path:
    """The province's total month by month."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.3, 2.4), dpi=150)
    labels = [p[0] for p in points]
    values = [p[1] for p in points]
    ax.plot(labels, values, marker="o", color=BLUE)
    for x, v in zip(labels, values, strict=True):
        ax.annotate(nf.number(v), (x, v), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    low, high = min(values), max(values)
    ax.set_ylim(max(0, low - 10), min(100, high + 10))
    ax.set_ylabel("điểm")
    ax.set_title(label(title, 200), fontsize=10, loc="left")
    fig.tight_layout()
    fig.savefig(out, pil_kwargs=PNG)
    plt.close(fig)
    return out


@dataclass(frozen=True)
class ChartJob:
    """A chart to draw: ``kind`` groups (rows: name, score, max, weak), ranking (rows: code, name, total) or
    trend (rows: (month, total)). Picklable, so that a worker process can draw it."""

    kind: str
    rows: list[Any]
    out: Path
    numbers: NumberFormat
    title: str
    dpi: int = 150  # the unit letters' chart: 120 (sharp at its 150 mm width, and a third cheaper to encode)

    def draw(self) -> Path:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        if self.kind == "groups":
            return group_scores(self.rows, self.out, self.numbers, self.title, keep=True, dpi=self.dpi)
        if self.kind == "ranking":
            return ranking(self.rows, self.out, self.numbers, self.title)
        if self.kind == "trend":
            return trend(self.rows, self.out, self.numbers, self.title)
        raise ValueError(f"unknown chart kind {self.kind!r}")


def draw(job: ChartJob) -> Path:
    return job.draw()
