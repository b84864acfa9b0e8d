"""Open Badges 3.0 achievements: the badge's stable id and version, the richer Achievement
fields (the editor's Standards tab) and per-award evidence and results (shared/API.md), in
OB 2.0 and OB 3.0 output, judged by the official OB 3.0 schema and the independent proof
check."""

import json
import re

import jsonschema
import pytest
from django.test import TestCase
from django.urls import reverse

from badgeplatform.access import Access
from badges import achievements, links
from badges.evidence import EvidenceError, evidence_clean, results_clean
from badges.issuing import RecipientInput, awards_issue
from badges.models import Award, AwardCredential
from badges.openbadges import publish
from badges.services import badge_update
from tests.factories import add_member, make_award, make_badge
from tests.openbadges_reference import (
    ACHIEVEMENT_SCHEMA,
    HAVE_CONFORMANCE,
    SCHEMAS,
    SKIP_REASON,
    ref_schema_errors,
)

pytestmark = pytest.mark.django_db
needs_conformance = pytest.mark.skipif(not HAVE_CONFORMANCE, reason=SKIP_REASON)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HTMX = {"HTTP_HX_REQUEST": "true"}

RICH = {
    "achievement_type": "Certification",
    "alignments": [
        {
            "name": "Manage information",
            "url": "http://data.europa.eu/esco/skill/0a56e9b8-a1b3-4b5a-9b56-1d2c3e4f5a6b",
            "framework": "ESCO",
            "code": "S5.1",
        },
        {"name": "Python basics", "url": "https://case.example/items/42"},
    ],
    "tags": ["python", "programming"],
    "credits_available": 5,
    "field_of_study": "Computer science",
    "human_code": "CS-101",
    "result_descriptions": [
        {
            "id": "urn:uuid:6a2e3c1f-1b7d-4c8a-9e0f-123456789abc",
            "name": "Final grade",
            "result_type": "LetterGrade",
            "allowed_values": ["A", "B", "C"],
        }
    ],
}


def fetch(client, url, accept="application/ld+json"):
    response = client.get(url.removeprefix(links._url("")), HTTP_ACCEPT=accept)
    assert response.status_code == 200, url
    return json.loads(response.content)


def issue(badge, *, evidence=(), results=()):
    _, [outcome] = awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        recipients=[
            RecipientInput(
                user=add_member(badge.space), evidence=list(evidence), results=list(results)
            )
        ],
        notify=False,
    )
    assert outcome.status == "awarded", outcome.errors
    return Award.objects.get(pk=outcome.award.pk)


def edit(badge, **changes):
    return badge_update(access=Access.system(badge.space), badge=badge, actor=None, **changes)


# ---- Vocabularies from the official schema --------------------------------------------------


@needs_conformance
def test_vocabularies_are_the_official_schemas():
    defs = json.loads((SCHEMAS / ACHIEVEMENT_SCHEMA).read_text())["$defs"]
    kinds = defs["Achievement"]["properties"]["achievementType"]["oneOf"][0]["enum"]
    assert list(achievements.ACHIEVEMENT_TYPES) == kinds
    results = defs["ResultDescription"]["properties"]["resultType"]["oneOf"][0]["enum"]
    assert list(achievements.RESULT_TYPES) == results


# ---- Stable achievement id and version ------------------------------------------------------


@needs_conformance
def test_achievement_id_is_stable_across_edits_and_the_version_counts_them(client, space_a):
    badge = make_badge(space_a)
    first = issue(badge)
    edit(badge, description="Now with tests.")
    badge.refresh_from_db()
    assert badge.revision == 2
    second = issue(badge)

    one = fetch(client, links.credential_url(first))
    two = fetch(client, links.credential_url(second))
    a1, a2 = one["credentialSubject"]["achievement"], two["credentialSubject"]["achievement"]
    assert a1["id"] == a2["id"] == links.achievement_url(badge)
    assert (a1["version"], a2["version"]) == ("1", "2")
    assert a2["description"] == "Now with tests."
    for credential in (one, two):
        assert ref_schema_errors(credential, ACHIEVEMENT_SCHEMA) == []

    # OB 2.0 keeps one BadgeClass per version, as before.
    assertion1 = fetch(client, links.assertion_url(first))
    assertion2 = fetch(client, links.assertion_url(second))
    assert assertion1["badge"] != assertion2["badge"]
    assert "/v/" in assertion1["badge"]
    assert fetch(client, assertion1["badge"])["description"] != "Now with tests."


