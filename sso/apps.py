from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from badgeplatform import nav
        from badgeplatform.access import register_entry_check
        from badgeplatform.permissions import Perm
        from sso import policy

        nav.register("settings", "Single sign-on", "sso:index", perm=Perm.MANAGE_SETTINGS, order=47)
        register_entry_check(policy.check)
        user_logged_in.connect(policy.on_logged_in, dispatch_uid="sso.on_logged_in")
