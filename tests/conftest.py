"""The fixed cast: an admin and a plain member of space A, and an admin of space B."""

import os

import pytest
from django.core.cache import cache

from badgeplatform.celery import app as celery_app
from badges.openbadges.publish import clear_local_cache
from tests.browser.chromium import INSTALL_CHROMIUM, NO_CHROMIUM
from tests.factories import UserFactory, add_member, make_space

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make
# around it are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def clear_cache() -> None:
    """Empty this test process's cache. On a Redis shared by parallel workers (and by the
    Celery broker) only our own prefix goes: FLUSHDB would pull keys and queued tasks from
    under the other workers."""
    from django.conf import settings

    config = settings.CACHES["default"]
    if config["BACKEND"].endswith("RedisCache"):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{config.get('KEY_PREFIX', '')}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tasks run in-process in tests (the Celery app reads its config once, so set it there too);
    # tests/services starts a real worker where that is the point.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    celery_app.conf.task_always_eager = True
    clear_cache()
    clear_local_cache()  # the public Open Badges documents' in-process copies
    yield
    clear_cache()
    clear_local_cache()


@pytest.fixture
def admin_a(db):
    return UserFactory(username="alice", first_name="Alice", last_name="Admin")


@pytest.fixture
def space_a(admin_a):
    return make_space("Acme University", "acme", admin=admin_a)


@pytest.fixture
def member_a(space_a):
    return add_member(
        space_a, UserFactory(username="mallory", first_name="Mal", last_name="Member")
    )


@pytest.fixture
def admin_b(db):
    return UserFactory(username="bob", first_name="Bob", last_name="Other")


@pytest.fixture
def space_b(admin_b):
    return make_space("Beta Corp", "beta", admin=admin_b)


@pytest.fixture
def client_a(client, admin_a, space_a):
    client.force_login(admin_a)
    return client


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed(): …`` runs what the code queued with transaction.on_commit (emails,
    tasks) when the block ends, as a real commit would; tests run inside a transaction."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def pytest_unconfigure(config):
    """A run that skipped the browser tests for want of Chromium ends by saying so, loudly,
    after pytest's own summary: a green `make test` without them is not the whole suite (CI
    sets REQUIRE_BROWSER=1, which fails instead)."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return
    skipped = [
        report
        for report in reporter.stats.get("skipped", [])
        if NO_CHROMIUM in str(getattr(report, "longrepr", ""))
    ]
    if skipped:
        reporter.write_sep(
            "!", f"{len(skipped)} BROWSER TESTS SKIPPED: {NO_CHROMIUM}", red=True, bold=True
        )
        reporter.write_sep("!", f"to run them, {INSTALL_CHROMIUM}", red=True, bold=True)
