"""Our side of each provider: the URLs an IdP administrator needs, and our SAML SP metadata."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from sso.models import IdentityProvider


def login_url(idp: IdentityProvider) -> str:
    """Where the sign-in button POSTs (allauth's login view for this provider)."""
    if idp.kind == IdentityProvider.OIDC:
        return reverse("openid_connect_login", kwargs={"provider_id": idp.provider_id})
    return reverse("saml_login", kwargs={"organization_slug": idp.provider_id})


def sp_urls(request: HttpRequest, idp: IdentityProvider | None) -> dict:
    if idp is None:
        return {}
    absolute = request.build_absolute_uri
    if idp.kind == IdentityProvider.OIDC:
        return {
            "redirect_uri": absolute(
                reverse("openid_connect_callback", kwargs={"provider_id": idp.provider_id})
            )
        }
    metadata = absolute(reverse("saml_metadata", kwargs={"organization_slug": idp.provider_id}))
    return {
        "entity_id": metadata,
        "acs": absolute(reverse("saml_acs", kwargs={"organization_slug": idp.provider_id})),
        "metadata": metadata,
    }


def sp_metadata_xml(request: HttpRequest, idp: IdentityProvider) -> str:
    from allauth.socialaccount.providers.saml.utils import build_saml_config
    from onelogin.saml2.settings import OneLogin_Saml2_Settings

    from sso.adapter import app_for

    app = app_for(idp)
    config = build_saml_config(request, app.settings, app.client_id)
    metadata = OneLogin_Saml2_Settings(settings=config, sp_validation_only=True).get_sp_metadata()
    return metadata.decode() if isinstance(metadata, bytes) else metadata
