"""Fixtures for the public API: a key of space A and a client that sends it."""

import json
from dataclasses import dataclass

import pytest
from django.test import Client

from api.services import apikey_create
from tests.factories import make_badge


@dataclass
class ApiClient:
    """The Django test client through the whole stack, with a key's two headers."""

    client: Client
    developer_key: str
    token: str

    def headers(self, **extra) -> dict:
        return {
            "HTTP_X_API_KEY": self.developer_key,
            "HTTP_AUTHORIZATION": f"Bearer {self.token}",
            **extra,
        }

    def get(self, path: str, data=None, **extra):
        return self.client.get(path, data, **self.headers(**extra))

    def post(self, path: str, body, **extra):
        raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
        if isinstance(raw, str):
            # Raw text goes on the wire as sent, a lone surrogate too (invalid UTF-8 the
            # server must refuse with a 400): the client's own strict encoding would fail first.
            raw = raw.encode("utf-8", "surrogatepass")
        return self.client.post(path, raw, content_type="application/json", **self.headers(**extra))

    def events(self, body, **extra):
        return self.post("/api/ActivityEvents", body, **extra)


@pytest.fixture
def key_a(space_a, admin_a):
    return apikey_create(space=space_a, name="LMS", actor=admin_a)


@pytest.fixture
def api(key_a) -> ApiClient:
    return ApiClient(Client(), key_a.key.developer_key, key_a.token)


@pytest.fixture
def badge(space_a):
    return make_badge(space_a)
