"""Renewal: a new award, with a new expiry, linked to the expired or expiring one it renews
(``Award.renews``).

Three ways in, one path: the issuer renews one award (its page) or several (the awards list)
with ``awards_renew``; a new qualifying event or rule completion for a recipient whose award
of the badge is expired or expiring renews it by itself (``badges.issuing._issue``). Either
way the award is made by ``awards_issue`` — the recipient's "you have been awarded" email,
the OB credential, the webhook event — and the renewal is in the audit log (``award.renew``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from badgeplatform.access import Access
from badgeplatform.permissions import Perm
from badges.issuing import BadgeNotIssuable, RecipientInput, awards_issue
from badges.models import Award, IssueBatch
from users.models import User


class RenewalRefused(Exception):
    """This award cannot be renewed (why, for people)."""


@dataclass
class RenewResult:
    renewed: list[tuple[Award, Award]] = field(default_factory=list)  # (old, new)
    refused: list[tuple[Award, str]] = field(default_factory=list)


def renewal_refusal(award: Award) -> str | None:
    """Why ``award`` cannot be renewed, or None. Renewable: it has an expiry date, still
    stands (not revoked, declined or suspended) and has not been renewed yet."""
    if award.is_revoked:
        return "It was revoked: issue the badge again instead."
    if award.is_declined:
        return "The recipient declined it."
    if award.is_suspended:
        return "It is suspended: reinstate it first."
    if award.expires_at is None:
        return "It never expires: there is nothing to renew."
    renewed = getattr(award, "is_renewed", None)
    if renewed is None:
        renewed = Award.objects.filter(renews=award).exists()
    if renewed:
        return "It was already renewed."
    return None


def renewal_preview(award: Award) -> dict:
    """What renewing would do: the new award's expiry (the badge's period from now)."""
    now = timezone.now()
    return {"new_expiry": award.badge.expiry_for(now), "now": now}


def awards_renew(*, access: Access, awards: list[Award], actor: User | None) -> RenewResult:
    """Renew each of ``awards``: one ``awards_issue`` per badge, the new awards achieved now
    and expiring after the badge's period. Needs "issue badges" on each badge's organisation
    (PermissionDenied otherwise); an award that cannot be renewed is listed in ``refused``
    with the reason and nothing is made for it."""
    result = RenewResult()
    by_badge: dict[int, list[Award]] = defaultdict(list)
    for award in awards:
        access.require(Perm.ISSUE_BADGES, organisation=award.badge.organisation)
        why = None
        if award.expires_at is None:
            why = "It never expires: there is nothing to renew."
        elif not award.badge.is_issuable:
            why = f"The badge “{award.badge}” is {award.badge.get_state_display().lower()}."
        if why is None and award.badge.expiry_for(timezone.now()) is None:
            why = "The badge no longer expires: a renewal would never expire."
        if why:
            result.refused.append((award, why))
        else:
            by_badge[award.badge_id].append(award)
    # The same moment for every renewal, whole seconds (ActivityTime precision); a second
    # renewal of one person's award in the same second would be a duplicate, so step on.
    now = timezone.now().replace(microsecond=0)
    for badge_id in sorted(by_badge):
        try:
            with transaction.atomic():
                _renew_group(access, by_badge[badge_id], actor, now, result)
        except IntegrityError:  # renewed meanwhile by someone else (one renewal per award)
            result.refused += [(old, "It was already renewed.") for old in by_badge[badge_id]]
    return result


def _renew_group(access, group, actor, now, result) -> None:
    # Lock the awards being renewed: two people renewing the same award at once are served
    # one after the other, and the second is told it was already renewed.
    fresh = {
        a.pk: a
        for a in Award.objects.select_for_update(of=("self",))
        .filter(pk__in=[a.pk for a in group])
        .annotate(is_renewed=Exists(Award.objects.filter(renews=OuterRef("pk"))))
    }
    kept = []
    for old in group:
        current = fresh.get(old.pk)
        why = "It is gone." if current is None else renewal_refusal(current)
        if why:
            result.refused.append((old, why))
        else:
            kept.append(old)
    group = kept
    if group:
        badge = group[0].badge
        seen: dict[int, int] = defaultdict(int)
        recipients = []
        for old in group:
            step = seen[old.recipient_id]
            seen[old.recipient_id] += 1
            recipients.append(
                RecipientInput(
                    user=old.recipient,
                    in_space=True,
                    achieved_at=now - timedelta(seconds=step),
                    renews=old,
                )
            )
        try:
            _, outcomes = awards_issue(
                access=access,
                badge=badge,
                recipients=recipients,
                source=IssueBatch.Source.MANUAL,
                actor=actor,
            )
        except BadgeNotIssuable as exc:
            result.refused += [(old, str(exc)) for old in group]
            return
        for old, outcome in zip(group, outcomes, strict=True):
            if outcome.status == "awarded" and outcome.renewed is not None:
                result.renewed.append((old, outcome.award))
            else:
                why = "; ".join(outcome.errors.values()) or "It was already renewed."
                result.refused.append((old, why))


def award_renew(*, access: Access, award: Award, actor: User | None) -> Award:
    """Renew one award; the new award, or RenewalRefused with the reason."""
    result = awards_renew(access=access, awards=[award], actor=actor)
    if result.refused:
        raise RenewalRefused(result.refused[0][1])
    return result.renewed[0][1]
