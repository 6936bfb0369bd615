"""Unreadable orders: an Amazon order the download cannot read or store is set
aside on its own (the rest of its page goes on), shown to a person with the
field at fault and why, and read again with getOrder on *Retry* (unreadable_retry.py).

Never a value from the order: the reason is in our words (services/order_parsing.py,
fulfillment/jobs/errors.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from connections.models import Store
from fulfillment.orders.models import UnreadableOrder

_ID_LENGTH = UnreadableOrder._meta.get_field("amazon_order_id").max_length
_FIELD_LENGTH = UnreadableOrder._meta.get_field("field").max_length
_REASON_LENGTH = UnreadableOrder._meta.get_field("reason").max_length


@dataclass(frozen=True)
class Unreadable:
    """One order set aside: its id (may be empty), the field at fault, why."""

    amazon_order_id: str
    field: str
    reason: str


def unreadable_orders_record(*, store: Store, problems: Iterable[Unreadable], now: dt.datetime) -> int:
    """Upsert one row per order (seen again: reopened, with the latest reason). One query."""
    rows = {}
    for p in problems:
        oid = p.amazon_order_id[:_ID_LENGTH]
        rows[oid] = UnreadableOrder(
            store=store,
            amazon_order_id=oid,
            field=p.field[:_FIELD_LENGTH],
            reason=p.reason[:_REASON_LENGTH],
            first_seen_at=now,
            last_seen_at=now,
            resolved_at=None,
        )
    if rows:
        UnreadableOrder.objects.bulk_create(
            list(rows.values()),
            update_conflicts=True,
            unique_fields=["store", "amazon_order_id"],
            update_fields=["field", "reason", "last_seen_at", "resolved_at"],
        )
    return len(rows)


def unreadable_orders_resolve(*, store: Store, amazon_order_ids: Iterable[str], now: dt.datetime) -> int:
    """Orders that read fine now: their rows are closed."""
    ids = list(amazon_order_ids)
    if not ids:
        return 0
    return UnreadableOrder.objects.filter(
        store=store, amazon_order_id__in=ids, resolved_at__isnull=True
    ).update(resolved_at=now)
