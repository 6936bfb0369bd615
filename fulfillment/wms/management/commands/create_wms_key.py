from django.core.management.base import BaseCommand, CommandError

from fulfillment.orders.models import Warehouse
from fulfillment.wms.services import wms_key_create


class Command(BaseCommand):
    help = "Create a WMS API key for a warehouse and print it (once: only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--warehouse", required=True, help="Warehouse code, e.g. NJ1.")
        parser.add_argument("--name", default="WMS", help="Who uses the key.")

    def handle(self, *args, warehouse: str, name: str, **options):
        found = Warehouse.objects.filter(code=warehouse).first()
        if found is None:
            raise CommandError(f"No warehouse with code {warehouse!r}.")
        key, plain = wms_key_create(warehouse=found, name=name)
        self.stderr.write(f"Key {key.name!r} for {found.code}: store it now, it is not shown again.")
        self.stdout.write(plain)
