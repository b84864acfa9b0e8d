"""Default roles follow the catalogue: new spaces get it, a data migration brings existing
spaces along, custom roles are never touched (users/roles.py)."""

import importlib
import pkgutil

import pytest
from django.apps import apps as global_apps

import users.migrations
from badgeplatform.permissions import DEFAULT_ROLES, Perm
from tests.factories import make_role, make_space
from users.models import Role
from users.roles import current_catalogue, default_roles_sync

SYNC_MIGRATIONS = sorted(
    m.name for m in pkgutil.iter_modules(users.migrations.__path__) if "default_roles" in m.name
)


def migration(name: str):
    return importlib.import_module(f"users.migrations.{name}")


def roles_of(space) -> dict[str, Role]:
    return {r.name: r for r in Role.objects.filter(space=space)}


def as_catalogue(space) -> dict[str, tuple[str, list[str]]]:
    return {
        r.name: (r.description, sorted(r.permissions))
        for r in Role.objects.filter(space=space, is_default=True)
    }


def test_a_new_space_gets_exactly_the_catalogue(db):
    space = make_space("Acme", "acme")
    assert as_catalogue(space) == current_catalogue()
    assert set(current_catalogue()) == set(DEFAULT_ROLES)


@pytest.fixture
def old_space(db):
    """A space made under an older catalogue: one default role narrower and described
    differently, one missing altogether, and two custom roles of its own."""
    space = make_space("Old Town", "old-town")
    Role.objects.filter(space=space, name="Badge Issuer").update(
        permissions=["issue_badges"], description="Issues badges."
    )
    Role.objects.filter(space=space, name="Reporter").delete()
    make_role(space, "Archivist", [Perm.VIEW_REPORTS])
    make_role(space, "Everything but roles", [p for p in Perm if p != Perm.MANAGE_ROLES])
    return space


def test_the_migration_brings_an_old_space_in_line_and_leaves_custom_roles(old_space):
    custom_before = {
        r.pk: (r.name, r.description, list(r.permissions))
        for r in Role.objects.filter(space=old_space, is_default=False)
    }
    migration(SYNC_MIGRATIONS[0]).forward(global_apps, schema_editor=None)

    roles = roles_of(old_space)
    assert roles["Badge Issuer"].permissions == ["issue_badges", "revoke_awards"]
    assert roles["Badge Issuer"].description == "Issues published badges and revokes awards."
    assert roles["Reporter"].is_default and roles["Reporter"].permissions == ["view_reports"]
    assert as_catalogue(old_space) == migration(SYNC_MIGRATIONS[0]).CATALOGUE
    custom_after = {
        r.pk: (r.name, r.description, list(r.permissions))
        for r in Role.objects.filter(space=old_space, is_default=False)
    }
    assert custom_after == custom_before


def test_a_changed_catalogue_reaches_every_space_and_is_idempotent(old_space):
    other = make_space("Beta", "beta")
    held = Role.objects.get(space=other, name="Reporter").pk
    newer = {
        **current_catalogue(),
        "Reporter": ("Reads reports and exports them.", ["view_reports", "manage_graphics"]),
        "Auditor": ("Reads the audit log.", ["manage_settings"]),
    }
    for space in (old_space, other):
        result = default_roles_sync(space_id=space.pk, catalogue=newer)
        assert "Auditor" in result.created
        assert as_catalogue(space) == {k: (d, sorted(p)) for k, (d, p) in newer.items()}
    # The role people hold is updated in place, not replaced.
    assert Role.objects.get(space=other, name="Reporter").pk == held
    again = default_roles_sync(space_id=other.pk, catalogue=newer)
    assert again.created == again.updated == []


def test_a_custom_role_with_a_new_default_roles_name_is_left_alone(old_space):
    custom = make_role(old_space, "Auditor", [Perm.VIEW_REPORTS])
    newer = {**current_catalogue(), "Auditor": ("Reads the audit log.", ["manage_settings"])}
    result = default_roles_sync(space_id=old_space.pk, catalogue=newer)
    assert result.name_taken_by_custom == ["Auditor"]
    custom.refresh_from_db()
    assert not custom.is_default and custom.permissions == [Perm.VIEW_REPORTS]


def test_the_last_catalogue_migration_matches_default_roles():
    """When DEFAULT_ROLES changes, add a users migration like 0002_default_roles_sync with the
    new table (see users/roles.py): existing spaces must be brought along."""
    assert SYNC_MIGRATIONS, "users/migrations has no default roles migration"
    latest = migration(SYNC_MIGRATIONS[-1]).CATALOGUE
    assert {k: (d, sorted(p)) for k, (d, p) in latest.items()} == current_catalogue(), (
        "DEFAULT_ROLES changed without a data migration: add "
        "users/migrations/00NN_default_roles_<what>.py that calls default_roles_sync_all "
        "with the new table."
    )
