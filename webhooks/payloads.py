"""The ``data`` of each event: the award object of ``GET /api/awards/{AwardId}`` (shared/API.md)
and a badge object. Built for many objects at once in a constant number of queries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone

from badges import links
from badges.models import Award, Badge
from users.models import Member


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def award_status(award: Award, now: datetime | None = None) -> str:
    return award.status  # badges' model decides (shared/API.md's Status)


def award_reason(award: Award) -> str | None:
    return award.reason


def award_objects(space_id: int, awards: Sequence[Award]) -> list[dict]:
    """One query (the recipients' external ids in this space); the awards come with their
    badge and recipient loaded, as the issuing service and the status changes have them."""
    external = dict(
        Member.objects.filter(space_id=space_id, user_id__in={a.recipient_id for a in awards})
        .exclude(external_id__isnull=True)
        .exclude(external_id="")
        .values_list("user_id", "external_id")
    )
    now = timezone.now()
    out = []
    for a in awards:
        user = a.recipient
        out.append(
            {
                "AwardId": str(a.public_id),
                "BadgeId": str(a.badge.public_id),
                "UserId": external.get(a.recipient_id) or user.email,
                "Email": a.recipient_email,
                "FirstName": user.first_name,
                "LastName": user.last_name,
                "IssuedOn": _iso(a.issued_at),
                "ExpiresOn": _iso(a.expires_at),
                "Status": award_status(a, now),
                "Reason": award_reason(a),
                "AssertionUrl": links.assertion_url(a),
                "CredentialUrl": links.credential_url(a),
                "CertificateUrl": links.certificate_url(a),
                "Evidence": [],
                "Results": [],
            }
        )
    return out


def badge_objects(badges: Sequence[Badge]) -> list[dict]:
    """The Reporting API's badge fields (``/api/badges``), without the award count."""
    return [
        {
            "Id": str(b.public_id),
            "Name": b.name,
            "State": b.state,
            "OrganisationId": str(b.organisation.public_id),
            "BadgeClassUrl": links.badgeclass_url(b),
        }
        for b in badges
    ]
