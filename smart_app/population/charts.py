"""Dashboard charts: measure rates over the quarters run (svg_charts' line chart) and units by decile (bars)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape
from typing import Any

from markupsafe import Markup

from guideline.population import MEASURES
from smart_app.svg_charts import Series, line_chart

WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 44, 28, 12
CLASSES = ("series-a", "series-b", "series-c", "series-d", "series-e", "series-f", "series-g")


def rates_over_time(runs: Sequence[Any], measure_ids: Sequence[str], chart_id: str, title: str) -> Markup | None:
    """One line per measure: its overall rate (percent) at each run's period end."""
    series = []
    for index, measure_id in enumerate(measure_ids):
        points = []
        for run in runs:
            row = run.overall().get(measure_id)
            if row and row["rate"] is not None:
                points.append((date.fromisoformat(run.period_end), round(row["rate"] * 100, 1)))
        series.append(Series(measure_id, tuple(points), CLASSES[index % len(CLASSES)]))
    days = [d for s in series for d, _ in s.points]
    if not days:
        return None
    start, end = min(days), max(days)
    if start == end:
        start = date(end.year - 1, end.month, 1)
    description = "; ".join(f"{s.name}: " + ", ".join(f"{d} {v}%" for d, v in s.points) for s in series)
    return line_chart(chart_id, title, description, start, end, series, y_label="rate %", y_max=100)


def deciles(rates: Sequence[float]) -> list[float]:
    """Mean rate (0–1) in each tenth of the units sorted from lowest to highest rate; fewer than ten units give
    one bar each."""
    ordered = sorted(rates)
    if not ordered:
        return []
    groups = min(10, len(ordered))
    result = []
    for group in range(groups):
        chunk = ordered[group * len(ordered) // groups : (group + 1) * len(ordered) // groups]
        result.append(sum(chunk) / len(chunk))
    return result


def decile_chart(chart_id: str, title: str, values: Sequence[float], unit_count: int) -> Markup:
    """Bars of the decile means (percent), lowest decile on the left; accessible title and description."""
    plot_w, plot_h = WIDTH - LEFT - 12, HEIGHT - TOP - BOTTOM
    top = max(10.0, min(100.0, (max(values, default=0) * 100 // 10 + 1) * 10))
    bar_w = plot_w / max(len(values), 1)
    description = f"{unit_count} units; " + ", ".join(f"decile {i + 1}: {v:.0%}" for i, v in enumerate(values))
    parts = [
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title><desc id="{escape(chart_id)}-desc">'
        f"{escape(description)}</desc>",
        f'<rect class="plot-bg" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}"/>',
    ]
    for fraction in (0.0, 0.5, 1.0):
        y = TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 4}" y="{y + 4:.1f}" text-anchor="end">{top * fraction:.0f}%</text>'
        )
    for index, value in enumerate(values):
        height = plot_h * min(value * 100, top) / top
        x = LEFT + index * bar_w
        parts.append(
            f'<rect class="bar series-a" x="{x + 2:.1f}" y="{TOP + plot_h - height:.1f}" width="{bar_w - 4:.1f}" '
            f'height="{height:.1f}"><title>decile {index + 1}: {value:.0%}</title></rect>'
            f'<text class="tick" x="{x + bar_w / 2:.1f}" y="{HEIGHT - 8}" text-anchor="middle">{index + 1}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


def unit_deciles(run: Any, level: str, measure_id: str) -> tuple[list[float], int]:
    rates = [
        r["rate"]
        for r in run.measures
        if r["level"] == level and r["measure"] == measure_id and r["rate"] is not None and r["unit"] != "unattributed"
    ]
    return deciles(rates), len(rates)


LOWER_BETTER = tuple(m.id for m in MEASURES if m.better == "lower")
HIGHER_BETTER = tuple(m.id for m in MEASURES if m.better == "higher")
