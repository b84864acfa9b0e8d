from django.core.management.base import BaseCommand, CommandError

from badgeplatform.access import Access
from badges.openbadges.keys import issuer_key_rotate
from issuers.models import Issuer
from orgs.models import Space


class Command(BaseCommand):
    help = (
        "Retire the Open Badges signing key of every issuer of a space (or of one issuer) and "
        "make new ones. The old keys stay published and listed in the issuers' profiles, so "
        "credentials they signed keep verifying."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--space", help="The space's slug: rotate each of its issuers' keys.")
        which.add_argument("--issuer", help="One issuer's public id.")
        which.add_argument("--all", action="store_true", help="Rotate every issuer's key.")

    def handle(self, *args, space=None, issuer=None, all=False, **options):
        issuers = Issuer.objects.select_related("space", "organisation", "current").order_by("pk")
        if space is not None:
            found = Space.objects.filter(slug=space).first()
            if found is None:
                raise CommandError(f"No space with the slug {space!r}")
            issuers = issuers.filter(space=found)
        elif issuer is not None:
            issuers = issuers.filter(public_id=issuer) if _is_uuid(issuer) else issuers.none()
            if not issuers.exists():
                raise CommandError(f"No issuer with the public id {issuer!r}")
        for one in issuers:
            key = issuer_key_rotate(access=Access.system(one.space), issuer=one, actor=None)
            self.stdout.write(
                f"{one.space.slug} / {one.name}: new key {key.public_id} {key.public_key_multibase}"
            )


def _is_uuid(text: str) -> bool:
    from uuid import UUID

    try:
        UUID(text)
    except ValueError:
        return False
    return True
