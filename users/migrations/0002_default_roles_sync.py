"""Bring every space's default roles in line with the catalogue as it stands here.

The pattern for every change of badgeplatform.permissions.DEFAULT_ROLES (users/roles.py):
a new migration like this one, with the catalogue copied in as plain strings (never imported:
this migration must do the same thing whenever it runs), calling default_roles_sync_all.
Custom roles are never touched.
"""

from django.db import migrations

from users.roles import default_roles_sync_all

# DEFAULT_ROLES at this migration: name → (description, permission codes).
CATALOGUE = {
    "Space Administrator": (
        "Everything, across the whole space.",
        [
            "create_badges",
            "issue_badges",
            "manage_api_keys",
            "manage_branding",
            "manage_graphics",
            "manage_groups",
            "manage_issuers",
            "manage_organisations",
            "manage_roles",
            "manage_settings",
            "manage_users",
            "publish_badges",
            "revoke_awards",
            "view_reports",
        ],
    ),
    "Organisation Administrator": (
        "Runs an organisation and everything beneath it: sub-organisations, users, groups, "
        "issuers, graphics, badges, issuing and reports.",
        [
            "create_badges",
            "issue_badges",
            "manage_graphics",
            "manage_groups",
            "manage_issuers",
            "manage_organisations",
            "manage_users",
            "publish_badges",
            "revoke_awards",
            "view_reports",
        ],
    ),
    "Group Administrator": ("Manages the members of a group.", ["manage_groups"]),
    "Badge Creator": (
        "Keeps issuers and graphics; drafts, publishes and withdraws badges.",
        ["create_badges", "manage_graphics", "manage_issuers", "publish_badges"],
    ),
    "Badge Issuer": (
        "Issues published badges and revokes awards.",
        ["issue_badges", "revoke_awards"],
    ),
    "Reporter": ("Reads reports.", ["view_reports"]),
    "User": ("A recipient: keeps their badges, no admin rights.", []),
}


def forward(apps, schema_editor):
    default_roles_sync_all(
        catalogue=CATALOGUE,
        role_model=apps.get_model("users", "Role"),
        space_model=apps.get_model("orgs", "Space"),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("users", "0001_initial"),
    ]

    operations = [
        # Nothing to undo: the roles were brought in line, and stay usable as they are.
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
