"""Running a confirmed batch: its rows, chunk by chunk, through ``awards_issue``.

``badges.batches`` builds and confirms the list (see its docstring for the states of a batch)
and runs small lists here in the request; the ``issue_batch`` task of ``badges.tasks`` runs
larger ones. This module imports neither, so the list, the tasks and the runner form a line.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from badgeplatform.access import Access
from badges.issuing import BadgeNotIssuable, RecipientInput, awards_issue
from badges.models import IssueBatch
from users.models import User

# Rows per transaction in the worker: small enough that a crash repeats little work and the
# progress bar moves, large enough that the per-chunk queries (about 20) stay cheap.
CHUNK_SIZE = 200
# Recipient lists nobody issued are deleted after this long (they hold uploaded addresses).
DRAFT_RETENTION = timedelta(days=14)

# One recipient of a list (see badges.batches for how rows are built and checked).
Row = dict[str, Any]


def rows_of(batch: IssueBatch) -> list[Row]:
    return list((batch.pending_rows or {}).get("rows", []))


def batch_process(batch_id: int) -> None:
    """Issue a running batch's remaining rows, one chunk per transaction (see module doc)."""
    while _process_chunk(batch_id):
        pass


def _process_chunk(batch_id: int) -> bool:
    """Issue the next chunk; False when there is nothing (more) to do."""
    with transaction.atomic():
        # The row lock makes a second worker (a redelivered task, the resume job) wait and
        # then continue from the advanced cursor instead of repeating this chunk.
        batch = (
            IssueBatch.objects.select_for_update(of=("self",))
            .select_related("badge", "created_by")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.status != IssueBatch.Status.RUNNING:
            return False
        rows = rows_of(batch)
        chunk = rows[batch.processed : batch.processed + CHUNK_SIZE]
        if not chunk:
            _finish(batch, IssueBatch.Status.DONE)
            return False
        try:
            _issue_chunk(batch, chunk)
        except BadgeNotIssuable as exc:
            _fail_rest(batch, rows[batch.processed :], str(exc))
            return False
        return True


def _recipients(chunk: list[Row]) -> list[RecipientInput]:
    users = User.objects.in_bulk([r["user"] for r in chunk if r.get("user")])
    return [
        RecipientInput(
            user=users.get(r["user"]) if r.get("user") else None,
            email=r["email"],
            first_name=r["first_name"],
            last_name=r["last_name"],
            external_id=r["external_id"],
            achieved_at=datetime.fromisoformat(r["achieved_at"]),
            ref=r["ref"],
            evidence=r.get("evidence") or [],
            results=r.get("results") or [],
        )
        for r in chunk
    ]


def _issue_chunk(batch: IssueBatch, chunk: list[Row]) -> None:
    try:
        # The worker issues what batch_issue authorized when the list was confirmed.
        awards_issue(
            access=Access.system(batch.space),
            badge=batch.badge,
            recipients=_recipients(chunk),
            actor=batch.created_by,
            batch=batch,
            first_index=batch.processed,
        )
    except IntegrityError:
        # Someone else's account or external id clashed (after the service's own retries):
        # issue the rows one by one so one bad row cannot hold up the rest.
        batch.refresh_from_db()
        for row in chunk:
            try:
                awards_issue(
                    access=Access.system(batch.space),
                    badge=batch.badge,
                    recipients=_recipients([row]),
                    actor=batch.created_by,
                    batch=batch,
                    first_index=batch.processed,
                )
            except IntegrityError:
                batch.refresh_from_db()
                batch.processed += 1
                batch.failed += 1
                batch.failures = [
                    *batch.failures,
                    {
                        "ref": row["ref"],
                        "email": row["email"],
                        "errors": {
                            "row": "Not issued: this email or external id clashes with "
                            "another account in this space."
                        },
                    },
                ]
                batch.save(update_fields=["processed", "failed", "failures"])


def _fail_rest(batch: IssueBatch, rest: list[Row], reason: str) -> None:
    batch.failures = [
        *batch.failures,
        *({"ref": r["ref"], "email": r["email"], "errors": {"badge": reason}} for r in rest),
    ]
    batch.failed += len(rest)
    batch.processed += len(rest)
    _finish(batch, IssueBatch.Status.FAILED)


def _finish(batch: IssueBatch, status: str) -> None:
    batch.status = status
    batch.finished_at = timezone.now()
    batch.pending_rows = None  # the awards (and failures) are what remains
    batch.save()


def batches_to_resume() -> list[int]:
    """For the resume job: the running batches to hand to a worker again (the broker lost
    them, or a worker died), after deleting recipient lists nobody issued within
    DRAFT_RETENTION."""
    IssueBatch.objects.filter(
        status=IssueBatch.Status.PENDING,
        created_at__lt=timezone.now() - DRAFT_RETENTION,
        awards__isnull=True,
    ).delete()
    return list(
        IssueBatch.objects.filter(status=IssueBatch.Status.RUNNING).values_list("pk", flat=True)[
            :100
        ]
    )
