"""Reads of orders that other packages start from."""

from __future__ import annotations

import re

from django.db.models import Q, QuerySet

from fulfillment.orders.models import Order, OrderLine, Warehouse

# What the warehouse ever sees: released orders and what became of them. A
# held order, or one cancelled before release, was never the warehouse's.
_VISIBLE = Q(status__in=[*Order.FROZEN_STATUSES, Order.Status.SHIPPED]) | Q(
    status=Order.Status.CANCELLED, released_at__isnull=False
)


def wms_orders(*, warehouse: Warehouse | None = None, warehouse_id: int | None = None) -> QuerySet[Order]:
    """Every order a warehouse's WMS may see: its own stores' released orders.

    Every API queryset starts here, so another warehouse's order is simply
    not found (404), never "forbidden".
    """
    wid = warehouse.pk if warehouse is not None else warehouse_id
    if wid is None:
        raise ValueError("give warehouse or warehouse_id")
    return Order.objects.filter(_VISIBLE, store__warehouse_id=wid)


def stores_with_held_orders(
    *, store_ids=(), marketplace_ids=(), warehouse_id: int | None = None
) -> list[int]:
    """The stores with held orders (one query) among `store_ids` or selling in
    `marketplace_ids`; or, given `warehouse_id`, that warehouse's stores that ship
    unmapped SKUs as themselves (the ones a SKU new to the warehouse can release)."""
    if warehouse_id is not None:
        scope = Q(store__warehouse_id=warehouse_id, store__unmapped_sku_is_warehouse_sku=True)
    elif store_ids or marketplace_ids:
        scope = Q(store_id__in=set(store_ids)) | Q(store__marketplace_id__in=set(marketplace_ids))
    else:
        return []
    return sorted(Order.objects.held().filter(scope).values_list("store_id", flat=True).distinct().order_by())


def held_orders_count(*, store_ids=(), marketplace_ids=()) -> int:
    """How many held orders a mapping of these stores or marketplaces may release."""
    if not store_ids and not marketplace_ids:
        return 0
    return (
        Order.objects.held()
        .filter(Q(store_id__in=set(store_ids)) | Q(store__marketplace_id__in=set(marketplace_ids)))
        .count()
    )


def orders_search(*, orders: QuerySet[Order], term: str) -> QuerySet[Order]:
    """`orders` whose Amazon order id is `term`, or with a line of Amazon SKU `term`.

    Both exact, each through its own index: the id by equality (no UPPER(), the
    term is normalised instead), the SKU through a subquery of matching lines,
    so no join over all lines and no DISTINCT. A million orders answer in
    milliseconds.
    """
    term = "".join(term.split()) if _looks_like_order_id(term) else term.strip()
    if not term:
        return orders
    by_id = Order.objects.filter(amazon_order_id__in={term, term.upper()}).order_by().values("pk")
    by_sku = OrderLine.objects.filter(amazon_sku=term).order_by().values("order_id")
    return orders.filter(pk__in=by_id.union(by_sku))


def _looks_like_order_id(term: str) -> bool:
    # 123-1234567-1234567, perhaps pasted with spaces around the dashes.
    return bool(_ORDER_ID.fullmatch(term.strip()))


_ORDER_ID = re.compile(r"[0-9A-Za-z]{3}\s*-\s*[0-9]{7}\s*-\s*[0-9]{7}")
