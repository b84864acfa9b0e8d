"""The main pages at a laptop's 1280×720 and a phone's 390×844: nothing scrolls sideways on
a phone, the side menu reaches its last entry on a short window, and the sign-in card's
frame stays clear of the logo. The laptop pictures are the gallery (docs/screenshots/):
`SCREENSHOT_DIR=docs/screenshots pytest -m browser tests/browser/test_layout.py` redraws it."""

from datetime import timedelta

import pytest
from django.utils import timezone

from badges import links
from tests.factories import (
    PASSWORD,
    UserFactory,
    add_member,
    build_tree,
    make_award,
    make_award_at,
    make_badge,
    make_space,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1280, "height": 720}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def showcase(db):
    admin = UserFactory(username="ada", first_name="Ada", last_name="Lovelace")
    space = make_space("Lakeside Academy", "lakeside", admin=admin)
    tree = build_tree(space)
    people = [
        add_member(space, UserFactory(first_name=first, last_name=last), organisation=org)
        for first, last, org in [
            ("Grace", "Hopper", tree["dept"]),
            ("Alan", "Turing", tree["team"]),
            ("Mara", "Okafor", tree["sibling"]),
        ]
    ]
    badge = make_badge(space, name="Python Fundamentals", organisation=tree["dept"])
    make_badge(space, name="Lifeguard Level 2", organisation=tree["sibling"])
    now = timezone.now()
    for i in range(24):
        make_award_at(badge, people[i % 3], now - timedelta(days=5 + 9 * i))
    award = make_award(space, badge=make_badge(space, name="Team Captain"), recipient=admin)
    award.is_public = True
    award.save()
    return space, badge, award


def sign_in(page, username="ada"):
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/dashboard/")


def pages(space, badge, award):
    s = f"/s/{space.slug}"
    return {
        "dashboard": f"{s}/dashboard/",
        "tree": f"{s}/organisations/",
        "badge-editor": f"{s}/badges/{badge.pk}/edit/",
        "issue": f"{s}/issuing/badges/{badge.pk}/",
        "backpack": "/backpack/",
        "public-badge": links.assertion_url(award),
        "reports": f"{s}/reports/",
        "branding": f"{s}/settings/branding/",
        "people": f"{s}/users/",
        "roles": f"{s}/settings/roles/",
        "emails": f"{s}/settings/emails/",
        "api-keys": f"{s}/settings/api-keys/",
    }


def overflow(page) -> int:
    """How many pixels the page scrolls sideways (0 when it fits)."""
    return page.evaluate("() => document.scrollingElement.scrollWidth - window.innerWidth")


def test_main_pages_fit_a_phone_and_a_laptop(page, showcase, screenshots):
    space, badge, award = showcase
    page.set_viewport_size(LAPTOP)
    page.goto("/accounts/login/")
    page.screenshot(path=str(screenshots / "sign-in.png"))
    sign_in(page)
    wide = {}
    for name, url in pages(space, badge, award).items():
        page.set_viewport_size(PHONE)
        page.goto(url)
        page.wait_for_load_state("networkidle")
        wide[name] = overflow(page)
        page.set_viewport_size(LAPTOP)
        page.wait_for_timeout(100)
        page.screenshot(path=str(screenshots / f"{name}.png"))
    assert {name: px for name, px in wide.items() if px > 0} == {}


def test_the_side_menu_reaches_its_last_entry_on_a_short_window(page, showcase):
    page.set_viewport_size({"width": 1280, "height": 600})
    sign_in(page)
    menu = page.get_by_role("complementary", name="Main menu")
    last = menu.get_by_role("link").last
    last.scroll_into_view_if_needed()
    box = last.bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 600
    assert menu.evaluate("m => getComputedStyle(m).overflowY") in ("auto", "scroll")


def test_the_sign_in_card_frame_does_not_cross_the_logo(page):
    """The account pages' panel (logo, card, links) has no frame of its own: the issuing
    page's bordered `details.panel` rule once drew one through the logo."""
    page.set_viewport_size(LAPTOP)
    page.goto("/accounts/login/")
    panel = page.locator(".auth .panel")
    assert panel.evaluate("p => getComputedStyle(p).borderTopWidth") == "0px"
    logo = page.locator(".auth .logo").bounding_box()
    card = page.locator(".auth .card").bounding_box()
    assert logo is not None and card is not None
    assert logo["y"] + logo["height"] <= card["y"]  # above the card's frame, not across it
