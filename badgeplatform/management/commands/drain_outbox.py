from django.core.management.base import BaseCommand

from badgeplatform.outbox import drain_outbox


class Command(BaseCommand):
    help = (
        "Send emails that are still waiting in the outbox (the beat task does this every minute)."
    )

    def handle(self, *args, **options):
        sent = drain_outbox()
        self.stdout.write(f"sent {sent} email(s)")
