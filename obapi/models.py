"""What django-oauth-toolkit's Application does not keep: the registration metadata the
Open Badges 3.0 API asks clients for (RFC 7591 as profiled by 1EdTech's security framework)."""

import uuid

from django.conf import settings
from django.db import models
from oauth2_provider.models import Application


class ClientRegistration(models.Model):
    """One dynamically registered client: its name lives on the Application, the rest here.

    The consent page shows the name, logo, home page, terms and privacy policy; the scopes a
    client registered bound those it may ask for (``obapi.oauth.Validator``)."""

    application = models.OneToOneField(
        Application, on_delete=models.CASCADE, primary_key=True, related_name="registration"
    )
    client_uri = models.URLField(max_length=500)
    logo_uri = models.URLField(max_length=500)
    tos_uri = models.URLField(max_length=500)
    policy_uri = models.URLField(max_length=500)
    software_id = models.CharField(max_length=200)
    software_version = models.CharField(max_length=100)
    scope = models.TextField(help_text="The space-separated scopes the client may ask for.")
    contacts = models.JSONField(default=list, blank=True)
    registered_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.application.name} ({self.software_id} {self.software_version})"

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()


class ImportedCredential(models.Model):
    """A credential from elsewhere that a connected app added to a recipient's backpack
    (upsertCredential), kept only after it verified (``obapi.imports``).

    Equality is the specification's: the issuer's id and the credential's id; a newer
    ``validFrom`` replaces the stored one. ``checks`` keeps what verified (the verifier's rows
    in plain words), re-read on a schedule and when the backpack shows it after a while.
    """

    class Status(models.TextChoices):
        VALID = "valid", "Valid"
        WARNING = "warning", "Valid, with caveats"
        INVALID = "invalid", "No longer valid"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="imported_credentials"
    )
    issuer_id = models.CharField(max_length=500)
    credential_id = models.CharField(max_length=500)
    # The credential as given: a JSON object (a Data Integrity proof) or a compact JWS.
    credential = models.JSONField(null=True, blank=True)
    compact_jws = models.TextField(blank=True)
    name = models.CharField(max_length=500)
    issuer_name = models.CharField(max_length=500, blank=True)
    description = models.TextField(blank=True)
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    checks = models.JSONField(default=list)
    checked_at = models.DateTimeField()
    # Which app added it (kept, by name, after the app is gone).
    added_by = models.ForeignKey(
        Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_by_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "recipient", "issuer_id", "credential_id", name="imported_credential_identity"
            ),
        ]
        indexes = [
            # The backpack and getCredentials: WHERE recipient_id = ? ORDER BY created_at, id
            models.Index(fields=["recipient", "created_at"], name="imported_recipient_created"),
            # The periodic status re-check: the oldest checks first.
            models.Index(fields=["checked_at"], name="imported_checked_at"),
        ]

    def __str__(self) -> str:
        return f"{self.name} from {self.issuer_name or self.issuer_id}"


class WalletOffer(models.Model):
    """ "Add to wallet": a short-lived VC-API exchange that hands one award's signed credential
    to the wallet that opens it (obapi.handoff; docs/ob3-api.md says why and its limits).

    The exchange URL is the capability: only its SHA-256 is stored, it works for
    ``handoff.OFFER_MINUTES`` and for ``handoff.MAX_USES`` deliveries."""

    exchange_hash = models.CharField(max_length=64, unique=True)
    award = models.ForeignKey("badges.Award", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    uses = models.PositiveSmallIntegerField(default=0)

    def __str__(self) -> str:
        return f"Wallet offer of award {self.award_id}"
