"""A badge creator, in a browser: an issuer, a graphic drawn with the designer, a badge left
as a draft and finished later, published, withdrawn and published again."""

import base64
import io
import shutil

import pytest
from PIL import Image

from badges.models import Badge, BadgeEvent, Graphic
from issuers.models import Issuer
from tests.browser.conftest import ARTIFACTS
from tests.factories import PASSWORD, UserFactory, add_member, make_space

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def icon_png() -> bytes:
    """A white star-ish glyph on transparency, as a creator's icon file would be."""
    im = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    from PIL import ImageDraw

    ImageDraw.Draw(im).polygon(
        [(100, 10), (125, 75), (195, 75), (140, 118), (160, 190), (100, 148), (40, 190),
         (60, 118), (5, 75), (75, 75)],
        fill=(255, 255, 255, 255),
    )  # fmt: skip
    out = io.BytesIO()
    im.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def creator(db):
    """A Badge Creator on the root of a fresh space: no graphic, no issuer, no badge yet."""
    owner = UserFactory(username="owner")
    space = make_space("Lakeside Academy", "lakeside", admin=owner)
    user = UserFactory(username="cara", first_name="Cara", last_name="Creator")
    add_member(space, user, role_name="Badge Creator")
    return space, user


def sign_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("Email or username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Welcome").wait_for()


def menu(page, label: str) -> None:
    page.get_by_role("complementary", name="Main menu").get_by_role("link", name=label).click()


def is_preview(response) -> bool:
    return "/graphics/new/design/" in response.url and response.request.method == "POST"


def active_tab(page, label: str) -> None:
    page.locator(".tabs .tab.active", has_text=label).wait_for()


