"""Award services after issuing: revocation (by the space) and the public toggle (by the
recipient). Issuing itself is ``badges.issuing.awards_issue``."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.audit import audit_log
from badgeplatform.permissions import Perm
from badgeplatform.webhook_events import webhooks_emit
from badges.models import Award
from badges.openbadges.publish import award_changed
from badges.openbadges.status import mark_revoked
from users.models import User

MAX_REASON = 500


class AlreadyRevoked(Exception):
    pass


def _public_copies_changed(award: Award) -> None:
    """After commit: the public Open Badges output (cached JSON, images, the verification
    page) follows the change at once."""
    transaction.on_commit(lambda: award_changed(award))


@transaction.atomic
def award_revoke(*, access: Access, award: Award, actor: User | None, reason: str) -> Award:
    """Revoke ``award`` with a reason shown to the recipient and on the public page. The actor
    needs "revoke awards" on the badge's organisation.

    A conditional UPDATE, so two people revoking at once record exactly one revocation (the
    first reason wins) and the second is told. Revocation is final.
    """
    access.require(Perm.REVOKE_AWARDS, organisation=award.badge.organisation)
    reason = " ".join(reason.split())
    if not reason:
        raise ValueError("Give a reason for the revocation.")
    if len(reason) > MAX_REASON:
        raise ValueError(f"The reason has at most {MAX_REASON} characters.")
    now = timezone.now()
    updated = Award.objects.filter(pk=award.pk, revoked_at__isnull=True).update(
        revoked_at=now, revocation_reason=reason, revoked_by=actor
    )
    if not updated:
        raise AlreadyRevoked("This award was already revoked.")
    award.revoked_at, award.revocation_reason, award.revoked_by = now, reason, actor
    # The credential's bit in its status list, in this transaction: both or neither.
    mark_revoked(award)
    audit_log(
        space=award.space,
        actor=actor,
        action="award.revoke",
        obj=award,
        label=f"{award.badge_snapshot.get('name', 'Badge')} → {award.recipient_email}",
        changes={"reason": reason},
    )
    _public_copies_changed(award)
    webhooks_emit(award.space, "award.revoked", [award])
    return award


@transaction.atomic
def award_set_public(*, award: Award, actor: User, is_public: bool) -> Award:
    """The recipient chooses whether their name shows on the award's public page."""
    if award.recipient_id != actor.pk:
        raise PermissionError("Only the recipient can change this.")
    Award.objects.filter(pk=award.pk).update(is_public=is_public)
    award.is_public = is_public
    _public_copies_changed(award)
    return award
