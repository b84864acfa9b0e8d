"""The second-factor pages: django-allauth's MFA views, each behind the site's access layer.

allauth.mfa does the work (TOTP, WebAuthn/passkeys, recovery codes, the sign-in step); these
wrappers declare who may open each page (the URL walk reads the declarations), count wrong
codes in the site's throttles (users/throttles.py: 429 with Retry-After, like the password)
and answer a refused form with 422 (badgeplatform/htmx.py). Templates: templates/mfa/.
"""

from __future__ import annotations

from allauth.account import views as account_views
from allauth.mfa.base import views as base_views
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes import views as codes_views
from allauth.mfa.totp import views as totp_views
from allauth.mfa.webauthn import views as webauthn_views
from allauth.mfa.webauthn.internal import flows as webauthn_flows
from django.contrib import messages
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_POST

from badgeplatform.access import public_view, user_view
from badgeplatform.htmx import INVALID_FORM_STATUS
from users import mfa, throttles


def _invalid_is_422(response: HttpResponse) -> HttpResponse:
    """allauth re-renders a refused form with 200; the site's contract says 422."""
    if isinstance(response, TemplateResponse) and response.status_code == 200:
        context = response.context_data or {}
        if any(getattr(f, "errors", None) for f in context.values() if hasattr(f, "is_bound")):
            response.status_code = INVALID_FORM_STATUS
    return response


def _posted(view):
    """Wrap an allauth view: refused forms come back as 422."""

    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if request.method == "POST":
            response = _invalid_is_422(response)
        return response

    return wrapper


def _pending_user_id(request: HttpRequest) -> int | None:
    from allauth.account.internal.stagekit import unstash_login

    login = unstash_login(request, peek=True)
    return getattr(getattr(login, "user", None), "pk", None)


@public_view(
    "The second step of signing in: the person has given their password, the session holds "
    "the pending login (allauth's login stage); without one it sends back to sign-in."
)
def authenticate(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        user_id = _pending_user_id(request)
        if user_id is not None and (wait := throttles.second_factor_attempt(request, user_id)):
            message = throttles.message("wrong codes", wait) + (
                " Use a recovery code if your device is lost."
            )
            page = TemplateResponse(
                request, "throttled.html", {"message": message, "retry_url": request.path}
            )
            return throttles.throttled(page, wait)
        response = _invalid_is_422(base_views.authenticate(request))
        if user_id is not None and response.status_code in (301, 302, 303):
            throttles.second_factor_succeeded(request, user_id)
        return response
    return base_views.authenticate(request)


@user_view
def index(request: HttpRequest) -> HttpResponse:
    """allauth's "manage your factors" page is the Two-factor section of Settings."""
    return HttpResponseRedirect(reverse("accounts:settings") + "#two-factor")


@user_view
def reauthenticate_password(request: HttpRequest) -> HttpResponse:
    return _posted(account_views.reauthenticate)(request)


@user_view
def reauthenticate_mfa(request: HttpRequest) -> HttpResponse:
    return _posted(base_views.reauthenticate)(request)


@user_view
def reauthenticate_webauthn(request: HttpRequest) -> HttpResponse:
    return _posted(webauthn_views.reauthenticate_webauthn)(request)


@user_view
def activate_totp(request: HttpRequest) -> HttpResponse:
    return _posted(totp_views.activate_totp)(request)


@user_view
def deactivate_totp(request: HttpRequest) -> HttpResponse:
    if not Authenticator.objects.filter(
        user_id=request.user.pk, type=Authenticator.Type.TOTP
    ).exists():
        return redirect("mfa_index")  # nothing to turn off
    return _posted(totp_views.deactivate_totp)(request)


def _has_codes(request: HttpRequest) -> bool:
    return Authenticator.objects.filter(
        user_id=request.user.pk, type=Authenticator.Type.RECOVERY_CODES
    ).exists()


@user_view
def recovery_codes(request: HttpRequest) -> HttpResponse:
    if not _has_codes(request):
        return redirect("mfa_index")  # made with the first factor
    return codes_views.view_recovery_codes(request)


@user_view
def generate_recovery_codes(request: HttpRequest) -> HttpResponse:
    return _posted(codes_views.generate_recovery_codes)(request)


@user_view
def download_recovery_codes(request: HttpRequest) -> HttpResponse:
    if not _has_codes(request):
        return redirect("mfa_index")
    return codes_views.download_recovery_codes(request)


@user_view
def add_passkey(request: HttpRequest) -> HttpResponse:
    return _posted(webauthn_views.add_webauthn)(request)


@user_view
def passkeys(request: HttpRequest) -> HttpResponse:
    return redirect("mfa_index")  # the Settings page lists them


@user_view
@require_POST
def remove_passkey(request: HttpRequest) -> HttpResponse:
    """POST id=<authenticator>: one of the person's own passkeys (anyone else's is a 404)."""
    raw = request.POST.get("id", "")
    if not raw.isdigit():
        return HttpResponseBadRequest("Which passkey? The form sent none.")
    pk = int(raw)
    authenticator = Authenticator.objects.filter(
        pk=pk, user_id=request.user.pk, type=Authenticator.Type.WEBAUTHN
    ).first()
    if authenticator is None:
        raise Http404("No such passkey")
    if (refusal := mfa.removal_refusal(authenticator)) is not None:
        messages.error(request, refusal)
        return redirect("mfa_index")
    # Asks for the password again when the last check is old (allauth's middleware answers
    # ReauthenticationRequired with the re-authentication page, then replays this POST).
    webauthn_flows.remove_authenticator(request, authenticator)
    return redirect("mfa_index")
