"""API keys and the responses kept for Idempotency-Key replays."""

from django.conf import settings
from django.db import models

from orgs.models import Organisation, Space


class ApiKeyQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "ApiKeyQuerySet":
        return self.filter(space=space)

    def active(self) -> "ApiKeyQuerySet":
        return self.filter(revoked_at__isnull=True)


class ApiKey(models.Model):
    """A space's credential for the Events and Reporting APIs.

    The developer key is public (it names the key, like a username); the auth token is a
    secret of 256 random bits shown once at creation. Only its SHA-256 is stored: a slow
    password hash adds nothing against guessing a token that long, and would cost every call.
    An optional organisation limits the key to that organisation and everything beneath it.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="api_keys")
    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="api_keys"
    )
    name = models.CharField(max_length=100)
    developer_key = models.CharField(max_length=40, unique=True)
    token_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Updated at most once a minute (see api.services.apikey_touch): a write per call is waste.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The keys page: WHERE space_id = ? ORDER BY created_at DESC
            models.Index(fields=["space", "-created_at"], name="apikey_space_created"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.developer_key})"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class IdempotencyRecord(models.Model):
    """The first response to a request sent with an Idempotency-Key, per API key.

    Stored in the same transaction as the work it describes, so a stored response always
    means the work is done; a repeat with the same body gets it back, a different body 422.
    The body is kept as the exact bytes sent (text), not re-encoded JSON.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)  # SHA-256 of method, path and body
    status_code = models.PositiveSmallIntegerField()
    response_body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The lookup on every call with the header: WHERE api_key_id = ? AND key = ?
            models.UniqueConstraint("api_key", "key", name="idempotency_unique_key"),
        ]
        indexes = [
            # The purge: WHERE created_at < ?
            models.Index(fields=["created_at"], name="idempotency_created"),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.status_code})"
