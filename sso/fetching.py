"""Reading what an identity provider publishes: the OIDC discovery document, SAML metadata.

A space administrator types these URLs, so the server fetches them only from public addresses
(checked after DNS resolution), https only, small and quickly; ``SSO_ALLOW_PRIVATE_URLS``
(on with DEBUG, and in the tests, whose providers run on loopback) lifts the address check.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from urllib.parse import urlsplit

import requests
from django.conf import settings

MAX_BYTES = 1_000_000
TIMEOUT = 10


class FetchError(requests.RequestException):
    """The URL could not be read; the message says why, in words for the settings page. (A
    RequestException, so allauth's own fetches refused by ``guarded_session`` end as its
    authentication error page.)"""


def check_url(url: str) -> None:
    parts = urlsplit(url)
    allow_private = getattr(settings, "SSO_ALLOW_PRIVATE_URLS", False)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise FetchError("Use an https:// address.")
    if not parts.hostname:
        raise FetchError("That is not a complete address.")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise FetchError(f"{parts.hostname} could not be found.") from exc
    for info in infos:
        if not ipaddress.ip_address(info[4][0]).is_global:
            raise FetchError(f"{parts.hostname} is not a public address.")


def fetch(url: str, *, what: str) -> bytes:
    check_url(url)
    try:
        with requests.get(url, timeout=TIMEOUT, stream=True, allow_redirects=False) as resp:
            if resp.status_code != 200:
                raise FetchError(f"The {what} at {url} answered HTTP {resp.status_code}.")
            body = resp.raw.read(MAX_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise FetchError(f"The {what} at {url} could not be read ({type(exc).__name__}).") from exc
    if len(body) > MAX_BYTES:
        raise FetchError(f"The {what} at {url} is larger than {MAX_BYTES // 1000} kB.")
    return body


def discover_oidc(issuer_url: str) -> dict:
    """The issuer's discovery document (OpenID Connect Discovery 1.0 §4), checked."""
    issuer = issuer_url.rstrip("/")
    body = fetch(f"{issuer}/.well-known/openid-configuration", what="discovery document")
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise FetchError("The discovery document is not JSON.") from exc
    if not isinstance(doc, dict):
        raise FetchError("The discovery document is not a JSON object.")
    missing = [
        k
        for k in ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
        if not isinstance(doc.get(k), str)
    ]
    if missing:
        raise FetchError("The discovery document lacks " + ", ".join(missing) + ".")
    if doc["issuer"].rstrip("/") != issuer:
        raise FetchError(
            f"The discovery document names the issuer {doc['issuer']}, not {issuer_url}."
        )
    keep = (
        "issuer",
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "token_endpoint_auth_methods_supported",
    )
    return {k: doc[k] for k in keep if k in doc}


def parse_saml_metadata(xml: str | bytes) -> dict:
    """entity id, single sign-on URL (redirect binding) and signing certificate of the IdP."""
    from onelogin.saml2.idp_metadata_parser import OneLogin_Saml2_IdPMetadataParser

    try:
        parsed = OneLogin_Saml2_IdPMetadataParser.parse(xml)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the same answer to the admin
        raise FetchError("That is not SAML 2.0 IdP metadata (it could not be read).") from exc
    idp = parsed.get("idp") or {}
    entity_id = idp.get("entityId")
    sso_url = (idp.get("singleSignOnService") or {}).get("url")
    cert = idp.get("x509cert") or next(
        iter((idp.get("x509certMulti") or {}).get("signing") or []), None
    )
    if not entity_id or not sso_url:
        raise FetchError("The metadata names no IdP entity id or single sign-on service.")
    if not cert:
        raise FetchError(
            "The metadata has no signing certificate: assertions could not be checked."
        )
    return {"entity_id": entity_id, "sso_url": sso_url, "x509cert": cert}


def guarded_session(session: requests.Session) -> requests.Session:
    """allauth's HTTP client for a sign-in (discovery, keys, token, userinfo): the same address
    rule as when the provider was saved, checked on each request, and no redirects followed."""
    send = session.request

    def request(method, url, *args, **kwargs):
        check_url(url)
        kwargs["allow_redirects"] = False
        return send(method, url, *args, **kwargs)

    session.request = request
    return session
