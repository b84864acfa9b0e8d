from django.core.management.base import BaseCommand, CommandError

from api.services import apikey_create
from orgs.models import Organisation, Space


class Command(BaseCommand):
    help = (
        "Create an API key for a space (optionally limited to one organisation and beneath) "
        "and print its developer key and auth token. The token is shown only this once."
    )

    def add_arguments(self, parser):
        parser.add_argument("--space", required=True, help="The space's slug.")
        parser.add_argument(
            "--organisation",
            help="Limit the key to this organisation (its OrganisationId, or its number).",
        )
        parser.add_argument("--name", default="Command-line key", help="A name for the key.")

    def handle(self, *args, space, organisation, name, **options):
        found = Space.objects.filter(slug=space).first()
        if found is None:
            raise CommandError(f"No space with the slug {space!r}")
        name = (name or "").strip()
        if not name or len(name) > 100 or any(c in name for c in "\r\n\x00"):
            raise CommandError("--name must be a single line of 1 to 100 characters")
        org = None
        if organisation:
            orgs = Organisation.objects.filter(space=found)
            org = (
                orgs.filter(pk=int(organisation)).first()
                if organisation.isdigit()
                else orgs.filter(public_id=_uuid(organisation)).first()
            )
            if org is None:
                raise CommandError(f"No organisation {organisation!r} in the space {space!r}")
        made = apikey_create(space=found, name=name, organisation=org)
        self.stdout.write(f"developer_key: {made.key.developer_key}")
        self.stdout.write(f"auth_token: {made.token}")


def _uuid(value: str):
    import uuid

    try:
        return uuid.UUID(value)
    except ValueError:
        raise CommandError(f"{value!r} is not an organisation id") from None
