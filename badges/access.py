"""Fetch-and-authorize for badges, awards, graphics, rules and issue batches.

Views, forms, bulk actions, the API, rules and exports reach these objects only through the
helpers here: the lookup is scoped to the actor's space and ``need`` is checked on the
object's organisation (a badge's, an award's badge's, a rule's); a missing object and a
forbidden one answer alike, Http404. ``need`` is one permission, or a tuple of them meaning
"any of these" (e.g. seeing a badge: create, publish or issue badges).
"""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet
from django.http import Http404

from badgeplatform.access import Access
from badgeplatform.permissions import Perm
from badges.models import Application, Award, Badge, ClaimLink, Graphic, IssueBatch, Rule
from orgs.models import Organisation

Need = Perm | str | tuple[Perm | str, ...]

# Seeing a badge: any of the badge permissions (issuers need to find what they issue).
SEE_BADGES: tuple[Perm, ...] = (Perm.CREATE_BADGES, Perm.PUBLISH_BADGES, Perm.ISSUE_BADGES)
# Seeing an award: who may issue or revoke there.
SEE_AWARDS: tuple[Perm, ...] = (Perm.ISSUE_BADGES, Perm.REVOKE_AWARDS)


def _needs(need: Need) -> tuple[Perm | str, ...]:
    return need if isinstance(need, tuple) else (need,)


def can_on(access: Access, need: Need, organisation: Organisation) -> bool:
    """Does the actor hold (any of) ``need`` on ``organisation``?"""
    return any(access.can(p, organisation=organisation) for p in _needs(need))


def visible_q(access: Access, need: Need, prefix: str) -> Q | None:
    """A filter for rows whose organisation (at ``prefix``) the actor holds (any of) ``need``
    on, or None when one of them is held on the whole space."""
    if any(access.can(p) for p in _needs(need)):
        return None
    q = Q(pk__in=[])
    for p in _needs(need):
        q |= access.organisations_q(p, prefix=prefix)
    return q


def _filtered(qs: QuerySet, access: Access, need: Need, prefix: str) -> QuerySet:
    q = visible_q(access, need, prefix)
    return qs if q is None else qs.filter(q)


def _badge_key(pk: int | str | uuid.UUID) -> Q:
    """A badge is addressed by its id in the app's URLs, by its public id (ActivityId) in the
    API and rules; anything else matches nothing."""
    if isinstance(pk, uuid.UUID):
        return Q(public_id=pk)
    if isinstance(pk, int) or str(pk).isdigit():
        return Q(pk=int(pk))
    try:
        return Q(public_id=uuid.UUID(str(pk)))
    except ValueError:
        raise Http404("No such badge") from None


def _int(pk: int | str) -> int:
    if isinstance(pk, int) or str(pk).isdigit():
        return int(pk)
    raise Http404("No such object")


# ---- Badges ----------------------------------------------------------------------------------


def badge_for(
    access: Access, pk: int | str | uuid.UUID, *, need: Need = Perm.ISSUE_BADGES
) -> Badge:
    """The space's badge (by id or public id) with its organisation, issuer profile, graphic
    and author, when the actor holds (any of) ``need`` on its organisation. One query."""
    badge = (
        Badge.objects.for_space(access.space)
        .select_related("organisation", "issuer__current", "graphic", "created_by")
        .filter(_badge_key(pk))
        .first()
    )
    if badge is None or not can_on(access, need, badge.organisation):
        raise Http404("No such badge")
    return badge


def badges_visible(access: Access, *, need: Need = SEE_BADGES) -> QuerySet[Badge]:
    """The space's badges whose organisation the actor holds (any of) ``need`` on."""
    return _filtered(Badge.objects.for_space(access.space), access, need, "organisation__")


# ---- Awards and batches ----------------------------------------------------------------------


def _award_key(pk: int | str | uuid.UUID) -> Q:
    """An award is addressed by its id in the app's URLs, by its public id (AwardId) in the
    API; anything else matches nothing."""
    if isinstance(pk, uuid.UUID):
        return Q(public_id=pk)
    if isinstance(pk, int) or str(pk).isdigit():
        return Q(pk=int(pk))
    try:
        return Q(public_id=uuid.UUID(str(pk)))
    except ValueError:
        raise Http404("No such award") from None


