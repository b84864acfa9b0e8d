"""Large lists: the worker, the progress bar, the result page, and re-runs after a crash."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from badges import batch_run, batches, tasks
from badges.models import Award, Badge, IssueBatch, IssueBatchRow
from tests.factories import make_badge

pytestmark = pytest.mark.django_db


@pytest.fixture
def badge(space_a):
    return make_badge(space_a)


@pytest.fixture
def queued(monkeypatch):
    """Lists over 5 go to the worker; the worker's queue is recorded instead of run."""
    monkeypatch.setattr(batches, "INLINE_LIMIT", 5)
    monkeypatch.setattr(batch_run, "CHUNK_SIZE", 4)
    sent = []
    monkeypatch.setattr(tasks, "enqueue_batch", sent.append)
    return sent


def url(name, space, *args):
    return reverse(f"issuing:{name}", args=[space.slug, *args])


def upload(client, space, badge, rows: int):
    data = "".join(f"p{i}@bulk.test,P{i},Person\n" for i in range(rows))
    client.post(
        url("issue", space, badge.pk),
        {
            "action": "upload_csv",
            "file": SimpleUploadedFile("bulk.csv", data.encode(), content_type="text/csv"),
            "tz": "UTC",
        },
    )


def test_a_large_list_is_issued_by_the_worker_with_a_progress_bar(
    client_a, space_a, badge, queued, committed
):
    upload(client_a, space_a, badge, 10)
    with committed():
        response = client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    batch = IssueBatch.objects.get()
    assert queued == [batch.pk]  # handed to the worker after commit, not issued in the request
    assert batch.status == IssueBatch.Status.RUNNING and not Award.objects.exists()
    assert response.url == url("batch", space_a, batch.pk)

    page = client_a.get(response.url).content.decode()
    assert '<progress class="progress" max="10" value="0"' in page
    assert 'hx-trigger="every 1s"' in page
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in page  # no JS

    with committed():
        batch_run._process_chunk(batch.pk)  # the worker gets through one chunk
    fragment = client_a.get(response.url, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200
    html = fragment.content.decode()
    assert 'value="4"' in html and "<html" not in html and "4</strong> of 10" in html

    with committed():
        batch_run.batch_process(batch.pk)  # ... and the rest
    done = client_a.get(response.url, HTTP_HX_REQUEST="true")
    assert done.status_code == 204 and done["HX-Refresh"] == "true"  # polling stops
    page = client_a.get(response.url).content.decode()
    assert "hx-trigger" not in page and 'data-count="issued">10<' in page
    assert Award.objects.count() == 10
    assert len([m for m in mail.outbox if m.subject.startswith("You have been")]) == 10


def test_a_rerun_after_a_crash_never_awards_twice(client_a, space_a, badge, queued, monkeypatch):
    upload(client_a, space_a, badge, 10)
    client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    batch = IssueBatch.objects.get()

    real = batch_run.awards_issue
    calls = {"n": 0}

    def crash_on_second_chunk(**kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return real(**kwargs)

    monkeypatch.setattr(batch_run, "awards_issue", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        batch_run.batch_process(batch.pk)
    batch.refresh_from_db()
    # The first chunk committed with its cursor; the second rolled back entirely.
    assert (batch.processed, batch.issued, Award.objects.count()) == (4, 4, 4)

    monkeypatch.setattr(batch_run, "awards_issue", real)
    batch_run.batch_process(batch.pk)  # the task, redelivered
    batch_run.batch_process(batch.pk)  # ... and delivered once more: nothing left to do
    batch.refresh_from_db()
    assert batch.status == IssueBatch.Status.DONE
    assert (batch.processed, batch.issued, batch.duplicates) == (10, 10, 0)
    assert Award.objects.count() == 10


def test_even_a_repeated_chunk_finds_the_awards_instead_of_making_new_ones(
    client_a, space_a, badge, queued
):
    upload(client_a, space_a, badge, 6)
    client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    batch = IssueBatch.objects.get()
    first_chunk = list(batch.rows.order_by("position").values()[:4])
    batch_run._process_chunk(batch.pk)
    assert batch.rows.count() == 2  # the chunk left the queue with its awards
    # The worst case: the chunk somehow back in the queue and the counters with it.
    IssueBatchRow.objects.bulk_create([IssueBatchRow(**row) for row in first_chunk])
    IssueBatch.objects.filter(pk=batch.pk).update(processed=0, issued=0)
    batch_run.batch_process(batch.pk)
    batch.refresh_from_db()
    assert Award.objects.count() == 6
    assert (batch.issued, batch.duplicates) == (6 - 4, 4)


def test_a_worker_killed_after_awarding_but_before_its_commit_leaves_the_chunk_to_redo(
    client_a, space_a, badge, queued, monkeypatch
):
    """The rows of a chunk leave the queue in the transaction of their awards: a worker
    killed in between (here: after the awards were written, before the commit) takes both
    back, and the next run issues each person exactly once."""
    upload(client_a, space_a, badge, 10)
    client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    batch = IssueBatch.objects.get()
    batch_run._process_chunk(batch.pk)  # the first chunk of 4, committed

    real = batch_run._issue_chunk

    def killed_after_awarding(batch, chunk):
        real(batch, chunk)
        assert Award.objects.count() == 8  # written, not yet committed
        raise SystemExit("worker killed")

    monkeypatch.setattr(batch_run, "_issue_chunk", killed_after_awarding)
    with pytest.raises(SystemExit):
        batch_run.batch_process(batch.pk)
    batch.refresh_from_db()
    assert (Award.objects.count(), batch.processed, batch.rows.count()) == (4, 4, 6)

    monkeypatch.setattr(batch_run, "_issue_chunk", real)
    batch_run.batch_process(batch.pk)
    batch_run.batch_process(batch.pk)  # redelivered once more: nothing left
    batch.refresh_from_db()
    assert batch.status == IssueBatch.Status.DONE and not batch.rows.exists()
    assert (batch.processed, batch.issued, batch.duplicates) == (10, 10, 0)
    assert sorted(Award.objects.values_list("recipient__email", flat=True)) == sorted(
        f"p{i}@bulk.test" for i in range(10)
    )


def test_a_badge_withdrawn_mid_batch_stops_and_says_why(client_a, space_a, badge, queued):
    upload(client_a, space_a, badge, 10)
    client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    batch = IssueBatch.objects.get()
    batch_run._process_chunk(batch.pk)
    Badge.objects.filter(pk=badge.pk).update(state=Badge.State.WITHDRAWN)
    batch_run.batch_process(batch.pk)
    batch.refresh_from_db()
    assert batch.status == IssueBatch.Status.FAILED
    assert (batch.issued, batch.failed, Award.objects.count()) == (4, 6, 4)
    page = client_a.get(url("batch", space_a, batch.pk)).content.decode()
    assert "Issuing stopped" in page and "is withdrawn" in page


def test_the_resume_job_requeues_running_batches_and_forgets_old_lists(
    client_a, space_a, badge, queued
):
    upload(client_a, space_a, badge, 10)
    client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    running = IssueBatch.objects.get()
    stale = IssueBatch.objects.create(space=space_a, badge=badge, source="manual")
    IssueBatch.objects.filter(pk=stale.pk).update(created_at=timezone.now() - timedelta(days=15))
    fresh = IssueBatch.objects.create(space=space_a, badge=badge, source="manual")
    queued.clear()
    assert tasks.resume_issue_batches() == 1
    assert queued == [running.pk]
    assert set(IssueBatch.objects.values_list("pk", flat=True)) == {running.pk, fresh.pk}


def test_the_task_runs_the_batch(client_a, space_a, badge, monkeypatch):
    """Through Celery (eager in tests): the confirmed batch is issued by the task."""
    monkeypatch.setattr(batches, "INLINE_LIMIT", 2)
    upload(client_a, space_a, badge, 5)
    from badges.tasks import issue_batch

    batch = IssueBatch.objects.get()
    batch_obj, inline = batches._batch_confirm(batch=batch, achieved_at=None, reach=None)
    assert not inline
    issue_batch.delay(batch.pk)
    batch.refresh_from_db()
    assert batch.status == IssueBatch.Status.DONE and Award.objects.count() == 5


def test_a_pending_list_has_no_result_page_yet(client_a, space_a, badge, member_a):
    client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_members", "users": [member_a.pk]}
    )
    batch = IssueBatch.objects.get()
    response = client_a.get(url("batch", space_a, batch.pk))
    assert response.status_code == 302 and response.url == url("issue", space_a, badge.pk)


def test_batch_page_member_403_other_space_404(client, space_a, badge, member_a, admin_b, queued):
    from tests.factories import make_award

    batch = make_award(space_a, badge=badge).batch
    client.force_login(member_a)
    assert client.get(url("batch", space_a, batch.pk)).status_code == 403
    client.force_login(admin_b)
    assert client.get(url("batch", space_a, batch.pk)).status_code == 404


@pytest.mark.parametrize("size", [2, 8])
def test_the_history_takes_a_constant_number_of_queries(
    client_a, space_a, badge, django_assert_num_queries, size
):
    from tests.factories import make_award

    for _ in range(size):
        make_award(space_a, badge=badge)
    # Session, user, space, member, grants, batch count, one page of batches (+ badge + author),
    # the spaces in the personal menu.
    with django_assert_num_queries(8):
        response = client_a.get(url("history", space_a))
    assert response.content.decode().count("/issuing/batches/") == size


def test_history_member_403_and_wrong_method(client, space_a, member_a, admin_a):
    client.force_login(member_a)
    assert client.get(url("history", space_a)).status_code == 403
    assert client.get(url("example_csv", space_a)).status_code == 403
    client.force_login(admin_a)
    assert client.post(url("history", space_a)).status_code == 405
    assert client.post(url("example_csv", space_a)).status_code == 405
