"""`manage.py purge_order_data [--dry-run] [--days N]`: delete order data past its retention."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from fulfillment.privacy.services import order_data_purge


class Command(BaseCommand):
    help = (
        "Delete closed orders (with lines, shipments, confirmations), sync runs, inventory history and "
        "alerts older than ORDER_DATA_RETENTION_DAYS, and access log entries older than "
        "ACCESS_LOG_RETENTION_DAYS, in small batches. Also runs daily as a django-q2 schedule."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Print what would be deleted; delete nothing."
        )
        parser.add_argument(
            "--days",
            type=int,
            help="Order data retention in days for this run (default: ORDER_DATA_RETENTION_DAYS).",
        )

    def handle(self, *args, dry_run: bool = False, days: int | None = None, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more.")
        counts = order_data_purge(days=days, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for label, count in counts.items():
            if count or dry_run:
                self.stdout.write(f"{label}: {verb} {count}")
        self.stdout.write(f"{verb} {sum(counts.values())} row(s) in total")
