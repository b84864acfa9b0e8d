"""What badges and awards keep in organisations, for organisation removal (see orgs.holdings),
and what a person holds, for their summary page (see users.holdings).

Both block a removal until moved: a badge belongs to an organisation, and each award records
the organisation its badge had when issued (reports count awards per subtree). Moving them
re-points those rows; the awards themselves — recipients, snapshots, signatures — never change.
"""

from orgs import holdings
from users import holdings as person_holdings


def _badges(space, orgs):
    from badges.models import Badge

    return Badge.objects.filter(space=space, organisation__in=orgs)


def _awards(space, orgs):
    from badges.models import Award

    return Award.objects.filter(space=space, organisation__in=orgs)


def _recent_awards(space, user, limit: int) -> list:
    """The person's most recent awards in this space, newest first (one query, by the
    recipient index). Awards point at the user, so they outlive any membership."""
    from badges.models import Award

    return list(
        Award.objects.for_space(space)
        .filter(recipient=user)
        .select_related("badge")
        .order_by("-issued_at")[:limit]
    )


def register() -> None:
    person_holdings.register("awards", _recent_awards)
    holdings.register(
        "badges",
        "Badges",
        lambda space, orgs: _badges(space, orgs).count(),
        blocks_removal=True,
        move=lambda space, orgs, target: _badges(space, orgs).update(organisation=target),
        order=20,
    )
    holdings.register(
        "awards",
        "Awards",
        lambda space, orgs: _awards(space, orgs).count(),
        blocks_removal=True,
        move=lambda space, orgs, target: _awards(space, orgs).update(organisation=target),
        order=30,
    )
