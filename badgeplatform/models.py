import uuid

from django.db import models
from django.db.models import Q


class OutboundEmail(models.Model):
    """Every email, rendered and stored in the same transaction as the change that caused it.

    The database row is the source of truth: a worker claims it with a conditional UPDATE,
    sends it and records sent_at. If the broker was down when the row was committed, the
    periodic drain finds it and sends it then, so no email is lost, and the claim makes sure
    no two workers send the same row.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Gave up"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    space = models.ForeignKey(
        "orgs.Space", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    kind = models.CharField(max_length=50)
    # Bulk emails (badge issued, verification of new recipients) are stored unrendered, with
    # the ids they need; the worker renders them at send time so issuing stays fast.
    context = models.JSONField(null=True, blank=True)
    # Makes "send this email once" a database invariant, e.g. "award:<uuid>".
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The drain: WHERE status IN ('pending', 'sending') ORDER BY created_at.
            models.Index(
                fields=["status", "created_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="outbox_unsent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.to} ({self.status})"


class AuditEntry(models.Model):
    """One administrative change: who, what, which object, when, from which address.

    Written by services in the same transaction as the change (so an entry exists exactly when
    the change does) and never editable from the UI.
    """

    space = models.ForeignKey("orgs.Space", on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        "users.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=300, blank=True)  # kept if the user goes away
    action = models.CharField(max_length=60)  # "<area>.<verb>", e.g. "badge.publish"
    object_type = models.CharField(max_length=60, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_label = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            # The audit log page: WHERE space_id = ? [AND action LIKE …] ORDER BY at DESC
            models.Index(fields=["space", "-at"], name="audit_space_at"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_label} {self.action} {self.object_label}"
