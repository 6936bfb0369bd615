"""`manage.py reconcile_orders [--store NAME] [--days N]`: compare Amazon's open orders with ours."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connections.models import Store
from fulfillment.locks import JobLockBusy
from fulfillment.services.orders import orders_reconcile


class Command(BaseCommand):
    help = (
        "List Amazon's Unshipped and PartiallyShipped orders of the last N days, import the ones "
        "missing here and report open orders Amazon has closed. Exits 1 if any store failed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Only this store (its nickname). Default: every connected store.")
        parser.add_argument("--days", type=int, default=3)

    def handle(self, *args, store: str | None = None, days: int = 3, **options):
        if days < 1:
            raise CommandError("--days must be at least 1.")
        stores = Store.objects.connected().select_related("marketplace")
        if store:
            stores = Store.objects.select_related("marketplace").filter(name=store)
            if not stores:
                raise CommandError(f"No store named {store!r}.")
        failed = 0
        for s in stores:
            if not (s.is_active and s.is_connected):
                # A store named on the command line is still only reconciled while connected.
                failed += 1
                self.stdout.write(self.style.ERROR(f"{s.name}: FAILED: the store is not connected to Amazon"))
                continue
            try:
                run = orders_reconcile(store=s, days=days)
            except JobLockBusy:
                self.stdout.write(f"{s.name}: skipped, a download is already running")
                continue
            c = run.counts
            line = (
                f"{s.name}: {c.get('listed', 0)} open at Amazon, {c.get('missing', 0)} missing imported, "
                f"{c.get('closed_at_amazon', 0)} open here but closed at Amazon, {run.api_calls} API calls"
            )
            if run.ok:
                self.stdout.write(line + (f"\n  {run.notes}" if run.notes else ""))
            else:
                failed += 1
                self.stdout.write(self.style.ERROR(f"{line}; FAILED: {run.error}"))
        if failed:
            raise CommandError(f"{failed} store(s) failed.", returncode=1)
