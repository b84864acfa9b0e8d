"""Two identical Events API calls at once, 50 times: never a second award.

    python -m drills.parallel_api [--rounds 50] [--keep]

Against a live gunicorn (4 sync workers, PostgreSQL): each round sends the same body (one
event for a new person: UserId, Email, names) twice, from two threads released together by a
barrier, without an Idempotency-Key. Afterwards: one award, one person, one membership and
one "awarded" email per round, whatever the two answers were (both must be 200).
"""

from __future__ import annotations

import argparse
import json
import secrets
import threading
from collections import Counter
from datetime import timedelta

from drills.common import Drill, make_fixtures, post, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    drill = Drill("parallel_api")
    try:
        run(drill, args)
    finally:
        drill.close(keep=args.keep)


def run(drill: Drill, args) -> None:
    drill.setup_django()
    from django.db.models import Count
    from django.utils import timezone

    from badgeplatform.models import OutboundEmail
    from badges.models import Award
    from users.models import Member, User

    tag = f"drill-pa-{secrets.token_hex(3)}"
    space, badge, developer_key, token, _ = make_fixtures(tag)
    drill.start_redis()
    base = drill.start_server(workers=4)
    headers = {
        "X-Api-Key": developer_key,
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
    }
    when = (timezone.now() - timedelta(days=1)).replace(microsecond=0).isoformat()
    statuses: Counter = Counter()
    results: Counter = Counter()
    for n in range(args.rounds):
        body = json.dumps(
            [
                {
                    "ActivityId": str(badge.public_id),
                    "ActivityTime": when,
                    "UserId": f"P-{n}",
                    "Email": f"p{n}@{tag}.drill",
                    "FirstName": "Parallel",
                    "LastName": str(n),
                }
            ]
        ).encode()
        barrier = threading.Barrier(2)

        def call(body=body, barrier=barrier) -> None:
            barrier.wait()
            status, content = post(base + "/api/ActivityEvents", body, headers)
            statuses[status] += 1
            if status == 200:
                for result in json.loads(content)["Results"]:
                    results[result["Status"]] += 1
            else:
                print(f"  {status}: {content[:200]!r}")

        threads = [threading.Thread(target=call) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    awards = Award.objects.filter(space=space)
    per_person = Counter(
        awards.values("recipient_id").annotate(n=Count("id")).values_list("n", flat=True)
    )
    users = User.objects.filter(email__endswith=f"@{tag}.drill").count()
    members = Member.objects.filter(space=space, external_id__startswith="P-").count()
    emails = OutboundEmail.objects.filter(to__endswith=f"@{tag}.drill")
    email_kinds = Counter(emails.values_list("kind", flat=True))
    figures = {
        "rounds": args.rounds,
        "calls": sum(statuses.values()),
        "http_statuses": dict(statuses),
        "event_results": dict(results),
        "awards": awards.count(),
        "duplicates": sum((n - 1) * c for n, c in per_person.items() if n > 1),
        "lost": args.rounds - len(awards.values("recipient_id").distinct()),
        "people_created": users,
        "members": members,
        "emails_by_kind": dict(email_kinds),
    }
    broken = []
    if statuses.get(200, 0) != 2 * args.rounds:
        broken.append("a call was not answered 200")
    if figures["awards"] != args.rounds or figures["duplicates"] or figures["lost"]:
        broken.append("a second award (or none) for a round")
    if users != args.rounds or members != args.rounds:
        broken.append("a person or membership created twice")
    if any(n != args.rounds for n in email_kinds.values()):
        broken.append("an email queued twice")
    report(figures, broken)


if __name__ == "__main__":
    main()
