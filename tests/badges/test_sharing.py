"""Sharing that converts: Open Graph / Twitter card meta with absolute URLs and the unfurl
picture, LinkedIn "Add to profile" (with and without the space's organisation id), the embed
snippet (escaped), the share buttons, and the engagement counters (no personal data, one
count per request, one statement on the public page)."""

import io
import pathlib
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from PIL import Image

from badges import engagement, links
from badges.models import EngagementCount
from branding.models import SpaceBranding
from tests.factories import add_member, make_award, make_badge, revoke_award

OUT = pathlib.Path("/tmp/sharing")  # the cards, for people to look at

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"
PERSON = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


def path(url: str) -> str:
    return url.removeprefix(links._url(""))


def get_page(client, url: str, agent: str = PERSON, method: str = "get"):
    return getattr(client, method)(path(url), HTTP_ACCEPT=BROWSER, HTTP_USER_AGENT=agent)


def meta(html: str) -> dict[str, str]:
    found = re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', html)
    return {k: unescape(v) for k, v in found}


def hits(**filters) -> int:
    return sum(EngagementCount.objects.filter(**filters).values_list("hits", flat=True))


@pytest.fixture
def award(space_a):
    person = add_member(space_a)
    person.first_name, person.last_name = "Zoë", "Ångström-Núñez"
    person.save()
    badge = make_badge(space_a, name="Data Stewardship", expiry_amount=2, expiry_unit="years")
    return make_award(space_a, badge=badge, recipient=person)


def test_award_page_carries_open_graph_and_twitter_meta_with_absolute_urls(client, award):
    award.is_public = True
    award.save(update_fields=["is_public"])
    tags = meta(get_page(client, links.assertion_url(award)).content.decode())
    assert tags["og:title"] == "Data Stewardship — awarded to Zoë Ångström-Núñez"
    assert "Acme" in tags["og:description"] and "Data Stewardship" in tags["og:description"]
    assert tags["og:url"] == links.assertion_url(award)
    assert tags["og:image"] == links.card_url(award)
    assert tags["og:image"].startswith(("http://", "https://"))
    assert tags["og:image:type"] == "image/png"
    assert tags["twitter:card"] == "summary_large_image"
    assert tags["twitter:image"] == tags["og:image"]
    # The picture itself: a 1200×630 PNG, what unfurlers want for a large card.
    response = client.get(path(tags["og:image"]))
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (1200, 630)
    OUT.mkdir(exist_ok=True)
    image.save(OUT / "card-award.png")


def test_a_private_recipients_name_is_in_no_meta_and_on_no_card(client, award):
    assert not award.is_public
    html = get_page(client, links.assertion_url(award)).content.decode()
    tags = meta(html)
    assert tags["og:title"] == "Data Stewardship"
    assert all("Zoë" not in v for v in tags.values())
    from badges import social

    private = social.Card(title="Data Stewardship", image="", issuer="Acme")
    public = social.Card(
        title="Data Stewardship", image="", issuer="Acme", recipient="Zoë Ångström-Núñez"
    )
    served = client.get(path(links.card_url(award))).content
    assert served != social.draw(public)
    assert private.key() != public.key()


def test_badge_pages_carry_meta_and_their_own_card(client, space_a):
    badge = make_badge(space_a, name="Safe <Lifting> & Handling")
    for url in (links.badgeclass_url(badge), links.achievement_url(badge)):
        html = get_page(client, url).content.decode()
        assert "<Lifting>" not in html.split("</head>")[0]  # escaped in the attributes
        tags = meta(html)
        assert tags["og:title"].startswith("Safe <Lifting> & Handling — an Open Badge from")
        assert tags["og:url"] == url
        assert tags["og:image"] == links.badge_card_url(badge)
        assert tags["twitter:card"] == "summary_large_image"
    response = client.get(path(links.badge_card_url(badge)))
    assert Image.open(io.BytesIO(response.content)).size == (1200, 630)
    draft = make_badge(space_a, state="draft")
    assert client.get(path(links.badge_card_url(draft))).status_code == 404


