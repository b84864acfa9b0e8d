"""Issuing from the browser: choosing a badge, building and checking the recipient list,
issuing it, and who may do what."""

from datetime import UTC, datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from badges.models import Award, Badge, IssueBatch
from tests.factories import (
    GroupFactory,
    OrganisationFactory,
    UserFactory,
    add_member,
    batch_rows,
    make_badge,
)
from users.models import Member, Membership, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def badge(space_a):
    return make_badge(space_a, expiry_amount=1, expiry_unit="years")


def url(name, space, *args):
    return reverse(f"issuing:{name}", args=[space.slug, *args])


def csv_file(text: str, name: str = "people.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def draft(badge) -> IssueBatch:
    return IssueBatch.objects.get(badge=badge, status=IssueBatch.Status.PENDING)


# ---- Choosing a badge -----------------------------------------------------------------------


def test_index_offers_published_badges_and_says_why_others_cannot_be_picked(
    client_a, space_a, badge
):
    make_badge(space_a, name="Draft Badge", state=Badge.State.DRAFT)
    make_badge(space_a, name="Old Badge", state=Badge.State.WITHDRAWN)
    response = client_a.get(url("start", space_a))
    assert response.status_code == 200
    html = response.content.decode()
    assert url("issue", space_a, badge.pk) in html
    assert "Draft — publish it before issuing it." in html
    assert "Withdrawn — publish it again to issue it." in html
    # Published first, then the others: the issue links are only for the published badge.
    assert html.count(">Issue</a>") == 1


def test_index_member_is_refused(client, space_a, member_a):
    client.force_login(member_a)
    assert client.get(url("start", space_a)).status_code == 403


def test_index_other_space_and_anonymous_and_wrong_method(client, space_a, admin_b, space_b):
    assert client.get(url("start", space_a)).status_code == 302
    client.force_login(admin_b)
    assert client.get(url("start", space_a)).status_code == 404
    assert client.post(url("start", space_b)).status_code == 405


def test_the_menu_has_an_issuing_section(client_a, space_a):
    html = client_a.get(reverse("dashboard", args=[space_a.slug])).content.decode()
    assert "Issue a badge" in html and url("awards", space_a) in html


# ---- The recipient list ---------------------------------------------------------------------


@pytest.mark.parametrize("state", [Badge.State.DRAFT, Badge.State.WITHDRAWN])
def test_a_draft_or_withdrawn_badge_cannot_be_issued(client_a, space_a, member_a, state):
    badge = make_badge(space_a, state=state)
    response = client_a.get(url("issue", space_a, badge.pk))
    assert response.status_code == 200
    assert "publish it" in response.content.decode().lower()
    assert 'value="issue"' not in response.content.decode()
    response = client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_members", "users": [member_a.pk]}
    )
    assert response.status_code == 409
    assert not IssueBatch.objects.exists() and not Award.objects.exists()


def test_add_members_check_the_list_then_issue(client_a, space_a, badge, member_a, committed):
    page = client_a.get(url("issue", space_a, badge.pk))
    assert page.status_code == 200 and member_a.email in page.content.decode()

    response = client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_members", "users": [member_a.pk]}
    )
    assert response.status_code == 302
    assert not Award.objects.exists()  # listed, not issued
    assert response.url.endswith("?step=recipients")  # the flow stays on step 1 for more
    page = client_a.get(url("issue", space_a, badge.pk) + "?step=review").content.decode()
    assert "One of your people" in page and "1 ready" in page

    with committed():
        response = client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    batch = IssueBatch.objects.get()
    assert response.status_code == 302
    assert response.url == url("batch", space_a, batch.pk)
    award = Award.objects.get()
    assert award.recipient == member_a and award.batch == batch
    assert batch.status == IssueBatch.Status.DONE and (batch.issued, batch.failed) == (1, 0)
    assert not batch.rows.exists()  # the rows are gone; the award remains
    assert [m.to for m in mail.outbox] == [[member_a.email]]

    result = client_a.get(response.url).content.decode()
    assert 'data-count="issued">1<' in result


