"""What the public verification page (and the backpack) says about an award.

``award_verification(award)`` checks the award the way an outside verifier would: its state
(valid / expired / revoked, and why) and the Ed25519 proof of its stored OB 3.0 credential
against the issuer's published key. ``page_context(award)`` adds what the page shows.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from uuid import UUID

import markdown
import nh3
from django.core.cache import cache
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from badges import links
from badges.models import Award, SigningKey
from badges.openbadges import publish
from badges.openbadges.keys import KeyUnreadable, public_key
from badges.openbadges.signing import verify_credential

MARKDOWN_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "code", "blockquote"}


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    message: str
    key_url: str = ""
    signed_at: str = ""


@dataclass(frozen=True)
class Verification:
    # valid | expired | suspended | revoked | unverified (live, but the proof does not check)
    state: str
    headline: str
    reason: str
    signature: SignatureCheck

    @property
    def is_valid(self) -> bool:
        return self.state == "valid" and self.signature.ok


def _key_for(verification_method: str, space_id: int) -> SigningKey | None:
    """The space's key that a proof names; only this space's published keys count."""
    try:
        key_id = UUID(verification_method.rstrip("/").rsplit("/", 1)[-1])
    except ValueError:
        return None
    key = SigningKey.objects.filter(space_id=space_id, public_id=key_id).first()
    if key is None or links.signing_key_url(key) != verification_method:
        return None
    return key


def signature_check(award: Award) -> SignatureCheck:
    """Verify the award's stored credential (signing it first if it never was). The result
    is cached per proof: re-canonicalising on every page view would cost ~10 ms each."""
    try:
        credential = publish.credential_for(award)
    except KeyUnreadable:
        return SignatureCheck(False, "The issuer's signing key cannot be read right now.")
    proofs = credential.get("proof") or []
    if not proofs:
        return SignatureCheck(False, "The credential carries no signature.")
    proof = proofs[0]
    digest = hashlib.sha256(str(proof.get("proofValue")).encode()).hexdigest()[:24]
    cache_key = f"ob:{publish.FORMAT}:verified:{award.public_id}:{digest}"
    cached = cache.get(cache_key)
    if cached is not None:
        return cached
    key = _key_for(str(proof.get("verificationMethod", "")), award.space_id)
    # The key must be the issuer's (its controller is the issuer's id), or one of the space's
    # keys from before keys were issuers'.
    if key is None or key.issuer_id not in (None, award.issuer_version.issuer_id):
        result = SignatureCheck(
            False, "The credential is signed with a key this issuer never published."
        )
    elif verify_credential(credential, public_key=public_key(key)):
        result = SignatureCheck(
            True,
            "The Open Badges 3.0 credential's signature (eddsa-rdfc-2022) is valid.",
            key_url=links.signing_key_url(key),
            signed_at=proof.get("created", ""),
        )
    else:
        result = SignatureCheck(
            False,
            "The signature does not match the credential: it was altered.",
            key_url=links.signing_key_url(key),
        )
    cache.set(cache_key, result, publish.DAY)
    return result


def _date(moment) -> str:
    return timezone.localtime(moment).strftime("%-d %B %Y")


def award_verification(award: Award) -> Verification:
    signature = signature_check(award)
    if award.is_revoked:
        reason = award.revocation_reason or "The issuer gave no reason."
        return Verification("revoked", f"Revoked on {_date(award.revoked_at)}", reason, signature)
    if award.is_suspended:
        return Verification(
            "suspended",
            f"Suspended since {_date(award.suspended_at)}",
            award.suspension_reason or "The issuer gave no reason.",
            signature,
        )
    if award.is_expired():
        return Verification(
            "expired",
            f"Expired on {_date(award.expires_at)}",
            "The badge was valid for a limited time, which has passed.",
            signature,
        )
    until = f"Valid until {_date(award.expires_at)}." if award.expires_at else "Does not expire."
    if not signature.ok:
        return Verification("unverified", "Could not be verified", signature.message, signature)
    return Verification("valid", "Valid", until, signature)


def render_markdown(text: str) -> SafeString:
    html = markdown.markdown(text or "", extensions=[], output_format="html")
    return mark_safe(  # noqa: S308 - sanitised by nh3 with a small allow-list just above
        nh3.clean(
            html, tags=MARKDOWN_TAGS, attributes={"a": {"href"}}, link_rel="nofollow noopener"
        )
    )


def page_context(award: Award) -> dict:
    """Everything the public verification page shows. Needs award.badge,
    award.issuer_version and award.recipient loaded."""
    snapshot = award.badge_snapshot
    issuer = award.issuer_version
    name = award.public_name()
    assertion = links.assertion_url(award)
    return {
        "award": award,
        "verification": award_verification(award),
        "badge": {
            "name": snapshot.get("name", ""),
            "description": snapshot.get("description", ""),
            "image": links.media_url(snapshot["image"]) if snapshot.get("image") else "",
            "criteria_url": snapshot.get("criteria_url", ""),
            "criteria_html": render_markdown(snapshot.get("criteria_text", "")),
            "attributes": snapshot.get("attributes") or [],
            "organisation": snapshot.get("organisation", ""),
        },
        "issuer": {
            "name": issuer.name,
            "website": issuer.website,
            "email": issuer.email,
            "description": issuer.description,
            "logo": links.media_url(issuer.logo.name) if issuer.logo else "",
            "url": links.issuer_url(issuer),
        },
        "recipient_name": name,
        "links": {
            "assertion": assertion,
            "assertion_json": links.as_json(assertion),
            "credential": links.download(links.credential_url(award)),
            "credential_view": links.credential_url(award),
            "image": links.download(links.baked_image_url(award)),
            "credential_image": links.download(links.credential_image_url(award)),
            "credential_svg": links.download(links.credential_svg_url(award)),
            "certificate": links.download(links.certificate_url(award)),
            "certificate_letter": links.certificate_url(award) + "?size=letter&download=1",
        },
    }
