import uuid

from django.conf import settings
from django.db import models

from orgs.models import Organisation, Space


class IssuerQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "IssuerQuerySet":
        return self.filter(space=space)

    def with_profile(self) -> "IssuerQuerySet":
        return self.select_related("current", "organisation")


class Issuer(models.Model):
    """The person or organisation that awards badges. Its profile lives in versions:
    editing an issuer adds a version, and each award points at the version current when it
    was issued, so amending a profile changes only later awards."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="issuers")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="issuers")
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The latest version; set by issuers.services in the same transaction that adds it.
    current = models.ForeignKey(
        "IssuerVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = IssuerQuerySet.as_manager()

    class Meta:
        indexes = [models.Index(fields=["space", "organisation"], name="issuer_space_org")]

    def __str__(self) -> str:
        return self.current.name if self.current_id else f"Issuer {self.pk}"

    @property
    def name(self) -> str:
        return self.current.name if self.current_id else ""


class IssuerVersion(models.Model):
    """One immutable profile of an issuer (Open Badges Issuer Profile / OB3 Profile)."""

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    issuer = models.ForeignKey(Issuer, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    website = models.URLField(max_length=500)
    description = models.TextField(blank=True)
    email = models.EmailField(max_length=254)
    logo = models.ImageField(upload_to="issuers/", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint("issuer", "number", name="issuer_version_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.number})"
