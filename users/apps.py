from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from badgeplatform import nav
        from badgeplatform.permissions import Perm

        nav.register("users", "All users", "users:list", perm=Perm.MANAGE_USERS, order=10)
        nav.register("users", "Create user", "users:create", perm=Perm.MANAGE_USERS, order=20)
        nav.register(
            "settings",
            "Roles",
            "users:roles",
            perm=(Perm.MANAGE_ROLES, Perm.MANAGE_USERS),
            order=10,
        )
        nav.register("settings", "Security", "users:security", perm=Perm.MANAGE_SETTINGS, order=15)

        from badgeplatform import access, outbox
        from users.access import find_space, load_access

        access.register_loaders(space=find_space, access=load_access)
        from orgs import occupants
        from users.memberships import MembershipOccupants
        from users.services import render_verification_email, render_verification_emails

        # The tree asks the people layer who sits on it (counts, and ending roles when a node
        # or group goes): orgs imports nothing of users.
        occupants.register(MembershipOccupants())

        outbox.register_renderer(
            "verify_email", render_verification_email, batch=render_verification_emails
        )

        # Every change to a person's second factors goes to the audit log (users.mfa).
        from users import mfa

        mfa.connect_signals()
        # A space may require a second factor of its administrators (users.mfa).
        access.register_entry_check(mfa.policy_refusal)