def test_a_long_name_wraps_on_the_card_and_a_revoked_award_says_so(client, space_a):
    from badges import social

    font, lines = social.fit(
        "Advanced Certificate in Interdisciplinary Environmental Data Stewardship and "
        "Governance for Public Institutions",
        bold=True,
        sizes=(64, 56, 48, 42, 36),
        width=630,
        max_lines=3,
    )
    assert 1 < len(lines) <= 3
    assert all(font.getlength(line) <= 630 for line in lines)
    award = make_award(space_a, name="Χημεία και Ασφάλεια Εργαστηρίου — Безопасность")
    revoke_award(award)
    response = client.get(path(links.card_url(award)))
    assert response.status_code == 200
    OUT.mkdir(exist_ok=True)
    Image.open(io.BytesIO(response.content)).save(OUT / "card-revoked.png")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_linkedin_add_to_profile_without_and_with_the_organisation_id(space_a):
    award = make_award(space_a, expiry_amount=18, expiry_unit="months")
    params = query(links.linkedin_add_url(award))
    assert params["startTask"] == "CERTIFICATION_NAME"
    assert params["name"] == "Python Fundamentals"
    assert params["organizationName"] == award.issuer_version.name
    assert "organizationId" not in params
    assert (params["issueYear"], params["issueMonth"]) == (
        str(award.issued_at.year),
        str(award.issued_at.month),
    )
    assert (params["expirationYear"], params["expirationMonth"]) == (
        str(award.expires_at.year),
        str(award.expires_at.month),
    )
    assert params["certUrl"] == links.assertion_url(award)
    assert params["certId"] == str(award.public_id)
    with_id = query(links.linkedin_add_url(award, "1337"))
    assert with_id["organizationId"] == "1337" and "organizationName" not in with_id


def test_the_backpack_linkedin_button_counts_and_lands_on_the_prefilled_form(client, award):
    SpaceBranding.objects.create(space=award.space, linkedin_organization_id="2414183")
    client.force_login(award.recipient)
    html = client.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    button = links.share_url(award, "linkedin_profile")
    assert f'href="{button}"' in html
    response = client.get(path(button), HTTP_USER_AGENT=PERSON)
    assert response.status_code == 302
    target = response["Location"]
    assert target.startswith("https://www.linkedin.com/profile/add?")
    assert query(target)["organizationId"] == "2414183"
    assert query(target)["certUrl"] == links.assertion_url(award)
    assert hits(kind="share", target="linkedin_profile", award=award) == 1


def test_share_buttons_count_by_target_and_refuse_what_cannot_be_shared(client, award):
    html = get_page(client, links.assertion_url(award)).content.decode()
    for target in ("linkedin", "x", "facebook", "email"):
        assert f'href="{links.share_url(award, target)}"' in html
    # Named for screen readers ("Share on X"), not a bare letter.
    assert '<span class="visually-hidden">Share on </span>X<span' in html
    response = client.get(path(links.share_url(award, "x")), HTTP_USER_AGENT=PERSON)
    assert response.status_code == 302
    assert response["Location"].startswith("https://twitter.com/intent/tweet?")
    assert query(response["Location"])["url"] == links.assertion_url(award)
    response = client.get(path(links.share_url(award, "email")), HTTP_USER_AGENT=PERSON)
    assert response["Location"].startswith("mailto:?subject=")
    client.get(path(links.share_url(award, "x")), HTTP_USER_AGENT=PERSON)
    assert hits(kind="share", target="x") == 2 and hits(kind="share", target="email") == 1
    assert client.get(path(links.share_url(award, "myspace"))).status_code == 404
    revoke_award(award)
    assert client.get(path(links.share_url(award, "x"))).status_code == 410
    assert hits(kind="share") == 3


def test_the_embed_snippet_is_escaped_and_copyable(client, space_a):
    badge = make_badge(space_a, name='Team "Lead" <script>alert(1)</script> & Co')
    award = make_award(space_a, badge=badge)
    client.force_login(award.recipient)
    response = client.get(reverse("backpack:award", args=[award.public_id]))
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    snippet = response.context["embed_snippet"]
    assert snippet.startswith(f'<a href="{links.assertion_url(award)}" target="_blank"')
    assert f'<img src="{links.baked_image_url(award)}"' in snippet
    assert 'alt="Team &quot;Lead&quot; &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co: a' in snippet
    # Shown as text in the textarea and in the copy button's attribute (escaped once more).
    textarea = re.search(r'<textarea id="embed-snippet"[^>]*>(.*?)</textarea>', html, re.S)
    assert unescape(textarea.group(1)) == snippet
    button = re.search(r'data-copy="([^"]*)">Copy embed code', html)
    assert unescape(button.group(1)) == snippet


def test_the_linkedin_organisation_id_is_a_branding_setting(client, space_a, admin_a):
    from badgeplatform.models import AuditEntry

    client.force_login(admin_a)
    url = reverse("branding:branding", args=[space_a.slug])
    assert "LinkedIn organisation id" in client.get(url).content.decode()
    response = client.post(url, {"action": "save_sharing", "linkedin_organization_id": "acme-corp"})
    assert response.status_code == 422
    assert "digits of the id only" in response.content.decode()
    assert not SpaceBranding.objects.filter(space=space_a).exists()
    response = client.post(url, {"action": "save_sharing", "linkedin_organization_id": " 1337 "})
    assert response.status_code == 302
    assert SpaceBranding.objects.get(space=space_a).linkedin_organization_id == "1337"
    assert AuditEntry.objects.filter(space=space_a, action="branding.linkedin").exists()


