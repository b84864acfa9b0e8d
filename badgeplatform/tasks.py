from celery import shared_task

from badgeplatform import mail


@shared_task(bind=True, max_retries=mail.MAX_ATTEMPTS, acks_late=True)
def deliver_email(self, email_id: int) -> bool:
    try:
        return mail.deliver(email_id)
    except mail.DeliveryFailed as exc:
        if self.request.is_eager:
            return False  # left pending; the drain (or `manage.py drain_outbox`) retries it
        raise self.retry(exc=exc, countdown=mail.backoff(self.request.retries + 1).seconds) from exc


@shared_task
def drain_outbox() -> int:
    return mail.drain_outbox()


@shared_task(bind=True, acks_late=True)
def deliver_emails(self, email_ids: list[int]) -> int:
    """One task per recipient batch; a row that fails is retried by the drain with backoff."""
    sent = 0
    for email_id in email_ids:
        try:
            sent += mail.deliver(email_id)
        except mail.DeliveryFailed:
            continue
    return sent
