"""Consume Amazon's ORDER_CHANGE notifications from the SQS queue (next to qcluster;
run one or many, on any machine). SIGTERM/SIGINT finish the current batch and stop."""

from __future__ import annotations

import logging
import signal
import time

from django.core.management.base import BaseCommand, CommandError

from connections.amazon import sqs
from fulfillment.jobs.errors import safe_error
from fulfillment.orders.services.notifications import notifications_consume_once

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Long-poll the SQS queue for ORDER_CHANGE notifications and import each order."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="One cycle, then exit (tests, cron).")
        parser.add_argument("--wait", type=int, default=20, help="Long-poll seconds (0-20).")

    def handle(self, *args, once: bool = False, wait: int = 20, **options):
        if not sqs.notifications_enabled():
            raise CommandError(
                "SQS_QUEUE_URL is not set: notifications are off, orders arrive by the download."
            )
        self.stopping = False

        def stop(signum, frame):
            self.stopping = True
            logger.info("consume_notifications: signal %s, stopping after this batch", signum)

        if not once:
            signal.signal(signal.SIGTERM, stop)
            signal.signal(signal.SIGINT, stop)
        wait = max(0, min(20, wait))
        while True:
            try:
                counts = notifications_consume_once(wait_seconds=wait)
            except sqs.QueueError as exc:
                logger.warning("consume_notifications: %s; trying again", exc)
                counts = None
                if not once:
                    time.sleep(5)
            except Exception as exc:
                if once:
                    raise
                # The database went away, say: the messages come back; keep the process up.
                logger.error("consume_notifications: cycle failed: %s; trying again", safe_error(exc))
                counts = None
                time.sleep(5)
            if counts and sum(counts.values()):
                summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()) if v)
                logger.info("notifications: %s", summary)
                if once:
                    self.stdout.write(summary)
            if once or self.stopping:
                return
