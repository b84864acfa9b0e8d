from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "orgs"
    verbose_name = "Spaces and organisations"

    def ready(self) -> None:
        from badgeplatform import nav
        from badgeplatform.permissions import Perm

        nav.register(
            "organisations",
            "Organisation tree",
            "orgs:tree",
            perm=Perm.MANAGE_ORGANISATIONS,
            order=10,
        )
        nav.register("organisations", "Groups", "orgs:groups", perm=Perm.MANAGE_GROUPS, order=20)