def test_a_whole_group_at_once_and_people_already_listed_are_not_added_twice(
    client_a, space_a, badge
):
    group = GroupFactory(space=space_a, name="Cohort 2026")
    people = [add_member(space_a, group=group) for _ in range(3)]
    client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_members", "users": [people[0].pk]}
    )
    response = client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_group", "group": group.pk}
    )
    assert response.status_code == 302
    rows = batch_rows(draft(badge))
    assert sorted(r["user"] for r in rows) == sorted(p.pk for p in people)
    assert rows[1]["ref"] == "Group “Cohort 2026”"
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "Added 2 people from “Cohort 2026”. 1 already in the list." in messages


def test_a_new_person_needs_a_name_and_gets_an_account_when_issued(
    client_a, space_a, badge, committed
):
    response = client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_person", "email": "nia@new.test"}
    )
    assert response.status_code == 422
    assert "Give their first name." in response.content.decode()
    assert not IssueBatch.objects.exists()

    client_a.post(
        url("issue", space_a, badge.pk),
        {"action": "add_person", "email": "nia@new.test", "first_name": "Nia", "last_name": "New"},
    )
    review = client_a.get(url("issue", space_a, badge.pk) + "?step=review").content.decode()
    assert "By email" in review
    assert not User.objects.filter(email="nia@new.test").exists()  # nothing before issuing
    with committed():
        client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    nia = User.objects.get(email="nia@new.test")
    assert not nia.has_usable_password() and not nia.is_verified
    membership = Membership.objects.get(space=space_a, user=nia)
    assert membership.role.name == "User" and membership.organisation == badge.organisation
    assert sorted(m.subject for m in mail.outbox) == [
        "Verify your email for Acme University",
        f"You have been awarded “{badge.name}”",
    ]


def test_someone_with_an_account_is_recognised_and_keeps_their_name(
    client_a, space_a, badge, committed
):
    known = UserFactory(email="known@elsewhere.test", first_name="Kim", last_name="Known")
    response = client_a.post(
        url("issue", space_a, badge.pk),
        {
            "action": "add_person",
            "email": "KNOWN@elsewhere.test",
            "first_name": "Typo",
            "last_name": "Name",
        },
    )
    assert response.status_code == 302
    # The preview does not say they have an account (they are not among the issuer's people:
    # see tests/security/test_issuing_preview_reach.py); issuing finds them by their email.
    assert batch_rows(draft(badge))[0]["who"] == "email"
    client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    known.refresh_from_db()
    assert Award.objects.get().recipient == known and known.first_name == "Kim"


BAD_CSV = (
    "Email,First name,Last name,External id,Achievement time\n"
    "ok@new.test,Olga,Ok,,\n"
    "not-an-email,Bad,Email,,\n"
    "ok@new.test,Olga,Ok,,\n"
    "noname@new.test,,,,\n"
    "late@new.test,Late,Date,,someday\n"
    "fine@new.test,Fine,Person,,2026-01-15 10:00\n"
)


def test_a_csv_preview_shows_every_problem_before_anything_is_issued(client_a, space_a, badge):
    response = client_a.post(
        url("issue", space_a, badge.pk),
        {"action": "upload_csv", "file": csv_file(BAD_CSV), "tz": "UTC"},
    )
    assert response.status_code == 302
    assert not Award.objects.exists() and not User.objects.filter(email__endswith="new.test")
    # Every row was checked: the flow goes on to the review step, where the problems are.
    assert response.url.endswith("?step=review")
    page = client_a.get(response.url).content.decode()
    assert "“not-an-email” is not a valid email address." in page
    assert "The same person as row 1: it would be a duplicate." in page
    assert "Give their first name: they are not among the people you manage" in page
    assert "“someday” is not a date." in page
    assert "people.csv, line 3" in page
    assert "2 ready" in page and "4 with problems" in page
    assert "Issue to 2 people" not in page  # issuing is the next step
    page = client_a.get(url("issue", space_a, badge.pk) + "?step=issue").content.decode()
    assert "Issue to 2 people" in page
    assert "The 4 rows with problems will be skipped." in page


