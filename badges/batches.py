"""Issuing from the browser: the recipient list, its preview, and processing it in chunks.

One issue action is one IssueBatch, through three states:

- **pending** — the recipient list being built. People picked from the space, whole groups,
  people typed in and CSV rows are appended to the batch's rows (``IssueBatchRow``, written a
  chunk of ROW_CHUNK at a time; a CSV is streamed into them as it is read). Each chunk is
  checked as it is written (who is this? is the row itself complete?), and after every change
  the checks across the list (the same person twice, one external id for two people) run in
  SQL and over ordered iterators (``list_check``), so each row shows its problem before
  anything is issued and memory never holds the whole list. Only the rows are kept, never an
  uploaded file.
- **running** — confirmed: every row is checked again and given a fixed achievement time.
  Rows with problems stay as the batch's failures; the others are the worker's queue: a worker
  takes the first CHUNK_SIZE of them by position under a row lock on the batch, calls
  ``awards_issue(batch=…)``, and deletes those rows in the same transaction as the awards and
  the ``processed`` counter. A worker that dies mid-chunk leaves the rows where they were; the
  next run redoes that chunk and, since awards are unique per badge + recipient + achievement
  time, never awards twice.
- **done** (or **failed**, when the badge was withdrawn meanwhile) — counters remain, and the
  rows not issued (with their reasons) for the result page; the queue is empty.

Small lists are processed in the request; larger ones by the ``issue_batch`` task. The running
itself is in ``badges.batch_run``, which the task calls too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.db.models.functions import Lower
from django.utils import timezone

from badgeplatform.access import Access, load_access
from badgeplatform.permissions import Perm
from badges import tasks
from badges.batch_run import Row, batch_process
from badges.csv_import import MAX_ROWS, CsvRow, iter_recipients_csv
from badges.issuing import FUTURE_TOLERANCE, BadgeNotIssuable
from badges.models import Badge, IssueBatch, IssueBatchRow
from users.models import Member, Membership, User
from users.places import people_in_view_q

if TYPE_CHECKING:
    from orgs.models import Space

# Up to this many recipients are issued in the request; more go to the worker with a
# progress bar. 200 keeps the request around a second on SQLite and well below on PostgreSQL.
INLINE_LIMIT = 200
# Rows written, checked and updated together: one INSERT (or UPDATE) and three look-ups each.
ROW_CHUNK = 1000


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


def csv_row(r: CsvRow, *, file_name: str) -> Row:
    return {
        "ref": f"{(file_name or 'CSV')[:60]}, line {r.line}",
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


def row_values(row: IssueBatchRow) -> Row:
    """A stored row as the preview and the worker read it (the Row shape above, checked)."""
    return {
        **row.data,
        "external_id": row.external_id,
        "achieved_at": row.achieved_at,
        "who": row.who,
        "errors": row.all_errors,
    }


class _NewRow:
    """A row on its way into the table: what ``rows_check`` reads and sets, without a model
    instance's cost (a CSV brings 100,000 of them, a chunk at a time)."""

    __slots__ = (
        "position", "data", "external_id", "achieved_at", "errors", "who", "identity",
        "ext_claim", "ok", "clash", "problem",
    )  # fmt: skip

    def __init__(self, position: int, r: Row):
        self.position = position
        self.data = {
            k: r.get(k)
            for k in ("ref", "user", "email", "first_name", "last_name", "evidence", "results")
        }
        self.data["format_errors"] = r.get("format_errors") or {}
        self.external_id = r.get("external_id") or ""
        self.achieved_at = r.get("achieved_at") or ""

    @classmethod
    def stored(cls, position: int, data: dict, external_id: str, achieved_at: str) -> _NewRow:
        """A stored row read back to be checked again (and written again)."""
        return cls(position, {**data, "external_id": external_id, "achieved_at": achieved_at})


