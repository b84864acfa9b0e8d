"""System settings → Webhooks: add (secret shown once), the log, rotate, test, replay, delete;
award.expired from the periodic job; the embedded runner."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform import runner
from badgeplatform.models import AuditEntry
from tests.factories import make_award, make_webhook
from webhooks import delivery
from webhooks.emit import emit_expired
from webhooks.models import Endpoint, Message

pytestmark = pytest.mark.django_db


def test_adding_an_endpoint_shows_its_secret_once(client_a, space_a, receiver):
    url = reverse("webhooks:index", args=[space_a.slug])
    page = client_a.get(url)
    assert page.status_code == 200 and b"No endpoints yet" in page.content
    response = client_a.post(
        url, {"url": receiver.url, "events": ["award.issued", "award.expired"]}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert secret.startswith("whsec_") and secret.encode() in response.content
    endpoint = Endpoint.objects.get()
    assert endpoint.events == ["award.issued", "award.expired"]
    # Never again: not on the list, not on the endpoint's page.
    for path in (url, reverse("webhooks:detail", args=[space_a.slug, endpoint.pk])):
        again = client_a.get(path)
        assert again.status_code == 200 and secret.encode() not in again.content
    assert b"award.expired" in client_a.get(url).content


def test_an_invalid_endpoint_form_is_422_with_the_reason(client_a, space_a):
    url = reverse("webhooks:index", args=[space_a.slug])
    response = client_a.post(url, {"url": "https://10.0.0.1/hook", "events": ["award.issued"]})
    assert response.status_code == 422
    assert b"not a public address" in response.content
    response = client_a.post(url, {"url": "https://example.com/hook"})
    assert response.status_code == 422 and b"at least one event" in response.content
    assert not Endpoint.objects.exists()


def test_the_log_shows_attempts_and_replay_test_rotate_delete_work(client_a, space_a, receiver):
    client_a.post(
        reverse("webhooks:index", args=[space_a.slug]),
        {"url": receiver.url, "events": ["award.issued"]},
    )
    endpoint = Endpoint.objects.get()
    receiver.secrets = delivery.secrets_for(endpoint, timezone.now())
    receiver.fail_first = 1
    make_award(space_a)
    delivery.drain()
    detail = reverse("webhooks:detail", args=[space_a.slug, endpoint.pk])
    page = client_a.get(detail).content.decode()
    assert "award.issued" in page and "Retrying" in page and "500" in page
    assert "nope: try again" in page  # the response excerpt
    assert " ms" in page

    message = Message.objects.get()
    response = client_a.post(reverse("webhooks:replay", args=[space_a.slug, message.pk]))
    assert response.status_code == 302
    delivery.drain()
    page = client_a.get(detail).content.decode()
    assert "Delivered" in page and ">200<" in page

    client_a.post(reverse("webhooks:test", args=[space_a.slug, endpoint.pk]))
    delivery.drain()
    test = json.loads(receiver.requests[-1]["body"])
    assert test["type"] == "webhook.test" and receiver.requests[-1]["valid"]

    rotated = client_a.post(reverse("webhooks:rotate", args=[space_a.slug, endpoint.pk]))
    assert rotated.status_code == 200 and rotated.context["rotated"]
    assert rotated.context["secret"].encode() in rotated.content
    assert rotated["Cache-Control"] == "no-store"

    client_a.post(reverse("webhooks:delete", args=[space_a.slug, endpoint.pk]))
    assert not Endpoint.objects.exists()
    assert set(
        AuditEntry.objects.filter(action__startswith="webhook.").values_list("action", flat=True)
    ) == {"webhook.create", "webhook.replay", "webhook.rotate", "webhook.delete"}


def test_a_member_without_settings_rights_gets_403(client, member_a, space_a):
    client.force_login(member_a)
    assert client.get(reverse("webhooks:index", args=[space_a.slug])).status_code == 403


def test_a_disabled_endpoint_can_be_enabled_again(client_a, space_a, settings):
    settings.DEBUG = True
    endpoint = make_webhook(space_a, url="http://127.0.0.1:9/x")
    Endpoint.objects.update(active=False, disabled_at=timezone.now(), disabled_reason="Failed.")
    page = client_a.get(reverse("webhooks:detail", args=[space_a.slug, endpoint.pk]))
    assert b"Enable" in page.content and b"Disabled" in page.content
    client_a.post(reverse("webhooks:enable", args=[space_a.slug, endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_at is None
    assert AuditEntry.objects.filter(action="webhook.enable").exists()


def test_award_expired_is_announced_once(space_a, receiver, admin_access):
    from webhooks.services import endpoint_create

    endpoint_create(access=admin_access, url=receiver.url, events=["award.expired"])
    award = make_award(space_a)
    later = make_award(space_a)
    from badges.models import Award

    now = timezone.now()
    Award.objects.filter(pk=award.pk).update(expires_at=now - timedelta(minutes=5))
    Award.objects.filter(pk=later.pk).update(expires_at=now + timedelta(days=3))
    assert emit_expired(now) == 1
    assert emit_expired(now) == 0, "idempotent"
    assert emit_expired(now + timedelta(minutes=1)) == 0
    message = Message.objects.get()
    data = json.loads(message.body)["data"]
    assert data["AwardId"] == str(award.public_id) and data["Status"] == "expired"
    # The other one expires later and is announced then, once.
    assert emit_expired(now + timedelta(days=4)) == 1
    assert emit_expired(now + timedelta(days=4)) == 0


def test_the_embedded_runner_runs_due_jobs_and_starts_only_for_runserver(settings, monkeypatch):
    ran = []
    monkeypatch.setattr(runner, "_jobs", {})
    runner.register("a", 10.0, lambda: ran.append("a"))
    runner.register("b", 60.0, lambda: 1 / 0)  # a failing job does not stop the others
    assert runner.tick(now=100.0) == ["a", "b"]
    assert runner.tick(now=105.0) == []
    assert runner.tick(now=111.0) == ["a"]
    runner.wake()
    assert runner.tick(now=112.0) == ["a", "b"]
    assert ran == ["a", "a", "a"]

    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMBEDDED_RUNNER = True
    monkeypatch.setenv("RUN_MAIN", "true")
    assert runner.should_start(["manage.py", "runserver"])
    assert not runner.should_start(["pytest"])
    monkeypatch.delenv("RUN_MAIN")
    assert not runner.should_start(["manage.py", "runserver"])  # the reloader's parent
    assert runner.should_start(["manage.py", "runserver", "--noreload"])
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a broker: the Celery beat runs the jobs
    assert not runner.should_start(["manage.py", "runserver", "--noreload"])


def test_the_runner_knows_the_outbox_and_webhook_jobs():
    assert {"drain-email-outbox", "deliver-webhooks", "webhook-award-expiry"} <= set(runner._jobs)
    assert runner._jobs["deliver-webhooks"].every <= 5
