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
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(
            f"  Admin:      {base_url}/admin/  (user {demo.username}, password {demo.password})"
        )
        self.stdout.write(
            f"  Stores:   {demo.connected_store.name} (connected to the sandbox seller; orders download "
            f"every {demo.connected_store.order_pull_minutes} min, or press 'Pull orders now'), "
            f"{demo.unconnected_store.name} (press 'Authorize' to try Amazon's consent page)"
        )
        self.stdout.write(
            f"  Sandbox:    {demo.sandbox_orders} orders waiting at {base_url}/sandbox/ (Amazon stand-in)"
        )
        self.stdout.write(f"  WMS API:  {base_url}/api/v1/docs/  key (shown once): {demo.wms_key}")
