"""System settings → Branding, and the stylesheet that carries it to every admin page."""

import io
import os

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from badgeplatform.models import AuditEntry
from branding.models import SpaceBranding
from tests.factories import add_member, png_bytes, put_on_plan

pytestmark = pytest.mark.django_db

COLOURS = {"nav_bg": "#102030", "nav_text": "#F0F0F0", "accent": "#aa0044"}


def url(space):
    return reverse("branding:branding", args=[space.slug])


def css_url(space):
    return reverse("branding_assets:css", args=[space.public_id])


def css(client, space) -> str:
    return client.get(css_url(space)).content.decode()


def upload(name="logo.png", data=None):
    f = io.BytesIO(data or png_bytes(120))
    f.name = name
    return f


# ---- Access -------------------------------------------------------------------------------


def test_page_shows_colours_and_images(client_a, space_a):
    response = client_a.get(url(space_a))
    assert response.status_code == 200
    content = response.content.decode()
    assert 'name="nav_bg"' in content and 'value="#1f2a44"' in content  # defaults filled in
    assert "Reset to default" in content
    # Free plan: colours yes, logo and icon explained instead of offered.
    assert 'name="logo-image"' not in content
    assert "part of the Standard plan" in content


def test_a_member_without_manage_branding_gets_403(client, space_a, member_a):
    client.force_login(member_a)
    assert client.get(url(space_a)).status_code == 403
    assert client.post(url(space_a), {"action": "save_colours", **COLOURS}).status_code == 403
    assert not SpaceBranding.objects.exists()


def test_another_spaces_admin_gets_404(client, space_a, admin_b, space_b):
    client.force_login(admin_b)
    assert client.get(url(space_a)).status_code == 404


def test_anonymous_is_sent_to_sign_in(client, space_a):
    response = client.get(url(space_a))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_wrong_method_and_unknown_action(client_a, space_a):
    assert client_a.put(url(space_a)).status_code == 405
    assert client_a.post(url(space_a), {"action": "drop_tables"}).status_code == 400


# ---- Colours ------------------------------------------------------------------------------


