from celery import shared_task

from obapi import imports


@shared_task
def recheck_imported_credentials() -> int:
    """Re-verify the imported badges checked longest ago (their status lists may say revoked)."""
    return imports.recheck_stale()
