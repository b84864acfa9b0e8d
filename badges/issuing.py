"""Issuing: one function that turns recipients into awards, for every path.

The browser (one person, a group, a CSV), the Events API and rules all call
``awards_issue``. It resolves recipients, creates missing people and awards in bulk with a
constant number of queries, whatever the batch size, finds duplicates (same badge + recipient +
achievement time) instead of creating them, and queues the emails (unrendered, one task per
batch) to go out after commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone

from badgeplatform.audit import audit_log
from badgeplatform.bulk import insert_many
from badgeplatform.mail import queue_bulk
from badgeplatform.models import OutboundEmail
from badgeplatform.permissions import Perm
from badgeplatform.webhook_events import webhooks_emit
from badges.models import Award, Badge, IssueBatch
from badges.openbadges.status import entries_create as status_entries_create
from badges.openbadges.tasks import queue_credential_signing
from users.memberships import members_join_space_bulk
from users.models import Member, User

if TYPE_CHECKING:
    from badgeplatform.access import Access
    from orgs.models import Organisation, Space

# An ActivityTime this far ahead of our clock is a mistake, not clock skew.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_NAME = 150
MAX_EXTERNAL_ID = 200


@dataclass
class RecipientInput:
    """One recipient as a caller knows them. ``user`` is set when already resolved (picked
    from the space's members); otherwise ``external_id`` and/or ``email`` identify them."""

    email: str = ""
    first_name: str = ""
    last_name: str = ""
    external_id: str = ""
    achieved_at: datetime | None = None
    user: User | None = None
    # The caller's name for this row (e.g. "line 7" of a CSV), echoed in the batch's failures
    # so a result page can point at the row after the rows themselves are gone.
    ref: str = ""
    # The caller knows ``user`` is a member of the space already (it resolved them itself).
    in_space: bool = False
    # What they did and achieved, already through badges.evidence (the stored form).
    evidence: list[dict] = field(default_factory=list)
    results: list[dict] = field(default_factory=list)
    # The award this one renews, chosen by the issuer (badges.renewal). Without it, a new award
    # renews the recipient's expired or expiring award of the badge, if any (see _issue).
    renews: Award | None = None


@dataclass
class IssueOutcome:
    index: int
    status: str  # "awarded" | "duplicate" | "rejected"
    award: Award | None = None
    errors: dict[str, str] = field(default_factory=dict)
    new_user: bool = False
    # The expired or expiring award the new one renews (status "awarded" only).
    renewed: Award | None = None


class BadgeNotIssuable(Exception):
    """The badge is a draft or withdrawn: nothing can be issued."""


def _single_line(value: str) -> bool:
    return not any(c in value for c in "\r\n\x00")


def recipient_errors(r: RecipientInput, achieved_at: datetime, now: datetime) -> dict[str, str]:
    """What is wrong with one recipient row, keyed by the Events API's field names."""
    errors: dict[str, str] = {}
    if r.email:
        try:
            validate_email(r.email)
        except ValidationError:
            errors["Email"] = "Enter a valid email address."
        if len(r.email) > 254:
            errors["Email"] = "An email address has at most 254 characters."
    for key, value in (("FirstName", r.first_name), ("LastName", r.last_name)):
        if len(value) > MAX_NAME:
            errors[key] = f"At most {MAX_NAME} characters."
        elif not _single_line(value):
            errors[key] = "Use a single line without line breaks."
    if len(r.external_id) > MAX_EXTERNAL_ID or not _single_line(r.external_id):
        errors["UserId"] = f"A single line of at most {MAX_EXTERNAL_ID} characters."
    if timezone.is_naive(achieved_at):
        errors["ActivityTime"] = (
            "Give the time with its UTC offset, e.g. 2026-05-01T09:30:00+02:00."
        )
    elif achieved_at > now + FUTURE_TOLERANCE:
        errors["ActivityTime"] = "The achievement time is in the future."
    if r.user is None and not r.email and not r.external_id:
        errors["Email"] = "Give the recipient's email address."
    return errors


def _username_for(email: str, taken: set[str]) -> str:
    base = "".join(c for c in email.split("@")[0] if c.isalnum() or c in "._+-")[:100] or "user"
    candidate = base
    while candidate.lower() in taken:
        candidate = f"{base}-{secrets.token_hex(3)}"
    taken.add(candidate.lower())
    return candidate


@dataclass
class Resolution:
    """Who each recipient is. ``users[i]`` is None when recipient i could not be resolved
    (its ``errors`` say why); ``is_new[i]`` when this call created the person."""

    users: list[User | None]
    is_new: list[bool]
    new_users: list[User]
    # user pk → their external id in the space (None when they have none): the API's UserId.
    external_ids: dict[int, str | None]


def _email_in(r: RecipientInput) -> str:
    """The address that identifies a recipient: Email, else a UserId that is an address."""
    if r.email:
        return r.email
    if "@" in r.external_id and len(r.external_id) <= 254:
        try:
            validate_email(r.external_id)
        except ValidationError:
            return ""
        return r.external_id
    return ""


def recipients_resolve(
    *,
    space: Space,
    recipients: Sequence[RecipientInput],
    errors: Sequence[dict[str, str]],
    join_organisation: Organisation | Sequence[Organisation],
) -> Resolution:
    """Find or create the people behind ``recipients`` with a constant number of queries.

    In order: a member of the space whose external id is the recipient's; a user anywhere
    whose email matches (a UserId that is an address counts); else a new unverified user (who
    needs an email and both names; otherwise a message is added to that recipient's
    ``errors``). People not yet in the space join it as plain Users, in ``join_organisation``
    (one for all, or one per recipient). Recipients whose ``errors`` are already non-empty
    are skipped. The caller queues the verification emails for ``new_users``.
    """
    n = len(recipients)
    orgs = (
        list(join_organisation)
        if isinstance(join_organisation, Sequence)
        else [join_organisation] * n
    )
    live = [i for i in range(n) if not errors[i]]

    # By external id in this space, then by email anywhere (2 queries).
    ext_ids = {
        recipients[i].external_id
        for i in live
        if recipients[i].external_id and recipients[i].user is None
    }
    by_ext = {
        m.external_id: m.user
        for m in Member.objects.filter(space=space, external_id__in=ext_ids).select_related("user")
    }
    wanted = {i: _email_in(recipients[i]) for i in live if recipients[i].user is None}
    emails = {e.lower() for e in wanted.values() if e}
    by_email = {
        u.email_lower: u
        for u in User.objects.annotate(email_lower=Lower("email")).filter(email_lower__in=emails)
    }

    users: list[User | None] = [None] * n
    is_new = [False] * n
    new_users: dict[str, User] = {}
    # People found by their external id are members of the space, with that id.
    members: dict[int, str | None] = {}
    for i in live:
        r = recipients[i]
        user = r.user or by_ext.get(r.external_id)
        if r.user is None and user is not None:
            members[user.pk] = r.external_id
        if user is None:
            email = wanted[i]
            user = by_email.get(email.lower()) if email else None
            if user is None:
                if not email:
                    errors[i]["Email"] = "This recipient is new: give their email address."
                    continue
                missing = [
                    k for k, v in (("FirstName", r.first_name), ("LastName", r.last_name)) if not v
                ]
                if missing:
                    for key in missing:
                        errors[i][key] = "This recipient is new: give their name."
                    continue
                key = email.lower()
                if key not in new_users:
                    new_users[key] = User(
                        email=email, first_name=r.first_name, last_name=r.last_name
                    )
                    is_new[i] = True
                user = new_users[key]
        users[i] = user

    if new_users:
        # Sorted, so two calls creating the same people insert them in the same order and
        # one waits for the other instead of deadlocking.
        creating = [new_users[k] for k in sorted(new_users)]
        local_parts = [u.email.split("@")[0].lower() for u in creating]
        taken_usernames = {
            name.lower()
            for name in User.objects.annotate(n=Lower("username"))
            .filter(n__in=local_parts)
            .values_list("username", flat=True)
        }
        for u in creating:
            u.username = _username_for(u.email, taken_usernames)
            # What set_unusable_password() stores ("!" + random), from one urandom call
            # rather than forty random choices: it shows at a thousand new people.
            u.password = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)
        insert_many(creating)

    # Membership: people not yet in the space join it (1 query for those whose membership is
    # not known already — found by external id, or just created — + 3 when someone joins).
    created = {u.pk for u in new_users.values()}
    join_org: dict[int, Organisation] = {}
    ext_for: dict[int, str] = {}
    for i in live:
        user = users[i]
        if user is None or recipients[i].in_space:
            continue
        join_org.setdefault(user.pk, orgs[i])
        ext = recipients[i].external_id
        if ext and "@" not in ext:
            ext_for.setdefault(user.pk, ext)
    unknown = [pk for pk in join_org if pk not in members and pk not in created]
    external_ids: dict[int, str | None] = dict(members)
    external_ids.update(
        Member.objects.filter(space=space, user_id__in=unknown).values_list(
            "user_id", "external_id"
        )
    )
    joining = sorted(pk for pk in join_org if pk not in external_ids)
    if joining:
        # The people layer seats them (as plain Users, on the badge's organisation).
        members_join_space_bulk(
            space=space, joining={pk: (join_org[pk], ext_for.get(pk)) for pk in joining}
        )
        external_ids.update({pk: ext_for.get(pk) for pk in joining})
    return Resolution(
        users=users, is_new=is_new, new_users=list(new_users.values()), external_ids=external_ids
    )


