"""Server-side SVG charts: geometry computed here, markup in templates/reporting/_chart.html.

A chart is bars (badges issued per day or month) or a line (the running total). Everything is
in the SVG's own coordinate system (``viewBox``); the browser scales it to the page width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from html import escape

from django.utils.safestring import SafeString, mark_safe

from reporting.periods import DAY, bucket_label, fmt_date

# Sized for the report column (~600 px wide on a laptop) so that text in the SVG's own units
# is drawn at about its nominal size: 12-13 px.
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 62, 14, 30, 52
MAX_X_LABELS = 8
MAX_VALUE_LABELS = 16  # bars that have room for their number above them


@dataclass(frozen=True)
class Tick:
    pos: float
    label: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str
    value: int = 0


@dataclass
class Chart:
    kind: str  # "bars" | "line"
    title: str
    desc: str
    x_label: str
    y_label: str
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    y_ticks: list[Tick] = field(default_factory=list)
    x_ticks: list[Tick] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    line: str = ""  # polyline points
    area: str = ""  # closed path under the line
    last_point: tuple[float, float] | None = None

    @property
    def bars_markup(self) -> SafeString:
        """The bars as SVG, built here rather than in a template loop: a three-year daily chart
        has 1,096 of them, and the template engine would spend more time on them than the
        database spends counting a million awards. With few bars, each shows its number."""
        parts = [
            f'<rect x="{b.x:.2f}" y="{b.y:.2f}" width="{b.width:.2f}" '
            f'height="{b.height:.2f}"><title>{escape(b.title)}</title></rect>'
            for b in self.bars
        ]
        if len(self.bars) <= MAX_VALUE_LABELS:
            parts += [
                f'<text class="bar-value" x="{b.x + b.width / 2:.2f}" y="{b.y - 4:.2f}" '
                f'text-anchor="middle" aria-hidden="true">{b.value:,}</text>'
                for b in self.bars
                if b.value
            ]
        return mark_safe("".join(parts))  # noqa: S308 - numbers we formatted, escaped titles

    @property
    def center_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def x_tick_label_y(self) -> int:
        return self.bottom + 20

    @property
    def x_label_y(self) -> int:
        return self.height - 8

    @property
    def y_label_y(self) -> int:
        return 13  # written horizontally above the y axis, where it is easy to read


def nice_step(maximum: float, target_ticks: int = 5) -> int:
    """A round tick step (1, 2 or 5 × 10ⁿ) giving about ``target_ticks`` ticks."""
    if maximum <= target_ticks:
        return 1
    raw = maximum / target_ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return int(multiple * magnitude)
    return int(10 * magnitude)  # pragma: no cover - the loop always returns


def y_axis(maximum: int) -> tuple[int, list[int]]:
    """(top of the axis, tick values), the top being a whole number of steps ≥ maximum."""
    step = nice_step(max(maximum, 1))
    top = max(step, math.ceil(maximum / step) * step)
    return top, list(range(0, top + 1, step))


def _month_label(d: date, first: bool) -> str:
    """ "Jan 2025" on the first label and every January, "Apr" otherwise: short, unambiguous."""
    return f"{d:%b %Y}" if first or d.month == 1 else f"{d:%b}"


def x_ticks(buckets: list[date], unit: str) -> list[tuple[int, str]]:
    """(bucket index, label) for at most MAX_X_LABELS labels, on round dates."""
    n = len(buckets)
    if not n:
        return []
    if unit == DAY and n <= 31:
        every = math.ceil(n / MAX_X_LABELS)
        return [(i, f"{b.day} {b:%b}") for i, b in enumerate(buckets) if i % every == 0]
    if unit == DAY:
        # Label the first of a month (every k months), so labels sit on round dates.
        firsts = [(i, b) for i, b in enumerate(buckets) if b.day == 1]
        if not firsts:
            return [(0, fmt_date(buckets[0]))]
        every = _month_step(len(firsts))
        picked = [(i, b) for i, b in firsts if (b.month - 1) % every == 0] or firsts[:1]
        return [(i, _month_label(b, j == 0)) for j, (i, b) in enumerate(picked)]
    every = _month_step(n)
    # Keep labels on months that divide the year evenly (Jan, Apr, Jul, Oct for quarters).
    picked = [(i, b) for i, b in enumerate(buckets) if (b.month - 1) % every == 0]
    return [(i, _month_label(b, j == 0)) for j, (i, b) in enumerate(picked)]


def _month_step(months: int) -> int:
    for every in (1, 2, 3, 6, 12, 24, 60, 120):
        if months / every <= MAX_X_LABELS:
            return every
    return 240


def build_chart(
    *,
    buckets: list[date],
    values: list[int],
    unit: str,
    cumulative: bool,
    title: str,
    desc: str,
) -> Chart:
    chart = Chart(
        kind="line" if cumulative else "bars",
        title=title,
        desc=desc,
        x_label=("Day" if unit == DAY else "Month"),
        y_label="Badges issued, cumulative" if cumulative else "Badges issued",
    )
    n = max(len(buckets), 1)
    plot_w = chart.right - chart.left
    plot_h = chart.bottom - chart.top
    top, ticks = y_axis(max(values, default=0))
    chart.y_ticks = [Tick(round(chart.bottom - v / top * plot_h, 2), f"{v:,}") for v in ticks]
    slot = plot_w / n

    def y_of(v: int) -> float:
        return round(chart.bottom - v / top * plot_h, 2)

    if cumulative:
        # A running total: 0 at the start of the period, then the total at the end of each
        # day or month, so the line climbs exactly where badges were issued.
        points = [(chart.left, chart.bottom)]
        points += [(round(chart.left + (i + 1) * slot, 2), y_of(v)) for i, v in enumerate(values)]
        chart.line = " ".join(f"{x},{y}" for x, y in points)
        chart.area = (
            f"M{chart.left},{chart.bottom} "
            + " ".join(f"L{x},{y}" for x, y in points)
            + f" L{points[-1][0]},{chart.bottom} Z"
        )
        chart.last_point = points[-1]
        chart.x_ticks = [
            Tick(round(chart.left + i * slot, 2), label) for i, label in x_ticks(buckets, unit)
        ]
    else:
        gap = slot * 0.18 if slot >= 4 else 0
        for i, (bucket, v) in enumerate(zip(buckets, values, strict=True)):
            y = y_of(v)
            chart.bars.append(
                Bar(
                    x=round(chart.left + i * slot + gap / 2, 2),
                    y=y,
                    width=round(max(slot - gap, 0.5), 2),
                    height=round(chart.bottom - y, 2),
                    title=f"{bucket_label(bucket, unit)}: {v:,}",
                    value=v,
                )
            )
        chart.x_ticks = [
            Tick(round(chart.left + (i + 0.5) * slot, 2), label)
            for i, label in x_ticks(buckets, unit)
        ]
    return chart
