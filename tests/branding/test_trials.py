"""Plans a customer can see and try: one 30-day trial of a higher plan per space, started by
those who manage the settings; its features unlock at once and lock again when it ends, with
what was made kept (and shown again on a plan that includes it)."""

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from badgeplatform.access import load_access
from badgeplatform.models import AuditEntry, OutboundEmail
from badgeplatform.permissions import DEFAULT_ROLES, SPACE_ADMINISTRATOR
from branding import services
from branding.models import EmailTemplate, LandingPage, SpaceBranding
from branding.plans import Feature, space_has, space_plan
from orgs.models import Space
from tests.factories import add_member, add_with_perms, png_bytes, put_on_plan

pytestmark = pytest.mark.django_db


def plans_url(space):
    return reverse("branding:plan", args=[space.slug])


def start(client, space, plan="white-label"):
    return client.post(plans_url(space), {"action": "start_trial", "plan": plan}, follow=True)


def fresh(space) -> Space:
    return Space.objects.get(pk=space.pk)


def later(days):
    """Patch the clock ``days`` ahead (the code reads django.utils.timezone.now)."""
    return mock.patch("django.utils.timezone.now", return_value=timezone.now() + timedelta(days))


def upload(name="logo.png"):
    f = io.BytesIO(png_bytes(120))
    f.name = name
    return f


def test_the_plans_page_shows_each_plan_and_offers_a_trial_of_the_higher_ones(client_a, space_a):
    html = client_a.get(plans_url(space_a)).content.decode()
    assert "<h1>Plans</h1>" in html
    assert "Your logo replaces the platform" in html  # what a feature does, not just its name
    assert html.count('value="start_trial"') == 2  # Standard and White-label, not Free
    put_on_plan(space_a, "standard")
    html = client_a.get(plans_url(space_a)).content.decode()
    assert html.count('value="start_trial"') == 1 and 'name="plan" value="white-label"' in html


def test_a_trial_starts_once_and_unlocks_at_once(client_a, space_a, admin_a):
    assert not space_has(space_a, Feature.LANDING_PAGE)
    response = start(client_a, space_a)
    assert "30-day trial of the White-label plan has started" in response.content.decode()
    space = fresh(space_a)
    assert space.trial_plan.code == "white-label"
    assert timedelta(days=29, hours=23) < space.trial_ends_at - timezone.now() <= timedelta(30)
    plan = space_plan(space)
    assert plan.code == "free" and plan.trial_name == "White-label"  # still Free underneath
    assert all(space_has(space, f) for f in Feature)
    entry = AuditEntry.objects.get(space=space_a, action="plan.trial_start")
    assert entry.changes["plan"] == "white-label" and entry.actor == admin_a
    # The pages open at once: the landing page form, the email editor, logo upload.
    assert (
        'name="heading"'
        in client_a.get(reverse("branding:landing", args=[space_a.slug])).content.decode()
    )
    response = client_a.post(
        reverse("branding:branding", args=[space_a.slug]),
        {"action": "upload_logo", "logo-image": upload()},
    )
    assert response.status_code == 302 and SpaceBranding.objects.get(space=space_a).logo

    # A second trial — of any plan — is refused, and nothing changes.
    response = start(client_a, space_a, "standard")
    assert "already had its trial" in response.content.decode()
    again = fresh(space_a)
    assert (again.trial_plan_id, again.trial_ends_at) == (space.trial_plan_id, space.trial_ends_at)
    assert AuditEntry.objects.filter(action="plan.trial_start").count() == 1
    # And the page no longer offers one.
    assert 'value="start_trial"' not in client_a.get(plans_url(space_a)).content.decode()


@pytest.mark.parametrize("code", ["free", "standard", "nonexistent", ""])
def test_only_a_higher_plan_can_be_tried(client_a, space_a, code):
    put_on_plan(space_a, "standard")
    response = start(client_a, space_a, code)
    assert "Only a plan above Standard can be tried." in response.content.decode()
    assert fresh(space_a).trial_started_at is None


