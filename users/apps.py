from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from badgeplatform import nav

        nav.register("settings", "Roles", "users:roles", perm=None, order=10)

        from badgeplatform import mail
        from users.services import render_verification_email

        mail.register_renderer("verify_email", render_verification_email)
