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


def designed_graphic(space, name, shape, background, line1, line2):
    """A graphic drawn by the badge designer, so the pictures show real badges."""
    from django.core.files.base import ContentFile

    from badges.designer import Design, render_badge
    from badges.models import Graphic

    design = Design(shape, background, "#ffffff", "#ffffff", line1, line2)
    graphic = Graphic(space=space, name=name, source=Graphic.Source.UPLOAD, width=600, height=600)
    graphic.image.save(f"{name}.png", ContentFile(render_badge(design)), save=False)
    graphic.save()
    return graphic


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
    badge = make_badge(
        space,
        name="Python Fundamentals",
        organisation=tree["dept"],
        graphic=designed_graphic(space, "python", "hexagon", "#1f5bbf", "PYTHON", "FUNDAMENTALS"),
    )
    make_badge(
        space,
        name="Lifeguard Level 2",
        organisation=tree["sibling"],
        graphic=designed_graphic(space, "lifeguard", "circle", "#b42318", "LIFEGUARD", "LEVEL 2"),
    )
    now = timezone.now()
    for i in range(24):
        make_award_at(badge, people[i % 3], now - timedelta(days=5 + 9 * i))
    captain = make_badge(
        space,
        name="Team Captain",
        description="Led a team of swimmers through a whole competition season.",
        criteria_text="Captain a squad for a season and complete the coaching module.",
        graphic=designed_graphic(space, "captain", "shield", "#157347", "TEAM", "CAPTAIN"),
    )
    award = make_award(space, badge=captain, recipient=admin)
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
        "reports": f"{s}/reports/?period=all&show=month",
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


FITS = """sel => {
  // The widest option's text, in the select's own font, against the room the select gives it.
  const probe = document.createElement('span');
  probe.style.font = getComputedStyle(sel).font;
  probe.style.position = 'absolute';
  probe.style.whiteSpace = 'pre';
  document.body.appendChild(probe);
  let widest = 0;
  for (const option of sel.options) {
    probe.textContent = option.textContent;
    widest = Math.max(widest, probe.getBoundingClientRect().width);
  }
  probe.remove();
  const style = getComputedStyle(sel);
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  const room = sel.clientWidth - padding - 20;  // the arrow
  return [Math.round(widest), Math.round(room)];
}"""


def test_the_people_filters_and_bulk_group_select_show_whole_names(page, showcase):
    space, _, _ = showcase
    page.set_viewport_size(LAPTOP)
    sign_in(page)
    page.goto(f"/s/{space.slug}/users/")
    page.get_by_label("Action").select_option("add_to_group")
    selects = [
        page.locator(".filters").get_by_label("Organisation"),
        page.locator(".filters").get_by_label("Include"),
        page.locator(".bulk-bar").get_by_label("Group", exact=True),
    ]
    for select in selects:
        widest, room = select.evaluate(FITS)
        assert widest <= room, (select, widest, room)
