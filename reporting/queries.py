"""The report queries. Every count comes from the rollups (reporting/models.py, kept by
triggers in the same transaction as each award write): never a scan of awards, so a report
costs about the same at 10 million awards as at 100,000. Python only fills empty buckets and
runs the cumulative sum over (at most a few thousand) buckets.

"Badges issued" counts every award made in the period — revoked ones included: a badge that
was issued and later revoked was still issued on that day. (The recipients list marks them.)

Awards are counted by the organisation they were issued under (``Award.organisation``, the
badge's organisation at issue time). The organisation filter is SQL on the MPTT columns of
the joined organisation — "this node and everything beneath it" is one range condition per
chosen node — never a list of descendant ids built in Python. The whole space reads its own
per-day table and needs no organisation at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple

from django.db.models import Func, Min, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce, TruncMonth

from badges.models import Award
from orgs.models import Organisation, Space
from reporting.models import (
    DailyAwardCount,
    MonthlyAwardCount,
    OrgDailyAwardCount,
    SpaceDailyAwardCount,
)
from reporting.periods import (
    DAY,
    EARLIEST_DATE,
    LATEST_DATE,
    Period,
    add_months,
    month_start,
    report_tz,
)


class OrgNode(NamedTuple):
    """An organisation as reports need it: its place in the tree and its name. (Plain tuples:
    the picker lists every organisation of the space, and model instances cost more.)"""

    pk: int
    name: str
    parent_id: int | None
    tree_id: int
    lft: int
    rght: int
    level: int


def report_organisations(space: Space, scope_q: Q) -> list[OrgNode]:
    """The organisations matching ``scope_q`` (the reader's ranges), in tree order."""
    rows = (
        Organisation.objects.for_space(space)
        .filter(scope_q)
        .order_by("tree_id", "lft")
        .values_list(*OrgNode._fields)
    )
    return [OrgNode(*row) for row in rows]


@dataclass(frozen=True)
class Selection:
    """The organisations a report covers, as the person chose them (already checked to be
    within what they may report on)."""

    organisations: tuple[OrgNode | Organisation, ...]
    include_sub: bool

    def roots(self) -> list[OrgNode | Organisation]:
        """With sub-organisations: the chosen nodes that are not inside another chosen node."""
        chosen = sorted(self.organisations, key=lambda o: (o.tree_id, o.lft))
        if not self.include_sub:
            return chosen
        out: list[OrgNode | Organisation] = []
        for org in chosen:
            if out and out[-1].tree_id == org.tree_id and out[-1].rght >= org.rght:
                continue  # inside the previous kept node
            out.append(org)
        return out

    @property
    def whole_space(self) -> bool:
        return self.include_sub and any(o.parent_id is None for o in self.organisations)

    def filter_q(self, prefix: str = "organisation__") -> Q | None:
        """None when the selection is the whole space (no organisation condition at all)."""
        if self.whole_space:
            return None
        if not self.include_sub:
            return Q(**{f"{prefix}pk__in": [o.pk for o in self.organisations]})
        q = Q(pk__in=[])
        for org in self.roots():
            q |= Q(
                **{
                    f"{prefix}tree_id": org.tree_id,
                    f"{prefix}lft__gte": org.lft,
                    f"{prefix}rght__lte": org.rght,
                }
            )
        return q


def awards_in(
    *, space: Space, selection: Selection, period: Period, scope_q: Q | None = None
) -> QuerySet[Award]:
    """The awards a report lists (the recipients pages). ``scope_q`` (the reader's
    organisations, as ranges) is applied as well whenever the selection is not the whole
    space: belt and braces."""
    qs = Award.objects.filter(
        space=space, issued_at__gte=period.starts_at, issued_at__lt=period.ends_before
    )
    org_q = selection.filter_q()
    if org_q is not None:
        qs = qs.filter(org_q)
        if scope_q is not None:
            qs = qs.filter(scope_q)
    return qs


def to_local_date(value: datetime | date) -> date:
    if isinstance(value, datetime):
        return value.astimezone(report_tz()).date() if value.tzinfo else value.date()
    return value


def _last_day_of_month(d: date) -> date:
    return add_months(d, 1) - timedelta(days=1)


Days = tuple[date, date]


def split_period(start: date, end: date) -> tuple[Days | None, list[Days]]:
    """The inclusive days ``start``–``end`` as (its whole months: (first, last month) or
    None, the remaining day ranges at either end)."""
    first = start if start.day == 1 else add_months(start, 1)
    last = month_start(end) if end == _last_day_of_month(end) else add_months(end, -1)
    if first > last:
        return None, [(start, end)]
    edges = []
    if start < first:
        edges.append((start, first - timedelta(days=1)))
    if _last_day_of_month(last) < end:
        edges.append((add_months(last, 1), end))
    return (first, last), edges


def issued_per_badge(start: date | None = None, end: date | None = None) -> Func:
    """An expression for ``Badge`` querysets: the badge's awards issued from ``start`` to
    ``end`` (local days, inclusive; open when None), from the rollups: whole months from the
    monthly rows, the rest from the daily ones (the Reporting API's ``Awards``)."""
    months, edges = split_period(start or EARLIEST_DATE, end or LATEST_DATE)

    def total(qs: QuerySet) -> Coalesce:
        summed = qs.filter(badge=OuterRef("pk")).values("badge").annotate(n=Sum("issued"))
        return Coalesce(Subquery(summed.values("n")), 0)

    parts = []
    if months:
        parts.append(
            total(MonthlyAwardCount.objects.filter(month__gte=months[0], month__lte=months[1]))
        )
    for first, last in edges:
        parts.append(total(DailyAwardCount.objects.filter(day__gte=first, day__lte=last)))
    expression = parts[0]
    for part in parts[1:]:
        expression = expression + part
    return expression


@dataclass(frozen=True)
class Counted:
    """What a report counts, read from the rollups (reporting/models.py): the space, the
    chosen organisations, the period, and the reader's ranges (applied, like for awards,
    whenever the selection is not the whole space). Every count is one query whatever the
    number of awards: the whole space per day reads one row per day; per badge or
    organisation, the period's whole months come from the monthly rows and only its partial
    months at either end from the daily ones."""

    space: Space
    selection: Selection
    period: Period
    scope_q: Q | None = None

    def _scoped(self, qs: QuerySet) -> QuerySet:
        qs = qs.filter(space=self.space)
        org_q = self.selection.filter_q()
        if org_q is not None:
            qs = qs.filter(org_q)
            if self.scope_q is not None:
                qs = qs.filter(self.scope_q)
        return qs

    def days(self, start: date | None = None, end: date | None = None) -> QuerySet:
        start, end = start or self.period.start, end or self.period.end
        return self._scoped(DailyAwardCount.objects.filter(day__gte=start, day__lte=end))

    def org_days(self, start: date | None = None, end: date | None = None) -> QuerySet:
        """The per-organisation day rows (all badges together): what needs no badge."""
        start, end = start or self.period.start, end or self.period.end
        return self._scoped(OrgDailyAwardCount.objects.filter(day__gte=start, day__lte=end))

    def split(self) -> tuple[Days | None, list[Days]]:
        return split_period(self.period.start, self.period.end)

    def grouped(self, field: str) -> QuerySet:
        """(value of ``field``, issued) summed over the period, as one UNION ALL query of the
        monthly rows for whole months and the daily rows for the rest."""
        months, edges = self.split()
        parts: list[QuerySet] = []
        if months:
            monthly = self._scoped(
                MonthlyAwardCount.objects.filter(month__gte=months[0], month__lte=months[1])
            )
            parts.append(monthly)
        for start, end in edges:
            by_org = field == "organisation_id"
            parts.append(self.org_days(start, end) if by_org else self.days(start, end))
        grouped = [
            qs.values(field).annotate(n=Sum("issued")).order_by().values_list(field, "n")
            for qs in parts
        ]
        return grouped[0].union(*grouped[1:], all=True) if len(grouped) > 1 else grouped[0]


def _summed(rows) -> dict:
    out: dict = {}
    for key, n in rows:
        if n:
            out[key] = out.get(key, 0) + n
    return out


def series(counted: Counted, period: Period, unit: str) -> list[tuple[date, int]]:
    """(bucket, badges issued) for every day or month of the period, zeros included. One
    query: the whole space's day rows, or the chosen organisations' day rows (all badges
    together) grouped by day (or, per month, their monthly rows and the partial months'
    days)."""
    if counted.selection.whole_space:
        rows = SpaceDailyAwardCount.objects.filter(
            space=counted.space, day__gte=period.start, day__lte=period.end
        ).values_list("day", "issued")
        counts: dict[date, int] = {}
        for day, n in rows:
            bucket = day if unit == DAY else month_start(day)
            counts[bucket] = counts.get(bucket, 0) + n
    elif unit == DAY:
        counts = _summed(
            counted.org_days().values("day").annotate(n=Sum("issued")).values_list("day", "n")
        )
    else:
        months, edges = counted.split()
        parts = []
        if months:
            parts.append(
                counted._scoped(
                    MonthlyAwardCount.objects.filter(month__gte=months[0], month__lte=months[1])
                )
                .values("month")
                .annotate(n=Sum("issued"))
                .order_by()
                .values_list("month", "n")
            )
        for start, end in edges:
            parts.append(
                counted.org_days(start, end)
                .annotate(m=TruncMonth("day"))
                .values("m")
                .annotate(n=Sum("issued"))
                .order_by()
                .values_list("m", "n")
            )
        query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
        counts = _summed((to_local_date(m), n) for m, n in query)
    return [(b, counts.get(b, 0)) for b in period.buckets(unit)]


def cumulative(values: Sequence[int]) -> list[int]:
    total, out = 0, []
    for v in values:
        total += v
        out.append(total)
    return out


def badge_counts(counted: Counted) -> list[tuple[int, int]]:
    """(badge id, badges issued) for every badge in the report, most issued first. One query
    (a few hundred rows at most, one per badge and part of the period)."""
    counts = _summed(counted.grouped("badge_id"))
    return sorted(counts.items(), key=lambda r: (-r[1], r[0]))


def org_counts(counted: Counted) -> dict[int, int]:
    """{organisation id: badges issued} for the report: one query."""
    return _summed(counted.grouped("organisation_id"))


def first_award_date(space: Space) -> date | None:
    """For "all time": the local date of the space's first award (the rollup's first day)."""
    first = SpaceDailyAwardCount.objects.filter(space=space, issued__gt=0).aggregate(
        first=Min("day")
    )["first"]
    return to_local_date(first) if first else None
