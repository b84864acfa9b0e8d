"""Engagement figures: how often awards and badges are seen, shared and printed.

Counted without personal data: a row is (day, award or badge, kind, target) and a number —
no address, user, cookie or referrer is read or stored. Public reads add one to their row
with a single UPSERT (``badges.engagement.count``), so counting costs one statement.
"""

from django.db import models
from django.db.models import Q

from orgs.models import Organisation, Space


class EngagementCount(models.Model):
    class Kind(models.TextChoices):
        VIEW = "view", "Public page views"
        SHARE = "share", "Shares"
        CERTIFICATE = "certificate", "Certificate downloads"
        CLAIM_VIEW = "claim_view", "Claim page views"
        CLAIM = "claim", "Claims"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    # The award's organisation (or the badge's for badge-level rows): reports filter by it.
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    badge = models.ForeignKey("badges.Badge", on_delete=models.CASCADE, related_name="+")
    # None: the badge's own page (or a claim link's), not one award's.
    award = models.ForeignKey(
        "badges.Award", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    day = models.DateField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    # Shares: where to (linkedin, linkedin_profile, x, facebook, email); else "".
    target = models.CharField(max_length=20, blank=True, default="")
    hits = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["award", "day", "kind", "target"],
                condition=Q(award__isnull=False),
                name="engagement_award_day_kind",
            ),
            models.UniqueConstraint(
                fields=["badge", "day", "kind", "target"],
                condition=Q(award__isnull=True),
                name="engagement_badge_day_kind",
            ),
        ]
        indexes = [
            # The report: WHERE space_id = ? AND day BETWEEN ? AND ? GROUP BY badge, kind.
            models.Index(fields=["space", "day"], name="engagement_space_day"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.day}: {self.hits}"
