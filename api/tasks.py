from celery import shared_task

from api.services import idempotency_purge


@shared_task
def purge_idempotency() -> int:
    """Forget responses kept for Idempotency-Key replays past their time (beat, hourly)."""
    return idempotency_purge()
