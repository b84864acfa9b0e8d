from celery import shared_task

from webhooks import delivery, emit


@shared_task(acks_late=True)
def deliver_messages(message_ids: list[int]) -> int:
    """The first attempt of just-committed messages; retries fall due for ``drain_webhooks``."""
    return delivery.deliver_many(message_ids)


@shared_task
def drain_webhooks() -> int:
    return delivery.drain()


@shared_task
def emit_expired() -> int:
    return emit.emit_expired()


@shared_task
def purge_webhook_messages() -> int:
    return delivery.purge()
