"""allauth's socialaccount, per space: each space's identity providers, and our sign-in rules.

allauth runs the protocols (OIDC authorization code with PKCE, SAML 2.0 with signed assertions);
this adapter gives it the providers from ``IdentityProvider`` rows — one at a time, by the id in
the URL, never a list of every space's — and decides who the person is (``pre_social_login``,
``sso.provisioning``) before allauth signs them in. allauth's own signup, email-based login and
"account connected" mails are never reached.
"""

from __future__ import annotations

from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialApp
from django.db import transaction
from django.template.response import TemplateResponse

from sso import fetching, mapping, policy, provisioning
from sso.models import IdentityProvider
from sso.secrets import unseal

OIDC = "openid_connect"
SAML = "saml"
PREFIX = "idp-"


def _oidc_app(idp: IdentityProvider) -> SocialApp:
    return SocialApp(
        provider=OIDC,
        provider_id=idp.provider_id,
        name=idp.name,
        client_id=idp.client_id,
        secret=unseal(idp.client_secret_encrypted, idp.provider_id),
        settings={
            "server_url": idp.issuer_url.rstrip("/"),
            "oauth_pkce_enabled": True,
            "idp_pk": idp.pk,
        },
    )


def _saml_app(idp: IdentityProvider) -> SocialApp:
    return SocialApp(
        provider=SAML,
        provider_id=idp.provider_id,
        name=idp.name,
        client_id=idp.provider_id,  # allauth's "organization slug" in the SAML URLs
        settings={
            "idp": {
                "entity_id": idp.idp_entity_id,
                "sso_url": idp.idp_sso_url,
                "x509cert": idp.idp_x509cert,
            },
            # The uid is the NameID; the rest is read by sso.mapping from the raw attributes.
            "attribute_mapping": {},
            "advanced": {
                "strict": True,
                "want_assertion_signed": True,
                "reject_idp_initiated_sso": True,
                "allow_single_label_domains": True,
            },
            "idp_pk": idp.pk,
        },
    )


def app_for(idp: IdentityProvider) -> SocialApp:
    return _oidc_app(idp) if idp.kind == IdentityProvider.OIDC else _saml_app(idp)


def _idp_by_provider_id(provider_id: str | None) -> IdentityProvider | None:
    if not provider_id or not provider_id.startswith(PREFIX):
        return None
    hex_id = provider_id[len(PREFIX) :]
    if len(hex_id) != 32 or any(c not in "0123456789abcdef" for c in hex_id):
        return None
    return (
        IdentityProvider.objects.select_related("space")
        .filter(public_id=hex_id, enabled=True)
        .first()
    )


class SpaceSocialAccountAdapter(DefaultSocialAccountAdapter):
    def list_apps(self, request, provider=None, client_id=None):
        # A provider is asked for by its id: /sso/oidc/<provider_id>/… passes it as
        # ``provider``, /sso/saml/<provider_id>/… as ``client_id``. Nothing lists them all.
        if provider == SAML:
            idp = _idp_by_provider_id(client_id)
        elif provider and provider.startswith(PREFIX):
            idp = _idp_by_provider_id(provider)
        else:
            idp = None
        if idp is None:
            return []
        app = app_for(idp)
        if client_id and app.client_id != client_id:
            return []
        return [app]

    def list_providers(self, request):
        return []  # the sign-in pages list their own space's providers (sso.views)

    def get_requests_session(self):
        return fetching.guarded_session(super().get_requests_session())

    def send_notification_mail(self, *args, **kwargs) -> None:
        return None  # links and new accounts go to the audit log, not allauth's mailer

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False  # pre_social_login has always linked or made the account by then

    def pre_social_login(self, request, sociallogin) -> None:
        idp_pk = sociallogin.provider.app.settings.get("idp_pk")
        idp = IdentityProvider.objects.select_related("space", "jit_organisation", "jit_role").get(
            pk=idp_pk
        )
        if sociallogin.state.get("process", "login") != "login":
            self._refuse(request, idp, "Only signing in is possible here.")
        claims = mapping.claims_of(idp, sociallogin.account.extra_data or {})
        identity = mapping.identity_from(idp, uid=sociallogin.account.uid, claims=claims)
        session = request.session
        request._sso_signin = {
            "space_id": idp.space_id,
            "prior_user_id": request.user.pk if request.user.is_authenticated else None,
            "prior_spaces": list(session.get(policy.SESSION_SSO_SPACES) or []),
            "prior_only": bool(session.get(policy.SESSION_SSO_ONLY)),
        }
        # Also in the session: with a second factor, the sign-in completes in a later request.
        session[policy.SESSION_SSO_PENDING] = request._sso_signin
        try:
            with transaction.atomic():
                if sociallogin.is_existing:
                    user = sociallogin.user
                    if not user.is_active:
                        raise provisioning.Refused("This account is disabled.")
                    provisioning.member_ensure(idp, user, identity)
                    return
                user = provisioning.existing_account(idp, identity)
                linked = user is not None
                if user is None:
                    user = provisioning.account_create(idp, identity)
                provisioning.member_ensure(idp, user, identity)
                sociallogin.connect(request, user)
                if linked:
                    provisioning.link_recorded(idp, user, identity)
        except provisioning.Refused as exc:
            self._refuse(request, idp, str(exc))

    def _refuse(self, request, idp: IdentityProvider, message: str):
        response = TemplateResponse(
            request,
            "sso/refused.html",
            {"idp": idp, "space": idp.space, "message": message},
            status=403,
        )
        raise ImmediateHttpResponse(response.render())
