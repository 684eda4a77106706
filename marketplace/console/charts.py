"""Charts drawn on the server as inline SVG: bars or lines over labelled categories (weeks),
with axes, a title and a description for screen readers, and the numbers as a table.
No JavaScript, no network: the dashboard shows offline."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import count
from typing import Literal

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 260
LEFT, RIGHT, TOP, BOTTOM = 78, 12, 14, 38
FONT_SIZE = 14
#: Series colours: distinct, and at least 3:1 against white (WCAG's contrast for graphics).
COLOURS = ("#1f5fa8", "#c0531b", "#2b7a3d", "#7b3fa0")
_ids = count(1)


@dataclass(frozen=True)
class Series:
    """One named line or set of bars; a None value is a gap (nothing to show that week)."""

    name: str
    values: Sequence[float | None]


@dataclass(frozen=True)
class Chart:
    """What to draw: `labels` along the x axis, one value per label in each series."""

    title: str
    description: str
    labels: Sequence[str]
    series: Sequence[Series]
    kind: Literal["bar", "line"] = "bar"
    format: Callable[[float], str] = field(default=lambda value: f"{value:,.0f}")
    maximum: float | None = None  # the top of the y axis (default: a round number above all)
    floor: float = 1.0  # the lowest top of the y axis (so that tiny values look tiny)
    category: str = "Week of"  # what the labels are (the numbers table's first column)

    def rows(self) -> list[tuple[str, list[str]]]:
        """The numbers as table rows: (label, formatted value per series)."""
        return [
            (
                label,
                ["" if s.values[i] is None else self.format(s.values[i] or 0) for s in self.series],
            )
            for i, label in enumerate(self.labels)
        ]


def nice_ceiling(value: float) -> float:
    """A round number (1, 2, 4 or 8 times a power of ten) at or above `value`: the y axis's
    top, whose quarters (the gridlines) are round too."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 8, 10):
        if value <= step * power:
            return step * power
    return 10 * power  # pragma: no cover  (the loop always returns)


def _text(x: float, y: float, content: str, anchor: str = "middle", size: int = FONT_SIZE) -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="#3d4652">{escape(content)}</text>'
    )


def svg(chart: Chart) -> Markup:
    """The chart as an accessible inline SVG element."""
    uid = next(_ids)
    values = [v for s in chart.series for v in s.values if v is not None]
    top = chart.maximum or nice_ceiling(max([*values, chart.floor]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(chart.labels), 1)

    def y_of(value: float) -> float:
        return TOP + plot_h - (min(value, top) / top) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="chart-{uid}-title chart-{uid}-desc">',
        f'<title id="chart-{uid}-title">{escape(chart.title)}</title>',
        f'<desc id="chart-{uid}-desc">{escape(chart.description)}</desc>',
    ]
    for tick in range(5):  # gridlines and y labels at 0, 1/4 ... top
        value = top * tick / 4
        y = y_of(value)
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#6b7480" if tick == 0 else "#dde2e8"}" stroke-width="1"/>'
        )
        parts.append(_text(LEFT - 6, y + 5, chart.format(value), anchor="end"))
    for i, label in enumerate(chart.labels):
        parts.append(_text(LEFT + slot * (i + 0.5), HEIGHT - BOTTOM + 20, label))
    if chart.kind == "bar":
        parts += _bars(chart, slot, y_of)
    else:
        parts += _lines(chart, slot, y_of)
    parts.append("</svg>")
    return Markup("".join(parts))


def _bars(chart: Chart, slot: float, y_of: Callable[[float], float]) -> list[str]:
    parts = []
    group = slot * 0.7
    width = group / max(len(chart.series), 1)
    base = y_of(0)
    for n, series in enumerate(chart.series):
        colour = COLOURS[n % len(COLOURS)]
        for i, value in enumerate(series.values):
            if value is None:
                continue
            x = LEFT + slot * i + (slot - group) / 2 + width * n
            y = y_of(value)
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(width - 2, 1):.1f}" '
                f'height="{max(base - y, 0):.1f}" fill="{colour}">'
                f"<title>{escape(series.name)}, {escape(chart.labels[i])}: "
                f"{escape(chart.format(value))}</title></rect>"
            )
    return parts


def _lines(chart: Chart, slot: float, y_of: Callable[[float], float]) -> list[str]:
    parts = []
    for n, series in enumerate(chart.series):
        colour = COLOURS[n % len(COLOURS)]
        points = [
            (LEFT + slot * (i + 0.5), y_of(value), chart.labels[i], value)
            for i, value in enumerate(series.values)
            if value is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, *_ in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>'
            )
        for x, y, label, value in points:
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}">'
                f"<title>{escape(series.name)}, {escape(label)}: "
                f"{escape(chart.format(value))}</title></circle>"
            )
    return parts


def colour(index: int) -> str:
    """The colour of the series at `index` (for legends)."""
    return COLOURS[index % len(COLOURS)]
