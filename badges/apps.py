from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"

    def ready(self) -> None:
        from badgeplatform import mail, nav
        from badgeplatform.permissions import Perm
        from badges import emails

        mail.register_renderer("badge_issued", emails.render_badge_issued)
        nav.register(
            "preparing", "Managing Badges", "badges:index", perm=Perm.CREATE_BADGES, order=10
        )
        nav.register(
            "preparing", "Graphics Library", "graphics:index", perm=Perm.MANAGE_GRAPHICS, order=20
        )
