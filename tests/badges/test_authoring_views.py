"""Managing Badges in the browser's terms: list, tabbed editor, summary, publish, withdraw."""

import pytest
from django.urls import reverse

from badgeplatform.access import Access
from badgeplatform.permissions import Perm
from badges.models import Badge, BadgeEvent
from badges.services import badge_create, graphic_archive
from tests.factories import (
    OrganisationFactory,
    add_member,
    add_with_perms,
    make_badge,
    make_graphic,
    make_issuer,
    make_space,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name: str, space, *args) -> str:
    return reverse(f"badges:{name}", args=[space.slug, *args])


def edit_url(space, badge, tab: str = "details") -> str:
    return f"{url('edit', space, badge.pk)}?tab={tab}"


def details(space, **changes):
    data = {
        "tab": "details",
        "name": "Data Wrangler",
        "description": "Cleans data.",
        "language": "en",
        "organisation": space.root_organisation.pk,
        "issuer": "",
        "expiry_amount": "",
        "expiry_unit": "",
    }
    return {**data, **changes}


@pytest.fixture
def drafter(space_a):
    """May create and edit drafts, not publish."""
    return add_with_perms(space_a, [Perm.CREATE_BADGES], username="drafter")


@pytest.fixture
def creator(space_a):
    """The default Badge Creator role: create, publish, graphics, issuers."""
    return add_member(space_a, role_name="Badge Creator")


@pytest.fixture
def draft(space_a, admin_a):
    return badge_create(
        access=Access.system(space_a),
        space=space_a,
        organisation=space_a.root_organisation,
        actor=admin_a,
        name="Half done",
    )


# ---- Creating and editing ------------------------------------------------------------------


def test_create_saves_a_draft_and_moves_to_the_chosen_tab(client, space_a, drafter):
    client.force_login(drafter)
    assert client.get(url("create", space_a)).status_code == 200
    response = client.post(url("create", space_a), details(space_a, goto="graphic"))
    badge = Badge.objects.get(space=space_a)
    assert response.status_code == 302 and response.url == edit_url(space_a, badge, "graphic")
    assert (badge.name, badge.language, badge.state, badge.created_by) == (
        "Data Wrangler",
        "en",
        "draft",
        drafter,
    )
    assert list(badge.events.values_list("action", flat=True)) == ["created"]


def test_save_and_close_goes_to_the_summary(client_a, space_a):
    response = client_a.post(url("create", space_a), details(space_a, goto="summary"))
    badge = Badge.objects.get()
    assert response.url == url("detail", space_a, badge.pk)


@pytest.mark.parametrize(
    "changes, field, message",
    [
        ({"expiry_amount": "3"}, "expiry_unit", "Choose days, months or years."),
        ({"expiry_unit": "days"}, "expiry_amount", "Give a number, or choose “—” for no expiry."),
        ({"expiry_amount": "200", "expiry_unit": "years"}, "expiry_amount", "At most 100 years."),
        ({"expiry_amount": "0", "expiry_unit": "days"}, "expiry_amount", None),
        ({"name": "Two\nlines"}, "name", "Use a single line without line breaks."),
        ({"language": "xx"}, "language", None),
    ],
)
def test_bad_details_are_shown_beside_the_field_and_nothing_is_saved(
    client_a, space_a, changes, field, message
):
    response = client_a.post(url("create", space_a), details(space_a, **changes))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert field in errors
    if message:
        assert errors[field] == [message]
    assert not Badge.objects.exists()


def test_issuers_and_organisations_of_another_space_are_not_choices(client_a, space_a):
    other = make_space("Other", "other")
    data = details(space_a, issuer=make_issuer(other).pk, organisation=other.root_organisation.pk)
    response = client_a.post(url("create", space_a), data)
    assert set(response.context["form"].errors) == {"issuer", "organisation"}
    assert not Badge.objects.exists()


def test_htmx_tab_switch_saves_and_answers_with_the_next_tab(client_a, space_a, draft):
    response = client_a.post(
        url("edit", space_a, draft.pk), details(space_a, goto="criteria"), **HTMX
    )
    assert response.status_code == 200
    assert response["HX-Push-Url"] == edit_url(space_a, draft, "criteria")
    html = response.content.decode()
    assert "<html" not in html and 'id="editor"' in html  # the editor fragment only
    assert response.context["tab"] == "criteria"
    draft.refresh_from_db()
    assert draft.description == "Cleans data."


