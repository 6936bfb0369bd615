"""`manage.py pull_orders [--store NAME]`: order download now, one line per store."""

from __future__ import annotations

from fulfillment.jobs.commands import StoreJobCommand
from fulfillment.orders.services.download import OrderDownloadJob


class Command(StoreJobCommand):
    help = "Download new and changed Amazon orders now (with cancellations). Exits 1 if any store failed."
    job_name = "a download or reconciliation"

    def job(self, **options):
        return OrderDownloadJob()

    def summary(self, run) -> str:
        c = run.counts
        line = (
            f"{c.get('new', 0)} new, {c.get('updated', 0)} updated, {c.get('cancelled', 0)} cancelled, "
            f"{c.get('held', 0)} held, {c.get('pages', 0)} pages, {run.api_calls} API calls"
        )
        if c.get("unreadable"):
            line += f"; {c['unreadable']} unreadable order(s) set aside: see Unreadable orders"
        return line
