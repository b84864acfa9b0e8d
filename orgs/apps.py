from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = "Spaces and organisations"

    def ready(self) -> None:
        from badgeplatform import nav

        nav.register("organisations", "Organisation tree", "orgs:tree", perm=None, order=10)