def test_issuing_a_csv_skips_the_problem_rows_and_reports_them(client_a, space_a, badge):
    client_a.post(
        url("issue", space_a, badge.pk),
        {"action": "upload_csv", "file": csv_file(BAD_CSV), "tz": "UTC"},
    )
    client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    batch = IssueBatch.objects.get()
    assert sorted(Award.objects.values_list("recipient_email", flat=True)) == [
        "fine@new.test",
        "ok@new.test",
    ]
    fine = Award.objects.get(recipient_email="fine@new.test")
    assert fine.achieved_at == datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    assert (batch.issued, batch.duplicates, batch.failed) == (2, 0, 4)
    result = client_a.get(url("batch", space_a, batch.pk)).content.decode()
    assert "Rows not issued" in result and "“someday” is not a date." in result


def test_a_file_over_the_row_limit_is_refused_and_nothing_of_it_is_kept(
    client_a, space_a, badge, member_a, monkeypatch
):
    from badges import csv_import

    client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_members", "users": [member_a.pk]}
    )
    # A smaller limit, so that several chunks of rows are written before the refusal.
    monkeypatch.setattr(csv_import, "MAX_ROWS", 2500)
    data = "".join(f"p{i}@x.io,P,Q\n" for i in range(2501))
    response = client_a.post(
        url("issue", space_a, badge.pk),
        {"action": "upload_csv", "file": csv_file(data), "tz": "UTC"},
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "more than 2,500 rows" in html and "20 MB" in html
    # The list is as it was: its one person, none of the file's 2,500 rows read before line 2,501.
    assert [r["user"] for r in batch_rows(draft(badge))] == [member_a.pk]
    assert not Award.objects.exists()


def test_the_limits_are_100000_rows_and_20_mb(client_a, space_a, badge):
    html = client_a.get(url("issue", space_a, badge.pk) + "?panel=csv").content.decode()
    assert "at most 100,000 rows and 20 MB" in html


def test_an_unknown_time_zone_is_a_field_error(client_a, space_a, badge):
    response = client_a.post(
        url("issue", space_a, badge.pk),
        {"action": "upload_csv", "file": csv_file("a@b.test,A,B\n"), "tz": "Mars/Olympus"},
    )
    assert response.status_code == 422
    assert "“Mars/Olympus” is not a time zone." in response.content.decode()


def test_the_achievement_time_is_read_in_the_chosen_zone(client_a, space_a, badge, member_a):
    client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_members", "users": [member_a.pk]}
    )
    client_a.post(
        url("issue", space_a, badge.pk),
        {"action": "issue", "achieved_at": "2026-01-10T09:30", "tz": "Europe/Berlin"},
    )
    assert Award.objects.get().achieved_at == datetime(2026, 1, 10, 8, 30, tzinfo=UTC)


def test_a_future_achievement_time_is_refused(client_a, space_a, badge, member_a):
    client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_members", "users": [member_a.pk]}
    )
    response = client_a.post(
        url("issue", space_a, badge.pk),
        {"action": "issue", "achieved_at": "2999-01-01T00:00", "tz": "UTC"},
    )
    assert response.status_code == 422
    assert "in the future" in response.content.decode()
    assert not Award.objects.exists()


def test_rows_can_be_removed_and_the_list_discarded(client_a, space_a, badge):
    client_a.post(
        url("issue", space_a, badge.pk),
        {"action": "upload_csv", "file": csv_file(BAD_CSV), "tz": "UTC"},
    )
    client_a.post(url("issue", space_a, badge.pk), {"remove": "0"})
    assert len(batch_rows(draft(badge))) == 5
    client_a.post(url("issue", space_a, badge.pk), {"action": "remove_problems"})
    rows = batch_rows(draft(badge))
    # With the first "ok" row gone, its repeat is no longer a duplicate.
    assert [r["email"] for r in rows] == ["ok@new.test", "fine@new.test"]
    client_a.post(url("issue", space_a, badge.pk), {"action": "discard"})
    assert not IssueBatch.objects.exists()


