"""/healthz answers the internal probe in production settings: plain HTTP (no redirect to
https) and any Host (no 400), and says nothing but whether the database answers."""

import json

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.fixture
def production(settings):
    # What DEBUG=0 with .env.example's ALLOWED_HOSTS sets (badgeplatform/settings.py).
    settings.DEBUG = False
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["badges.example.com"]
    return settings


def test_the_compose_probe_gets_200_over_plain_http_with_its_own_host(client, production):
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 200
    assert json.loads(response.content) == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert client.head("/healthz", HTTP_HOST="10.0.0.5").status_code == 200


def test_every_other_page_still_gets_the_redirect_and_the_host_check(client, production):
    # Without the exemption the probe would get these: a 301 to https, then a 400.
    assert client.get("/accounts/login/", HTTP_HOST="badges.example.com").status_code == 301
    assert client.get("/accounts/login/", HTTP_HOST="127.0.0.1:8000", secure=True).status_code == (
        400
    )
    # Other methods on /healthz go through the whole stack as before.
    assert client.post("/healthz", HTTP_HOST="badges.example.com").status_code == 301


def test_it_reflects_nothing_from_the_request(client, production):
    response = client.get(
        "/healthz?x=<script>", HTTP_HOST="evil.example", HTTP_X_FORWARDED_HOST="evil.example"
    )
    assert response.status_code == 200
    assert b"evil" not in response.content and b"script" not in response.content
    assert not any("evil" in value for value in response.headers.values())


def test_a_database_that_does_not_answer_is_503(client, production, monkeypatch):
    def broken():
        raise connection.OperationalError("down")

    monkeypatch.setattr(connection, "cursor", broken)
    response = client.get("/healthz", HTTP_HOST="127.0.0.1:8000")
    assert response.status_code == 503
    assert json.loads(response.content) == {"status": "database unavailable"}
