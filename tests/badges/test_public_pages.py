"""The public verification page and the other public pages: what a person sees, who may see
it (anyone), and that badges.links and the URLconf agree."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import resolve
from django.utils import timezone

from badges import links, public_views
from badges.models import AwardCredential
from tests.factories import make_award, make_badge, revoke_award

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,*/*;q=0.8"


def page(client, award) -> str:
    response = client.get(links.assertion_url(award), HTTP_ACCEPT=BROWSER)
    assert response.status_code == 200
    assert "Accept" in response["Vary"]
    return response.content.decode()


def test_valid_award_page(client, space_a, member_a):
    award = make_award(space_a, recipient=member_a, criteria_url="https://acme.example/crit")
    html = page(client, award)
    assert "<h1>Valid</h1>" in html
    assert "Signature checked." in html and "eddsa-rdfc-2022" in html
    assert award.badge_snapshot["name"] in html
    assert award.badge_snapshot["description"] in html
    assert "Pass the final assessment." in html  # criteria (Markdown, sanitised)
    assert "https://acme.example/crit" in html
    assert "Acme Learning" in html  # issuer
    assert award.badge_snapshot["image"] in html  # the graphic
    for url in (
        links.as_json(links.assertion_url(award)),
        links.download(links.credential_url(award)),
        links.download(links.baked_image_url(award)),
        links.download(links.credential_image_url(award)),
        links.download(links.credential_svg_url(award)),
    ):
        assert url.replace("&", "&amp;") in html


def test_recipient_name_only_when_public(client, space_a, member_a):
    award = make_award(space_a, recipient=member_a)
    html = page(client, award)
    assert member_a.get_full_name() not in html and member_a.email not in html
    assert "keeps their name private" in html
    award.is_public = True
    award.save()
    assert f"Awarded to <strong>{member_a.get_full_name()}</strong>" in page(client, award)


def test_expired_award_page(client, space_a):
    award = make_award(space_a)
    award.expires_at = timezone.now() - timedelta(days=3)
    award.save()
    html = page(client, award)
    assert "Expired on" in html and 'class="verify-status expired"' in html


def test_revoked_award_page_says_why(client, space_a):
    award = make_award(space_a)
    revoke_award(award, reason="Certificate withdrawn by the exam board.")
    html = page(client, award)
    assert "Revoked on" in html and 'class="verify-status revoked"' in html
    assert "Certificate withdrawn by the exam board." in html
    assert links.baked_image_url(award) not in html  # no image to share any more


def test_altered_stored_credential_is_reported(client, space_a):
    award = make_award(space_a)
    page(client, award)  # signs and stores the credential
    stored = AwardCredential.objects.get(award=award)
    stored.credential["credentialSubject"]["achievement"]["name"] = "Brain Surgery"
    stored.save()
    from tests.conftest import clear_cache

    clear_cache()
    html = page(client, award)
    assert "Could not be verified" in html and "altered" in html


def test_page_escapes_authored_text(client, space_a):
    award = make_award(
        space_a,
        description="<script>alert(1)</script>",
        criteria_text="**Bold** <img src=x onerror=alert(1)>",
    )
    html = page(client, award)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "onerror" not in html and "<strong>Bold</strong>" in html


def test_badge_and_issuer_pages(client, space_a):
    award = make_award(space_a)
    html = client.get(links.badgeclass_url(award.badge), HTTP_ACCEPT=BROWSER).content.decode()
    assert award.badge.name in html
    html = client.get(links.issuer_url(award.issuer_version), HTTP_ACCEPT=BROWSER)
    assert "Acme Learning" in html.content.decode()


def test_public_pages_need_no_account(client, space_a, admin_b):
    """Anonymous visitors and members of other spaces see the same public page."""
    award = make_award(space_a)
    anonymous = page(client, award)
    client.force_login(admin_b)
    assert page(client, award).count("Valid") == anonymous.count("Valid")


def test_linkedin_add_url(space_a):
    award = make_award(space_a, expiry_amount=2, expiry_unit="years")
    url = links.linkedin_add_url(award)
    parts = urlsplit(url)
    assert parts.netloc == "www.linkedin.com" and parts.path == "/profile/add"
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["startTask"] == "CERTIFICATION_NAME"
    assert query["name"] == award.badge_snapshot["name"]
    assert query["organizationName"] == "Acme Learning"
    assert query["certUrl"] == links.assertion_url(award)
    assert query["certId"] == str(award.public_id)
    assert int(query["issueYear"]) == award.issued_at.year
    assert int(query["expirationYear"]) == award.expires_at.year


def test_links_resolve_to_the_public_views(settings, space_a):
    """badges.links is the contract: every path it builds is served by the intended view."""
    from badges.openbadges.keys import signing_key_for
    from badges.openbadges.publish import badgeclass_version_for

    award = make_award(space_a)
    key = signing_key_for(award.badge.issuer)
    expected = {
        links.assertion_url(award): public_views.assertion,
        links.baked_image_url(award): public_views.assertion_image,
        links.certificate_url(award): public_views.certificate,
        links.credential_url(award): public_views.credential,
        links.credential_image_url(award): public_views.credential_image,
        links.credential_svg_url(award): public_views.credential_svg,
        links.badgeclass_url(award.badge): public_views.badge,
        links.achievement_url(award.badge): public_views.achievement,
        links.badgeclass_version_url(badgeclass_version_for(award)): public_views.badge_version,
        links.issuer_url(award.issuer_version): public_views.issuer,
        links.issuer_id_url(award.badge.issuer): public_views.issuer,
        links.revocation_list_url(award.issuer_version): public_views.revocation_list,
        links.signing_key_url(key): public_views.signing_key,
        links.key_controller_url(space_a): public_views.key_controller,
    }
    for url, view in expected.items():
        assert url.startswith(settings.SITE_URL + "/public/")
        assert resolve(urlsplit(url).path).func is view, url
        assert view.access_declaration[0] == "public"


def test_draft_badge_has_no_public_page(client, space_a):
    draft = make_badge(space_a, state="draft")
    assert client.get(links.badgeclass_url(draft), HTTP_ACCEPT=BROWSER).status_code == 404
