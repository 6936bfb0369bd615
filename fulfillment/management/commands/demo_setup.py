"""Idempotent demo data for `make demo` (see fulfillment/services/demo.py)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from fulfillment.services.demo import demo_data_ensure


class Command(BaseCommand):
    help = "Create (or refresh) the demo admin, warehouse, stores, mappings and sandbox orders."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, base_url: str, **options):
        if not settings.DEBUG or not settings.SANDBOX_ENABLED:
            raise CommandError(
                "demo_setup creates a known password: run it with DEBUG=1 SANDBOX_ENABLED=1 only."
            )
        demo = demo_data_ensure()
        store, other = demo.connected_store, demo.unconnected_store
        lines = [
            f"Admin:    {base_url}/admin/",
            f"Login:    {demo.username} / {demo.password}",
            f"Stores:   {store.name}, connected to the sandbox seller: orders download every "
            f"{store.order_pull_minutes} min (or 'Pull orders now');",
            f"          {other.name}, not connected: press 'Authorize' to try Amazon's consent page.",
            f"Sandbox:  {demo.sandbox_orders} orders at {base_url}/sandbox/ (Amazon's stand-in)",
            f"WMS API:  {base_url}/api/v1/docs/  key (shown once): {demo.wms_key}",
        ]
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for line in lines:
            self.stdout.write(f"  {line}")