def test_design_draft_return_publish_withdraw_republish(page, creator, screenshot):
    space, user = creator
    sign_in(page, "cara")

    # --- An issuer, with a logo, through 'Preparing Badges' → 'Issuers'.
    menu(page, "Issuers")
    page.get_by_role("link", name="New issuer").first.click()
    page.get_by_label("Issuer name").fill("Lakeside Academy Badges")
    page.get_by_label("Website address").fill("https://lakeside.example")
    page.get_by_label("Contact email").fill("badges@lakeside.example")
    page.get_by_label("Brief description").fill("Recognises learning at Lakeside.")
    page.get_by_label("Logo").set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": icon_png()}
    )
    page.get_by_role("button", name="Create issuer").click()
    page.get_by_text("Issuer “Lakeside Academy Badges” created.").wait_for()
    issuer = Issuer.objects.get(space=space)
    assert issuer.current.logo.name.startswith("issuers/")

    # --- The first badge: the library is empty, so the editor leads to the designer.
    menu(page, "Managing Badges")
    page.get_by_role("link", name="Create your first badge").click()
    page.get_by_label("Name").fill("Data Wrangler")
    page.get_by_label("Description").fill("Cleans, joins and documents real data sets.")
    screenshot("1-new-badge-details")
    page.get_by_role("button", name="Graphics", exact=True).click()  # saves the draft
    active_tab(page, "Graphics")
    badge = Badge.objects.get(space=space)
    assert (badge.name, badge.state) == ("Data Wrangler", "draft")
    assert page.get_by_role("heading", name="Your library has no graphics yet").is_visible()
    screenshot("2-no-graphics-yet")
    page.get_by_role("button", name="Save and design a graphic").click()

    # --- The designer: every change redraws the preview (htmx).
    page.get_by_role("heading", name="Design a graphic").wait_for()
    assert page.get_by_text("it becomes the graphic of “Data Wrangler”").is_visible()
    preview = page.locator("#preview img")
    first = preview.get_attribute("src")
    with page.expect_response(is_preview):
        page.get_by_label("Hexagon").check()
    page.wait_for_function("src => document.querySelector('#preview img').src !== src", arg=first)
    page.locator("input[name=background]").fill("#0e7c66")
    page.locator("input[name=border]").fill("#f2c94c")
    page.get_by_label("First line").fill("Data Wrangler")
    page.get_by_label("Second line").fill("Level 1")
    with page.expect_response(is_preview):
        page.get_by_label("Icon in the middle").set_input_files(
            {"name": "star.png", "mimeType": "image/png", "buffer": icon_png()}
        )
    page.wait_for_load_state("networkidle")
    # The preview shows what the form says: the hexagon's green, not the default blue.
    shown = Image.open(io.BytesIO(base64.b64decode(preview.get_attribute("src").split(",")[1])))
    assert shown.size == (300, 300)
    assert shown.convert("RGB").getpixel((150, 60))[1] > 100  # green channel of #0e7c66
    screenshot("3-designer")
    page.get_by_role("button", name="Save graphic").click()

    # Back on the badge's graphic tab, with the new graphic chosen.
    active_tab(page, "Graphics")
    page.get_by_text("is now this badge's graphic").wait_for()
    graphic = Graphic.objects.get(space=space)
    assert graphic.source == "designer" and graphic.design["shape"] == "hexagon"
    assert graphic.design["line1"] == "Data Wrangler" and graphic.design["icon"]
    badge.refresh_from_db()
    assert badge.graphic == graphic
    assert page.locator(f"input[name=graphic][value='{graphic.pk}']").is_checked()
    rendered = Image.open(graphic.image.path)
    assert rendered.size == (600, 600) and rendered.mode == "RGBA"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(graphic.image.path, ARTIFACTS / "badge-authoring-designed-graphic.png")
    screenshot("4-graphic-chosen")

    # --- Leave mid-way: the summary says why it cannot be published yet.
    page.get_by_role("button", name="Save and close").click()
    page.get_by_role("heading", name="Data Wrangler").wait_for()
    warning = page.get_by_role("note")
    assert "Not ready to publish" in warning.inner_text()
    for missing in ("a language", "an issuer", "criteria (a URL or text)"):
        assert warning.get_by_role("link", name=missing).is_visible()
    assert page.get_by_role("button", name="Publish").count() == 0
    screenshot("5-draft-summary-not-ready")
    menu(page, "Dashboard")

    # --- Return later: find it in the list, finish it.
    menu(page, "Managing Badges")
    page.get_by_label("State").select_option("draft")
    page.locator("#badge-results").get_by_role("link", name="Data Wrangler").wait_for()
    page.locator("#badge-results").get_by_role("link", name="Data Wrangler").click()
    page.get_by_role("note").get_by_role("link", name="a language").click()
    active_tab(page, "Details")
    page.get_by_label("Language").select_option("en")
    page.get_by_label("Issuer").select_option(label="Lakeside Academy Badges")
    page.get_by_label("Expires after").fill("2")
    page.get_by_label("Unit").select_option("years")
    page.get_by_role("button", name="Criteria", exact=True).click()
    active_tab(page, "Criteria")
    page.get_by_label("Or write the criteria here").fill(
        "Submit **three** cleaned data sets, each with:\n\n- a data dictionary\n- a README"
    )
    page.get_by_role("button", name="Badge attributes", exact=True).click()
    active_tab(page, "Badge attributes")
    page.get_by_role("button", name="+ Add attribute").click()
    page.locator("input[name=key]").nth(0).fill("Credits")
    page.locator("input[name=value]").nth(0).fill("5")
    page.get_by_role("button", name="+ Add attribute").click()
    page.locator("input[name=key]").nth(1).wait_for()
    page.locator("input[name=key]").nth(1).fill("Typo")
    page.get_by_role("button", name="+ Add attribute").click()
    page.locator("input[name=key]").nth(2).wait_for()
    page.locator("input[name=key]").nth(2).fill("Level")
    page.locator("input[name=value]").nth(2).fill("Introductory")
    page.get_by_role("button", name="Remove attribute 2").click()
    page.wait_for_function("() => document.querySelectorAll('input[name=key]').length === 2")
    assert page.locator("input[name=key]").nth(0).input_value() == "Credits"
    assert page.locator("input[name=key]").nth(1).input_value() == "Level"
    page.get_by_role("button", name="Save draft").click()
    page.get_by_text("Draft saved.").wait_for()
    badge.refresh_from_db()
    assert badge.language == "en" and badge.issuer == issuer
    assert (badge.expiry_amount, badge.expiry_unit) == (2, "years")
    assert "**three**" in badge.criteria_text
    assert [(a.key, a.value) for a in badge.attributes.all()] == [
        ("Credits", "5"),
        ("Level", "Introductory"),
    ]
    status = page.get_by_role("complementary", name="Publication status")
    assert "Complete: it can be published." in status.inner_text()
    screenshot("6-complete-draft")

    # --- Publish, withdraw, publish again.
    status.get_by_role("button", name="Save and publish").click()
    page.get_by_text("is published: it can be issued now").wait_for()
    badge.refresh_from_db()
    assert badge.state == "published"
    criteria = page.locator(".prose")
    assert criteria.locator("strong", has_text="three").is_visible()
    assert criteria.locator("li").count() == 2
    uuid_text = page.locator("#badge-uuid").inner_text()
    assert uuid_text == str(badge.public_id)
    assert page.get_by_role("button", name="Copy").get_attribute("data-copy") == uuid_text
    screenshot("7-published-summary")

    page.get_by_text("Withdraw this badge…").click()
    page.get_by_label("Reason").fill("Course paused for a redesign.")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Withdraw", exact=True).click()
    page.get_by_text("can no longer be issued").first.wait_for()
    badge.refresh_from_db()
    assert badge.state == "withdrawn"
    screenshot("8-withdrawn")

    page.get_by_role("button", name="Publish again").click()
    page.get_by_text("is published again").wait_for()
    badge.refresh_from_db()
    assert badge.state == "published"
    history = page.locator("ol.history").inner_text()
    assert "Course paused for a redesign." in history and "Published again" in history
    actions = BadgeEvent.objects.filter(badge=badge).values_list("action", flat=True)
    assert [a for a in actions if a != "edited"] == [
        "published",
        "withdrawn",
        "published",
        "created",
    ]
    screenshot("9-published-again")
