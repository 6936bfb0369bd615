"""`manage.py push_inventory [--store NAME] [--full]`: inventory push now, one line per store."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connections.models import Store
from fulfillment.inventory.services import inventory_push_run
from fulfillment.locks import JobLockBusy


class Command(BaseCommand):
    help = "Push warehouse quantities to Amazon now (changed SKUs, or all with --full). Exits 1 on failure."

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Only this store (its nickname). Default: every connected store.")
        parser.add_argument("--full", action="store_true", help="Send every activated SKU, not only changes.")

    def handle(self, *args, store: str | None = None, full: bool = False, **options):
        stores = Store.objects.connected().filter(inventory_sync_enabled=True)
        if store:
            stores = Store.objects.filter(name=store)
            if not stores:
                raise CommandError(f"No store named {store!r}.")
        failed = 0
        for s in stores.select_related("marketplace", "warehouse"):
            try:
                run = inventory_push_run(store=s, full=full)
            except JobLockBusy:
                self.stdout.write(f"{s.name}: skipped, a push is already running")
                continue
            c = run.counts
            line = (
                f"{s.name}: {c.get('sent', 0)} SKUs sent in {c.get('feeds', 0)} feeds, "
                f"{c.get('accepted', 0)} accepted, {c.get('rejected', 0)} rejected, "
                f"{c.get('held_for_confirmation', 0)} held for confirmation, "
                f"{c.get('skipped_amazon_fulfilled', 0)} Amazon-fulfilled skipped, {run.api_calls} API calls"
            )
            if run.ok and not c.get("rejected"):
                self.stdout.write(line)
            else:
                failed += 1
                self.stdout.write(self.style.ERROR(f"{line}; FAILED: {run.error or 'rejected SKUs'}"))
        if failed:
            raise CommandError(f"{failed} store(s) failed.", returncode=1)
