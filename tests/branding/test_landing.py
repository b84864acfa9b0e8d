"""The space's front door (/s/<slug>/) and System settings → Landing page / Plan."""

import io

import pytest
from django.urls import reverse
from django.utils.http import urlencode

from branding.models import LandingPage, SpaceBranding
from tests.factories import png_bytes, put_on_plan

pytestmark = pytest.mark.django_db


def root(space):
    return reverse("space_root", args=[space.slug])


def edit(space):
    return reverse("branding:landing", args=[space.slug])


@pytest.fixture
def published(space_a):
    put_on_plan(space_a, "white-label")
    LandingPage.objects.create(
        space=space_a,
        enabled=True,
        heading="Acme Digital Credentials",
        text="Earn badges **that count**.\n\n<script>alert(1)</script>[x](javascript:alert(2))",
    )
    return space_a


# ---- Without a landing page: exactly as before --------------------------------------------


def test_without_a_landing_page_members_go_to_the_dashboard(client_a, space_a):
    response = client_a.get(root(space_a))
    assert response.status_code == 302 and response.url == reverse("dashboard", args=[space_a.slug])


def test_without_a_landing_page_others_sign_in_or_get_404(client, space_a, admin_b, space_b):
    response = client.get(root(space_a))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))
    client.force_login(admin_b)
    assert client.get(root(space_a)).status_code == 404
    assert client.post(root(space_a)).status_code == 404
    assert client.get("/s/no-such-space/").status_code == 404


def test_a_landing_page_on_free_is_not_shown(client, space_a):
    # Saved while on white-label, then the plan changed: the page stays private.
    LandingPage.objects.create(space=space_a, enabled=True, heading="Secret")
    response = client.get(root(space_a))
    assert response.status_code == 302 and b"Secret" not in response.content


def test_a_disabled_landing_page_is_not_shown(client, space_a):
    put_on_plan(space_a, "white-label")
    LandingPage.objects.create(space=space_a, enabled=False, heading="Draft")
    assert client.get(root(space_a)).status_code == 302


# ---- The published landing page -----------------------------------------------------------


def test_anyone_sees_the_published_page_with_sign_in(client, published):
    response = client.get(root(published))
    assert response.status_code == 200
    content = response.content.decode()
    assert "Acme Digital Credentials" in content
    assert "Earn badges <strong>that count</strong>." in content
    assert "<script>alert" not in content and "javascript:" not in content
    login = reverse("accounts:login") + "?" + urlencode({"next": f"/s/{published.slug}/dashboard/"})
    assert f'href="{login.replace("&", "&amp;")}"' in content
    assert reverse("branding_assets:css", args=[published.public_id]) in content
    assert "<style" not in content


def test_a_member_is_offered_the_dashboard(client_a, published):
    content = client_a.get(root(published)).content.decode()
    assert "Go to your dashboard" in content and "You are signed in as Alice Admin" in content


def test_another_spaces_admin_sees_only_what_was_published(client, published, admin_b, space_b):
    SpaceBranding.objects.create(space=space_b, nav_bg="#00bb00")
    client.force_login(admin_b)
    content = client.get(root(published)).content.decode()
    assert "Acme Digital Credentials" in content and "Go to your dashboard" not in content
    assert "Beta Corp" not in content and str(space_b.public_id) not in content


def test_the_landing_page_is_get_only(client, published):
    assert client.post(root(published)).status_code == 405


def test_logo_and_hero_on_the_landing_page(client, published):
    branding = SpaceBranding.objects.create(space=published)
    from django.core.files.base import ContentFile

    branding.logo.save("l.png", ContentFile(png_bytes()), save=True)
    page = LandingPage.objects.get(space=published)
    page.hero.save("h.png", ContentFile(png_bytes()), save=True)
    content = client.get(root(published)).content.decode()
    assert f'<img src="{branding.logo.url}" alt="Acme University">' in content
    assert f'src="{page.hero.url}"' in content


