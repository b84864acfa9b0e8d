"""POST /api/ActivityEvents with Evidence and Results (shared/API.md): stored on the award,
a bad value rejects only its event, rule awards carry the completing event's evidence, and a
batch with evidence costs the same number of queries as one without."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from badges import links
from badges.models import ActivityEvent, Award
from tests.api.test_events import EXPECTED_EVENT_QUERIES, _mixed_batch
from tests.factories import add_member, make_rule

pytestmark = pytest.mark.django_db

WHEN = "2026-01-05T10:00:00+01:00"
EVIDENCE = [
    {"Narrative": "Built the data pipeline.", "Url": "https://git.example/p", "Name": "Repo"},
    {"Url": "https://files.example/report.pdf"},
]
RESULTS = [{"Description": "Final grade", "Value": "A"}]


def event(badge, user_id, **fields):
    return {"ActivityId": str(badge.public_id), "ActivityTime": WHEN, "UserId": user_id, **fields}


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["Results"]


def test_evidence_and_results_are_stored_and_published(api, badge, member_a, client):
    [row] = results(api.events(event(badge, member_a.email, Evidence=EVIDENCE, Results=RESULTS)))
    assert row["Status"] == "awarded" and row["Errors"] == {}
    award = Award.objects.get()
    assert award.evidence == [
        {"narrative": "Built the data pipeline.", "url": "https://git.example/p", "name": "Repo"},
        {"url": "https://files.example/report.pdf"},
    ]
    assert award.results == [{"description": "Final grade", "value": "A"}]
    assertion = client.get(
        links.assertion_url(award).removeprefix(links._url("")), HTTP_ACCEPT="application/json"
    ).json()
    assert [e.get("id") for e in assertion["evidence"]] == [
        "https://git.example/p",
        "https://files.example/report.pdf",
    ]
    credential = json.loads(
        client.get(links.credential_url(award).removeprefix(links._url(""))).content
    )
    assert credential["credentialSubject"]["result"][0]["value"] == "A"
    assert len(credential["evidence"]) == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("Evidence", {"Narrative": "x"}, "Evidence must be a list of objects."),
        ("Evidence", [{"Name": "n"}], "Evidence[0] needs a Narrative or a Url."),
        (
            "Evidence",
            [{"Url": "javascript:alert(1)"}],
            "Evidence[0].Url must be an absolute http:// or https:// URL.",
        ),
        ("Evidence", [{"Narrative": "x"}] * 21, "21 items in Evidence; at most 20."),
        (
            "Evidence",
            [{"Narrative": "x" * 10_001}],
            "Evidence[0].Narrative has 10,001 characters; at most 10,000.",
        ),
        ("Results", [{"Description": "Grade"}], "Results[0] needs a Value."),
        (
            "Results",
            [{"Description": "Grade", "Value": "A", "Score": 1}],
            "Results[0] has an unknown field “Score”; the fields are Description, Value "
            "(case-sensitive).",
        ),
        ("Results", "A", "Results must be a list of objects."),
    ],
)
def test_a_bad_value_rejects_only_its_event(api, badge, member_a, field, value, message):
    other = add_member(badge.space)
    rows = results(
        api.events([event(badge, member_a.email, **{field: value}), event(badge, other.email)])
    )
    assert rows[0]["Status"] == "rejected"
    assert rows[0]["Errors"] == {field: message}
    assert rows[1]["Status"] == "awarded"
    assert list(Award.objects.values_list("recipient", flat=True)) == [other.pk]


def test_null_evidence_is_no_evidence(api, badge, member_a):
    [row] = results(api.events(event(badge, member_a.email, Evidence=None, Results=None)))
    assert row["Status"] == "awarded"
    assert Award.objects.get().evidence == []


def test_a_rule_award_carries_the_completing_events_evidence(api, badge, member_a):
    rule = make_rule(badge.space, badge=badge, activity_id="course-done", threshold=2)
    first = {**event(badge, member_a.email), "ActivityId": "course-done"}
    second = {
        **first,
        "ActivityTime": "2026-01-06T10:00:00+01:00",
        "Evidence": [{"Narrative": "Second module."}],
        "Results": [{"Description": "Score", "Value": "90"}],
    }
    rows = results(api.events([first, second]))
    assert [r["Status"] for r in rows] == ["recorded", "awarded"]
    award = Award.objects.get()
    assert award.evidence == [{"narrative": "Second module."}]
    assert award.results == [{"description": "Score", "value": "90"}]
    assert ActivityEvent.objects.filter(rule=rule).count() == 2


@pytest.mark.parametrize("size", [3, 12])
def test_evidence_costs_no_extra_queries(api, badge, space_a, size):
    """The mixed batch of tests/api/test_events.py with Evidence and Results on every event
    takes exactly its pinned number of queries: evidence is JSON on the award row."""
    rule = make_rule(space_a, threshold=1, activity_id="visit")
    body = [
        {**e, "Evidence": EVIDENCE, "Results": RESULTS}
        for e in _mixed_batch(space_a, badge, rule, size)
    ]
    with CaptureQueriesContext(connection) as ctx:
        rows = results(api.events(body))
    assert [r["Status"] for r in rows] == ["awarded"] * (3 * size) + ["rejected"]
    assert len(ctx.captured_queries) == EXPECTED_EVENT_QUERIES
    assert all(len(a.evidence) == 2 and a.results for a in Award.objects.all())
    assert Award.objects.count() == 3 * size


def test_the_awards_api_shows_what_the_event_sent(api, badge, member_a):
    [row] = results(api.events(event(badge, member_a.email, Evidence=EVIDENCE, Results=RESULTS)))
    shown = api.get(f"/api/awards/{row['AwardId']}").json()
    assert shown["Evidence"] == [
        {"Narrative": "Built the data pipeline.", "Url": "https://git.example/p", "Name": "Repo"},
        {"Narrative": "", "Url": "https://files.example/report.pdf", "Name": ""},
    ]
    assert shown["Results"] == RESULTS
