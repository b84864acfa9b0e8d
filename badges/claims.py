"""Claim links: a short public URL (and its QR code and poster) through which people get a
badge themselves.

An issuer creates a link for a published badge they may issue (``claim_link_create``). A
visitor opens ``/c/<token>``, gives their email address (and name, and the code when the link
has one); ``claim_start`` checks the link (open, dates, limit, code, email domain) and emails
a confirmation link; ``claim_confirm`` — on that link — issues the award through the one
issuing service, ``badges.issuing.awards_issue``, with the access of the person who created the
link (re-checked: a creator who may no longer issue the badge closes their links). Someone who
already holds the badge gets it shown, not a second one.

The limit holds under concurrency: ``claim_confirm`` locks the link's row
(``select_for_update``) before it reads the count, and the count is raised in the same
transaction as the award, so two confirmations never both take the last place.

Conversion figures (``ClaimLink.views`` and ``.claimed``) are plain counters without personal
data; ``claim_link_figures`` sums them per badge. The same events go to the engagement report's
daily counters (``badges.engagement``: ``claim_view``, ``claim``).
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet, Sum
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access, load_access
from badgeplatform.audit import audit_log
from badgeplatform.mail import queue_email
from badgeplatform.permissions import Perm
from badgeplatform.webhook_events import webhooks_emit
from badges import engagement
from badges.issuing import BadgeNotIssuable, RecipientInput, awards_issue
from badges.models import Award, Badge, Claim, ClaimLink, EngagementCount, IssueBatch
from users.models import User

TOKEN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 - no 0/o, 1/l/i: read off posters
TOKEN_LENGTH = 8
CONFIRM_SALT = "badges.claims.confirm"
CONFIRM_MAX_AGE = 3 * 86400  # a confirmation link works for three days
MAX_DOMAINS = 20


class ClaimRefused(Exception):
    """Nobody (or not this person) may claim now; ``field`` names the form field to blame."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class ClaimOutcome:
    status: str  # "claimed" | "already"
    award: Award
    user: User
    new_user: bool = False


# ---- Issuer side -------------------------------------------------------------------------------


def _new_token() -> str:
    return "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))


def claim_url(link: ClaimLink) -> str:
    """The link's short public address (on the poster, under the QR code)."""
    return settings.SITE_URL + reverse("claim:page", args=[link.token])


def domains_clean(text: str) -> list[str]:
    """ "example.edu, cs.example.org" (commas, spaces or lines) → sorted lower-case domains."""
    out: set[str] = set()
    for raw in text.replace(",", " ").split():
        domain = raw.strip().lower().lstrip("@").rstrip(".")
        labels = domain.split(".")
        if (
            len(domain) > 253
            or len(labels) < 2
            or not all(
                label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels
            )
        ):
            raise ValidationError(f"“{raw[:60]}” is not a domain name like example.edu.")
        out.add(domain)
    if len(out) > MAX_DOMAINS:
        raise ValidationError(f"At most {MAX_DOMAINS} domains.")
    return sorted(out)


def claim_link_create(
    *,
    access: Access,
    badge: Badge,
    actor: User | None,
    name: str = "",
    code: str = "",
    limit: int | None = None,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    allowed_domains: list[str] | None = None,
) -> ClaimLink:
    """A new claim link for ``badge``; the actor must be able to issue it, and it must be
    published. Raises PermissionDenied, BadgeNotIssuable or ValidationError."""
    access.require(Perm.ISSUE_BADGES, organisation=badge.organisation)
    if not badge.is_issuable:
        raise BadgeNotIssuable(f"“{badge}” is not published: publish it before sharing a link.")
    if opens_at and closes_at and closes_at <= opens_at:
        raise ValidationError("The link must close after it opens.")
    if limit is not None and limit < 1:
        raise ValidationError("A limit is at least 1 claim.")
    for _ in range(5):
        token = _new_token()
        if not ClaimLink.objects.filter(token=token).exists():
            break
    link = ClaimLink.objects.create(
        space=badge.space,
        badge=badge,
        token=token,
        name=name.strip(),
        code=code.strip(),
        limit=limit,
        opens_at=opens_at,
        closes_at=closes_at,
        allowed_domains=allowed_domains or [],
        created_by=actor,
    )
    audit_log(
        space=badge.space,
        actor=actor,
        action="claim_link.create",
        obj=link,
        label=f"{badge.name}: {link}",
        changes={
            "code": bool(link.code),
            "limit": limit,
            "opens_at": opens_at.isoformat() if opens_at else None,
            "closes_at": closes_at.isoformat() if closes_at else None,
            "allowed_domains": link.allowed_domains,
        },
    )
    return link


