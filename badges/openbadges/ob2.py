"""Open Badges 2.0 hosted JSON-LD: Assertion, BadgeClass and Issuer Profile of an award.

Pure builders: they read the objects handed to them and query nothing, so the public views
decide (and tests pin) the queries. Every id is a stable public URL from ``badges.links``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from badges import links

if TYPE_CHECKING:
    from badges.models import Award, Badge, BadgeClassVersion
    from issuers.models import IssuerVersion

OB2_CONTEXT = "https://w3id.org/openbadges/v2"


def iso(moment: datetime) -> str:
    """UTC, to the second, with ``Z``: what both OB 2.0 and the OB 3.0 schema accept."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def identity_hash(email: str, salt: str) -> str:
    """``sha256$`` + hex(sha256(email + salt)), the OB 2.0 IdentityHash. The address is
    lower-cased first: addresses are case-insensitive on this platform, so a verifier that
    types the address differently still matches."""
    return "sha256$" + hashlib.sha256((email.strip().lower() + salt).encode()).hexdigest()


def snapshot_digest(snapshot: dict, issuer_version: IssuerVersion) -> str:
    """The content address of a BadgeClass version: equal snapshots (and issuer profile
    version) give the same hosted BadgeClass."""
    material = json.dumps(
        {"badge": snapshot, "issuer": str(issuer_version.public_id)},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def _criteria(snapshot: dict) -> dict:
    criteria: dict = {}
    if snapshot.get("criteria_url"):
        criteria["id"] = snapshot["criteria_url"]
    if (snapshot.get("criteria_text") or "").strip():
        criteria["narrative"] = snapshot["criteria_text"]
    return criteria


def _attributes(snapshot: dict) -> list[dict]:
    # Custom key/values as schema.org PropertyValues, through the "schema" prefix that the
    # OB 2.0 context already defines (no extra context for a validator to fetch).
    return [
        {"type": "schema:PropertyValue", "schema:name": a["key"], "schema:value": a["value"]}
        for a in snapshot.get("attributes") or []
    ]


def badgeclass_document(
    *, snapshot: dict, badge_id: str, issuer_id: str, language: str = ""
) -> dict:
    doc = {
        "@context": OB2_CONTEXT,
        "type": "BadgeClass",
        "id": badge_id,
        "name": snapshot.get("name", ""),
        "description": snapshot.get("description", ""),
        "image": links.media_url(snapshot["image"]) if snapshot.get("image") else "",
        "criteria": _criteria(snapshot),
        "issuer": issuer_id,
    }
    if language:
        doc["@language"] = language
    attributes = _attributes(snapshot)
    if attributes:
        doc["schema:additionalProperty"] = attributes
    # OB 2.0's equivalents of the OB 3.0 fields: AlignmentObjects and tags.
    if snapshot.get("alignments"):
        doc["alignment"] = [_alignment(a) for a in snapshot["alignments"]]
    if snapshot.get("tags"):
        doc["tags"] = list(snapshot["tags"])
    return doc


def _alignment(alignment: dict) -> dict:
    doc = {"targetName": alignment["name"], "targetUrl": alignment["url"]}
    if alignment.get("framework"):
        doc["targetFramework"] = alignment["framework"]
    if alignment.get("code"):
        doc["targetCode"] = alignment["code"]
    return doc


def evidence(award: Award) -> list[dict]:
    """The award's evidence as OB 2.0 Evidence objects (``id`` is the evidence URL)."""
    out = []
    for item in award.evidence or []:
        doc: dict = {"type": "Evidence"}
        if item.get("url"):
            doc["id"] = item["url"]
        if item.get("narrative"):
            doc["narrative"] = item["narrative"]
        if item.get("name"):
            doc["name"] = item["name"]
        out.append(doc)
    return out


def badgeclass_version(version: BadgeClassVersion) -> dict:
    """The BadgeClass as awards of this version carry it. Needs version.badge and
    version.issuer_version loaded."""
    return badgeclass_document(
        snapshot=version.snapshot,
        badge_id=links.badgeclass_version_url(version),
        issuer_id=links.issuer_url(version.issuer_version),
        language=version.snapshot.get("language", ""),
    )


def badgeclass_current(badge: Badge, snapshot: dict) -> dict:
    """The badge as it is now (``snapshot`` made from it by ``Badge.snapshot()``)."""
    return badgeclass_document(
        snapshot=snapshot,
        badge_id=links.badgeclass_url(badge),
        issuer_id=links.issuer_url(badge.issuer.current),
        language=badge.language,
    )


def issuer_profile(version: IssuerVersion) -> dict:
    doc = {
        "@context": OB2_CONTEXT,
        "type": "Issuer",
        "id": links.issuer_url(version),
        "name": version.name,
        "url": version.website,
        "email": version.email,
    }
    if version.description:
        doc["description"] = version.description
    if version.logo:
        doc["image"] = links.media_url(version.logo.name)
    return doc


def assertion(award: Award, version: BadgeClassVersion) -> dict:
    """The hosted Assertion of a live award (see ``revoked_assertion`` for a revoked one)."""
    doc = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": links.assertion_url(award),
        "recipient": {
            "type": "email",
            "hashed": True,
            "salt": award.identity_salt,
            "identity": identity_hash(award.recipient_email, award.identity_salt),
        },
        "badge": links.badgeclass_version_url(version),
        "issuedOn": iso(award.issued_at),
        "verification": {"type": "HostedBadge"},
        "image": links.baked_image_url(award),
    }
    if award.expires_at:
        doc["expires"] = iso(award.expires_at)
    if award.evidence:
        doc["evidence"] = evidence(award)
    return doc


def revoked_assertion(award: Award) -> dict:
    """What a revoked hosted assertion answers (with HTTP 410 Gone): OB 2.0 requires only
    ``id`` and ``revoked``; the reason is published when one was given. A suspended award
    answers the same, its reason as "Suspended: …" (OB 2.0 has no suspension; shared/API.md)."""
    doc = {
        "@context": OB2_CONTEXT,
        "type": "Assertion",
        "id": links.assertion_url(award),
        "revoked": True,
    }
    if award.is_revoked:
        if award.revocation_reason:
            doc["revocationReason"] = award.revocation_reason
    elif award.declined_at is not None:
        doc["revocationReason"] = "This award is not available."
    elif award.is_suspended:
        doc["revocationReason"] = f"Suspended: {award.suspension_reason}"
    return doc
