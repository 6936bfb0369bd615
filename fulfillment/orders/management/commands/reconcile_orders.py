"""`manage.py reconcile_orders [--store NAME] [--days N]`: compare Amazon's open orders with ours."""

from __future__ import annotations

from django.core.management.base import CommandError

from fulfillment.jobs.commands import StoreJobCommand
from fulfillment.orders.services.download import ReconciliationJob


class Command(StoreJobCommand):
    help = (
        "List Amazon's Unshipped and PartiallyShipped orders of the last N days, import the ones "
        "missing here and report open orders Amazon has closed. Exits 1 if any store failed."
    )
    job_name = "a download or reconciliation"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--days", type=int, default=3)

    def handle(self, *args, days: int = 3, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        return super().handle(*args, days=days, **options)

    def job(self, *, days: int = 3, **options):
        return ReconciliationJob(days=days)

    def summary(self, run) -> str:
        c = run.counts
        line = (
            f"{c.get('listed', 0)} open at Amazon, {c.get('missing', 0)} missing imported, "
            f"{c.get('closed_at_amazon', 0)} open here but closed at Amazon, {run.api_calls} API calls"
        )
        return line + (f"\n  {run.notes}" if run.ok and run.notes else "")
