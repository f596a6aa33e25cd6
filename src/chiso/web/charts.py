"""Charts as inline SVG drawn on the server (biểu đồ): no JavaScript, no third-party assets, readable in print.

Every label is escaped (unit names are data). Colours are never the only carrier of meaning: values are written
beside the bars and the points.
"""

from __future__ import annotations

from html import escape

from markupsafe import Markup

from chiso.scoring.render import vn_number


def bars(items: list[tuple[str, float, float]], *, width: int = 560, label_width: int = 190) -> Markup:
    """Horizontal bars: (label, value, maximum) — each group's score against its maximum."""
    row = 26
    height = row * len(items) + 6
    span = width - label_width - 70
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="Biểu đồ điểm theo lĩnh vực" xmlns="http://www.w3.org/2000/svg">']
    for i, (label, value, top) in enumerate(items):
        y = 4 + i * row
        full = span
        filled = 0.0 if top <= 0 else max(0.0, min(1.0, value / top)) * span
        parts.append(f'<text x="0" y="{y + 15}" class="chart-label">{escape(label)}</text>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{full:.1f}" height="16" class="chart-track"/>')
        parts.append(f'<rect x="{label_width}" y="{y + 3}" width="{filled:.1f}" height="16" class="chart-bar"/>')
        parts.append(f'<text x="{label_width + span + 6}" y="{y + 15}" class="chart-value">'
                     f'{vn_number(value)}/{vn_number(top, 0)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every piece of data above is escaped or a number


def line(points: list[tuple[str, float]], *, width: int = 560, height: int = 180, low: float = 0.0,
         high: float = 100.0) -> Markup:
    """A line of totals by month, with each value written at its point."""
    if not points:
        return Markup("")
    left, right, top, bottom = 40, 40, 16, 28
    span_x = width - left - right
    span_y = height - top - bottom
    lo = min(low, min(v for _, v in points) - 5)
    hi = max(min(high, max(v for _, v in points) + 5), lo + 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (span_x * i / (len(points) - 1) if len(points) > 1 else span_x / 2)
        return x, top + span_y * (1 - (v - lo) / (hi - lo))

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
             f'aria-label="Biểu đồ điểm theo tháng" xmlns="http://www.w3.org/2000/svg">',
             f'<line x1="{left}" y1="{top + span_y}" x2="{width - right}" y2="{top + span_y}" class="chart-axis"/>']
    coords = [xy(i, v) for i, (_, v) in enumerate(points)]
    if len(coords) > 1:
        parts.append('<polyline class="chart-line" points="' +
                     " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + '"/>')
    for (label, value), (x, y) in zip(points, coords, strict=True):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" class="chart-dot"/>')
        parts.append(f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" class="chart-value">'
                     f'{vn_number(value)}</text>')
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" class="chart-label">'
                     f'{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 — every piece of data above is escaped or a number
