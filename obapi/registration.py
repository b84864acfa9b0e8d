"""OAuth 2.0 Dynamic Client Registration (RFC 7591) with the request fields 1EdTech's security
framework requires of an Open Badges 3.0 client.

Open registration: anyone may register a client (the recipient decides on the consent page
whether it gets anything). Registration is rate limited per address. The client is
confidential (``client_secret_basic`` is the only method the framework allows) and must
still use PKCE with S256; its secret is shown once, in the response, and stored hashed.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import Application

from obapi import scopes
from obapi.models import ClientRegistration

URL_FIELDS = ("client_uri", "logo_uri", "tos_uri", "policy_uri")
TEXT_FIELDS = {"client_name": 200, "software_id": 200, "software_version": 100}
MAX_REDIRECT_URIS = 10
MAX_URL = 500


class RegistrationRefused(Exception):
    """RFC 7591 §3.2.2: ``error`` is invalid_redirect_uri or invalid_client_metadata."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True)
class Registered:
    application: Application
    registration: ClientRegistration
    client_secret: str  # plaintext: only in this response, stored hashed


def _https_url(value, field: str, *, allow_http: bool) -> str:
    if not isinstance(value, str) or not value.strip():
        raise RegistrationRefused("invalid_client_metadata", f"{field} is required (a URL).")
    value = value.strip()
    parts = urlsplit(value)
    schemes = {"https", "http"} if allow_http else {"https"}
    if parts.scheme not in schemes or not parts.netloc or len(value) > MAX_URL:
        raise RegistrationRefused(
            "invalid_client_metadata",
            f"{field} must be an absolute https URL of at most {MAX_URL} characters.",
        )
    return value


def _redirect_uris(value) -> list[str]:
    if not isinstance(value, list) or not value:
        raise RegistrationRefused(
            "invalid_redirect_uri", "redirect_uris is required: an array of at least one URL."
        )
    if len(value) > MAX_REDIRECT_URIS:
        raise RegistrationRefused(
            "invalid_redirect_uri", f"At most {MAX_REDIRECT_URIS} redirect_uris."
        )
    allowed = settings.OAUTH2_PROVIDER.get("ALLOWED_REDIRECT_URI_SCHEMES", ["https"])
    uris = []
    for uri in value:
        parts = urlsplit(uri) if isinstance(uri, str) else None
        if (
            parts is None
            or parts.scheme not in allowed
            or not parts.netloc
            or parts.fragment
            or " " in uri
            or len(uri) > MAX_URL
        ):
            raise RegistrationRefused(
                "invalid_redirect_uri",
                f"Each redirect URI must be an absolute {' or '.join(allowed)} URL without a "
                f"fragment: {uri!r} is not.",
            )
        uris.append(uri)
    return uris


def _scopes(value) -> list[str]:
    if value is None or value == "":
        return list(scopes.SPEC_SCOPES)
    if not isinstance(value, str):
        raise RegistrationRefused("invalid_client_metadata", "scope must be a string.")
    asked = value.split()
    unknown = [s for s in asked if s not in scopes.KNOWN]
    if unknown:
        raise RegistrationRefused(
            "invalid_client_metadata",
            f"Unknown scope {unknown[0]!r}: this service offers {' '.join(scopes.KNOWN)}.",
        )
    return [s for s in scopes.KNOWN if s in asked]


def _only(data: dict, field: str, allowed: set[str], default: list[str]) -> list[str]:
    value = data.get(field, default)
    if not isinstance(value, list) or not value or not set(value) <= allowed:
        raise RegistrationRefused(
            "invalid_client_metadata",
            f"{field} may hold only {', '.join(sorted(allowed))}.",
        )
    return value


def client_register(data: dict) -> Registered:
    """Validate ``data`` (the JSON request) and create the client; raises RegistrationRefused."""
    if not isinstance(data, dict):
        raise RegistrationRefused("invalid_client_metadata", "Send a JSON object.")
    allow_http = settings.DEBUG
    text = {}
    for field, limit in TEXT_FIELDS.items():
        value = data.get(field)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise RegistrationRefused(
                "invalid_client_metadata",
                f"{field} is required (text of at most {limit} characters).",
            )
        text[field] = value.strip()
    urls = {f: _https_url(data.get(f), f, allow_http=allow_http) for f in URL_FIELDS}
    redirect_uris = _redirect_uris(data.get("redirect_uris"))
    granted = _scopes(data.get("scope"))
    method = data.get("token_endpoint_auth_method", "client_secret_basic")
    if method != "client_secret_basic":
        raise RegistrationRefused(
            "invalid_client_metadata", "token_endpoint_auth_method must be client_secret_basic."
        )
    grant_types = _only(
        data, "grant_types", {"authorization_code", "refresh_token"}, ["authorization_code"]
    )
    if "authorization_code" not in grant_types:
        raise RegistrationRefused(
            "invalid_client_metadata", "grant_types must include authorization_code."
        )
    _only(data, "response_types", {"code"}, ["code"])
    contacts = data.get("contacts", [])
    if not isinstance(contacts, list) or not all(
        isinstance(c, str) and len(c) <= 254 for c in contacts[:10]
    ):
        raise RegistrationRefused("invalid_client_metadata", "contacts must be an array of text.")

    secret = generate_client_secret()
    application = Application(
        name=text["client_name"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(redirect_uris),
        client_secret=secret,
        hash_client_secret=True,
        skip_authorization=False,
    )
    try:
        application.clean()
    except ValidationError as exc:
        raise RegistrationRefused("invalid_redirect_uri", " ".join(exc.messages)) from exc
    with transaction.atomic():
        application.save()
        registration = ClientRegistration.objects.create(
            application=application,
            software_id=text["software_id"],
            software_version=text["software_version"],
            scope=" ".join(granted),
            contacts=contacts[:10],
            **urls,
        )
    return Registered(application, registration, secret)


def registration_response(registered: Registered) -> dict:
    """RFC 7591 §3.2.1: everything registered, with the credentials and their times."""
    app, reg = registered.application, registered.registration
    return {
        "client_id": app.client_id,
        "client_secret": registered.client_secret,
        "client_id_issued_at": int(reg.registered_at.timestamp()),
        "client_secret_expires_at": 0,
        "client_name": app.name,
        "client_uri": reg.client_uri,
        "logo_uri": reg.logo_uri,
        "tos_uri": reg.tos_uri,
        "policy_uri": reg.policy_uri,
        "software_id": reg.software_id,
        "software_version": reg.software_version,
        "redirect_uris": app.redirect_uris.split(),
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": reg.scope,
        "contacts": reg.contacts,
    }
