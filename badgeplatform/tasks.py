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
    """One task per recipient batch; a row that fails is retried by the drain with backoff."""
    sent = 0
    for email_id in email_ids:
        try:
            sent += outbox.deliver(email_id)
        except outbox.DeliveryFailed:
            continue
    return sent
