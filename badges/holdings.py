"""What badges and awards keep in organisations, for organisation removal (see orgs.holdings).

Both block a removal until moved: a badge belongs to an organisation, and each award records
the organisation its badge had when issued (reports count awards per subtree). Moving them
re-points those rows; the awards themselves — recipients, snapshots, signatures — never change.
"""

from orgs import holdings


def _badges(space, orgs):
    from badges.models import Badge

    return Badge.objects.filter(space=space, organisation__in=orgs)


def _awards(space, orgs):
    from badges.models import Award

    return Award.objects.filter(space=space, organisation__in=orgs)


def register() -> None:
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
