"""Reads on the warehouse side: what a warehouse sees, and what changed in its stock."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from fulfillment.orders.models import Order, OrderLine, Warehouse
from fulfillment.orders.selectors import wms_orders  # noqa: F401 (the API's starting point)


def wms_cancellations(*, warehouse: Warehouse) -> QuerySet[Order]:
    """Orders the WMS must stop and has not yet acknowledged stopping."""
    return Order.objects.wms_stop_pending().filter(store__warehouse=warehouse, released_at__isnull=False)


_SHIP_TO_FIELDS = {
    "name": "name",
    "company_name": "companyName",
    "address_line1": "addressLine1",
    "address_line2": "addressLine2",
    "address_line3": "addressLine3",
    "city": "city",
    "district_or_county": "districtOrCounty",
    "state_or_region": "stateOrRegion",
    "municipality": "municipality",
    "postal_code": "postalCode",
    "country_code": "countryCode",
    "phone": "phone",
    "address_type": "addressType",
}


def ship_to_payload(*, order: Order) -> dict[str, str]:
    data = order.recipient_data
    return {ours: str(data.get(theirs) or "") for ours, theirs in _SHIP_TO_FIELDS.items()}


def wms_lines_payload(*, lines: list[OrderLine]) -> list[dict]:
    """One WMS line per warehouse SKU of each item, quantities in warehouse units."""
    out = []
    for line in lines:
        components = line.components or [{"warehouse_sku": line.amazon_sku, "units": 1}]
        for c in components:
            units = int(c["units"])
            out.append(
                {
                    "order_item_id": line.order_item_id,
                    "warehouse_sku": c["warehouse_sku"],
                    "amazon_sku": line.amazon_sku,
                    "quantity": line.quantity_ordered * units,
                    "quantity_shipped": line.quantity_shipped * units,
                    "quantity_cancelled": line.quantity_cancelled * units,
                }
            )
    return out


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def order_payload(*, order: Order, lines: list[OrderLine]) -> dict:
    """The order as the WMS reads it (API and webhook): the WMS API's wire contract.

    `order.store` should be loaded (select_related) by the caller.
    """
    return {
        "id": order.pk,
        "store": order.store.name,
        "amazon_order_id": order.amazon_order_id,
        "status": order.status,
        "service_level": order.service_level,
        "is_prime": order.is_prime,
        "is_business": order.is_business,
        "ship_by": _iso(order.ship_by_latest),
        "deliver_by": _iso(order.deliver_by_latest),
        "carrier": order.carrier,
        "ship_code": order.ship_code,
        "is_gift": order.is_gift,
        "gift_message": order.gift_message,
        "ship_to": ship_to_payload(order=order),
        "lines": wms_lines_payload(lines=lines),
    }
