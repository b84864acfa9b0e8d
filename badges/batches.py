"""Issuing from the browser: the recipient list, its preview, and processing it in chunks.

One issue action is one IssueBatch, through three states:

- **pending** — the recipient list being built. People picked from the space, whole groups,
  people typed in and CSV rows are appended to ``pending_rows["rows"]``; after every change the
  whole list is checked again (``rows_check``), so each row shows its problem before anything
  is issued. Only the parsed rows are kept, never an uploaded file.
- **running** — confirmed. Rows with problems are set aside as failures; the rest, each with a
  fixed achievement time, wait in ``pending_rows``. ``processed`` is the cursor: a worker takes
  the next chunk under a row lock on the batch and calls ``awards_issue(batch=…)``, which
  commits the awards and advances the cursor in one transaction. A worker that dies mid-chunk
  leaves the cursor where it was; the next run redoes that chunk and, since awards are unique
  per badge + recipient + achievement time, never awards twice.
- **done** (or **failed**, when the badge was withdrawn meanwhile) — counters and failures
  remain for the result page; the rows are dropped.

Small lists are processed in the request; larger ones by the ``issue_batch`` task. The running
itself is in ``badges.batch_run``, which the task calls too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from badgeplatform.access import Access, load_access
from badgeplatform.permissions import Perm
from badges import tasks
from badges.batch_run import Row, batch_process, rows_of
from badges.csv_import import MAX_ROWS, CsvRow
from badges.issuing import FUTURE_TOLERANCE, BadgeNotIssuable
from badges.models import Badge, IssueBatch
from users.models import Member, Membership, User
from users.places import people_in_view_q

if TYPE_CHECKING:
    from orgs.models import Space

# Up to this many recipients are issued in the request; more go to the worker with a
# progress bar. 200 keeps the request around a second on SQLite and well below on PostgreSQL.
INLINE_LIMIT = 200


class DraftFull(Exception):
    """Adding these rows would take the list over MAX_ROWS."""


class NothingToIssue(Exception):
    """Every row of the list has a problem (or the list is empty)."""


class BatchNotPending(Exception):
    """The list was already issued (a second click, another tab)."""


@dataclass
class DraftChange:
    batch: IssueBatch
    added: int
    already_listed: int
    with_problems: int


# ---- Rows ----------------------------------------------------------------------------------


def member_row(user: User, ref: str) -> Row:
    return {
        "ref": ref,
        "user": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "external_id": "",
        "achieved_at": "",
        "format_errors": {},
    }


def person_row(
    *, email: str, first_name: str, last_name: str, external_id: str = "", ref: str
) -> Row:
    return {
        "ref": ref,
        "user": None,
        "email": email.strip(),
        "first_name": first_name.strip(),
        "last_name": last_name.strip(),
        "external_id": external_id.strip(),
        "achieved_at": "",
        "format_errors": {},
    }


def csv_rows(parsed: list[CsvRow], *, file_name: str) -> list[Row]:
    name = (file_name or "CSV")[:60]
    return [
        {
            "ref": f"{name}, line {r.line}",
            "user": None,
            "email": r.email,
            "first_name": r.first_name,
            "last_name": r.last_name,
            "external_id": r.external_id,
            "achieved_at": r.achieved_at.isoformat() if r.achieved_at else "",
            # The row's own evidence and result (badges.evidence form), else the list's.
            "evidence": r.evidence,
            "results": r.results,
            "format_errors": r.errors,
        }
        for r in parsed
    ]


def _chunks(values: list, size: int = 500):
    # IN lists stay short enough for every database's parameter limit.
    for start in range(0, len(values), size):
        yield values[start : start + size]


def people_reach(*, space: Space, actor: User | None, access: Access | None = None) -> Q | None:
    """Whom the actor may see among the space's people (a filter on Membership; None for the
    whole space): the same reach as the people pages. An actor no longer in the space, or
    none, sees nobody."""
    if access is None:
        access = load_access(space, actor) if actor is not None else None
    if access is None:
        return Q(pk__in=[])
    return people_in_view_q(access)


def rows_check(rows: list[Row], *, space: Space, reach: Q | None = None) -> None:
    """Find each row's problems over the whole list, in place (``errors`` and ``who``).

    Who is this? (a member picked by id; an external id of someone the issuer may see; or a
    person given by email — found or created when issued.) Is the same person in the list
    twice for the same achievement? Does an external id point at someone else? One query per
    500 distinct external ids, emails and known people.

    ``reach`` (a Membership filter, see ``people_reach``; None: everyone) is whom the issuer
    may see. The preview tells them nothing about anyone else: such a person shows only as
    typed ("by email", names needed, as for someone new), never whether they have an account,
    and their external id resolves no one.
    """
    ext_ids = sorted({r["external_id"] for r in rows if r["external_id"] and not r.get("user")})
    by_ext: dict[str, tuple[int, str]] = {}
    for part in _chunks(ext_ids):
        for ext, user_id, email in Member.objects.filter(
            space=space, external_id__in=part
        ).values_list("external_id", "user_id", "user__email"):
            by_ext[ext] = (user_id, email)
    emails = sorted({r["email"].lower() for r in rows if r["email"] and not r.get("user")})
    by_email: dict[str, int] = {}
    for part in _chunks(emails):
        by_email.update(
            User.objects.annotate(e=Lower("email")).filter(e__in=part).values_list("e", "pk")
        )
    # Of the people found, those the issuer may see (a place in their reach).
    visible: set[int] = set()
    found = sorted({u for u, _ in by_ext.values()} | set(by_email.values()))
    for part in _chunks(found):
        places = Membership.objects.filter(space=space, user_id__in=part)
        if reach is not None:
            places = places.filter(reach)
        visible.update(places.values_list("user_id", flat=True))

    seen: dict[tuple[Any, str], int] = {}
    ext_owner: dict[str, tuple[Any, int]] = {}
    for index, r in enumerate(rows):
        errors = dict(r.get("format_errors") or {})
        who, identity = "", None
        ext, email = r["external_id"], r["email"]
        owner = by_ext.get(ext) if ext else None
        if owner is not None and owner[0] not in visible:
            owner = None  # someone the issuer may not see: their external id finds no one
            unseen_ext = True
        else:
            unseen_ext = False
        if r.get("user"):
            who, identity = "member", r["user"]
        elif "email" not in errors:
            if owner is not None:
                user_id, owner_email = owner
                if email and email.lower() != owner_email.lower():
                    errors["external_id"] = (
                        f"External id “{ext}” belongs to {owner_email} in this space, "
                        f"not to {email}."
                    )
                else:
                    who, identity = "member", user_id
            elif email and unseen_ext:
                errors["external_id"] = (
                    f"No one you may issue to has the external id “{ext}”: remove it from "
                    "this row, or ask someone who manages this person to issue it."
                )
            elif email:
                user_id = by_email.get(email.lower())
                if user_id is not None and user_id in visible:
                    who, identity = "member", user_id
                else:
                    # New, or someone the issuer may not see: only what was typed, so the
                    # names are needed in case the person is new.
                    who, identity = "email", f"email:{email.lower()}"
                    for key, label in (("first_name", "first name"), ("last_name", "last name")):
                        if not r[key]:
                            errors[key] = (
                                f"Give their {label}: they are not among the people you "
                                "manage, so they may be new here."
                            )
            else:
                errors["email"] = (
                    f"No one you may issue to has the external id “{ext}”: give their email "
                    "address."
                )
        if identity is not None and ext and "external_id" not in errors:
            first_owner = ext_owner.setdefault(ext, (identity, index))
            if first_owner[0] != identity:
                errors["external_id"] = (
                    f"External id “{ext}” is also given to another person in row "
                    f"{first_owner[1] + 1}."
                )
        if identity is not None and not errors:
            key = (identity, r["achieved_at"] or "")
            first = seen.setdefault(key, index)
            if first != index:
                same = "person and achievement time" if r["achieved_at"] else "person"
                errors["row"] = f"The same {same} as row {first + 1}: it would be a duplicate."
        r["errors"], r["who"] = errors, who


def problem_count(rows: list[Row]) -> int:
    return sum(1 for r in rows if r.get("errors"))


# ---- The recipient list (a pending batch) ---------------------------------------------------


def draft_for(*, badge: Badge, actor: User, lock: bool = False) -> IssueBatch | None:
    """The actor's recipient list for this badge, if they have one in progress."""
    qs = IssueBatch.objects.filter(
        space_id=badge.space_id, badge=badge, created_by=actor, status=IssueBatch.Status.PENDING
    ).order_by("-created_at")
    if lock:
        qs = qs.select_for_update()
    return qs.first()