def claim_link_close(*, access: Access, link: ClaimLink, actor: User | None) -> ClaimLink:
    access.require(Perm.ISSUE_BADGES, organisation=link.badge.organisation)
    if link.active:
        ClaimLink.objects.filter(pk=link.pk).update(active=False)
        link.active = False
        audit_log(
            space=link.space,
            actor=actor,
            action="claim_link.close",
            obj=link,
            label=f"{link.badge.name}: {link}",
        )
    return link


def claim_links_for(badge: Badge) -> QuerySet[ClaimLink]:
    return ClaimLink.objects.filter(space=badge.space, badge=badge)


def claim_link_figures(space, badge_ids=None) -> dict[int, dict[str, int]]:
    """Conversion figures per badge (no personal data): {badge id: {"views", "claims"}} over
    all its links. For reporting (one query)."""
    qs = ClaimLink.objects.filter(space=space)
    if badge_ids is not None:
        qs = qs.filter(badge_id__in=list(badge_ids))
    return {
        row["badge_id"]: {"views": row["v"] or 0, "claims": row["c"] or 0}
        for row in qs.values("badge_id").annotate(v=Sum("views"), c=Sum("claimed"))
    }


def link_viewed(link: ClaimLink) -> None:
    """Count one view of the claim page: the link's total (an atomic UPDATE) and the day's
    figure of the engagement report. Nothing about the visitor is read or kept."""
    ClaimLink.objects.filter(pk=link.pk).update(views=F("views") + 1)
    engagement.count(
        kind=EngagementCount.Kind.CLAIM_VIEW,
        space_id=link.space_id,
        badge_id=link.badge_id,
        organisation_id=link.badge.organisation_id,
    )


# ---- Visitor side ------------------------------------------------------------------------------


def email_domain_allowed(link: ClaimLink, email: str) -> bool:
    if not link.allowed_domains:
        return True
    domain = email.rsplit("@", 1)[-1].strip().lower().rstrip(".")
    return any(domain == d or domain.endswith("." + d) for d in link.allowed_domains)


def claim_check(link: ClaimLink, *, email: str, code: str) -> None:
    """Raise ClaimRefused when this person may not claim through ``link`` now."""
    problem = link.problem()
    if problem:
        raise ClaimRefused(problem)
    if not link.badge.is_issuable:
        raise ClaimRefused("This badge is not available at the moment.")
    if link.code and not hmac.compare_digest(
        code.strip().casefold().encode(), link.code.casefold().encode()
    ):
        raise ClaimRefused("That code is not right. Check the poster or the message.", "code")
    if not email_domain_allowed(link, email):
        allowed = ", ".join(link.allowed_domains)
        raise ClaimRefused(f"Use an address at {allowed}.", "email")


def confirm_token(claim: Claim) -> str:
    return signing.dumps(str(claim.public_id), salt=CONFIRM_SALT)


def confirm_url(claim: Claim) -> str:
    return settings.SITE_URL + reverse("claim:confirm", args=[confirm_token(claim)])


def claim_from_token(token: str) -> Claim | None:
    """The claim a confirmation link names, or None when the link is broken or too old."""
    try:
        public_id = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None
    return (
        Claim.objects.select_related("link__badge__graphic", "link__space")
        .filter(public_id=public_id)
        .first()
    )


def claim_start(
    *, link: ClaimLink, email: str, first_name: str = "", last_name: str = "", code: str = ""
) -> Claim:
    """Check the claim and email the confirmation link (one pending claim per address and link:
    asking again sends the link again). Raises ClaimRefused."""
    email = email.strip()
    claim_check(link, email=email, code=code)
    with transaction.atomic():
        claim = (
            Claim.objects.select_for_update()
            .filter(link=link, email__iexact=email, status=Claim.Status.PENDING)
            .first()
        )
        if claim is None:
            claim = Claim.objects.create(
                space=link.space,
                link=link,
                email=email,
                first_name=first_name.strip(),
                last_name=last_name.strip(),
            )
        else:
            claim.first_name = first_name.strip() or claim.first_name
            claim.last_name = last_name.strip() or claim.last_name
            claim.save(update_fields=["first_name", "last_name"])
        queue_email(
            to=email,
            template="claim_confirm",
            context={
                "badge_name": link.badge.name,
                "space_name": link.space.name,
                "confirm_url": confirm_url(claim),
                "days": CONFIRM_MAX_AGE // 86400,
            },
            space=link.space,
        )
    return claim