# ---- System settings → Landing page -------------------------------------------------------


def test_free_plan_explains_instead_of_the_form_and_refuses_posts(client_a, space_a):
    content = client_a.get(edit(space_a)).content.decode()
    assert "part of the White-label plan" in content and 'name="heading"' not in content
    response = client_a.post(edit(space_a), {"enabled": "on", "heading": "Mine"})
    assert response.status_code == 403 and "Not in your plan" in response.content.decode()
    assert not LandingPage.objects.exists()


def test_standard_plan_is_refused_too(client_a, space_a):
    put_on_plan(space_a, "standard")
    assert client_a.post(edit(space_a), {"enabled": "on", "heading": "M"}).status_code == 403


def test_white_label_publishes_a_landing_page_with_a_hero(client_a, client, space_a):
    put_on_plan(space_a, "white-label")
    hero = io.BytesIO(png_bytes(200))
    hero.name = "hero.png"
    response = client_a.post(
        edit(space_a),
        {"enabled": "on", "heading": "Welcome to Acme", "text": "Hello *world*", "hero": hero},
    )
    assert response.status_code == 302
    page = LandingPage.objects.get(space=space_a)
    assert page.enabled and page.hero.name.endswith(".png") and "hero" not in page.hero.name
    client_a.logout()
    content = client.get(root(space_a)).content.decode()
    assert "Welcome to Acme" in content and "<em>world</em>" in content


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"enabled": "on", "heading": ""}, "needs a heading"),
        ({"enabled": "on", "heading": "Two\r\nlines"}, "single line"),
    ],
)
def test_bad_landing_input_is_refused(client_a, space_a, data, message):
    put_on_plan(space_a, "white-label")
    response = client_a.post(edit(space_a), data)
    assert response.status_code == 422 and message in response.content.decode()
    assert not LandingPage.objects.exists()


def test_a_hostile_hero_is_refused(client_a, space_a):
    put_on_plan(space_a, "white-label")
    evil = io.BytesIO(b"GIF89a<script>alert(1)</script>")
    evil.name = "hero.gif"
    response = client_a.post(edit(space_a), {"heading": "H", "hero": evil})
    assert response.status_code == 422
    assert not LandingPage.objects.exists()


def test_landing_settings_access(client, space_a, member_a, admin_b, space_b):
    client.force_login(member_a)
    assert client.get(edit(space_a)).status_code == 403
    client.force_login(admin_b)
    assert client.get(edit(space_a)).status_code == 404
    client.logout()
    assert client.get(edit(space_a)).status_code == 302
    client.force_login(space_a.members.first().user)
    assert client.put(edit(space_a)).status_code == 405


# ---- System settings → Plan ---------------------------------------------------------------


def test_plan_page_shows_the_plan_and_the_comparison(client_a, space_a):
    put_on_plan(space_a, "standard")
    response = client_a.get(reverse("branding:plan", args=[space_a.slug]))
    content = response.content.decode()
    assert response.status_code == 200
    assert "is on the <strong>Standard</strong> plan" in content
    assert "A custom landing page" in content and "White-label" in content


def test_plan_page_needs_manage_settings(client, space_a, member_a, admin_b):
    url = reverse("branding:plan", args=[space_a.slug])
    client.force_login(member_a)
    assert client.get(url).status_code == 403
    client.force_login(admin_b)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(space_a.members.first().user)
    assert client.post(url).status_code == 400  # no action: the only one is start_trial
    assert client.put(url).status_code == 405


def test_menu_shows_the_branding_entries_to_admins_only(client_a, client, space_a, member_a):
    content = client_a.get(reverse("dashboard", args=[space_a.slug])).content.decode()
    for name in ("branding:branding", "branding:emails", "branding:landing", "branding:plan"):
        assert reverse(name, args=[space_a.slug]) in content
    client.force_login(member_a)
    content = client.get(reverse("dashboard", args=[space_a.slug])).content.decode()
    assert reverse("branding:branding", args=[space_a.slug]) not in content
