"""An issuer suspends an award from its page (reason, confirm), the public page says
suspended, reinstates it, then suspends and revokes several from the awards list at once; the
recipient downloads the certificate from their backpack."""

import re
from pathlib import Path

import pytest

from badges import links
from badges.models import Award
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_issuing_flow import sign_in
from tests.factories import UserFactory, add_member, make_award, make_badge, make_space

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    admin = UserFactory(username="irene", first_name="Irene", last_name="Issuer")
    space = make_space("Lakeside Academy", "lakeside", admin=admin)
    badge = make_badge(space, name="First Aid at Work", expiry_amount=3, expiry_unit="years")
    people = [
        add_member(space, UserFactory(username=f"p{i}", first_name=name, last_name="Learner"))
        for i, name in enumerate(["Ana", "Ben", "Cleo"])
    ]
    awards = [make_award(space, badge=badge, recipient=p) for p in people]
    return {"space": space, "badge": badge, "awards": awards, "people": people}


def test_suspend_reinstate_and_bulk_revoke(page, world, screenshot, live_server):
    space, first = world["space"], world["awards"][0]
    page.on("dialog", lambda dialog: dialog.accept())  # the confirm step
    sign_in(page, "irene")
    page.goto(f"/s/{space.slug}/issuing/awards/{first.pk}/")
    page.get_by_role("heading", name="Suspend or revoke this award").wait_for()
    # No reason: the form says so beside the field (422), nothing changes.
    page.get_by_role("button", name="Suspend award").click()
    page.get_by_text("Give a reason").first.wait_for()
    screenshot("1-reason-needed")
    page.get_by_label("Reason").fill("Certificate under review after a complaint")
    page.get_by_role("button", name="Suspend award").click()
    page.get_by_text("is suspended").first.wait_for()
    assert page.get_by_role("alert").filter(has_text="Suspended since").is_visible()
    screenshot("2-suspended")
    first.refresh_from_db()
    assert first.status == "suspended"

    # Anyone verifying it is told it is suspended.
    public = page.context.new_page()
    public.goto(links.assertion_url(first).removeprefix(links._url("")))
    public.get_by_role("heading", name=re.compile("Suspended since")).wait_for()
    assert public.get_by_text("Certificate under review after a complaint").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    public.screenshot(path=str(ARTIFACTS / "award-status-3-public-suspended.png"), full_page=True)
    public.close()

    page.get_by_role("button", name="Reinstate award").click()
    page.get_by_text("is reinstated").first.wait_for()
    first.refresh_from_db()
    assert first.status == "active"

    # Bulk: select two, suspend them; then all three, revoke.
    page.goto(f"/s/{space.slug}/issuing/awards/")
    page.get_by_label("Select the award to Ana Learner").check()
    page.get_by_label("Select the award to Ben Learner").check()
    page.get_by_label("With the selected awards").select_option("suspend")
    page.get_by_label(re.compile("^Reason")).fill("Annual audit")
    screenshot("4-bulk-selected")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("2 awards suspended.").wait_for()
    screenshot("5-bulk-suspended")
    assert Award.objects.with_status("suspended").count() == 2
    for name in ("Ana", "Ben", "Cleo"):
        page.get_by_label(f"Select the award to {name} Learner").check()
    page.get_by_label("With the selected awards").select_option("revoke")
    page.get_by_label(re.compile("^Reason")).fill("Course withdrawn")
    page.get_by_role("button", name="Apply").click()
    page.get_by_text("3 awards revoked.").wait_for()
    screenshot("6-bulk-revoked")
    assert Award.objects.with_status("revoked").count() == 3


def test_the_recipient_downloads_the_certificate(page, world, screenshot):
    award = world["awards"][2]
    sign_in(page, "p2")
    page.goto(f"/backpack/{award.public_id}/")
    button = page.get_by_role("link", name="Download the certificate (PDF, A4)")
    button.wait_for()
    screenshot("backpack")
    with page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == f"certificate-{award.public_id}.pdf"
    assert Path(download.path()).read_bytes()[:5] == b"%PDF-"
