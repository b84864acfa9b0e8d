from django.core.management.base import BaseCommand, CommandError

from badges.openbadges.keys import signing_key_rotate
from orgs.models import Space


class Command(BaseCommand):
    help = (
        "Retire a space's Open Badges signing key and make a new one. The old key stays "
        "published, so credentials it signed keep verifying."
    )

    def add_arguments(self, parser):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--space", help="The space's slug.")
        which.add_argument("--all", action="store_true", help="Rotate every space's key.")

    def handle(self, *args, space=None, all=False, **options):
        if all:
            spaces = list(Space.objects.order_by("slug"))
        else:
            found = Space.objects.filter(slug=space).first()
            if found is None:
                raise CommandError(f"No space with the slug {space!r}")
            spaces = [found]
        for s in spaces:
            key = signing_key_rotate(space=s)
            self.stdout.write(f"{s.slug}: new key {key.public_id} {key.public_key_multibase}")