def award_for(access: Access, pk: int | str | uuid.UUID, *, need: Need = SEE_AWARDS) -> Award:
    """The space's award (by id or public id) with its badge, recipient and issuer profile,
    when the actor holds (any of) ``need`` on the badge's organisation. One query."""
    award = (
        Award.objects.for_space(access.space)
        .select_related(
            "badge__organisation",
            "recipient",
            "issuer_version",
            "revoked_by",
            "suspended_by",
            "batch",
            "space",
        )
        .filter(_award_key(pk))
        .first()
    )
    if award is None or not can_on(access, need, award.badge.organisation):
        raise Http404("No such award")
    return award


def awards_visible(access: Access, *, need: Need = SEE_AWARDS) -> QuerySet[Award]:
    """The space's awards whose badge's organisation the actor holds (any of) ``need`` on."""
    return _filtered(Award.objects.for_space(access.space), access, need, "badge__organisation__")


def batch_for(access: Access, pk: int | str, *, need: Need = Perm.ISSUE_BADGES) -> IssueBatch:
    """The space's issue batch (counters only: its failures deferred, they can be long),
    when the actor holds ``need`` on its badge's organisation. One query."""
    batch = (
        IssueBatch.objects.filter(space=access.space, pk=_int(pk))
        .select_related("badge__organisation", "created_by")
        .defer("failures")
        .first()
    )
    if batch is None or not can_on(access, need, batch.badge.organisation):
        raise Http404("No such batch")
    return batch


def batches_visible(access: Access, *, need: Need = Perm.ISSUE_BADGES) -> QuerySet[IssueBatch]:
    return _filtered(
        IssueBatch.objects.filter(space=access.space), access, need, "badge__organisation__"
    )


# ---- Graphics --------------------------------------------------------------------------------
# The graphics library is the space's: "manage graphics" held anywhere keeps it, and anyone
# who may author badges picks from it.


def graphic_for(access: Access, pk: int | str, *, need: Need = Perm.MANAGE_GRAPHICS) -> Graphic:
    graphic = Graphic.objects.for_space(access.space).filter(pk=_int(pk)).first()
    if graphic is None or not any(access.can_anywhere(p) for p in _needs(need)):
        raise Http404("No such graphic")
    return graphic


def graphics_visible(access: Access, *, need: Need = Perm.MANAGE_GRAPHICS) -> QuerySet[Graphic]:
    qs = Graphic.objects.for_space(access.space)
    return qs if any(access.can_anywhere(p) for p in _needs(need)) else qs.none()


# ---- Rules -----------------------------------------------------------------------------------


def rule_for(access: Access, pk: int | str, *, need: Need = Perm.ISSUE_BADGES) -> Rule:
    """The space's rule with its badge, when the actor holds ``need`` on the rule's
    organisation. One query."""
    rule = (
        Rule.objects.for_space(access.space)
        .select_related("organisation", "badge__organisation")
        .filter(pk=_int(pk))
        .first()
    )
    if rule is None or not can_on(access, need, rule.organisation):
        raise Http404("No such rule")
    return rule


def rules_visible(access: Access, *, need: Need = Perm.ISSUE_BADGES) -> QuerySet[Rule]:
    return _filtered(Rule.objects.for_space(access.space), access, need, "organisation__")


# ---- Claim links and applications -----------------------------------------------------------


def claim_link_for(access: Access, pk: int | str, *, need: Need = Perm.ISSUE_BADGES) -> ClaimLink:
    """The space's claim link with its badge, when the actor holds ``need`` on the badge's
    organisation. One query."""
    link = (
        ClaimLink.objects.filter(space=access.space, pk=_int(pk))
        .select_related("badge__organisation", "badge__graphic", "badge__issuer__current")
        .first()
    )
    if link is None or not can_on(access, need, link.badge.organisation):
        raise Http404("No such claim link")
    return link


def application_for(
    access: Access, pk: int | str, *, need: Need = Perm.REVIEW_APPLICATIONS
) -> Application:
    """The space's application with its badge and applicant, when the actor holds ``need`` on
    the badge's organisation. One query."""
    application = (
        Application.objects.filter(space=access.space, pk=_int(pk))
        .select_related("badge__organisation", "badge__graphic", "applicant", "reviewed_by")
        .first()
    )
    if application is None or not can_on(access, need, application.badge.organisation):
        raise Http404("No such application")
    return application


def applications_visible(
    access: Access, *, need: Need = Perm.REVIEW_APPLICATIONS
) -> QuerySet[Application]:
    return _filtered(
        Application.objects.filter(space=access.space), access, need, "badge__organisation__"
    )
