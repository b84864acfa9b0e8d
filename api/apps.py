from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API keys and the public API"

    def ready(self) -> None:
        from badgeplatform import nav
        from badgeplatform.permissions import Perm

        nav.register("settings", "API keys", "api_keys:index", perm=Perm.MANAGE_API_KEYS, order=40)
        # The operations register on the NinjaAPI object when their module is imported.
        from api import awards, endpoints  # noqa: F401
