"""GET/POST /api/webhooks and DELETE /api/webhooks/{Id}, per shared/API.md → Webhooks."""

from __future__ import annotations

import socket

import pytest
from django.test import Client

from api.services import apikey_create
from badgeplatform.models import AuditEntry
from tests.api.conftest import ApiClient
from tests.factories import OrganisationFactory, make_webhook
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def public_dns(monkeypatch):
    def getaddrinfo(host, port, *args, **kwargs):
        if host == "hooks.example.com":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]
        raise socket.gaierror(socket.EAI_NONAME, "unknown")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def api(space_a, admin_a) -> ApiClient:
    made = apikey_create(space=space_a, name="Whole space", actor=admin_a)
    return ApiClient(Client(), made.key.developer_key, made.token)


def _delete(api: ApiClient, id_: str):
    return api.client.delete(f"/api/webhooks/{id_}", **api.headers())


def test_register_list_delete(api, space_a):
    response = api.post(
        "/api/webhooks",
        {"Url": "https://hooks.example.com/in", "Events": ["award.revoked", "award.issued"]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["Secret"].startswith("whsec_")
    assert body["Url"] == "https://hooks.example.com/in"
    assert body["Events"] == ["award.issued", "award.revoked"]
    assert body["Active"] is True
    assert response["Cache-Control"] == "no-store"

    listed = api.get("/api/webhooks")
    assert listed.status_code == 200
    assert listed.json() == [
        {
            "Id": body["Id"],
            "Url": "https://hooks.example.com/in",
            "Events": ["award.issued", "award.revoked"],
            "Active": True,
        }
    ]
    assert body["Secret"] not in listed.content.decode()

    assert _delete(api, body["Id"]).status_code == 204
    assert api.get("/api/webhooks").json() == []
    assert _delete(api, body["Id"]).status_code == 404
    actions = list(AuditEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions[-2:] == ["webhook.create", "webhook.delete"]


@pytest.mark.parametrize(
    "body, fragment",
    [
        ({"Url": "http://hooks.example.com/in", "Events": ["award.issued"]}, "https://"),
        ({"Url": "https://10.0.0.1/in", "Events": ["award.issued"]}, "not a public address"),
        ({"Url": "https://127.0.0.1/in", "Events": ["award.issued"]}, "not a public address"),
        ({"Url": "https://hooks.example.com/in", "Events": ["award.exploded"]}, "award.exploded"),
        ({"Url": "https://hooks.example.com/in", "Events": []}, "at least one"),
        ({"Url": "https://hooks.example.com/in", "Events": "award.issued"}, "Events"),
        ({"Url": "https://hooks.example.com/in"}, "Events"),
        ({"Events": ["award.issued"]}, "Url"),
        ([1, 2], "object"),
        ("{not json", "JSON"),
    ],
)
def test_bad_requests_are_400_with_an_error_and_store_nothing(api, body, fragment):
    response = api.post("/api/webhooks", body)
    assert response.status_code == 400
    assert fragment in response.json()["Error"]
    assert not Endpoint.objects.exists()


def test_an_organisation_scoped_key_is_403_and_another_spaces_endpoint_404(
    api, space_a, space_b, admin_a
):
    branch = OrganisationFactory(space=space_a, name="Branch")
    scoped = apikey_create(space=space_a, name="Branch", organisation=branch)
    scoped_api = ApiClient(Client(), scoped.key.developer_key, scoped.token)
    mine = make_webhook(space_a)
    assert scoped_api.get("/api/webhooks").status_code == 403
    response = scoped_api.post(
        "/api/webhooks", {"Url": "https://hooks.example.com/x", "Events": ["award.issued"]}
    )
    assert response.status_code == 403 and "Error" in response.json()
    assert _delete(scoped_api, str(mine.public_id)).status_code == 403

    theirs = make_webhook(space_b)
    assert _delete(api, str(theirs.public_id)).status_code == 404
    assert _delete(api, "not-a-uuid").status_code == 404
    assert str(theirs.public_id) not in api.get("/api/webhooks").content.decode()
    assert Endpoint.objects.filter(pk=theirs.pk).exists()
    # No key at all: 401.
    assert Client().get("/api/webhooks").status_code == 401


def test_the_openapi_document_lists_the_operations(api):
    schema = Client().get("/api/openapi.json").json()
    assert {"get", "post"} <= set(schema["paths"]["/api/webhooks"])
    assert "delete" in schema["paths"]["/api/webhooks/{Id}"]
