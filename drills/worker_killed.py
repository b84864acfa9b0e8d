"""A Celery worker killed (SIGKILL, whole process group) in the middle of a batch of emails.

    python -m drills.worker_killed [--emails 300] [--kills 3] [--in-window] [--chunked] [--keep]

N emails are queued (one deliver_email task each, as queue_email does on commit) to a private
Redis; a worker (prefork, 2 children; acks_late and task_reject_on_worker_lost from settings)
sends them through a slow file backend (DRILL_SEND_DELAY=0.05 s per email). The drill kills the
whole worker with SIGKILL --kills times, at even points of the batch, restarting it each time;
then the outbox drain runs (OUTBOX_STALE_CLAIM_SECONDS=5 here instead of 600) until every row
is sent. Every email must leave once: (to, subject) pairs in the outbox vs the rows.

The one at-least-once point of the design: a worker killed after the SMTP server took the
message but before the row was marked "sent" leaves a claim that the drain releases, and the
email goes again. The drill measures that window (file written → sent_at, per email) and
reports the expected duplicates per kill. With --in-window the backend pauses 0.5 s after each
write (a slow "250 OK"), so kills land in the window: the duplicates seen are that point, made
visible, and the drill then only fails if an email is lost or sent more than 1 + kills times.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
import time
from collections import Counter

from drills.common import Drill, compare, expected_outbox, read_outbox, report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--emails", type=int, default=300)
    parser.add_argument("--kills", type=int, default=3)
    parser.add_argument("--in-window", action="store_true")
    parser.add_argument(
        "--chunked",
        action="store_true",
        help="queue as issuing does (queue_bulk: chunks, one connection, marks every "
        "OUTBOX_MARK_EVERY): duplicates are allowed up to that bound per killed process",
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    drill = Drill("worker_killed")
    try:
        run(drill, args)
    finally:
        drill.close(keep=args.keep)


def run(drill: Drill, args) -> None:
    delay = 0.05
    drill.env["DRILL_SEND_DELAY"] = str(delay)
    if args.in_window:
        drill.env["DRILL_AFTER_SEND_DELAY"] = "0.5"
    drill.setup_django()
    from django.db import transaction

    from badgeplatform import mail, outbox
    from badgeplatform.models import OutboundEmail

    tag = f"drill-wk-{secrets.token_hex(3)}"
    drill.start_redis()
    with transaction.atomic():
        if args.chunked:  # as issuing queues them: one INSERT, one task per OUTBOX_CHUNK
            mail.queue_bulk(
                [
                    OutboundEmail(
                        to=f"w{n}@{tag}.drill",
                        subject=f"Drill email {n}",
                        body_text="Sent once.",
                        kind="drill",
                    )
                    for n in range(args.emails)
                ]
            )
        for n in range(0 if args.chunked else args.emails):
            mail.queue_rendered_email(
                to=f"w{n}@{tag}.drill",
                subject=f"Drill email {n}",
                text="Sent once.",
                html="",
                kind="drill",
            )
    rows = OutboundEmail.objects.filter(to__endswith=f"@{tag}.drill")
    print(f"{rows.count()} emails queued on redis :{drill.redis_port}")

    worker = drill.start_worker()
    kills = 0
    for k in range(1, args.kills + 1):
        target = args.emails * k // (args.kills + 1)
        deadline = time.monotonic() + 120
        while len(list(drill.outbox.iterdir())) < target and time.monotonic() < deadline:
            time.sleep(0.02)
        drill.kill(worker)  # SIGKILL to the main process and its children at once
        kills += 1
        in_flight = rows.filter(status=OutboundEmail.Status.SENDING).count()
        print(f"kill {k}: {len(list(drill.outbox.iterdir()))} written, {in_flight} claims left")
        worker = drill.start_worker()

    # The drain (the beat task) releases dead claims after OUTBOX_STALE_CLAIM_SECONDS and
    # sends what the broker lost (tasks reserved by the killed worker stay unacked in Redis
    # until its visibility timeout).
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and rows.exclude(status=OutboundEmail.Status.SENT).exists():
        outbox.drain_outbox()
        time.sleep(0.5)
    time.sleep(2)

    sent = read_outbox(drill.outbox)
    expected = expected_outbox(rows)
    figures = {
        "emails": args.emails,
        "kills": kills,
        "in_window_mode": args.in_window,
        "unsent_rows": rows.exclude(status=OutboundEmail.Status.SENT).count(),
        **compare(expected, sent),
    }
    # The window: from the message written (the SMTP server has it) to the row marked sent.
    written = {}
    for path in drill.outbox.iterdir():
        ns = int(path.name.split("-")[0])
        for (to, _), _n in read_outbox_file(path).items():
            written.setdefault(to, ns)
    gaps = [
        (r.sent_at.timestamp() * 1e9 - written[r.to]) / 1e6
        for r in rows
        if r.sent_at and r.to in written
    ]
    gaps = [g for g in gaps if g >= 0]
    if gaps:
        window = statistics.median(gaps)
        per_email = delay * 1000 + window
        figures["window_ms_median"] = round(window, 2)
        figures["window_ms_p99"] = round(sorted(gaps)[int(len(gaps) * 0.99) - 1], 2)
        figures["send_ms_per_email"] = round(per_email, 1)
        # Each child is mid-send when killed: P(in window) ≈ window / time per email.
        figures["expected_duplicates_per_kill"] = round(2 * window / per_email, 3)
    broken = []
    if figures["lost"] or figures["unsent_rows"] or figures["unexpected"]:
        broken.append("an email was never sent")
    if args.chunked:
        from django.conf import settings

        # Each kill ends 2 worker processes, each with at most OUTBOX_MARK_EVERY sent, unmarked.
        bound = kills * 2 * settings.OUTBOX_MARK_EVERY
        figures["duplicates_bound"] = bound
        if figures["duplicates"] > bound:
            broken.append("more duplicates than OUTBOX_MARK_EVERY per killed process")
    elif args.in_window:
        worst = max((sent[k] for k in expected), default=0)
        if worst > 1 + kills:
            broken.append("an email was sent more often than the kills explain")
    elif figures["duplicates"]:
        broken.append("an email was sent twice")
    report(figures, broken)


def read_outbox_file(path):
    import email
    import email.policy

    from drills.common import SEPARATOR

    out = Counter()
    for chunk in path.read_bytes().split(SEPARATOR):
        if chunk.strip():
            msg = email.message_from_bytes(chunk, policy=email.policy.default)
            out[(str(msg["To"]), str(msg["Subject"]))] += 1
    return out


if __name__ == "__main__":
    main()
