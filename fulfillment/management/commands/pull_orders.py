"""`manage.py pull_orders [--store NAME]`: order download now, one line per store."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from connections.models import Store
from fulfillment.locks import JobLockBusy
from fulfillment.services.orders import orders_pull


class Command(BaseCommand):
    help = "Download new and changed Amazon orders now (with cancellations). Exits 1 if any store failed."

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Only this store (its nickname). Default: every connected store.")

    def handle(self, *args, store: str | None = None, **options):
        stores = Store.objects.connected().select_related("marketplace")
        if store:
            stores = Store.objects.select_related("marketplace").filter(name=store)
            if not stores:
                raise CommandError(f"No store named {store!r}.")
        failed = 0
        for s in stores:
            try:
                run = orders_pull(store=s)
            except JobLockBusy:
                self.stdout.write(f"{s.name}: skipped, a download is already running")
                continue
            c = run.counts
            line = (
                f"{s.name}: {c.get('new', 0)} new, {c.get('updated', 0)} updated, "
                f"{c.get('cancelled', 0)} cancelled, {c.get('held', 0)} held, "
                f"{c.get('pages', 0)} pages, {run.api_calls} API calls"
            )
            if run.ok:
                self.stdout.write(line)
            else:
                failed += 1
                self.stdout.write(self.style.ERROR(f"{line}; FAILED: {run.error}"))
        if failed:
            raise CommandError(f"{failed} store(s) failed.", returncode=1)
