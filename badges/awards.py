"""Award services after issuing: revocation, suspension and reinstatement (by the space), and
the recipient's own answers: accept, decline (final) and the public toggle. Issuing itself is
``badges.issuing.awards_issue``.

The allowed changes are shared/API.md's (Awards): active → suspended, suspended → active,
active or suspended → revoked; anything else is ``TransitionRefused`` (the API's 409). The
browser (one award or many) and the API call the same three functions, and each change goes
through ``_status_changed``: the audit entry, the recipient's email, the public copies and the
webhook event (``award.revoked`` / ``award.suspended`` / ``award.reinstated``).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.audit import audit_log
from badgeplatform.mail import queue_bulk
from badgeplatform.models import OutboundEmail
from badgeplatform.permissions import Perm
from badgeplatform.webhook_events import webhooks_emit
from badges.models import Award
from badges.openbadges.publish import award_changed
from badges.openbadges.status import mark_revoked
from users.models import User

MAX_REASON = 500

REVOKED, SUSPENDED, REINSTATED = "revoked", "suspended", "reinstated"


class TransitionRefused(Exception):
    """The award's status does not allow this change (shared/API.md: 409)."""


class AlreadyRevoked(TransitionRefused):
    pass


class InvalidReason(ValueError):
    """No reason, or a too long one (shared/API.md: 400, nothing changes)."""


def clean_reason(reason: str | None, *, what: str) -> str:
    """The reason with runs of whitespace collapsed: 1 to MAX_REASON characters after trimming
    (shared/API.md), or InvalidReason."""
    cleaned = " ".join((reason or "").split())
    if not cleaned:
        raise InvalidReason(f"Give a reason for the {what}: the recipient and verifiers see it.")
    if len(cleaned) > MAX_REASON:
        raise InvalidReason(
            f"The reason has at most {MAX_REASON} characters (this one has {len(cleaned)})."
        )
    return cleaned


def _public_copies_changed(award: Award) -> None:
    """After commit: the public Open Badges output (cached JSON, images, the verification
    page) follows the change at once."""
    transaction.on_commit(lambda: award_changed(award))


_REFUSALS = {
    # (what was asked, the award's status) → why not
    ("revoke", "revoked"): "This award was already revoked.",
    ("revoke", "declined"): "The recipient declined this award; there is nothing to revoke.",
    ("revoke", "expired"): "This award has expired; only an active or suspended award can be "
    "revoked.",
    ("suspend", "revoked"): "This award is revoked; a revoked award cannot be suspended.",
    ("suspend", "suspended"): "This award is already suspended.",
    ("suspend", "declined"): "The recipient declined this award; there is nothing to suspend.",
    ("suspend", "expired"): "This award has expired; only an active award can be suspended.",
    ("reinstate", "revoked"): "This award is revoked, which is final: it cannot be reinstated.",
    ("reinstate", "active"): "This award is not suspended; there is nothing to reinstate.",
    ("reinstate", "expired"): "This award is not suspended; there is nothing to reinstate.",
    ("reinstate", "declined"): "The recipient declined this award; there is nothing to reinstate.",
}


def _refuse(award: Award, action: str) -> TransitionRefused:
    """The refusal for ``action`` given the award's status as it is in the database now."""
    award.refresh_from_db(
        fields=[
            "revoked_at",
            "revocation_reason",
            "suspended_at",
            "suspension_reason",
            "declined_at",
            "expires_at",
        ]
    )
    message = _REFUSALS.get((action, award.status), f"This award is {award.status}.")
    return (AlreadyRevoked if award.status == "revoked" else TransitionRefused)(message)


def _not_expired_q(now) -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=now)


