"""allauth's protocol endpoints for single sign-on, mounted under /sso/ with allauth's names.

They are public by nature (the browser comes back from the identity provider unauthenticated);
each is declared here so the URL walk sees the reason. Which space a request belongs to is the
provider id in the path (sso.adapter finds that one provider, never another space's); what the
sign-in may do afterwards is decided by sso.provisioning and sso.policy. allauth's signup and
connections pages are not mounted: accounts are linked or made by sso.adapter, never by a form.
"""

from functools import wraps

import requests
from allauth.socialaccount.helpers import render_authentication_error
from allauth.socialaccount.providers.openid_connect import views as oidc
from allauth.socialaccount.providers.saml import views as saml
from django.template.response import TemplateResponse
from django.urls import path

from badgeplatform.access import public_view

REASON = (
    "Single sign-on protocol endpoint (allauth): the person is not signed in yet; the provider "
    "in the path is one space's, and its answer is checked by the protocol (state, PKCE, "
    "signatures) before sso.adapter decides who it is."
)


def endpoint(view):
    """Declared public; an identity provider that cannot be reached (its discovery document,
    keys or token endpoint) is allauth's authentication error page, not a server error."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        # python3-saml reads the Host header itself (an HTTP/1.0 request may have none).
        request.META.setdefault("HTTP_HOST", request.get_host())
        try:
            return view(request, *args, **kwargs)
        except requests.RequestException as exc:
            return render_authentication_error(request, None, exception=exc)

    return public_view(REASON)(wrapper)


def login_cancelled(request):
    return TemplateResponse(request, "socialaccount/login_cancelled.html")


def login_error(request):
    return TemplateResponse(request, "socialaccount/authentication_error.html", status=401)


urlpatterns = [
    path("oidc/<str:provider_id>/login/", endpoint(oidc.login), name="openid_connect_login"),
    path(
        "oidc/<str:provider_id>/login/callback/",
        endpoint(oidc.callback),
        name="openid_connect_callback",
    ),
    path("saml/<str:organization_slug>/acs/", endpoint(saml.acs), name="saml_acs"),
    path(
        "saml/<str:organization_slug>/acs/finish/",
        endpoint(saml.finish_acs),
        name="saml_finish_acs",
    ),
    path("saml/<str:organization_slug>/sls/", endpoint(saml.sls), name="saml_sls"),
    path("saml/<str:organization_slug>/metadata/", endpoint(saml.metadata), name="saml_metadata"),
    path("saml/<str:organization_slug>/login/", endpoint(saml.login), name="saml_login"),
    path(
        "login/cancelled/",
        endpoint(login_cancelled),
        name="socialaccount_login_cancelled",
    ),
    path("login/error/", endpoint(login_error), name="socialaccount_login_error"),
]
