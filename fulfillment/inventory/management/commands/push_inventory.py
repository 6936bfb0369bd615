"""`manage.py push_inventory [--store NAME] [--full]`: inventory push now, one line per store."""

from __future__ import annotations

from fulfillment.inventory.services import InventoryPushJob
from fulfillment.jobs.commands import StoreJobCommand


class Command(StoreJobCommand):
    help = "Push warehouse quantities to Amazon now (changed SKUs, or all with --full). Exits 1 on failure."
    job_name = "a push"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--full", action="store_true", help="Send every activated SKU, not only changes.")

    def eligible_stores(self):
        return super().eligible_stores().filter(inventory_sync_enabled=True)

    def job(self, *, full: bool = False, **options):
        return InventoryPushJob(full=full)

    def summary(self, run) -> str:
        c = run.counts
        return (
            f"{c.get('sent', 0)} SKUs sent in {c.get('feeds', 0)} feeds, {c.get('accepted', 0)} accepted, "
            f"{c.get('rejected', 0)} rejected, {c.get('held_for_confirmation', 0)} held for confirmation, "
            f"{c.get('skipped_amazon_fulfilled', 0)} Amazon-fulfilled skipped, {run.api_calls} API calls"
        )

    def failed(self, run):
        # A SKU Amazon rejected is a failure a person must look at.
        if run.ok and run.counts.get("rejected"):
            return "rejected SKUs"
        return super().failed(run)
