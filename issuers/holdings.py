"""What issuers keep in organisations, for the organisation removal page (see orgs.holdings)."""

from orgs import holdings


def _count(space, orgs) -> int:
    from issuers.models import Issuer

    return Issuer.objects.filter(space=space, organisation__in=orgs).count()


def _move(space, orgs, target) -> int:
    from issuers.models import Issuer

    # Profile versions (and the awards pointing at them) are untouched: only the owner moves.
    return Issuer.objects.filter(space=space, organisation__in=orgs).update(organisation=target)


def register() -> None:
    holdings.register("issuers", "Issuers", _count, blocks_removal=True, move=_move, order=10)
