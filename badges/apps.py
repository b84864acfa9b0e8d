from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"

    def ready(self) -> None:
        from badgeplatform import mail
        from badges import emails
        from badges.openbadges import tasks  # noqa: F401 - registers credential signing

        mail.register_renderer("badge_issued", emails.render_badge_issued)