def test_htmx_invalid_tab_stays_with_its_errors(client_a, space_a, draft):
    data = details(space_a, goto="criteria", expiry_amount="5")
    response = client_a.post(url("edit", space_a, draft.pk), data, **HTMX)
    assert response.status_code == 422
    assert response.context["tab"] == "details"
    assert "Choose days, months or years." in response.content.decode()
    assert "Data Wrangler" in response.content.decode()  # what was typed is still there


def test_choose_a_graphic_from_the_library(client_a, space_a, draft):
    graphic = make_graphic(space_a, "Gold star")
    page = client_a.get(edit_url(space_a, draft, "graphic")).content.decode()
    assert "Gold star" in page and graphic.image.url in page
    client_a.post(url("edit", space_a, draft.pk), {"tab": "graphic", "graphic": graphic.pk})
    draft.refresh_from_db()
    assert draft.graphic == graphic


def test_archived_and_foreign_graphics_cannot_be_chosen(client_a, space_a, draft, admin_a):
    archived = make_graphic(space_a, "Old")
    graphic_archive(graphic=archived, actor=admin_a)
    foreign = make_graphic(make_space("Other", "other"))
    for graphic in (archived, foreign):
        response = client_a.post(
            url("edit", space_a, draft.pk), {"tab": "graphic", "graphic": graphic.pk}
        )
        assert "graphic" in response.context["form"].errors
    draft.refresh_from_db()
    assert draft.graphic is None


def test_criteria_url_or_markdown(client_a, space_a, draft):
    data = {"tab": "criteria", "criteria_url": "javascript:alert(1)", "criteria_text": ""}
    response = client_a.post(url("edit", space_a, draft.pk), data)
    assert "criteria_url" in response.context["form"].errors
    data = {
        "tab": "criteria",
        "criteria_url": "",
        "criteria_text": "Pass **all** <script>x</script>",
    }
    client_a.post(url("edit", space_a, draft.pk), data)
    page = client_a.get(url("detail", space_a, draft.pk)).content.decode()
    assert "<strong>all</strong>" in page and "<script>x" not in page


def attributes(*rows, **extra):
    return {
        "tab": "attributes",
        "key": [k for k, _ in rows],
        "value": [v for _, v in rows],
        **extra,
    }


def test_attribute_rows_are_added_and_removed_in_place(client_a, space_a, draft):
    target = url("edit", space_a, draft.pk)
    response = client_a.post(target, attributes(("Credits", "5"), add_row="1"), **HTMX)
    rows = response.context["form"].forms
    assert len(rows) == 2 and 'name="key"' in response.content.decode()
    assert not draft.attributes.exists()  # adding a row saves nothing yet

    data = attributes(("Credits", "5"), ("Typo", ""), ("Level", "1"), remove_row="1")
    response = client_a.post(target, data, **HTMX)
    assert [f["key"].value() for f in response.context["form"].forms] == ["Credits", "Level"]

    client_a.post(target, attributes(("Credits", "5"), ("Level", "1"), ("", "")))
    assert list(draft.attributes.values_list("key", "value")) == [("Credits", "5"), ("Level", "1")]


def test_bad_attribute_rows(client_a, space_a, draft):
    target = url("edit", space_a, draft.pk)
    response = client_a.post(target, attributes(("Credits", "5"), ("credits", "6"), ("", "x")))
    forms = response.context["form"].forms
    assert forms[1].errors["key"] == ["This name is used twice; each attribute needs its own."]
    assert forms[2].errors["key"] == ["Name this attribute, or remove the row."]
    assert not draft.attributes.exists()


def test_save_and_publish_from_the_editor(client, space_a, creator):
    badge = make_badge(space_a, state="draft")
    client.force_login(creator)
    data = {"tab": "criteria", "criteria_url": "", "criteria_text": "New", "goto": "publish"}
    response = client.post(url("edit", space_a, badge.pk), data)
    assert response.url == url("detail", space_a, badge.pk)
    badge.refresh_from_db()
    assert badge.state == "published" and badge.criteria_text == "New"


