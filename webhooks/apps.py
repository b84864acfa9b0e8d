from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Signed webhooks"

    def ready(self) -> None:
        from badgeplatform import nav, runner
        from badgeplatform.permissions import Perm
        from badgeplatform.webhook_events import register_emitter
        from webhooks import delivery, emit

        nav.register("settings", "Webhooks", "webhooks:index", perm=Perm.MANAGE_SETTINGS, order=45)
        register_emitter(emit.emit)
        # The embedded default's retries and expiry events (Celery beat in production).
        runner.register("deliver-webhooks", 2.0, delivery.drain)
        runner.register("webhook-award-expiry", 300.0, emit.emit_expired)
        runner.register("purge-webhook-messages", 3600.0, delivery.purge)
        # The API operations register on the NinjaAPI object when their module is imported.
        from webhooks import api  # noqa: F401
