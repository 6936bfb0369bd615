"""Idempotent demo data for `make demo`: an admin user, a warehouse, a store."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from connections.models import Marketplace, Store
from fulfillment.models import Warehouse

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "demo-admin-password"  # noqa: S105 - printed for the demo only


class Command(BaseCommand):
    help = "Create (or refresh) the demo admin user, warehouse and store. Safe to run again."

    def add_arguments(self, parser):
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args, base_url: str, **options):
        from django.conf import settings

        if not settings.DEBUG:
            raise CommandError("demo_setup creates a known password: run it with DEBUG=1 only.")
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"email": "admin@example.com"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(DEMO_PASSWORD)
        user.save()

        warehouse, _ = Warehouse.objects.update_or_create(
            code="DEMO",
            defaults=dict(
                name="Demo Warehouse",
                time_zone="America/New_York",
                operations_email="ops@example.com",
                address_name="Demo Warehouse",
                address_line1="1 Fulfillment Way",
                city="Edison",
                state_or_region="NJ",
                postal_code="08817",
                country_code="US",
            ),
        )
        store, _ = Store.objects.get_or_create(
            name="Demo Store US",
            defaults=dict(
                marketplace=Marketplace.objects.get(code="US"),
                warehouse=warehouse,
                merchant_email="merchant@example.com",
            ),
        )
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        self.stdout.write(f"  Admin:    {base_url}/admin/")
        self.stdout.write(f"  User:     {DEMO_USERNAME}")
        self.stdout.write(f"  Password: {DEMO_PASSWORD}")
        self.stdout.write(f"  Store:    {store.name} ({store.get_authorization_status_display()})")
