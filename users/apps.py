from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users and roles"

    def ready(self) -> None:
        from badgeplatform import nav

        nav.register("settings", "Roles", "users:roles", perm=None, order=10)
