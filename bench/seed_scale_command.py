import time

from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_slug
from django.db import connection

from bench.scale import ScaleOptions, scale_email_domain, seed_scale, space_remove
from orgs.models import Space


class Command(BaseCommand):
    help = (
        "Build a large, realistic space for reports and their benchmark: an organisation tree "
        "4 levels deep, badges, people and awards spread over several years. Use PostgreSQL "
        "for the full size (rows are streamed with COPY); smaller runs work anywhere."
    )

    def add_arguments(self, parser):
        defaults = ScaleOptions()
        parser.add_argument("--slug", default=defaults.slug, help="The space's address.")
        parser.add_argument("--awards", type=int, default=defaults.awards)
        parser.add_argument("--organisations", type=int, default=defaults.organisations)
        parser.add_argument("--badges", type=int, default=defaults.badges)
        parser.add_argument("--users", type=int, default=defaults.users)
        parser.add_argument("--years", type=int, default=defaults.years)
        parser.add_argument("--seed", type=int, default=defaults.seed, help="Random seed.")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Remove a space with this slug (and the people it created) first.",
        )

    def handle(self, *args, slug, replace, **options):
        validate_slug(slug)
        for name in ("awards", "organisations", "badges", "users", "years"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        if Space.objects.filter(slug=slug).exists():
            if not replace:
                raise CommandError(
                    f"A space {slug!r} exists already: pass --replace to rebuild it."
                )
            began = time.perf_counter()
            space_remove(slug)
            self.stdout.write(
                f"Removed the old space {slug!r} ({time.perf_counter() - began:.1f} s)"
            )
        opts = ScaleOptions(
            slug=slug,
            awards=options["awards"],
            organisations=options["organisations"],
            badges=options["badges"],
            users=options["users"],
            years=options["years"],
            seed=options["seed"],
        )
        self.stdout.write(
            f"Seeding {slug!r} on {connection.vendor}: {opts.organisations} organisations, "
            f"{opts.badges} badges, {opts.users} users, {opts.awards} awards over "
            f"{opts.years} years"
        )
        began = time.perf_counter()
        try:
            result = seed_scale(opts, log=self.stdout.write)
        except BaseException:
            # Each phase commits on its own (a million rows in one transaction would hold
            # millions of deferred checks); on failure take away what was written.
            self.stderr.write("Seeding failed: removing the partly built space.")
            space_remove(slug)
            raise
        total = time.perf_counter() - began
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {total:.1f} s. Space /s/{result.space.slug}/ — sign in as "
                f"{result.admin.email} (administrator) or {result.reporter.email} (reporter, one "
                f"faculty) with password {opts.admin_password}"
            )
        )
        self.stdout.write(f"seed_scale_seconds={total:.1f}")
        # People created here all have addresses on this domain (see --replace).
        self.stdout.write(f"  people: *@{scale_email_domain(slug)}")
