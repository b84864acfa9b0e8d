"""Benchmark: awards' OB 3.0 credentials signed and stored per second by the worker task.

    python -m bench.signing_awards [-n 500]

bench.signing times the signer alone; this times what the worker does after an issue:
``badges.openbadges.tasks.sign_credentials`` on a fresh batch (build each credential from the
award, sign with the space's decrypted key, one bulk INSERT), on a fresh SQLite database in a
temporary folder. Last line ``awards_signed_per_s=<x>``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--awards", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-sign-") as tmp:
        os.environ.update(
            DJANGO_SETTINGS_MODULE="badgeplatform.settings", VAR_DIR=tmp, LOG_LEVEL="WARNING"
        )
        for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
            os.environ.pop(name, None)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        from bench.public import seed

        with contextlib.redirect_stdout(io.StringIO()):
            seed()
        from badgeplatform.access import Access
        from badges.issuing import RecipientInput, awards_issue
        from badges.models import Badge
        from badges.openbadges.tasks import sign_credentials

        recipients = [
            RecipientInput(email=f"learner{i}@example.test", first_name="Lee", last_name=f"{i}")
            for i in range(args.awards + 20)
        ]
        start = time.perf_counter()
        badge = Badge.objects.select_related("space").get()
        _, outcomes = awards_issue(
            access=Access.system(badge.space),
            badge=badge,
            recipients=recipients,
            notify=False,
        )
        issued_s = time.perf_counter() - start
        ids = [o.award.pk for o in outcomes]
        sign_credentials(ids[:20])  # warm-up: contexts processed, key made
        start = time.perf_counter()
        signed = sign_credentials(ids[20:])
        elapsed = time.perf_counter() - start
        print(f"issued {len(ids)} awards in {issued_s:.2f} s (nothing signed in the request)")
        print(f"worker task: {signed} credentials built, signed and stored in {elapsed:.2f} s")
        print(f"awards_signed_per_s={signed / elapsed:.1f}")


if __name__ == "__main__":
    main()