def _insert(batch: IssueBatch, rows: list[_NewRow]) -> None:
    """One chunk of new rows in one multi-row INSERT: no model instances (the ORM's
    bulk_create cost more than the rest of an import together) and one round trip (psycopg2's
    executemany makes one per row)."""
    if not rows:
        return
    table = connection.ops.quote_name(IssueBatchRow._meta.db_table)
    columns = (
        "space_id", "batch_id", "position", "data", "external_id", "achieved_at", "identity", "who",
        "ext_claim", "errors", "clash", "ok", "problem",
    )  # fmt: skip
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    one = f"({', '.join(['%s'] * len(columns))})"
    values = ", ".join([one] * len(rows))
    sql = f"INSERT INTO {table} ({names}) VALUES {values}"  # noqa: S608 - values are parameters
    dumps, params = json.dumps, []
    for r in rows:
        params += (
            batch.space_id, batch.pk, r.position, dumps(r.data), r.external_id, r.achieved_at,
            r.identity, r.who, r.ext_claim, dumps(r.errors), dumps(r.clash), r.ok, r.problem,
        )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _chunks(values: Iterable, size: int = ROW_CHUNK) -> Iterator[list]:
    # IN lists of at most ROW_CHUNK values: one look-up per chunk of rows, well inside the
    # parameter limits (SQLite 3.32+: 32,766; PostgreSQL: 65,535).
    it = iter(values)
    while part := list(islice(it, size)):
        yield part


def people_reach(*, space: Space, actor: User | None, access: Access | None = None) -> Q | None:
    """Whom the actor may see among the space's people (a filter on Membership; None for the
    whole space): the same reach as the people pages. An actor no longer in the space, or
    none, sees nobody."""
    if access is None:
        access = load_access(space, actor) if actor is not None else None
    if access is None:
        return Q(pk__in=[])
    return people_in_view_q(access)


def rows_check(
    rows: list[IssueBatchRow] | list[_NewRow], *, space: Space, reach: Q | None = None
) -> None:
    """Each row's own problems, in place, for one chunk of rows (``errors``, ``who``,
    ``identity``, ``ext_claim``, ``ok``; ``clash`` is cleared for ``list_check``).

    Who is this? (a member picked by id; an external id of someone the issuer may see; or a
    person given by email — found or created when issued.) Does an external id point at
    someone else? At most three queries per chunk of ROW_CHUNK rows (external ids, emails,
    the people found).

    ``reach`` (a Membership filter, see ``people_reach``; None: everyone) is whom the issuer
    may see. The preview tells them nothing about anyone else: such a person shows only as
    typed ("by email", names needed, as for someone new), never whether they have an account,
    and their external id resolves no one.
    """
    ext_ids = sorted({r.external_id for r in rows if r.external_id and not r.data.get("user")})
    by_ext: dict[str, tuple[int, str]] = {}
    for part in _chunks(ext_ids):
        for ext, user_id, email in Member.objects.filter(
            space=space, external_id__in=part
        ).values_list("external_id", "user_id", "user__email"):
            by_ext[ext] = (user_id, email)
    emails = sorted(
        {r.data["email"].lower() for r in rows if r.data["email"] and not r.data.get("user")}
    )
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

    for row in rows:
        r = row.data
        errors = dict(r.get("format_errors") or {})
        who, identity = "", ""
        ext, email = row.external_id, r["email"]
        owner = by_ext.get(ext) if ext else None
        if owner is not None and owner[0] not in visible:
            owner = None  # someone the issuer may not see: their external id finds no one
            unseen_ext = True
        else:
            unseen_ext = False
        if r.get("user"):
            who, identity = "member", f"user:{r['user']}"
        elif "email" not in errors:
            if owner is not None:
                user_id, owner_email = owner
                if email and email.lower() != owner_email.lower():
                    errors["external_id"] = (
                        f"External id “{ext}” belongs to {owner_email} in this space, "
                        f"not to {email}."
                    )
                else:
                    who, identity = "member", f"user:{user_id}"
            elif email and unseen_ext:
                errors["external_id"] = (
                    f"No one you may issue to has the external id “{ext}”: remove it from "
                    "this row, or ask someone who manages this person to issue it."
                )
            elif email:
                user_id = by_email.get(email.lower())
                if user_id is not None and user_id in visible:
                    who, identity = "member", f"user:{user_id}"
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
        row.errors, row.who, row.identity = errors, who, identity[:300]
        row.ext_claim = ext if identity and ext and "external_id" not in errors else ""
        row.ok = bool(identity) and not errors
        row.clash, row.problem = {}, not row.ok


