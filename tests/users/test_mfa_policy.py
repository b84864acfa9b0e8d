"""A space's second-factor policy for administrative roles, the Django admin's requirement,
and the audit entries of every change (docs/mfa.md)."""

import subprocess
import sys

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.db import connection
from django.urls import reverse

from badgeplatform.models import AuditEntry
from badgeplatform.permissions import ADMINISTRATIVE, DEFAULT_ROLES, Perm
from tests.factories import PASSWORD, UserFactory, add_member
from tests.mfa_helpers import enable_totp, totp_code

pytestmark = pytest.mark.django_db


def require_mfa(space):
    space.mfa_required_for_admins = True
    space.save(update_fields=["mfa_required_for_admins"])


def dashboard(space):
    return reverse("dashboard", args=[space.slug])


# ---- What "administrative" means ------------------------------------------------------------


def test_administrative_is_the_managing_permissions_not_the_badge_work():
    assert Perm.MANAGE_USERS in ADMINISTRATIVE and Perm.MANAGE_SETTINGS in ADMINISTRATIVE
    assert not ADMINISTRATIVE & {Perm.ISSUE_BADGES, Perm.CREATE_BADGES, Perm.VIEW_REPORTS}
    administrative_roles = {
        name for name, (_, perms) in DEFAULT_ROLES.items() if perms & ADMINISTRATIVE
    }
    assert administrative_roles == {
        "Space Administrator",
        "Organisation Administrator",
        "Group Administrator",
    }


# ---- The policy in the space ----------------------------------------------------------------


def test_an_admin_without_a_factor_is_sent_to_set_one_up_then_back(client, admin_a, space_a):
    require_mfa(space_a)
    client.force_login(admin_a)
    wanted = reverse("orgs:tree", args=[space_a.slug])
    response = client.get(wanted)
    assert response.status_code == 302
    assert response.url == reverse("accounts:settings") + "#two-factor"
    page = client.get(reverse("accounts:settings"))
    assert page.status_code == 200  # not locked out: the Settings page opens
    assert b"requires a second factor for your role" in page.content
    assert b"Set up" in page.content

    enable_totp(admin_a)
    page = client.get(reverse("accounts:settings"))
    assert b"Continue where you were going" in page.content
    assert wanted.encode() in page.content
    assert client.get(wanted).status_code == 200


def test_a_member_without_an_administrative_role_is_not_asked(client, space_a, member_a):
    require_mfa(space_a)
    issuer = add_member(space_a, role_name="Badge Issuer")
    for person in (member_a, issuer):
        client.force_login(person)
        assert client.get(dashboard(space_a)).status_code == 200


def test_an_admin_with_a_factor_passes(client, admin_a, space_a):
    require_mfa(space_a)
    enable_totp(admin_a)
    client.force_login(admin_a)
    assert client.get(dashboard(space_a)).status_code == 200


def test_the_policy_is_the_spaces_own(client, admin_a, space_a, space_b):
    """Alice administers A (no policy) and B (policy): only B's pages send her to enrol."""
    require_mfa(space_b)
    add_member(space_b, admin_a, role_name="Space Administrator")
    client.force_login(admin_a)
    assert client.get(dashboard(space_a)).status_code == 200
    assert client.get(dashboard(space_b)).status_code == 302


def queries_of(client, url) -> list[str]:
    """The SQL of one GET (which must succeed)."""
    calls = []

    def record(execute, sql, params, many, context):
        calls.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert client.get(url).status_code == 200
    return calls


def test_without_the_policy_nothing_is_asked_and_no_query_is_added(client, admin_a, space_a):
    client.force_login(admin_a)
    client.get(dashboard(space_a))  # warm
    sql = queries_of(client, dashboard(space_a))
    assert sql and not any("mfa_authenticator" in q for q in sql)


def test_with_the_policy_an_admin_with_a_factor_costs_one_query_more(client, admin_a, space_a):
    enable_totp(admin_a)
    client.force_login(admin_a)
    client.get(dashboard(space_a))
    before = queries_of(client, dashboard(space_a))
    require_mfa(space_a)
    client.get(dashboard(space_a))
    after = queries_of(client, dashboard(space_a))
    assert len(after) == len(before) + 1
    assert sum("mfa_authenticator" in q for q in after) == 1  # the person's factors


# ---- System settings → Security -------------------------------------------------------------


def test_turning_the_policy_on_needs_ones_own_factor_and_is_audited(client, admin_a, space_a):
    client.force_login(admin_a)
    url = reverse("users:security", args=[space_a.slug])
    add_member(
        space_a, UserFactory(first_name="Bob", last_name="Builder"), role_name="Group Administrator"
    )
    add_member(
        space_a, UserFactory(first_name="Carol", last_name="Issuer"), role_name="Badge Issuer"
    )
    page = client.get(url)
    assert page.status_code == 200 and b"Manage users" in page.content
    # Who still lacks a factor: the administrators (Alice, Bob), not the issuer.
    assert b"2 administrators of this space have no second factor yet" in page.content
    assert b"Alice Admin, Bob Builder." in page.content and b"Carol" not in page.content

    refused = client.post(url, {"mfa_required_for_admins": "on"})
    assert refused.status_code == 422
    assert b"Set up your own second factor first" in refused.content
    space_a.refresh_from_db()
    assert not space_a.mfa_required_for_admins

    enable_totp(admin_a)
    assert client.post(url, {"mfa_required_for_admins": "on"}).status_code == 302
    space_a.refresh_from_db()
    assert space_a.mfa_required_for_admins
    entry = AuditEntry.objects.get(space=space_a, action="security.mfa_policy")
    assert entry.actor == admin_a
    assert entry.changes == {"mfa_required_for_admins": [False, True]}

    assert client.post(url, {}).status_code == 302
    space_a.refresh_from_db()
    assert not space_a.mfa_required_for_admins
    assert AuditEntry.objects.filter(space=space_a, action="security.mfa_policy").count() == 2