def test_a_badge_withdrawn_while_listing_issues_nothing(client_a, space_a, badge, member_a):
    client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_members", "users": [member_a.pk]}
    )
    Badge.objects.filter(pk=badge.pk).update(state=Badge.State.WITHDRAWN)
    response = client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    assert response.status_code == 409
    assert "withdrawn" in response.content.decode()
    assert not Award.objects.exists()


def test_issuing_twice_does_not_issue_twice(client_a, space_a, badge, member_a):
    client_a.post(
        url("issue", space_a, badge.pk), {"action": "add_members", "users": [member_a.pk]}
    )
    client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    response = client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    assert response.status_code == 302
    assert Award.objects.count() == 1 and IssueBatch.objects.count() == 1


def test_member_search_with_htmx_returns_only_the_results(client_a, space_a, badge, member_a):
    add_member(space_a, UserFactory(first_name="Zed", last_name="Zulu"))
    response = client_a.get(
        url("issue", space_a, badge.pk),
        {"q": "mal mem"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="member-results",
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert member_a.email in html and "Zulu" not in html and "<html" not in html


def test_an_issuer_of_one_organisation_picks_only_its_people_and_badges(client, space_a):
    left = OrganisationFactory(space=space_a, name="Left")
    right = OrganisationFactory(space=space_a, name="Right")
    issuer = add_member(space_a, role_name="Badge Issuer", organisation=left)
    ours = add_member(space_a, organisation=left)
    theirs = add_member(space_a, organisation=right)
    left_badge = make_badge(space_a, organisation=left, name="Left badge")
    right_badge = make_badge(space_a, organisation=right, name="Right badge")
    client.force_login(issuer)

    index = client.get(url("start", space_a)).content.decode()
    assert "Left badge" in index and "Right badge" not in index
    page = client.get(url("issue", space_a, left_badge.pk)).content.decode()
    assert ours.email in page and theirs.email not in page
    # Someone outside their organisations cannot be slipped in by id.
    response = client.post(
        url("issue", space_a, left_badge.pk), {"action": "add_members", "users": [theirs.pk]}
    )
    assert response.status_code == 422
    # Another organisation's badge answers exactly as a missing one.
    assert client.get(url("issue", space_a, right_badge.pk)).status_code == 404
    assert (
        client.post(url("issue", space_a, right_badge.pk), {"action": "discard"}).status_code == 404
    )


def test_issue_page_member_403_other_space_404_anonymous(
    client, space_a, badge, member_a, admin_b, space_b
):
    assert client.get(url("issue", space_a, badge.pk)).status_code == 302
    client.force_login(member_a)
    assert client.get(url("issue", space_a, badge.pk)).status_code == 403
    assert client.post(url("issue", space_a, badge.pk), {"action": "discard"}).status_code == 403
    client.force_login(admin_b)
    assert client.get(url("issue", space_a, badge.pk)).status_code == 404
    assert client.get(url("issue", space_b, badge.pk)).status_code == 404
    assert client.put(url("issue", space_b, badge.pk)).status_code in {404, 405}


def test_the_example_csv_downloads(client_a, space_a):
    response = client_a.get(url("example_csv", space_a))
    assert response["Content-Type"].startswith("text/csv")
    assert response.content.decode().startswith("Email,First name,Last name")


def test_new_recipients_get_their_external_id(client_a, space_a, badge):
    client_a.post(
        url("issue", space_a, badge.pk),
        {"action": "upload_csv", "file": csv_file("e1@x.test,E,One,EMP-1\n"), "tz": "UTC"},
    )
    client_a.post(url("issue", space_a, badge.pk), {"action": "issue", "tz": "UTC"})
    user = User.objects.get(email="e1@x.test")
    assert Member.objects.get(space=space_a, user=user).external_id == "EMP-1"