def list_check(batch: IssueBatch) -> None:
    """The checks across the whole list, over the stored rows: one external id given to two
    people, and the same person (and achievement time) twice. Each later row of such a pair
    gets a ``clash`` naming the first; ``rows_check`` must have run on every row.

    In SQL and over ordered iterators: a GROUP BY finds whether any external id or person
    repeats at all (the usual answer is no, and then nothing more is read); only then are the
    candidate rows walked in order, a few columns each, flagged rows written in chunks.
    """
    rows = IssueBatchRow.objects.filter(batch=batch)
    # Clashes found before are found again (or not) below: a duplicate is only ever flagged
    # on a row of its own ok, an external id's clash only on a row claiming one.
    rows.filter(ok=True, problem=True).update(clash={}, problem=False)
    rows.filter(ok=False).exclude(ext_claim="").update(clash={})

    def flag(found: Iterator[tuple[int, dict]]) -> None:
        for part in _chunks(found, ROW_CHUNK):
            updates = [IssueBatchRow(pk=pk, clash=clash, problem=True) for pk, clash in part]
            # Small statements: bulk_update's CASE WHEN grows with the square of their size.
            IssueBatchRow.objects.bulk_update(updates, ["clash", "problem"], batch_size=100)

    claims = rows.exclude(ext_claim="")
    if (
        claims.values("ext_claim")
        .annotate(people=Count("identity", distinct=True))
        .filter(people__gt=1)
        .exists()
    ):
        flag(_ext_clashes(claims))
    clean = rows.filter(problem=False)
    if clean.values("identity", "achieved_at").annotate(n=Count("pk")).filter(n__gt=1).exists():
        flag(_duplicates(clean))


def _ext_clashes(claims) -> Iterator[tuple[int, dict]]:
    first: tuple[str, str, int] | None = None  # (external id, identity, position)
    for pk, ext, identity, position in (
        claims.order_by("ext_claim", "position")
        .values_list("pk", "ext_claim", "identity", "position")
        .iterator(chunk_size=2000)
    ):
        if first is None or first[0] != ext:
            first = (ext, identity, position)
        elif identity != first[1]:
            message = f"External id “{ext}” is also given to another person in row {first[2] + 1}."
            yield pk, {"external_id": message}


def _duplicates(clean) -> Iterator[tuple[int, dict]]:
    first: tuple[str, str, int] | None = None  # (identity, time, position)
    for pk, identity, when, position in (
        clean.order_by("identity", "achieved_at", "position")
        .values_list("pk", "identity", "achieved_at", "position")
        .iterator(chunk_size=2000)
    ):
        if first is None or (first[0], first[1]) != (identity, when):
            first = (identity, when, position)
        else:
            same = "person and achievement time" if when else "person"
            message = f"The same {same} as row {first[2] + 1}: it would be a duplicate."
            yield pk, {"row": message}


def _recheck(batch: IssueBatch, reach: Q | None, *, update: Any = None) -> None:
    """``rows_check`` again over every stored row, a chunk at a time (by position), then
    ``list_check``. ``update(row)`` may change each row's data first (confirmation).

    Each chunk is read, checked, deleted and inserted again in one multi-row INSERT: an
    UPDATE of 1,000 different rows (bulk_update's CASE WHEN per column) costs quadratic time
    on PostgreSQL, a minute for 20,000 rows."""
    rows = IssueBatchRow.objects.filter(batch=batch)
    last = -1
    while chunk := [
        _NewRow.stored(*values)
        for values in rows.filter(position__gt=last)
        .order_by("position")
        .values_list("position", "data", "external_id", "achieved_at")[:ROW_CHUNK]
    ]:
        if update:
            for row in chunk:
                update(row)
        rows_check(chunk, space=batch.space, reach=reach)
        rows.filter(position__gt=last, position__lte=chunk[-1].position).delete()
        _insert(batch, chunk)
        last = chunk[-1].position
    list_check(batch)


@dataclass
class ListCounts:
    rows: int
    problems: int
    new: int  # ready rows given by email (perhaps new people)

    @property
    def ready(self) -> int:
        return self.rows - self.problems


def list_counts(batch: IssueBatch | None) -> ListCounts:
    """The preview's figures, counted in SQL (one query)."""
    if batch is None:
        return ListCounts(0, 0, 0)
    counts = IssueBatchRow.objects.filter(batch=batch).aggregate(
        rows=Count("pk"),
        problems=Count("pk", filter=Q(problem=True)),
        new=Count("pk", filter=Q(problem=False, who="email")),
    )
    return ListCounts(counts["rows"], counts["problems"], counts["new"])


