"""The ``data`` of each event: the award object of ``GET /api/awards/{AwardId}`` (shared/API.md)
and a badge object. Built for many objects at once in a constant number of queries."""

from __future__ import annotations

import json
from collections.abc import Sequence

from ninja.responses import NinjaJSONEncoder

from api.awards import award_object
from api.schemas import AwardOut
from badges import links
from badges.models import Award, Badge
from users.models import Member


def award_objects(space_id: int, awards: Sequence[Award]) -> list[dict]:
    """Each award exactly as ``GET /api/awards/{AwardId}`` answers it (the API's own
    ``award_object`` through its ``AwardOut`` schema), for many awards in one query (the
    recipients' external ids in this space); the awards come with their badge and recipient
    loaded, as the issuing service and the status changes have them."""
    external = dict(
        Member.objects.filter(space_id=space_id, user_id__in={a.recipient_id for a in awards})
        .exclude(external_id__isnull=True)
        .exclude(external_id="")
        .values_list("user_id", "external_id")
    )
    objects = [
        AwardOut.model_validate(
            award_object(a, user_id=external.get(a.recipient_id) or a.recipient_email)
        ).model_dump()
        for a in awards
    ]
    # Plain JSON values, encoded as the API encodes them (its dates keep milliseconds).
    return json.loads(json.dumps(objects, cls=NinjaJSONEncoder))


def badge_objects(badges: Sequence[Badge]) -> list[dict]:
    """The Reporting API's badge fields (``/api/badges``), without the award count."""
    return [
        {
            "Id": str(b.public_id),
            "Name": b.name,
            "State": b.state,
            "OrganisationId": str(b.organisation.public_id),
            "BadgeClassUrl": links.badgeclass_url(b),
        }
        for b in badges
    ]