def test_saving_without_a_change_keeps_the_revision(space_a):
    badge = make_badge(space_a)
    edit(badge, name=badge.name)
    badge.refresh_from_db()
    assert badge.revision == 1


def test_signed_credentials_keep_their_bytes_after_an_edit(client, space_a):
    badge = make_badge(space_a)
    award = issue(badge)
    before = client.get(links.credential_url(award).removeprefix(links._url(""))).content
    edit(badge, name="Renamed", tags=["new"])
    publish.clear_local_cache()
    after = client.get(links.credential_url(award).removeprefix(links._url(""))).content
    assert before == after
    assert json.loads(after)["credentialSubject"]["achievement"]["name"] != "Renamed"


@needs_conformance
def test_the_stable_id_resolves_to_the_current_achievement(client, space_a):
    badge = make_badge(space_a, **RICH)
    url = links.achievement_url(badge)
    doc = fetch(client, url)
    assert doc["id"] == url and doc["type"] == ["Achievement"] and doc["version"] == "1"
    assert doc["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    # An Achievement by the official schema's own definition.
    schema = json.loads((SCHEMAS / ACHIEVEMENT_SCHEMA).read_text())
    wrapped = {
        "$schema": schema["$schema"],
        "$defs": schema["$defs"],
        "$ref": "#/$defs/Achievement",
    }
    validator = jsonschema.Draft201909Validator(wrapped)
    assert [e.message for e in validator.iter_errors(doc)] == []

    edit(badge, name="Python Fundamentals II")
    doc = fetch(client, url)
    assert doc["name"] == "Python Fundamentals II" and doc["version"] == "2" and doc["id"] == url

    page = client.get(url.removeprefix(links._url("")), HTTP_ACCEPT=BROWSER)
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "Python Fundamentals II" in html and "Manage information" in html
    assert f'href="{url}?format=json"' in html
    assert client.get(url.removeprefix(links._url("")) + "?format=json").json()["id"] == url


def test_a_drafts_achievement_id_is_404(client, space_a):
    draft = make_badge(space_a, state="draft")
    path = links.achievement_url(draft).removeprefix(links._url(""))
    assert client.get(path, HTTP_ACCEPT="application/ld+json").status_code == 404


# ---- Richer achievements in OB 3.0 and OB 2.0 -----------------------------------------------


@needs_conformance
def test_rich_achievement_in_the_credential_and_the_badgeclass(client, space_a):
    badge = make_badge(space_a, **RICH)
    award = issue(badge)
    credential = fetch(client, links.credential_url(award))
    assert ref_schema_errors(credential, ACHIEVEMENT_SCHEMA) == []
    achievement = credential["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "Certification"
    assert achievement["alignment"][0] == {
        "type": ["Alignment"],
        "targetName": "Manage information",
        "targetUrl": RICH["alignments"][0]["url"],
        "targetFramework": "ESCO",
        "targetCode": "S5.1",
    }
    assert achievement["alignment"][1] == {
        "type": ["Alignment"],
        "targetName": "Python basics",
        "targetUrl": "https://case.example/items/42",
    }
    assert achievement["tag"] == ["python", "programming"]
    assert achievement["creditsAvailable"] == 5.0
    assert achievement["fieldOfStudy"] == "Computer science"
    assert achievement["humanCode"] == "CS-101"
    assert achievement["criteria"]["narrative"] == "Pass the final assessment."
    assert achievement["resultDescription"] == [
        {
            "id": "urn:uuid:6a2e3c1f-1b7d-4c8a-9e0f-123456789abc",
            "type": ["ResultDescription"],
            "name": "Final grade",
            "resultType": "LetterGrade",
            "allowedValue": ["A", "B", "C"],
        }
    ]
    badgeclass = fetch(client, fetch(client, links.assertion_url(award))["badge"])
    assert badgeclass["alignment"][0] == {
        "targetName": "Manage information",
        "targetUrl": RICH["alignments"][0]["url"],
        "targetFramework": "ESCO",
        "targetCode": "S5.1",
    }
    assert badgeclass["tags"] == ["python", "programming"]


def test_the_service_refuses_badly_shaped_achievement_fields(space_a):
    badge = make_badge(space_a)
    for bad in (
        {"achievement_type": "Trophy"},
        {"alignments": [{"name": "x", "url": "javascript:alert(1)"}]},
        {"tags": ["x" * 61]},
        {"result_descriptions": [{"id": "nope", "name": "x", "result_type": "Result"}]},
    ):
        with pytest.raises(ValueError):
            edit(badge, **bad)
    badge.refresh_from_db()
    assert badge.revision == 1 and badge.tags == []


# ---- Evidence and results: the rules ---------------------------------------------------------


def test_evidence_and_results_limits():
    assert evidence_clean([{"Narrative": " Did it ", "Name": "Essay"}]) == [
        {"narrative": "Did it", "name": "Essay"}
    ]
    assert evidence_clean([{"Url": "https://e.example/x"}]) == [{"url": "https://e.example/x"}]
    assert results_clean([{"Description": "Grade", "Value": "A"}]) == [
        {"description": "Grade", "value": "A"}
    ]
    refused = {
        "not a list": ({"Narrative": "x"}, evidence_clean),
        "21 items": ([{"Narrative": "x"}] * 21, evidence_clean),
        "neither": ([{"Name": "only a name"}], evidence_clean),
        "narrative too long": ([{"Narrative": "x" * 10_001}], evidence_clean),
        "url too long": ([{"Url": "https://e.example/" + "x" * 2000}], evidence_clean),
        "relative url": ([{"Url": "/files/1"}], evidence_clean),
        "ftp url": ([{"Url": "ftp://e.example/x"}], evidence_clean),
        "name too long": ([{"Narrative": "x", "Name": "n" * 201}], evidence_clean),
        "unknown field": ([{"Narrative": "x", "narrative": "y"}], evidence_clean),
        "number": ([{"Narrative": 5}], evidence_clean),
        "no value": ([{"Description": "Grade"}], results_clean),
        "long value": ([{"Description": "Grade", "Value": "v" * 201}], results_clean),
        "21 results": ([{"Description": "G", "Value": "A"}] * 21, results_clean),
    }
    for label, (value, clean) in refused.items():
        with pytest.raises(EvidenceError):
            clean(value)
            pytest.fail(label)
    assert len(evidence_clean([{"Narrative": "x" * 10_000}] * 20)) == 20


@needs_conformance
def test_evidence_and_results_in_ob2_and_ob3(client, space_a):
    badge = make_badge(space_a, **RICH)
    award = issue(
        badge,
        evidence=evidence_clean(
            [
                {"Narrative": "Wrote a parser.", "Url": "https://git.example/p", "Name": "Repo"},
                {"Narrative": "Presented it."},
            ]
        ),
        results=results_clean(
            [{"Description": "Final grade", "Value": "A"}, {"Description": "Score", "Value": "92"}]
        ),
    )
    assertion = fetch(client, links.assertion_url(award))
    assert assertion["evidence"] == [
        {
            "type": "Evidence",
            "id": "https://git.example/p",
            "narrative": "Wrote a parser.",
            "name": "Repo",
        },
        {"type": "Evidence", "narrative": "Presented it."},
    ]
    credential = fetch(client, links.credential_url(award))
    assert ref_schema_errors(credential, ACHIEVEMENT_SCHEMA) == []
    assert credential["evidence"][0] == {
        "type": ["Evidence"],
        "id": "https://git.example/p",
        "narrative": "Wrote a parser.",
        "name": "Repo",
    }
    subject = credential["credentialSubject"]
    descriptions = subject["achievement"]["resultDescription"]
    # "Final grade" is the badge's own; "Score" is new, added to the embedded achievement.
    assert subject["result"][0] == {
        "type": ["Result"],
        "resultDescription": "urn:uuid:6a2e3c1f-1b7d-4c8a-9e0f-123456789abc",
        "value": "A",
    }
    added = descriptions[-1]
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", added["id"])
    assert added == {
        "id": added["id"],
        "type": ["ResultDescription"],
        "name": "Score",
        "resultType": "Result",
    }
    assert subject["result"][1] == {
        "type": ["Result"],
        "resultDescription": added["id"],
        "value": "92",
    }
    # The badge itself is not changed by a result it did not describe.
    assert [
        d["name"] for d in fetch(client, links.achievement_url(badge))["resultDescription"]
    ] == ["Final grade"]
    assert AwardCredential.objects.filter(award=award).exists()


def test_the_credential_of_an_award_without_evidence_has_none(client, space_a):
    award = make_award(space_a)
    credential = fetch(client, links.credential_url(award))
    assert "evidence" not in credential and "result" not in credential["credentialSubject"]
    assert "evidence" not in fetch(client, links.assertion_url(award))


# ---- The editor's Standards tab -------------------------------------------------------------


def standards(**changes):
    data = {
        "tab": "standards",
        "goto": "standards",
        "achievement_type": "Course",
        "human_code": "CS-101",
        "field_of_study": "Computer science",
        "credits_available": "2.5",
        "tags": "python, testing, python",
        "align_name": ["Manage information", ""],
        "align_url": ["https://esco.example/skill/1", ""],
        "align_framework": ["ESCO", ""],
        "align_code": ["S5.1", ""],
        "rd_id": [""],
        "rd_name": ["Final grade"],
        "rd_result_type": ["LetterGrade"],
        "rd_allowed_values": ["A, B, C"],
        "rd_value_min": [""],
        "rd_value_max": [""],
    }
    return {**data, **changes}


def test_standards_tab_saves_everything(client_a, space_a):
    badge = make_badge(space_a, state="draft")
    target = reverse("badges:edit", args=[space_a.slug, badge.pk])
    response = client_a.post(target, standards())
    assert response.status_code == 302, (
        getattr(response, "context", None) and response.context["form"].errors
    )
    badge.refresh_from_db()
    assert badge.achievement_type == "Course" and badge.human_code == "CS-101"
    assert float(badge.credits_available) == 2.5 and badge.tags == ["python", "testing"]
    assert badge.alignments == [
        {
            "name": "Manage information",
            "url": "https://esco.example/skill/1",
            "framework": "ESCO",
            "code": "S5.1",
        }
    ]
    [rd] = badge.result_descriptions
    assert rd["name"] == "Final grade" and rd["allowed_values"] == ["A", "B", "C"]
    assert achievements.URN_UUID.match(rd["id"])
    assert badge.revision == 2
    assert badge.events.first().note.startswith("Changed ")

    # Shown again as saved; saving again keeps the result description's id.
    page = client_a.get(f"{target}?tab=standards").content.decode()
    assert 'value="Manage information"' in page and f'value="{rd["id"]}"' in page
    client_a.post(target, standards(rd_id=[rd["id"]], rd_name=["Grade"]))
    badge.refresh_from_db()
    assert badge.result_descriptions[0]["id"] == rd["id"]
    assert badge.result_descriptions[0]["name"] == "Grade"


def test_standards_rows_are_added_and_removed_in_place(client_a, space_a):
    badge = make_badge(space_a, state="draft")
    target = reverse("badges:edit", args=[space_a.slug, badge.pk])
    response = client_a.post(target, standards(add_row="alignment"), **HTMX)
    assert response.status_code == 200
    assert len(response.context["form"].alignment_rows) == 3
    response = client_a.post(target, standards(remove_row="alignment:0"), **HTMX)
    assert [r["name"].value() for r in response.context["form"].alignment_rows] == [""]
    response = client_a.post(target, standards(add_row="result"), **HTMX)
    assert len(response.context["form"].result_rows) == 2
    badge.refresh_from_db()
    assert badge.alignments == [] and badge.revision == 1  # nothing saved yet


def test_bad_standards_are_422_beside_the_field_and_nothing_is_saved(client_a, space_a):
    badge = make_badge(space_a, state="draft")
    target = reverse("badges:edit", args=[space_a.slug, badge.pk])
    response = client_a.post(
        target,
        standards(
            achievement_type="Trophy",
            credits_available="-1",
            tags=", ".join(f"t{i}" for i in range(21)),
            align_name=["", "Named"],
            align_url=["https://x.example/1", "not a url"],
            align_framework=["", ""],
            align_code=["", ""],
            rd_id=["", ""],
            rd_name=["Grade", "grade"],
            rd_result_type=["Result", "Result"],
            rd_allowed_values=["", ""],
            rd_value_min=["", ""],
            rd_value_max=["", ""],
        ),
        **HTMX,
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert "achievement_type" in form.errors and "credits_available" in form.errors
    assert form.errors["tags"] == ["At most 20 tags."]
    assert form.alignment_rows[0].errors["name"] == [
        "Name what this badge is aligned to, or remove the row."
    ]
    assert form.alignment_rows[1].errors["url"] == [
        "Give the full address of the competency, starting with https://."
    ]
    assert form.result_rows[1].errors["name"] == [
        "Two results have this name; results are found by name."
    ]
    html = response.content.decode()
    assert "Give the full address of the competency" in html
    badge.refresh_from_db()
    assert badge.revision == 1 and badge.achievement_type == "" and badge.alignments == []


def test_the_summary_and_public_badge_page_show_alignments(client, space_a):
    badge = make_badge(space_a, **RICH)
    page = client.get(links.badgeclass_url(badge).removeprefix(links._url("")), HTTP_ACCEPT=BROWSER)
    html = page.content.decode()
    assert "Manage information" in html and "python" in html


def test_old_snapshots_without_the_new_fields_still_build(space_a):
    """Awards issued before these fields existed keep their snapshot: nothing is required."""
    award = make_award(space_a)
    Award.objects.filter(pk=award.pk).update(
        badge_snapshot={
            k: v
            for k, v in award.badge_snapshot.items()
            if k in ("public_id", "name", "description", "language", "criteria_text", "image")
        }
    )
    award = publish._award(award.public_id)
    AwardCredential.objects.filter(award=award).delete()
    with TestCase.captureOnCommitCallbacks(execute=True):
        credential = publish.credential_for(award)
    achievement = credential["credentialSubject"]["achievement"]
    assert "version" not in achievement and achievement["achievementType"] == "Badge"
    assert achievement["id"] == links.achievement_url(award.badge)


# ---- Evidence in the issue page, shown on the award pages -----------------------------------


def test_the_issue_page_gives_the_batch_its_evidence(client_a, space_a, member_a, client):
    badge = make_badge(space_a)
    issue_url = reverse("issuing:issue", args=[space_a.slug, badge.pk])
    client_a.post(issue_url, {"action": "add_members", "users": [member_a.pk]})
    page = client_a.get(issue_url + "?step=issue").content.decode()  # the flow's last step
    assert 'name="evidence_narrative"' in page and 'name="evidence_url"' in page
    bad = client_a.post(
        issue_url, {"action": "issue", "tz": "UTC", "evidence_url": "www.example.org/x"}
    )
    assert bad.status_code == 422
    assert "Give a full web address starting with https://." in bad.content.decode()
    assert not Award.objects.exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        client_a.post(
            issue_url,
            {
                "action": "issue",
                "tz": "UTC",
                "evidence_narrative": "Ran the spring workshop.",
                "evidence_url": "https://example.org/workshop",
            },
        )
    award = Award.objects.get()
    assert award.evidence == [
        {"narrative": "Ran the spring workshop.", "url": "https://example.org/workshop"}
    ]
    public = client.get(
        links.assertion_url(award).removeprefix(links._url("")), HTTP_ACCEPT=BROWSER
    ).content.decode()
    assert "Ran the spring workshop." in public and 'href="https://example.org/workshop"' in public


def test_the_award_pages_show_evidence_and_results(client, space_a):
    recipient = add_member(space_a)
    badge = make_badge(space_a)
    _, [outcome] = awards_issue(
        access=Access.system(space_a),
        badge=badge,
        recipients=[
            RecipientInput(
                user=recipient,
                evidence=evidence_clean([{"Narrative": "Wrote <b>a parser</b>.", "Name": "Essay"}]),
                results=results_clean([{"Description": "Final grade", "Value": "A+"}]),
            )
        ],
        notify=False,
    )
    award = outcome.award
    public = client.get(
        links.assertion_url(award).removeprefix(links._url("")), HTTP_ACCEPT=BROWSER
    ).content.decode()
    assert "Wrote &lt;b&gt;a parser&lt;/b&gt;." in public and "<dt>Final grade</dt>" in public
    client.force_login(recipient)
    backpack = client.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    assert "Essay" in backpack and "A+" in backpack