def listed_members(batch: IssueBatch | None, user_ids: list[int]) -> set[int]:
    """Which of these people were picked into the list already (one query)."""
    if batch is None or not user_ids:
        return set()
    return set(
        IssueBatchRow.objects.filter(batch=batch, data__user__in=user_ids).values_list(
            "data__user", flat=True
        )
    )


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
    *, badge: Badge, actor: User, rows: Iterable[Row], access: Access | None = None
) -> DraftChange:
    """Append ``rows`` to the actor's list for ``badge`` (made on first use) and check them
    against what the actor may see (``access``, or the actor's own, loaded).

    ``rows`` may be a stream (a CSV being read): it is consumed a chunk of ROW_CHUNK rows at a
    time, each chunk checked and inserted before the next is read. Anything it raises (a CSV
    refused further down) undoes the whole change. A person already in the list by account is
    not added again. Raises DraftFull when the list would grow past MAX_ROWS, and
    BadgeNotIssuable for a draft or withdrawn badge.
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
        )
        existing, start = 0, 0
    else:
        stats = IssueBatchRow.objects.filter(batch=batch).aggregate(
            n=Count("pk"), last=Max("position")
        )
        existing = stats["n"]
        start = 0 if stats["last"] is None else stats["last"] + 1
    reach = people_reach(space=badge.space, actor=actor, access=access)
    position, already = start, 0
    for part in _chunks(rows, ROW_CHUNK):
        picked = [r["user"] for r in part if r.get("user")]
        listed = listed_members(batch, picked) if existing or position > start else set()
        fresh = []
        for r in part:
            if r.get("user"):
                if r["user"] in listed:
                    already += 1
                    continue
                listed.add(r["user"])
            fresh.append(_NewRow(position, r))
            position += 1
        if existing + position - start > MAX_ROWS:
            raise DraftFull(
                f"The list would have more than {MAX_ROWS:,} recipients; one issue takes at "
                "most that many. Issue this list first, then add the rest."
            )
        rows_check(fresh, space=badge.space, reach=reach)
        _insert(batch, fresh)
    list_check(batch)
    return DraftChange(
        batch=batch,
        added=position - start,
        already_listed=already,
        with_problems=IssueBatchRow.objects.filter(
            batch=batch, position__gte=start, problem=True
        ).count(),
    )


def draft_add_csv(
    *,
    badge: Badge,
    actor: User,
    upload,
    tz: ZoneInfo,
    access: Access | None = None,
    now: datetime | None = None,
) -> DraftChange:
    """Stream an uploaded CSV into the actor's list (``draft_add``): read, checked and written a
    chunk at a time. Raises CsvRejected (nothing written) for a file that cannot be used, and
    what ``draft_add`` raises."""
    name = getattr(upload, "name", "") or "CSV"
    rows = (csv_row(r, file_name=name) for r in iter_recipients_csv(upload, tz=tz, now=now))
    return draft_add(badge=badge, actor=actor, rows=rows, access=access)


@transaction.atomic
def draft_remove(
    *, batch: IssueBatch, indexes: set[int] | None = None, access: Access | None = None
) -> int:
    """Remove rows by position, or (``indexes=None``) every row with a problem; the checks
    across the list run again (each row's own problems do not depend on the others; issuing
    checks every row again anyway)."""
    batch = IssueBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status != IssueBatch.Status.PENDING:
        raise BatchNotPending("This list was already issued.")
    rows = IssueBatchRow.objects.filter(batch=batch)
    if indexes is None:
        removed, _ = rows.filter(problem=True).delete()
    else:
        removed, _ = rows.filter(position__in=sorted(indexes)[:ROW_CHUNK]).delete()
    if removed:
        list_check(batch)
    return removed


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
    default_time = default.isoformat()
    list_evidence = evidence or []

    def fix(row: _NewRow) -> None:
        # Each row's time is fixed now, so a worker re-running a chunk finds the same awards.
        row.achieved_at = row.achieved_at or default_time
        row.data["evidence"] = row.data.get("evidence") or list_evidence
        row.data["results"] = row.data.get("results") or []

    # People may have joined or changed meanwhile; an external id still resolves only someone
    # the issuer may see.
    _recheck(batch, reach, update=fix)
    counts = list_counts(batch)
    if not counts.ready:
        raise NothingToIssue(
            "No one in the list can be issued yet: add recipients, or fix the problems shown."
        )
    # The rows with problems stay as the failures; the others are the worker's queue.
    batch.failures = []
    batch.total, batch.processed = counts.ready, 0
    batch.issued = batch.duplicates = 0
    batch.failed = counts.problems
    batch.issued_at = now
    batch.status = IssueBatch.Status.RUNNING
    batch.save()
    inline = counts.ready <= INLINE_LIMIT
    if not inline:
        pk = batch.pk
        transaction.on_commit(lambda: tasks.enqueue_batch(pk))
    return batch, inline
