from django.apps import AppConfig


class BadgePlatformConfig(AppConfig):
    name = "badgeplatform"
    verbose_name = "Platform core"

    def ready(self) -> None:
        from badgeplatform import nav, ratelimit, startup  # noqa: F401 - both register a check
        from badgeplatform.permissions import Perm

        nav.register("settings", "Audit log", "audit_log", perm=Perm.MANAGE_SETTINGS, order=90)
