"""An API auth token is a secret: ≥ 128 bits of randomness, stored only as a hash, compared
in constant time, and never written to a log, whether the call succeeds or fails."""

import inspect
import json
import logging
import math

import pytest
from django.db import connection
from django.test import Client

from api import services
from api.models import ApiKey
from api.services import TOKEN_PREFIX, apikey_create, apikey_revoke
from badgeplatform.models import AuditEntry
from tests.factories import make_badge

pytestmark = pytest.mark.django_db

WATCHED_LOGGERS = ["", "django", "django.request", "django.server", "django.db.backends", "api"]


@pytest.fixture
def all_logs(caplog):
    """Every record of every logger at DEBUG, SQL included, as one searchable text."""
    loggers = [logging.getLogger(name) for name in WATCHED_LOGGERS]
    saved = [(lg, lg.level, lg.propagate) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        if lg.name != "root":
            lg.addHandler(caplog.handler)  # even if a logger stops propagating
    caplog.set_level(logging.DEBUG)
    connection.force_debug_cursor = True  # django.db.backends logs each query with its params
    try:
        yield lambda: "\n".join(
            caplog.handler.format(record) + " " + repr(record.args) + " " + repr(record.__dict__)
            for record in caplog.records
        )
    finally:
        connection.force_debug_cursor = False
        for lg, level, propagate in saved:
            lg.setLevel(level)
            lg.propagate = propagate
            if lg.name != "root":
                lg.removeHandler(caplog.handler)


def call(client: Client, method: str, path: str, developer_key: str, token: str, body=None):
    headers = {"HTTP_X_API_KEY": developer_key, "HTTP_AUTHORIZATION": f"Bearer {token}"}
    if method == "GET":
        return client.get(path, **headers)
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def test_the_token_never_reaches_a_log(space_a, admin_a, all_logs):
    new = apikey_create(space=space_a, name="LMS", actor=admin_a)
    make_badge(space_a)
    client = Client(raise_request_exception=False)
    dev, token = new.key.developer_key, new.token
    wrong = TOKEN_PREFIX + "x" * (len(token) - len(TOKEN_PREFIX))
    event = {
        "ActivityId": "a-1",
        "ActivityTime": "2026-01-01T09:00:00Z",
        "UserId": "ada@example.test",
        "Email": "ada@example.test",
        "FirstName": "Ada",
        "LastName": "Lovelace",
    }

    statuses = [
        call(client, "GET", "/api/badges", dev, token).status_code,  # valid
        call(client, "POST", "/api/ActivityEvents", dev, token, [event]).status_code,
        call(client, "POST", "/api/ActivityEvents", dev, token, {"broken": True}).status_code,
        call(client, "GET", "/api/badges", dev, wrong).status_code,  # a wrong token
        call(client, "GET", "/api/badges", "dk_nope", token).status_code,  # unknown key
    ]
    apikey_revoke(key=new.key)
    statuses.append(call(client, "GET", "/api/badges", dev, token).status_code)  # revoked

    assert statuses[0] == 200 and statuses[3:] == [401, 401, 401]
    logged = all_logs()
    assert "SELECT" in logged  # the capture really saw the queries and requests ...
    assert "/api/badges" in logged
    for secret in (token, wrong, token[len(TOKEN_PREFIX) :]):
        assert secret not in logged  # ... and never the token (nor a wrong one)
    # Nor is it kept anywhere else: the row holds a hash, the audit log never the token.
    row = ApiKey.objects.filter(pk=new.key.pk).values().get()
    assert token not in repr(row) and row["token_hash"] == services.token_hash(token)
    assert token not in repr(list(AuditEntry.objects.values()))


def test_tokens_carry_at_least_128_bits_and_are_compared_in_constant_time(space_a):
    tokens = {apikey_create(space=space_a, name=f"k{i}").token for i in range(20)}
    assert len(tokens) == 20
    for token in tokens:
        random_part = token[len(TOKEN_PREFIX) :]
        # token_urlsafe: 6 bits per character.
        assert len(random_part) * math.log2(64) >= 128
    source = inspect.getsource(services.apikey_authenticate)
    assert "hmac.compare_digest" in source and "==" not in source.replace("!=", "")
