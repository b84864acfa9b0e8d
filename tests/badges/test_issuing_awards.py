"""Awards lists per badge and per recipient, one award, and revocation."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badges.awards import AlreadyRevoked, award_revoke
from badges.models import Award
from tests.factories import OrganisationFactory, add_member, make_award, make_badge

pytestmark = pytest.mark.django_db


def url(name, space, *args):
    return reverse(f"issuing:{name}", args=[space.slug, *args])


@pytest.fixture
def badge(space_a):
    return make_badge(space_a, name="Python Fundamentals")


# Session, user, space, member, grants, [the badge | the person], award count, one page of
# awards (with recipient and badge), the spaces in the personal menu.
@pytest.mark.parametrize("size", [3, 12])
def test_the_awards_of_a_badge_take_a_constant_number_of_queries(
    client_a, space_a, badge, django_assert_num_queries, size
):
    for _ in range(size):
        make_award(space_a, badge=badge)
    with django_assert_num_queries(9):
        response = client_a.get(url("badge_awards", space_a, badge.pk))
    assert response.status_code == 200
    assert response.content.decode().count('class="pill green award-state"') == size


@pytest.mark.parametrize("size", [2, 9])
def test_the_awards_of_a_person_take_a_constant_number_of_queries(
    client_a, space_a, member_a, django_assert_num_queries, size
):
    for i in range(size):
        make_award(space_a, badge=make_badge(space_a, name=f"Badge {i}"), recipient=member_a)
    make_award(space_a)  # someone else's
    with django_assert_num_queries(9):
        response = client_a.get(url("person_awards", space_a, member_a.public_id))
    html = response.content.decode()
    assert html.count("data-state=") == size and "Badge 0" in html


@pytest.mark.parametrize("size", [2, 9])
def test_all_awards_take_a_constant_number_of_queries(
    client_a, space_a, django_assert_num_queries, size
):
    badge = make_badge(space_a)
    for _ in range(size):
        make_award(space_a, badge=badge)
    with django_assert_num_queries(8):
        client_a.get(url("awards", space_a))


def test_awards_can_be_searched_and_filtered_by_state(client_a, space_a, badge):
    keep = make_award(space_a, badge=badge)
    gone = make_award(space_a, badge=badge)
    award_revoke(
        access=Access.system(gone.space), award=gone, actor=None, reason="Issued by mistake"
    )
    html = client_a.get(url("badge_awards", space_a, badge.pk), {"state": "revoked"}).content
    assert gone.recipient_email.encode() in html and keep.recipient_email.encode() not in html
    html = client_a.get(url("awards", space_a), {"q": keep.recipient.last_name}).content
    assert keep.recipient_email.encode() in html


def test_an_issuer_sees_only_the_awards_of_their_organisations(client, space_a):
    left, right = OrganisationFactory(space=space_a), OrganisationFactory(space=space_a)
    issuer = add_member(space_a, role_name="Badge Issuer", organisation=left)
    ours = make_award(space_a, badge=make_badge(space_a, organisation=left))
    theirs = make_award(space_a, badge=make_badge(space_a, organisation=right))
    client.force_login(issuer)
    html = client.get(url("awards", space_a)).content.decode()
    assert ours.recipient_email in html and theirs.recipient_email not in html
    # Out of reach answers exactly as missing (badges.access.award_for / badge_for).
    assert client.get(url("award", space_a, theirs.pk)).status_code == 404
    assert client.get(url("badge_awards", space_a, theirs.badge_id)).status_code == 404
    assert client.post(url("revoke", space_a, theirs.pk), {"reason": "x"}).status_code == 404


def test_awards_lists_member_403_other_space_404_anonymous(
    client, space_a, badge, member_a, admin_b
):
    award = make_award(space_a, badge=badge)
    pages = [
        url("awards", space_a),
        url("badge_awards", space_a, badge.pk),
        url("person_awards", space_a, award.recipient.public_id),
        url("award", space_a, award.pk),
    ]
    for page in pages:
        assert client.get(page).status_code == 302
    client.force_login(member_a)
    for page in pages:
        assert client.get(page).status_code == 403, page
    client.force_login(admin_b)
    for page in pages:
        assert client.get(page).status_code == 404, page


def test_someone_outside_the_space_has_no_awards_page_here(client_a, space_a, admin_b):
    assert client_a.get(url("person_awards", space_a, admin_b.public_id)).status_code == 404


def test_someone_who_left_the_space_keeps_their_awards_page(client_a, space_a):
    from users.models import Member, Membership

    award = make_award(space_a)
    Membership.objects.filter(user=award.recipient).delete()
    Member.objects.filter(user=award.recipient).delete()
    response = client_a.get(url("person_awards", space_a, award.recipient.public_id))
    assert response.status_code == 200 and 'data-state="valid"' in response.content.decode()


def test_revoke_with_a_reason_and_it_says_so_everywhere(client_a, space_a, badge, admin_a):
    award = make_award(space_a, badge=badge)
    page = client_a.get(url("award", space_a, award.pk)).content.decode()
    assert "Revoke award" in page and "Suspend award" in page and "Valid" in page

    response = client_a.post(url("revoke", space_a, award.pk), {"reason": "  "})
    assert response.status_code == 422
    assert "Give a reason" in response.content.decode()
    assert Award.objects.get(pk=award.pk).revoked_at is None

    response = client_a.post(url("revoke", space_a, award.pk), {"reason": "Exam  retaken"})
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.is_revoked and award.revocation_reason == "Exam retaken"
    assert award.revoked_by == admin_a and award.state == "revoked"

    page = client_a.get(url("award", space_a, award.pk)).content.decode()
    assert "Reason: Exam retaken" in page and "Revoke award" not in page
    listing = client_a.get(url("badge_awards", space_a, badge.pk)).content.decode()
    assert 'data-state="revoked"' in listing
    person = client_a.get(url("person_awards", space_a, award.recipient.public_id)).content.decode()
    assert 'data-state="revoked"' in person

    again = client_a.post(url("revoke", space_a, award.pk), {"reason": "Twice"})
    assert again.status_code == 302
    award.refresh_from_db()
    assert award.revocation_reason == "Exam retaken"


def test_revoking_needs_the_revoke_permission(client, space_a, badge):
    creator = add_member(space_a, role_name="Badge Creator")
    issuer_only = add_member(space_a, role_name="Badge Issuer")
    award = make_award(space_a, badge=badge)
    client.force_login(creator)
    assert client.post(url("revoke", space_a, award.pk), {"reason": "x"}).status_code == 403
    client.force_login(issuer_only)  # Badge Issuer holds both issue and revoke
    assert client.post(url("revoke", space_a, award.pk), {"reason": "x"}).status_code == 302
    assert client.get(url("revoke", space_a, award.pk)).status_code == 405


def test_award_revoke_is_final_and_needs_a_reason(space_a, admin_a):
    award = make_award(space_a)
    with pytest.raises(ValueError, match="reason"):
        award_revoke(access=Access.system(award.space), award=award, actor=admin_a, reason=" ")
    award_revoke(access=Access.system(award.space), award=award, actor=admin_a, reason="Mistake")
    with pytest.raises(AlreadyRevoked):
        award_revoke(access=Access.system(award.space), award=award, actor=admin_a, reason="Again")


def test_expired_awards_say_so(client_a, space_a):
    badge = make_badge(space_a, expiry_amount=1, expiry_unit="days")
    award = make_award(space_a, badge=badge)
    Award.objects.filter(pk=award.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    html = client_a.get(url("badge_awards", space_a, badge.pk)).content.decode()
    assert 'data-state="expired"' in html
