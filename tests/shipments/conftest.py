"""An Amazon order in the sandbox, the same order in the product (released to
the warehouse), and a helper that records a package through the WMS service."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fulfillment.orders.models import Order
from fulfillment.shipments.services.confirmations import confirmations_sweep
from fulfillment.wms.services import ShipmentInput, ShipmentLineInput, shipment_record
from sandbox.models import SandboxOrder, SandboxOrderItem
from sandbox.orders import sandbox_orders_create
from tests.wms.factories import make_released_order

ITEM_A = "11111111111111"  # 2 ordered
ITEM_B = "22222222222222"  # 1 ordered


@pytest.fixture(autouse=True)
def _no_retries_inside_the_client(settings):
    # A 5xx goes straight back to the queue (which owns the backoff) instead of
    # the client sleeping through its own retries.
    settings.SP_API_MAX_ATTEMPTS = 1


@pytest.fixture
def amazon_order(sandbox_seller) -> SandboxOrder:
    order = sandbox_orders_create(seller=sandbox_seller, count=1, seed=8, status="UNSHIPPED")[0]
    SandboxOrderItem.objects.filter(order=order).delete()
    for item_id, sku, quantity in ((ITEM_A, "AMZ-A", 2), (ITEM_B, "AMZ-B", 1)):
        SandboxOrderItem.objects.create(
            order=order,
            order_item_id=item_id,
            sku=sku,
            asin="B000000000",
            title=sku,
            quantity_ordered=quantity,
            unit_price=Decimal("9.99"),
        )
    return order


@pytest.fixture
def order(store, amazon_order) -> Order:
    return make_released_order(
        store=store,
        amazon_order_id=amazon_order.order_id,
        marketplace_id="ATVPDKIKX0DER",
        purchased_at=amazon_order.created_time,
        lines=[(ITEM_A, "AMZ-A", 2, [("WH-A", 1)]), (ITEM_B, "AMZ-B", 1, [("WH-B", 1)])],
    )


@pytest.fixture
def ship(store):
    """Record one package the way the WMS API does: ship(order, {ITEM_A: 1}, carrier=...)."""
    counter = iter(range(1, 1000))

    def record(order: Order, items: dict[str, int], *, carrier="UPS", tracking=None, ship_date=None, **kw):
        n = next(counter)
        shipment, created = shipment_record(
            warehouse=store.warehouse,
            data=ShipmentInput(
                order=str(order.pk),
                package_id=kw.pop("package_id", f"PKG-{n}"),
                carrier=carrier,
                tracking_number=tracking or f"1Z999AA1012345678{n}",
                ship_date=ship_date or timezone.now() - dt.timedelta(minutes=1),
                lines=[ShipmentLineInput(quantity=q, order_item_id=i) for i, q in items.items()],
                **kw,
            ),
            source="api",
        )
        assert created
        return shipment

    return record


@pytest.fixture
def sweep(store):
    """Run the store's sweep; returns (SyncRun, number of queries)."""

    def run(**kw):
        with CaptureQueriesContext(connection) as ctx:
            result = confirmations_sweep(store=store, **kw)
        return result, len(ctx.captured_queries)

    return run
