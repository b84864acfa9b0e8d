"""Attribute mapping: what an identity provider says about a person, in our terms.

Each provider names the claim (OIDC) or attribute (SAML) that carries the email, whether it is
verified, the first and last name and the external id (the member's id the Events API matches
on). Blank names fall back to the standard ones below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sso.models import IdentityProvider

OIDC_DEFAULTS = {
    "email": "email",
    "email_verified": "email_verified",
    "first_name": "given_name",
    "last_name": "family_name",
    "external_id": "",
}
SAML_DEFAULTS = {
    "email": "urn:oid:0.9.2342.19200300.100.1.3",  # mail
    "email_verified": "",
    "first_name": "urn:oid:2.5.4.42",  # givenName
    "last_name": "urn:oid:2.5.4.4",  # sn
    "external_id": "",
}
FIELDS = ("email", "email_verified", "first_name", "last_name", "external_id")
TRUE_WORDS = {"true", "1", "t", "y", "yes"}


@dataclass(frozen=True)
class Identity:
    """One sign-in's person, as the provider asserted it."""

    uid: str
    email: str
    email_verified: bool
    first_name: str = ""
    last_name: str = ""
    external_id: str | None = None


def names(idp: IdentityProvider) -> dict[str, str]:
    """The claim or attribute read for each field (the provider's own, else the default)."""
    defaults = OIDC_DEFAULTS if idp.kind == idp.OIDC else SAML_DEFAULTS
    return {f: (getattr(idp, f"attr_{f}") or "").strip() or defaults[f] for f in FIELDS}


def _first(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _text(value: Any, limit: int) -> str:
    value = _first(value)
    return str(value).strip()[:limit] if value is not None else ""


def _verified(value: Any) -> bool:
    value = _first(value)
    if isinstance(value, bool):
        return value
    return isinstance(value, str) and value.strip().lower() in TRUE_WORDS


def claims_of(idp: IdentityProvider, extra_data: dict) -> dict:
    """OIDC: the ID token's claims overlaid by the userinfo answer; SAML: the attributes."""
    if idp.kind == idp.OIDC:
        return {**(extra_data.get("id_token") or {}), **(extra_data.get("userinfo") or {})}
    return dict(extra_data or {})


def identity_from(idp: IdentityProvider, *, uid: str, claims: dict) -> Identity:
    """What the provider asserted. An email is taken as verified only when the provider says so
    (OIDC ``email_verified: true``, or the SAML attribute named for it) — or, for a provider
    that does not say, when its administrator declared that it verifies every address."""
    n = names(idp)
    email = _text(claims.get(n["email"]), 254)
    if n["email_verified"] and n["email_verified"] in claims:
        verified = _verified(claims[n["email_verified"]])
    else:
        verified = idp.emails_verified_by_idp
    external_id = _text(claims.get(n["external_id"]), 200) if n["external_id"] else ""
    return Identity(
        uid=uid,
        email=email,
        email_verified=bool(email) and verified,
        first_name=_text(claims.get(n["first_name"]), 150),
        last_name=_text(claims.get(n["last_name"]), 150),
        external_id=external_id or None,
    )
