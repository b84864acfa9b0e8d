from django.apps import AppConfig


class ObapiConfig(AppConfig):
    name = "obapi"
    verbose_name = "Open Badges 3.0 API"

    def ready(self) -> None:
        # The recipient's Settings page lists the apps they connected (users sits below us).
        from obapi import connections
        from users import settings_panels

        settings_panels.register("connected_apps", connections.settings_panel, order=20)
        # The backpack: badges added from elsewhere, and "Add to wallet" (badges sits below).
        from badgeplatform import runner
        from badges import backpack_panels
        from obapi import backpack, imports

        backpack_panels.register_list("imported", backpack.imported_section, order=10)
        backpack_panels.register_award("add_to_wallet", backpack.wallet_section, order=10)
        # The embedded default's status re-check of imported badges (Celery beat in production).
        runner.register("recheck-imported-badges", 6 * 3600.0, imports.recheck_stale)
