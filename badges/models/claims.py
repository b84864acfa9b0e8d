"""Badges people get for themselves: claim links and applications (issue 17).

A ``ClaimLink`` is a short public URL for one published badge, with an optional code, a limit
of claims, open/close dates and an optional allow-list of email domains. Each visitor's claim is
a ``Claim``: pending until they confirm the link emailed to them, then claimed (the award made
through ``badges.issuing.awards_issue``) or "already" (they held the badge). The link counts its
page views and its claims as plain numbers (no personal data): the conversion figures.

An ``Application`` is a person asking for a badge that accepts applications
(``Badge.accepts_applications``), with evidence (text, a link, a file); reviewers approve it
(the award carries the evidence) or decline it with a message.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from orgs.models import Space


class ClaimLink(models.Model):
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    badge = models.ForeignKey("badges.Badge", on_delete=models.PROTECT, related_name="claim_links")
    # The short URL's key: /c/<token>. Random, unguessable enough for a public poster.
    token = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120, blank=True)  # the issuer's label ("Open day 2026")
    code = models.CharField(max_length=40, blank=True)  # asked on the claim page when set
    limit = models.PositiveIntegerField(null=True, blank=True)  # None: no limit
    opens_at = models.DateTimeField(null=True, blank=True)
    closes_at = models.DateTimeField(null=True, blank=True)
    # Lower-case domains; an address at one of them or a subdomain of one may claim.
    allowed_domains = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)  # False once the issuer closed it
    # Conversion figures, counted with F() updates: page views and awards made through it.
    views = models.PositiveIntegerField(default=0)
    claimed = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["space", "badge"], name="claimlink_space_badge")]

    def __str__(self) -> str:
        return self.name or f"Claim link {self.token}"

    def problem(self, now=None) -> str:
        """Why nobody may claim through this link now ("" when they may)."""
        now = now or timezone.now()
        if not self.active:
            return "This claim link has been closed."
        if self.opens_at and now < self.opens_at:
            return f"Claiming opens on {timezone.localtime(self.opens_at):%-d %B %Y at %H:%M}."
        if self.closes_at and now >= self.closes_at:
            return "Claiming through this link has ended."
        if self.limit is not None and self.claimed >= self.limit:
            return "All the badges of this link have been claimed."
        return ""

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.claimed)

    @property
    def conversion(self) -> int | None:
        """Claims per page view, as a whole percentage (None before any view)."""
        return round(100 * self.claimed / self.views) if self.views else None


class Claim(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for email confirmation"
        CLAIMED = "claimed", "Claimed"
        ALREADY = "already", "Already held"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    link = models.ForeignKey(ClaimLink, on_delete=models.CASCADE, related_name="claims")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    award = models.ForeignKey(
        "badges.Award", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["email", "status"], name="claim_email_status")]

    def __str__(self) -> str:
        return f"Claim of {self.link.badge} by {self.email}"


class Application(models.Model):
    class Status(models.TextChoices):
        UNVERIFIED = "unverified", "Waiting for email confirmation"
        SUBMITTED = "submitted", "Waiting for review"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    badge = models.ForeignKey("badges.Badge", on_delete=models.PROTECT, related_name="applications")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="badge_applications",
    )
    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    statement = models.TextField(blank=True)  # what they did (the evidence's narrative)
    evidence_url = models.URLField(max_length=2000, blank=True)
    # The uploaded evidence file, checked by badges.applications (PDF, PNG or JPEG, capped),
    # stored under a random name outside the public media paths' images.
    evidence_file = models.FileField(upload_to="private/applications/", blank=True, max_length=200)
    evidence_file_name = models.CharField(max_length=200, blank=True)  # as the applicant named it
    evidence_file_type = models.CharField(max_length=40, blank=True)  # the checked MIME type
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    decision_message = models.TextField(blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    award = models.ForeignKey(
        "badges.Award", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["space", "status", "submitted_at"], name="application_queue"),
            models.Index(fields=["email", "status"], name="application_email_status"),
        ]

    def __str__(self) -> str:
        return f"Application for {self.badge} by {self.email}"
