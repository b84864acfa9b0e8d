"""The demo space a newcomer sees after `make run`. Idempotent: run it as often as you like.

Each app may provide ``<app>/demo.py`` with ``seed(space, admin, stdout)``; they run in
INSTALLED_APPS order, so later capabilities add their sample data without touching this file.
"""

import importlib

from django.apps import apps
from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from orgs.models import Space
from users import services as user_services
from users.models import User
from users.services import space_create

DEMO_SLUG = "demo"
DEMO_NAME = "Northwind University"
DEMO_EMAIL = "admin@demo.example"
DEMO_PASSWORD = "demo-admin-2026"  # noqa: S105 - a published demo login for local use


class Command(BaseCommand):
    help = "Create (or complete) the demo space with sample data from every app."

    @transaction.atomic
    def handle(self, *args, **options):
        admin = User.objects.get_by_email(DEMO_EMAIL)
        if admin is None:
            admin = user_services.user_create_unverified(
                email=DEMO_EMAIL, first_name="Ada", last_name="Admin", username="admin"
            )
            user_services.user_set_password_and_verify(user=admin, password=DEMO_PASSWORD)
        space = Space.objects.filter(slug=DEMO_SLUG).first()
        if space is None:
            space = space_create(name=DEMO_NAME, slug=DEMO_SLUG, admin=admin)
        for config in apps.get_app_configs():
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            module.seed(space=space, admin=admin, stdout=self.stdout)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nDemo space ready: {settings.SITE_URL}/s/{DEMO_SLUG}/\n"
                f"  sign in as {DEMO_EMAIL} (or 'admin') with password {DEMO_PASSWORD}\n"
            )
        )
