"""The recipient's backpack: every award from every space, one award's page, the public
toggle, the LinkedIn link, and where people land after signing in."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import Access
from badges import links
from badges.awards import award_revoke
from badges.models import Award, BadgeAttribute
from tests.factories import UserFactory, add_member, make_award, make_badge

pytestmark = pytest.mark.django_db


@pytest.fixture
def recipient(space_a, space_b):
    person = UserFactory(first_name="Rita", last_name="Recipient")
    add_member(space_a, person)
    add_member(space_b, person)
    return person


def backpack(client):
    return client.get(reverse("backpack:index"))


def test_my_badges_shows_every_award_from_every_space(client, space_a, space_b, recipient):
    badge_a = make_badge(space_a, name="Python Fundamentals")
    BadgeAttribute.objects.create(space=space_a, badge=badge_a, key="Level", value="Beginner")
    valid = make_award(space_a, badge=badge_a, recipient=recipient)
    expired = make_award(
        space_b,
        badge=make_badge(space_b, name="First Aid", expiry_amount=1, expiry_unit="days"),
        recipient=recipient,
    )
    Award.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(days=1))
    revoked = make_award(space_b, badge=make_badge(space_b, name="Forklift"), recipient=recipient)
    award_revoke(
        access=Access.system(revoked.space),
        award=revoked,
        actor=None,
        reason="Certificate withdrawn",
    )
    make_award(space_a)  # someone else's

    client.force_login(recipient)
    response = backpack(client)
    assert response.status_code == 200
    html = response.content.decode()
    for name in ("Python Fundamentals", "First Aid", "Forklift"):
        assert name in html
    assert html.count("data-state=") == 3
    assert 'data-state="valid"' in html and 'data-state="expired"' in html
    assert 'data-state="revoked"' in html and "Revoked: Certificate withdrawn" in html
    assert "Acme Learning" in html  # the issuer as issued
    assert "Level" in html and "Beginner" in html  # custom attributes from the snapshot
    assert f'src="/media/{valid.badge_snapshot["image"]}"' in html
    # The platform's own look, never a space's admin shell.
    assert "layouts/plain.html" in [t.name for t in response.templates]
    assert "layouts/app.html" not in [t.name for t in response.templates]


@pytest.mark.parametrize("size", [2, 10])
def test_my_badges_takes_a_constant_number_of_queries(
    client, space_a, recipient, django_assert_num_queries, size
):
    badge = make_badge(space_a)
    for _ in range(size):
        make_award(space_a, badge=make_badge(space_a), recipient=recipient)
    make_award(space_a, badge=badge)
    client.force_login(recipient)
    # Session, user, award count, one page (with issuer profile and space), the person's roles
    # (for "spaces you manage"), the badges added from elsewhere (obapi's section), and those
    # expiring soon (badges.expiry).
    with django_assert_num_queries(7):
        response = backpack(client)
    assert response.content.decode().count("data-state=") == size


def test_the_award_page_has_everything_to_keep_and_share_it(client, space_a, recipient):
    award = make_award(space_a, recipient=recipient)
    client.force_login(recipient)
    response = client.get(reverse("backpack:award", args=[award.public_id]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'href="{links.baked_image_url(award)}" download' in html
    assert f'data-copy="{links.assertion_url(award)}"' in html
    assert "Add to LinkedIn profile" in html
    # Through the share counter, which redirects to links.linkedin_add_url (test_sharing.py).
    assert f'href="{links.share_url(award, "linkedin_profile")}"' in html
    assert 'data-check="status"' in html and "Valid" in html
    assert 'data-check="signature"' in html  # the slot for the signature check
    assert "Show my name publicly" in html


def test_a_revoked_award_page_says_so_with_the_reason(client, space_a, recipient):
    award = make_award(space_a, recipient=recipient)
    award_revoke(
        access=Access.system(award.space),
        award=award,
        actor=None,
        reason="Issued to the wrong person",
    )
    client.force_login(recipient)
    html = client.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    assert "This award was revoked" in html and "Issued to the wrong person" in html
    assert 'data-state="revoked"' in html


def test_only_the_recipient_sees_their_award(client, space_a, recipient, admin_a):
    award = make_award(space_a, recipient=recipient)
    page = reverse("backpack:award", args=[award.public_id])
    toggle = reverse("backpack:visibility", args=[award.public_id])
    assert client.get(page).status_code == 302  # anonymous: sign in first
    client.force_login(admin_a)  # even the space's administrator
    assert client.get(page).status_code == 404
    assert client.post(toggle, {"is_public": "1"}).status_code == 404
    assert not Award.objects.get(pk=award.pk).is_public


def test_the_recipient_makes_their_name_public_and_private(client, space_a, recipient):
    award = make_award(space_a, recipient=recipient)
    toggle = reverse("backpack:visibility", args=[award.public_id])
    client.force_login(recipient)
    assert client.get(toggle).status_code == 405
    assert client.post(toggle, {"is_public": "1"}).status_code == 302
    assert Award.objects.get(pk=award.pk).is_public
    html = client.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    assert "Hide my name" in html
    client.post(toggle, {"is_public": "0"})
    assert not Award.objects.get(pk=award.pk).is_public
    client.post(toggle, {"is_public": "maybe"})
    assert not Award.objects.get(pk=award.pk).is_public


def test_linkedin_add_url_carries_the_award(space_a, settings):
    settings.SITE_URL = "https://badges.example"
    badge = make_badge(space_a, name="Data & Ethics", expiry_amount=2, expiry_unit="years")
    award = make_award(space_a, badge=badge)
    parts = urlsplit(links.linkedin_add_url(award))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://www.linkedin.com/profile/add"
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert params == {
        "startTask": "CERTIFICATION_NAME",
        "name": "Data & Ethics",
        "organizationName": "Acme Learning",
        "issueYear": str(award.issued_at.year),
        "issueMonth": str(award.issued_at.month),
        "expirationYear": str(award.expires_at.year),
        "expirationMonth": str(award.expires_at.month),
        "certUrl": f"https://badges.example/public/assertions/{award.public_id}",
        "certId": str(award.public_id),
    }


def test_recipients_land_on_their_backpack_and_administrators_on_a_dashboard(
    client, space_a, member_a, admin_a
):
    client.force_login(member_a)  # only the User role
    assert client.get(reverse("home")).url == reverse("backpack:index")
    nobody = UserFactory()  # no space at all
    client.force_login(nobody)
    assert client.get(reverse("home")).url == reverse("backpack:index")
    assert "No badges yet" in backpack(client).content.decode()
    client.force_login(admin_a)
    assert client.get(reverse("home")).url == reverse("dashboard", args=[space_a.slug])


def test_an_administrator_who_is_also_a_recipient_can_go_back_to_their_space(
    client, space_a, admin_a
):
    client.force_login(admin_a)
    html = backpack(client).content.decode()
    assert reverse("dashboard", args=[space_a.slug]) in html
    # ... and the space's personal menu links to the backpack.
    dashboard = client.get(reverse("dashboard", args=[space_a.slug])).content.decode()
    assert f'href="{reverse("backpack:index")}">My badges' in dashboard


def test_backpack_anonymous_and_wrong_method(client):
    assert client.get(reverse("backpack:index")).status_code == 302
    client.force_login(UserFactory())
    assert client.post(reverse("backpack:index")).status_code == 405


def test_the_award_email_points_verified_recipients_to_their_backpack(
    space_a, member_a, committed, settings
):
    from django.core import mail

    from badges.issuing import RecipientInput, awards_issue

    settings.SITE_URL = "https://badges.example"
    with committed():
        awards_issue(
            access=Access.system(space_a),
            badge=make_badge(space_a),
            recipients=[RecipientInput(user=member_a)],
        )
    (email,) = mail.outbox
    assert "https://badges.example/backpack/" in email.body
    assert "https://badges.example/backpack/" in email.alternatives[0][0]