def test_publish_from_the_editor_needs_publish_badges(client, space_a, drafter):
    badge = make_badge(space_a, state="draft")
    client.force_login(drafter)
    data = {"tab": "criteria", "criteria_url": "", "criteria_text": "New", "goto": "publish"}
    assert client.post(url("edit", space_a, badge.pk), data).status_code == 403
    badge.refresh_from_db()
    assert badge.state == "draft" and badge.criteria_text != "New"  # nothing half done


def test_editing_a_published_badge_needs_publish_badges_too(client, space_a, drafter, creator):
    badge = make_badge(space_a)
    client.force_login(drafter)
    response = client.get(url("edit", space_a, badge.pk))
    assert response.status_code == 403
    assert "“Publish and withdraw badges” as well" in response.content.decode()  # says why
    client.force_login(creator)
    data = details(space_a, name="Renamed", issuer=badge.issuer_id)
    response = client.post(url("edit", space_a, badge.pk), data)
    assert response.status_code == 302
    badge.refresh_from_db()
    assert badge.name == "Renamed" and badge.state == "published"


def test_a_published_badge_cannot_be_emptied(client_a, space_a):
    badge = make_badge(space_a)
    data = details(space_a, description="", issuer=badge.issuer_id)
    response = client_a.post(url("edit", space_a, badge.pk), data)
    assert response.status_code == 422
    assert "A published badge must stay complete. It would lack a description." in (
        response.content.decode()
    )
    badge.refresh_from_db()
    assert badge.description


# ---- Publishing ---------------------------------------------------------------------------


def test_publish_withdraw_republish(client, space_a, creator):
    badge = make_badge(space_a, state="draft")
    client.force_login(creator)
    response = client.post(url("publish", space_a, badge.pk), follow=True)
    assert "is published." in response.content.decode()
    badge.refresh_from_db()
    assert badge.state == "published"

    response = client.post(url("withdraw", space_a, badge.pk), {"note": "Paused\r\nfor now"})
    badge.refresh_from_db()
    assert badge.state == "withdrawn"
    assert badge.events.first().note == "Paused  for now"

    response = client.post(url("publish", space_a, badge.pk), follow=True)
    assert "is published again." in response.content.decode()
    badge.refresh_from_db()
    assert badge.state == "published"
    assert list(badge.events.values_list("action", flat=True)) == [
        "published",
        "withdrawn",
        "published",
    ]


def test_an_incomplete_badge_is_not_published_and_the_page_says_why(client_a, space_a, draft):
    response = client_a.post(url("publish", space_a, draft.pk), follow=True)
    page = response.content.decode()
    assert "This badge cannot be published yet. It still needs a description, a language" in page
    draft.refresh_from_db()
    assert draft.state == "draft"
    # The summary offers no Publish button, and lists what is missing with links.
    summary = client_a.get(url("detail", space_a, draft.pk))
    html = summary.content.decode()
    assert "Not ready to publish." in html
    assert [m["label"] for m in summary.context["missing"]] == [
        "a description",
        "a language",
        "an issuer",
        "a graphic — design one now",
        "criteria (a URL or text)",
    ]
    assert url("publish", space_a, draft.pk) not in html


def test_a_first_time_creator_is_led_to_the_designer(client_a, space_a, draft):
    missing = client_a.get(url("detail", space_a, draft.pk)).context["missing"]
    graphic = next(m for m in missing if m["label"].startswith("a graphic"))
    assert graphic["url"] == reverse("graphics:design", args=[space_a.slug]) + f"?badge={draft.pk}"
    # With graphics in the library, the link goes to the picker instead.
    make_graphic(space_a)
    missing = client_a.get(url("detail", space_a, draft.pk)).context["missing"]
    graphic = next(m for m in missing if m["label"].startswith("a graphic"))
    assert graphic["url"] == edit_url(space_a, draft, "graphic")


@pytest.mark.parametrize("view", ["publish", "withdraw"])
def test_publishing_needs_publish_badges(client, space_a, drafter, member_a, view):
    badge = make_badge(space_a, state="draft" if view == "publish" else "published")
    for person in (drafter, member_a):
        client.force_login(person)
        response = client.post(url(view, space_a, badge.pk))
        assert response.status_code == 403
        assert "Publish and withdraw badges" in response.content.decode()
    badge.refresh_from_db()
    assert badge.state == ("draft" if view == "publish" else "published")


