"""Default roles gain "review badge applications" (issue 17, applications): Space and
Organisation Administrators and Badge Issuers review the applications for the badges they
issue. The catalogue is copied in as plain strings, as users/roles.py asks."""

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
            "review_applications",
            "revoke_awards",
            "view_reports",
        ],
    ),
    "Organisation Administrator": (
        "Runs an organisation and everything beneath it: "
        "sub-organisations, users, groups, issuers, graphics, badges, "
        "issuing and reports.",
        [
            "create_badges",
            "issue_badges",
            "manage_graphics",
            "manage_groups",
            "manage_issuers",
            "manage_organisations",
            "manage_users",
            "publish_badges",
            "review_applications",
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
        "Issues published badges, revokes awards and reviews applications for badges.",
        ["issue_badges", "review_applications", "revoke_awards"],
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
        ("users", "0002_default_roles_sync"),
    ]

    operations = [
        migrations.RunPython(forward, migrations.RunPython.noop),
    ]
