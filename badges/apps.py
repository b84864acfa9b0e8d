from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"

    def ready(self) -> None:
        from badgeplatform import mail, nav
        from badgeplatform.permissions import Perm

        nav.register("issuing", "Rules", "rules:index", perm=Perm.ISSUE_BADGES, order=30)
        from badges import emails

        mail.register_renderer("badge_issued", emails.render_badge_issued)