def _status_changed(
    *, access: Access, award: Award, event: str, actor: User | None, reason: str, stamp: str
) -> None:
    """Everything that follows a change of status, in the change's transaction: the audit
    entry, the recipient's email (unless the badge has them off), the public copies, and the
    webhook event."""
    audit_log(
        space=award.space,
        actor=actor,
        action={REVOKED: "award.revoke", SUSPENDED: "award.suspend"}.get(event, "award.reinstate"),
        obj=award,
        label=f"{award.badge_snapshot.get('name', 'Badge')} → {award.recipient_email}",
        changes={**({"reason": reason} if reason else {}), **_via(access, actor)},
    )
    if award.badge.status_emails:
        # Rendered by the worker; the key makes it one email per change, however retried.
        queue_bulk(
            [
                OutboundEmail(
                    space=award.space,
                    to=award.recipient_email,
                    kind="award_status",
                    context={"award": award.pk, "event": event, "reason": reason},
                    dedupe_key=f"award-{event}:{award.public_id}:{stamp}",
                )
            ]
        )
    _public_copies_changed(award)
    # award.revoked / award.suspended / award.reinstated to the space's webhooks, queued in
    # this transaction (badgeplatform.webhook_events).
    webhooks_emit(award.space, f"award.{event}", [award])


def _via(access: Access, actor: User | None) -> dict[str, str]:
    """Who acted when no person did: an API key (its grant names it) or the platform."""
    if actor is not None:
        return {}
    if access.is_system or not access.grants:
        return {"via": "system"}
    return {"via": access.grants[0].role_name}


def _require(access: Access, award: Award) -> None:
    access.require(Perm.REVOKE_AWARDS, organisation=award.badge.organisation)


@transaction.atomic
def award_revoke(*, access: Access, award: Award, actor: User | None, reason: str) -> Award:
    """Revoke ``award`` (active or suspended) with a reason shown to the recipient and on the
    public page. The actor needs "revoke awards" on the badge's organisation.

    A conditional UPDATE, so two people revoking at once record exactly one revocation (the
    first reason wins) and the second is told. Revocation is final.
    """
    _require(access, award)
    reason = clean_reason(reason, what="revocation")
    now = timezone.now()
    updated = (
        Award.objects.filter(pk=award.pk, revoked_at__isnull=True, declined_at__isnull=True)
        .filter(Q(suspended_at__isnull=False) | _not_expired_q(now))
        .update(revoked_at=now, revocation_reason=reason, revoked_by=actor)
    )
    if not updated:
        raise _refuse(award, "revoke")
    award.revoked_at, award.revocation_reason, award.revoked_by = now, reason, actor
    # The credential's bit in its status list, in this transaction: both or neither.
    mark_revoked(award)
    _status_changed(
        access=access, award=award, event=REVOKED, actor=actor, reason=reason, stamp=now.isoformat()
    )
    return award


@transaction.atomic
def award_suspend(*, access: Access, award: Award, actor: User | None, reason: str) -> Award:
    """Suspend an active award: reversible. Meanwhile the hosted OB 2.0 assertion answers as
    revoked ("Suspended: …") and the verification page says suspended; the OB 3.0 status list
    (revocation only) does not change."""
    _require(access, award)
    reason = clean_reason(reason, what="suspension")
    now = timezone.now()
    updated = (
        Award.objects.filter(
            pk=award.pk,
            revoked_at__isnull=True,
            declined_at__isnull=True,
            suspended_at__isnull=True,
        )
        .filter(_not_expired_q(now))
        .update(suspended_at=now, suspension_reason=reason, suspended_by=actor)
    )
    if not updated:
        raise _refuse(award, "suspend")
    award.suspended_at, award.suspension_reason, award.suspended_by = now, reason, actor
    _status_changed(
        access=access,
        award=award,
        event=SUSPENDED,
        actor=actor,
        reason=reason,
        stamp=now.isoformat(),
    )
    return award


@transaction.atomic
def award_reinstate(*, access: Access, award: Award, actor: User | None) -> Award:
    """End a suspension: the award is as before it (active, or expired if its time passed)
    and its reason is cleared."""
    _require(access, award)
    locked = (
        Award.objects.select_for_update()
        .filter(pk=award.pk, revoked_at__isnull=True, declined_at__isnull=True)
        .exclude(suspended_at__isnull=True)
        .values_list("suspended_at", flat=True)
        .first()
    )
    if locked is None:
        raise _refuse(award, "reinstate")
    updated = Award.objects.filter(
        pk=award.pk, revoked_at__isnull=True, suspended_at=locked
    ).update(suspended_at=None, suspension_reason="", suspended_by=None)
    if not updated:
        raise _refuse(award, "reinstate")
    award.suspended_at, award.suspension_reason, award.suspended_by = None, "", None
    _status_changed(
        access=access,
        award=award,
        event=REINSTATED,
        actor=actor,
        reason="",
        stamp=locked.isoformat(),
    )
    return award


