from django.apps import AppConfig


class SsoConfig(AppConfig):
    name = "sso"
    verbose_name = "Single sign-on"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from badgeplatform import nav
        from badgeplatform.access import register_sign_in_policy
        from badgeplatform.permissions import Perm
        from sso import policy

        nav.register("settings", "Single sign-on", "sso:index", perm=Perm.MANAGE_SETTINGS, order=47)
        register_sign_in_policy(policy.check)
        user_logged_in.connect(policy.on_logged_in, dispatch_uid="sso.on_logged_in")
