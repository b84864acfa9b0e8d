"""The fixed permission catalogue and the default roles every space is seeded with.

Roles store permission codes; the codes live here, in code, so a typo is an error at import
time rather than a silently useless role.
"""

from enum import StrEnum


class Perm(StrEnum):
    MANAGE_ORGANISATIONS = "manage_organisations"
    MANAGE_USERS = "manage_users"
    MANAGE_GROUPS = "manage_groups"
    MANAGE_ROLES = "manage_roles"
    MANAGE_ISSUERS = "manage_issuers"
    MANAGE_GRAPHICS = "manage_graphics"
    CREATE_BADGES = "create_badges"
    PUBLISH_BADGES = "publish_badges"
    ISSUE_BADGES = "issue_badges"
    REVOKE_AWARDS = "revoke_awards"
    REVIEW_APPLICATIONS = "review_applications"
    VIEW_REPORTS = "view_reports"
    MANAGE_BRANDING = "manage_branding"
    MANAGE_SETTINGS = "manage_settings"
    MANAGE_API_KEYS = "manage_api_keys"


PERMISSION_LABELS: dict[Perm, str] = {
    Perm.MANAGE_ORGANISATIONS: "Manage organisations (add, rename, remove sub-organisations)",
    Perm.MANAGE_USERS: "Manage users (create, edit, remove, assign roles)",
    Perm.MANAGE_GROUPS: "Manage groups and their members",
    Perm.MANAGE_ROLES: "Manage custom admin roles",
    Perm.MANAGE_ISSUERS: "Manage issuer profiles",
    Perm.MANAGE_GRAPHICS: "Manage the graphics library",
    Perm.CREATE_BADGES: "Create and edit draft badges",
    Perm.PUBLISH_BADGES: "Publish and withdraw badges",
    Perm.ISSUE_BADGES: "Issue badges",
    Perm.REVOKE_AWARDS: "Revoke awards",
    Perm.REVIEW_APPLICATIONS: "Review badge applications (approve or decline)",
    Perm.VIEW_REPORTS: "View reports",
    Perm.MANAGE_BRANDING: "Manage branding and email content",
    Perm.MANAGE_SETTINGS: "Manage system settings",
    Perm.MANAGE_API_KEYS: "Manage API keys",
}

# "Administrative" permissions: those that change who may do what in the space, its people,
# its structure or its configuration. A space may require a second factor of everyone holding
# a role with any of them (System settings → Security; docs/mfa.md). Creating, publishing,
# issuing and revoking badges and reading reports are the space's everyday work, not
# administration: roles with only those are not affected.
ADMINISTRATIVE = frozenset(
    {
        Perm.MANAGE_ORGANISATIONS,
        Perm.MANAGE_USERS,
        Perm.MANAGE_GROUPS,
        Perm.MANAGE_ROLES,
        Perm.MANAGE_BRANDING,
        Perm.MANAGE_SETTINGS,
        Perm.MANAGE_API_KEYS,
    }
)

# Permissions that only make sense for the whole space; they are checked on the root.
SPACE_WIDE = frozenset(
    {Perm.MANAGE_ROLES, Perm.MANAGE_BRANDING, Perm.MANAGE_SETTINGS, Perm.MANAGE_API_KEYS}
)

SPACE_ADMINISTRATOR = "Space Administrator"
USER_ROLE = "User"

DEFAULT_ROLES: dict[str, tuple[str, frozenset[Perm]]] = {
    SPACE_ADMINISTRATOR: ("Everything, across the whole space.", frozenset(Perm)),
    "Organisation Administrator": (
        "Runs an organisation and everything beneath it: sub-organisations, users, groups, "
        "issuers, graphics, badges, issuing and reports.",
        frozenset(
            {
                Perm.MANAGE_ORGANISATIONS,
                Perm.MANAGE_USERS,
                Perm.MANAGE_GROUPS,
                Perm.MANAGE_ISSUERS,
                Perm.MANAGE_GRAPHICS,
                Perm.CREATE_BADGES,
                Perm.PUBLISH_BADGES,
                Perm.ISSUE_BADGES,
                Perm.REVOKE_AWARDS,
                Perm.REVIEW_APPLICATIONS,
                Perm.VIEW_REPORTS,
            }
        ),
    ),
    "Group Administrator": ("Manages the members of a group.", frozenset({Perm.MANAGE_GROUPS})),
    "Badge Creator": (
        "Keeps issuers and graphics; drafts, publishes and withdraws badges.",
        frozenset(
            {
                Perm.MANAGE_ISSUERS,
                Perm.MANAGE_GRAPHICS,
                Perm.CREATE_BADGES,
                Perm.PUBLISH_BADGES,
            }
        ),
    ),
    "Badge Issuer": (
        "Issues published badges, revokes awards and reviews applications for badges.",
        frozenset({Perm.ISSUE_BADGES, Perm.REVOKE_AWARDS, Perm.REVIEW_APPLICATIONS}),
    ),
    "Reporter": ("Reads reports.", frozenset({Perm.VIEW_REPORTS})),
    USER_ROLE: ("A recipient: keeps their badges, no admin rights.", frozenset()),
}
