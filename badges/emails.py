"""Renderers for badge emails queued unrendered by issuing (see badgeplatform.mail)."""

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from badgeplatform.models import OutboundEmail
from badges import links
from branding.emails import prepared_space_email, render_space_email


def render_badge_issued(email: OutboundEmail) -> tuple[str, str, str]:
    """The space's authored badge issue email (branding.emails), filled in for one award."""
    from badges.models import Award

    award = Award.objects.select_related("recipient", "issuer_version", "space").get(
        pk=email.context["award"]
    )
    return render_space_email(space=award.space, kind="badge_issued", **_issued_values(award))


def render_badge_issued_batch(emails) -> dict[int, tuple[str, str, str]]:
    """The badge issue emails of a chunk (the worker's path): the awards, their recipients and
    issuer versions in one query, each space's branding, plan and authored email read once.
    An email whose award is gone is left out (rendered alone, it fails alone)."""
    from badges.models import Award

    wanted = {e.pk: e.context.get("award") for e in emails if e.context}
    awards = Award.objects.select_related("recipient", "issuer_version", "space").in_bulk(
        {pk for pk in wanted.values() if pk is not None}
    )
    prepared = {}
    spaces = {}
    out = {}
    for email_pk, award_pk in wanted.items():
        award = awards.get(award_pk)
        if award is None:
            continue
        # One Space instance per space, so its cached branding and plan serve every email.
        space = spaces.setdefault(award.space_id, award.space)
        if space.pk not in prepared:
            prepared[space.pk] = prepared_space_email(space, "badge_issued")
        values = _issued_values(award)
        out[email_pk] = prepared[space.pk].render_many(values["values"], values["notes"])
    return out


def _issued_values(award) -> dict:
    recipient = award.recipient
    notes = []
    if recipient.is_verified:
        notes.append(
            "All your badges are in your backpack: " + settings.SITE_URL + reverse("backpack:index")
        )
    else:
        notes.append(
            "To keep your badges in your own backpack, verify your email address with the link "
            "in our other email and create a password."
        )
    expiry = ""
    if award.expires_at:
        expiry = date_format(timezone.localtime(award.expires_at), "j F Y")
    return {
        "values": {
            "first_name": recipient.first_name or recipient.username,
            "last_name": recipient.last_name,
            "badge_name": award.badge_snapshot.get("name", ""),
            "issuer_name": award.issuer_version.name,
            "organisation": award.badge_snapshot.get("organisation", ""),
            "link": links.assertion_url(award),
            "expiry_date": expiry,
        },
        "notes": notes,
    }


STATUS_WORDS = {"revoked": "revoked", "suspended": "suspended", "reinstated": "reinstated"}


def render_award_status(email: OutboundEmail) -> tuple[str, str, str]:
    """The platform's email telling a recipient their award was revoked, suspended or
    reinstated, with the reason given (queued by ``badges.awards``), in the space's frame."""
    from badgeplatform.mail import render_email
    from badges.models import Award
    from branding.emails import frame_context

    award = Award.objects.select_related("recipient", "issuer_version", "space").get(
        pk=email.context["award"]
    )
    event = email.context["event"]
    if event not in STATUS_WORDS:
        raise ValueError(f"Unknown award status event {event!r}")
    context = {
        **frame_context(award.space),
        "event": event,
        "reason": email.context.get("reason", ""),
        "first_name": award.recipient.first_name or award.recipient.username,
        "badge_name": award.badge_snapshot.get("name", ""),
        "issuer_name": award.issuer_version.name,
        "link": links.assertion_url(award),
        "backpack_url": settings.SITE_URL + reverse("backpack:index"),
    }
    return render_email("award_status", context)
