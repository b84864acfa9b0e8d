"""Expiry emails: reminders before an award expires and the email once it has.

Each badge says when to remind (``Badge.expiry_reminder_days``, "30,7" by default, editable in
the badge editor) and whether to email about expiry at all (``Badge.expiry_emails``); each
person may turn the emails off in their Settings (``User.expiry_reminders``). Two jobs, run by
the Celery beat (``badges.tasks.send_expiry_emails``) and, in the embedded default, by the
background runner (``badgeplatform.runner``), every EXPIRY_JOB_EVERY seconds:

- ``reminders_send``: for each reminder threshold d of a badge, the live awards (not revoked,
  declined, suspended or renewed) that expire within d days but not yet within the next
  smaller threshold, that existed before that window opened (an award issued 20 days before
  its expiry gets the 7-day reminder, not a "30 days" one), and that have no reminder for d
  or a later one yet.
- ``expired_send``: the live awards that expired within EXPIRED_LOOKBACK and have not had the
  "expired" email.

Exactly once: each email is claimed by an ``ExpiryNotice(award, kind, days)`` row inserted
with ``INSERT … ON CONFLICT DO NOTHING RETURNING`` in the transaction that queues the email in
the outbox; only the rows this run inserted are emailed. A second run finds the rows; a
concurrent run waits on PostgreSQL for the first one's uncommitted rows and then inserts
nothing. Queries: one per (distinct reminder setting × threshold) to find the awards, then
two per chunk of CHUNK awards (the claim, the outbox insert) and one audit entry per space
and chunk — nothing per award.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from badgeplatform.audit import audit_log
from badgeplatform.mail import queue_bulk
from badgeplatform.models import OutboundEmail
from badges import links
from badges.models import Award, Badge, ExpiryNotice
from badges.models.badges import parse_reminder_days
from orgs.models import Space

log = logging.getLogger(__name__)

EMAIL_KIND = "award_expiry"
# An "expired" email only for awards that expired this recently: turning the feature on (or
# a job that was down for a while) never mails people about badges that lapsed long ago.
EXPIRED_LOOKBACK = timedelta(days=7)
CHUNK = 500
EXPIRY_JOB_EVERY = 3600.0  # seconds, the beat's and the embedded runner's interval


def live_awards() -> QuerySet[Award]:
    """Awards that still stand and whose recipient wants expiry emails: not revoked,
    declined or suspended, not renewed (the renewal carries on), the badge's expiry emails on
    and the person's preference on."""
    return Award.objects.filter(
        revoked_at__isnull=True,
        declined_at__isnull=True,
        suspended_at__isnull=True,
        renewed_by__isnull=True,
        badge__expiry_emails=True,
        recipient__expiry_reminders=True,
    )


def _notice_q(kind: str, **extra) -> Exists:
    return Exists(ExpiryNotice.objects.filter(award=OuterRef("pk"), kind=kind, **extra))


def reminders_due(now: datetime) -> list[tuple[Award, int]]:
    """(award, days) for every reminder that is due and not yet claimed."""
    settings_in_use = (
        Badge.objects.filter(expiry_emails=True)
        .exclude(expiry_reminder_days="")
        .values_list("expiry_reminder_days", flat=True)
        .distinct()
    )
    due: list[tuple[Award, int]] = []
    for text in sorted(set(settings_in_use)):
        days = parse_reminder_days(text)
        for i, d in enumerate(days):
            after = days[i + 1] if i + 1 < len(days) else 0
            awards = (
                live_awards()
                .filter(
                    badge__expiry_reminder_days=text,
                    expires_at__gt=now + timedelta(days=after),
                    expires_at__lte=now + timedelta(days=d),
                    # It existed before this window opened (else a smaller threshold's turn).
                    issued_at__lte=F("expires_at") - timedelta(days=d),
                )
                .filter(~_notice_q(ExpiryNotice.Kind.REMINDER, days__lte=d))
                .only("pk", "space_id", "public_id", "recipient_email", "expires_at")
                .order_by("expires_at", "pk")
            )
            due.extend((a, d) for a in awards)
    return due


def expired_due(now: datetime) -> list[Award]:
    return list(
        live_awards()
        .filter(expires_at__gt=now - EXPIRED_LOOKBACK, expires_at__lte=now)
        .filter(~_notice_q(ExpiryNotice.Kind.EXPIRED))
        .only("pk", "space_id", "public_id", "recipient_email", "expires_at")
        .order_by("expires_at", "pk")
    )


