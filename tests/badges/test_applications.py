"""Applications (issue 17): applying with evidence (text, link, file through the upload
checks), the reviewers' permission and queue, approving (the award carries the evidence) and
declining with a message emailed to the applicant; the applicant's own list."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from badgeplatform.access import load_access
from badgeplatform.models import AuditEntry, OutboundEmail
from badgeplatform.permissions import DEFAULT_ROLES, Perm
from badges import applications as service
from badges.models import Application, Award, IssueBatch
from tests.factories import (
    UserFactory,
    add_member,
    make_application,
    make_badge,
    png_bytes,
)

pytestmark = pytest.mark.django_db


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def badge(space_a):
    badge = make_badge(space_a, name="Data Wrangler")
    badge.accepts_applications = True
    badge.save()
    return badge


def apply_url(badge):
    return reverse("apply:badge", args=[badge.public_id])


def test_reviewing_is_a_permission_of_the_issuing_default_roles():
    assert Perm.REVIEW_APPLICATIONS in DEFAULT_ROLES["Badge Issuer"][1]
    assert Perm.REVIEW_APPLICATIONS in DEFAULT_ROLES["Organisation Administrator"][1]
    assert Perm.REVIEW_APPLICATIONS not in DEFAULT_ROLES["Reporter"][1]


def test_an_issuer_opens_a_badge_to_applications(client_a, space_a):
    badge = make_badge(space_a)
    assert client_a.get(apply_url(badge)).context["open"] is False
    response = client_a.post(
        reverse("claims:badge", args=[space_a.slug, badge.pk]),
        {
            "action": "applications",
            "accepts_applications": "on",
            "application_instructions": "Link your notebook.",
        },
    )
    assert response.status_code == 302
    badge.refresh_from_db()
    assert badge.accepts_applications and badge.application_instructions == "Link your notebook."
    assert AuditEntry.objects.filter(action="badge.applications").exists()
    assert b"Link your notebook." in client_a.get(apply_url(badge)).content


def test_a_visitor_applies_with_a_pdf_confirms_and_reaches_the_queue(client, space_a, badge):
    response = client.post(
        apply_url(badge),
        {
            "email": "ada@example.test",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "statement": "I cleaned the city's bus data.",
            "url": "https://example.test/notebook",
            "file": SimpleUploadedFile("report.pdf", pdf_bytes(), "application/pdf"),
        },
    )
    assert response.status_code == 200 and b"Check your email" in response.content
    application = Application.objects.get()
    assert application.status == Application.Status.UNVERIFIED
    assert application.evidence_file_type == "application/pdf"
    assert application.evidence_file.name.startswith("private/applications/")
    assert application.evidence_file_name == "report.pdf"
    email = OutboundEmail.objects.get(kind="application_confirm", to="ada@example.test")
    url = re.search(r"https?://\S+(/apply/confirm/\S+/)", email.body_text).group(1)
    assert client.get(url).status_code == 200
    application.refresh_from_db()
    assert application.status == Application.Status.UNVERIFIED  # GET changes nothing
    client.post(url)
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED and application.submitted_at
    # The file is not public media before approval.
    assert client.get(f"/media/{application.evidence_file.name}").status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"just text", "Upload a PDF, PNG or JPEG file."),
        ("fake.pdf", b"%PDF-1.7\nnot really", "The PDF is damaged or incomplete."),
        ("empty.png", b"", "file is empty."),
        ("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024), "limit"),
    ],
)
def test_evidence_files_are_checked(client, space_a, badge, name, content, message):
    client.force_login(add_member(space_a))
    response = client.post(
        apply_url(badge), {"statement": "x", "file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 422
    assert message in " ".join(response.context["form"].errors.get("file", []))
    assert not Application.objects.exists()


def test_an_image_is_re_encoded_by_the_image_pipeline(space_a, badge):
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    meta = PngInfo()
    meta.add_text("Comment", "where-i-live")
    sent = io.BytesIO()
    Image.new("RGB", (40, 40), "#123456").save(sent, "PNG", pnginfo=meta)
    application = make_application(
        space_a, badge=badge, upload=SimpleUploadedFile("photo.png", sent.getvalue())
    )
    assert application.evidence_file_type == "image/png"
    assert application.evidence_file.name.endswith(".png")
    stored = application.evidence_file.read()
    assert b"where-i-live" in sent.getvalue() and b"where-i-live" not in stored


def test_an_application_needs_some_evidence_and_an_open_badge(client, space_a, badge):
    client.force_login(add_member(space_a))
    empty = client.post(apply_url(badge), {"statement": " "})
    assert empty.status_code == 422 and b"Tell the reviewers" in empty.content
    bad_url = client.post(apply_url(badge), {"url": "javascript:alert(1)"})
    assert bad_url.status_code == 422 and "url" in bad_url.context["form"].errors
    badge.accepts_applications = False
    badge.save()
    closed = client.post(apply_url(badge), {"statement": "x"})
    assert b"does not take applications" in closed.content
    assert not Application.objects.exists()


def test_a_signed_in_applicant_goes_straight_to_the_reviewers(client, space_a, badge):
    person = add_member(space_a)
    client.force_login(person)
    client.post(apply_url(badge), {"statement": "Done it."})
    application = Application.objects.get()
    assert application.status == Application.Status.SUBMITTED
    assert (application.applicant, application.email) == (person, person.email)
    assert not OutboundEmail.objects.filter(kind="application_confirm").exists()


def test_approving_awards_the_badge_with_the_evidence(client_a, space_a, badge):
    application = make_application(
        space_a,
        badge=badge,
        statement="Cleaned the data.",
        url="https://example.test/nb",
        upload=SimpleUploadedFile("report.pdf", pdf_bytes(), "application/pdf"),
    )
    queue = client_a.get(reverse("applications:queue", args=[space_a.slug]))
    assert application.email in queue.content.decode()
    detail = reverse("applications:detail", args=[space_a.slug, application.pk])
    file = client_a.get(reverse("applications:file", args=[space_a.slug, application.pk]))
    assert file["Content-Type"] == "application/pdf" and file["X-Content-Type-Options"]
    assert b"".join(file.streaming_content).startswith(b"%PDF-")

    response = client_a.post(detail, {"action": "approve"})
    assert response.status_code == 302
    application.refresh_from_db()
    award = Award.objects.get(badge=badge)
    assert application.status == Application.Status.APPROVED and application.award == award
    assert award.source == IssueBatch.Source.APPLICATION
    assert award.evidence[0] == {"narrative": "Cleaned the data.", "name": "Application"}
    assert award.evidence[1]["url"] == "https://example.test/nb"
    public_file = award.evidence[2]["url"].split("://", 1)[1].split("/", 1)[1]
    served = client_a.get("/" + public_file)
    assert served.status_code == 200 and served["Content-Type"] == "application/pdf"
    assert AuditEntry.objects.filter(action="application.approve").exists()
    # Decided once: a second decision is refused with a message, nothing changes.
    again = client_a.post(detail, {"action": "decline", "message": "No."})
    assert again.status_code == 422 and b"already approved" in again.content


def test_declining_needs_a_message_and_emails_it(client_a, space_a, badge):
    application = make_application(space_a, badge=badge)
    detail = reverse("applications:detail", args=[space_a.slug, application.pk])
    empty = client_a.post(detail, {"action": "decline", "message": ""})
    assert empty.status_code == 422 and "message" in empty.context["form"].errors
    client_a.post(detail, {"action": "decline", "message": "Add the test results, please."})
    application.refresh_from_db()
    assert application.status == Application.Status.DECLINED
    email = OutboundEmail.objects.get(kind="application_declined")
    assert email.to == application.email
    assert "Add the test results, please." in email.body_text
    assert not Award.objects.exists()
    # The applicant sees the status and the message in their backpack.
    from django.test import Client

    applicant = Client()
    applicant.force_login(application.applicant)
    mine = applicant.get(reverse("backpack:applications")).content.decode()
    assert "Declined" in mine and "Add the test results, please." in mine


def test_reviewing_needs_the_permission_on_the_badges_organisation(space_a, badge):
    application = make_application(space_a, badge=badge)
    creator = add_member(space_a, role_name="Badge Creator")
    with pytest.raises(Exception, match="Review badge applications"):
        service.application_approve(
            access=load_access(space_a, creator), application=application, actor=creator
        )
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED


def test_the_queue_pins_its_queries(client_a, space_a, badge, django_assert_max_num_queries):
    for _ in range(3):
        make_application(space_a, badge=badge)
    with django_assert_max_num_queries(12):
        few = client_a.get(reverse("applications:queue", args=[space_a.slug]))
    for _ in range(10):
        make_application(space_a, badge=badge)
    with django_assert_max_num_queries(12):
        many = client_a.get(reverse("applications:queue", args=[space_a.slug]))
    assert few.status_code == many.status_code == 200


def test_an_unapproved_file_is_not_public(client, space_a, badge):
    application = make_application(
        space_a, badge=badge, upload=SimpleUploadedFile("p.png", png_bytes(), "image/png")
    )
    url = reverse("public:evidence_file", args=[application.public_id])
    assert client.get(url).status_code == 404


def test_a_stranger_does_not_see_anothers_applications(client, space_a, badge):
    make_application(space_a, badge=badge, statement="secret plan")
    client.force_login(UserFactory())
    assert b"secret plan" not in client.get(reverse("backpack:applications")).content


def test_the_backpack_lists_badges_open_to_applications_in_ones_spaces(
    client, space_a, space_b, badge, django_assert_max_num_queries
):
    elsewhere = make_badge(space_b, name="Other Space Badge")
    elsewhere.accepts_applications = True
    elsewhere.save()
    make_badge(space_a, name="Closed Badge")
    person = add_member(space_a)
    for _ in range(3):
        make_application(space_a, badge=badge, applicant=person)
    client.force_login(person)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("backpack:applications"))
    html = page.content.decode()
    assert "Badges you can apply for" in html and apply_url(badge) in html
    assert "Other Space Badge" not in html and "Closed Badge" not in html
    assert html.count("Waiting for review") == 3


def test_confirmation_emails_to_one_address_are_capped(client, space_a, badge):
    data = {"email": "x@example.test", "first_name": "X", "last_name": "Y", "statement": "s"}
    for _ in range(5):
        assert client.post(apply_url(badge), data).status_code == 200
    throttled = client.post(apply_url(badge), data)
    assert throttled.status_code == 429 and throttled["Retry-After"]
    assert OutboundEmail.objects.filter(kind="application_confirm").count() == 5


def test_a_declined_or_revoked_awards_file_is_no_longer_public(client, space_a, badge, admin_a):
    from badges.awards import award_revoke

    application = service.application_approve(
        access=load_access(space_a, admin_a),
        application=make_application(
            space_a, badge=badge, upload=SimpleUploadedFile("p.png", png_bytes(), "image/png")
        ),
        actor=admin_a,
    )
    url = reverse("public:evidence_file", args=[application.public_id])
    assert client.get(url).status_code == 200
    award_revoke(
        access=load_access(space_a, admin_a),
        award=application.award,
        reason="Mistake.",
        actor=admin_a,
    )
    assert client.get(url).status_code == 404


def test_only_badges_at_or_above_ones_places_are_listed(client, space_a):
    from tests.factories import OrganisationFactory

    science = OrganisationFactory(space=space_a, name="Science")
    physics = OrganisationFactory(space=space_a, parent=science, name="Physics")
    arts = OrganisationFactory(space=space_a, name="Arts")
    for org in (science, physics, arts):
        org.refresh_from_db()
    for org, name in ((space_a.root_organisation, "Whole"), (science, "Sci"), (arts, "Art")):
        make_badge(space_a, organisation=org, name=name, accepts_applications=True)
    person = add_member(space_a, organisation=physics)
    names = [b.name for b in service.badges_open_to(person)]
    assert names == ["Sci", "Whole"]
