"""Webhook endpoints, the messages queued for them and every delivery attempt."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from orgs.models import Space


class EndpointQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> EndpointQuerySet:
        return self.filter(space=space)


class Endpoint(models.Model):
    """A URL of the space's that receives signed events of the types it subscribed to.

    Secrets are stored AES-GCM encrypted (webhooks.secrets) and shown once. During a rotation
    the previous secret keeps signing too (both signatures in ``webhook-signature``) until
    ``previous_secret_expires_at``.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list)
    active = models.BooleanField(default=True)
    secret_encrypted = models.TextField()
    previous_secret_encrypted = models.TextField(blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Since when every attempt has failed (None while it answers); disabled after a day of it.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)

    objects = EndpointQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["space", "-created_at"], name="whendpoint_space_created")]

    def __str__(self) -> str:
        return self.url


class Message(models.Model):
    """One event for one endpoint. ``event_id`` is the ``webhook-id``: the same for every
    attempt (and replay) and for every endpoint that receives the event, so a receiver
    deduplicates on it. ``body`` is the exact bytes signed and sent."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed"

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="messages")
    event_id = models.CharField(max_length=64)
    type = models.CharField(max_length=40)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The drain: WHERE status = 'pending' AND next_attempt_at <= now
            models.Index(fields=["status", "next_attempt_at"], name="whmessage_due"),
            # The delivery log: WHERE endpoint_id = ? ORDER BY created_at DESC
            models.Index(fields=["endpoint", "-created_at"], name="whmessage_endpoint_created"),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


class Attempt(models.Model):
    """One HTTP request of a message: what came back (or why nothing did) and how long."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)
    ok = models.BooleanField(default=False)
    replay = models.BooleanField(default=False)

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.message_id} {self.status_code or self.error}"


class Cursor(models.Model):
    """How far a periodic emitter has looked (``award.expired``: awards expiring up to ``until``
    were announced), so running it twice announces nothing twice."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=40)
    until = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint("space", "kind", name="whcursor_unique")]

    def __str__(self) -> str:
        return f"{self.kind} until {self.until}"
