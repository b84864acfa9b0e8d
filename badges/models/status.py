import uuid

from django.db import models
from django.db.models import Q

from issuers.models import Issuer
from orgs.models import Space

# W3C Bitstring Status List 1.0: a list has at least 131,072 entries (16 KB), so one index
# hides among at least that many ("herd privacy").
STATUS_LIST_SIZE = 131_072


class StatusList(models.Model):
    """One W3C Bitstring Status List of an issuer (purpose "revocation"), published as a
    signed BitstringStatusListCredential at ``links.status_list_url``.

    ``bits`` is the list itself (bit i set = the credential at index i is revoked); ``used``
    marks the indexes handed out, so an index is never given twice. Revoking flips a bit and
    bumps ``revision`` in the revocation's transaction; the signed credential is remade lazily
    (``signed`` holds the one made for ``signed_revision``).
    """

    class Purpose(models.TextChoices):
        REVOCATION = "revocation", "Revocation"

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="+")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    purpose = models.CharField(max_length=20, choices=Purpose.choices, default=Purpose.REVOCATION)
    size = models.PositiveIntegerField(default=STATUS_LIST_SIZE)  # entries (bits)
    allocated = models.PositiveIntegerField(default=0)
    full = models.BooleanField(default=False)
    used = models.BinaryField()
    bits = models.BinaryField()
    revision = models.PositiveIntegerField(default=0)
    signed = models.JSONField(null=True, blank=True)
    signed_revision = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One list takes new entries per issuer and purpose; a full one is kept (its
            # credentials still point at it) and the next is opened.
            models.UniqueConstraint(
                "issuer", "purpose", condition=Q(full=False), name="status_list_one_open"
            ),
        ]

    def __str__(self) -> str:
        return f"Status list {self.public_id} ({self.allocated}/{self.size})"


class StatusListEntry(models.Model):
    """An award's place in a status list: its ``credentialStatus`` names this index."""

    award = models.OneToOneField(
        "badges.Award", on_delete=models.CASCADE, related_name="status_entry"
    )
    status_list = models.ForeignKey(StatusList, on_delete=models.CASCADE, related_name="+")
    index = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # Never two credentials on one bit, whatever the allocator does.
            models.UniqueConstraint("status_list", "index", name="status_entry_unique_index"),
        ]

    def __str__(self) -> str:
        return f"Award {self.award_id} at {self.index}"
