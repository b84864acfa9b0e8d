import calendar
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import models

from issuers.models import Issuer
from orgs.models import Organisation, Space


def add_months(moment: datetime, months: int) -> datetime:
    """Calendar months, clamping the day (31 January + 1 month = 28/29 February)."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


# Expiry reminders: at most this many thresholds, each 1 to MAX_REMINDER_DAY days ahead.
MAX_REMINDERS = 5
MAX_REMINDER_DAY = 365
DEFAULT_REMINDER_DAYS = "30,7"
DEFAULT_RENEWAL_WINDOW = 30


def parse_reminder_days(text: str) -> list[int]:
    """ "30, 7" → [30, 7] (largest first, no repeats); what cannot be read is left out (the
    form refuses it before it is stored)."""
    days = set()
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if part.isdigit() and 1 <= int(part) <= MAX_REMINDER_DAY:
            days.add(int(part))
    return sorted(days, reverse=True)[:MAX_REMINDERS]


class BadgeQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "BadgeQuerySet":
        return self.filter(space=space)

    def published(self) -> "BadgeQuerySet":
        return self.filter(state=Badge.State.PUBLISHED)


class Badge(models.Model):
    """A badge class. Draft → published → withdrawn → published again. Only a published badge
    can be issued; awards keep a snapshot of the badge as it was when issued."""

    class State(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class CertificateDesign(models.TextChoices):
        CLASSIC = "classic", "Classic"
        MODERN = "modern", "Modern"
        MINIMAL = "minimal", "Minimal"

    class ExpiryUnit(models.TextChoices):
        DAYS = "days", "days"
        MONTHS = "months", "months"
        YEARS = "years", "years"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="badges")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="badges")
    # The stable public identifier: the Events API's ActivityId, and part of public URLs.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    language = models.CharField(max_length=8, blank=True)  # ISO 639-1
    issuer = models.ForeignKey(
        Issuer, null=True, blank=True, on_delete=models.PROTECT, related_name="badges"
    )
    graphic = models.ForeignKey(
        "badges.Graphic", null=True, blank=True, on_delete=models.PROTECT, related_name="badges"
    )
    criteria_url = models.URLField(max_length=500, blank=True)
    criteria_text = models.TextField(blank=True)  # Markdown, rendered sanitised
    expiry_amount = models.PositiveIntegerField(null=True, blank=True)
    expiry_unit = models.CharField(max_length=6, choices=ExpiryUnit.choices, blank=True)
    # Open Badges 3.0 Achievement fields (the "Standards" tab). The JSON lists hold plain
    # dicts checked by badges.achievements (alignments, result descriptions) and strings (tags).
    achievement_type = models.CharField(max_length=60, blank=True)  # "" → "Badge"
    alignments = models.JSONField(default=list, blank=True)
    tags = models.JSONField(default=list, blank=True)
    credits_available = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    field_of_study = models.CharField(max_length=200, blank=True)
    human_code = models.CharField(max_length=100, blank=True)
    result_descriptions = models.JSONField(default=list, blank=True)
    # Counts the edits: the OB 3.0 achievement's ``version`` (its ``id`` stays the badge's).
    revision = models.PositiveIntegerField(default=1)
    state = models.CharField(max_length=10, choices=State.choices, default=State.DRAFT)
    # Email the recipient when one of their awards is revoked, suspended or reinstated.
    status_emails = models.BooleanField(
        "Email recipients when an award is revoked, suspended or reinstated",
        default=True,
        db_default=True,  # for bulk loaders that COPY named columns (bench.scale)
    )
    # Expiry emails (badges.expiry): reminders this many days before an award expires
    # ("30,7"; empty: none) and the email when it has expired; both off with expiry_emails.
    expiry_emails = models.BooleanField(
        "Email recipients before their award expires and when it has expired",
        default=True,
        db_default=True,
    )
    expiry_reminder_days = models.CharField(
        max_length=40, blank=True, default="30,7", db_default="30,7"
    )
    # People may apply for it with evidence (badges.applications); reviewers decide.
    accepts_applications = models.BooleanField(default=False, db_default=False)
    application_instructions = models.TextField(blank=True, default="", db_default="")
    # The look of its awards' printable certificates (badges.certificates.DESIGNS).
    certificate_design = models.CharField(
        max_length=10,
        choices=CertificateDesign.choices,
        default=CertificateDesign.CLASSIC,
        db_default=CertificateDesign.CLASSIC,  # for bulk loaders (bench.scale)
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = BadgeQuerySet.as_manager()

    class Meta:
        indexes = [
            # The badge list: WHERE space_id = ? [AND state = ?] ORDER BY updated_at DESC
            models.Index(fields=["space", "state", "-updated_at"], name="badge_space_state"),
            models.Index(fields=["space", "organisation"], name="badge_space_org"),
        ]

    def __str__(self) -> str:
        return self.name or "Untitled badge"

    def missing_for_publication(self) -> list[str]:
        """What a person must still fill in before the badge can be published."""
        missing = []
        if not self.name.strip():
            missing.append("a name")
        if not self.description.strip():
            missing.append("a description")
        if not self.language:
            missing.append("a language")
        if self.issuer_id is None:
            missing.append("an issuer")
        if self.graphic_id is None:
            missing.append("a graphic")
        if not (self.criteria_url or self.criteria_text.strip()):
            missing.append("criteria (a URL or text)")
        return missing

    def can_publish(self) -> bool:
        return self.state != Badge.State.PUBLISHED and not self.missing_for_publication()

    @property
    def is_issuable(self) -> bool:
        return self.state == Badge.State.PUBLISHED

    def expiry_for(self, issued_at: datetime) -> datetime | None:
        """The expiry date of an award issued at ``issued_at`` (None: never expires)."""
        if not self.expiry_amount or not self.expiry_unit:
            return None
        if self.expiry_unit == Badge.ExpiryUnit.DAYS:
            return issued_at + timedelta(days=self.expiry_amount)
        months = self.expiry_amount * (12 if self.expiry_unit == Badge.ExpiryUnit.YEARS else 1)
        return add_months(issued_at, months)

    @property
    def reminder_days(self) -> list[int]:
        """The reminder thresholds, largest first ([] when expiry emails are off)."""
        if not self.expiry_emails:
            return []
        return parse_reminder_days(self.expiry_reminder_days)

    @property
    def renewal_window_days(self) -> int:
        """How long before expiry an award counts as "expiring" (renewable automatically, on
        the dashboards): the earliest reminder, or DEFAULT_RENEWAL_WINDOW without reminders."""
        days = self.reminder_days
        return days[0] if days else DEFAULT_RENEWAL_WINDOW

    def snapshot(self) -> dict:
        """The badge as issued; awards keep it so later edits change only later awards."""
        return {
            "public_id": str(self.public_id),
            "name": self.name,
            "description": self.description,
            "language": self.language,
            "criteria_url": self.criteria_url,
            "criteria_text": self.criteria_text,
            "image": self.graphic.image.name if self.graphic_id else "",
            "attributes": [{"key": a.key, "value": a.value} for a in self.attributes.all()],
            "organisation": self.organisation.name,
            "revision": self.revision,
            **self.achievement_snapshot(),
        }

    def achievement_snapshot(self) -> dict:
        """The Open Badges 3.0 fields, only those set (older snapshots lack them all)."""
        fields = {
            "achievement_type": self.achievement_type,
            "alignments": self.alignments,
            "tags": self.tags,
            "credits_available": (
                float(self.credits_available) if self.credits_available is not None else None
            ),
            "field_of_study": self.field_of_study,
            "human_code": self.human_code,
            "result_descriptions": self.result_descriptions,
        }
        return {k: v for k, v in fields.items() if v not in (None, "", [])}


class BadgeAttribute(models.Model):
    """A custom key/value carried in the badge and shown in the backpack."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="attributes")
    key = models.CharField(max_length=100)
    value = models.CharField(max_length=500)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return f"{self.key}: {self.value}"


class BadgeEvent(models.Model):
    """The badge's history: created, edited, published, withdrawn, republished."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        EDITED = "edited", "Edited"
        PUBLISHED = "published", "Published"
        WITHDRAWN = "withdrawn", "Withdrawn"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    badge = models.ForeignKey(Badge, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=10, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_action_display()} at {self.at:%Y-%m-%d %H:%M}"
