"""Periods, chart geometry and CSV escaping: the pure parts of reporting."""

from datetime import UTC, date, datetime

import pytest

from reporting.charts import build_chart, nice_step, x_ticks, y_axis
from reporting.exports import csv_lines, safe_cell
from reporting.periods import DAY, MONTH, Period, preset_range
from reporting.queries import cumulative

ON = date(2025, 1, 15)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("last_7", (date(2025, 1, 9), ON)),
        ("last_30", (date(2024, 12, 17), ON)),
        ("last_90", (date(2024, 10, 18), ON)),
        ("this_month", (date(2025, 1, 1), ON)),
        ("last_month", (date(2024, 12, 1), date(2024, 12, 31))),  # across the new year
        ("this_year", (date(2025, 1, 1), ON)),
        ("last_year", (date(2024, 1, 1), date(2024, 12, 31))),
        ("all", (date(2023, 6, 2), ON)),
    ],
)
def test_presets(preset, expected):
    assert preset_range(preset, on=ON, first_award=date(2023, 6, 2)) == expected


def test_last_month_in_march_of_a_leap_year_and_all_time_without_awards():
    assert preset_range("last_month", on=date(2024, 3, 31), first_award=None) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
    )
    assert preset_range("all", on=ON, first_award=None) == (ON, ON)


def test_period_edges_are_local_midnights(settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    period = Period(date(2025, 4, 1), date(2025, 4, 6))
    # 1 April is still daylight time (+13); 7 April has gone back to standard time (+12).
    assert period.starts_at.astimezone(UTC) == datetime(2025, 3, 31, 11, 0, tzinfo=UTC)
    assert period.ends_before.astimezone(UTC) == datetime(2025, 4, 6, 12, 0, tzinfo=UTC)
    assert period.days == 6 and len(period.buckets(DAY)) == 6


def test_month_buckets_cover_partial_months():
    period = Period(date(2024, 11, 15), date(2025, 2, 3))
    assert period.buckets(MONTH) == [
        date(2024, 11, 1), date(2024, 12, 1), date(2025, 1, 1), date(2025, 2, 1)
    ]  # fmt: skip


def test_nice_axis():
    assert [nice_step(m) for m in (0, 3, 7, 40, 123, 999, 54_000)] == [1, 1, 2, 10, 50, 200, 20_000]
    assert y_axis(0) == (1, [0, 1])
    assert y_axis(47_370) == (50_000, [0, 10_000, 20_000, 30_000, 40_000, 50_000])


def test_x_labels_sit_on_round_dates_and_stay_few():
    days = Period(date(2023, 11, 28), date(2026, 11, 26)).buckets(DAY)
    ticks = x_ticks(days, DAY)
    assert len(ticks) <= 8
    assert all(days[i].day == 1 for i, _ in ticks)
    assert ticks[0][1] == "Jan 2024" and "Jan 2025" in [label for _, label in ticks]
    months = Period(date(2025, 1, 1), date(2025, 12, 31)).buckets(MONTH)
    assert [label for _, label in x_ticks(months, MONTH)] == ["Jan 2025", "Mar", "May", "Jul",
                                                               "Sep", "Nov"]  # fmt: skip


def test_bars_are_proportional_and_titled():
    buckets = [date(2025, 1, d) for d in (1, 2, 3)]
    chart = build_chart(
        buckets=buckets, values=[5, 0, 10], unit=DAY, cumulative=False, title="T", desc="D"
    )
    assert chart.kind == "bars" and len(chart.bars) == 3
    assert chart.bars[2].height == pytest.approx(2 * chart.bars[0].height)
    assert chart.bars[1].height == 0
    assert chart.bars[0].title == "1 Jan 2025: 5"
    assert chart.bars[2].y == chart.top  # the tallest bar reaches the top tick (10)


def test_cumulative_line_starts_at_zero_and_ends_at_the_total():
    buckets = [date(2025, 1, d) for d in (1, 2, 3, 4)]
    values = cumulative([2, 0, 3, 5])
    assert values == [2, 2, 5, 10]
    chart = build_chart(
        buckets=buckets, values=values, unit=DAY, cumulative=True, title="T", desc="D"
    )
    points = [tuple(map(float, p.split(","))) for p in chart.line.split()]
    assert points[0] == (chart.left, chart.bottom)  # zero at the start of the period
    assert points[-1] == (chart.right, chart.top)  # the total, at the end
    assert len(points) == 5


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_formula_cells_are_escaped(text):
    assert safe_cell(text) == "'" + text


def test_other_cells_are_left_alone():
    assert [safe_cell(v) for v in ("Ann", "a=b", 5, -5, None)] == ["Ann", "a=b", 5, -5, ""]
    assert "".join(csv_lines(["h"], [["=x"], [3]])) == "\ufeffh\r\n'=x\r\n3\r\n"