def test_publish_badges_on_another_organisation_is_not_enough(client, space_a):
    department = OrganisationFactory(space=space_a)
    publisher = add_with_perms(
        space_a, [Perm.CREATE_BADGES, Perm.PUBLISH_BADGES], organisation=department
    )
    badge = make_badge(space_a, state="draft")  # on the root: out of their sight, as if missing
    client.force_login(publisher)
    assert client.post(url("publish", space_a, badge.pk)).status_code == 404


def test_publish_and_withdraw_are_post_only(client_a, space_a):
    badge = make_badge(space_a)
    assert client_a.get(url("publish", space_a, badge.pk)).status_code == 405
    assert client_a.get(url("withdraw", space_a, badge.pk)).status_code == 405


# ---- Summary -----------------------------------------------------------------------------


def test_summary_shows_everything_and_the_copyable_id(client_a, space_a, admin_a):
    badge = make_badge(space_a, expiry_amount=2, expiry_unit="years")
    badge.attributes.create(space=space_a, key="Credits", value="5")
    BadgeEvent.objects.create(space=space_a, badge=badge, action="published", actor=admin_a)
    response = client_a.get(url("detail", space_a, badge.pk))
    html = response.content.decode()
    assert f'<code id="badge-uuid">{badge.public_id}</code>' in html
    assert f'data-copy="{badge.public_id}"' in html
    for text in (
        "Python Fundamentals",
        "English",
        "Acme Learning",
        "2 years after issue",
        "Credits",
        "Pass the final assessment.",
        "Alice Admin",
        "Withdraw this badge",
    ):
        assert text in html, text  # fmt: skip
    assert badge.graphic.image.url in html


def test_an_issuer_may_see_a_badge_but_not_edit_it(client, space_a):
    badge = make_badge(space_a)
    issuer_person = add_member(space_a, role_name="Badge Issuer")
    client.force_login(issuer_person)
    response = client.get(url("detail", space_a, badge.pk))
    assert response.status_code == 200 and not response.context["may_edit"]
    assert url("edit", space_a, badge.pk) not in response.content.decode()
    assert client.get(url("edit", space_a, badge.pk)).status_code == 403


def test_a_plain_member_gets_403(client, space_a, member_a):
    badge = make_badge(space_a)
    client.force_login(member_a)
    for target in (url("index", space_a), url("create", space_a), url("detail", space_a, badge.pk)):
        assert client.get(target).status_code == 403, target
    assert client.post(url("edit", space_a, badge.pk), details(space_a)).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, space_a):
    badge = make_badge(space_a)
    for target in (url("index", space_a), url("detail", space_a, badge.pk)):
        response = client.get(target)
        assert response.status_code == 302 and "/accounts/login/" in response.url


def test_another_spaces_badge_is_404(client, space_a, admin_b, space_b):
    badge = make_badge(space_a)
    client.force_login(admin_b)
    for name in ("detail", "edit"):
        assert client.get(url(name, space_b, badge.pk)).status_code == 404
    assert client.post(url("publish", space_b, badge.pk)).status_code == 404


def test_wrong_method(client_a, space_a):
    badge = make_badge(space_a)
    assert client_a.post(url("index", space_a)).status_code == 405
    assert client_a.post(url("detail", space_a, badge.pk)).status_code == 405
    assert client_a.put(url("edit", space_a, badge.pk)).status_code == 405


# ---- Organisation scope ------------------------------------------------------------------


