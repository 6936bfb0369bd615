"""connect_store: create or update a connected store without the browser flow."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from connections.errors import AuthorizationRefused
from connections.selectors import UnknownMarketplace
from connections.services import store_connect
from fulfillment.jobs.schedules import schedules_sync


class Command(BaseCommand):
    help = (
        "Create or update a connected Amazon store (and its warehouse if new) from a refresh token, "
        "once Amazon confirms the seller sells in the marketplace."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="The store's nickname (unique).")
        parser.add_argument(
            "--marketplace",
            required=True,
            help="Country code as ISO or Amazon spell it (US, DE, GB or UK) or a marketplace id.",
        )
        parser.add_argument("--selling-partner-id", required=True)
        parser.add_argument("--refresh-token", required=True, help="LWA refresh token (stored encrypted).")
        parser.add_argument("--warehouse", help="Warehouse code; created if new.")

    def handle(self, *args, **options):
        try:
            store, created = store_connect(
                name=options["name"],
                marketplace_code=options["marketplace"],
                selling_partner_id=options["selling_partner_id"],
                refresh_token=options["refresh_token"],
                warehouse_code=options["warehouse"],
            )
        except UnknownMarketplace as exc:
            raise CommandError(str(exc)) from exc
        except AuthorizationRefused as exc:
            raise CommandError(f"{exc.message} Nothing was changed.") from exc
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        schedules_sync(store=store)  # its jobs start on their schedules
        verb = "created" if created else "updated"
        self.stdout.write(
            f"{store.name}: {verb}, connected as {store.selling_partner_id} in "
            f"{store.marketplace.code}, warehouse {store.warehouse.code}"
        )
