"""Sharing that converts, as the people who do it: a recipient copies the embed code and opens
"Add to LinkedIn profile" from their backpack (LinkedIn's form, pre-filled with the space's
LinkedIn organisation id), a visitor opens the public page and downloads the certificate, and
the administrator reads those figures in the Reports page's Engagement section."""

from urllib.parse import parse_qs, urlsplit

import pytest

from badges import links
from branding.models import SpaceBranding
from tests.browser.test_api_keys_and_rules import sign_in
from tests.factories import UserFactory, add_member, make_award, make_badge

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LINKEDIN_STUB = (
    '<!doctype html><html lang="en"><head><title>LinkedIn (stand-in)</title></head>'
    "<body><main><h1>Add licence or certification</h1></main></body></html>"
)


def test_recipient_shares_and_the_administrator_sees_the_figures(
    page, screenshot, admin_a, space_a
):
    SpaceBranding.objects.create(space=space_a, linkedin_organization_id="2414183")
    badge = make_badge(space_a, name="Data Stewardship", certificate_design="modern")
    recipient = add_member(space_a, UserFactory(first_name="Rita", last_name="Recipient"))
    award = make_award(space_a, badge=badge, recipient=recipient)
    context = page.context
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    # No network here: LinkedIn answers with a stand-in page, the address is what counts.
    context.route(
        "https://www.linkedin.com/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body=LINKEDIN_STUB),
    )

    sign_in(page, recipient)
    page.goto(f"/backpack/{award.public_id}/")
    page.get_by_role("heading", name="Keep and share").wait_for()
    snippet = page.get_by_label("Embed on your website").input_value()
    assert snippet.startswith(f'<a href="{links.assertion_url(award)}"')
    assert f'<img src="{links.baked_image_url(award)}"' in snippet
    page.get_by_role("button", name="Copy embed code").click()
    page.get_by_role("button", name="Copied").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == snippet
    screenshot("1-backpack-share")

    with page.expect_popup() as popup_info:
        page.get_by_role("link", name="Add to LinkedIn profile").click()
    linkedin = popup_info.value
    linkedin.get_by_role("heading", name="Add licence or certification").wait_for()
    parts = urlsplit(linkedin.url)
    assert (parts.netloc, parts.path) == ("www.linkedin.com", "/profile/add")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert query["startTask"] == "CERTIFICATION_NAME"
    assert query["name"] == "Data Stewardship"
    assert query["organizationId"] == "2414183"
    assert query["certUrl"] == links.assertion_url(award)
    assert query["certId"] == str(award.public_id)
    linkedin.close()

    # A visitor opens the public page and its certificate (their own browser: no sign-in).
    visitor = page.context.browser.new_context(base_url=page.url.split("/backpack")[0])
    public = visitor.new_page()
    public.goto(links.assertion_url(award))
    public.get_by_role("heading", name="Data Stewardship").wait_for()
    og_image = public.locator('meta[property="og:image"]').get_attribute("content")
    assert og_image == links.card_url(award)
    assert public.request.get(og_image).headers["content-type"] == "image/png"
    response = public.request.get(links.certificate_url(award))
    assert response.headers["content-type"] == "application/pdf"
    visitor.close()

    # The administrator reads the figures: one view, one share (LinkedIn profile), one
    # certificate download.
    context.clear_cookies()
    sign_in(page, admin_a)
    page.goto(f"/s/{space_a.slug}/reports/?period=last_30")
    section = page.locator("#engagement")
    section.get_by_role("heading", name="Engagement").wait_for()
    row = section.get_by_role("row", name="Data Stewardship")
    assert row.locator("td").all_inner_texts() == ["1", "1", "1", "0", "0"]
    assert section.get_by_text("LinkedIn profile 1").is_visible()
    screenshot("2-engagement-report")
