"""Charts for the documents (biểu đồ), drawn offline with matplotlib (Agg backend, DejaVu Sans, which carries
Vietnamese diacritics) into PNG files that the Word templates embed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chiso.reports.numbers import NumberFormat

BLUE, RED, GREY = "#1f5fa8", "#c0392b", "#d5d8dc"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.family": "DejaVu Sans", "font.size": 9, "axes.spines.top": False,
                         "axes.spines.right": False, "svg.fonttype": "none"})
    return plt


def group_scores(groups: list[dict[str, Any]], out: Path, nf: NumberFormat, title: str) -> Path:
    """Horizontal bars: each group's score against its maximum; weak groups in red."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.3, 0.42 * len(groups) + 0.9), dpi=150)
    names = [g["name"] for g in groups][::-1]
    maxima = [g["max"] for g in groups][::-1]
    scores = [g["score"] for g in groups][::-1]
    colors = [RED if g.get("weak") else BLUE for g in groups][::-1]
    ax.barh(names, maxima, color=GREY, label="Điểm tối đa")
    ax.barh(names, scores, color=colors, label="Điểm đạt")
    for y, (s, m) in enumerate(zip(scores, maxima, strict=True)):
        ax.text(m + 0.3, y, f"{nf.number(s)}/{nf.number(m)}", va="center", fontsize=8)
    ax.set_xlim(0, max(maxima) * 1.25)
    ax.set_title(title, fontsize=10, loc="left")
    ax.legend(loc="lower right", fontsize=7, frameon=False)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def ranking(rows: list[dict[str, Any]], out: Path, nf: NumberFormat, title: str, highlight: str | None = None
            ) -> Path:
    """Units by total score, best first (top to bottom)."""
    plt = _pyplot()
    rows = sorted(rows, key=lambda r: (-r["total"], r["name"]))
    height = max(2.0, 0.16 * len(rows) + 0.9)
    fig, ax = plt.subplots(figsize=(6.3, height), dpi=150)
    names = [r["name"] for r in rows][::-1]
    totals = [r["total"] for r in rows][::-1]
    colors = [RED if r["code"] == highlight else BLUE for r in rows][::-1]
    ax.barh(names, totals, color=colors, height=0.7)
    ax.tick_params(axis="y", labelsize=6 if len(rows) > 30 else 8)
    for y, t in enumerate(totals):
        ax.text(t + 0.5, y, nf.number(t), va="center", fontsize=5.5 if len(rows) > 30 else 7)
    ax.set_xlim(0, 110)
    ax.set_title(title, fontsize=10, loc="left")
    ax.margins(y=0.01)
    fig.tight_layout()
    fig.savefig(out)
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
    ax.set_title(title, fontsize=10, loc="left")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out