def test_a_department_creator_sees_and_edits_only_their_subtree(client, space_a):
    department = OrganisationFactory(space=space_a, name="Chemistry")
    lab = OrganisationFactory(space=space_a, parent=department, name="Lab")
    theirs = make_badge(space_a, organisation=lab, name="Lab Safety")
    root_badge = make_badge(space_a, name="University Wide")
    person = add_with_perms(space_a, [Perm.CREATE_BADGES], organisation=department)
    client.force_login(person)

    page = client.get(url("index", space_a))
    assert [b.name for b in page.context["page"].object_list] == ["Lab Safety"]
    # Out of reach answers exactly as missing (badges.access.badge_for).
    assert client.get(url("detail", space_a, root_badge.pk)).status_code == 404
    assert client.get(url("edit", space_a, root_badge.pk)).status_code == 404

    theirs.state = "draft"
    theirs.save()
    form = client.get(url("edit", space_a, theirs.pk)).context["form"]
    assert list(form.fields["organisation"].queryset) == [department, lab]
    # Moving it up to the root is not a choice they have.
    data = details(space_a, organisation=space_a.root_organisation.pk)
    response = client.post(url("edit", space_a, theirs.pk), data)
    assert "organisation" in response.context["form"].errors


# ---- The list ----------------------------------------------------------------------------


def test_list_filters_and_search(client_a, space_a):
    chemistry = OrganisationFactory(space=space_a, name="Chemistry")
    lab = OrganisationFactory(space=space_a, parent=chemistry, name="Lab")
    other_issuer = make_issuer(space_a, name="Science Faculty")
    make_badge(space_a, name="Python Fundamentals")
    lab_badge = make_badge(space_a, name="Lab Safety", organisation=lab, issuer=other_issuer)
    make_badge(space_a, name="Draft Thing", state="draft")
    make_badge(space_a, name="Old Thing", state="withdrawn")

    def names(**params):
        response = client_a.get(url("index", space_a), params)
        return sorted(b.name for b in response.context["page"].object_list)

    assert names() == ["Draft Thing", "Lab Safety", "Old Thing", "Python Fundamentals"]
    assert names(state="draft") == ["Draft Thing"]
    assert names(state="withdrawn") == ["Old Thing"]
    assert names(organisation=chemistry.pk) == ["Lab Safety"]  # with its subtree
    assert names(issuer=other_issuer.pk) == ["Lab Safety"]
    assert names(q="thing") == ["Draft Thing", "Old Thing"]
    assert names(q=str(lab_badge.public_id)) == ["Lab Safety"]
    assert names(q="nothing like it") == []


def test_list_htmx_answers_with_the_results_only(client_a, space_a):
    make_badge(space_a, name="Python Fundamentals")
    response = client_a.get(url("index", space_a), {"q": "python"}, **HTMX)
    html = response.content.decode()
    assert 'id="badge-results"' in html and "<form" not in html and "Python Fundamentals" in html


def test_list_is_paginated(client_a, space_a):
    issuer, graphic = make_issuer(space_a), make_graphic(space_a)
    for n in range(25):
        make_badge(space_a, name=f"Badge {n:02}", issuer=issuer, graphic=graphic)
    first = client_a.get(url("index", space_a))
    assert len(first.context["page"].object_list) == 20
    second = client_a.get(url("index", space_a), {"page": 2})
    assert len(second.context["page"].object_list) == 5
    assert "Page 2 of 2" in second.content.decode()


def test_list_query_count_does_not_grow(client_a, space_a, django_assert_num_queries):
    # session, user, space, member, grants; the filter's organisations and issuers; the count
    # and one page of badges joined to organisation, issuer profile and graphic; the shell's
    # space switcher: 10.
    make_badge(space_a, name="One")
    with django_assert_num_queries(10):
        client_a.get(url("index", space_a))
    for n in range(12):
        make_badge(space_a, name=f"Badge {n}", state=["draft", "published", "withdrawn"][n % 3])
    with django_assert_num_queries(10):
        response = client_a.get(url("index", space_a))
    assert len(response.context["page"].object_list) == 13


def test_the_menu_lists_the_authoring_pages(client_a, space_a):
    html = client_a.get(url("index", space_a)).content.decode()
    for label, target in (
        ("Managing Badges", url("index", space_a)),
        ("Graphics Library", reverse("graphics:index", args=[space_a.slug])),
        ("Issuers", reverse("issuers:index", args=[space_a.slug])),
    ):
        assert f'href="{target}"' in html and label in html


def test_without_javascript_rows_are_added_by_reloading_the_page(client_a, space_a, draft):
    response = client_a.post(url("edit", space_a, draft.pk), attributes(add_row="1"))
    assert response.status_code == 200 and "<html" in response.content.decode()
    assert len(response.context["form"].forms) == 1
