"""Reads on the warehouse side: what a warehouse sees, and what changed in its stock."""

from __future__ import annotations

import datetime as dt
import json

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet

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


def _ship_to(recipient: str) -> dict[str, str]:
    data = json.loads(recipient) if recipient else {}
    return {ours: str(data.get(theirs) or "") for ours, theirs in _SHIP_TO_FIELDS.items()}


def ship_to_payload(*, order: Order) -> dict[str, str]:
    return _ship_to(order.recipient)


def _lines_body(lines) -> list[dict]:
    """One WMS line per warehouse SKU of each item, quantities in warehouse units.

    `lines`: (order_item_id, amazon_sku, ordered, shipped, cancelled, components) each.
    """
    out = []
    for order_item_id, amazon_sku, ordered, shipped, cancelled, components in lines:
        for c in components or [{"warehouse_sku": amazon_sku, "units": 1}]:
            units = int(c["units"])
            out.append(
                {
                    "order_item_id": order_item_id,
                    "warehouse_sku": c["warehouse_sku"],
                    "amazon_sku": amazon_sku,
                    "quantity": ordered * units,
                    "quantity_shipped": shipped * units,
                    "quantity_cancelled": cancelled * units,
                }
            )
    return out


def wms_lines_payload(*, lines: list[OrderLine]) -> list[dict]:
    """One WMS line per warehouse SKU of each item, quantities in warehouse units."""
    return _lines_body(
        (
            line.order_item_id,
            line.amazon_sku,
            line.quantity_ordered,
            line.quantity_shipped,
            line.quantity_cancelled,
            line.components,
        )
        for line in lines
    )


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _order_body(row: dict, lines: list[dict]) -> dict:
    # The WMS API's wire contract, from a row of WMS_LIST_COLUMNS (or the same read off a model).
    return {
        "id": row["id"],
        "store": row["store__name"],
        "amazon_order_id": row["amazon_order_id"],
        "status": row["status"],
        "service_level": row["service_level"],
        "is_prime": row["is_prime"],
        "is_business": row["is_business"],
        "ship_by": _iso(row["ship_by_latest"]),
        "deliver_by": _iso(row["deliver_by_latest"]),
        "carrier": row["carrier"],
        "ship_code": row["ship_code"],
        "is_gift": row["is_gift"],
        "gift_message": row["gift_message"],
        "ship_to": _ship_to(row["recipient"]),
        "lines": lines,
    }


def order_payload(*, order: Order, lines: list[OrderLine]) -> dict:
    """The order as the WMS reads it (API and webhook): the WMS API's wire contract.

    `order.store` should be loaded (select_related) by the caller.
    """
    row = {column: getattr(order, column) for column in WMS_LIST_COLUMNS if "__" not in column}
    row["store__name"] = order.store.name
    return _order_body(row, wms_lines_payload(lines=lines))


# What a list page reads of each order: the columns its answer sends (order_payload's),
# and the store and ids the access audit records. Plain rows (QuerySet.values): a model
# instance per order and per line cost most of a page's time.
WMS_LIST_COLUMNS = (
    "id",
    "store_id",
    "store__name",
    "amazon_order_id",
    "status",
    "service_level",
    "is_prime",
    "is_business",
    "ship_by_latest",
    "deliver_by_latest",
    "carrier",
    "ship_code",
    "is_gift",
    "gift_message",
    "recipient",
)


def wms_order_rows(orders: QuerySet[Order]) -> QuerySet[Order]:
    """The orders as rows of WMS_LIST_COLUMNS (their store joined), for wms_order_rows_payload."""
    return orders.values(*WMS_LIST_COLUMNS)


def wms_order_rows_payload(*, rows: list[dict]) -> tuple[list[dict], set[int]]:
    """The answer for a page of order rows (wms_order_rows), the same as order_payload's
    for each, with all their lines in one query; and the orders with a gift message on a
    line (for the access audit: such a message is not sent, but it is the order's).
    """
    by_order: dict[int, list[tuple]] = {row["id"]: [] for row in rows}
    line_gifts: set[int] = set()
    lines = (
        OrderLine.objects.filter(order_id__in=by_order)
        # Whether a line has a gift message, without decrypting it (blank stays blank).
        .annotate(has_gift=ExpressionWrapper(~Q(gift_message=""), output_field=BooleanField()))
        .order_by("order_id", "order_item_id")
        .values_list(
            "order_id",
            "order_item_id",
            "amazon_sku",
            "quantity_ordered",
            "quantity_shipped",
            "quantity_cancelled",
            "components",
            "has_gift",
        )
    )
    for order_id, *line, has_gift in lines if by_order else ():
        by_order[order_id].append(line)
        if has_gift:
            line_gifts.add(order_id)
    return [_order_body(row, _lines_body(by_order[row["id"]])) for row in rows], line_gifts
