"""A whole order's life on the warehouse side: pulled from the sandbox, released,
fetched and acknowledged by API, shipped in two packages, inventory posted."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.inventory.levels import inventory_update
from fulfillment.inventory.models import InventoryLevel
from fulfillment.inventory.selectors import inventory_changed_since
from fulfillment.orders.models import Order
from fulfillment.orders.services.download import orders_pull
from fulfillment.shipments.models import Shipment
from fulfillment.wms.services import wms_key_create
from mappings.models import ServiceLevel, ShippingMethodMapping
from sandbox.orders import SANDBOX_CATALOG, sandbox_orders_create


@pytest.fixture
def shipping_for_every_level(store):
    for level in ServiceLevel.values:
        ShippingMethodMapping.objects.create(
            store=store, service_level=level, prime=None, carrier="UPS", ship_code="GND"
        )


def test_an_order_goes_from_amazon_to_shipped(store, sandbox_seller, shipping_for_every_level):
    # given: an Amazon order with at least two units, downloaded (twice: nothing doubles) and released
    placed = sandbox_orders_create(seller=sandbox_seller, count=10, seed=3, status="UNSHIPPED")
    # The warehouse has named its SKUs (all out of stock): unmapped SKUs it knows ship as themselves.
    catalog = {sku for sku, *_ in SANDBOX_CATALOG}
    inventory_update(warehouse=store.warehouse, items=[(sku, 0) for sku in sorted(catalog)], complete=False)
    before_stock = timezone.now()
    assert orders_pull(store=store).ok
    assert orders_pull(store=store).ok
    amazon = next(o for o in placed if sum(i.quantity_ordered for i in o.items.all()) >= 2)
    _, key = wms_key_create(warehouse=store.warehouse, name="WMS")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    # when: the WMS fetches released orders and acknowledges ours
    released = api.get("/api/v1/orders", {"status": "released"}).json()["results"]
    body = next(o for o in released if o["amazon_order_id"] == amazon.order_id)
    assert api.post(f"/api/v1/orders/{body['id']}/acknowledge").json()["status"] == "acknowledged"

    # and ships it in two packages by warehouse SKU (unmapped SKUs ship as themselves)
    units = [(line["warehouse_sku"], line["quantity"]) for line in body["lines"]]
    first_sku = units[0][0]
    package_1 = [{"warehouse_sku": first_sku, "quantity": 1}]
    package_2 = [
        {"warehouse_sku": sku, "quantity": qty - (1 if sku == first_sku else 0)} for sku, qty in units
    ]
    package_2 = [line for line in package_2 if line["quantity"]]
    common = {
        "order": body["id"],
        "carrier": "UPS",
        "tracking_number": "1Z0000000",
        "ship_date": timezone.now().isoformat(),
    }
    one = api.post("/api/v1/shipments", {**common, "package_id": "P1", "lines": package_1}, format="json")
    middle = Order.objects.get(pk=body["id"]).status
    two = api.post("/api/v1/shipments", {**common, "package_id": "P2", "lines": package_2}, format="json")

    # and posts its stock
    stock = api.put(
        "/api/v1/inventory",
        {"items": [{"sku": sku, "available": 7} for sku, _ in units], "complete": True},
        format="json",
    )

    # then
    assert (one.status_code, two.status_code) == (201, 201), (one.json(), two.json())
    assert middle == Order.Status.PARTIALLY_SHIPPED
    order = Order.objects.get(pk=body["id"])
    assert order.status == Order.Status.SHIPPED
    assert all(line.quantity_shipped == line.quantity_ordered for line in order.lines.all())
    assert list(
        Shipment.objects.filter(order=order)
        .order_by("package_reference")
        .values_list("package_id", flat=True)
    ) == ["P1", "P2"]
    assert stock.status_code == 200
    assert dict(InventoryLevel.objects.filter(warehouse=store.warehouse).values_list("sku", "available")) == {
        sku: 7 if sku in {s for s, _ in units} else 0 for sku in catalog
    }
    assert inventory_changed_since(warehouse=store.warehouse, since=before_stock) == {s for s, _ in units}
    # the order left the released list and the WMS reads it as shipped
    assert api.get(f"/api/v1/orders/{order.pk}").json()["status"] == "shipped"
