"""A wallet, played by the tests: registration, PKCE, the token endpoint, the API."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.test import Client

READ = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.readonly"
UPSERT = "https://purl.imsglobal.org/spec/ob/v3p0/scope/credential.upsert"
PROFILE_READ = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.readonly"
PROFILE_UPDATE = "https://purl.imsglobal.org/spec/ob/v3p0/scope/profile.update"
ALL = f"{READ} {UPSERT} {PROFILE_READ} {PROFILE_UPDATE} offline_access"
REDIRECT = "https://wallet.example/callback"


def registration_request(**changes) -> dict:
    request = {
        "client_name": "Example Wallet",
        "client_uri": "https://wallet.example/",
        "logo_uri": "https://wallet.example/logo.png",
        "tos_uri": "https://wallet.example/terms",
        "policy_uri": "https://wallet.example/privacy",
        "software_id": "c88b6ed8-269e-448e-99be-7e2ff47167d1",
        "software_version": "v4.0.30319",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": ALL,
    }
    request.update(changes)
    return {k: v for k, v in request.items() if v is not None}


def pkce_pair() -> tuple[str, str]:
    verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    return verifier, challenge


@dataclass
class Registered:
    client_id: str
    client_secret: str

    @property
    def basic(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()


def register(client: Client, **changes) -> Registered:
    response = client.post(
        "/oauth/register", registration_request(**changes), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    return Registered(body["client_id"], body["client_secret"])


def authorize_query(reg: Registered, challenge: str, *, scope: str = ALL, **extra) -> str:
    params = {
        "response_type": "code",
        "client_id": reg.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return "/oauth/authorize?" + urlencode({k: v for k, v in params.items() if v is not None})


def consent(client: Client, reg: Registered, challenge: str, *, scope: str = ALL) -> str:
    """The signed-in recipient allows the wallet; returns the authorization code."""
    page = client.get(authorize_query(reg, challenge, scope=scope))
    assert page.status_code == 200, page.content
    form = page.context["form"]
    data = {name: form.initial.get(name) or "" for name in form.fields}
    data["allow"] = "on"
    answer = client.post("/oauth/authorize", data)
    assert answer.status_code == 302, answer.content
    location = answer["Location"]
    assert location.startswith(REDIRECT), location
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["st-123"]
    assert query["iss"] == [settings.SITE_URL]  # RFC 9207, as the metadata's issuer
    return query["code"][0]


def exchange(client: Client, reg: Registered, code: str, verifier: str):
    return client.post(
        "/oauth/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        HTTP_AUTHORIZATION=reg.basic,
    )


def connect(client: Client, reg: Registered, *, scope: str = ALL) -> dict:
    """Authorization code + PKCE through the consent page (a signed-in client): the tokens."""
    verifier, challenge = pkce_pair()
    code = consent(client, reg, challenge, scope=scope)
    response = exchange(Client(), reg, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
