"""Row makers for the order admins (auto-discovered by tests/factories.py)."""

from __future__ import annotations

import datetime as dt
import itertools
import json

from django.utils import timezone

from fulfillment.jobs.models import SyncRun
from fulfillment.orders.models import Order, OrderLine, UnreadableOrder
from tests.factories import make_store, register_row_maker

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


def make_order(*, store=None, lines: int = 2, **kw) -> Order:
    n = next(_seq)
    now = timezone.now()
    defaults = dict(
        amazon_order_id=f"111-{n:07d}-0000001",
        amazon_status="UNSHIPPED",
        status=Order.Status.HELD,
        service_level="STANDARD",
        purchased_at=now - dt.timedelta(hours=n),
        amazon_updated_at=now - dt.timedelta(hours=n),
        ship_by_latest=now + dt.timedelta(days=1),
        ship_to_country="US",
        recipient=json.dumps(ADDRESS),
        hold_reasons=["SKU ABC-1 not mapped"],
    )
    order = Order.objects.create(store=store or make_store(), **{**defaults, **kw})
    OrderLine.objects.bulk_create(
        OrderLine(
            order=order,
            order_item_id=f"{n:07d}{i}",
            amazon_sku=f"SKU-{i}",
            product_code=f"SKU-{i}",
            quantity_ordered=1,
        )
        for i in range(lines)
    )
    return order


def make_sync_run(*, store=None, **kw) -> SyncRun:
    defaults = dict(
        kind=SyncRun.Kind.ORDER_PULL,
        started_at=timezone.now(),
        finished_at=timezone.now(),
        ok=True,
        counts={"new": 3, "pages": 1},
        api_calls=1,
    )
    return SyncRun.objects.create(store=store or make_store(), **{**defaults, **kw})


def make_unreadable_order(*, store=None, **kw) -> UnreadableOrder:
    now = timezone.now()
    defaults = dict(
        amazon_order_id=f"111-{next(_unreadable_seq):07d}-0000000",
        field="orderItems[0].quantityOrdered",
        reason="is negative",
        first_seen_at=now,
        last_seen_at=now,
    )
    return UnreadableOrder.objects.create(store=store or make_store(), **{**defaults, **kw})


_unreadable_seq = itertools.count(1)

register_row_maker(Order, lambda n: [make_order() for _ in range(n)])
register_row_maker(UnreadableOrder, lambda n: [make_unreadable_order() for _ in range(n)])
register_row_maker(SyncRun, lambda n: [make_sync_run() for _ in range(n)])
