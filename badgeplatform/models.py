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