@transaction.atomic
def draft_add(
    *, badge: Badge, actor: User, rows: list[Row], access: Access | None = None
) -> DraftChange:
    """Append ``rows`` to the actor's list for ``badge`` (made on first use) and check it
    against what the actor may see (``access``, or the actor's own, loaded).

    A person already in the list by account is not added again. Raises DraftFull when the list
    would grow past MAX_ROWS, and BadgeNotIssuable for a draft or withdrawn badge.
    """
    if not badge.is_issuable:
        raise BadgeNotIssuable(not_issuable_message(badge))
    batch = draft_for(badge=badge, actor=actor, lock=True)
    if batch is None:
        batch = IssueBatch.objects.create(
            space_id=badge.space_id,
            badge=badge,
            source=IssueBatch.Source.MANUAL,
            status=IssueBatch.Status.PENDING,
            created_by=actor,
            pending_rows={"rows": []},
        )
    existing = rows_of(batch)
    listed = {r["user"] for r in existing if r.get("user")}
    fresh, already = [], 0
    for r in rows:
        if r.get("user"):
            if r["user"] in listed:
                already += 1
                continue
            listed.add(r["user"])
        fresh.append(r)
    if len(existing) + len(fresh) > MAX_ROWS:
        raise DraftFull(
            f"The list would have {len(existing) + len(fresh):,} recipients; one issue takes at "
            f"most {MAX_ROWS:,}. Issue this list first, then add the rest."
        )
    all_rows = existing + fresh
    rows_check(
        all_rows,
        space=badge.space,
        reach=people_reach(space=badge.space, actor=actor, access=access),
    )
    batch.pending_rows = {"rows": all_rows}
    batch.save(update_fields=["pending_rows"])
    return DraftChange(
        batch=batch,
        added=len(fresh),
        already_listed=already,
        with_problems=problem_count(all_rows[len(existing) :]),
    )


