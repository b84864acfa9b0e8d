"""upsertCredential: a credential from elsewhere added to a recipient's backpack, verified
before it is stored, and re-checked afterwards.

Verification is the public verifier's (``badges.openbadges.verify.verify_credential``: proof,
the key's holder against the issuer, status list, validity dates, the OB 3.0 schema), with its
SSRF-safe fetcher for keys and status lists. A credential any check *fails* is refused and
nothing is stored; one with warnings (e.g. a did:key, which anyone can make) is kept with the
warnings shown in the backpack.

Equality is the specification's: the issuer's id and the credential's id, per recipient. An
unknown one is created (201); a known one with a newer ``validFrom`` replaces it (200);
anything else changes nothing (304).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from oauth2_provider.models import Application

from badges.models import Award
from badges.openbadges.fetching import is_ours
from badges.openbadges.verify import FAIL, PASS, UnreadableInput, Verdict, verify_credential
from obapi.models import ImportedCredential
from users.models import User

MAX_BYTES = 512 * 1024
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$")
CREATED, UPDATED, UNCHANGED = 201, 200, 304
# The backpack re-reads a credential's status when its last check is older than this.
RECHECK_AFTER = timedelta(hours=24)


class Refused(Exception):
    """The credential is not stored; ``message`` says why, fit for the client's developer."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class Upserted:
    status: int  # 201 | 200 | 304
    item: ImportedCredential | None


def _b64url_json(part: str) -> dict:
    try:
        value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error) as exc:
        raise Refused("The compact JWS's payload is not JSON.") from exc
    if not isinstance(value, dict):
        raise Refused("The compact JWS's payload is not a JSON object.")
    return value


