"""Report periods: presets, calendar arithmetic and buckets, all in settings.TIME_ZONE.

A period is a pair of local dates, both inclusive. In the database it becomes
``issued_at >= <local midnight of start> AND issued_at < <local midnight after end>``, and
awards are bucketed with TruncDay/TruncMonth in the same zone, so a badge issued at 23:30 local
time on the last day is in the period and in that day's bar, whatever UTC says.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from django.conf import settings

PRESETS: dict[str, str] = {
    "last_7": "Last 7 days",
    "last_30": "Last 30 days",
    "last_90": "Last 90 days",
    "this_month": "This month",
    "last_month": "Last month",
    "this_year": "This year",
    "last_year": "Last year",
    "all": "All time",
    "custom": "Custom dates",
}
DEFAULT_PRESET = "last_30"

DAY, MONTH = "day", "month"
# Up to this many days a cumulative chart has a point per day; beyond, one per month.
CUMULATIVE_DAILY_UP_TO = 120
MAX_DAYS_PER_DAY = 1500  # about four years of daily bars
MAX_DAYS = 20 * 366
# The dates a report (and the Reporting API) accepts. Awards are never dated before 1900; the
# upper bound keeps "the day after the last day" and month arithmetic far from date.max.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2999, 12, 31)
DATE_RANGE_TEXT = f"from {EARLIEST_DATE.isoformat()} to {LATEST_DATE.isoformat()}, as YYYY-MM-DD"


def date_in_range(value: date) -> bool:
    return EARLIEST_DATE <= value <= LATEST_DATE


def report_tz() -> ZoneInfo:
    """The one zone reports use for days and months (the platform's TIME_ZONE)."""
    return ZoneInfo(settings.TIME_ZONE)


def today() -> date:
    return datetime.now(report_tz()).date()


def month_start(d: date) -> date:
    return d.replace(day=1)


def add_months(d: date, months: int) -> date:
    """The first of the month ``months`` after ``d``'s month."""
    index = d.year * 12 + d.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def preset_range(preset: str, *, on: date, first_award: date | None) -> tuple[date, date]:
    """The inclusive local dates a preset means on day ``on``."""
    if preset == "last_7":
        return on - timedelta(days=6), on
    if preset == "last_30":
        return on - timedelta(days=29), on
    if preset == "last_90":
        return on - timedelta(days=89), on
    if preset == "this_month":
        return month_start(on), on
    if preset == "last_month":
        start = add_months(on, -1)
        return start, month_start(on) - timedelta(days=1)
    if preset == "this_year":
        return date(on.year, 1, 1), on
    if preset == "last_year":
        return date(on.year - 1, 1, 1), date(on.year - 1, 12, 31)
    if preset == "all":
        return min(first_award or on, on), on
    raise ValueError(f"Unknown period preset {preset!r}")


@dataclass(frozen=True)
class Period:
    start: date  # inclusive, local
    end: date  # inclusive, local
    preset: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def starts_at(self) -> datetime:
        return datetime.combine(self.start, time.min, tzinfo=report_tz())

    @property
    def ends_before(self) -> datetime:
        """Local midnight after the last day: the exclusive upper bound."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=report_tz())

    @property
    def label(self) -> str:
        span = f"{fmt_date(self.start)} to {fmt_date(self.end)}"
        if self.preset != "custom":
            return f"{PRESETS[self.preset]} ({span})"
        return span

    def buckets(self, unit: str) -> list[date]:
        """Every day, or the first of every month, the period touches, in order."""
        if unit == DAY:
            return [self.start + timedelta(days=i) for i in range(self.days)]
        out, d = [], month_start(self.start)
        while d <= self.end:
            out.append(d)
            d = add_months(d, 1)
        return out


def fmt_date(d: date) -> str:
    return f"{d.day} {d:%b %Y}"


@lru_cache(maxsize=8192)  # each bucket is labelled twice per page: its bar and its table row
def bucket_label(d: date, unit: str) -> str:
    return fmt_date(d) if unit == DAY else f"{d:%B %Y}"
