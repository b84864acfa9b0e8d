"""Open Badges 3.0: the OpenBadgeCredential (AchievementCredential) of an award, unsigned.

The credential embeds the award's snapshot of the badge (the achievement) and the issuer
profile version current at issue time, so it stands on its own once signed; ids point at the
same stable public URLs as the OB 2.0 documents. ``badges.openbadges.publish`` signs it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from badges import links
from badges.openbadges import status
from badges.openbadges.ob2 import identity_hash, iso

if TYPE_CHECKING:
    from badges.models import Award, BadgeClassVersion, StatusListEntry
    from issuers.models import IssuerVersion

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB3_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
SCHEMA_ORG = "https://schema.org/"


def issuer_profile(version: IssuerVersion) -> dict:
    profile = {
        "id": links.issuer_url(version),
        "type": ["Profile"],
        "name": version.name,
        "url": version.website,
        "email": version.email,
    }
    if version.description:
        profile["description"] = version.description
    if version.logo:
        profile["image"] = {"id": links.media_url(version.logo.name), "type": "Image"}
    return profile


def achievement(version: BadgeClassVersion) -> dict:
    snapshot = version.snapshot
    criteria: dict = {}
    if snapshot.get("criteria_url"):
        criteria["id"] = snapshot["criteria_url"]
    if (snapshot.get("criteria_text") or "").strip():
        criteria["narrative"] = snapshot["criteria_text"]
    doc = {
        # The BadgeClass version URL: dereferencing it gives this very badge (OB 2.0 form).
        "id": links.badgeclass_version_url(version),
        "type": ["Achievement"],
        "achievementType": "Badge",
        "name": snapshot.get("name", ""),
        "description": snapshot.get("description", ""),
        "criteria": criteria,
    }
    if snapshot.get("image"):
        doc["image"] = {"id": links.media_url(snapshot["image"]), "type": "Image"}
    if snapshot.get("language"):
        doc["inLanguage"] = snapshot["language"]
    if snapshot.get("attributes"):
        # Custom key/values as schema.org PropertyValues (full IRIs: the OB 3.0 context is
        # protected and has no schema.org prefix).
        doc[SCHEMA_ORG + "additionalProperty"] = [
            {
                "type": SCHEMA_ORG + "PropertyValue",
                SCHEMA_ORG + "name": a["key"],
                SCHEMA_ORG + "value": a["value"],
            }
            for a in snapshot["attributes"]
        ]
    return doc


def credential(award: Award, version: BadgeClassVersion, *, status_entry: StatusListEntry) -> dict:
    """The unsigned credential. Needs award.issuer_version and version.badge loaded, and the
    award's place in its issuer's status list (``status.entry_for``)."""
    doc = {
        "@context": [VC_V2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT],
        "id": links.credential_url(award),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": award.badge_snapshot.get("name", ""),
        "issuer": issuer_profile(award.issuer_version),
        "validFrom": iso(award.issued_at),
        "awardedDate": iso(award.issued_at),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(award.recipient_email, award.identity_salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": award.identity_salt,
                }
            ],
            "activityEndDate": iso(award.achieved_at),
            "achievement": achievement(version),
        },
        # One W3C Bitstring Status List entry (the OB 3.0 schema allows a single object).
        "credentialStatus": status.credential_status(status_entry),
    }
    if award.expires_at:
        doc["validUntil"] = iso(award.expires_at)
    return doc
