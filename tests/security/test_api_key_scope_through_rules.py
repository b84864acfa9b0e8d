"""Hole 2: an API key limited to one organisation must not award another organisation's badge
through a rule. A rule awards only a badge of its own organisation's branch — checked when the
rule is saved (form and service) and again when it fires (a rule saved before the check, or
written around it, awards nothing outside the key's scope) — and the Reporting API's rule
lists and completions stay inside the key's scope too.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from api.services import apikey_create
from badgeplatform.access import load_access
from badges.models import ActivityEvent, Award, Rule
from badges.rules import RuleEvent, rule_create, rule_events_record
from tests.api.conftest import ApiClient
from tests.factories import OrganisationFactory, add_member, make_badge, make_rule

pytestmark = pytest.mark.django_db

WHEN = (timezone.now() - timedelta(days=1)).isoformat(timespec="seconds")


@pytest.fixture
def orgs(space_a):
    """Science and Arts, siblings under the root; the prize badge belongs to Arts."""
    science = OrganisationFactory(space=space_a, name="Science")
    arts = OrganisationFactory(space=space_a, name="Arts")
    science.refresh_from_db()
    arts.refresh_from_db()
    return science, arts


@pytest.fixture
def arts_badge(space_a, orgs):
    return make_badge(space_a, organisation=orgs[1], name="Arts Prize")


@pytest.fixture
def science_key(space_a, orgs) -> ApiClient:
    made = apikey_create(space=space_a, name="Science LMS", organisation=orgs[0])
    return ApiClient(Client(), made.key.developer_key, made.token)


@pytest.fixture
def space_key(space_a) -> ApiClient:
    made = apikey_create(space=space_a, name="Whole space")
    return ApiClient(Client(), made.key.developer_key, made.token)


def _event(rule, user_id="EMP-7"):
    return {
        "ActivityId": rule.activity_id,
        "ActivityTime": WHEN,
        "UserId": user_id,
        "Email": "pat@new.test",
        "FirstName": "Pat",
        "LastName": "Person",
    }


# ---- Saving a rule ----------------------------------------------------------------------------


def test_the_rule_form_refuses_a_badge_outside_the_rules_organisation(
    client_a, space_a, orgs, arts_badge
):
    science, _ = orgs
    response = client_a.post(
        reverse("rules:create", args=[space_a.slug]),
        {
            "name": "Lab sessions",
            "organisation": science.pk,
            "activity_id": "lab-session",
            "badge": arts_badge.pk,
            "threshold": "1",
            "active": "on",
        },
    )
    assert not Rule.objects.exists()
    errors = response.context["form"].errors["badge"]
    assert any("outside “Science”" in e for e in errors), errors


def test_the_rule_form_offers_only_badges_of_the_rules_branch_when_editing(
    client_a, space_a, orgs, arts_badge
):
    science, _ = orgs
    mine = make_badge(space_a, organisation=science, name="Lab Star")
    rule = make_rule(space_a, organisation=science, badge=mine)
    form = client_a.get(reverse("rules:edit", args=[space_a.slug, rule.pk])).context["form"]
    assert list(form.fields["badge"].queryset) == [mine]


def test_the_rule_service_refuses_a_badge_outside_the_rules_organisation(
    space_a, admin_a, orgs, arts_badge
):
    with pytest.raises(ValidationError, match="outside"):
        rule_create(
            access=load_access(space_a, admin_a),
            space=space_a,
            actor=admin_a,
            organisation=orgs[0],
            name="Lab sessions",
            activity_id="lab-session",
            badge=arts_badge,
            threshold=1,
        )
    assert not Rule.objects.exists()


def test_the_rule_service_refuses_an_organisation_the_actor_may_not_issue_for(
    space_a, orgs, arts_badge
):

    science, arts = orgs
    issuer = add_member(space_a, role_name="Badge Issuer", organisation=science)
    with pytest.raises(PermissionDenied):
        rule_create(
            space=space_a,
            actor=issuer,
            access=load_access(space_a, issuer),
            organisation=arts,
            name="Studio",
            activity_id="studio",
            badge=arts_badge,
            threshold=1,
        )
    assert not Rule.objects.exists()


# ---- Firing a rule ------------------------------------------------------------------------------


def test_a_scoped_key_cannot_award_another_organisations_badge_through_a_rule(
    science_key, space_a, orgs, arts_badge
):
    science, _ = orgs
    # Saved before the check existed (or written around it): Science's rule, Arts' badge.
    rule = make_rule(space_a, organisation=science, badge=arts_badge, threshold=1)
    response = science_key.events(_event(rule))
    assert response.status_code == 200, response.content
    [row] = response.json()["Results"]
    assert row["Status"] == "rejected"
    assert "outside" in row["Errors"]["ActivityId"]
    assert row["AwardId"] is None
    # The message names neither the badge nor its organisation (the key may not see them).
    assert "Arts" not in row["Errors"]["ActivityId"]
    assert not Award.objects.exists()
    assert not ActivityEvent.objects.exists()


def test_the_rules_service_awards_nothing_outside_the_callers_scope(
    space_a, orgs, arts_badge, member_a
):
    science, _ = orgs
    science.refresh_from_db()
    # A rule of the root awarding Arts' badge is a sound rule; a Science-scoped caller still
    # cannot complete it.
    rule = make_rule(space_a, badge=arts_badge, threshold=1)
    [outcome] = rule_events_record(
        space=space_a,
        events=[RuleEvent(0, rule, member_a, timezone.now() - timedelta(hours=1))],
        scope=science,
    )
    assert outcome.status == "rejected" and outcome.error
    assert not Award.objects.exists() and not ActivityEvent.objects.exists()


def test_a_rule_awarding_outside_its_own_branch_awards_nothing_even_space_wide(
    space_key, space_a, orgs, arts_badge
):
    rule = make_rule(space_a, organisation=orgs[0], badge=arts_badge, threshold=1)
    [row] = space_key.events(_event(rule)).json()["Results"]
    assert row["Status"] == "rejected" and "ActivityId" in row["Errors"]
    assert not Award.objects.exists()


# ---- Reading rules -----------------------------------------------------------------------------


def test_a_scoped_keys_rule_list_and_completions_stay_inside_its_scope(
    science_key, space_a, orgs, arts_badge
):
    science, _ = orgs
    mine = make_rule(space_a, organisation=science, name="Lab sessions")
    leaky = make_rule(space_a, organisation=science, badge=arts_badge, name="Leaky")
    listed = [r["Id"] for r in science_key.get("/api/rules").json()["Results"]]
    assert listed == [str(mine.public_id)]
    response = science_key.get(f"/api/rules/{leaky.public_id}/completions")
    assert response.status_code == 403
    assert "Error" in response.json()