def _claim(rows: list[tuple[int, str, int]], now: datetime) -> set[tuple[int, str, int]]:
    """Insert the notice rows that do not exist yet; the ones this call inserted."""
    if not rows:
        return set()
    table = ExpiryNotice._meta.db_table
    stamp = connection.ops.adapt_datetimefield_value(now)
    values = ", ".join(["(%s, %s, %s, %s)"] * len(rows))
    params: list = []
    for award_id, kind, days in rows:
        params += [award_id, kind, days, stamp]
    with connection.cursor() as cursor:
        cursor.execute(
            # The table name is ours; every value is a parameter.
            f"INSERT INTO {table} (award_id, kind, days, created_at) VALUES {values} "  # noqa: S608
            "ON CONFLICT (award_id, kind, days) DO NOTHING RETURNING award_id, kind, days",
            params,
        )
        return {(a, k, d) for a, k, d in cursor.fetchall()}


def _send(items: list[tuple[Award, str, int]], now: datetime) -> int:
    """Claim and queue, CHUNK at a time, each chunk in one transaction: the notice rows and
    the outbox rows commit together or not at all."""
    sent = 0
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        with transaction.atomic():
            claimed = _claim([(a.pk, kind, days) for a, kind, days in chunk], now)
            if not claimed:
                continue
            emails, per_space = [], defaultdict(lambda: defaultdict(int))
            for award, kind, days in chunk:
                if (award.pk, kind, days) not in claimed:
                    continue
                emails.append(
                    OutboundEmail(
                        space_id=award.space_id,
                        to=award.recipient_email,
                        kind=EMAIL_KIND,
                        context={"award": award.pk, "event": kind, "days": days},
                        dedupe_key=f"award-expiry:{award.public_id}:{kind}:{days}",
                    )
                )
                per_space[award.space_id][kind] += 1
            queue_bulk(emails)
            for space_id, counts in sorted(per_space.items()):
                audit_log(
                    space=Space(pk=space_id),
                    actor=None,
                    action="award.expiry_emails",
                    label=", ".join(f"{n} {k}" for k, n in sorted(counts.items())),
                    changes=dict(counts),
                )
            sent += len(emails)
    return sent


def reminders_send(now: datetime | None = None) -> int:
    """Queue the reminders that are due; how many were queued by this run."""
    now = now or timezone.now()
    return _send([(a, ExpiryNotice.Kind.REMINDER, d) for a, d in reminders_due(now)], now)


def expired_send(now: datetime | None = None) -> int:
    """Queue the "expired" emails that are due; how many were queued by this run."""
    now = now or timezone.now()
    return _send([(a, ExpiryNotice.Kind.EXPIRED, 0) for a in expired_due(now)], now)


def expiry_emails_send(now: datetime | None = None) -> dict[str, int]:
    """Both jobs (the beat's task and the embedded runner's job)."""
    now = now or timezone.now()
    return {"reminders": reminders_send(now), "expired": expired_send(now)}


def expiring_q(now: datetime, days: int) -> Q:
    """Live awards expiring within ``days`` days (for lists and dashboards)."""
    return Q(
        revoked_at__isnull=True,
        declined_at__isnull=True,
        suspended_at__isnull=True,
        renewed_by__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(days=days),
    )


# ---- The email -----------------------------------------------------------------------------


def render_award_expiry(email: OutboundEmail) -> tuple[str, str, str]:
    """The reminder ("expires in N days, on …") or the "expired" email, in the space's frame,
    with a link to the award and to the person's email settings."""
    from badgeplatform.mail import render_email
    from branding.emails import frame_context

    award = Award.objects.select_related("recipient", "issuer_version", "space").get(
        pk=email.context["award"]
    )
    event = email.context["event"]
    if event not in (ExpiryNotice.Kind.REMINDER, ExpiryNotice.Kind.EXPIRED):
        raise ValueError(f"Unknown award expiry event {event!r}")
    expires = timezone.localtime(award.expires_at) if award.expires_at else None
    context = {
        **frame_context(award.space),
        "event": event,
        "days": email.context.get("days", 0),
        "expiry_date": date_format(expires, "j F Y") if expires else "",
        "first_name": award.recipient.first_name or award.recipient.username,
        "badge_name": award.badge_snapshot.get("name", ""),
        "issuer_name": award.issuer_version.name,
        "link": links.assertion_url(award),
        "backpack_url": settings.SITE_URL + reverse("backpack:index"),
        "settings_url": settings.SITE_URL + reverse("accounts:settings"),
    }
    return render_email("award_expiry", context)
