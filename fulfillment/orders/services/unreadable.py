"""Unreadable orders: an Amazon order the download cannot read or store is set
aside on its own (the rest of its page goes on), shown to a person with the
field at fault and why, and read again with getOrder on *Retry*.

Never a value from the order: the reason is in our words (services/order_parsing.py,
fulfillment/jobs/errors.py).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from connections.amazon import AmazonClient, AmazonError, CallStats
from connections.models import Store
from connections.services import store_reauthorization_record
from fulfillment.jobs.errors import safe_error
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


@dataclass
class RetryResult:
    resolved: bool
    message: str
    api_calls: int = 0


def unreadable_order_retry(*, unreadable: UnreadableOrder, now: dt.datetime | None = None) -> RetryResult:
    """Read the order again with getOrder; if it reads, it is written and released
    or held the normal way and the row is resolved; if not, the row says why now."""
    from fulfillment.orders.services.download import INCLUDED_DATA, RunContext, orders_ingest_page

    now = now or timezone.now()
    store = unreadable.store
    if not unreadable.amazon_order_id:
        return RetryResult(False, "An order without an id cannot be read again; Amazon must fix it.")
    UnreadableOrder.objects.filter(pk=unreadable.pk).update(last_retry_at=now)
    stats = CallStats()
    try:
        body = AmazonClient(store, stats=stats).get_order(
            unreadable.amazon_order_id, included_data=INCLUDED_DATA
        )
    except AmazonError as exc:
        store_reauthorization_record(store=store, error=exc)
        return RetryResult(False, f"Amazon did not answer: {safe_error(exc)}", stats.api_calls)
    raw = body.get("order") if isinstance(body, dict) else None
    if not isinstance(raw, dict):
        return RetryResult(False, "getOrder answered without an order.", stats.api_calls)
    counts: Counter[str] = Counter()
    with transaction.atomic():
        orders_ingest_page(ctx=RunContext(store), raw_orders=[raw], now=now, counts=counts)
    unreadable.refresh_from_db()
    if unreadable.resolved_at is not None:
        return RetryResult(True, "Read and imported.", stats.api_calls)
    return RetryResult(False, f"Still unreadable: {unreadable.field}: {unreadable.reason}", stats.api_calls)
