"""The Engagement section of the Reports page: what happened to the badges after issuing.

Public page views, shares (by target), certificate downloads, claim page views and claims,
from ``badges.models.EngagementCount`` (daily counters, no personal data), summed over the
report's period and organisations. A counter belongs to the organisation of its award (or,
for a badge's own page and claim links, of its badge), so the report's organisation filter
and the reader's reach apply to it exactly as to awards. Three queries: the totals per badge
and kind, the shares per target, and the names of the page's badges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Q, Sum

from badges.engagement import SHARE_TARGETS
from badges.models import Badge, EngagementCount
from orgs.models import Space
from reporting.periods import Period
from reporting.queries import Selection

Kind = EngagementCount.Kind
KINDS = [Kind.VIEW, Kind.SHARE, Kind.CERTIFICATE, Kind.CLAIM_VIEW, Kind.CLAIM]
TOP_BADGES = 20


@dataclass
class BadgeEngagement:
    badge: Badge
    counts: dict[str, int]

    @property
    def cells(self) -> list[int]:
        return [self.counts.get(k, 0) for k in KINDS]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass
class Engagement:
    totals: dict[str, int] = field(default_factory=dict)
    shares: list[tuple[str, int]] = field(default_factory=list)  # (label, count)
    rows: list[BadgeEngagement] = field(default_factory=list)
    more: int = 0  # badges with figures beyond the TOP_BADGES shown

    @property
    def headings(self) -> list[str]:
        return [Kind(k).label for k in KINDS]

    @property
    def total_cells(self) -> list[int]:
        return [self.totals.get(k, 0) for k in KINDS]

    @property
    def claim_rate(self) -> str:
        """Claims per claim page view, as a percentage ("" with no views)."""
        views = self.totals.get(Kind.CLAIM_VIEW, 0)
        return f"{100 * self.totals.get(Kind.CLAIM, 0) / views:.0f}%" if views else ""

    @property
    def empty(self) -> bool:
        return not any(self.totals.values())


def counters_in(*, space: Space, selection: Selection, period: Period, scope_q: Q | None = None):
    qs = EngagementCount.objects.filter(space=space, day__gte=period.start, day__lte=period.end)
    org_q = selection.filter_q()
    if org_q is not None:
        qs = qs.filter(org_q)
        if scope_q is not None:
            qs = qs.filter(scope_q)
    return qs


def engagement_report(
    *, space: Space, selection: Selection, period: Period, scope_q: Q | None = None
) -> Engagement:
    counters = counters_in(space=space, selection=selection, period=period, scope_q=scope_q)
    per_badge: dict[int, dict[str, int]] = {}
    totals: dict[str, int] = {}
    for badge_id, kind, n in (
        counters.values("badge_id", "kind")
        .annotate(n=Sum("hits"))
        .values_list("badge_id", "kind", "n")
    ):
        per_badge.setdefault(badge_id, {})[kind] = n
        totals[kind] = totals.get(kind, 0) + n
    report = Engagement(totals=totals)
    if not per_badge:
        return report
    shares = dict(
        counters.filter(kind=Kind.SHARE)
        .values("target")
        .annotate(n=Sum("hits"))
        .values_list("target", "n")
    )
    report.shares = [
        (label, shares[target]) for target, label in SHARE_TARGETS.items() if shares.get(target)
    ]
    ranked = sorted(per_badge.items(), key=lambda item: (-sum(item[1].values()), item[0]))
    shown = ranked[:TOP_BADGES]
    report.more = len(ranked) - len(shown)
    badges = (
        Badge.objects.for_space(space)
        .select_related("organisation")
        .only("name", "organisation__name")
        .in_bulk([badge_id for badge_id, _ in shown])
    )
    report.rows = [
        BadgeEngagement(badge=badges[badge_id], counts=counts)
        for badge_id, counts in shown
        if badge_id in badges
    ]
    return report
