"""The Open Badges 3.0 API (1EdTech) and its OAuth 2.0 endpoints; docs/ob3-api.md.

Every view declares its access: the discovery document, the authorization server metadata,
registration, token and revocation are public (the last two authenticate the client by its
own credentials); the consent page is ``user_view`` (the signed-in recipient decides);
the resources are ``token_view`` (a bearer token of one recipient, with the scope).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from oauth2_provider.views import AuthorizationView, RevokeTokenView, TokenView

from badgeplatform import ratelimit
from badgeplatform.access import public_view, user_view
from badges.models import Award
from obapi import (
    auth,
    connections,
    credentials,
    discovery,
    handoff,
    imports,
    profile,
    registration,
    scopes,
)
from obapi.models import ClientRegistration

REGISTRATIONS_PER_HOUR = 20


@public_view("The service description: how wallets find our endpoints (the spec's discovery)")
@require_GET
def service_description(request: HttpRequest) -> JsonResponse:
    return JsonResponse(discovery.service_description())


@public_view("RFC 8414 authorization server metadata: public by definition")
@require_GET
def authorization_server_metadata(request: HttpRequest) -> JsonResponse:
    return JsonResponse(discovery.authorization_server_metadata())


def _oauth_error(error: str, description: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"error": error, "error_description": description}, status=status)


@public_view("RFC 7591 dynamic client registration: open, rate limited per address")
@csrf_exempt
@require_POST
def register(request: HttpRequest) -> JsonResponse:
    window = 3600
    if ratelimit.hit(f"obapi-register:{ratelimit.client_ip(request)}", window) > (
        REGISTRATIONS_PER_HOUR
    ):
        response = _oauth_error(
            "invalid_client_metadata", "Too many registrations from this address.", 429
        )
        response["Retry-After"] = str(ratelimit.retry_after(window))
        return response
    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        return _oauth_error("invalid_client_metadata", "The body must be a JSON object.")
    try:
        registered = registration.client_register(data)
    except registration.RegistrationRefused as refused:
        return _oauth_error(refused.error, refused.description)
    response = JsonResponse(registration.registration_response(registered), status=201)
    response["Cache-Control"] = "no-store"
    return response


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme in ("https", "http") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


class ConsentView(AuthorizationView):
    """DOT's authorization endpoint with our consent page; PKCE must be S256 (the spec and
    RFC 9700): a request without it is refused on our page, never sent back to the client."""

    template_name = "obapi/authorize.html"

    def _pkce_refused(self, method: str | None) -> HttpResponse | None:
        if method == "S256":
            return None
        return self.render_to_response(
            {
                "error": {
                    "error": "invalid_request",
                    "description": "This app must prove it is the one that asked (PKCE with "
                    "code_challenge_method=S256). Ask its makers to update it.",
                }
            },
            status=400,
        )

    def get(self, request, *args, **kwargs):
        refused = self._pkce_refused(request.GET.get("code_challenge_method"))
        if refused is not None:
            return refused
        response = super().get(request, *args, **kwargs)
        application = self.oauth2_data.get("application")
        if application is not None and getattr(response, "status_code", 0) == 200:
            # The form posts here and we redirect to the client: Chromium applies form-action
            # to that redirect, so the client's redirect origin is allowed on this page only;
            # its logo is shown from its own origin.
            update = {}
            target = _origin(self.oauth2_data.get("redirect_uri", ""))
            if target:
                update["form-action"] = [target]
            registration_row = ClientRegistration.objects.filter(application=application).first()
            logo = _origin(registration_row.logo_uri) if registration_row else None
            if logo and logo.startswith("https://"):
                update["img-src"] = [logo]
            response._csp_update = update
        return response

    def post(self, request, *args, **kwargs):
        refused = self._pkce_refused(request.POST.get("code_challenge_method"))
        if refused is not None:
            return refused
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = kwargs.get("application")
        if application is not None:
            context["registration"] = ClientRegistration.objects.filter(
                application=application
            ).first()
            context["described_scopes"] = scopes.described(kwargs.get("scopes", []))
        return context


authorize = user_view(ConsentView.as_view())
token = public_view("The OAuth token endpoint: the client authenticates with its own secret")(
    TokenView.as_view()
)
revoke = public_view("RFC 7009 token revocation: the client authenticates with its own secret")(
    RevokeTokenView.as_view()
)


@user_view
@require_POST
def disconnect(request: HttpRequest) -> HttpResponse:
    """The recipient ends every grant they gave one app (their Settings page)."""
    from django.contrib import messages

    client_id = request.POST.get("client_id", "")
    if not client_id:
        return HttpResponse("Choose the app to disconnect.", status=400)
    if not connections.disconnect(user=request.user, client_id=client_id):
        messages.error(request, "That app was not connected (already disconnected?).")
    else:
        messages.success(request, "Disconnected: that app can no longer reach your badges.")
    return redirect("accounts:settings")


# ---- Resources ------------------------------------------------------------------------------


def _int_param(request: HttpRequest, name: str, default: int, minimum: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be a whole number.") from None
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}.")
    return value


def _since(request: HttpRequest) -> datetime | None:
    raw = request.GET.get("since")
    if not raw:
        return None
    moment = parse_datetime(raw)
    if moment is None:
        raise ValueError("since must be an ISO 8601 date-time, e.g. 2026-01-31T12:00:00Z.")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _link_header(request: HttpRequest, *, limit: int, offset: int, total: int) -> str:
    base = f"{settings.SITE_URL}{request.path}"
    keep = {k: v for k, v in request.GET.items() if k not in ("limit", "offset")}

    def link(rel: str, at: int) -> str:
        return f'<{base}?{urlencode({**keep, "limit": limit, "offset": at})}>; rel="{rel}"'

    last = max(((total - 1) // limit) * limit, 0)
    links = [link("first", 0)]
    if offset + limit < total:
        links.append(link("next", offset + limit))
    if offset > 0:
        links.append(link("prev", max(offset - limit, 0)))
    links.append(link("last", last))
    return ", ".join(links)


@auth.token_view(("GET", scopes.CREDENTIAL_READ), ("POST", scopes.CREDENTIAL_UPSERT))
def credentials_endpoint(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        return _upsert(request)
    try:
        limit = min(
            _int_param(request, "limit", credentials.DEFAULT_LIMIT, 1), credentials.MAX_LIMIT
        )
        offset = _int_param(request, "offset", 0, 0)
        since = _since(request)
    except ValueError as exc:
        return auth.error(400, str(exc), code_minor="invalid_query_parameter")
    page = credentials.credentials_page(request.user, limit=limit, offset=offset, since=since)
    body = {"credential": page.credential, "compactJwsString": page.compact_jws}
    response = JsonResponse(body)
    response["X-Total-Count"] = str(page.total)
    response["Link"] = _link_header(request, limit=limit, offset=offset, total=page.total)
    response["Cache-Control"] = "no-store"
    return response


def _upsert(request: HttpRequest) -> HttpResponse:
    """upsertCredential: 201 created, 200 replaced (a newer validFrom), 304 unchanged (with no
    body: HTTP forbids one on a 304); an invalid credential is a 400 and nothing is stored."""
    try:
        payload = imports.read_body(request.body, request.content_type or "")
        result = imports.credential_upsert(
            user=request.user, payload=payload, client=request.oauth_token.application
        )
    except imports.Refused as refused:
        return auth.error(refused.status, refused.message)
    if result.status == imports.UNCHANGED:
        response = HttpResponse(status=304)
    elif isinstance(payload, str):
        response = HttpResponse(payload, status=result.status, content_type="text/plain")
    else:
        response = JsonResponse(payload, status=result.status)
    response["Cache-Control"] = "no-store"
    return response


@auth.token_view(("GET", scopes.PROFILE_READ), ("PUT", scopes.PROFILE_UPDATE))
def profile_endpoint(request: HttpRequest) -> HttpResponse:
    """getProfile / putProfile: the recipient's name and email as an OB 3.0 Profile."""
    if request.method == "PUT":
        try:
            data = json.loads(request.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return auth.error(400, "The body must be a JSON Profile object.")
        try:
            profile.profile_update(user=request.user, data=data)
        except profile.ProfileRefused as refused:
            return auth.error(400, str(refused))
    response = JsonResponse(profile.profile_of(request.user))
    response["Cache-Control"] = "no-store"
    return response


# ---- "Add to wallet" (a VC-API exchange; obapi.handoff) --------------------------------------


@user_view
@require_POST
def wallet_offer(request: HttpRequest, award_id) -> HttpResponse:
    """The recipient asks to hand their award to a wallet: a fresh exchange, as a QR code."""
    from django.http import Http404
    from django.template.response import TemplateResponse

    award = Award.objects.filter(public_id=award_id, recipient=request.user).first()
    if award is None:
        raise Http404("No such award in your backpack")
    try:
        offer = handoff.offer_create(user=request.user, award=award)
    except handoff.OfferRefused as refused:
        return HttpResponse(str(refused), status=409)
    response = TemplateResponse(
        request,
        "obapi/offer.html",
        {"award": award, "offer": offer, "minutes": handoff.OFFER_MINUTES},
    )
    response["Cache-Control"] = "no-store"
    return response


@public_view("A VC-API exchange: its unguessable, short-lived URL is the capability")
@csrf_exempt
@require_POST
def wallet_exchange(request: HttpRequest, exchange_id: str) -> JsonResponse:
    body = handoff.exchange(exchange_id)
    if body is None:
        return JsonResponse(
            {"error": "This offer is unknown, expired or used up. Make a new one."}, status=404
        )
    response = JsonResponse(body)
    response["Cache-Control"] = "no-store"
    return response
