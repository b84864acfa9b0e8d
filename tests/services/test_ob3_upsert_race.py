"""Two upserts of the same credential at the same moment (a wallet retrying, two devices) keep
one row on PostgreSQL: the unique (recipient, issuer id, credential id) decides, the loser
answers 304. Runs with the real services (CI's PostgreSQL run)."""

import threading

import pytest
from django.db import connection

from obapi import imports
from obapi.models import ImportedCredential
from tests.factories import UserFactory
from tests.obapi.foreign import ForeignIssuer
from tests.services.test_celery_worker import require_services

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_two_upserts_at_once_keep_one_row(settings):
    require_services()
    settings.VERIFY_FETCH_FOREIGN = False
    user = UserFactory()
    credential = ForeignIssuer().credential(valid_from="2026-01-10T09:00:00Z")
    start = threading.Barrier(2)
    statuses, errors = [], []

    def upsert():
        try:
            start.wait()
            statuses.append(imports.credential_upsert(user=user, payload=credential).status)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=upsert) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(statuses) == [imports.CREATED, imports.UNCHANGED]
    assert ImportedCredential.objects.filter(recipient=user).count() == 1
