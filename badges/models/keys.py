import uuid

from django.db import models
from django.db.models import Q

from issuers.models import Issuer
from orgs.models import Space


class SigningKeyQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> "SigningKeyQuerySet":
        return self.filter(space=space)

    def for_issuer(self, issuer: Issuer) -> "SigningKeyQuerySet":
        return self.filter(issuer=issuer)

    def active(self) -> "SigningKeyQuerySet":
        return self.filter(retired_at__isnull=True)


class SigningKey(models.Model):
    """An issuer's Ed25519 key for Open Badges 3.0 proofs.

    A key has one controller: the issuer whose stable id (``links.issuer_id_url``) its
    Multikey document names and whose profile lists it. Keys made before keys belonged to
    issuers have no issuer: they were the space's, are retired, and stay published under the
    space's controller document (``links.key_controller_url``) so what they signed verifies.

    The public half is published at ``links.signing_key_url(key)`` (a Multikey document) for
    as long as the row exists, retired or not: rotation only stops *new* signatures, so every
    credential signed before keeps verifying. The private half is stored encrypted
    (AES-256-GCM under a key derived from ``SIGNING_KEY_SECRET``, bound to this key's id) and
    is only ever decrypted by ``badges.openbadges.keys``.
    """

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    # None only for the retired per-space keys of before (see above).
    issuer = models.ForeignKey(
        Issuer, null=True, blank=True, on_delete=models.CASCADE, related_name="signing_keys"
    )
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    public_key_multibase = models.CharField(max_length=64)
    # base64(nonce || AES-GCM ciphertext of the 32-byte private seed); never a plain key.
    private_key_encrypted = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    objects = SigningKeyQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One key signs for an issuer at a time: a concurrent first use or rotation cannot
            # make two. Its partial index also serves WHERE issuer_id = ? AND retired_at IS NULL.
            models.UniqueConstraint(
                "issuer",
                condition=Q(retired_at__isnull=True, issuer__isnull=False),
                name="signing_key_one_active_per_issuer",
            ),
        ]

    def __str__(self) -> str:
        state = "retired" if self.retired_at else "active"
        return f"{self.public_key_multibase[:16]}… ({state})"

    @property
    def is_active(self) -> bool:
        return self.retired_at is None
