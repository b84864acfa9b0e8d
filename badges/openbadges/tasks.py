"""Sign awards' OB 3.0 credentials in the worker, after the issuing transaction commits.

Signing costs milliseconds per credential (JSON-LD canonicalisation), so it never runs in the
request that issues a batch. With eager tasks (the embedded default, no broker) nothing is
queued: each credential is signed on its first request instead, so issuing stays fast there
too. A credential the worker never got to (broker down, worker lost) is signed on first
request the same way: nothing depends on this task having run.
"""

from __future__ import annotations

import logging

from celery import current_app, shared_task

logger = logging.getLogger(__name__)

CHUNK = 500  # awards per task: one task holds the worker for ~1-3 s


def queue_credential_signing(award_ids: list[int]) -> None:
    """Called on commit by badges.issuing.awards_issue with the new awards' ids."""
    if not award_ids or current_app.conf.task_always_eager:
        return
    for start in range(0, len(award_ids), CHUNK):
        try:
            sign_credentials.delay(award_ids[start : start + CHUNK])
        except Exception:  # the broker is down: first requests will sign instead
            logger.warning("could not queue credential signing", exc_info=True)
            return


@shared_task(acks_late=True)
def sign_credentials(award_ids: list[int]) -> int:
    """Sign and store the credentials of these awards that have none yet (idempotent)."""
    from badges.models import Award
    from badges.openbadges.publish import sign_awards

    awards = Award.objects.select_related("badge", "issuer_version__issuer").filter(
        pk__in=award_ids, credential__isnull=True
    )
    return sign_awards(list(awards))
