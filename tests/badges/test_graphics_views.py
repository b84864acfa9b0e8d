"""The Graphics Library: uploads through the safe pipeline, the designer, archiving."""

import base64
import io
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from badgeplatform.permissions import Perm
from badges.designer import Design
from badges.models import Badge, Graphic
from badges.services import graphic_design
from tests.factories import (
    OrganisationFactory,
    add_with_perms,
    make_badge,
    make_graphic,
    png_bytes,
)
from tests.security import hostile_images as hostile

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
DATA_URL = re.compile(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"')
# The "Done means": each refused with a clear message, nothing stored.
DONE_MEANS = [
    "png_header_then_html",
    "complete_png_bomb",
    "gif_with_frames",
    "svg_named_png",
    "truncated_jpeg",
]


def url(name: str, space, *args) -> str:
    return reverse(f"graphics:{name}", args=[space.slug, *args])


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def design_data(**changes):
    data = {
        "shape": "shield",
        "background": "#0e7c66",
        "border": "#f2c94c",
        "text_color": "#ffffff",
        "line1": "Data Wrangler",
        "line2": "Level 1",
        "name": "",
    }
    return {**data, **changes}


def preview_png(response) -> Image.Image:
    match = DATA_URL.search(response.content.decode())
    assert match, "no preview image in the response"
    im = Image.open(io.BytesIO(base64.b64decode(match.group(1))), formats=["PNG"])
    im.load()
    return im


# ---- Upload ------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["valid_png", "valid_jpeg", "valid_gif", "png_then_html"])
def test_upload_stores_a_re_encoded_png_under_a_random_name(client_a, space_a, admin_a, case):
    upload = SimpleUploadedFile("My Badge.png", hostile.ACCEPTED[case](), "image/png")
    response = client_a.post(url("upload", space_a), {"name": "Gold", "image": upload})
    assert response.status_code == 302 and response.url == url("index", space_a)
    graphic = Graphic.objects.get(space=space_a)
    assert (graphic.name, graphic.source, graphic.created_by) == ("Gold", "upload", admin_a)
    assert re.fullmatch(r"graphics/[0-9a-f]{32}\.png", graphic.image.name)
    data = graphic.image.read()
    assert data.startswith(b"\x89PNG") and b"<html" not in data and b"<script" not in data
    assert (graphic.width, graphic.height) == (64, 48)


@pytest.mark.parametrize("case", DONE_MEANS)
def test_hostile_uploads_are_refused_clearly_and_nothing_is_stored(
    client_a, space_a, settings, case
):
    build, message, _ = hostile.REFUSED[case]
    upload = SimpleUploadedFile("badge.png", build(), content_type="image/png")
    response = client_a.post(url("upload", space_a), {"name": "Evil", "image": upload})
    assert response.status_code == 422
    assert response.context["form"].errors["image"] == [message]
    assert message in response.content.decode()  # shown beside the field
    assert not Graphic.objects.exists()
    assert stored_files(settings) == []


@pytest.mark.parametrize("case", sorted(set(hostile.REFUSED) - set(DONE_MEANS)))
def test_every_other_refused_file_is_refused_by_the_form_too(client_a, space_a, settings, case):
    build, message, _ = hostile.REFUSED[case]
    upload = SimpleUploadedFile("badge.png", build(), content_type="image/png")
    response = client_a.post(url("upload", space_a), {"name": "Evil", "image": upload})
    assert response.status_code == 422
    if case == "empty_file":
        message = "The submitted file is empty."  # Django's FileField answers before us
    # The file-size message quotes the pipeline's limit, which is the default here too.
    assert response.context["form"].errors["image"] == [message]
    assert not Graphic.objects.exists() and stored_files(settings) == []


def test_upload_needs_a_name_and_a_file(client_a, space_a):
    response = client_a.post(url("upload", space_a), {"name": ""})
    assert set(response.context["form"].errors) == {"name", "image"}
    assert not Graphic.objects.exists()


# ---- Designer ----------------------------------------------------------------------------


def test_designer_opens_with_a_preview(client_a, space_a):
    response = client_a.get(url("design", space_a))
    assert response.status_code == 200
    assert preview_png(response).size == (300, 300)


def test_live_preview_follows_the_choices(client_a, space_a):
    first = client_a.post(url("design", space_a), design_data(action="preview"), **HTMX)
    assert first.status_code == 200
    html = first.content.decode()
    assert html.lstrip().startswith('<div id="preview"') and "<form" not in html
    green = preview_png(first)
    red = preview_png(
        client_a.post(
            url("design", space_a), design_data(action="preview", background="#cc0000"), **HTMX
        )
    )
    assert green.size == red.size == (300, 300)
    centre = (150, 150)
    assert green.convert("RGB").getpixel(centre)[1] > green.convert("RGB").getpixel(centre)[0]
    assert red.convert("RGB").getpixel(centre)[0] > red.convert("RGB").getpixel(centre)[1]
    assert not Graphic.objects.exists()  # previews store nothing


def test_preview_with_bad_choices_says_what_to_fix(client_a, space_a):
    data = design_data(action="preview", background="red", line1="x" * 30)
    response = client_a.post(url("design", space_a), data, **HTMX)
    html = response.content.decode()
    assert "Fix the highlighted choices" in html and "Choose a colour like #1F3A93." in html
    assert "data:image/png" not in html


def test_save_draws_600px_and_keeps_the_choices(client_a, space_a, admin_a):
    response = client_a.post(url("design", space_a), design_data(action="save"))
    assert response.status_code == 302 and response.url == url("index", space_a)
    graphic = Graphic.objects.get()
    assert (graphic.name, graphic.source) == ("Data Wrangler Level 1", "designer")
    im = Image.open(graphic.image.path)
    assert (im.size, im.mode, graphic.width) == ((600, 600), "RGBA", 600)
    assert im.getpixel((0, 0))[3] == 0 and im.getpixel((300, 300))[3] == 255
    assert graphic.design == {
        "shape": "shield",
        "background": "#0E7C66",
        "border": "#F2C94C",
        "text_color": "#FFFFFF",
        "line1": "Data Wrangler",
        "line2": "Level 1",
        "icon": None,
        "based_on": None,
    }


def test_save_with_an_icon_stores_it_for_later(client_a, space_a):
    icon = SimpleUploadedFile("star.png", png_bytes(120, "#ff00ff"), "image/png")
    client_a.post(url("design", space_a), {**design_data(action="save"), "icon": icon})
    graphic = Graphic.objects.get()
    path = graphic.design["icon"]
    assert re.fullmatch(r"graphics/icons/[0-9a-f]{32}\.png", path)
    im = Image.open(graphic.image.path).convert("RGB")
    assert any(im.getpixel((x, 200)) == (255, 0, 255) for x in range(200, 400))


@pytest.mark.parametrize("case", DONE_MEANS)
def test_a_hostile_icon_is_refused_and_nothing_is_stored(client_a, space_a, settings, case):
    build, message, _ = hostile.REFUSED[case]
    icon = SimpleUploadedFile("icon.png", build(), "image/png")
    response = client_a.post(url("design", space_a), {**design_data(action="save"), "icon": icon})
    assert response.status_code == 422
    assert response.context["form"].errors["icon"] == [message]
    assert not Graphic.objects.exists() and stored_files(settings) == []


def test_use_a_graphic_as_a_starting_point(client_a, space_a, admin_a):
    icon = png_bytes(100, "#ff00ff")
    original = graphic_design(
        space=space_a,
        actor=admin_a,
        name="Mentor",
        design=Design("hexagon", "#157347", "#A7F3D0", "#FFFFFF", "Peer Mentor", "2025", icon),
    )
    page = client_a.get(url("design", space_a) + f"?from={original.pk}")
    form = page.context["form"]
    assert form.initial["shape"] == "hexagon" and form.initial["line2"] == "2025"
    assert "keep_icon" in form.fields and "Mentor (copy)" in page.content.decode()

    data = design_data(
        shape="hexagon", line1="Peer Mentor", line2="2026", base=original.pk, keep_icon="on"
    )
    data["action"] = "save"
    client_a.post(url("design", space_a), data)
    copy = Graphic.objects.exclude(pk=original.pk).get()
    assert copy.design["line2"] == "2026" and copy.design["based_on"] == str(original.public_id)
    assert copy.design["icon"] == original.design["icon"]  # the same icon file, reused
    original.refresh_from_db()
    assert original.design["line2"] == "2025" and original.image.name != copy.image.name


def test_the_library_offers_starting_points_only_for_designed_graphics(client_a, space_a):
    uploaded = make_graphic(space_a, "Uploaded one")
    designed = graphic_design(
        space=space_a,
        actor=None,
        name="Designed one",
        design=Design("circle", "#000000", "#FFFFFF", "#FFFFFF"),
    )
    html = client_a.get(url("index", space_a)).content.decode()
    assert f"?from={designed.pk}" in html and f"?from={uploaded.pk}" not in html


def test_designing_for_a_badge_puts_the_graphic_on_it(client_a, space_a):
    badge = make_badge(space_a, state="draft", graphic=None)
    page = client_a.get(url("design", space_a) + f"?badge={badge.pk}")
    assert "it becomes the graphic of “Python Fundamentals”" in page.content.decode()
    response = client_a.post(url("design", space_a), design_data(action="save", badge=badge.pk))
    badge.refresh_from_db()
    assert badge.graphic == Graphic.objects.get()
    assert response.url == reverse("badges:edit", args=[space_a.slug, badge.pk]) + "?tab=graphic"
    assert badge.events.first().note == "Changed graphic"


def test_a_badge_one_may_not_edit_is_left_alone(client, space_a):
    badge = make_badge(space_a)  # published: editing it needs publish badges
    graphics_only = add_with_perms(space_a, [Perm.MANAGE_GRAPHICS, Perm.CREATE_BADGES])
    client.force_login(graphics_only)
    response = client.post(url("design", space_a), design_data(action="save", badge=badge.pk))
    assert response.url == url("index", space_a)
    before = badge.graphic_id
    badge.refresh_from_db()
    assert badge.graphic_id == before and Graphic.objects.count() == 2


# ---- Library and archiving ---------------------------------------------------------------


def test_a_graphic_in_use_is_not_removed_and_the_message_names_the_badges(client_a, space_a):
    graphic = make_graphic(space_a, "Gold")
    make_badge(space_a, name="Python Fundamentals", graphic=graphic)
    make_badge(space_a, name="Data Wrangler", graphic=graphic, state="draft")
    response = client_a.post(url("archive", space_a, graphic.pk), follow=True)
    assert "“Gold” is used by “Data Wrangler”, “Python Fundamentals”." in response.content.decode()
    graphic.refresh_from_db()
    assert graphic.archived_at is None


def test_removing_an_unused_graphic_archives_it_and_keeps_the_file(client_a, space_a):
    graphic = make_graphic(space_a, "Unused")
    response = client_a.post(url("archive", space_a, graphic.pk), follow=True)
    assert "“Unused” was removed from the library." in response.content.decode()
    graphic.refresh_from_db()
    assert graphic.archived_at is not None and Path(graphic.image.path).exists()
    assert "Unused" not in client_a.get(url("index", space_a)).content.decode()


def test_library_query_count_does_not_grow(client_a, space_a, django_assert_num_queries):
    # session, user, space, member, grants; the count and one page of graphics with their
    # badge counts; the shell's space switcher: 8.
    make_graphic(space_a)
    with django_assert_num_queries(8):
        client_a.get(url("index", space_a))
    for n in range(10):
        make_badge(space_a, name=f"Badge {n}", graphic=make_graphic(space_a, f"G{n}"))
    with django_assert_num_queries(8):
        response = client_a.get(url("index", space_a))
    assert len(response.context["page"].object_list) == 11


# ---- Permissions -------------------------------------------------------------------------


def test_manage_graphics_anywhere_manages_the_space_wide_library(client, space_a):
    department = OrganisationFactory(space=space_a)
    person = add_with_perms(space_a, [Perm.MANAGE_GRAPHICS], organisation=department)
    graphic = make_graphic(space_a)
    client.force_login(person)
    assert client.get(url("index", space_a)).status_code == 200
    assert client.post(url("archive", space_a, graphic.pk)).status_code == 302


@pytest.mark.parametrize("who", ["member", "drafter"])
def test_without_manage_graphics_it_is_403(client, space_a, member_a, who):
    person = member_a if who == "member" else add_with_perms(space_a, [Perm.CREATE_BADGES])
    graphic = make_graphic(space_a)
    client.force_login(person)
    for name in ("index", "create", "upload", "design"):
        assert client.get(url(name, space_a)).status_code == 403, name
    assert client.post(url("design", space_a), design_data(action="save")).status_code == 403
    assert client.post(url("archive", space_a, graphic.pk)).status_code == 403
    assert Graphic.objects.count() == 1 and Badge.objects.count() == 0


def test_anonymous_is_sent_to_sign_in(client, space_a):
    response = client.get(url("design", space_a))
    assert response.status_code == 302 and "/accounts/login/" in response.url


def test_another_spaces_graphics_are_404(client, space_a, admin_b, space_b):
    graphic = make_graphic(space_a)
    client.force_login(admin_b)
    assert client.post(url("archive", space_b, graphic.pk)).status_code == 404
    assert client.get(url("design", space_b) + f"?from={graphic.pk}").status_code == 404
    graphic.refresh_from_db()
    assert graphic.archived_at is None


def test_wrong_method(client_a, space_a):
    graphic = make_graphic(space_a)
    assert client_a.get(url("archive", space_a, graphic.pk)).status_code == 405
    assert client_a.post(url("index", space_a)).status_code == 405
    assert client_a.put(url("design", space_a)).status_code == 405


def test_without_javascript_the_preview_button_redraws_the_whole_page(client_a, space_a):
    response = client_a.post(url("design", space_a), design_data(action="preview"))
    assert response.status_code == 200 and "<form" in response.content.decode()
    assert preview_png(response).size == (300, 300)
    assert not Graphic.objects.exists()
