"""The Awards API (shared/API.md → Awards): read one award, revoke, suspend, reinstate.

An award is addressed by its AwardId and reached through ``badges.access.award_for`` with the
key's access (``api.access.key_access``): unknown, another space's and outside the key's
organisation all answer 404 (the contract says so for awards). The changes are the same
services the browser calls (``badges.awards``), which re-check the key's permission, flip the
status list bit, write the audit entry and email the recipient.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from api.access import key_access
from api.http import ApiError, api
from api.models import ApiKey
from api.schemas import AwardOut, ErrorOut, ReasonIn
from badgeplatform.permissions import Perm
from badges import links
from badges.access import SEE_AWARDS, award_for
from badges.awards import (
    InvalidReason,
    TransitionRefused,
    award_reinstate,
    award_revoke,
    award_suspend,
)
from badges.models import Award
from users.models import Member

AWARD_ERRORS = {code: ErrorOut for code in (400, 401, 404, 409, 429)}


def award_object(award: Award, user_id: str | None = None) -> dict[str, Any]:
    """The award as GET /api/awards/{AwardId} answers it (and webhooks carry it). Needs
    award.recipient loaded; ``user_id`` (the recipient's external id in the space, else their
    email) is looked up when not given (one query)."""
    if user_id is None:
        user_id = (
            Member.objects.filter(space_id=award.space_id, user_id=award.recipient_id)
            .values_list("external_id", flat=True)
            .first()
        ) or award.recipient_email
    return {
        "AwardId": award.public_id,
        "BadgeId": award.badge.public_id,
        "UserId": user_id,
        "Email": award.recipient_email,
        "FirstName": award.recipient.first_name,
        "LastName": award.recipient.last_name,
        "IssuedOn": award.issued_at,
        "ExpiresOn": award.expires_at,
        "Status": award.status,
        "Reason": award.reason,
        "AssertionUrl": links.assertion_url(award),
        "CredentialUrl": links.credential_url(award),
        "CertificateUrl": links.certificate_url(award),
        "Evidence": _evidence(award),
        "Results": _results(award),
    }


def _evidence(award: Award) -> list[dict]:
    return [
        {"Narrative": e.get("narrative", ""), "Url": e.get("url", ""), "Name": e.get("name", "")}
        for e in (getattr(award, "evidence", None) or [])
    ]


def _results(award: Award) -> list[dict]:
    return [
        {"Description": r.get("description", ""), "Value": r.get("value", "")}
        for r in (getattr(award, "results", None) or [])
    ]


def _award(request: HttpRequest, award_id: str, need=SEE_AWARDS) -> Award:
    key: ApiKey = request.api_key
    return award_for(key_access(key), award_id, need=need)


def _changed(request: HttpRequest, change) -> dict[str, Any]:
    try:
        award = change()
    except InvalidReason as exc:
        raise ApiError(400, str(exc)) from None
    except TransitionRefused as exc:
        raise ApiError(409, str(exc)) from None
    return award_object(award)


@api.get(
    "/awards/{AwardId}",
    response={200: AwardOut, **AWARD_ERRORS},
    tags=["Awards"],
    summary="One award and its status",
    operation_id="getAward",
)
def award_get(request: HttpRequest, AwardId: str) -> dict:  # noqa: N803 - the contract's name
    """The award, with its `Status` (`active`, `expired`, `suspended`, `revoked`, `declined`)
    and, when revoked or suspended, the `Reason`. Unknown or outside the key's scope: 404."""
    return award_object(_award(request, AwardId))


@api.post(
    "/awards/{AwardId}/revoke",
    response={200: AwardOut, **AWARD_ERRORS},
    tags=["Awards"],
    summary="Revoke an award (final)",
    operation_id="revokeAward",
)
def award_revoke_op(request: HttpRequest, AwardId: str, body: ReasonIn) -> dict:  # noqa: N803
    """Revoke an active or suspended award, with a `Reason` of 1–500 characters (400
    otherwise). Final: anything but an active or suspended award is a 409. The OB 3.0
    credential's status list bit is set and the hosted OB 2.0 assertion answers revoked."""
    award = _award(request, AwardId, need=Perm.REVOKE_AWARDS)
    return _changed(
        request,
        lambda: award_revoke(
            access=key_access(request.api_key), award=award, actor=None, reason=body.Reason
        ),
    )


@api.post(
    "/awards/{AwardId}/suspend",
    response={200: AwardOut, **AWARD_ERRORS},
    tags=["Awards"],
    summary="Suspend an award (reversible)",
    operation_id="suspendAward",
)
def award_suspend_op(request: HttpRequest, AwardId: str, body: ReasonIn) -> dict:  # noqa: N803
    """Suspend an active award, with a `Reason` of 1–500 characters (400 otherwise); 409
    unless it is active. Meanwhile the hosted OB 2.0 assertion answers revoked with
    `revocationReason` "Suspended: …"."""
    award = _award(request, AwardId, need=Perm.REVOKE_AWARDS)
    return _changed(
        request,
        lambda: award_suspend(
            access=key_access(request.api_key), award=award, actor=None, reason=body.Reason
        ),
    )


@api.post(
    "/awards/{AwardId}/reinstate",
    response={200: AwardOut, **AWARD_ERRORS},
    tags=["Awards"],
    summary="End an award's suspension",
    operation_id="reinstateAward",
)
def award_reinstate_op(request: HttpRequest, AwardId: str) -> dict:  # noqa: N803
    """End a suspension (409 unless suspended): the award is active again (or expired, if its
    time passed meanwhile) and `Reason` is cleared."""
    award = _award(request, AwardId, need=Perm.REVOKE_AWARDS)
    return _changed(
        request,
        lambda: award_reinstate(access=key_access(request.api_key), award=award, actor=None),
    )