# ---- Counting -------------------------------------------------------------------------------


def test_counters_keep_no_personal_data(client, award):
    columns = {f.column for f in EngagementCount._meta.get_fields() if hasattr(f, "column")}
    assert columns == {
        "id",
        "space_id",
        "organisation_id",
        "badge_id",
        "award_id",
        "day",
        "kind",
        "target",
        "hits",
    }
    client.force_login(award.recipient)  # even a signed-in visitor is only a number
    response = client.get(
        path(links.assertion_url(award)),
        HTTP_ACCEPT=BROWSER,
        HTTP_USER_AGENT=PERSON,
        REMOTE_ADDR="203.0.113.9",
    )
    assert response.status_code == 200
    row = EngagementCount.objects.get()
    assert (row.kind, row.award_id, row.badge_id, row.hits) == ("view", award.pk, award.badge_id, 1)
    # Nothing about the visitor went into the row: the same row counts the next visitor.
    client.logout()
    client.get(
        path(links.assertion_url(award)),
        HTTP_ACCEPT=BROWSER,
        HTTP_USER_AGENT=PERSON,
        REMOTE_ADDR="198.51.100.7",
    )
    assert EngagementCount.objects.get().hits == 2


def test_a_view_counts_once_per_request_and_only_a_persons(client, award):
    url = links.assertion_url(award)
    for _ in range(3):
        get_page(client, url)
    assert hits(kind="view", award=award) == 3
    assert EngagementCount.objects.count() == 1  # one row per day, its number raised
    get_page(client, url, agent="Mozilla/5.0 (compatible; Twitterbot/1.0)")
    get_page(client, url, agent="facebookexternalhit/1.1")
    get_page(client, url, agent="")
    get_page(client, url, method="head")
    client.get(path(url), HTTP_ACCEPT=BROWSER, HTTP_USER_AGENT=PERSON, HTTP_SEC_PURPOSE="prefetch")
    client.get(path(url), HTTP_ACCEPT="application/ld+json", HTTP_USER_AGENT=PERSON)  # JSON
    assert hits(kind="view", award=award) == 3
    get_page(client, links.badgeclass_url(award.badge))
    assert hits(kind="view", award=None, badge=award.badge) == 1


def test_certificate_downloads_are_counted(client, award):
    client.get(path(links.certificate_url(award)), HTTP_USER_AGENT=PERSON)
    client.get(path(links.certificate_url(award)) + "?size=letter", HTTP_USER_AGENT=PERSON)
    assert hits(kind="certificate", award=award) == 2


def test_counting_adds_one_statement_to_the_public_page(
    client, award, django_assert_max_num_queries
):
    url = links.assertion_url(award)
    get_page(client, url, agent="")  # warm: the signature check and documents cached
    with django_assert_max_num_queries(2):  # the page as it was before counting
        get_page(client, url, agent="")  # not counted (no browser)
    with django_assert_max_num_queries(3) as counted:
        get_page(client, url)
    upserts = [q["sql"] for q in counted.captured_queries if "ON CONFLICT" in q["sql"]]
    assert len(upserts) == 1 and "SELECT" not in upserts[0].split("ON CONFLICT")[0]


def test_a_counter_failure_never_breaks_the_page(client, award, monkeypatch):
    from django.db import DatabaseError

    def broken(*args, **kwargs):
        raise DatabaseError("disk full")

    monkeypatch.setattr(engagement.connection, "cursor", broken)
    engagement.count(
        kind="view", space_id=award.space_id, organisation_id=1, badge_id=award.badge_id
    )  # logged, not raised


def test_a_declined_award_has_no_card_and_cannot_be_shared(client, award):
    from django.utils import timezone

    award.declined_at = timezone.now()
    award.save(update_fields=["declined_at"])
    assert client.get(path(links.card_url(award))).status_code == 410
    response = client.get(path(links.share_url(award, "x")), HTTP_USER_AGENT=PERSON)
    assert response.status_code == 410
    assert not EngagementCount.objects.exists()


def test_a_claim_page_view_counts_under_the_badges_organisation(award):
    """Claim links count through the same function, without loading the badge first."""
    engagement.count(kind="claim_view", space_id=award.space_id, badge_id=award.badge_id)
    engagement.count(kind="claim_view", space_id=award.space_id, badge_id=award.badge_id)
    row = EngagementCount.objects.get(kind="claim_view")
    assert (row.award_id, row.hits) == (None, 2)
    assert row.organisation_id == award.badge.organisation_id
