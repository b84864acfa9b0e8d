"""Counting engagement without personal data (``EngagementCount``).

``count(...)`` adds one to the day's row of an award (or a badge) and kind with one UPSERT
(``INSERT … ON CONFLICT … DO UPDATE SET hits = hits + 1``, PostgreSQL and SQLite alike): no
read first, no lock held beyond the statement, nothing about the visitor kept. A failure to
count is logged and swallowed: a public page never fails because a counter did.

``countable(request)`` says whether a request is a person's visit worth counting: GET only
(not HEAD), not a browser prefetch, not a crawler or a link unfurler (they fetch the page to
draw a preview). It reads the User-Agent and two prefetch headers for that decision only.

Other apps count through the same function: claim links (``Kind.CLAIM_VIEW`` when a claim
page is shown, ``Kind.CLAIM`` when a claim becomes an award) pass the badge and its
organisation, with ``award_id`` left out for the claim page.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

from django.db import DatabaseError, connection
from django.http import HttpRequest
from django.utils import timezone

from badges.models import Badge, EngagementCount

logger = logging.getLogger(__name__)

Kind = EngagementCount.Kind

# Where a share button sends people (target → label). "linkedin_profile" is LinkedIn's
# "Add to profile" form (a certification on the person's profile), the rest are posts.
SHARE_TARGETS = {
    "linkedin": "LinkedIn",
    "linkedin_profile": "LinkedIn profile",
    "x": "X",
    "facebook": "Facebook",
    "email": "Email",
}

_BOTS = (
    "bot",
    "crawl",
    "spider",
    "slurp",
    "facebookexternalhit",
    "embedly",
    "preview",
    "whatsapp",
    "python-requests",
    "curl/",
    "wget/",
)


def countable(request: HttpRequest) -> bool:
    if request.method != "GET":
        return False
    if "prefetch" in (request.headers.get("Sec-Purpose", "") + request.headers.get("Purpose", "")):
        return False
    agent = request.headers.get("User-Agent", "").lower()
    return bool(agent) and not any(word in agent for word in _BOTS)


def count(
    *,
    kind: str,
    space_id: int,
    badge_id: int,
    organisation_id: int | None = None,
    award_id: int | None = None,
    target: str = "",
) -> None:
    """Add one to today's counter of ``kind`` for the award (or, without one, the badge).
    ``organisation_id`` is the award's (or the badge's); left out, the badge's is read in the
    same statement."""
    table = connection.ops.quote_name(EngagementCount._meta.db_table)
    badges = connection.ops.quote_name(Badge._meta.db_table)
    organisation = "%s"
    if organisation_id is None:
        organisation = f"(SELECT organisation_id FROM {badges} WHERE id = %s)"  # noqa: S608
        organisation_id = badge_id
    if award_id is None:
        conflict = "(badge_id, day, kind, target) WHERE award_id IS NULL"
    else:
        conflict = "(award_id, day, kind, target) WHERE award_id IS NOT NULL"
    sql = (
        f"INSERT INTO {table} "  # noqa: S608 - the table name is ours; values are parameters
        "(space_id, organisation_id, badge_id, award_id, day, kind, target, hits) "
        f"VALUES (%s, {organisation}, %s, %s, %s, %s, %s, 1) "
        f"ON CONFLICT {conflict} DO UPDATE SET hits = {table}.hits + 1"
    )
    params = [
        space_id,
        organisation_id,
        badge_id,
        award_id,
        timezone.localdate(),
        kind,
        target,
    ]
    try:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    except DatabaseError:
        logger.warning("Could not count %s for badge %s", kind, badge_id, exc_info=True)


def count_award(request: HttpRequest, award, kind: str, target: str = "") -> None:
    """Count ``kind`` for an award when the request is a person's (see ``countable``)."""
    if countable(request):
        count(
            kind=kind,
            space_id=award.space_id,
            organisation_id=award.organisation_id,
            badge_id=award.badge_id,
            award_id=award.pk,
            target=target,
        )


def share_url(target: str, *, url: str, title: str, linkedin_profile_url: str = "") -> str:
    """Where the share button for ``target`` sends the person (a site's own share form)."""
    if target == "linkedin_profile":
        return linkedin_profile_url
    if target == "linkedin":
        return "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url})
    if target == "x":
        return "https://twitter.com/intent/tweet?" + urlencode({"url": url, "text": title})
    if target == "facebook":
        return "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})
    if target == "email":
        return f"mailto:?subject={quote(title)}&body={quote(url)}"
    raise ValueError(target)
