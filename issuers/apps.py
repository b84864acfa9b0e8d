from django.apps import AppConfig


class IssuersConfig(AppConfig):
    name = "issuers"

    def ready(self) -> None:
        from issuers import holdings

        holdings.register()  # issuers block an organisation's removal until moved
