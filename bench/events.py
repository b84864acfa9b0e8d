"""Benchmark of the Events API against the physical floor of inserting award rows.

    python -m bench.events [--keep] [--calls 10] [--size 1000]

On the configured database (DATABASE_URL; migrated first), this creates a space, a published
badge and an API key, then sends 10 calls of 1,000 events through the whole HTTP stack
(Django's test client: middleware, URL routing, authentication, parsing, issuing, the JSON
response). Half the recipients of each call are members of the space (found by their UserId),
half are new people (created, added to the space, sent a verification email). Emails are
queued to the broker (Redis when configured, else an in-memory broker) and never sent during
the run, as in production where a worker sends them after the response.

In the same run it bulk-inserts the same number of award rows directly — the physical floor of
storing those awards — and prints events/s through the API, rows/s for the floor and, as the
last line, ``ratio_api_to_floor=<x>``. Everything it made is deleted at the end unless --keep.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "badgeplatform.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.files.base import ContentFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from api.models import ApiKey, IdempotencyRecord  # noqa: E402
from api.services import apikey_create  # noqa: E402
from badgeplatform.access import Access  # noqa: E402
from badgeplatform.celery import app as celery_app  # noqa: E402
from badgeplatform.models import OutboundEmail  # noqa: E402
from badges.models import Award, Badge, Graphic, IssueBatch  # noqa: E402
from issuers.models import Issuer, IssuerVersion  # noqa: E402
from issuers.services import issuer_create  # noqa: E402
from orgs.models import Organisation, Space  # noqa: E402
from users.memberships import members_join_space_bulk  # noqa: E402
from users.models import Member, Membership, Role, User  # noqa: E402
from users.services import space_create  # noqa: E402


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGBA", (64, 64), "#2f6fde").save(buf, "PNG")
    return buf.getvalue()


def _badge(space: Space, name: str) -> Badge:
    org = space.root_organisation
    issuer = issuer_create(
        access=Access.system(space),
        space=space,
        organisation=org,
        actor=None,
        name="Bench Academy",
        website="https://bench.example",
        email="badges@bench.example",
    )
    graphic = Graphic(space=space, name="Bench", source=Graphic.Source.UPLOAD, width=64, height=64)
    graphic.image.save(f"bench-{secrets.token_hex(8)}.png", ContentFile(_png()), save=False)
    graphic.save()
    return Badge.objects.create(
        space=space,
        organisation=org,
        name=name,
        description="Benchmark badge.",
        language="en",
        issuer=issuer,
        graphic=graphic,
        criteria_text="Be benchmarked.",
        state=Badge.State.PUBLISHED,
        published_at=timezone.now(),
    )


def setup(tag: str, members: int) -> tuple[Space, Badge, Badge, str, str, list[User]]:
    with transaction.atomic():
        admin = User.objects.create(username=f"{tag}-admin", email=f"admin@{tag}.bench")
        space = space_create(name=f"Bench {tag}", slug=tag, admin=admin)
        badge = _badge(space, "Benchmarked")
        floor_badge = _badge(space, "Floor")
        people = User.objects.bulk_create(
            User(
                username=f"{tag}-m{i}",
                email=f"m{i}@{tag}.bench",
                first_name="Member",
                last_name=str(i),
                password="!",
            )
            for i in range(members)
        )
        root = space.root_organisation
        members_join_space_bulk(
            space=space, joining={u.pk: (root, f"M-{i}") for i, u in enumerate(people)}
        )
        made = apikey_create(space=space, name="bench")
    return space, badge, floor_badge, made.key.developer_key, made.token, people


def bodies(tag: str, badge: Badge, calls: int, size: int) -> list[bytes]:
    when = (timezone.now() - timedelta(days=1)).replace(microsecond=0).isoformat()
    half = size // 2
    out = []
    for c in range(calls):
        events = [
            {
                "ActivityId": str(badge.public_id),
                "ActivityTime": when,
                "UserId": f"M-{c * half + j}",
            }
            for j in range(half)
        ]
        events += [
            {
                "ActivityId": str(badge.public_id),
                "ActivityTime": when,
                "UserId": f"N-{c * half + j}",
                "Email": f"n{c * half + j}@{tag}.bench",
                "FirstName": "New",
                "LastName": f"Person {c * half + j}",
            }
            for j in range(size - half)
        ]
        out.append(json.dumps(events).encode())
    return out


def api_caller(developer_key: str, token: str):
    """A function that sends one body through the whole stack and returns its duration."""
    client = Client()
    headers = {"HTTP_X_API_KEY": developer_key, "HTTP_AUTHORIZATION": f"Bearer {token}"}
    # Warm up the process (URL resolver, imports, the database connection) with a read, so
    # the timing is of the events, as in a server that has been up for a while.
    client.get("/api/badges", **headers)

    def call(body: bytes) -> float:
        started = time.perf_counter()
        response = client.post(
            "/api/ActivityEvents", body, content_type="application/json", **headers
        )
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            sys.exit(f"API answered {response.status_code}: {response.content[:300]!r}")
        statuses = {r["Status"] for r in response.json()["Results"]}
        if statuses != {"awarded"}:
            sys.exit(f"Expected every event awarded, got {statuses}")
        return elapsed

    return call


def floor_inserter(space: Space, badge: Badge, recipients: list[User]):
    """A function that inserts the next ``size`` award rows directly (the same columns as
    issuing writes) with bulk_create in one transaction, and returns its duration."""
    badge = Badge.objects.select_related("issuer__current", "graphic", "organisation").get(
        pk=badge.pk
    )
    snapshot = badge.snapshot()
    now = timezone.now()
    batch = IssueBatch.objects.create(
        space=space, badge=badge, source=IssueBatch.Source.API, issued_at=now
    )
    made = 0

    def insert(size: int) -> float:
        nonlocal made
        rows = []
        for n in range(made, made + size):
            user = recipients[n % len(recipients)]
            rows.append(
                Award(
                    space=space,
                    badge=badge,
                    batch=batch,
                    recipient=user,
                    organisation=badge.organisation,
                    issuer_version=badge.issuer.current,
                    source=IssueBatch.Source.API,
                    # distinct per (recipient, time) as the unique constraint wants
                    achieved_at=now - timedelta(seconds=n // len(recipients)),
                    issued_at=now,
                    badge_snapshot=snapshot,
                    recipient_email=user.email,
                    identity_salt=secrets.token_hex(16),
                )
            )
        made += size
        started = time.perf_counter()
        with transaction.atomic():
            Award.objects.bulk_create(rows)
        return time.perf_counter() - started

    return insert


def cleanup(space: Space, tag: str) -> None:
    with transaction.atomic():
        users = User.objects.filter(email__endswith=f"@{tag}.bench")
        OutboundEmail.objects.filter(space=space).delete()
        IdempotencyRecord.objects.filter(space=space).delete()
        Award.objects.filter(space=space).delete()
        IssueBatch.objects.filter(space=space).delete()
        Badge.objects.filter(space=space).delete()
        Graphic.objects.filter(space=space).delete()
        Issuer.objects.filter(space=space).update(current=None)
        IssuerVersion.objects.filter(space=space).delete()
        Issuer.objects.filter(space=space).delete()
        ApiKey.objects.filter(space=space).delete()
        Membership.objects.filter(space=space).delete()
        Member.objects.filter(space=space).delete()
        Role.objects.filter(space=space).delete()
        Organisation.objects.filter(space=space).order_by("-level").delete()
        space.delete()
        users.delete()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--keep", action="store_true", help="keep the bench space afterwards")
    parser.add_argument("--verbose", action="store_true", help="print each call's time")
    args = parser.parse_args(argv)

    call_command("migrate", verbosity=0)
    # Emails go to a broker, never out of this process: a worker sends them in production.
    celery_app.conf.task_always_eager = False
    if not settings.CELERY_BROKER_URL:
        celery_app.conf.broker_url = "memory://"
    settings.API_RATE_LIMIT = 10**9  # measure the work, not the rate limit

    tag = f"bench-{secrets.token_hex(4)}"
    total = args.calls * args.size
    member_count = args.calls * (args.size // 2)
    print(f"database: {connection.vendor} ({connection.settings_dict['NAME']})")
    print(f"setting up: space {tag}, {member_count:,} members")
    space, badge, floor_badge, developer_key, token, members = setup(tag, member_count)
    try:
        payloads = bodies(tag, badge, args.calls, args.size)
        call = api_caller(developer_key, token)
        insert = floor_inserter(space, floor_badge, members)
        # Interleaved, one API call then one floor batch: on a shared machine both see the
        # same load, so their ratio means something even when the absolute figures wander.
        api_seconds = floor_seconds = 0.0
        for body in payloads:
            api_time, floor_time = call(body), insert(args.size)
            api_seconds += api_time
            floor_seconds += floor_time
            if args.verbose:
                print(f"  call {api_time:.3f} s, floor {floor_time:.3f} s")
        api_rate = total / api_seconds
        floor_rate = total / floor_seconds
        print(f"api: {total:,} events in {api_seconds:.2f} s = {api_rate:,.0f} events/s")
        print(f"floor: {total:,} award rows in {floor_seconds:.2f} s = {floor_rate:,.0f} rows/s")
        print(f"ratio_api_to_floor={api_rate / floor_rate:.3f}")
    finally:
        if not args.keep:
            cleanup(space, tag)


if __name__ == "__main__":
    main()
