"""Inline SVG line charts built on the server, so they print and need no script or CDN."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html import escape

from markupsafe import Markup

WIDTH = 640
HEIGHT = 220
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True)
class Series:
    """One line: (date, value) points; `step` draws a daily step line (MME), else points joined."""

    name: str
    points: tuple[tuple[date, Decimal | float | int], ...]
    css_class: str = "series-a"
    step: bool = False


@dataclass(frozen=True)
class ReferenceLine:
    value: float
    label: str
    css_class: str = "ref-warning"


def _nice_max(value: float) -> float:
    """A round upper bound for the y axis (10, 20, 50, 100, 200, ...)."""
    if value <= 0:
        return 10.0
    magnitude = 1.0
    while magnitude * 10 < value:
        magnitude *= 10
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def line_chart(
    chart_id: str,
    title: str,
    description: str,
    start: date,
    end: date,
    series: Sequence[Series],
    references: Sequence[ReferenceLine] = (),
    y_label: str = "",
    y_max: float | None = None,
) -> Markup:
    """An accessible SVG (role img, title and desc) scaled to its container's width."""
    span = max((end - start).days, 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    highest = max([float(v) for s in series for _, v in s.points] + [r.value * 1.1 for r in references] + [0.0])
    top = y_max if y_max is not None else _nice_max(highest)

    def x(day: date) -> float:
        return LEFT + plot_w * min(max((day - start).days, 0), span) / span

    def y(value: float) -> float:
        return TOP + plot_h * (1 - min(max(value, 0.0), top) / top)

    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>',
        f'<rect class="plot-bg" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>',
    ]
    for fraction in (0.0, 0.25, 0.5, 0.75, 1.0):
        value = top * fraction
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}"/>'
            f'<text class="tick" x="{LEFT - 4}" y="{y(value) + 4:.1f}" text-anchor="end">{_fmt(value)}</text>'
        )
    span_months = (end.year - start.year) * 12 + end.month - start.month
    step = 3 if span_months <= 12 else 6 if span_months <= 36 else 12  # about five labels, whatever the span
    for months_back in range(0, span_months + 1, step):
        tick = _months_before(end, months_back)
        if tick < start:
            continue
        parts.append(
            f'<text class="tick" x="{x(tick):.1f}" y="{HEIGHT - 8}" text-anchor="middle">'
            f"{tick.strftime('%b %Y')}</text>"
        )
    for ref in references:
        if ref.value <= top:
            parts.append(
                f'<line class="{escape(ref.css_class)}" x1="{LEFT}" x2="{LEFT + plot_w}" '
                f'y1="{y(ref.value):.1f}" y2="{y(ref.value):.1f}"/>'
                f'<text class="ref-label" x="{LEFT + 4}" y="{y(ref.value) - 3:.1f}">{escape(ref.label)}</text>'
            )
    for line in series:
        points = sorted(line.points)
        if not points:
            continue
        coords: list[str] = []
        previous: float | None = None
        for day, value in points:
            if line.step and previous is not None:
                coords.append(f"{x(day):.1f},{y(previous):.1f}")
            coords.append(f"{x(day):.1f},{y(float(value)):.1f}")
            previous = float(value)
        parts.append(f'<polyline class="line {escape(line.css_class)}" points="{" ".join(coords)}"/>')
        if not line.step:
            parts.extend(
                f'<circle class="dot {escape(line.css_class)}" cx="{x(d):.1f}" cy="{y(float(v)):.1f}" r="3"/>'
                for d, v in points
            )
    if y_label:
        parts.append(
            f'<text class="axis-label" x="12" y="{TOP + plot_h / 2:.1f}" '
            f'transform="rotate(-90 12 {TOP + plot_h / 2:.1f})" text-anchor="middle">{escape(y_label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    return date(month_index // 12, month_index % 12 + 1, 1)
