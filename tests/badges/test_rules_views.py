"""Issuing → Rules pages: list, create, edit, switch on/off, detail."""

import pytest
from django.urls import reverse

from badges.models import Rule
from tests.factories import OrganisationFactory, add_member, make_badge, make_rule

pytestmark = pytest.mark.django_db


def url(name: str, space, *args) -> str:
    return reverse(f"rules:{name}", args=[space.slug, *args])


def form_data(space, chosen_badge, **changes) -> dict:
    return {
        "name": "Five workshops",
        "organisation": space.root_organisation.pk,
        "activity_id": "workshop-attended",
        "badge": chosen_badge.pk,
        "threshold": "5",
        "window_days": "90",
        "active": "on",
        **changes,
    }


def test_the_list_shows_the_rules(client_a, space_a):
    rule = make_rule(space_a, name="Attend five", threshold=5, window_days=30)
    response = client_a.get(url("index", space_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Attend five" in html and rule.activity_id in html and "5 events within 30 days" in html
    assert url("detail", space_a, rule.pk) in html


def test_the_list_is_empty_with_a_way_to_start(client_a, space_a):
    html = client_a.get(url("index", space_a)).content.decode()
    assert "No rules yet" in html and url("create", space_a) in html


@pytest.mark.parametrize("size", [2, 6])
def test_the_list_takes_a_constant_number_of_queries(
    client_a, space_a, size, django_assert_num_queries
):
    for n in range(size):
        make_rule(space_a, activity_id=f"a-{n}")
    # session, user, space, member, grants, count, page (with organisation, badge and the
    # completion count joined), the menu's space list
    with django_assert_num_queries(8):
        assert client_a.get(url("index", space_a)).status_code == 200


def test_a_plain_member_gets_403(client, space_a, member_a):
    rule = make_rule(space_a)
    client.force_login(member_a)
    for name, args in (("index", ()), ("create", ()), ("detail", (rule.pk,)), ("edit", (rule.pk,))):
        assert client.get(url(name, space_a, *args)).status_code == 403, name
    assert client.post(url("set_active", space_a, rule.pk), {"active": "0"}).status_code == 403


def test_an_issuer_of_one_department_sees_and_manages_only_its_rules(client, space_a):
    science = OrganisationFactory(space=space_a, name="Science")
    arts = OrganisationFactory(space=space_a, name="Arts")
    issuer = add_member(space_a, role_name="Badge Issuer", organisation=science)
    mine = make_rule(space_a, organisation=science, name="Lab sessions")
    theirs = make_rule(space_a, organisation=arts, name="Studio sessions")
    client.force_login(issuer)
    html = client.get(url("index", space_a)).content.decode()
    assert "Lab sessions" in html and "Studio sessions" not in html
    assert client.get(url("detail", space_a, mine.pk)).status_code == 200
    response = client.get(url("detail", space_a, theirs.pk))
    assert response.status_code == 404  # out of reach answers exactly as missing
    # The form offers only what they may issue for.
    form = client.get(url("create", space_a)).context["form"]
    assert list(form.fields["organisation"].queryset) == [science]
    assert list(form.fields["badge"].queryset) == [mine.badge]


def test_anonymous_visitors_are_sent_to_sign_in(client, space_a):
    response = client.get(url("index", space_a))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_wrong_methods_are_405(client_a, space_a):
    rule = make_rule(space_a)
    assert client_a.post(url("index", space_a)).status_code == 405
    assert client_a.post(url("detail", space_a, rule.pk)).status_code == 405
    assert client_a.get(url("set_active", space_a, rule.pk)).status_code == 405


def test_another_spaces_rule_is_404(client, space_a, admin_b, space_b):
    rule = make_rule(space_a)
    client.force_login(admin_b)
    assert client.get(url("detail", space_b, rule.pk)).status_code == 404


def test_creating_a_rule(client_a, space_a, admin_a):
    badge = make_badge(space_a)
    response = client_a.post(url("create", space_a), form_data(space_a, badge))
    rule = Rule.objects.get()
    assert response.status_code == 302 and response.url == url("detail", space_a, rule.pk)
    assert (rule.name, rule.activity_id, rule.threshold, rule.window_days, rule.active) == (
        "Five workshops",
        "workshop-attended",
        5,
        90,
        True,
    )
    assert rule.badge == badge and rule.space == space_a and rule.created_by == admin_a


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": "A\r\nB"}, "name", "single line"),
        ({"activity_id": "   "}, "activity_id", "required"),
        ({"activity_id": "taken"}, "activity_id", "Another rule"),
        ({"threshold": "0"}, "threshold", "greater than or equal to 1"),
        ({"window_days": "0"}, "window_days", "greater than or equal to 1"),
        ({"badge": "999999"}, "badge", "valid choice"),
    ],
)
def test_invalid_rules_are_refused_beside_the_field(client_a, space_a, changes, field, message):
    badge = make_badge(space_a)
    make_rule(space_a, activity_id="taken")
    response = client_a.post(url("create", space_a), form_data(space_a, badge, **changes))
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors[field])
    assert Rule.objects.count() == 1


def test_a_badges_id_cannot_be_a_rules_activity(client_a, space_a):
    badge = make_badge(space_a)
    data = form_data(space_a, badge, activity_id=str(badge.public_id))
    response = client_a.post(url("create", space_a), data)
    assert "issue that badge directly" in " ".join(response.context["form"].errors["activity_id"])


def test_another_spaces_badge_cannot_be_chosen(client_a, space_a, space_b):
    badge_b = make_badge(space_b)
    response = client_a.post(url("create", space_a), form_data(space_a, badge_b))
    assert "badge" in response.context["form"].errors and not Rule.objects.exists()


def test_editing_and_switching_a_rule(client_a, space_a):
    rule = make_rule(space_a, threshold=3)
    data = form_data(space_a, rule.badge, activity_id=rule.activity_id, threshold="4")
    data.pop("active")
    response = client_a.post(url("edit", space_a, rule.pk), data)
    assert response.status_code == 302
    rule.refresh_from_db()
    assert rule.threshold == 4 and not rule.active
    client_a.post(url("set_active", space_a, rule.pk), {"active": "1"})
    rule.refresh_from_db()
    assert rule.active
    response = client_a.post(url("set_active", space_a, rule.pk), {"active": "0"}, follow=True)
    rule.refresh_from_db()
    assert not rule.active and "inactive" in response.content.decode()


def test_the_detail_page_shows_completions(client_a, space_a, member_a):
    from badges.rules import RuleEvent, rule_events_record

    rule = make_rule(space_a, threshold=1)
    from datetime import UTC, datetime

    rule_events_record(
        space=space_a, events=[RuleEvent(0, rule, member_a, datetime(2026, 2, 1, tzinfo=UTC))]
    )
    html = client_a.get(url("detail", space_a, rule.pk)).content.decode()
    assert member_a.email in html and "1 Feb 2026" in html and rule.activity_id in html
