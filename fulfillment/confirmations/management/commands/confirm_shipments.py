"""`manage.py confirm_shipments [--store NAME]`: send pending confirmations now, one line per store."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connections.models import Store
from fulfillment.confirmations.services import confirmations_sweep
from fulfillment.locks import JobLockBusy


class Command(BaseCommand):
    help = "Send pending shipment confirmations to Amazon now. Exits 1 if any store failed."

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Only this store (its nickname). Default: every connected store.")

    def handle(self, *args, store: str | None = None, **options):
        stores = Store.objects.connected().select_related("marketplace", "warehouse")
        if store:
            stores = Store.objects.select_related("marketplace", "warehouse").filter(name=store)
            if not stores:
                raise CommandError(f"No store named {store!r}.")
        failed = 0
        for s in stores:
            if not (s.is_active and s.is_connected):
                failed += 1
                self.stdout.write(self.style.ERROR(f"{s.name}: FAILED: the store is not connected to Amazon"))
                continue
            try:
                run = confirmations_sweep(store=s)
            except JobLockBusy:
                self.stdout.write(f"{s.name}: skipped, a confirmation run is already going")
                continue
            c = run.counts
            line = (
                f"{s.name}: {c.get('sent', 0)} sent, {c.get('accepted', 0)} accepted, "
                f"{c.get('rejected', 0)} rejected, {c.get('retrying', 0)} retrying, "
                f"{run.api_calls} API calls, {run.throttled} throttled"
            )
            if run.ok:
                self.stdout.write(line)
            else:
                failed += 1
                self.stdout.write(self.style.ERROR(f"{line}; FAILED: {run.error}"))
        if failed:
            raise CommandError(f"{failed} store(s) failed.", returncode=1)
