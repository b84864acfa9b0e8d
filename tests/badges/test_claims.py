"""Claim links (issue 17): creating them, the public claim page, the emailed confirmation,
limits, dates, codes, email domains, duplicates, the award.claimed webhook and the counts."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import load_access
from badgeplatform.models import AuditEntry, OutboundEmail
from badges import claims
from badges.issuing import BadgeNotIssuable
from badges.models import Award, Claim, ClaimLink, EngagementCount, IssueBatch
from tests.factories import (
    UserFactory,
    add_member,
    make_award,
    make_badge,
    make_claim_link,
    make_webhook,
)
from users.models import User
from webhooks.models import Message

pytestmark = pytest.mark.django_db

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"


@pytest.fixture
def badge(space_a):
    return make_badge(space_a, name="First Aid")


@pytest.fixture
def link(space_a, badge):
    return make_claim_link(space_a, badge=badge, name="Open day")


def confirmation_link(to: str) -> str:
    email = OutboundEmail.objects.filter(kind="claim_confirm", to=to).latest("pk")
    return re.search(r"https?://\S+/c/confirm/\S+/", email.body_text).group(0)


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def visit_and_claim(client, link, email="ada@example.test", **extra):
    data = {"email": email, "first_name": "Ada", "last_name": "Lovelace", **extra}
    return client.post(reverse("claim:page", args=[link.token]), data)


# ---- Creating links ---------------------------------------------------------------------------


def test_an_issuer_creates_a_link_with_code_limit_dates_and_domains(client_a, space_a, badge):
    opens = timezone.localtime() - timedelta(hours=1)
    response = client_a.post(
        reverse("claims:badge", args=[space_a.slug, badge.pk]),
        {
            "action": "create",
            "name": "Open day",
            "code": "ORCA",
            "limit": "30",
            "opens_at": opens.strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (opens + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"),
            "allowed_domains": "Example.edu, @staff.example.org",
        },
    )
    link = ClaimLink.objects.get(badge=badge)
    assert response.status_code == 302
    assert response["Location"] == reverse("claims:link", args=[space_a.slug, link.pk])
    assert (link.code, link.limit) == ("ORCA", 30)
    assert link.allowed_domains == ["example.edu", "staff.example.org"]
    assert link.closes_at - link.opens_at == timedelta(days=2)
    assert re.fullmatch(r"[a-z2-9]{8}", link.token)
    assert AuditEntry.objects.filter(action="claim_link.create").count() == 1

    page = client_a.get(response["Location"])
    body = page.content.decode()
    assert "<svg" in body and claims.claim_url(link) in body  # the QR code, inline, and the URL
    assert "ORCA" in body


def test_bad_link_settings_come_back_beside_their_fields(client_a, space_a, badge):
    response = client_a.post(
        reverse("claims:badge", args=[space_a.slug, badge.pk]),
        {
            "action": "create",
            "limit": "0",
            "opens_at": "2026-05-02T10:00",
            "closes_at": "2026-05-01T10:00",
            "allowed_domains": "not a domain!",
        },
    )
    assert response.status_code == 422
    form = response.context["form"]
    assert set(form.errors) == {"limit", "closes_at", "allowed_domains"}
    assert not ClaimLink.objects.exists()


def test_links_only_for_published_badges_and_by_who_may_issue_them(space_a, admin_a):
    draft = make_badge(space_a, state="draft")
    with pytest.raises(BadgeNotIssuable):
        make_claim_link(space_a, badge=draft)
    member = add_member(space_a)
    with pytest.raises(PermissionDenied):
        claims.claim_link_create(
            access=load_access(space_a, member),
            badge=make_badge(space_a),
            actor=member,
        )
    with pytest.raises(ValidationError):
        claims.domains_clean("example")


def test_the_poster_shows_the_badge_the_qr_code_the_short_url_and_the_code(
    client_a, space_a, badge
):
    link = make_claim_link(space_a, badge=badge, code="ORCA")
    response = client_a.get(reverse("claims:poster", args=[space_a.slug, link.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "First Aid" in body and "<svg" in body and "ORCA" in body
    assert claims.claim_url(link).split("://")[1] in body
    assert badge.graphic.image.url in body
    png = client_a.get(reverse("claims:qr", args=[space_a.slug, link.pk]))
    assert png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")


# ---- Claiming ---------------------------------------------------------------------------------


def test_a_visitor_claims_confirms_by_email_and_gets_the_award(client, space_a, link, badge):
    hook = make_webhook(space_a, events=("award.claimed",))
    page = client.get(reverse("claim:page", args=[link.token]), HTTP_USER_AGENT=BROWSER)
    assert page.status_code == 200 and b"First Aid" in page.content
    response = visit_and_claim(client, link)
    assert response.status_code == 200 and b"Check your email" in response.content
    assert not Award.objects.filter(badge=badge).exists()  # nothing before the confirmation

    url = path_of(confirmation_link("ada@example.test"))
    assert client.get(url).status_code == 200  # a button, not the award (mail scanners)
    assert not Award.objects.filter(badge=badge).exists()
    done = client.post(url)
    award = Award.objects.get(badge=badge)
    assert done.status_code == 200 and b"The badge is yours" in done.content
    assert award.recipient.email == "ada@example.test"
    assert award.source == IssueBatch.Source.CLAIM
    assert award.recipient.first_name == "Ada"
    # A new person chooses a password next (their address is proven by the emailed link).
    assert done.context["setup_url"]
    assert Message.objects.filter(endpoint=hook, type="award.claimed").count() == 1
    link.refresh_from_db()
    assert (link.views, link.claimed) == (1, 1)
    assert Claim.objects.get().status == Claim.Status.CLAIMED
    # The link again: the same award, no second one.
    assert client.post(url).status_code == 200
    assert Award.objects.filter(badge=badge).count() == 1


def test_someone_who_holds_the_badge_is_told_so_and_gets_no_second(client, space_a, badge, link):
    holder = add_member(space_a, UserFactory(email="grace@example.test"))
    award = make_award(space_a, badge=badge, recipient=holder)
    visit_and_claim(client, link, email="GRACE@example.test")
    done = client.post(path_of(confirmation_link("GRACE@example.test")))
    assert b"You already have this badge" in done.content
    assert done.context["outcome"].award == award
    assert Award.objects.filter(badge=badge).count() == 1
    link.refresh_from_db()
    assert link.claimed == 0


def test_a_signed_in_person_claims_at_once(client, space_a, badge, link):
    person = UserFactory(email="lin@example.test")
    client.force_login(person)
    response = client.post(reverse("claim:page", args=[link.token]), {})
    assert response.status_code == 200
    award = Award.objects.get(badge=badge)
    assert award.recipient == person
    assert reverse("backpack:award", args=[award.public_id]) in response.content.decode()
    assert not OutboundEmail.objects.filter(kind="claim_confirm").exists()


def test_the_code_is_checked(client, space_a, badge):
    link = make_claim_link(space_a, badge=badge, code="Orca")
    wrong = visit_and_claim(client, link, code="whale")
    assert wrong.status_code == 422 and "code" in wrong.context["form"].errors
    assert visit_and_claim(client, link, code=" orca ").status_code == 200  # any case, trimmed


def test_the_email_domain_allow_list(client, space_a, badge):
    link = make_claim_link(space_a, badge=badge, allowed_domains=["example.edu"])
    refused = visit_and_claim(client, link, email="ada@gmail.com")
    assert refused.status_code == 422 and "email" in refused.context["form"].errors
    assert visit_and_claim(client, link, email="ada@cs.example.edu").status_code == 200
    assert visit_and_claim(client, link, email="ada@notexample.edu").status_code == 422
    assert not claims.email_domain_allowed(link, "a@example.edu.evil.test")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"opens_at": timedelta(hours=1)}, "Claiming opens on"),
        ({"closes_at": timedelta(hours=-1)}, "Claiming through this link has ended."),
    ],
)
def test_dates_are_enforced(client, space_a, badge, fields, message):
    now = timezone.now()
    kwargs = {k: now + v for k, v in fields.items()}
    if "closes_at" in kwargs:
        kwargs["opens_at"] = now - timedelta(days=1)
    link = make_claim_link(space_a, badge=badge, **kwargs)
    page = client.get(reverse("claim:page", args=[link.token]))
    assert message in page.content.decode()
    response = visit_and_claim(client, link)
    assert response.status_code == 422 and message in response.content.decode()


def test_the_limit_is_enforced_at_confirmation(client, space_a, badge):
    link = make_claim_link(space_a, badge=badge, limit=1)
    visit_and_claim(client, link, email="one@example.test")
    visit_and_claim(client, link, email="two@example.test")  # both may ask while places remain
    assert client.post(path_of(confirmation_link("one@example.test"))).status_code == 200
    full = client.post(path_of(confirmation_link("two@example.test")))
    assert full.status_code == 409
    assert "All the badges of this link have been claimed." in full.content.decode()
    assert Award.objects.filter(badge=badge).count() == 1
    page = client.get(reverse("claim:page", args=[link.token]))
    assert "All the badges of this link have been claimed." in page.content.decode()


def test_a_closed_link_and_a_creator_who_may_no_longer_issue(client, space_a, admin_a, badge):
    link = make_claim_link(space_a, badge=badge)
    visit_and_claim(client, link)
    claims.claim_link_close(access=load_access(space_a, admin_a), link=link, actor=admin_a)
    refused = client.post(path_of(confirmation_link("ada@example.test")))
    assert refused.status_code == 409 and b"has been closed" in refused.content

    issuer = add_member(space_a, role_name="Badge Issuer")
    other = make_claim_link(space_a, badge=badge, created_by=issuer)
    visit_and_claim(client, other, email="b@example.test")
    issuer.memberships.all().delete()  # no longer a member: their links stop working
    from users.models import Member

    Member.objects.filter(user=issuer).delete()
    refused = client.post(path_of(confirmation_link("b@example.test")))
    assert refused.status_code == 409 and b"no longer active" in refused.content
    assert not Award.objects.filter(badge=badge).exists()


def test_a_broken_or_old_confirmation_link(client, space_a, link, settings):
    assert client.get("/c/confirm/garbage/").status_code == 400
    claim = claims.claim_start(link=link, email="x@example.test", first_name="X", last_name="Y")
    token = claims.confirm_token(claim)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(claims, "CONFIRM_MAX_AGE", -1)
        assert claims.claim_from_token(token) is None


def test_an_unknown_link_is_a_404_and_posts_are_rate_limited(client, space_a, link, settings):
    assert client.get("/c/nosuchlk").status_code == 404
    settings.CLAIM_RATE_LIMIT = 2
    url = reverse("claim:page", args=[link.token])
    assert client.post(url, {}).status_code == 422
    assert client.post(url, {}).status_code == 422
    throttled = client.post(url, {})
    assert throttled.status_code == 429 and throttled["Retry-After"]


def test_confirmation_emails_to_one_address_are_capped(client, space_a, link):
    for _ in range(5):
        assert visit_and_claim(client, link).status_code == 200
    assert visit_and_claim(client, link).status_code == 429
    assert OutboundEmail.objects.filter(kind="claim_confirm").count() == 5
    assert Claim.objects.count() == 1  # one pending claim per address and link


def test_counts_carry_no_personal_data_and_sum_per_badge(
    client, space_a, badge, link, django_capture_on_commit_callbacks
):
    other = make_claim_link(space_a, badge=badge)
    for token in (link.token, link.token, other.token):
        client.get(reverse("claim:page", args=[token]), HTTP_USER_AGENT=BROWSER)
    # Link unfurlers and prefetches are not people: not counted.
    client.get(reverse("claim:page", args=[link.token]), HTTP_USER_AGENT="Slackbot 1.0")
    client.get(reverse("claim:page", args=[link.token]))
    with django_capture_on_commit_callbacks(execute=True):
        claims.claim_confirm(
            claim=claims.claim_start(
                link=link, email="z@example.test", first_name="Z", last_name="Z"
            )
        )
    assert claims.claim_link_figures(space_a) == {badge.pk: {"views": 3, "claims": 1}}
    # The same events, per day, for the engagement report (badges.engagement).
    daily = dict(
        EngagementCount.objects.filter(badge=badge).values_list("kind", "hits").order_by("kind")
    )
    assert daily == {"claim": 1, "claim_view": 3}


def test_the_badge_page_lists_links_with_their_figures(client_a, space_a, badge, link):
    ClaimLink.objects.filter(pk=link.pk).update(views=8, claimed=2)
    response = client_a.get(reverse("claims:badge", args=[space_a.slug, badge.pk]))
    body = response.content.decode()
    assert "Open day" in body and "(25%)" in body


def test_new_people_are_made_once_even_when_two_links_confirm(space_a, badge):
    a, b = make_claim_link(space_a, badge=badge), make_claim_link(space_a, badge=badge)
    for link in (a, b):
        claims.claim_start(link=link, email="new@example.test", first_name="N", last_name="P")
    outcomes = [claims.claim_confirm(claim=c) for c in Claim.objects.order_by("pk")]
    assert [o.status for o in outcomes] == ["claimed", "already"]
    assert User.objects.filter(email="new@example.test").count() == 1


def test_a_withdrawn_badge_cannot_be_claimed(client, space_a, badge, link):
    badge.state = "withdrawn"
    badge.save(update_fields=["state"])
    page = client.get(reverse("claim:page", args=[link.token]))
    assert b"This badge is not available at the moment." in page.content
    assert b"Email me the link" not in page.content
    refused = visit_and_claim(client, link)
    assert refused.status_code == 422 and not Claim.objects.exists()


def test_the_badges_links_page_pins_its_queries(
    client_a, space_a, badge, django_assert_max_num_queries
):
    url = reverse("claims:badge", args=[space_a.slug, badge.pk])
    counts = []
    for n in (2, 30):
        while ClaimLink.objects.count() < n:
            make_claim_link(space_a, badge=badge)
        with django_assert_max_num_queries(14) as captured:
            assert client_a.get(url).status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1]  # 30 links (two pages) cost what 2 do
