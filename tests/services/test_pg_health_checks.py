"""PostgreSQL connections are health-checked (SELECT 1) only after idling, not per request."""

from __future__ import annotations

import os
import time
from unittest import mock

import pytest
from django.db import connection, connections

pytestmark = pytest.mark.django_db


@pytest.fixture
def pg(settings):
    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail("REQUIRE_SERVICES=1 but DATABASE_URL is not PostgreSQL")
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…)")
    wrapper = connections["default"]
    assert wrapper.settings_dict["ENGINE"] == "badgeplatform.pg"
    wrapper.ensure_connection()
    enabled = wrapper.health_check_enabled
    wrapper.health_check_enabled = True
    yield wrapper
    wrapper.health_check_enabled = enabled


def test_a_connection_used_moments_ago_is_not_checked_an_idle_one_is(pg, settings):
    settings.DB_HEALTH_CHECK_IDLE_SECONDS = 10
    with mock.patch.object(type(pg), "is_usable", return_value=True) as usable:
        # A request ends having used the connection: it is recorded as busy just now.
        pg.health_check_done = True
        pg.close_if_unusable_or_obsolete()
        pg.close_if_health_check_failed()  # the next request's first query
        assert not usable.called and pg.health_check_done
        # Idle past the threshold: the next request checks it first.
        pg._last_used = time.monotonic() - 11
        pg.health_check_done = False
        pg.close_if_health_check_failed()
        assert usable.call_count == 1


def test_an_idle_connection_that_died_is_replaced(pg, settings):
    settings.DB_HEALTH_CHECK_IDLE_SECONDS = 10
    pg._last_used = time.monotonic() - 60
    pg.health_check_done = False
    with (
        mock.patch.object(type(pg), "is_usable", return_value=False),
        mock.patch.object(type(pg), "close") as close,
    ):
        pg.close_if_health_check_failed()
    assert close.called
