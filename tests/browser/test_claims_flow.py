"""Claim links and applications, walked as the people who use them: an issuer makes a claim
link and prints its poster; a visitor claims through it, confirms from the emailed link, sets a
password and finds the badge in their backpack. A person applies with a file; a reviewer
approves it from the queue and the applicant has the badge, with the evidence."""

import io
import re

import pytest

from badgeplatform.models import OutboundEmail
from badges.models import Application, Award, ClaimLink
from tests.browser.test_issuing_flow import sign_in
from tests.factories import UserFactory, add_member, make_badge, make_space

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    admin = UserFactory(username="irene", first_name="Irene", last_name="Issuer")
    space = make_space("Lakeside Academy", "lakeside", admin=admin)
    badge = make_badge(space, name="Open Day Explorer")
    return {"space": space, "badge": badge, "admin": admin}


def path_in(text: str, pattern: str) -> str:
    return re.search(r"https?://[^/\s]+(" + pattern + r")", text).group(1)


def shot(other_page, screenshots, name: str) -> None:
    """A screenshot of a second person's page (the `screenshot` fixture takes the issuer's)."""
    other_page.screenshot(path=str(screenshots / f"claims-{name}.png"), full_page=True)


def test_a_visitor_claims_through_a_link(
    page, world, screenshot, screenshots, browser, live_server
):
    space, badge = world["space"], world["badge"]
    sign_in(page, "irene")
    page.goto(f"/s/{space.slug}/issuing/badges/{badge.pk}/")
    page.get_by_role("link", name="Claim links and applications").click()
    page.get_by_label("Label").fill("Open day 2026")
    page.get_by_label("Code").fill("ORCA")
    page.get_by_label("Limit of claims").fill("50")
    page.get_by_label("Email domains allowed").fill("example.edu")
    screenshot("1-new-link")
    page.get_by_role("button", name="Create the link").click()
    page.get_by_text("The claim link is ready").wait_for()
    screenshot("2-link")
    link = ClaimLink.objects.get()
    assert page.locator(".qr svg").is_visible()
    page.get_by_role("link", name="Printable poster").click()
    page.get_by_role("heading", name="Open Day Explorer").wait_for()
    assert page.get_by_text("Code: ORCA").is_visible()
    screenshot("3-poster")
    page.emulate_media(media="print")
    screenshot("4-poster-print")

    # A visitor, in a browser of their own, scans the poster.
    visitor = browser.new_context(base_url=live_server.url, viewport={"width": 420, "height": 860})
    v = visitor.new_page()
    v.set_default_timeout(20_000)
    v.goto(f"/c/{link.token}")
    v.get_by_role("heading", name="Open Day Explorer").wait_for()
    shot(v, screenshots, "5-claim-page-phone")
    v.get_by_label("Your email address").fill("ada@gmail.com")
    v.get_by_label("First name").fill("Ada")
    v.get_by_label("Last name").fill("Lovelace")
    v.get_by_label("Code").fill("orca")
    v.get_by_role("button", name="Email me the link").click()
    v.get_by_text("Use an address at example.edu.").wait_for()  # the domain allow-list
    v.get_by_label("Your email address").fill("ada@cs.example.edu")
    v.get_by_role("button", name="Email me the link").click()
    v.get_by_role("heading", name="Check your email").wait_for()
    assert not Award.objects.exists()

    email = OutboundEmail.objects.get(kind="claim_confirm")
    v.goto(path_in(email.body_text, r"/c/confirm/\S+/"))
    v.get_by_role("button", name="Get my badge").click()
    v.get_by_role("heading", name="The badge is yours").wait_for()
    shot(v, screenshots, "6-done-phone")
    v.get_by_role("link", name="Choose a password").click()
    v.get_by_label("New password").fill("a-long-new-passphrase-7")
    v.get_by_label("Confirm the password").fill("a-long-new-passphrase-7")
    v.get_by_role("button", name="Save password and continue").click()
    v.goto("/backpack/")
    v.get_by_text("Open Day Explorer").first.wait_for()
    award = Award.objects.get()
    assert award.recipient.email == "ada@cs.example.edu"
    visitor.close()

    link.refresh_from_db()
    assert (link.claimed, link.views) == (1, 1)
    page.emulate_media(media="screen")
    page.goto(f"/s/{space.slug}/claim-links/{link.pk}/")
    assert page.get_by_text("1 of 50").is_visible()


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_reviewer_approves_an_application(
    page, world, screenshot, screenshots, browser, live_server
):
    space, badge = world["space"], world["badge"]
    badge.accepts_applications = True
    badge.application_instructions = "Tell us which three stands you visited."
    badge.save()
    applicant = add_member(
        space, UserFactory(username="ben", first_name="Ben", last_name="Applicant")
    )
    other = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 860})
    a = other.new_page()
    a.set_default_timeout(20_000)
    sign_in(a, "ben")
    a.goto(f"/apply/{badge.public_id}/")
    a.get_by_text("Tell us which three stands you visited.").wait_for()
    a.get_by_label("What you did").fill("Robotics, the library and the climbing wall.")
    a.get_by_label("A link to your work").fill("https://example.test/my-day")
    a.get_by_label("A file").set_input_files(
        {"name": "stamps.pdf", "mimeType": "application/pdf", "buffer": pdf_bytes()}
    )
    shot(a, screenshots, "7-apply-page")
    a.get_by_role("button", name="Send my application").click()
    a.get_by_role("heading", name="Application sent").wait_for()

    sign_in(page, "irene")
    page.goto(f"/s/{space.slug}/dashboard/")
    page.get_by_role("link", name="Review applications").click()
    page.get_by_role("heading", name="Applications").wait_for()
    screenshot("1-queue")
    page.get_by_role("link", name=re.compile("Review")).last.click()
    page.get_by_text("Robotics, the library and the climbing wall.").wait_for()
    assert page.get_by_role("link", name="Download stamps.pdf").is_visible()
    screenshot("2-application")
    page.get_by_role("button", name="Approve and award the badge").click()
    page.get_by_text(f"Approved: {applicant.email} has the badge.").wait_for()
    application = Application.objects.get()
    assert application.status == "approved"
    award = Award.objects.get(recipient=applicant)
    assert [e.get("name") for e in award.evidence] == [
        "Application",
        "Link from the application",
        "stamps.pdf",
    ]

    a.goto("/backpack/applications/")
    a.get_by_text("Approved").wait_for()
    shot(a, screenshots, "7-applicant-backpack")
    a.get_by_role("link", name="See the badge").click()
    a.get_by_text("stamps.pdf").first.wait_for()
    other.close()