def test_saved_colours_reach_the_stylesheet_at_once(client_a, space_a):
    before = client_a.get(css_url(space_a))
    assert "--brand-nav-bg" not in before.content.decode()  # nothing custom yet
    response = client_a.post(url(space_a), {"action": "save_colours", **COLOURS})
    assert response.status_code == 302
    branding = SpaceBranding.objects.get(space=space_a)
    assert (branding.nav_bg, branding.nav_text, branding.accent) == (
        "#102030",
        "#f0f0f0",  # normalised
        "#aa0044",
    )
    after = client_a.get(css_url(space_a), HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert (
        ":root { --brand-nav-bg: #102030; --brand-nav-text: #f0f0f0; --brand-accent: #aa0044; }"
        in after.content.decode()
    )
    entry = AuditEntry.objects.get(action="branding.colours")
    assert entry.changes["nav_bg"] == ["", "#102030"]


def test_unchanged_stylesheet_is_a_304(client, space_a):
    first = client.get(css_url(space_a))
    assert first["Cache-Control"] == "public, no-cache" and first["Content-Type"].startswith(
        "text/css"
    )
    again = client.get(css_url(space_a), HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


@pytest.mark.parametrize(
    "hostile",
    [
        "red;}body{display:none",
        "#fff",
        "#12345g",
        "#1234567",
        "#123456;",
        " #123456 }",
        "url(javascript:x)",
        "#123456\n}",
    ],
)
def test_anything_but_rrggbb_is_refused_beside_the_field(client_a, space_a, hostile):
    response = client_a.post(url(space_a), {"action": "save_colours", **COLOURS, "nav_bg": hostile})
    assert response.status_code == 422
    assert "Enter a colour as # followed by six hexadecimal digits" in response.content.decode()
    assert not SpaceBranding.objects.exists()
    assert "display:none" not in css(client_a, space_a)


def test_a_bad_value_in_the_database_never_reaches_the_css(client_a, space_a):
    # Seven characters, so even a varchar(7) column takes it (e.g. a bad import or admin edit).
    SpaceBranding.objects.create(space=space_a, nav_bg="red;}a{", accent="#abcdef")
    sheet = css(client_a, space_a)
    assert "red;" not in sheet and "}a{" not in sheet
    assert "--brand-accent: #abcdef;" in sheet


def test_poor_contrast_saves_with_a_warning(client_a, space_a):
    response = client_a.post(
        url(space_a),
        {"action": "save_colours", "nav_bg": "#ffffff", "nav_text": "#eeeeee", "accent": "#ffff00"},
        follow=True,
    )
    content = response.content.decode()
    assert SpaceBranding.objects.get(space=space_a).nav_bg == "#ffffff"
    assert "Menu text on the menu background: contrast 1.16:1" in content
    assert "White text on the highlight colour: contrast 1.07:1" in content


def test_reset_goes_back_to_the_defaults(client_a, space_a):
    client_a.post(url(space_a), {"action": "save_colours", **COLOURS})
    response = client_a.post(url(space_a), {"action": "reset_colours"})
    assert response.status_code == 302
    branding = SpaceBranding.objects.get(space=space_a)
    assert not branding.has_custom_colours
    assert "--brand" not in css(client_a, space_a)


# ---- Logo and icon ------------------------------------------------------------------------


def test_free_plan_refuses_logo_upload_with_an_explanation(client_a, space_a):
    response = client_a.post(url(space_a), {"action": "upload_logo", "logo-image": upload()})
    assert response.status_code == 403
    content = response.content.decode()
    assert "Not in your plan" in content and "Standard plan" in content
    assert not SpaceBranding.objects.exists()


def test_logo_and_icon_upload_re_encoded_and_shown_in_the_menu(client_a, space_a):
    put_on_plan(space_a, "standard")
    jpeg = io.BytesIO()
    Image.new("RGB", (560, 120), "#123456").save(jpeg, "JPEG")
    response = client_a.post(
        url(space_a), {"action": "upload_logo", "logo-image": upload("logo.jpg", jpeg.getvalue())}
    )
    assert response.status_code == 302
    response = client_a.post(url(space_a), {"action": "upload_icon", "icon-image": upload()})
    assert response.status_code == 302
    branding = SpaceBranding.objects.get(space=space_a)
    assert branding.logo.name.endswith(".png") and "logo" not in branding.logo.name  # random
    with Image.open(branding.logo.path) as im:
        assert im.format == "PNG" and im.size == (560, 120)
    sheet = css(client_a, space_a)
    logo_rule = f'display: block; background-image: url("{branding.logo.url}"); }}'
    assert f".sidebar .brand .brand-logo {{ {logo_rule}" in sheet
    assert (
        f'.sidebar .brand .brand-icon {{ background-image: url("{branding.icon.url}"); }}' in sheet
    )
    icon = client_a.get(reverse("branding_assets:icon", args=[space_a.public_id]))
    assert icon.status_code == 302 and icon.url == branding.icon.url


def test_a_hostile_image_is_refused_and_nothing_is_stored(client_a, space_a):
    put_on_plan(space_a, "standard")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    response = client_a.post(
        url(space_a), {"action": "upload_logo", "logo-image": upload("x.png", svg)}
    )
    assert response.status_code == 422
    assert "not a PNG, JPEG or GIF" in response.content.decode()
    assert not SpaceBranding.objects.exists()


def test_replacing_and_removing_deletes_the_old_file(client_a, space_a, committed):
    put_on_plan(space_a, "standard")
    client_a.post(url(space_a), {"action": "upload_logo", "logo-image": upload()})
    first = SpaceBranding.objects.get(space=space_a).logo
    first_path = first.path
    with committed():
        client_a.post(url(space_a), {"action": "upload_logo", "logo-image": upload()})
    assert not os.path.exists(first_path)
    with committed():
        client_a.post(url(space_a), {"action": "remove_logo"})
    assert not SpaceBranding.objects.get(space=space_a).logo
    assert "brand-logo" not in css(client_a, space_a)


def test_a_downgrade_stops_showing_the_logo_but_keeps_it(client_a, space_a):
    put_on_plan(space_a, "standard")
    client_a.post(url(space_a), {"action": "upload_logo", "logo-image": upload()})
    assert "brand-logo" in css(client_a, space_a)
    put_on_plan(space_a, "free")
    assert "brand-logo" not in css(client_a, space_a)
    assert SpaceBranding.objects.get(space=space_a).logo  # kept for when the plan allows it
    icon = client_a.get(reverse("branding_assets:icon", args=[space_a.public_id]))
    assert icon.url.endswith("favicon.svg")


def test_unknown_space_id_is_404(client):
    import uuid

    assert client.get(reverse("branding_assets:css", args=[uuid.uuid4()])).status_code == 404
    assert client.get(reverse("branding_assets:icon", args=[uuid.uuid4()])).status_code == 404


# ---- The shell ----------------------------------------------------------------------------


def test_the_admin_shell_links_the_spaces_css_and_icon_without_inline_style(client_a, space_a):
    content = client_a.get(reverse("dashboard", args=[space_a.slug])).content.decode()
    assert f'<link rel="stylesheet" href="{css_url(space_a)}">' in content
    icon = reverse("branding_assets:icon", args=[space_a.public_id])
    assert f'<link rel="icon" href="{icon}">' in content
    assert "<style" not in content
    assert 'class="brand-logo"' in content and 'class="brand-icon"' in content


def test_branding_adds_no_query_to_admin_pages(client_a, space_a):
    SpaceBranding.objects.create(space=space_a, nav_bg="#102030")
    with CaptureQueriesContext(connection) as queries:
        client_a.get(reverse("dashboard", args=[space_a.slug]))
    assert not [q for q in queries if "branding_" in q["sql"] or "orgs_plan" in q["sql"]]


def test_account_pages_keep_the_platform_look(client, client_a, space_a):
    """Branding applies through the admin shell only: account pages (and, when it exists, the
    recipient's backpack) keep the platform look. The backpack check follows with it."""
    SpaceBranding.objects.create(space=space_a, nav_bg="#102030", accent="#aa0044")
    for name in ["accounts:change_password"]:
        content = client_a.get(reverse(name)).content.decode()
        assert "brand.css" not in content and "Badge Platform" in content
    client_a.logout()
    for name in ["accounts:login", "accounts:register", "accounts:password_reset"]:
        content = client.get(reverse(name)).content.decode()
        assert "brand.css" not in content


def test_another_spaces_member_sees_only_their_own_branding(client, space_a, space_b, admin_b):
    SpaceBranding.objects.create(space=space_a, nav_bg="#aa0000")
    SpaceBranding.objects.create(space=space_b, nav_bg="#00bb00")
    client.force_login(admin_b)
    content = client.get(reverse("dashboard", args=[space_b.slug])).content.decode()
    assert css_url(space_b) in content and str(space_a.public_id) not in content


def test_a_member_of_several_spaces_gets_each_spaces_look(client, space_a, space_b, admin_a):
    add_member(space_b, admin_a, role_name="Space Administrator")
    client.force_login(admin_a)
    for space in (space_a, space_b):
        content = client.get(reverse("dashboard", args=[space.slug])).content.decode()
        assert css_url(space) in content
