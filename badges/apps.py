from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"

    def ready(self) -> None:
        from badgeplatform import mail
        from badges import emails

        mail.register_renderer("badge_issued", emails.render_badge_issued)

        from badges import holdings

        holdings.register()  # badges and awards block an organisation's removal until moved