def test_the_security_page_needs_manage_settings(client, space_a):
    org_admin = add_member(space_a, role_name="Organisation Administrator")
    client.force_login(org_admin)
    url = reverse("users:security", args=[space_a.slug])
    assert client.get(url).status_code == 403
    assert client.post(url, {"mfa_required_for_admins": "on"}).status_code == 403
    space_a.refresh_from_db()
    assert not space_a.mfa_required_for_admins


# ---- Audit of factor changes -----------------------------------------------------------------


def test_every_factor_change_is_audited_in_each_space_of_the_person(
    client, admin_a, space_a, space_b, django_capture_on_commit_callbacks
):
    """allauth announces each change when its transaction commits; the entries follow."""
    add_member(space_b, admin_a)
    client.force_login(admin_a)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})

    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    for space in (space_a, space_b):
        added = AuditEntry.objects.filter(space=space, action="mfa.factor_add", actor=admin_a)
        labels = sorted(added.values_list("object_label", flat=True))
        assert labels == ["Alice Admin: authenticator app", "Alice Admin: recovery codes"]

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("mfa_generate_recovery_codes")).status_code == 302
    assert AuditEntry.objects.filter(
        space=space_a, action="mfa.recovery_codes_regenerate", actor=admin_a
    ).exists()

    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
    assert not Authenticator.objects.filter(user=admin_a).exists()
    removed = AuditEntry.objects.filter(space=space_b, action="mfa.factor_remove", actor=admin_a)
    assert removed.count() == 2  # the app, and the recovery codes that went with it

    # The person is told of each change by email (the recovery codes that come and go with
    # the first and last factor are not a separate email).
    subjects = [m.subject for m in mail.outbox]
    assert subjects == [
        "Your sign-in changed: an authenticator app was added",
        "Your sign-in changed: new recovery codes were made (the old ones stopped working)",
        "Your sign-in changed: an authenticator app was removed",
    ]
    assert all(m.to == [admin_a.email] for m in mail.outbox)


def test_the_last_factor_cannot_be_removed_while_a_space_requires_it(client, admin_a, space_a):
    enable_totp(admin_a)
    require_mfa(space_a)
    client.force_login(admin_a)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 422
    assert b"Acme University requires a second factor" in response.content
    assert Authenticator.objects.filter(user=admin_a, type=Authenticator.Type.TOTP).exists()
    assert not AuditEntry.objects.filter(action="mfa.factor_remove").exists()


def test_a_code_entered_while_setting_up_must_be_right(client, admin_a, space_a):
    client.force_login(admin_a)
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    secret = page.context["form"].secret
    wrong = f"{(int(totp_code(secret)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("mfa_activate_totp"), {"code": wrong})
    assert response.status_code == 422
    assert b"Incorrect code" in response.content
    assert not Authenticator.objects.filter(user=admin_a).exists()


# ---- The Django admin ------------------------------------------------------------------------


@pytest.fixture
def operator(db):
    return UserFactory(username="olga", is_staff=True, is_superuser=True)


def test_the_admin_requires_a_second_factor_when_required(client, operator, settings):
    settings.ADMIN_REQUIRE_MFA = True
    response = client.post(
        reverse("admin:login"), {"username": "olga", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.status_code == 302  # signed in: no factor yet
    detour = client.get("/admin/", follow=True)
    assert detour.redirect_chain[-1][0] == reverse("accounts:settings") + "#two-factor"
    assert b"The admin needs a second factor" in detour.content

    # With an authenticator app: the admin's sign-in asks for the code, then the admin opens.
    secret = enable_totp(operator)
    client.post(reverse("accounts:logout"))
    response = client.post(
        reverse("admin:login"), {"username": "olga", "password": PASSWORD, "next": "/admin/"}
    )
    assert response.url == reverse("mfa_authenticate")
    done = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert done.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_a_session_without_the_factor_confirms_it_before_the_admin(client, operator, settings):
    settings.ADMIN_REQUIRE_MFA = True
    secret = enable_totp(operator)
    client.force_login(operator)  # a session that never gave the factor
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("mfa_reauthenticate"))
    confirmed = client.post(
        reverse("mfa_reauthenticate") + "?next=/admin/", {"code": totp_code(secret)}
    )
    assert confirmed.status_code == 302 and confirmed.url == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_without_the_requirement_the_admin_opens_as_before(client, operator, settings):
    settings.ADMIN_REQUIRE_MFA = False
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200


def test_production_settings_require_it_by_default():
    code = "from django.conf import settings as s; print(s.ADMIN_REQUIRE_MFA)"
    env = {
        "DEBUG": "0",
        "SECRET_KEY": "x" * 50,
        "DJANGO_SETTINGS_MODULE": "badgeplatform.settings",
        "PATH": "/usr/bin:/bin",
    }
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "True"
    env["ADMIN_REQUIRE_MFA"] = "0"
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); " + code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert run.stdout.strip() == "False"
