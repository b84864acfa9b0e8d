"""A space's identity providers (OpenID Connect, SAML 2.0) and its sign-in policy.

allauth's socialaccount runs the protocols; it reads each provider from here per request
(``sso.adapter``): the rows are the space's, and a provider is only ever used for its own space.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from orgs.models import Organisation, Space
from users.models import Role


class IdentityProviderQuerySet(models.QuerySet):
    def for_space(self, space: Space) -> IdentityProviderQuerySet:
        return self.filter(space=space)


class IdentityProvider(models.Model):
    OIDC = "oidc"
    SAML = "saml"
    KINDS = [(OIDC, "OpenID Connect"), (SAML, "SAML 2.0")]

    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="+")
    # The provider's id in allauth's URLs (/sso/oidc/<id>/…, /sso/saml/<id>/…) and on each
    # linked account: stable and unique across the platform, never the space's slug.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=10, choices=KINDS)
    name = models.CharField(max_length=100, help_text="Shown on the sign-in button.")
    enabled = models.BooleanField(default=True)

    # OpenID Connect: the issuer's discovery document is read when the provider is saved.
    issuer_url = models.URLField(max_length=500, blank=True)
    client_id = models.CharField(max_length=300, blank=True)
    client_secret_encrypted = models.TextField(blank=True)
    discovery = models.JSONField(default=dict, blank=True)

    # SAML 2.0: the IdP's metadata, by URL or pasted; what it says is parsed when saved.
    metadata_url = models.URLField(max_length=500, blank=True)
    metadata_xml = models.TextField(blank=True)
    idp_entity_id = models.CharField(max_length=500, blank=True)
    idp_sso_url = models.URLField(max_length=500, blank=True)
    idp_x509cert = models.TextField(blank=True)

    # Attribute mapping: the claim (OIDC) or attribute name (SAML) that carries each value.
    attr_email = models.CharField(max_length=300, blank=True)
    attr_email_verified = models.CharField(max_length=300, blank=True)
    attr_first_name = models.CharField(max_length=300, blank=True)
    attr_last_name = models.CharField(max_length=300, blank=True)
    attr_external_id = models.CharField(max_length=300, blank=True)
    # For a provider that does not say whether an address is verified: does it verify them all?
    # (An explicit "not verified" always wins; see sso.mapping.)
    emails_verified_by_idp = models.BooleanField(default=False)

    # Just-in-time accounts: where newcomers land, with which role.
    jit_enabled = models.BooleanField(default=True)
    jit_organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    jit_role = models.ForeignKey(
        Role, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = IdentityProviderQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.name

    @property
    def provider_id(self) -> str:
        return f"idp-{self.public_id.hex}"


class SignInPolicy(models.Model):
    """Does the space require single sign-on, and who may still use a password (break-glass)."""

    space = models.OneToOneField(Space, on_delete=models.CASCADE, related_name="+")
    break_glass = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Sign-in policy of {self.space}"
