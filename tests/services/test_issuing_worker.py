"""A real Celery worker issues a large batch taken from Redis, chunk by chunk.

Needs PostgreSQL + Redis like the other tests here (skipped otherwise; CI's services run has
them).
"""

import time

import pytest

from badgeplatform.access import load_access
from badges import batches
from badges.models import Award, IssueBatch
from tests.factories import make_badge, make_space
from tests.services.test_celery_worker import worker  # noqa: F401 - the worker fixture

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_worker_issues_a_large_batch(worker):  # noqa: F811 - the imported fixture
    space = make_space("Worker University", "worker-u")
    badge = make_badge(space)
    admin = space.members.first().user
    size = batches.INLINE_LIMIT + 250  # over the in-request limit: the worker's job
    rows = [
        batches.person_row(
            email=f"w{i}@worker.test", first_name="W", last_name=str(i), ref=f"line {i + 1}"
        )
        for i in range(size)
    ]
    batches.draft_add(badge=badge, actor=admin, rows=rows)
    batch = batches.draft_for(badge=badge, actor=admin)
    # Not in an atomic block: the confirmation commits at once and the task goes to Redis.
    batch = batches.batch_issue(access=load_access(space, admin), batch=batch, actor=admin)
    assert batch.status == IssueBatch.Status.RUNNING

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        batch.refresh_from_db()
        if batch.status != IssueBatch.Status.RUNNING:
            break
        time.sleep(0.5)
    assert batch.status == IssueBatch.Status.DONE, f"stuck at {batch.processed}/{batch.total}"
    assert (batch.issued, batch.duplicates, batch.failed) == (size, 0, 0)
    assert Award.objects.filter(batch=batch).count() == size
    assert not batch.rows.exists()
