from celery import shared_task

from badgeplatform import outbox


@shared_task(bind=True, max_retries=outbox.MAX_ATTEMPTS, acks_late=True)
def deliver_email(self, email_id: int) -> bool:
    try:
        return outbox.deliver(email_id)
    except outbox.DeliveryFailed as exc:
        if self.request.is_eager:
            return False  # left pending; the drain (or `manage.py drain_outbox`) retries it
        countdown = outbox.backoff(self.request.retries + 1).seconds
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task
def drain_outbox() -> int:
    return outbox.drain_outbox()


@shared_task(bind=True, acks_late=True)
def deliver_emails(self, email_ids: list[int]) -> int:
    """One chunk of a batch's emails (mail.enqueue_many queues OUTBOX_CHUNK ids per task):
    claimed in one statement, rendered together, sent over one SMTP connection. A row that
    fails goes back to pending with backoff and the drain retries it. A longer list (queued
    before chunking) is taken chunk by chunk."""
    size = outbox.chunk_size()
    return sum(
        outbox.deliver_chunk(email_ids[start : start + size])
        for start in range(0, len(email_ids), size)
    )
