"""Open Badges 3.0: the OpenBadgeCredential (AchievementCredential) of an award, unsigned.

The credential embeds the award's snapshot of the badge (the achievement) and the issuer
profile version current at issue time, so it stands on its own once signed; ``issuer.id`` is
the issuer's stable id (whose profile lists the signing keys), other ids point at the same
stable public URLs as the OB 2.0 documents. ``badges.openbadges.publish`` signs it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from badges import links
from badges.openbadges import status
from badges.openbadges.ob2 import identity_hash, iso

if TYPE_CHECKING:
    from badges.models import Award, BadgeClassVersion, SigningKey, StatusListEntry
    from issuers.models import Issuer, IssuerVersion

VC_V2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB3_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB3_EXTENSIONS_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
SCHEMA_ORG = "https://schema.org/"
DID_V1_CONTEXT = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1"
# The issuer profile at the issuer's id is also the controller document of its keys. The DID
# context comes first and defines verificationMethod/assertionMethod: verifiers built on
# jsonld-signatures (the DCC's) then read the document as is instead of framing it.
PROFILE_CONTEXT = [DID_V1_CONTEXT, VC_V2_CONTEXT, OB3_CONTEXT, MULTIKEY_CONTEXT]


def issuer_profile(version: IssuerVersion) -> dict:
    """The profile snapshot a credential embeds: the version current at award time, under the
    issuer's stable id (the controller of the key that signs). Needs version.issuer loaded."""
    profile = {
        "id": links.issuer_id_url(version.issuer),
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


def multikey(key: SigningKey, controller: str) -> dict:
    """A signing key as a Multikey verification method. A retired key is published unchanged:
    it no longer signs, but every proof it made stays valid (no "revoked"/"expires", which
    would tell verifiers otherwise)."""
    return {
        "id": links.signing_key_url(key),
        "type": "Multikey",
        "controller": controller,
        "publicKeyMultibase": key.public_key_multibase,
    }


def issuer_profile_document(issuer: Issuer, keys: list[SigningKey]) -> dict:
    """What the issuer's stable id answers: its current profile (OB 3.0 Profile) and every
    key it ever signed with (oldest first), each an assertion method. Needs issuer.current."""
    version = issuer.current
    version.issuer = issuer
    issuer_id = links.issuer_id_url(issuer)
    return {
        "@context": PROFILE_CONTEXT,
        **issuer_profile(version),
        "verificationMethod": [multikey(key, issuer_id) for key in keys],
        "assertionMethod": [links.signing_key_url(key) for key in keys],
    }


def achievement_document(snapshot: dict, *, achievement_id: str) -> dict:
    """An OB 3.0 Achievement from a badge snapshot (as awards keep it, or ``Badge.snapshot()``
    for the badge as it is now). ``achievement_id`` is the badge's stable id; the snapshot's
    revision is its ``version``. Fields an older snapshot lacks are left out."""
    criteria: dict = {}
    if snapshot.get("criteria_url"):
        criteria["id"] = snapshot["criteria_url"]
    if (snapshot.get("criteria_text") or "").strip():
        criteria["narrative"] = snapshot["criteria_text"]
    doc = {
        "id": achievement_id,
        "type": ["Achievement"],
        "achievementType": snapshot.get("achievement_type") or "Badge",
        "name": snapshot.get("name", ""),
        "description": snapshot.get("description", ""),
        "criteria": criteria,
    }
    if snapshot.get("revision"):
        doc["version"] = str(snapshot["revision"])
    if snapshot.get("image"):
        doc["image"] = {"id": links.media_url(snapshot["image"]), "type": "Image"}
    if snapshot.get("language"):
        doc["inLanguage"] = snapshot["language"]
    if snapshot.get("alignments"):
        doc["alignment"] = [alignment(a) for a in snapshot["alignments"]]
    if snapshot.get("tags"):
        doc["tag"] = list(snapshot["tags"])
    if snapshot.get("credits_available") is not None:
        doc["creditsAvailable"] = snapshot["credits_available"]
    if snapshot.get("field_of_study"):
        doc["fieldOfStudy"] = snapshot["field_of_study"]
    if snapshot.get("human_code"):
        doc["humanCode"] = snapshot["human_code"]
    if snapshot.get("result_descriptions"):
        doc["resultDescription"] = [result_description(r) for r in snapshot["result_descriptions"]]
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


def alignment(stored: dict) -> dict:
    doc = {"type": ["Alignment"], "targetName": stored["name"], "targetUrl": stored["url"]}
    if stored.get("framework"):
        doc["targetFramework"] = stored["framework"]
    if stored.get("code"):
        doc["targetCode"] = stored["code"]
    return doc


def result_description(stored: dict) -> dict:
    doc = {
        "id": stored["id"],
        "type": ["ResultDescription"],
        "name": stored["name"],
        "resultType": stored.get("result_type") or "Result",
    }
    if stored.get("allowed_values"):
        doc["allowedValue"] = list(stored["allowed_values"])
    for key, term in (
        ("value_min", "valueMin"),
        ("value_max", "valueMax"),
        ("required_value", "requiredValue"),
    ):
        if stored.get(key):
            doc[term] = stored[key]
    return doc


def achievement(version: BadgeClassVersion) -> dict:
    """The achievement an award's credential embeds: its snapshot under the badge's stable
    id (the OB 2.0 BadgeClass of the same snapshot stays at its version URL)."""
    return achievement_document(
        version.snapshot, achievement_id=links.achievement_url(version.badge)
    )


def achievement_profile(snapshot: dict, badge_public_id: str) -> dict:
    """What the stable achievement id answers: the current Achievement as JSON-LD."""
    return {
        "@context": [VC_V2_CONTEXT, OB3_CONTEXT, OB3_EXTENSIONS_CONTEXT],
        **achievement_document(snapshot, achievement_id=links.achievement_url(badge_public_id)),
    }


def evidence(award: Award) -> list[dict]:
    out = []
    for item in award.evidence or []:
        doc: dict = {"type": ["Evidence"]}
        if item.get("url"):
            doc["id"] = item["url"]
        if item.get("narrative"):
            doc["narrative"] = item["narrative"]
        if item.get("name"):
            doc["name"] = item["name"]
        out.append(doc)
    return out


def results(award: Award, achievement_doc: dict) -> list[dict]:
    """``credentialSubject.result[]``: each Result points at the badge's ResultDescription of
    the same name, or at a new one added to ``achievement_doc`` (a urn:uuid derived from the
    award and the name, so a rebuild gives the same credential)."""
    by_name = {rd["name"]: rd["id"] for rd in achievement_doc.get("resultDescription", [])}
    out = []
    for item in award.results or []:
        name = item["description"]
        if name not in by_name:
            rd_id = f"urn:uuid:{uuid.uuid5(award.public_id, 'result:' + name)}"
            achievement_doc.setdefault("resultDescription", []).append(
                {"id": rd_id, "type": ["ResultDescription"], "name": name, "resultType": "Result"}
            )
            by_name[name] = rd_id
        out.append({"type": ["Result"], "resultDescription": by_name[name], "value": item["value"]})
    return out


def credential(award: Award, version: BadgeClassVersion, *, status_entry: StatusListEntry) -> dict:
    """The unsigned credential. Needs award.issuer_version (with its issuer) and version.badge
    loaded, and the award's place in its issuer's status list (``status.entry_for``)."""
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
    if award.results:
        subject = doc["credentialSubject"]
        subject["result"] = results(award, subject["achievement"])
    if award.evidence:
        doc["evidence"] = evidence(award)
    return doc
