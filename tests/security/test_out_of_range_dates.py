"""Hole 10: dates out of range (year 9999, year 0, 30 February) in the report pages, the CSV
exports and the Reporting API answered 500. Every date parameter now gets a 4xx that names the
field and the accepted range: the pages re-render the form with the error (422, the one status
of an invalid form), the Reporting API answers 400 with ``{"Error": …}``.
"""

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from api.services import apikey_create
from tests.api.conftest import ApiClient
from tests.factories import make_badge, make_rule

pytestmark = pytest.mark.django_db

RANGE = ("1900-01-01", "2999-12-31")
BAD_DATES = ["9999-12-31", "9999-12-01", "0000-01-01", "0001-01-01", "2025-02-30", "2025-13-01"]
GOOD = "2025-03-01"
PAGES = ["reporting:index", "reporting:export", "reporting:recipients", "reporting:recipients_csv"]


@pytest.fixture
def badge(space_a):
    return make_badge(space_a)


@pytest.fixture
def api(space_a) -> ApiClient:
    made = apikey_create(space=space_a, name="LMS")
    return ApiClient(Client(), made.key.developer_key, made.token)


def _page(client, space, name, badge, **params):
    client.raise_request_exception = False
    return client.get(reverse(name, args=[space.slug]), {**params, "badge": badge.pk})


def _says_field_and_range(text: str, label: str) -> bool:
    return label in text and all(bound in text for bound in RANGE)


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("bad", BAD_DATES)
@pytest.mark.parametrize("field", ["from", "to"])
def test_report_pages_answer_422_naming_the_field_and_range(
    client_a, space_a, badge, name, bad, field
):
    params = {"period": "custom", "from": GOOD, "to": "2025-03-31", field: bad}
    response = _page(client_a, space_a, name, badge, **params)
    assert response.status_code == 422, (name, params)
    text = response.content.decode()
    label = "From" if field == "from" else "To"
    assert _says_field_and_range(text, f"{label}: give"), text[:2000]


@pytest.mark.parametrize("name", PAGES)
@pytest.mark.parametrize("show", ["cumulative", "day", "month"])
def test_the_last_accepted_day_is_answered_without_error(client_a, space_a, badge, name, show):
    params = {"period": "custom", "from": "2999-12-01", "to": RANGE[1], "show": show}
    assert _page(client_a, space_a, name, badge, **params).status_code == 200


@pytest.fixture
def api_paths(space_a, badge):
    rule = make_rule(space_a, badge=badge)
    return [
        "/api/badges",
        "/api/rules",
        "/api/recipients",
        f"/api/badges/{badge.public_id}/recipients",
        f"/api/rules/{rule.public_id}/completions",
    ]


@pytest.mark.parametrize("bad", BAD_DATES)
@pytest.mark.parametrize("field", ["from", "to"])
def test_the_reporting_api_answers_400_naming_the_field_and_range(api, api_paths, bad, field):
    api.client.raise_request_exception = False
    for path in api_paths:
        response = api.get(path, {field: bad})
        assert response.status_code == 400, (path, field, bad, response.content[:300])
        error = response.json()["Error"]
        assert error.startswith(f"{field}:") and all(b in error for b in RANGE), error


def test_the_reporting_api_accepts_the_whole_range(api, api_paths):
    for path in api_paths:
        assert api.get(path, {"from": RANGE[0], "to": RANGE[1]}).status_code == 200, path


@pytest.mark.django_db
@fuzz_settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    start=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    end=st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    show=st.sampled_from(["cumulative", "day", "month"]),
    name=st.sampled_from(PAGES),
)
def test_any_date_pair_is_a_report_or_a_form_error_never_a_500(
    client_a, space_a, badge, api, start, end, show, name
):
    params = {"period": "custom", "from": start.isoformat(), "to": end.isoformat(), "show": show}
    assert _page(client_a, space_a, name, badge, **params).status_code in {200, 422}
    api.client.raise_request_exception = False
    response = api.get("/api/recipients", {"from": start.isoformat(), "to": end.isoformat()})
    assert response.status_code in {200, 400}, response.content[:300]
