"""The service description (the specification's OpenAPI document, profiled with our URLs) and
RFC 8414 authorization server metadata.

The OpenAPI document is 1EdTech's own (obapi/spec/ob_v3p0_openapi.json, converted from the
YAML stored with its source and licence in tests/obapi/spec/): we change only what the
specification asks a host to fill in — the server URL, the service's name, terms, privacy
policy and image, and the OAuth 2.0 security scheme's registration, authorization, token,
refresh and revocation URLs.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.urls import reverse

from obapi import scopes

SPEC_FILE = Path(__file__).resolve().parent / "spec" / "ob_v3p0_openapi.json"


@lru_cache(maxsize=1)
def _spec() -> dict:
    return json.loads(SPEC_FILE.read_text(encoding="utf-8"))


def url(name: str) -> str:
    return f"{settings.SITE_URL}{reverse(name)}"


def endpoints() -> dict[str, str]:
    return {
        "issuer": settings.SITE_URL,
        "registration": url("oauth:register"),
        "authorization": url("oauth:authorize"),
        "token": url("oauth:token"),
        "revocation": url("oauth:revoke"),
        "api": url("obapi:discovery").rsplit("/", 1)[0],
    }


def service_description() -> dict:
    ends = endpoints()
    document = copy.deepcopy(_spec())
    document["servers"] = [{"url": ends["api"], "description": "Badge Platform"}]
    info = document["info"]
    info.update(
        {
            "title": "Badge Platform",
            "description": "The Open Badges 3.0 API of Badge Platform: your badges from every "
            "space, and badges from elsewhere added to your backpack.",
            "termsOfService": settings.TERMS_OF_SERVICE_URL,
            "x-imssf-privacyPolicyUrl": settings.PRIVACY_POLICY_URL,
            "x-imssf-image": f"{settings.SITE_URL}{settings.STATIC_URL}img/favicon.svg",
        }
    )
    document["components"]["securitySchemes"]["OAuth2ACG"] = {
        "type": "oauth2",
        "description": "OAuth 2.0 Authorization Code Grant with PKCE (S256)",
        "x-imssf-name": "Badge Platform",
        "x-imssf-registrationUrl": ends["registration"],
        "x-imssf-privacyPolicyUrl": settings.PRIVACY_POLICY_URL,
        "x-imssf-termsOfServiceUrl": settings.TERMS_OF_SERVICE_URL,
        # Not in the specification's scheme (it has no field for it): RFC 7009's endpoint,
        # also in the RFC 8414 metadata at /.well-known/oauth-authorization-server.
        "x-imssf-revocationUrl": ends["revocation"],
        "flows": {
            "authorizationCode": {
                "authorizationUrl": ends["authorization"],
                "tokenUrl": ends["token"],
                "refreshUrl": ends["token"],
                "scopes": dict(scopes.SPEC_DESCRIPTIONS),
            }
        },
    }
    return document


def authorization_server_metadata() -> dict:
    """RFC 8414 (what a generic OAuth client reads to find every endpoint)."""
    ends = endpoints()
    return {
        "issuer": ends["issuer"],
        "authorization_endpoint": ends["authorization"],
        "token_endpoint": ends["token"],
        "registration_endpoint": ends["registration"],
        "revocation_endpoint": ends["revocation"],
        "scopes_supported": list(scopes.KNOWN),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "service_documentation": url("obapi:discovery"),
    }
