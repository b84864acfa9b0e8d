from django.apps import AppConfig


class BadgesConfig(AppConfig):
    name = "badges"

    def ready(self) -> None:
        from badgeplatform import nav, outbox
        from badgeplatform.permissions import Perm
        from badges import emails, holdings, keys_views
        from badges.openbadges import publish, tasks  # noqa: F401 - tasks: credential signing

        publish.connect_change_signals()

        outbox.register_renderer(
            "badge_issued", emails.render_badge_issued, batch=emails.render_badge_issued_batch
        )
        outbox.register_renderer("award_status", emails.render_award_status)
        from badgeplatform import runner
        from badges import expiry

        outbox.register_renderer(expiry.EMAIL_KIND, expiry.render_award_expiry)
        # Expiry reminders and "expired" emails: the embedded default's stand-in for the beat.
        runner.register("award-expiry-emails", expiry.EXPIRY_JOB_EVERY, expiry.expiry_emails_send)
        # The issuer page's "Signing keys" section (keys are badges' data, issuers sit below).
        from issuers import panels

        panels.register("signing_keys", keys_views.signing_keys_panel, order=10)
        holdings.register()  # badges and awards block an organisation's removal until moved;
        # a person's awards show on their summary page

        nav.register(
            "preparing", "Managing Badges", "badges:index", perm=Perm.CREATE_BADGES, order=10
        )
        nav.register(
            "preparing", "Graphics Library", "graphics:index", perm=Perm.MANAGE_GRAPHICS, order=20
        )
        nav.register("issuing", "Issue a badge", "issuing:start", perm=Perm.ISSUE_BADGES, order=10)
        nav.register("issuing", "Awards", "issuing:awards", perm=Perm.ISSUE_BADGES, order=20)
        nav.register("issuing", "Rules", "rules:index", perm=Perm.ISSUE_BADGES, order=25)
        nav.register(
            "issuing", "Issue history", "issuing:history", perm=Perm.ISSUE_BADGES, order=30
        )
        nav.register(
            "issuing",
            "Applications",
            "applications:queue",
            perm=Perm.REVIEW_APPLICATIONS,
            order=35,
        )
