"""The issue page as a guided flow: recipients → review → issue, one step at a time, each
action's feedback (and each form's errors, linked to their fields) inside the step it concerns."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.factories import add_member, make_badge

pytestmark = pytest.mark.django_db


@pytest.fixture
def badge(space_a):
    return make_badge(space_a)


@pytest.fixture
def here(space_a, badge):
    return reverse("issuing:issue", args=[space_a.slug, badge.pk])


def current_step(html: str) -> str:
    return re.search(r'aria-current="step">\s*<a href="\?step=(\w+)"', html).group(1)


def test_a_step_without_what_it_needs_falls_back_to_the_one_before(client_a, here, space_a):
    # Nothing listed: review and issue are not links yet, and asking for them shows step 1.
    html = client_a.get(here + "?step=issue").content.decode()
    assert current_step(html) == "recipients"
    off = '<span class="step-off" aria-disabled="true"><span class="step-no">3</span> Issue'
    assert off in html
    assert 'href="?step=review"' not in html

    # Only a row with problems: issuing is still not possible, so ?step=issue shows the review.
    client_a.post(
        here, {"action": "add_person", "email": "no-name@new.test", "first_name": "N"}
    )  # invalid (no last name): nothing listed
    client_a.post(
        here,
        {"action": "upload_csv", "tz": "UTC", "file": _csv("Email,First name\nbad-address,B\n")},
    )
    html = client_a.get(here + "?step=issue").content.decode()
    assert current_step(html) == "review"
    assert "Fix or remove the rows with problems to continue." in html
    assert 'href="?step=issue"' not in html


def test_each_action_lands_on_the_step_it_concerns_with_its_feedback_there(client_a, here, space_a):
    member = add_member(space_a)
    response = client_a.post(here, {"action": "add_members", "users": [member.pk]})
    assert response.url == here + "?step=recipients"
    html = client_a.get(response.url).content.decode()
    assert current_step(html) == "recipients"
    feedback = html.split('id="step-feedback"')[1].split("</div>\n</div>")[0]
    assert "Added 1 person." in feedback  # inside the step, not above the page
    assert html.count("Added 1 person.") == 1
    assert 'href="?step=review">Review the list →' in html

    response = client_a.post(here, {"action": "remove", "remove": "0"})
    assert response.url == here + "?step=review"
    response = client_a.post(here, {"action": "discard"})
    assert response.url == here


def test_an_invalid_form_gets_an_error_summary_linking_each_field(client_a, here, space_a):
    member = add_member(space_a)
    client_a.post(here, {"action": "add_members", "users": [member.pk]})

    response = client_a.post(here, {"action": "add_person", "email": "not-an-address"})
    assert response.status_code == 422
    html = response.content.decode()
    assert current_step(html) == "recipients"
    summary = html.split('role="alert"')[1].split("</div>")[0]
    assert "Check these before going on:" in summary
    assert 'href="#id_email"' in summary and 'href="#id_first_name"' in summary

    response = client_a.post(
        here, {"action": "issue", "tz": "UTC", "evidence_url": "ftp://example.org/work"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert current_step(html) == "issue"  # the issue form's error stays on its step
    assert 'href="#id_evidence_url"' in html.split('role="alert"')[1].split("</div>")[0]


def _csv(text):
    return SimpleUploadedFile("people.csv", text.encode(), content_type="text/csv")
