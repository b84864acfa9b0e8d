"""Celery tasks for issuing: thin wrappers that fetch by id and call badges.batch_run."""

import logging

from celery import shared_task
from django.db import OperationalError

from badges import batch_run

log = logging.getLogger(__name__)


@shared_task(bind=True, acks_late=True, max_retries=8)
def issue_batch(self, batch_id: int) -> None:
    """Issue a confirmed batch in chunks. Safe to run twice or after a crash: each chunk is
    claimed under a row lock and awards are unique, so nothing is awarded twice."""
    try:
        batch_run.batch_process(batch_id)
    except OperationalError as exc:  # the database was briefly away: try again later
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 600)) from exc


def enqueue_batch(batch_id: int) -> None:
    """Hand the batch to a worker; if the broker is down, the resume job picks it up."""
    try:
        issue_batch.delay(batch_id)
    except Exception:  # any broker error: the batch stays running and is resumed later
        log.warning("Broker unavailable; issue batch %s left for the resume job", batch_id)


@shared_task
def resume_issue_batches() -> int:
    """Beat: re-queue running batches the broker lost; forget lists nobody issued."""
    ids = batch_run.batches_to_resume()
    for batch_id in ids:
        enqueue_batch(batch_id)
    return len(ids)


@shared_task
def send_expiry_emails() -> dict[str, int]:
    """Beat: expiry reminders and "expired" emails that are due (badges.expiry); each one is
    queued exactly once however often, or however concurrently, this runs."""
    from badges import expiry

    return expiry.expiry_emails_send()
