"""Rollups: award counts per local day (and month) × organisation × badge, what every report
and the Reporting API's aggregates read instead of scanning awards.

Each row holds, for one space, day, organisation (``Award.organisation``: where the award was
issued) and badge, how many awards were **issued** that day, and how many **revocations** and
**declines** happened that day (by the day of ``revoked_at`` / ``declined_at``). Days are local
dates in settings.TIME_ZONE, the zone reports use (``RollupZone`` records the zone the rows
were counted in).

The rows are kept by database triggers on ``badges_award`` (reporting/rollups.py) in the same
transaction as the write: every path that inserts, updates or deletes awards — issuing,
revoking, declining, moving awards to another organisation, bulk ``QuerySet.update``, raw
deletes, cascades — counts, and issuing pays no extra query. The monthly, per-organisation
and whole-space tables are the same counts summed coarser, so a three-year report reads ~36
rows per badge and organisation, ~1,100 day rows per organisation, or ~1,100 day rows for the
whole space, whatever the number of awards.
"""

from __future__ import annotations

from django.db import models

from badges.models import Badge
from orgs.models import Organisation, Space


class Counts(models.Model):
    issued = models.IntegerField(default=0)
    revoked = models.IntegerField(default=0)
    declined = models.IntegerField(default=0)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.issued} issued, {self.revoked} revoked, {self.declined} declined"


def _fk(model, **kwargs):
    # No database constraint: the triggers write these rows inside award statements, and the
    # ORM's collector still cascades when a space, organisation or badge is deleted.
    return models.ForeignKey(
        model, on_delete=models.CASCADE, related_name="+", db_constraint=False, **kwargs
    )


class DailyAwardCount(Counts):
    space = _fk(Space, db_index=False)
    day = models.DateField()
    organisation = _fk(Organisation, db_index=False)
    badge = _fk(Badge, db_index=False)

    class Meta:
        constraints = [
            # No INCLUDE here: Django creates no unique constraint with one on SQLite, and the
            # triggers' ON CONFLICT needs it.
            models.UniqueConstraint("space", "day", "organisation", "badge", name="rollup_day_key"),
        ]
        indexes = [
            # Part of the tree: JOIN organisation ON its MPTT range, one index-only scan per
            # organisation.
            models.Index(
                fields=["organisation", "day"],
                name="rollup_day_org",
                include=["space", "badge", "issued"],
            ),
            # The Reporting API's per-badge totals, and deleting a badge.
            models.Index(fields=["badge", "day"], name="rollup_day_badge"),
        ]


class MonthlyAwardCount(Counts):
    space = _fk(Space, db_index=False)
    month = models.DateField()  # the first of the month
    organisation = _fk(Organisation, db_index=False)
    badge = _fk(Badge, db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "space", "month", "organisation", "badge", name="rollup_month_key"
            ),
        ]
        indexes = [
            models.Index(fields=["organisation", "month"], name="rollup_month_org"),
            models.Index(fields=["badge", "month"], name="rollup_month_badge"),
        ]


class OrgDailyAwardCount(Counts):
    """Per day and organisation, all badges together: a part of the tree per day reads one
    row per organisation and day (the per-badge rows are ~3x more at 10M awards)."""

    space = _fk(Space, db_index=False)
    day = models.DateField()
    organisation = _fk(Organisation, db_index=False)

    class Meta:
        constraints = [
            models.UniqueConstraint("space", "day", "organisation", name="rollup_org_day_key"),
        ]
        indexes = [
            # A part of the tree per day: one index-only range scan per organisation.
            models.Index(
                fields=["organisation", "day"],
                name="rollup_org_day_org",
                include=["space", "issued"],
            )
        ]


class SpaceDailyAwardCount(Counts):
    """The whole space per day: the report on the whole tree reads one row per day."""

    space = _fk(Space, db_index=False)
    day = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint("space", "day", name="rollup_space_day_key")]


class RollupZone(models.Model):
    """One row: the time zone whose local days the rollups count (settings.TIME_ZONE at the
    last ``migrate``; the triggers read it)."""

    zone = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.zone
