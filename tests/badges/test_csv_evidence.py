"""CSV evidence and result columns: each row's own evidence, checked by the Events API's
rules (badges.evidence), shown in the per-row preview and carried into the award."""

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from badges.csv_import import iter_recipients_csv
from badges.models import Award, IssueBatch
from tests.factories import make_badge

NOW = datetime(2026, 5, 10, 12, 0, tzinfo=UTC)


class Upload(io.BytesIO):
    def __init__(self, data: str):
        super().__init__(data.encode())
        self.size, self.name = len(data.encode()), "people.csv"


def parse(data: str):
    return list(iter_recipients_csv(Upload(data), tz=ZoneInfo("UTC"), now=NOW))


HEADER = (
    "Email,First name,Last name,EvidenceUrl,EvidenceNarrative,EvidenceName,"
    "ResultDescription,ResultValue\n"
)


def test_valid_evidence_and_result_columns_are_stored_as_the_api_stores_them():
    rows = parse(
        HEADER
        + "ada@example.org,Ada,Lovelace,https://example.org/p/1,  Built the engine.  ,"
        + "Capstone,Final grade,A\n"
        + "alan@example.org,Alan,Turing,,Wrote the paper.,,,\n"
        + "grace@example.org,Grace,Hopper,,,,,\n"
    )
    ada, alan, grace = rows
    assert not ada.errors and not alan.errors and not grace.errors
    assert ada.evidence == [
        {"narrative": "Built the engine.", "url": "https://example.org/p/1", "name": "Capstone"}
    ]
    assert ada.results == [{"description": "Final grade", "value": "A"}]
    assert alan.evidence == [{"narrative": "Wrote the paper."}] and alan.results == []
    assert grace.evidence == [] and grace.results == []


def test_invalid_evidence_is_a_problem_of_its_row_in_csv_words():
    rows = parse(
        HEADER
        + "a@example.org,A,A,ftp://example.org/x,,,,\n"
        + "b@example.org,B,B,,,Only a name,,\n"
        + "c@example.org,C,C,,"
        + "x" * 10_001
        + ",,,\n"
        + "d@example.org,D,D,,,,Final grade,\n"
        + "e@example.org,E,E,,,,,B+\n"
        + "f@example.org,F,F,https://ok.example/f,,,,\n"
    )
    problems = [r.errors for r in rows]
    assert problems[0] == {"evidence": "EvidenceUrl must be an absolute http:// or https:// URL."}
    assert problems[1] == {"evidence": "The evidence needs an EvidenceNarrative or an EvidenceUrl."}
    assert problems[2] == {"evidence": "EvidenceNarrative has 10,001 characters; at most 10,000."}
    assert problems[3] == {"results": "ResultValue is missing."}
    assert problems[4] == {"results": "ResultDescription is missing."}
    assert problems[5] == {}
    assert rows[0].evidence == [] and rows[3].results == []


def test_without_a_header_there_are_no_evidence_columns():
    (row,) = parse("ada@example.org,Ada,Lovelace,S-1,2026-05-01,https://example.org/p\n")
    assert "row" in row.errors and row.evidence == []


@pytest.fixture
def badge(space_a):
    return make_badge(space_a, name="Lab Safety")


def issue_url(space, badge):
    return reverse("issuing:issue", args=[space.slug, badge.pk])


def test_the_preview_shows_each_rows_evidence_and_problems_and_the_awards_carry_it(
    client, admin_a, space_a, badge
):
    client.force_login(admin_a)
    data = (
        HEADER
        + "ada@new.test,Ada,Lovelace,https://example.org/p/1,,Capstone,Final grade,A\n"
        + "bad@new.test,Bad,Row,javascript:alert(1),,,,\n"
        + "plain@new.test,Plain,Person,,,,,\n"
    )
    response = client.post(
        issue_url(space_a, badge),
        {
            "action": "upload_csv",
            "file": SimpleUploadedFile("people.csv", data.encode(), "text/csv"),
            "tz": "UTC",
        },
    )
    assert response.status_code == 302 and response.url.endswith("?step=review")
    page = client.get(response.url).content.decode()
    assert "Evidence: Capstone · " in page and "https://example.org/p/1" in page
    assert "Result: Final grade — <strong>A</strong>" in page
    assert "EvidenceUrl must be an absolute http:// or https:// URL." in page
    assert "2 ready" in page and "1 with problems" in page
    client.post(
        issue_url(space_a, badge),
        {
            "action": "issue",
            "tz": "UTC",
            "evidence_narrative": "Attended the whole course.",
            "evidence_url": "",
        },
    )
    assert IssueBatch.objects.get().issued == 2
    ada = Award.objects.get(recipient_email="ada@new.test")
    assert ada.evidence == [{"url": "https://example.org/p/1", "name": "Capstone"}]
    assert ada.results == [{"description": "Final grade", "value": "A"}]
    # A row without its own evidence gets the list's.
    plain = Award.objects.get(recipient_email="plain@new.test")
    assert plain.evidence == [{"narrative": "Attended the whole course."}]
    assert not Award.objects.filter(recipient_email="bad@new.test").exists()
