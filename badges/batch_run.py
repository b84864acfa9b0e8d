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
from badges.models import IssueBatch, IssueBatchRow
from users.models import User

# Rows per transaction in the worker: small enough that a crash repeats little work and the
# progress bar moves, large enough that the per-chunk queries (about 20) stay cheap.
CHUNK_SIZE = 200
# Recipient lists nobody issued are deleted after this long (they hold uploaded addresses).
DRAFT_RETENTION = timedelta(days=14)

# One recipient of a list (see badges.batches for how rows are built and checked).
Row = dict[str, Any]


def batch_process(batch_id: int) -> None:
    """Issue a running batch's remaining rows, one chunk per transaction (see module doc)."""
    while _process_chunk(batch_id):
        pass


def _queue(batch: IssueBatch):
    """The rows still to issue, first by position (the batch's rows without a problem)."""
    return IssueBatchRow.objects.filter(batch=batch, problem=False).order_by("position")


def _process_chunk(batch_id: int) -> bool:
    """Issue the next chunk; False when there is nothing (more) to do."""
    with transaction.atomic():
        # The row lock makes a second worker (a redelivered task, the resume job) wait and
        # then continue with the rows left instead of repeating this chunk.
        batch = (
            IssueBatch.objects.select_for_update(of=("self",))
            .select_related("badge", "created_by")
            .filter(pk=batch_id)
            .first()
        )
        if batch is None or batch.status != IssueBatch.Status.RUNNING:
            return False
        chunk = list(_queue(batch)[:CHUNK_SIZE])
        if not chunk:
            _finish(batch, IssueBatch.Status.DONE)
            return False
        try:
            _issue_chunk(batch, chunk)
        except BadgeNotIssuable as exc:
            _fail_rest(batch, str(exc))
            return False
        # Issued (or set aside as failures): off the queue, in the awards' transaction, so a
        # worker killed before the commit leaves both the rows and no awards.
        IssueBatchRow.objects.filter(pk__in=[r.pk for r in chunk if not r.problem]).delete()
        return True


def _recipients(chunk: list[IssueBatchRow]) -> list[RecipientInput]:
    users = User.objects.in_bulk([r.data["user"] for r in chunk if r.data.get("user")])
    return [
        RecipientInput(
            user=users.get(r.data["user"]) if r.data.get("user") else None,
            email=r.data["email"],
            first_name=r.data["first_name"],
            last_name=r.data["last_name"],
            external_id=r.external_id,
            achieved_at=datetime.fromisoformat(r.achieved_at),
            ref=r.data["ref"],
            evidence=r.data.get("evidence") or [],
            results=r.data.get("results") or [],
        )
        for r in chunk
    ]


def _issue(batch: IssueBatch, chunk: list[IssueBatchRow]) -> None:
    """``awards_issue`` over these rows; the rows it rejects become the batch's failures
    (kept as rows with their reasons, not in ``batch.failures``)."""
    before, first = len(batch.failures or []), batch.processed
    awards_issue(
        access=Access.system(batch.space),
        badge=batch.badge,
        recipients=_recipients(chunk),
        actor=batch.created_by,
        batch=batch,
        first_index=first,
    )
    rejected = (batch.failures or [])[before:]
    if rejected:
        for failure in rejected:
            row = chunk[failure["index"] - first]
            row.errors, row.problem = failure["errors"], True
        IssueBatchRow.objects.bulk_update([r for r in chunk if r.problem], ["errors", "problem"])
        batch.failures = batch.failures[:before]
        batch.save(update_fields=["failures"])


def _issue_chunk(batch: IssueBatch, chunk: list[IssueBatchRow]) -> None:
    try:
        # The worker issues what batch_issue authorized when the list was confirmed.
        _issue(batch, chunk)
    except IntegrityError:
        # Someone else's account or external id clashed (after the service's own retries):
        # issue the rows one by one so one bad row cannot hold up the rest.
        batch.refresh_from_db()
        for row in chunk:
            try:
                _issue(batch, [row])
            except IntegrityError:
                batch.refresh_from_db()
                batch.processed += 1
                batch.failed += 1
                row.problem = True
                row.errors = {
                    "row": "Not issued: this email or external id clashes with another "
                    "account in this space."
                }
                row.save(update_fields=["errors", "problem"])
                batch.save(update_fields=["processed", "failed"])


def _fail_rest(batch: IssueBatch, reason: str) -> None:
    rest = _queue(batch).update(problem=True, clash={"badge": reason})
    batch.failed += rest
    batch.processed += rest
    _finish(batch, IssueBatch.Status.FAILED)


def _finish(batch: IssueBatch, status: str) -> None:
    batch.status = status
    batch.finished_at = timezone.now()
    # The awards, the counters and the rows not issued (with their reasons) remain.
    _queue(batch).delete()
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