class NotYours(PermissionError):
    """Only the recipient answers for their award."""


def _require_recipient(award: Award, actor: User) -> None:
    if award.recipient_id != actor.pk:
        raise NotYours("Only the recipient can change this.")


@transaction.atomic
def award_accept(*, award: Award, actor: User) -> Award:
    """The recipient accepts the award: it stays as it is (public, verifiable) and the
    backpack stops asking. Accepting twice is a no-op; a declined or revoked award cannot be
    accepted (``TransitionRefused``)."""
    _require_recipient(award, actor)
    now = timezone.now()
    updated = Award.objects.filter(
        pk=award.pk, revoked_at__isnull=True, declined_at__isnull=True, accepted_at__isnull=True
    ).update(accepted_at=now)
    if updated:
        award.accepted_at = now
        audit_log(
            space=award.space,
            actor=actor,
            action="award.accept",
            obj=award,
            label=_label(award),
        )
        return award
    award.refresh_from_db(fields=["revoked_at", "declined_at", "accepted_at"])
    if award.is_revoked:
        raise TransitionRefused("This award was revoked: there is nothing to accept.")
    if award.is_declined:
        raise TransitionRefused("You declined this award; declining is final.")
    return award  # already accepted


@transaction.atomic
def award_decline(*, award: Award, actor: User) -> Award:
    """The recipient declines the award. Final: the award leaves every public place (its
    assertion, credential, images and certificate answer 410 Gone, the hosted OB 2.0
    assertion as revoked), its OB 3.0 status list bit is set (a copy kept elsewhere no longer
    verifies), and reports and the API keep it with the status ``declined``. A revoked award
    cannot be declined (it is already withdrawn); declining twice is refused."""
    _require_recipient(award, actor)
    now = timezone.now()
    updated = Award.objects.filter(
        pk=award.pk, revoked_at__isnull=True, declined_at__isnull=True
    ).update(declined_at=now)
    if not updated:
        award.refresh_from_db(fields=["revoked_at", "declined_at"])
        if award.is_revoked:
            raise TransitionRefused("This award was revoked: there is nothing to decline.")
        raise TransitionRefused("You already declined this award.")
    award.declined_at = now
    # The credential's bit, in this transaction: a verifier reads it as revoked.
    mark_revoked(award)
    audit_log(
        space=award.space, actor=actor, action="award.decline", obj=award, label=_label(award)
    )
    _public_copies_changed(award)
    return award


def _label(award: Award) -> str:
    return f"{award.badge_snapshot.get('name', 'Badge')} → {award.recipient_email}"


@transaction.atomic
def award_set_public(*, award: Award, actor: User, is_public: bool) -> Award:
    """The recipient chooses whether their name shows on the award's public page (private,
    the default, confirms the award without naming anyone)."""
    _require_recipient(award, actor)
    Award.objects.filter(pk=award.pk).update(is_public=is_public)
    award.is_public = is_public
    _public_copies_changed(award)
    return award


def awards_attach_to(placeholder: User, person: User, address: str) -> int:
    """A person confirmed ``address``, which an account created by issuing (never used) held:
    that account's awards move to the person's backpack (users.secondary_emails calls this
    through its listener). Their credentials name the address already, so nothing public
    changes. An award the person already holds (same badge, same achievement) stays put."""
    held = Award.objects.filter(recipient=person).values_list("badge_id", "achieved_at")
    held_keys = set(held)
    moving = [
        pk
        for pk, badge_id, achieved_at in Award.objects.filter(recipient=placeholder).values_list(
            "pk", "badge_id", "achieved_at"
        )
        if (badge_id, achieved_at) not in held_keys
    ]
    return Award.objects.filter(pk__in=moving).update(recipient=person)
