"""Celery tasks for issuing: thin wrappers that fetch by id and call badges.batches."""

from celery import shared_task
from django.db import OperationalError

from badges import batches


@shared_task(bind=True, acks_late=True, max_retries=8)
def issue_batch(self, batch_id: int) -> None:
    """Issue a confirmed batch in chunks. Safe to run twice or after a crash: each chunk is
    claimed under a row lock and awards are unique, so nothing is awarded twice."""
    try:
        batches.batch_process(batch_id)
    except OperationalError as exc:  # the database was briefly away: try again later
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 600)) from exc


@shared_task
def resume_issue_batches() -> int:
    """Beat: re-queue running batches the broker lost; forget lists nobody issued."""
    return batches.batches_resume()