@transaction.atomic
def draft_remove(
    *, batch: IssueBatch, indexes: set[int] | None = None, access: Access | None = None
) -> int:
    """Remove rows by position, or (``indexes=None``) every row with a problem; the rest is
    checked again as its maker sees it (``access``, or theirs, loaded)."""
    batch = IssueBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != IssueBatch.Status.PENDING:
        raise BatchNotPending("This list was already issued.")
    rows = rows_of(batch)
    if indexes is None:
        keep = [r for r in rows if not r.get("errors")]
    else:
        keep = [r for i, r in enumerate(rows) if i not in indexes]
    reach = people_reach(space=batch.space, actor=batch.created_by, access=access)
    rows_check(keep, space=batch.space, reach=reach)
    batch.pending_rows = {"rows": keep}
    batch.save(update_fields=["pending_rows"])
    return len(rows) - len(keep)


@transaction.atomic
def draft_discard(*, batch: IssueBatch) -> None:
    deleted, _ = IssueBatch.objects.filter(
        pk=batch.pk, status=IssueBatch.Status.PENDING, awards__isnull=True
    ).delete()
    if not deleted:
        raise BatchNotPending("This list was already issued.")


def not_issuable_message(badge: Badge) -> str:
    if badge.state == Badge.State.DRAFT:
        return f"“{badge}” is a draft. Publish it before issuing it."
    return f"“{badge}” is withdrawn. Publish it again before issuing it."


# ---- Issuing -------------------------------------------------------------------------------


def batch_issue(
    *,
    access: Access,
    batch: IssueBatch,
    actor: User,
    achieved_at: datetime | None = None,
    evidence: list[dict] | None = None,
) -> IssueBatch:
    """Issue the list: confirm it, then process it here (small) or in the worker (large).

    ``achieved_at`` (default: now) is the achievement time of every row without its own;
    ``evidence`` (badges.evidence form) the evidence of every row without its own.
    Raises BatchNotPending, BadgeNotIssuable or NothingToIssue, or PermissionDenied when the
    actor may not issue the badge; nothing is issued then.
    """
    access.require(Perm.ISSUE_BADGES, organisation=batch.badge.organisation)
    reach = people_in_view_q(access)
    batch, inline = _batch_confirm(
        batch=batch, achieved_at=achieved_at, reach=reach, evidence=evidence or []
    )
    if inline:
        batch_process(batch.pk)
        batch.refresh_from_db()
    return batch


@transaction.atomic
def _batch_confirm(
    *,
    batch: IssueBatch,
    achieved_at: datetime | None,
    reach: Q | None,
    evidence: list[dict] | None = None,
) -> tuple[IssueBatch, bool]:
    batch = (
        IssueBatch.objects.select_for_update(of=("self",))
        .select_related("badge", "space")
        .get(pk=batch.pk)
    )
    if batch.status != IssueBatch.Status.PENDING:
        raise BatchNotPending("This list was already issued.")
    if not batch.badge.is_issuable:
        raise BadgeNotIssuable(not_issuable_message(batch.badge))
    now = timezone.now()
    default = achieved_at or now
    if default > now + FUTURE_TOLERANCE:
        raise NothingToIssue("The achievement time is in the future.")
    rows = rows_of(batch)
    # Each row's time is fixed now, so a worker re-running a chunk finds the same awards.
    for r in rows:
        r["achieved_at"] = r["achieved_at"] or default.isoformat()
    # People may have joined or changed meanwhile; an external id still resolves only someone
    # the issuer may see.
    rows_check(rows, space=batch.space, reach=reach)
    good = [r for r in rows if not r["errors"]]
    bad = [r for r in rows if r["errors"]]
    if not good:
        raise NothingToIssue(
            "No one in the list can be issued yet: add recipients, or fix the problems shown."
        )
    batch.pending_rows = {
        "rows": [
            {k: r[k] for k in ("ref", "user", "email", "first_name", "last_name", "external_id")}
            | {
                "achieved_at": r["achieved_at"],
                "evidence": r.get("evidence") or evidence or [],
                "results": r.get("results") or [],
            }
            for r in good
        ]
    }
    batch.failures = [
        {
            "ref": r["ref"],
            "email": r["email"],
            "name": f"{r['first_name']} {r['last_name']}".strip(),
            "errors": r["errors"],
        }
        for r in bad
    ]
    batch.total, batch.processed = len(good), 0
    batch.issued = batch.duplicates = 0
    batch.failed = len(bad)
    batch.issued_at = now
    batch.status = IssueBatch.Status.RUNNING
    batch.save()
    inline = len(good) <= INLINE_LIMIT
    if not inline:
        pk = batch.pk
        transaction.on_commit(lambda: tasks.enqueue_batch(pk))
    return batch, inline
