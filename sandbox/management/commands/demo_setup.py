"""Idempotent demo data for `make demo` (see sandbox/demo.py)."""

from base64 import b32encode
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from fulfillment.accounts.services import mfa_device_ensure
from sandbox.demo import demo_data_ensure
from sandbox.inprocess import serve_in_process


class Command(BaseCommand):
    help = "Create (or refresh) the demo admin, warehouse, stores, mappings and sandbox orders."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    def handle(self, *args, base_url: str, **options):
        if not settings.DEBUG or not settings.SANDBOX_ENABLED:
            raise CommandError(
                "demo_setup creates a known password: run it with DEBUG=1 SANDBOX_ENABLED=1 only."
            )
        # The demo's web server is not up yet, and connecting the demo store asks
        # "Amazon" (the sandbox on that server) whether the seller sells in the US:
        # let the sandbox answer this process's calls in-process meanwhile.
        endpoint_host = urlsplit(settings.SP_API_ENDPOINT).hostname
        if endpoint_host:
            serve_in_process(hosts=(endpoint_host,))
        demo = demo_data_ensure()
        store, other = demo.connected_store, demo.unconnected_store
        # Enrolled once, same key on every start: with ADMIN_MFA_REQUIRED=1 the
        # demo asks for its codes (DEBUG alone leaves the second factor off).
        device = mfa_device_ensure(user=get_user_model().objects.get(username=demo.username))
        mfa = (
            "required"
            if settings.ADMIN_MFA_REQUIRED
            else "off (DEBUG); ADMIN_MFA_REQUIRED=1 make demo asks for it"
        )
        lines = [
            f"Admin:    {base_url}/admin/",
            f"Login:    {demo.username} / {demo.password}",
            f"2FA:      {mfa}; authenticator key {b32encode(device.bin_key).decode()}",
            f"          ({device.config_url})",
            f"Stores:   {store.name}, connected to the sandbox seller: orders download every "
            f"{store.order_pull_minutes} min (or 'Pull orders now');",
            f"          {other.name}, not connected: press 'Authorize' to try Amazon's consent page.",
            f"Sandbox:  {demo.sandbox_orders} orders at {base_url}/sandbox/ (Amazon's stand-in)",
            f"WMS API:  {base_url}/api/v1/docs/  key (shown once): {demo.wms_key}",
        ]
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        for line in lines:
            self.stdout.write(f"  {line}")
