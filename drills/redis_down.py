"""Redis (broker and cache) down while the Events API receives 500 events.

    python -m drills.redis_down [--events 500] [--per-call 5] [--keep]

A private redis-server is started and killed (SIGKILL, nothing saved) before the run; gunicorn
(DEBUG off, PostgreSQL) answers the Events API with the broker and the cache unreachable.
Every call must answer 200 with every event awarded and stored. Then Redis comes back, a
Celery worker starts, and the outbox drain runs (as the beat task would, in this process and
as tasks on the worker at once). Every email stored must leave exactly once: the (to, subject)
pairs in the file outbox are compared with the OutboundEmail rows.
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from drills.common import (
    Drill,
    compare,
    expected_outbox,
    make_fixtures,
    post,
    read_outbox,
    report,
    wait_for,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--per-call", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    drill = Drill("redis_down")
    try:
        run(drill, args)
    finally:
        drill.close(keep=args.keep)


def run(drill: Drill, args) -> None:
    drill.setup_django()
    from django.utils import timezone

    from badgeplatform import outbox
    from badgeplatform.models import OutboundEmail
    from badgeplatform.tasks import drain_outbox
    from badges.models import Award

    tag = f"drill-rd-{secrets.token_hex(3)}"
    space, badge, developer_key, token, _ = make_fixtures(tag)
    drill.start_redis()
    base = drill.start_server()
    drill.stop_redis()
    print(f"redis on :{drill.redis_port} killed; server {base}; sending {args.events} events")

    when = (timezone.now() - timedelta(days=1)).replace(microsecond=0).isoformat()
    headers = {
        "X-Api-Key": developer_key,
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
    }
    bodies = []
    for c in range(0, args.events, args.per_call):
        bodies.append(
            json.dumps(
                [
                    {
                        "ActivityId": str(badge.public_id),
                        "ActivityTime": when,
                        "UserId": f"N-{n}",
                        "Email": f"n{n}@{tag}.drill",
                        "FirstName": "New",
                        "LastName": f"Person {n}",
                    }
                    for n in range(c, min(c + args.per_call, args.events))
                ]
            ).encode()
        )

    def call(body: bytes) -> tuple[int, int]:
        status, content = post(base + "/api/ActivityEvents", body, headers)
        if status != 200:
            print(f"  {status}: {content[:200]!r}")
            return status, 0
        return status, sum(r["Status"] == "awarded" for r in json.loads(content)["Results"])

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(call, bodies))
    took = time.monotonic() - started
    statuses = Counter(s for s, _ in results)
    accepted = sum(n for _, n in results)
    stored = Award.objects.filter(space=space).count()
    rows = OutboundEmail.objects.filter(to__endswith=f"@{tag}.drill")
    waiting = rows.exclude(status=OutboundEmail.Status.SENT).count()
    print(f"calls {dict(statuses)} in {took:.1f}s; emails stored and waiting: {waiting}")

    # Redis returns: a worker, and the drain both here and on the worker (two drains racing).
    drill.start_redis()
    drill.start_worker()
    time.sleep(1.5)  # past OUTBOX_DRAIN_GRACE_SECONDS
    for _ in range(3):
        drain_outbox.delay()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and rows.exclude(status=OutboundEmail.Status.SENT).exists():
        outbox.drain_outbox()
        time.sleep(0.5)
    drain_outbox.delay()
    time.sleep(3)  # let the worker's last drain find nothing to do
    wait_for(lambda: True, 1, "")

    expected = expected_outbox(rows)
    figures = {
        "events_sent": args.events,
        "calls": len(bodies),
        "calls_200": statuses.get(200, 0),
        "accepted": accepted,
        "stored_awards": stored,
        "emails_stored": rows.count(),
        "emails_unsent": rows.exclude(status=OutboundEmail.Status.SENT).count(),
        **compare(expected, read_outbox(drill.outbox)),
    }
    broken = []
    if figures["calls_200"] != len(bodies):
        broken.append("a call was not accepted while Redis was down")
    if accepted != args.events or stored != args.events:
        broken.append("an award was lost or duplicated")
    if figures["emails_stored"] != 2 * args.events:
        broken.append("expected two emails per new person (verify + awarded)")
    if figures["duplicates"] or figures["lost"] or figures["unexpected"]:
        broken.append("an email was sent twice or never")
    report(figures, broken)


if __name__ == "__main__":
    main()
