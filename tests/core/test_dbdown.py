"""A database that is restarting answers 503 with a message (HTML and API), never a 500."""

from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.urls import reverse

from tests.api.conftest import api, key_a  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def test_an_html_page_answers_503_when_the_database_is_down(client_a, space_a):
    # The logged-in user is loaded lazily inside the view: that query is the one that fails.
    with mock.patch(
        "django.contrib.auth.backends.ModelBackend.get_user",
        side_effect=OperationalError("server closed the connection unexpectedly"),
    ):
        response = client_a.get(reverse("dashboard", kwargs={"space_slug": space_a.slug}))
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"The database is unavailable for a moment" in response.content
    assert b"Traceback" not in response.content


def test_the_api_answers_503_json_when_the_database_is_down(api):  # noqa: F811
    with mock.patch(
        "api.http.apikey_authenticate", side_effect=InterfaceError("connection already closed")
    ):
        response = api.get("/api/badges")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "database is unavailable" in response.json()["Error"]


def test_other_errors_are_not_disguised_as_503(client_a, space_a):
    client_a.raise_request_exception = False
    with mock.patch(
        "django.contrib.auth.backends.ModelBackend.get_user", side_effect=ValueError("a bug")
    ):
        response = client_a.get(reverse("dashboard", kwargs={"space_slug": space_a.slug}))
    assert response.status_code == 500
