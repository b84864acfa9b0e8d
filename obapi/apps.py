from django.apps import AppConfig


class ObapiConfig(AppConfig):
    name = "obapi"
    verbose_name = "Open Badges 3.0 API"

    def ready(self) -> None:
        # The recipient's Settings page lists the apps they connected (users sits below us).
        from obapi import connections
        from users import settings_panels

        settings_panels.register("connected_apps", connections.settings_panel, order=20)
