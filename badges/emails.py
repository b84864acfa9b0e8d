"""Renderers for badge emails queued unrendered by issuing (see badgeplatform.mail)."""

from badgeplatform.mail import render_email
from badgeplatform.models import OutboundEmail
from badges import links


def render_badge_issued(email: OutboundEmail) -> tuple[str, str, str]:
    from badges.models import Award

    award = Award.objects.select_related(
        "recipient", "issuer_version", "space", "badge__organisation"
    ).get(pk=email.context["award"])
    context = {
        "award": award,
        "space": award.space,
        "recipient": award.recipient,
        "badge_name": award.badge_snapshot.get("name", ""),
        "issuer_name": award.issuer_version.name,
        "organisation": award.badge_snapshot.get("organisation", ""),
        "award_url": links.assertion_url(award),
        "expires_at": award.expires_at,
    }
    return render_email("badge_issued", context)
