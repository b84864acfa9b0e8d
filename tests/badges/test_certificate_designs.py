"""Certificate designs: each of the three (classic, modern, minimal) opened with pypdf (the
recipient, badge, issuer, dates, evidence and the QR link are on it), its first page rendered
to a PNG for people to look at (/tmp/certificates/), long and non-Latin names that fit the
page, and the editor's Certificate tab with its previews."""

import io
import pathlib

import pypdf
import pypdfium2
import pytest
from django.urls import reverse
from django.utils import timezone

from badgeplatform.permissions import Perm
from badges import certificates, links
from badges.models import Badge
from tests.factories import add_member, add_with_perms, make_award, make_badge

pytestmark = pytest.mark.django_db

OUT = pathlib.Path("/tmp/certificates")


def text_of(pdf: bytes) -> str:
    return " ".join(pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())


def uris_of(pdf: bytes) -> list[str]:
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    return [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", [])]


def render(pdf: bytes, name: str):
    document = pypdfium2.PdfDocument(pdf)
    image = document[0].render(scale=1.5).to_pil()
    OUT.mkdir(exist_ok=True)
    image.save(OUT / name)
    return image


def award_with(space, *, first, last, badge_name, design, evidence=True):
    person = add_member(space)
    person.first_name, person.last_name = first, last
    person.save()
    badge = make_badge(
        space,
        name=badge_name,
        expiry_amount=3,
        expiry_unit="years",
        certificate_design=design,
    )
    award = make_award(space, badge=badge, recipient=person)
    award.is_public = True  # the recipient shows their name (private awards print none)
    award.save(update_fields=["is_public"])
    if evidence:
        award.evidence = [
            {"name": "Capstone: a data audit of the city archive", "url": "https://ex.org/p"},
            {"narrative": "Presented the findings to the board."},
        ]
    return award


@pytest.mark.parametrize("design", ["classic", "modern", "minimal"])
def test_each_design_prints_everything_and_links_to_verification(client, space_a, design):
    award = award_with(
        space_a, first="Zoë", last="Ångström-Núñez", badge_name="Data Stewardship", design=design
    )
    award.save(update_fields=["evidence"])
    response = client.get(links.certificate_url(award).removeprefix(links._url("")))
    assert response.status_code == 200
    pdf = response.content
    text = text_of(pdf)
    issued = timezone.localtime(award.issued_at).strftime("%-d %B %Y")
    expires = timezone.localtime(award.expires_at).strftime("%-d %B %Y")
    for expected in (
        "Zoë Ångström-Núñez",
        "Data Stewardship",
        award.issuer_version.name,
        issued,
        f"Valid until {expires}",
        "Evidence",
        "Capstone: a data audit of the city archive",
        "Presented the findings to the board.",
        links.assertion_url(award),
    ):
        assert expected in text, (design, expected, text)
    assert uris_of(pdf) == [links.assertion_url(award)]
    image = render(pdf, f"design-{design}.png")
    assert image.size[0] > image.size[1]
    assert len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 50


def test_the_designs_differ(space_a):
    award = award_with(
        space_a, first="Ada", last="Lovelace", badge_name="Engines", design="classic"
    )

    def stream(pdf: bytes) -> bytes:
        return pypdf.PdfReader(io.BytesIO(pdf)).pages[0].get_contents().get_data()

    streams = {
        design: stream(certificates.certificate_pdf(award, "a4", design))
        for design in certificates.DESIGNS
    }
    assert len(set(streams.values())) == 3
    # The badge's own choice is the default.
    award.badge.certificate_design = "minimal"
    assert stream(certificates.certificate_pdf(award)) == streams["minimal"]


@pytest.mark.parametrize("design", ["classic", "modern", "minimal"])
def test_long_and_non_latin_names_fit_the_page(space_a, design):
    award = award_with(
        space_a,
        first="Maximiliana Alexandrina Konstantinopoulou-Papadimitriou",
        last="Wolfeschlegelsteinhausenbergerdorff-Ωμέγα-Достоевская",
        badge_name="Advanced Certificate in Interdisciplinary Environmental Data Stewardship "
        "and Governance for Public Institutions (Level 7)",
        design=design,
    )
    pdf = certificates.certificate_pdf(award, "letter")
    text = text_of(pdf)
    # Every word of the name is printed (wrapped over lines, not cut off the page).
    for word in ("Maximiliana", "Wolfeschlegelsteinhausenbergerdorff", "Ωμέγα", "Достоевская"):
        assert word in text.replace(" ", "") or word in text, (design, word)
    # Nothing is drawn outside the page: pdfium's text boxes all lie within it.
    document = pypdfium2.PdfDocument(pdf)
    page = document[0]
    width, height = page.get_size()
    textpage = page.get_textpage()
    for i in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(i)
        assert left >= 0 and right <= width and bottom >= 0 and top <= height, (design, i)
    render(pdf, f"design-{design}-long.png")


def test_the_editor_offers_the_designs_with_previews_and_saves_the_choice(client, space_a):
    creator = add_with_perms(space_a, [Perm.CREATE_BADGES, Perm.PUBLISH_BADGES])
    badge = make_badge(space_a, name="Lab Safety")
    client.force_login(creator)
    edit = reverse("badges:edit", args=[space_a.slug, badge.pk])
    html = client.get(edit + "?tab=certificate").content.decode()
    preview = reverse("badges:certificate_preview", args=[space_a.slug, badge.pk])
    for design in ("classic", "modern", "minimal"):
        assert f'value="{design}"' in html
        assert f"{preview}?design={design}" in html
    response = client.get(preview + "?design=modern")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    from PIL import Image

    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size[0] > image.size[1]
    image.save(OUT / "preview-modern.png")
    assert client.get(preview + "?design=baroque").status_code == 400
    revision = badge.revision
    response = client.post(
        edit, {"tab": "certificate", "goto": "certificate", "certificate_design": "modern"}
    )
    assert response.status_code == 302
    badge.refresh_from_db()
    assert badge.certificate_design == "modern"
    assert badge.revision == revision  # the look is not a new version of the achievement
    response = client.post(
        edit, {"tab": "certificate", "goto": "certificate", "certificate_design": "baroque"}
    )
    assert response.status_code == 422
    assert "Choose one of the designs shown." in response.content.decode()
    assert Badge.objects.get(pk=badge.pk).certificate_design == "modern"


def test_a_draft_without_issuer_or_graphic_still_previews(client, space_a, admin_a):
    badge = make_badge(space_a, name="", state="draft", issuer=None, graphic=None)
    client.force_login(admin_a)
    preview = reverse("badges:certificate_preview", args=[space_a.slug, badge.pk])
    for design in certificates.DESIGNS:
        response = client.get(f"{preview}?design={design}")
        assert response.status_code == 200 and response.content.startswith(b"\x89PNG")
    text = text_of(certificates.certificate_pdf(certificates.sample_award(badge), "a4"))
    assert "Alex Sample" in text and "Badge name" in text and "Your issuer" in text


@pytest.mark.parametrize("design", ["classic", "modern", "minimal"])
def test_each_design_wears_the_spaces_colours_and_logo(space_a, design):
    from django.core.files.base import ContentFile

    from branding.models import SpaceBranding
    from tests.factories import png_bytes, put_on_plan

    branding = SpaceBranding(space=space_a, accent="#aa3311", nav_bg="#112233")
    branding.logo.save("logo.png", ContentFile(png_bytes(80, "#ff0000")), save=False)
    branding.save()
    award = award_with(space_a, first="Ada", last="Lovelace", badge_name="Engines", design=design)

    def drawn():
        space_a._branding = None  # read the branding again
        page = pypdf.PdfReader(io.BytesIO(certificates.certificate_pdf(award))).pages[0]
        images = len(page["/Resources"].get("/XObject", {}))
        return images, page.get_contents().get_data().decode("latin-1")

    put_on_plan(space_a, "free")  # colours, no logo
    images, stream = drawn()
    assert ".666667 .2 .066667" in stream  # #aa3311, the accent
    assert images == 1  # the badge image only; the space's name instead of the logo
    put_on_plan(space_a, "standard")
    images, _ = drawn()
    assert images == 2  # and the logo
