from django.db import models

from badges.models.keys import SigningKey
from issuers.models import IssuerVersion
from orgs.models import Space


class BadgeClassVersion(models.Model):
    """One published form of a badge, as awards carry it: the badge snapshot + the issuer
    profile version, addressed by a digest of that content.

    Awards keep a snapshot of the badge as issued, so a hosted OB 2.0 BadgeClass must be
    versioned too: every award's assertion links to the BadgeClass of *its* snapshot at
    ``/public/badges/<badge>/v/<digest>``, which never changes, while ``/public/badges/<badge>``
    shows the badge as it is now. Awards with the same snapshot share one BadgeClass id (as a
    backpack expects of one class), and editing the badge makes a new version for later
    awards only. Rows are made on first use (get_or_create on the unique digest).
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    badge = models.ForeignKey("badges.Badge", on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=32)
    snapshot = models.JSONField()
    issuer_version = models.ForeignKey(IssuerVersion, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The hosted URL names (badge, digest): WHERE badge_id = ? AND digest = ?
            models.UniqueConstraint("badge", "digest", name="badgeclass_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot.get('name', 'Badge')} ({self.digest[:8]})"


class AwardCredential(models.Model):
    """The signed Open Badges 3.0 credential of an award, kept once made.

    Signing (JSON-LD canonicalisation + Ed25519) is far too slow for the issuing request, so
    it happens in a worker after commit or on first request, and the result is stored here.
    A credential is never re-signed: it carries ``credentialStatus``, so revocation is
    published in the issuer's revocation list, not by changing the signed document.
    """

    award = models.OneToOneField(
        "badges.Award", on_delete=models.CASCADE, primary_key=True, related_name="credential"
    )
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    credential = models.JSONField()
    signing_key = models.ForeignKey(SigningKey, on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"Credential of award {self.award_id}"