def verification_emails(*, space: Space, users: Sequence[User]) -> list[OutboundEmail]:
    """Unrendered "verify your email" rows for people created by issuing (for queue_bulk)."""
    return [
        OutboundEmail(
            space=space,
            to=u.email,
            kind="verify_email",
            context={"user": u.pk, "space": space.pk},
            dedupe_key=f"verify-new:{space.pk}:{u.pk}",
        )
        for u in users
    ]


def award_emails(*, space: Space, awards: Sequence[Award]) -> list[OutboundEmail]:
    """Unrendered "you have been awarded" rows, one per award (for queue_bulk)."""
    return [
        OutboundEmail(
            space=space,
            to=a.recipient_email,
            kind="badge_issued",
            context={"award": a.pk},
            dedupe_key=f"award:{a.public_id}",
        )
        for a in awards
    ]


def awards_issue(
    *,
    access: Access,
    badge: Badge,
    recipients: list[RecipientInput],
    achieved_at: datetime | None = None,
    source: str = IssueBatch.Source.MANUAL,
    actor: User | None = None,
    batch: IssueBatch | None = None,
    notify: bool = True,
    first_index: int = 0,
) -> tuple[IssueBatch, list[IssueOutcome]]:
    """Issue ``badge`` to ``recipients`` in one batch; one outcome per recipient, in order.

    A worker processing a large batch in chunks passes the ``batch`` and, as ``first_index``,
    the position of ``recipients[0]`` in it, so outcomes and failures number the whole batch.
    A batch whose ``total`` was set beforehand (the rows it was created with) keeps it.

    Raises BadgeNotIssuable for a draft or withdrawn badge, PermissionDenied when ``access``
    (a person, an API key, or ``Access.system`` for the worker and rules) may not issue it. A
    concurrent call that created the same person or award first makes this one retry, and
    then find them: a repeated call never awards twice. ``actor`` is who the audit names.
    """
    access.require(Perm.ISSUE_BADGES, organisation=badge.organisation)
    if not badge.is_issuable:
        raise BadgeNotIssuable(
            f"“{badge}” is {badge.get_state_display().lower()}: publish it first."
        )
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _issue(
                    badge=badge,
                    recipients=recipients,
                    achieved_at=achieved_at,
                    source=source,
                    actor=actor,
                    batch=batch,
                    notify=notify,
                    first_index=first_index,
                )
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _issue(*, badge, recipients, achieved_at, source, actor, batch, notify, first_index):
    space: Space = badge.space
    now = timezone.now()
    default_time = achieved_at or now
    # Lock the badge row: a withdrawal committed meanwhile is seen, and it is seen consistently.
    badge = (
        Badge.objects.select_for_update(of=("self",))
        .select_related("issuer__current", "graphic", "organisation", "space")
        .get(pk=badge.pk)
    )
    if not badge.is_issuable:
        raise BadgeNotIssuable(
            f"“{badge}” is {badge.get_state_display().lower()}: publish it first."
        )
    issuer_version = badge.issuer.current
    snapshot = badge.snapshot()

    one_shot = batch is None
    if one_shot:
        batch = IssueBatch.objects.create(
            space=space,
            badge=badge,
            source=source,
            created_by=actor,
            issued_at=now,
            status=IssueBatch.Status.DONE,
            finished_at=now,
        )
    issued_at = batch.issued_at
    expires_at = badge.expiry_for(issued_at)

    outcomes: list[IssueOutcome] = []
    rows: list[tuple[IssueOutcome, RecipientInput, datetime]] = []
    for index, r in enumerate(recipients):
        r.email = r.email.strip()
        r.first_name, r.last_name = r.first_name.strip(), r.last_name.strip()
        r.external_id = r.external_id.strip()
        when = r.achieved_at or default_time
        outcome = IssueOutcome(
            index=first_index + index, status="rejected", errors=recipient_errors(r, when, now)
        )
        outcomes.append(outcome)
        if not outcome.errors:
            rows.append((outcome, r, when))

    # --- Resolve people (and add newcomers to the space, in the badge's organisation).
    resolution = recipients_resolve(
        space=space,
        recipients=[r for _, r, _ in rows],
        errors=[o.errors for o, _, _ in rows],
        join_organisation=badge.organisation,
    )
    new_users = resolution.new_users
    resolved: list[tuple[IssueOutcome, datetime, User, RecipientInput]] = []
    for (outcome, r, when), user, is_new in zip(
        rows, resolution.users, resolution.is_new, strict=True
    ):
        if user is not None:
            outcome.new_user = is_new
            resolved.append((outcome, when, user, r))
    people = {u.pk for _, _, u, _ in resolved}

    # --- Awards: find duplicates and the awards a new one would renew (1 query), then insert
    # the rest (1 query).
    existing, renewable = _existing_and_renewable(badge, people, resolved, now)
    to_create: dict[tuple[int, datetime], Award] = {}
    renewals: list[tuple[Award, Award]] = []
    for outcome, when, user, r in resolved:
        key = (user.pk, when)
        if key in existing:
            outcome.status, outcome.award = "duplicate", existing[key]
        elif key in to_create:  # the same achievement twice in this batch
            outcome.status, outcome.award = "duplicate", to_create[key]
        else:
            award = Award(
                space=space,
                badge=badge,
                batch=batch,
                recipient=user,
                organisation=badge.organisation,
                issuer_version=issuer_version,
                source=source,
                achieved_at=when,
                issued_at=issued_at,
                expires_at=expires_at,
                badge_snapshot=snapshot,
                recipient_email=user.email,
                identity_salt=secrets.token_hex(16),
                evidence=r.evidence,
                results=r.results,
            )
            # A renewal: the award the issuer chose, or else this person's expired or expiring
            # award of the badge achieved before this (each renewed once).
            old = r.renews
            if old is None:
                old = renewable.get(user.pk)
                if old is not None and old.achieved_at >= when:
                    old = None
            if old is not None:
                renewable.pop(user.pk, None)
                award.renews = old
                award.renews_public_id = old.public_id
                outcome.renewed = old
                renewals.append((award, old))
            to_create[key] = award
            outcome.status, outcome.award = "awarded", award
    insert_many(list(to_create.values()))
    # Each new credential's place in the issuer's status list, drawn in bulk (3 queries).
    status_entries_create(space=space, issuer=badge.issuer, awards=list(to_create.values()))
    # Subscribed webhook endpoints hear of each new award (1 INSERT, sent after commit).
    webhooks_emit(space, "award.issued", list(to_create.values()))
    # OB 3.0 credentials are signed by the worker after commit (or on first request).
    transaction.on_commit(lambda: queue_credential_signing([a.pk for a in to_create.values()]))

    # --- Emails, rendered by the worker at send time (1 INSERT, 1 task after commit).
    if notify:
        emails = verification_emails(space=space, users=new_users)
        emails += award_emails(space=space, awards=list(to_create.values()))
        queue_bulk(emails)

    counts = {
        s: sum(1 for o in outcomes if o.status == s) for s in ("awarded", "duplicate", "rejected")
    }
    batch.processed += len(recipients)
    batch.total = max(batch.total, batch.processed)
    batch.issued += counts["awarded"]
    batch.duplicates += counts["duplicate"]
    batch.failed += counts["rejected"]
    batch.failures = (batch.failures or []) + [
        {
            "index": o.index,
            "ref": recipients[o.index - first_index].ref,
            "email": recipients[o.index - first_index].email,
            "errors": o.errors,
        }
        for o in outcomes
        if o.status == "rejected"
    ]
    batch.save(update_fields=["total", "processed", "issued", "duplicates", "failed", "failures"])
    if counts["awarded"]:
        # One entry per issue action (per chunk for worker batches), not one per award.
        audit_log(
            space=space,
            actor=actor,
            action="award.issue",
            obj=batch,
            label=f"{badge.name}: {counts['awarded']} award(s)",
            changes={
                "source": source,
                "awarded": counts["awarded"],
                "duplicates": counts["duplicate"],
                "rejected": counts["rejected"],
            },
        )
    if renewals:
        audit_log(
            space=space,
            actor=actor,
            action="award.renew",
            obj=batch,
            label=f"{badge.name}: {len(renewals)} renewal(s)",
            changes={
                "source": source,
                "renewed": len(renewals),
                "renewals": [
                    {"award": str(new.public_id), "renews": str(old.public_id)}
                    for new, old in renewals[:200]
                ],
            },
        )
    return batch, outcomes


