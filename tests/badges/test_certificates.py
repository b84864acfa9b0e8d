"""The printable PDF certificate: opened with pypdf (text and link checked), its QR code's
modules compared with segno's matrix for the verification URL, A4 and Letter, 410 once
revoked, branding, and a PNG of the first page (pypdfium2) for people to look at."""

import io
import re
from datetime import timedelta

import pypdf
import pytest
import segno
from django.utils import timezone

from badgeplatform.access import Access
from badges import certificates, links
from badges.awards import award_suspend
from badges.models import Award, Badge
from tests.factories import (
    add_member,
    make_award,
    make_badge,
    png_bytes,
    put_on_plan,
    revoke_award,
)

pytestmark = pytest.mark.django_db

A4_LANDSCAPE = (841.89, 595.28)
LETTER_LANDSCAPE = (792.0, 612.0)


def cert_path(award, query: str = "") -> str:
    return links.certificate_url(award).removeprefix(links._url("")) + query


@pytest.fixture
def award(space_a):
    person = add_member(space_a)
    person.first_name, person.last_name = "Zoë", "Ångström-Núñez"
    person.save()
    badge = make_badge(space_a, name="Data Stewardship", expiry_amount=2, expiry_unit="years")
    award = make_award(space_a, badge=badge, recipient=person)
    # The recipient shows their name publicly (awards are private by default: see
    # test_a_private_awards_certificate_names_its_recipient_only_to_them).
    Award.objects.filter(pk=award.pk).update(is_public=True)
    award.is_public = True
    return award


def pdf_of(response) -> pypdf.PdfReader:
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"] == "application/pdf"
    return pypdf.PdfReader(io.BytesIO(response.content))


def page_text(reader) -> str:
    return " ".join(reader.pages[0].extract_text().split())


def test_the_certificate_names_recipient_badge_issuer_dates_and_links_to_verification(
    client, award
):
    reader = pdf_of(client.get(cert_path(award)))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width), 2), round(float(box.height), 2)) == A4_LANDSCAPE
    text = page_text(reader)
    issued = timezone.localtime(award.issued_at).strftime("%-d %B %Y")
    expires = timezone.localtime(award.expires_at).strftime("%-d %B %Y")
    assert "Zoë Ångström-Núñez" in text
    assert "Data Stewardship" in text
    assert f"Issued by {award.issuer_version.name} on {issued}" in text
    assert f"Valid until {expires}" in text
    verify = links.assertion_url(award)
    assert verify in text
    # The QR code is also a link to the verification page.
    uris = [
        a.get_object()["/A"]["/URI"] for a in reader.pages[0].get("/Annots", []) if a.get_object()
    ]
    assert uris == [verify]
    assert reader.metadata.title == "Data Stewardship — Zoë Ångström-Núñez"


def test_the_qr_code_drawn_is_segnos_code_of_the_verification_url(client, award):
    """The QR's dark modules are drawn as one path of squares: count and place them from the
    content stream and compare with segno's matrix for the URL."""
    reader = pdf_of(client.get(cert_path(award)))
    stream = reader.pages[0].get_contents().get_data().decode("latin-1")
    squares = re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+) re", stream)
    matrix = segno.make(links.assertion_url(award), error="m", micro=False).matrix
    size = len(matrix) + 8
    module_side = 96 / size
    modules = [s for s in squares if abs(float(s[2]) - module_side) < 0.01]
    assert len(modules) == sum(sum(1 for v in row if v) for row in matrix)
    x0 = min(float(s[0]) for s in modules) - 4 * module_side
    top = max(float(s[1]) for s in modules) + module_side + 4 * module_side
    drawn = {
        (round((top - float(s[1])) / module_side) - 5, round((float(s[0]) - x0) / module_side) - 4)
        for s in modules
    }
    want = {(r, c) for r, row in enumerate(matrix) for c, v in enumerate(row) if v}
    assert drawn == want


def test_letter_size_and_bad_size(client, award):
    reader = pdf_of(client.get(cert_path(award, "?size=letter")))
    box = reader.pages[0].mediabox
    assert (float(box.width), float(box.height)) == LETTER_LANDSCAPE
    assert client.get(cert_path(award, "?size=a5")).status_code == 400


def test_no_certificate_once_revoked_or_while_suspended(client, award, space_a):
    award_suspend(access=Access.system(space_a), award=award, actor=None, reason="Hold")
    assert client.get(cert_path(award)).status_code == 410
    Award.objects.filter(pk=award.pk).update(suspended_at=None)
    assert client.get(cert_path(award)).status_code == 200
    revoke_award(award)
    response = client.get(cert_path(award))
    assert response.status_code == 410 and b"revoked" in response.content
    assert client.get("/public/assertions/" + "1" * 32 + "/certificate.pdf").status_code == 404
    Award.objects.filter(pk=award.pk).update(revoked_at=None, declined_at=timezone.now())
    # Declined by the recipient: gone like every public URL of the award (issue 17).
    response = client.get(cert_path(award))
    assert response.status_code == 410 and response.content == b"This award is not available."


