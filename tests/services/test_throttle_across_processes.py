"""The sign-in throttle holds across web processes: two gunicorn processes on PostgreSQL +
Redis share one budget per account, so N attempts split across them are throttled at the
limit, not at twice the limit.

Runs when the real services are configured (CI's PostgreSQL + Redis run); skipped otherwise,
a failure with REQUIRE_SERVICES=1 (see test_celery_worker.require_services).
"""

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import closing
from urllib.parse import quote

import pytest
from django.db import connection

from tests.factories import PASSWORD, UserFactory
from tests.services.test_celery_worker import require_services

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

LIMIT = 4


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def two_web_processes(settings, tmp_path):
    require_services()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        # The test's own prefix: both processes count in the same keys, and the test's cache
        # cleanup removes them afterwards.
        "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
        "LOGIN_FAILURE_LIMIT": str(LIMIT),
        "LOGIN_FAILURE_IP_LIMIT": "1000",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "DEBUG": "1",
    }
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                "--timeout",
                "60",
                "badgeplatform.wsgi:application",
            ],
            env=env,
            cwd=settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, proc in zip(urls, procs, strict=True):
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"gunicorn exited: {proc.stderr.read()}")
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=2)  # noqa: S310 - localhost
                    break
                # A worker still booting on a busy machine: the master accepted, no answer yet.
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    if time.monotonic() > deadline:
                        pytest.fail(f"{url} did not answer within 60 s")
                    time.sleep(0.3)
        yield urls
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


class Browser:
    """Just enough of a browser: cookies, and the CSRF token of the form it posts."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirect(),
        )

    def post_form(self, url: str, fields: dict) -> int:
        page = self.opener.open(url, timeout=30).read().decode()
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        body = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": token}).encode()
        request = urllib.request.Request(url, data=body, headers={"Referer": url})
        try:
            return self.opener.open(request, timeout=30).status
        except urllib.error.HTTPError as exc:  # 3xx (not followed), 4xx
            return exc.code


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_sign_in_budget_is_shared_by_two_web_processes(two_web_processes):
    UserFactory(username="carol", email="carol@example.test", is_staff=True)
    a, b = two_web_processes
    browser = Browser()

    def sign_in(base: str, password: str = "wrong", admin: bool = False) -> int:
        if admin:
            return browser.post_form(
                f"{base}/admin/login/?next=/admin/", {"username": "carol", "password": password}
            )
        return browser.post_form(
            f"{base}/accounts/login/", {"username": "carol", "password": password}
        )

    # LIMIT failures, alternating between the processes (and between the site's and the
    # admin's sign-in): each process saw only half of them, yet the next is refused by both.
    statuses = [sign_in(a), sign_in(b, admin=True), sign_in(a, admin=True), sign_in(b)]
    # (The site's form error is 422, the app's one status for an invalid form; the admin's 200.)
    assert statuses == [422, 200, 200, 422]
    assert len(statuses) == LIMIT
    assert sign_in(a, PASSWORD) == 429
    assert sign_in(b, PASSWORD, admin=True) == 429
