from django.apps import AppConfig


class BadgePlatformConfig(AppConfig):
    name = "badgeplatform"
    verbose_name = "Platform core"

    def ready(self) -> None:
        from badgeplatform import nav, ratelimit, startup  # noqa: F401 - both register a check
        from badgeplatform.permissions import Perm

        nav.register("settings", "Audit log", "audit_log", perm=Perm.MANAGE_SETTINGS, order=90)

        # The embedded default's stand-in for the Celery beat (badgeplatform.runner).
        from badgeplatform import outbox, runner

        # With no broker the drain is the only sender: no grace period for a queued task.
        runner.register("drain-email-outbox", 60.0, lambda: outbox.drain_outbox(grace_seconds=0))
        if runner.should_start():
            runner.start()