def claim_confirm(*, claim: Claim) -> ClaimOutcome:
    """Award the claimed badge (or find that the person holds it). Idempotent: a confirmed
    claim answers with its award again. Raises ClaimRefused when the link no longer allows it
    (closed, ended, full, or its creator may no longer issue the badge)."""
    with transaction.atomic():
        # The link's row first: concurrent confirmations of the same link queue here, and each
        # sees the count the previous one left.
        link = (
            ClaimLink.objects.select_for_update(of=("self",))
            .select_related("badge__organisation", "space", "created_by")
            .get(pk=claim.link_id)
        )
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        if claim.status != Claim.Status.PENDING and claim.award_id:
            award = Award.objects.select_related("recipient").get(pk=claim.award_id)
            return ClaimOutcome(status=claim.status, award=award, user=award.recipient)
        badge = link.badge
        user = User.objects.get_by_email(claim.email)
        if user is not None:
            held = (
                Award.objects.filter(badge=badge, recipient=user, revoked_at__isnull=True)
                .order_by("-issued_at")
                .first()
            )
            if held is not None:
                claim.status, claim.award = Claim.Status.ALREADY, held
                claim.confirmed_at = timezone.now()
                claim.save(update_fields=["status", "award", "confirmed_at"])
                held.recipient = user
                return ClaimOutcome(status="already", award=held, user=user)
        problem = link.problem()
        if problem:
            raise ClaimRefused(problem)
        creator = link.created_by
        access = load_access(link.space, creator) if creator is not None else None
        if access is None or not access.can(Perm.ISSUE_BADGES, organisation=badge.organisation):
            raise ClaimRefused("This claim link is no longer active.")
        try:
            _, outcomes = awards_issue(
                access=access,
                badge=badge,
                recipients=[
                    RecipientInput(
                        email=claim.email,
                        first_name=claim.first_name or claim.email.split("@")[0],
                        last_name=claim.last_name or "-",
                        user=user,
                    )
                ],
                source=IssueBatch.Source.CLAIM,
                actor=None,
            )
        except BadgeNotIssuable as exc:
            raise ClaimRefused("This badge is not available at the moment.") from exc
        outcome = outcomes[0]
        if outcome.award is None:
            problem = " ".join(outcome.errors.values()) or "The badge could not be issued."
            raise ClaimRefused(problem)
        award = outcome.award
        ClaimLink.objects.filter(pk=link.pk).update(claimed=F("claimed") + 1)
        claim.status, claim.award = Claim.Status.CLAIMED, award
        claim.confirmed_at = timezone.now()
        claim.save(update_fields=["status", "award", "confirmed_at"])
        # Subscribers hear "award.claimed" besides the issuing's "award.issued".
        webhooks_emit(link.space, "award.claimed", [award])
        # The day's claim in the engagement figures (reports), once the award is committed.
        transaction.on_commit(
            lambda: engagement.count(
                kind=EngagementCount.Kind.CLAIM,
                space_id=award.space_id,
                badge_id=award.badge_id,
                organisation_id=award.organisation_id,
                award_id=award.pk,
            )
        )
        recipient = award.recipient if user is None else user
        return ClaimOutcome(
            status="claimed", award=award, user=recipient, new_user=outcome.new_user
        )


def claim_for_user(*, link: ClaimLink, user: User, code: str = "") -> ClaimOutcome:
    """A signed-in person with a verified address claims for themselves: no email round trip."""
    claim_check(link, email=user.email, code=code)
    claim = Claim.objects.create(
        space=link.space,
        link=link,
        email=user.email,
        first_name=user.first_name,
        last_name=user.last_name,
    )
    return claim_confirm(claim=claim)


def pending_claims_for(user: User, space=None) -> QuerySet[Claim]:
    """The person's claims waiting for their confirmation (their dashboard and backpack)."""
    qs = Claim.objects.filter(email__iexact=user.email, status=Claim.Status.PENDING)
    if space is not None:
        qs = qs.filter(space=space)
    return qs.select_related("link__badge")
