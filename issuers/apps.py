from django.apps import AppConfig


class IssuersConfig(AppConfig):
    name = "issuers"

    def ready(self) -> None:
        from badgeplatform import nav
        from badgeplatform.permissions import Perm

        nav.register("preparing", "Issuers", "issuers:index", perm=Perm.MANAGE_ISSUERS, order=30)

        from issuers import holdings

        holdings.register()  # issuers block an organisation's removal until moved