def _existing_and_renewable(badge, people, resolved, now):
    """One query: the awards of ``badge`` to ``people`` that are the same achievement as one
    being issued (duplicates, by (recipient, time)), and per person the award a new one would
    renew: live (not revoked, declined, suspended or already renewed), expired or expiring
    within the badge's renewal window, the latest expiry first."""
    whens = {when for _, when, _, _ in resolved}
    horizon = now + timedelta(days=badge.renewal_window_days)
    renewable_q = Q(
        expires_at__isnull=False,
        expires_at__lte=horizon,
        revoked_at__isnull=True,
        declined_at__isnull=True,
        suspended_at__isnull=True,
    )
    rows = (
        Award.objects.filter(badge=badge, recipient_id__in=people)
        .filter(Q(achieved_at__in=whens) | renewable_q)
        .annotate(
            renews_public_id=F("renews__public_id"),
            is_renewed=Exists(Award.objects.filter(renews=OuterRef("pk"))),
        )
        .order_by("expires_at", "pk")
    )
    existing: dict[tuple[int, datetime], Award] = {}
    renewable: dict[int, Award] = {}
    for a in rows:
        if a.achieved_at in whens:
            existing[(a.recipient_id, a.achieved_at)] = a
        if (
            a.expires_at is not None
            and a.expires_at <= horizon
            and a.revoked_at is None
            and a.declined_at is None
            and a.suspended_at is None
            and not a.is_renewed
        ):
            renewable[a.recipient_id] = a  # ordered by expiry: the latest wins
    return existing, renewable
