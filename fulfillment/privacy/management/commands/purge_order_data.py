"""`manage.py purge_order_data [--dry-run] [--days N]`: delete order data past its retention."""

from __future__ import annotations

from django.core.management.base import CommandError

from fulfillment.jobs.commands import GlobalJobCommand
from fulfillment.privacy.services import order_data_purge
from fulfillment.privacy.tasks import OrderDataPurgeJob


class Command(GlobalJobCommand):
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
        if dry_run:
            # Nothing is deleted, so no run: the counts are printed only.
            self._print(order_data_purge(days=days, dry_run=True), verb="would delete", every=True)
            return
        super().handle(*args, days=days, **options)

    def job(self, *, days: int | None = None, **options):
        return OrderDataPurgeJob(days=days)

    def summary(self, run) -> str:
        return self._lines(run.counts, verb="deleted", every=False)

    def _lines(self, counts: dict[str, int], *, verb: str, every: bool) -> str:
        lines = [f"{label}: {verb} {count}" for label, count in counts.items() if count or every]
        lines.append(f"{verb} {sum(counts.values())} row(s) in total")
        return "\n".join(lines)

    def _print(self, counts: dict[str, int], *, verb: str, every: bool) -> None:
        self.stdout.write(self._lines(counts, verb=verb, every=every))
