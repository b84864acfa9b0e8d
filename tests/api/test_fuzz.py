"""Fuzzing the Events API: whatever the body, a 200 with a result per event or a 4xx — no 500.

`make test` runs a few hundred examples. A longer run:

    FUZZ_EXAMPLES=20000 .venv/bin/python -m pytest tests/api/test_fuzz.py

(and with DATABASE_URL=postgres://… to fuzz against PostgreSQL, which refuses NUL characters
and lone surrogates that SQLite stores).
"""

import json
import os

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as fuzz_settings
from hypothesis import strategies as st

from api.events import FIELDS, BodyError, parse_body, parse_events

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
HTTP_EXAMPLES = max(50, EXAMPLES // 6)

# Text with everything that has bitten parsers: control characters, CR/LF, NUL, lone
# surrogates, very long strings, and near-valid values.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40),
    st.sampled_from(
        [
            "",
            " ",
            "\r\n",
            "\x00",
            "\ud800",
            "a" * 320 + "@x.test",
            "x" * 5000,
            "2026-01-05T10:00:00+01:00",
            "2026-01-05T10:00:00",
            "2026-13-45T99:99:99Z",
            "9999-12-31T23:59:59-23:59",
            "0001-01-01T00:00:00+14:00",
            "someone@example.test",
            "6f1c4e63-5a6b-4f55-9d5e-2c2f8f1b7a10",
        ]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | nasty_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(nasty_text, children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.one_of(st.sampled_from(FIELDS), nasty_text)
events = st.dictionaries(field_names, json_values | nasty_text, max_size=8)
bodies = st.one_of(
    events,
    st.lists(events, min_size=0, max_size=5),
    json_values,
)


@pytest.fixture(autouse=True)
def _unthrottled(settings):
    settings.API_RATE_LIMIT = 10**9  # fuzz the parser and issuing, not the rate limit


def _encode(value) -> bytes:
    return json.dumps(value).encode()


@fuzz_settings(max_examples=EXAMPLES, deadline=None, database=None)
@given(st.one_of(bodies.map(_encode), st.binary(max_size=200)))
def test_the_parser_never_fails_unexpectedly(body):
    try:
        data = parse_body(body)
    except BodyError as exc:
        assert str(exc)
        return
    parsed = parse_events(data)
    assert len(parsed) == len(data)
    for event in parsed:
        # What goes back to the caller is text, and serialisable as the response is.
        json.dumps(event.errors).encode("ascii")
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in event.errors.items())
        if not event.errors:
            assert event.activity_id and event.user_id and event.activity_time is not None


@pytest.mark.django_db
@fuzz_settings(
    max_examples=HTTP_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies, use_badge=st.booleans())
def test_the_endpoint_never_answers_500(api, badge, body, use_badge):
    if use_badge and isinstance(body, dict):
        body = {**body, "ActivityId": str(badge.public_id)}
    response = api.events(body)
    assert response.status_code in {200, 400}, response.content[:500]
    payload = response.json()
    if response.status_code == 200:
        expected = len(body) if isinstance(body, list) else 1
        assert len(payload["Results"]) == expected
        assert {r["Status"] for r in payload["Results"]} <= {"awarded", "duplicate", "rejected"}
    else:
        assert payload["Error"]


@pytest.mark.django_db
def test_a_body_that_is_not_utf8_is_answered_not_a_500(api):
    # Hypothesis once drew a lone surrogate: on the wire that is invalid UTF-8. The event has
    # no ActivityId, so it is rejected; what matters is a clear answer, never a 500.
    response = api.events('{"UserId": "\ud800"}')
    assert response.status_code == 200
    assert response.json()["Results"][0]["Status"] == "rejected"
