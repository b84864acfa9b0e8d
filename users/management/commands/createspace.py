from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email, validate_slug
from django.db import transaction

from orgs.services import RESERVED_SLUGS, slug_is_available
from users import services as user_services
from users.models import User


class Command(BaseCommand):
    help = "Create a space with its root organisation and a Space Administrator."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The organisation's name (the root).")
        parser.add_argument("--slug", required=True, help="The space's address: /s/<slug>/")
        parser.add_argument("--admin-email", required=True)
        parser.add_argument(
            "--admin-password",
            help="Set this password (and mark the email verified) instead of emailing a link.",
        )

    def handle(self, *args, name, slug, admin_email, admin_password, **options):
        name = name.strip()
        if not name or any(c in name for c in "\r\n"):
            raise CommandError("--name must be a non-empty single line")
        try:
            validate_slug(slug)
            validate_email(admin_email)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        if slug in RESERVED_SLUGS or not slug_is_available(slug):
            raise CommandError(f"The slug {slug!r} is already taken")
        with transaction.atomic():
            admin = User.objects.get_by_email(admin_email)
            created_user = admin is None
            if admin is None:
                admin = user_services.user_create_unverified(
                    email=admin_email, first_name="", last_name=""
                )
            if admin_password:
                try:
                    password_validation.validate_password(admin_password, admin)
                except ValidationError as exc:
                    raise CommandError("Weak password: " + " ".join(exc.messages)) from exc
                user_services.user_set_password_and_verify(user=admin, password=admin_password)
            space = user_services.space_create(name=name, slug=slug, admin=admin)
            if created_user and not admin_password:
                user_services.verification_send(user=admin, space=space)
        self.stdout.write(
            f"Created space {space.slug!r} ({space.name}); administrator {admin.email}"
        )
