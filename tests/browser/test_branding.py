"""An administrator brands their space, authors the badge email, and publishes a landing page.

Screenshots land in test-artifacts/ (see conftest): look at them.
"""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import expect

from badgeplatform.access import Access
from badgeplatform.images import process_image
from badges.issuing import RecipientInput, awards_issue
from branding.services import branding_set_colours, branding_set_image
from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD, UserFactory, add_member, make_badge, make_space, put_on_plan

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAV_BG, NAV_TEXT, ACCENT = "#0b3d2e", "#f4fbf7", "#c2410c"


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def make_png(path, size, colour, text="", font_size=28):
    """A stand-in logo/icon/hero: a colour field with white lettering and a stripe."""
    image = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, size[1] - max(3, size[1] // 12), size[0], size[1]), fill="#f59e0b")
    if text:
        font = ImageFont.load_default(size=font_size)
        draw.text((12, (size[1] - font_size) // 2 - 2), text, fill="#ffffff", font=font)
    image.save(path, "PNG")
    return str(path)


@pytest.fixture
def shot(page, screenshot):
    """Screenshot from the top, so the sticky menu and top bar sit where a person sees them."""

    def take(name):
        page.evaluate("window.scrollTo(0, 0)")
        return screenshot(name)

    return take


def sign_in(page, username):
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=re.compile("Welcome")).wait_for()


@pytest.fixture
def lena(db):
    admin = UserFactory(username="lena", first_name="Lena", last_name="Lake")
    space = make_space("Lakeside Academy", "lakeside", admin=admin)
    return admin, space


def csrf_token(page) -> str:
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


def open_menu_section(menu, label: str) -> None:
    """Make sure a menu section is unfolded (a person may have folded it) before following
    its links."""
    menu.locator(f"details.nav-section:has(> summary:has-text('{label}'))").evaluate(
        "d => { d.open = true; }"
    )


def css_var(page, selector, prop):
    return page.eval_on_selector(selector, f"e => getComputedStyle(e).{prop}")


def test_admin_brands_the_space_and_sees_it_on_the_next_page(page, lena, tmp_path, shot):
    admin, space = lena
    put_on_plan(space, "standard")
    sign_in(page, "lena")
    menu = page.get_by_role("complementary", name="Main menu")
    open_menu_section(menu, "System settings")
    menu.get_by_role("link", name="Branding").click()
    page.get_by_role("heading", name="Branding", exact=True).wait_for()
    # The picker is revealed by JavaScript next to each hex input.
    page.locator("[data-colour-form][data-enhanced]").wait_for()  # branding.js is running
    assert page.locator("[data-colour-picker]").first.is_visible()

    # Hostile input first: refused beside the field, the page is still all there.
    page.get_by_label("Menu background", exact=True).fill("red;}body{display:none")
    page.get_by_role("button", name="Save colours").click()
    error = page.get_by_text("Enter a colour as # followed by six hexadecimal digits")
    error.wait_for()
    assert page.locator("body").is_visible() and menu.is_visible()
    shot("1-hostile-colour-refused")

    # A poor highlight colour shows the contrast warning live, before saving.
    page.get_by_label("Highlight (selected items and buttons)", exact=True).fill("#ffee00")
    warning = page.locator('[data-contrast="accent"]')
    assert warning.is_visible() and "below the WCAG AA minimum" in warning.inner_text()

    page.get_by_label("Menu background", exact=True).fill(NAV_BG)
    page.get_by_label("Menu text", exact=True).fill(NAV_TEXT)
    page.get_by_label("Highlight (selected items and buttons)", exact=True).fill(ACCENT)
    assert warning.is_hidden()
    # The live preview follows the typing.
    expect(page.locator(".bp-sidebar")).to_have_css("background-color", rgb(NAV_BG))
    shot("2-colours-typed")
    page.get_by_role("button", name="Save colours").click()
    page.get_by_text("Colours saved").wait_for()

    page.locator("#id_logo-image").set_input_files(
        make_png(tmp_path / "logo.png", (280, 60), "#0b3d2e", "Lakeside Academy", 26)
    )
    page.get_by_role("button", name="Upload logo").click()
    page.get_by_text("The new logo is in place").wait_for()
    page.locator("#id_icon-image").set_input_files(
        make_png(tmp_path / "icon.png", (35, 35), "#c2410c", "L", 22)
    )
    page.get_by_role("button", name="Upload icon").click()
    page.get_by_text("The new icon is in place").wait_for()
    shot("3-branding-saved")

    # The next page: colours, logo and icon applied.
    menu.get_by_role("link", name="Dashboard").click()
    page.get_by_role("heading", name="Welcome, Lena").wait_for()
    page.wait_for_load_state("load")  # the space's stylesheet included
    # expect() retries until the style applies (a busy CI machine may be slower than the DOM).
    expect(page.locator(".sidebar")).to_have_css("background-color", rgb(NAV_BG))
    expect(page.locator(".sidebar .nav-section > summary").first).to_have_css(
        "color", rgb(NAV_TEXT)
    )
    expect(page.locator(".nav-top.active")).to_have_css("background-color", rgb(ACCENT))
    logo = page.locator(".sidebar .brand .brand-logo")
    assert logo.is_visible()
    assert "/media/branding/" in css_var(page, ".sidebar .brand .brand-logo", "backgroundImage")
    assert page.locator(".sidebar .brand .mark").is_hidden()
    # The accessible name of the brand link is still the space's name.
    assert menu.get_by_role("link", name="Lakeside Academy").is_visible()
    favicon = page.locator('link[rel="icon"]').get_attribute("href")
    icon_response = page.request.get(favicon)
    assert icon_response.ok and "/media/branding/" in icon_response.url
    shot("4-dashboard-branded")

    page.get_by_role("button", name="« Collapse menu").click()
    assert page.locator(".sidebar .brand .brand-icon").is_visible()
    assert logo.is_hidden()
    shot("5-collapsed-menu-icon")
    page.get_by_role("button", name="»").click()

    # Account pages keep the platform look (the recipient's backpack will be checked the same
    # way when it exists: it is not in the admin shell, so the space's CSS never reaches it).
    page.goto("/accounts/password/change/")
    page.get_by_role("heading", name="Change your password").wait_for()
    assert page.locator('link[href*="brand.css"]').count() == 0
    assert css_var(page, ".auth .logo .mark", "backgroundColor") == rgb("#2f6fde")
    shot("6-account-page-unbranded")


def test_authored_badge_email_arrives_filled_in_with_the_logo(
    page, lena, tmp_path, shot, live_server
):
    admin, space = lena
    put_on_plan(space, "standard")
    branding_set_colours(actor=admin, space=space, nav_bg=NAV_BG, nav_text=NAV_TEXT, accent=ACCENT)
    sign_in(page, "lena")
    page.goto(f"/s/{space.slug}/settings/branding/")
    page.locator("#id_logo-image").set_input_files(
        make_png(tmp_path / "logo.png", (280, 60), NAV_BG, "Lakeside Academy", 26)
    )
    page.get_by_role("button", name="Upload logo").click()
    page.get_by_text("The new logo is in place").wait_for()

    page.get_by_role("complementary", name="Main menu").get_by_role("link", name="Emails").click()
    page.get_by_role("heading", name="Emails").wait_for()
    page.get_by_role("link", name="Edit the badge issue email").click()
    page.get_by_role("heading", name=re.compile("Badge issue email")).wait_for()
    page.locator("[data-email-form][data-enhanced]").wait_for(state="attached")

    subject = page.get_by_label("Subject")
    subject.fill("")
    subject.focus()
    page.get_by_role("button", name="First name").click()
    subject.press("End")
    subject.type(", you earned ")
    page.get_by_role("button", name="Badge name").click()
    assert subject.input_value() == "{{first_name}}, you earned {{badge_name}}"

    body = page.get_by_label("Body")
    body.fill("Well done, ")
    body.press("End")
    page.get_by_role("button", name="First name").click()
    body.type("! <script>alert('x')</script>Awarded by ")
    page.get_by_role("button", name="Issuer name").click()
    body.type(". Secret: {{ settings.SECRET_KEY }}")
    page.get_by_role("button", name="Save").click()
    page.get_by_text("Not a placeholder of this email: {{ settings.SECRET_KEY }}").wait_for()
    shot("1-template-code-refused")

    body.fill(
        "Well done, {{first_name}}! <script>alert('x')</script>Awarded by {{issuer_name}} "
        "on **{{badge_name}}**.\n\nKeep swimming!"
    )
    page.get_by_role("button", name="Preview").click()
    frame = page.frame_locator('iframe[name="email-preview"]')
    frame.get_by_text("Awarded by Sample Issuer on").wait_for()
    assert "Lena, you earned Sample Badge: Teamwork" in frame.locator("body").inner_text()
    assert frame.locator("script").count() == 0
    assert frame.locator('img[alt="Lakeside Academy"]').count() == 1
    shot("2-editor-with-preview")

    page.get_by_role("button", name="Send me a test").click()
    page.get_by_text("A test email is on its way").wait_for()
    assert mail.outbox[-1].subject == "[Test] Lena, you earned Sample Badge: Teamwork"
    page.get_by_role("button", name="Save").click()
    page.get_by_text("The badge issue email is saved.").wait_for()

    # Now the real thing: a badge issued to a member.
    recipient = add_member(space, UserFactory(first_name="Rosa", last_name="Reed"))
    badge = make_badge(space, name="Lifeguard Level 2")
    mail.outbox.clear()
    awards_issue(
        access=Access.system(badge.space),
        badge=badge,
        achieved_at=timezone.now() - timedelta(hours=1),
        recipients=[RecipientInput(user=recipient)],
    )
    (message,) = mail.outbox
    assert message.subject == "Rosa, you earned Lifeguard Level 2"
    assert "Well done, Rosa! Awarded by Acme Learning on **Lifeguard Level 2**." in message.body
    html = message.alternatives[0][0]
    assert "<strong>Lifeguard Level 2</strong>" in html and "<script" not in html
    assert f"background:{NAV_BG}" in html and f"background:{ACCENT}" in html
    assert f'<img src="{live_server.url}/media/branding/' in html
    # As a mail client shows it: a document of its own, outside the app's pages and policy.
    page.route(
        "**/received-email", lambda route: route.fulfill(body=html, content_type="text/html")
    )
    page.goto("/received-email")
    assert page.locator("img").first.evaluate("i => i.naturalWidth") == 280
    shot("3-badge-email-as-received")


def test_landing_page_on_white_label_and_refused_on_free(
    page, lena, tmp_path, shot, browser, live_server, request
):
    admin, space = lena
    sign_in(page, "lena")
    menu = page.get_by_role("complementary", name="Main menu")
    open_menu_section(menu, "System settings")
    menu.get_by_role("link", name="Landing page").click()
    page.get_by_text("part of the White-label plan").wait_for()
    assert page.get_by_label("Heading").count() == 0
    shot("1-free-plan-explained")
    # And refused server-side: a crafted POST gets 403 and changes nothing.
    response = page.request.post(
        f"/s/{space.slug}/settings/landing-page/",
        form={"enabled": "on", "heading": "Sneaky"},
        headers={"X-CSRFToken": csrf_token(page), "Referer": page.url},
    )
    assert response.status == 403
    visitor = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    anonymous = visitor.new_page()
    anonymous.goto(f"/s/{space.slug}/")
    anonymous.get_by_role("heading", name="Sign in").wait_for()

    put_on_plan(space, "white-label")
    # The space's look (set through the Branding page in the first test) frames the page.
    branding_set_colours(actor=admin, space=space, nav_bg=NAV_BG, nav_text=NAV_TEXT, accent=ACCENT)
    with open(
        make_png(tmp_path / "logo.png", (280, 60), NAV_BG, "Lakeside Academy", 26), "rb"
    ) as f:
        branding_set_image(actor=admin, space=space, which="logo", image=process_image(f))
    page.reload()
    page.get_by_label("Heading").fill("Lakeside Badges")
    page.get_by_label("Text").fill(
        "Every swimmer, lifeguard and coach at **Lakeside** earns badges that anyone can "
        "check.\n\n<script>alert(1)</script>"
    )
    page.get_by_label("Hero image").set_input_files(
        make_png(tmp_path / "hero.png", (1600, 500), "#1d6f8c", "Lakeside Aquatics Centre", 72)
    )
    page.get_by_label("Show this landing page at the space's address").check()
    page.get_by_role("button", name="Save landing page").click()
    page.get_by_text("The landing page is saved and public.").wait_for()
    shot("2-landing-settings")

    anonymous.goto(f"/s/{space.slug}/")
    anonymous.get_by_role("heading", name="Lakeside Badges").wait_for()
    assert anonymous.locator(".landing-text strong").inner_text() == "Lakeside"
    assert anonymous.locator(".landing-text script").count() == 0
    assert anonymous.locator(".landing-hero-image").evaluate("i => i.naturalWidth") == 1600
    expect(anonymous.locator(".landing-top")).to_have_css("background-color", rgb(NAV_BG))
    assert anonymous.get_by_role("img", name="Lakeside Academy").is_visible()
    anonymous.screenshot(path=str(ARTIFACTS / f"{request.node.name}-3-public.png"), full_page=True)
    anonymous.get_by_role("link", name="Sign in").first.click()
    anonymous.get_by_role("heading", name="Sign in").wait_for()
    assert "next=%2Fs%2Flakeside%2Fdashboard%2F" in anonymous.url
    visitor.close()
