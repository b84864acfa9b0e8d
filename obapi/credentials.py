"""getCredentials: a recipient's Open Badges 3.0 credentials, from every space, then those
added from elsewhere, paged by ``limit``/``offset`` over that one order.

Ours come first, oldest first (``issued_at``, then id: a stable order, so paging by offset
never skips or repeats while nothing is issued); then the imported ones in the order they
were added. Revoked and declined awards are left out (a revoked credential's status list
says so too). ``since`` keeps those issued (ours) or valid from (imported) after it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from badges.models import Award, AwardCredential
from badges.openbadges import publish
from obapi.models import ImportedCredential
from users.models import User

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass
class Page:
    total: int
    credential: list[dict] = field(default_factory=list)
    compact_jws: list[str] = field(default_factory=list)


def _awards(user: User, since: datetime | None):
    awards = Award.objects.filter(recipient=user, revoked_at__isnull=True, declined_at__isnull=True)
    if since is not None:
        awards = awards.filter(issued_at__gt=since)
    return awards


def _imported(user: User, since: datetime | None):
    imported = ImportedCredential.objects.filter(recipient=user)
    if since is not None:
        imported = imported.filter(valid_from__gt=since)
    return imported


def signed_credentials(awards: list[Award]) -> dict[int, dict]:
    """Each award's signed credential (1 query); those not signed yet are signed now."""
    stored = dict(
        AwardCredential.objects.filter(award__in=[a.pk for a in awards]).values_list(
            "award_id", "credential"
        )
    )
    missing = [a for a in awards if a.pk not in stored]
    if missing:
        publish.sign_awards(missing)
        stored.update(
            AwardCredential.objects.filter(award__in=[a.pk for a in missing]).values_list(
                "award_id", "credential"
            )
        )
    return stored


def credentials_page(user: User, *, limit: int, offset: int, since: datetime | None = None) -> Page:
    """One page (4 queries when every credential is already signed)."""
    awards_qs = _awards(user, since)
    imported_qs = _imported(user, since)
    ours = awards_qs.count()
    page = Page(total=ours + imported_qs.count())
    if offset < ours:
        awards = list(
            awards_qs.select_related("issuer_version__issuer", "badge", "space").order_by(
                "issued_at", "pk"
            )[offset : offset + limit]
        )
        signed = signed_credentials(awards)
        page.credential.extend(signed[a.pk] for a in awards)
    left = limit - len(page.credential)
    start = max(offset - ours, 0)
    if left > 0 and start < page.total - ours:
        for item in imported_qs.order_by("created_at", "pk")[start : start + left]:
            if item.compact_jws:
                page.compact_jws.append(item.compact_jws)
            else:
                page.credential.append(item.credential)
    return page