def test_when_the_trial_ends_features_lock_and_content_is_kept(client_a, client, space_a):
    start(client_a, space_a)
    space = fresh(space_a)
    actor = space_a.members.first().user
    services.email_template_save(
        actor=actor, space=space, kind="badge_issued", subject="Well done {{first_name}}", body="Hi"
    )
    services.landing_page_save(
        actor=actor,
        space=space,
        enabled=True,
        heading="Acme Credentials",
        text="Hello",
        hero=None,
        remove_hero=False,
    )
    client_a.post(
        reverse("branding:branding", args=[space_a.slug]),
        {"action": "upload_logo", "logo-image": upload()},
    )
    root = reverse("space_root", args=[space_a.slug])
    assert "Acme Credentials" in client.get(root).content.decode()
    css_url = reverse("branding_assets:css", args=[space_a.public_id])
    assert "brand-logo" in client.get(css_url).content.decode()

    with later(31):
        client_a.force_login(actor)  # the old session expired on the way
        space = fresh(space_a)
        assert not any(space_has(space, f) for f in Feature if f != Feature.CUSTOM_COLOURS)
        # Locked: the public landing page is gone, the logo is out of the stylesheet, the
        # editor explains and offers the Plans page (no second trial), posts are refused.
        assert client.get(root).status_code == 302
        assert "brand-logo" not in client.get(css_url).content.decode()
        html = client_a.get(reverse("branding:landing", args=[space_a.slug])).content.decode()
        assert 'name="heading"' not in html and "Compare the plans" in html
        assert "Start a 30-day trial" not in html
        refused = client_a.post(
            reverse("branding:landing", args=[space_a.slug]),
            {"enabled": "on", "heading": "New", "text": "x"},
        )
        assert refused.status_code == 403
        plan_html = client_a.get(plans_url(space_a)).content.decode()
        assert "has had its 30-day trial of the White-label plan" in plan_html
        # Kept, all of it.
        assert EmailTemplate.objects.filter(space=space_a, kind="badge_issued").exists()
        assert LandingPage.objects.get(space=space_a).heading == "Acme Credentials"
        assert SpaceBranding.objects.get(space=space_a).logo

    # The operator moves the space to White-label: everything shows again, as it was.
    put_on_plan(space_a, "white-label")
    assert "Acme Credentials" in client.get(root).content.decode()
    assert "brand-logo" in client.get(css_url).content.decode()


def test_the_tick_records_the_end_and_reminds_the_admins_once(client_a, space_a, admin_a):
    start(client_a, space_a, "standard")
    assert services.trials_tick() == {"ended": 0, "reminded": 0}  # 30 days left
    with later(28):
        assert services.trials_tick() == {"ended": 0, "reminded": 1}
        assert services.trials_tick() == {"ended": 0, "reminded": 0}  # once
    sent = OutboundEmail.objects.get(kind="trial_ending")
    assert sent.to == admin_a.email and "Standard trial" in sent.subject
    assert "stay stored" in sent.body_text and plans_url(space_a) in sent.body_text
    with later(31):
        assert services.trials_tick() == {"ended": 1, "reminded": 0}
        assert services.trials_tick() == {"ended": 0, "reminded": 0}
    entry = AuditEntry.objects.get(space=space_a, action="plan.trial_end")
    assert entry.actor is None and "Standard" in entry.object_label
    assert OutboundEmail.objects.filter(kind="trial_ending").count() == 1


@pytest.mark.parametrize("role_name", list(DEFAULT_ROLES))
def test_only_those_who_manage_settings_start_a_trial(client, space_a, role_name):
    person = add_member(space_a, role_name=role_name)
    client.force_login(person)
    response = client.post(plans_url(space_a), {"action": "start_trial", "plan": "standard"})
    if role_name == SPACE_ADMINISTRATOR:
        assert response.status_code == 302 and fresh(space_a).trial_plan is not None
    else:
        assert response.status_code == 403 and fresh(space_a).trial_started_at is None


def test_the_service_rechecks_the_permission(space_a, member_a):
    access = load_access(space_a, member_a)
    with pytest.raises(PermissionDenied):
        services.trial_start(access=access, space=space_a, plan_code="standard")
    assert fresh(space_a).trial_started_at is None


def test_locked_features_say_what_they_do_and_how_to_get_them(client, client_a, space_a):
    html = client_a.get(reverse("branding:emails", args=[space_a.slug])).content.decode()
    assert "Write the subject and text" in html  # what it does
    assert f'href="{plans_url(space_a)}"' in html and "Start a 30-day trial" in html
    assert "operator" not in html.split("<main", 1)[1]
    # Someone who manages branding but not the settings is not given a link they cannot open.
    designer = add_with_perms(space_a, ["manage_branding"])
    client.force_login(designer)
    html = client.get(reverse("branding:emails", args=[space_a.slug])).content.decode()
    assert plans_url(space_a) not in html
    assert "A space administrator can start a free 30-day trial" in html
