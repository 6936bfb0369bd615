"""Row makers for the WMS admins (auto-discovered by tests/factories.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

from django.utils import timezone

from fulfillment.inventory.models import InventoryChange, InventoryLevel
from fulfillment.orders.models import Order, OrderLine
from fulfillment.shipments.models import Shipment, ShipmentLine
from fulfillment.wms.models import WarehouseWebhook, WebhookDelivery, WmsApiKey
from fulfillment.wms.services import wms_key_create
from tests.factories import make_store, make_warehouse, register_row_maker

_seq = itertools.count(1)

ADDRESS = {
    "name": "Jane Doe",
    "addressLine1": "1 Main St",
    "city": "Seattle",
    "stateOrRegion": "WA",
    "postalCode": "98101",
    "countryCode": "US",
    "phone": "+1 206-555-0100",
}


def make_released_order(*, store=None, lines=None, status=Order.Status.RELEASED, **kw) -> Order:
    """lines: [(order_item_id, amazon_sku, quantity, [(warehouse_sku, units), ...]), ...]"""
    n = next(_seq)
    now = timezone.now()
    lines = lines or [(f"{n:07d}1", f"AMZ-{n}", 1, [(f"WH-{n}", 1)])]
    defaults = dict(
        amazon_order_id=f"113-{n:07d}-0000002",
        amazon_status="UNSHIPPED",
        status=status,
        service_level="STANDARD",
        purchased_at=now - dt.timedelta(days=1),
        amazon_updated_at=now - dt.timedelta(days=1),
        ship_by_latest=now + dt.timedelta(days=1),
        ship_to_country="US",
        recipient=json.dumps(ADDRESS),
        carrier="UPS",
        ship_code="UPS-GROUND",
        released_at=now - dt.timedelta(hours=20),
    )
    order = Order.objects.create(store=store or make_store(), **{**defaults, **kw})
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            order_item_id=item_id,
            amazon_sku=sku,
            product_code=sku,
            quantity_ordered=qty,
            components=[{"warehouse_sku": w, "units": u} for w, u in parts],
        )
        for item_id, sku, qty, parts in lines
    )
    return order


def make_shipment(*, order=None, **kw) -> Shipment:
    order = order or make_released_order()
    n = next(_seq)
    shipment = Shipment.objects.create(
        order=order,
        package_id=kw.pop("package_id", f"PKG-{n}"),
        package_reference=kw.pop("package_reference", n),
        carrier="UPS",
        tracking_number=f"1Z{n:010d}",
        ship_date=timezone.now(),
        source=Shipment.Source.API,
        **kw,
    )
    ShipmentLine.objects.create(shipment=shipment, order_line=order.lines.first(), quantity=1)
    return shipment


def make_webhook(*, warehouse=None, **kw) -> WarehouseWebhook:
    defaults = dict(url="http://testserver/wms-hook/", secret="s3cret", enabled=True)
    return WarehouseWebhook.objects.create(warehouse=warehouse or make_warehouse(), **{**defaults, **kw})


def make_delivery(**kw) -> WebhookDelivery:
    webhook = kw.pop("webhook", None) or make_webhook()
    order = kw.pop("order", None) or make_released_order(store=make_store(warehouse=webhook.warehouse))
    return WebhookDelivery.objects.create(
        webhook=webhook, order=order, **{"not_before": timezone.now(), **kw}
    )


def make_inventory_level(**kw) -> InventoryLevel:
    n = next(_seq)
    defaults = dict(sku=f"SKU-{n}", available=n, updated_at=timezone.now())
    return InventoryLevel.objects.create(
        warehouse=kw.pop("warehouse", None) or make_warehouse(), **{**defaults, **kw}
    )


def make_inventory_change(**kw) -> InventoryChange:
    n = next(_seq)
    defaults = dict(sku=f"SKU-{n}", available=n, previous=None, changed_at=timezone.now())
    return InventoryChange.objects.create(
        warehouse=kw.pop("warehouse", None) or make_warehouse(), **{**defaults, **kw}
    )


register_row_maker(
    WmsApiKey, lambda n: [wms_key_create(warehouse=make_warehouse(), name="k") for _ in range(n)]
)
register_row_maker(Shipment, lambda n: [make_shipment() for _ in range(n)])
register_row_maker(WarehouseWebhook, lambda n: [make_webhook() for _ in range(n)])
register_row_maker(WebhookDelivery, lambda n: [make_delivery() for _ in range(n)])
register_row_maker(InventoryLevel, lambda n: [make_inventory_level() for _ in range(n)])
register_row_maker(InventoryChange, lambda n: [make_inventory_change() for _ in range(n)])
