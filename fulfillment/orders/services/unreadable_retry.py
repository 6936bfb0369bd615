"""*Retry* on an unreadable order: read it again with getOrder and ingest it the
way the download does (released or held as usual, the row resolved)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from connections.amazon import AmazonClient, AmazonError, CallStats
from connections.services import store_reauthorization_record
from fulfillment.jobs.errors import safe_error
from fulfillment.orders.models import UnreadableOrder
from fulfillment.orders.services.download import INCLUDED_DATA
from fulfillment.orders.services.pages import RunContext, orders_ingest_page


@dataclass
class RetryResult:
    resolved: bool
    message: str
    api_calls: int = 0


def unreadable_order_retry(*, unreadable: UnreadableOrder, now: dt.datetime | None = None) -> RetryResult:
    """Read the order again with getOrder; if it reads, it is written and released
    or held the normal way and the row is resolved; if not, the row says why now."""
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