def read_body(body: bytes, content_type: str) -> dict | str:
    """The credential as sent: a JSON object (application/json) or a compact JWS
    (text/plain), as the specification's requestBody allows."""
    if len(body) > MAX_BYTES:
        raise Refused(f"The credential is larger than {MAX_BYTES // 1024} KB.", 413)
    try:
        text = body.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise Refused("The body is not UTF-8 text.") from exc
    media = content_type.split(";")[0].strip().lower()
    if media == "text/plain":
        if not _JWS.match(text):
            raise Refused("A text/plain body must be a credential in compact JWS format.")
        return text
    if media not in ("application/json", "application/ld+json", "application/vc+ld+json"):
        raise Refused(
            "Send the credential as application/json, or as text/plain in compact JWS format.",
            415,
        )
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise Refused("The body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise Refused("The body must be a JSON object (an AchievementCredential).")
    return data


def credential_of(payload: dict | str) -> dict:
    """The credential's own fields (from a JWS, its payload's ``vc`` or the payload)."""
    if isinstance(payload, dict):
        return payload
    claims = _b64url_json(payload.split(".")[1])
    credential = claims.get("vc") if isinstance(claims.get("vc"), dict) else claims
    credential = dict(credential)
    if "iss" in claims and not credential.get("issuer"):
        credential["issuer"] = claims["iss"]
    return credential


def _text(value, limit: int = 500) -> str:
    if isinstance(value, dict):  # a language map
        value = next((v for v in value.values() if isinstance(v, str)), "")
    return str(value or "")[:limit]


def _moment(value) -> datetime | None:
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _checks(verdict: Verdict) -> list[dict]:
    return [
        {"key": c.key, "title": c.title, "status": c.status, "message": c.message}
        for c in verdict.checks
    ]


def _refusal(verdict: Verdict) -> str:
    failed = [c for c in verdict.checks if c.status == FAIL]
    reasons = "; ".join(f"{c.title}: {c.message}" for c in failed)
    return f"The credential did not verify, so it was not stored. {reasons}"


def verify(payload: dict | str) -> Verdict:
    try:
        verdict = verify_credential(payload)
    except UnreadableInput as exc:
        raise Refused(str(exc)) from exc
    if verdict.kind != "Open Badges 3.0":
        raise Refused("Only Open Badges 3.0 credentials (AchievementCredential) are accepted.")
    return verdict


def credential_upsert(
    *, user: User, payload: dict | str, client: Application | None = None
) -> Upserted:
    """Verify and store (or replace) one credential in ``user``'s backpack; raises Refused."""
    credential = credential_of(payload)
    issuer = credential.get("issuer")
    issuer_id = _text(issuer.get("id") if isinstance(issuer, dict) else issuer)
    credential_id = _text(credential.get("id"))
    valid_from = _moment(credential.get("validFrom", credential.get("issuanceDate")))
    if not credential_id or not issuer_id:
        raise Refused("A credential needs an id and an issuer id (they identify it).")
    if valid_from is None:
        raise Refused("A credential needs validFrom, an ISO 8601 date-time.")
    if is_ours(credential_id):
        # One of our own awards: it is in its recipient's backpack already.
        if Award.objects.filter(recipient=user, public_id=_award_id(credential_id)).exists():
            return Upserted(UNCHANGED, None)
        raise Refused("This credential was issued here to someone else.", 403)
    existing = ImportedCredential.objects.filter(
        recipient=user, issuer_id=issuer_id, credential_id=credential_id
    ).first()
    if existing is not None and valid_from <= existing.valid_from:
        return Upserted(UNCHANGED, existing)
    verdict = verify(payload)
    if verdict.status == "invalid":
        raise Refused(_refusal(verdict))
    holder = verdict.check("key_holder")
    if holder is None or holder.status != PASS:
        # The verifier only warns about a key nothing ties to the issuer (a did:key that is not
        # the issuer's own id); a backpack must not keep badges in someone else's name.
        raise Refused(
            "The credential was not stored: nothing ties the key that signed it to its issuer "
            f"{issuer_id} (the key must be the issuer's, e.g. listed in its DID document). "
            + (holder.message if holder else "")
        )
    subject = credential.get("credentialSubject")
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    achievement = achievement if isinstance(achievement, dict) else {}
    fields = {
        "credential": payload if isinstance(payload, dict) else None,
        "compact_jws": payload if isinstance(payload, str) else "",
        "name": _text(credential.get("name") or achievement.get("name")) or "A badge",
        "issuer_name": verdict.issuer_name[:500],
        "description": _text(achievement.get("description") or credential.get("description"), 2000),
        "valid_from": valid_from,
        "valid_until": _moment(credential.get("validUntil", credential.get("expirationDate"))),
        "status": verdict.status,
        "checks": _checks(verdict),
        "checked_at": timezone.now(),
        "added_by": client,
        "added_by_name": client.name[:200] if client else "",
    }
    with transaction.atomic():
        row = (
            ImportedCredential.objects.select_for_update()
            .filter(recipient=user, issuer_id=issuer_id, credential_id=credential_id)
            .first()
        )
        if row is None:
            try:
                with transaction.atomic():
                    row = ImportedCredential.objects.create(
                        recipient=user, issuer_id=issuer_id, credential_id=credential_id, **fields
                    )
            except IntegrityError:  # the same credential, sent twice at once
                return Upserted(UNCHANGED, None)
            return Upserted(CREATED, row)
        if valid_from <= row.valid_from:
            return Upserted(UNCHANGED, row)
        for name, value in fields.items():
            setattr(row, name, value)
        row.save()
        return Upserted(UPDATED, row)


def _award_id(credential_id: str) -> str | None:
    tail = credential_id.rstrip("/").rsplit("/", 1)[-1]
    try:
        return str(uuid.UUID(tail))
    except ValueError:
        return None


def recheck(item: ImportedCredential) -> ImportedCredential:
    """Verify a stored credential again (its status list may say revoked now, or it expired)
    and keep what it says; one that fails now is kept and shown as no longer valid."""
    payload = item.compact_jws or item.credential
    try:
        verdict = verify_credential(payload)
    except UnreadableInput:
        return item
    item.status = verdict.status
    item.checks = _checks(verdict)
    item.checked_at = timezone.now()
    ImportedCredential.objects.filter(pk=item.pk).update(
        status=item.status, checks=item.checks, checked_at=item.checked_at
    )
    return item


def recheck_stale(limit: int = 200, older_than: timedelta = RECHECK_AFTER) -> int:
    """The periodic job: re-verify the credentials checked longest ago (at most ``limit``)."""
    cutoff = timezone.now() - older_than
    stale = list(
        ImportedCredential.objects.filter(checked_at__lt=cutoff).order_by("checked_at")[:limit]
    )
    for item in stale:
        recheck(item)
    return len(stale)
