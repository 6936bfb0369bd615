"""Demo data for `make demo`: a working store against the sandbox, idempotent.

Everything is created through the same services a warehouse uses, so the demo
shows the product's real behaviour: the store is connected like
`connect_store` does, inventory arrives like a WMS posts it, and orders come
from the sandbox through the scheduled download.

It lives in the sandbox because it seeds Amazon's side too: the sandbox may use
the product, never the other way round (the product imports no sandbox code).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from connections.models import Marketplace, Store
from connections.services import store_connect
from fulfillment.inventory.levels import inventory_update
from fulfillment.jobs.schedules import schedules_sync
from fulfillment.orders.models import Warehouse
from fulfillment.wms.services import wms_key_create
from mappings.models import ShippingMethodMapping, SkuMapping

from .listings import sandbox_listing_upsert
from .models import SandboxOrder
from .orders import SANDBOX_CATALOG, sandbox_orders_create
from .sellers import sandbox_application_ensure, sandbox_seller_ensure

DEMO_USERNAME = "admin"
DEMO_PASSWORD = "demo-admin-password"  # noqa: S105 - printed for the demo only
DEMO_SELLER_ID = "A1DEMOSELLER01"
DEMO_REFRESH_TOKEN = "Atzr|demo-seller-refresh-token"  # noqa: S105 - a sandbox token
DEMO_ORDERS = 40

# Marketplace -> Amazon service level -> (warehouse carrier, ship code): each
# marketplace's defaults, in its own country's carriers. A level a marketplace
# leaves out (SameDay in Germany) holds its orders with a reason: no store
# borrows another country's carrier.
DEMO_SHIPPING = {
    "US": {
        "STANDARD": ("USPS", "USPS_GROUND_ADVANTAGE"),
        "FREE_ECONOMY": ("USPS", "USPS_GROUND_ADVANTAGE"),
        "EXPEDITED": ("UPS", "UPS_GROUND"),
        "SECOND_DAY": ("UPS", "UPS_2ND_DAY_AIR"),
        "NEXT_DAY": ("FedEx", "FEDEX_STANDARD_OVERNIGHT"),
        "PRIORITY": ("FedEx", "FEDEX_PRIORITY_OVERNIGHT"),
        "SAME_DAY": ("FedEx", "FEDEX_SAME_DAY"),
        "SCHEDULED": ("UPS", "UPS_GROUND"),
    },
    "CA": {
        "STANDARD": ("Canada Post", "CPC_REGULAR_PARCEL"),
        "FREE_ECONOMY": ("Canada Post", "CPC_REGULAR_PARCEL"),
        "EXPEDITED": ("Canada Post", "CPC_EXPEDITED_PARCEL"),
        "SECOND_DAY": ("Purolator", "PUROLATOR_EXPRESS"),
        "NEXT_DAY": ("Purolator", "PUROLATOR_EXPRESS_9AM"),
        "PRIORITY": ("Canada Post", "CPC_PRIORITY"),
    },
    "DE": {
        "STANDARD": ("DHL Paket", "DHL_PAKET"),
        "FREE_ECONOMY": ("Deutsche Post", "DP_WARENPOST"),
        "EXPEDITED": ("DPD", "DPD_CLASSIC"),
        "NEXT_DAY": ("DPD", "DPD_EXPRESS_12"),
        "PRIORITY": ("DHL Express", "DHL_EXPRESS_DOMESTIC"),
    },
    "GB": {
        "STANDARD": ("Royal Mail", "RM_TRACKED_48"),
        "FREE_ECONOMY": ("Royal Mail", "RM_TRACKED_48"),
        "EXPEDITED": ("Royal Mail", "RM_TRACKED_24"),
        "NEXT_DAY": ("DPD", "DPD_UK_NEXT_DAY"),
        "PRIORITY": ("Royal Mail", "RM_SPECIAL_DELIVERY_1PM"),
    },
}
# The sandbox's starter kit ships as a mug and a bottle.
DEMO_KIT = ("ACME-KIT-STARTER", [("ACME-MUG-11OZ", 1), ("ACME-BOTTLE-750", 1)])
# Left unmapped on purpose: orders with it are held ("no SKU mapping"), so the
# demo shows a hold that a person fixes (add the mapping, then Re-check holds).
DEMO_UNMAPPED_SKU = "ACME-CABLE-USB-C"


@dataclass
class DemoData:
    username: str
    password: str
    connected_store: Store
    unconnected_store: Store
    wms_key: str
    sandbox_orders: int


@transaction.atomic
def demo_data_ensure() -> DemoData:
    user, _ = get_user_model().objects.get_or_create(
        username=DEMO_USERNAME, defaults={"email": "admin@example.com"}
    )
    user.is_staff = user.is_superuser = True
    user.set_password(DEMO_PASSWORD)
    user.save()

    warehouse, _ = Warehouse.objects.update_or_create(
        code="DEMO",
        defaults={
            "name": "Demo Warehouse",
            "time_zone": "America/New_York",
            "operations_email": "ops@example.com",
            "address_name": "Demo Warehouse",
            "address_line1": "1 Fulfillment Way",
            "city": "Edison",
            "state_or_region": "NJ",
            "postal_code": "08817",
            "country_code": "US",
        },
    )

    # Amazon's side: the app, a seller selling in the US and Canada, its listings and orders.
    sandbox_application_ensure()
    seller = sandbox_seller_ensure(
        selling_partner_id=DEMO_SELLER_ID,
        name="Acme Home Goods",
        marketplace_codes=("US", "CA"),
        refresh_token=DEMO_REFRESH_TOKEN,
    )
    # Two accounts a store must not be connected to: try them on the consent page of "Acme Canada".
    sandbox_seller_ensure(
        selling_partner_id="A2GLOBEXDEONLY", name="Globex (sells in Germany only)", marketplace_codes=("DE",)
    )
    sandbox_seller_ensure(
        selling_partner_id="A3INITECHSUSP",
        name="Initech (account suspended in Canada)",
        marketplace_codes=("US",),
        not_participating_in=("CA",),
    )
    for sku, asin, title, _price in SANDBOX_CATALOG:
        sandbox_listing_upsert(seller=seller, sku=sku, asin=asin, title=title, quantity=0)
    if not SandboxOrder.objects.filter(seller=seller).exists():
        sandbox_orders_create(seller=seller, count=DEMO_ORDERS, seed=2026)

    # Our side: one store connected as `connect_store` would, one to authorize in the browser.
    connected, _ = store_connect(
        name="Acme US",
        marketplace_code="US",
        selling_partner_id=DEMO_SELLER_ID,
        refresh_token=DEMO_REFRESH_TOKEN,
        warehouse_code=warehouse.code,
    )
    schedules_sync(store=connected)  # its download runs every order_pull_minutes
    # Only mapped SKUs ship (the store's choice): DEMO_UNMAPPED_SKU's orders are held.
    Store.objects.filter(pk=connected.pk).update(unmapped_sku_is_warehouse_sku=False)
    unconnected, _ = Store.objects.get_or_create(
        name="Acme Canada",
        defaults={
            "marketplace": Marketplace.objects.get(code="CA"),
            "warehouse": warehouse,
            "merchant_email": "merchant@example.com",
        },
    )

    marketplaces = Marketplace.objects.in_bulk(list(DEMO_SHIPPING), field_name="code")
    for code, levels in DEMO_SHIPPING.items():
        for level, (carrier, ship_code) in levels.items():
            ShippingMethodMapping.objects.update_or_create(
                store=None,
                marketplace=marketplaces[code],
                service_level=level,
                prime=None,
                defaults={"carrier": carrier, "ship_code": ship_code},
            )
    kit_sku, kit_components = DEMO_KIT

    def components(sku: str) -> list[tuple[str, int]]:
        return kit_components if sku == kit_sku else [(sku, 1)]

    for sku, _asin, _title, _price in SANDBOX_CATALOG:
        if sku == DEMO_UNMAPPED_SKU:
            continue
        for warehouse_sku, units in components(sku):
            SkuMapping.objects.update_or_create(
                store=connected,
                amazon_sku=sku,
                warehouse_sku=warehouse_sku,
                defaults={"units": units, "sync_inventory": True, "buffer": 0},
            )
    stock = sorted({w for sku, *_ in SANDBOX_CATALOG for w, _units in components(sku)})
    inventory_update(
        warehouse=warehouse, items=[(sku, 25 + 7 * i) for i, sku in enumerate(stock)], complete=True
    )

    _key, plain_key = wms_key_create(warehouse=warehouse, name="Demo WMS")
    return DemoData(
        username=DEMO_USERNAME,
        password=DEMO_PASSWORD,
        connected_store=connected,
        unconnected_store=unconnected,
        wms_key=plain_key,
        sandbox_orders=SandboxOrder.objects.filter(seller=seller).count(),
    )
