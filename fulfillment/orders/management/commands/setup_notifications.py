"""Subscribe every active, connected store to ORDER_CHANGE and unsubscribe the others
(what the `notification-subscriptions` schedule runs every few minutes)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connections.amazon import sqs
from fulfillment.orders.services.notification_setup import notification_subscriptions_sync


class Command(BaseCommand):
    help = "Make every store's ORDER_CHANGE subscription match its connection (idempotent)."

    def handle(self, *args, **options):
        if not sqs.notifications_enabled():
            raise CommandError("SQS_QUEUE_URL is not set: notifications are off.")
        counts = notification_subscriptions_sync()
        changed, unchanged = counts.get("changed", 0), counts.get("unchanged", 0)
        self.stdout.write(f"notification subscriptions: {changed} changed, {unchanged} unchanged")