def test_a_private_awards_certificate_names_its_recipient_only_to_them(client, award):
    """Private (the default): anyone with the link gets the certificate without the name,
    as the public page shows the award; the recipient signed in gets their own in full."""
    Award.objects.filter(pk=award.pk).update(is_public=False)
    anonymous = client.get(cert_path(award))
    reader = pdf_of(anonymous)
    text = page_text(reader)
    assert "Zoë" not in text and "Ångström" not in text
    assert award.recipient_email not in text
    assert certificates.NAME_KEPT_PRIVATE in text and "Data Stewardship" in text
    assert reader.metadata.title == "Data Stewardship"
    assert "Zoë" not in str(reader.metadata) and "private" in anonymous["Cache-Control"]
    assert "Cookie" in anonymous["Vary"]
    # Letter size and every design too.
    assert "Zoë" not in page_text(pdf_of(client.get(cert_path(award, "?size=letter"))))
    for design in certificates.DESIGNS:
        Badge.objects.filter(pk=award.badge_id).update(certificate_design=design)
        assert "Zoë" not in page_text(pdf_of(client.get(cert_path(award))))

    someone_else = add_member(award.space)
    client.force_login(someone_else)
    assert "Zoë" not in page_text(pdf_of(client.get(cert_path(award))))
    client.force_login(award.recipient)
    own = client.get(cert_path(award))
    assert "Zoë Ångström-Núñez" in page_text(pdf_of(own))
    assert own["Cache-Control"] == "private, no-cache"


def test_a_public_award_without_a_name_never_prints_the_email(client, space_a):
    person = add_member(space_a)
    person.first_name = person.last_name = ""
    person.save()
    award = make_award(space_a, recipient=person)
    Award.objects.filter(pk=award.pk).update(is_public=True)
    text = page_text(pdf_of(client.get(cert_path(award))))
    assert person.email not in text and certificates.NAME_KEPT_PRIVATE in text
    client.force_login(person)
    assert person.email in page_text(pdf_of(client.get(cert_path(award))))


def test_evidence_is_summarised_when_the_award_has_some(award):
    award.evidence = [
        {"name": "Capstone project", "url": "https://example.org/p"},
        {"narrative": "Led the  data   audit of 2026."},
    ]
    reader = pypdf.PdfReader(io.BytesIO(certificates.certificate_pdf(award)))
    text = page_text(reader)
    assert "Evidence" in text and "Capstone project" in text
    assert "Led the data audit of 2026." in text


def test_no_evidence_no_section_and_a_badge_that_never_expires(client, space_a):
    award = make_award(space_a)
    text = page_text(pdf_of(client.get(cert_path(award))))
    assert "Evidence" not in text and "Does not expire" in text


def test_the_spaces_colours_and_its_logo_on_a_plan_with_a_logo(client, award, space_a):
    from django.core.files.base import ContentFile

    from branding.models import SpaceBranding

    branding = SpaceBranding(space=space_a, accent="#aa3311", nav_bg="#112233")
    branding.logo.save("logo.png", ContentFile(png_bytes(80, "#ff0000")), save=False)
    branding.save()

    def images_and_stream(response):
        page = pdf_of(response).pages[0]
        images = len(page["/Resources"].get("/XObject", {}))
        return images, page.get_contents().get_data().decode("latin-1")

    put_on_plan(space_a, "free")  # colours, no logo
    images, stream = images_and_stream(client.get(cert_path(award)))
    assert ".666667 .2 .066667 RG" in stream  # the frame in #aa3311
    assert images == 1  # the badge image only
    put_on_plan(space_a, "standard")
    images, _ = images_and_stream(client.get(cert_path(award)))
    assert images == 2  # and the logo


def test_a_certificate_takes_one_query_and_is_quick(client, award, django_assert_max_num_queries):
    client.get(cert_path(award))  # fonts registered, image cached by the OS
    started = timezone.now()
    with django_assert_max_num_queries(3):  # the award; the branding; the plan
        client.get(cert_path(award))
    assert timezone.now() - started < timedelta(seconds=2)


def test_render_the_first_page_as_png(client, award, tmp_path):
    """What a person looks at: the first page as an image (written to /tmp/certificates/)."""
    import pathlib

    import pypdfium2

    response = client.get(cert_path(award))
    pdf = pypdfium2.PdfDocument(response.content)
    image = pdf[0].render(scale=1.5).to_pil()
    out = pathlib.Path("/tmp/certificates")
    out.mkdir(exist_ok=True)
    image.save(out / "certificate-a4.png")
    assert image.size[0] > image.size[1]  # landscape
    # Not blank: the band and the frame are drawn.
    assert len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 50


def test_download_buttons_on_the_backpack_and_the_public_page(client, award):
    from django.urls import reverse

    public_page = links.assertion_url(award).removeprefix(links._url(""))
    html = client.get(public_page, HTTP_ACCEPT="text/html").content.decode()
    assert links.download(links.certificate_url(award)) in html
    client.force_login(award.recipient)
    backpack = client.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    assert "Download the certificate (PDF, A4)" in backpack
    assert links.certificate_url(award) + "?size=letter" in backpack
    revoke_award(award)
    backpack = client.get(reverse("backpack:award", args=[award.public_id])).content.decode()
    assert "Download the certificate" not in backpack
    html = client.get(public_page, HTTP_ACCEPT="text/html").content.decode()
    assert "certificate.pdf" not in html
