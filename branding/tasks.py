"""Celery tasks for plans: a thin wrapper around branding.services.trials_tick."""

from celery import shared_task

from branding import services


@shared_task
def trials_tick() -> dict[str, int]:
    """Hourly (beat): record ended trials in the audit log, remind administrators before a
    trial ends. Idempotent: each happens once per space."""
    return services.trials_tick()
