"""ORDER_CHANGE notifications: from the SQS queue to the order, by the download's own path.

The consumer (`manage.py consume_notifications`) takes messages off the
application's queue and, for each:

1. reads it and validates it against Amazon's payload schema
   (connections/amazon_models/OrderChangeNotification.json); one that does not
   read or validate is kept as a dead letter (NotificationReceipt, outcome
   dead, with its body encrypted) and taken off the queue: never lost;
2. deduplicates by NotificationId (SQS delivers at least once, Amazon may
   send twice): a known id changes nothing;
3. routes it by SellerId and MarketplaceId to the store, or drops it with the
   reason recorded (no such store, store not connected);
4. reads the order with getOrder through the shared rate limiter and writes it
   with `orders_ingest_page`, the download's own code (release, hold,
   cancellation, buyer cancellation requests and the WMS feeds behave the
   same), in one transaction with the receipt;
5. deletes the message only after that commit. A consumer killed between the
   commit and the delete finds the receipt when the message comes back.

Bursts: when more order changes of one store wait than getOrder's usage plan
serves in a minute (burst 30 + 0.5/s for 60 s), they are left to one
searchOrders download of the store instead (the order download job), run by
the consumer once Amazon's two-minute rule lets the download see them; the
receipts say "handled by the download".
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import cache

import jsonschema
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connections import ratelimit
from connections.amazon import AmazonClient, AmazonError, CallStats, ReauthorizationRequired, sqs
from connections.amazon_models import load
from connections.models import NotificationSubscription, Store
from connections.notifications import notification_test_received
from connections.services import store_reauthorization_record
from fulfillment.jobs.errors import safe_error
from fulfillment.jobs.locks import JobLockBusy
from fulfillment.jobs.runner import job_run
from fulfillment.orders.models import NotificationReceipt, Order
from fulfillment.orders.services.download import INCLUDED_DATA, SETTLE_DELAY, OrderDownloadJob
from fulfillment.orders.services.pages import RunContext, orders_ingest_page

logger = logging.getLogger(__name__)

Outcome = NotificationReceipt.Outcome
ORDER_CHANGE = "ORDER_CHANGE"
# sendTestNotification's mock order (the sandbox's; Amazon's test messages carry it too).
TEST_ORDER_ID = "000-0000000-0000000"
# A message that failed this many deliveries becomes a dead letter.
MAX_RECEIVES = 5
# Seconds a message that could not be handled now stays hidden before it comes back.
RETRY_LATER_SECONDS = 30
# Messages one cycle takes off the queue (10 a receive) before handling them:
# enough to see a burst for a store.
BATCH_MESSAGES = 200


def get_order_per_minute() -> int:
    """What getOrder's usage plan serves in a minute from a full bucket."""
    rate, burst = ratelimit.USAGE_PLANS["getOrder"]
    return int(burst + rate * 60)


@cache
def _validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(load("OrderChangeNotification.json"))


class Unhandleable(Exception):
    """A message that can never be handled as it is: a dead letter."""

    def __init__(self, reason: str, *, notification_id: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.notification_id = notification_id


@dataclass(frozen=True)
class OrderChange:
    notification_id: str
    notification_type: str
    seller_id: str
    marketplace_id: str
    amazon_order_id: str
    change_type: str
    changed_at: dt.datetime | None
    published_at: dt.datetime | None

    @property
    def is_test(self) -> bool:
        return self.amazon_order_id == TEST_ORDER_ID


def _time(value) -> dt.datetime | None:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


def notification_read(body: str) -> OrderChange:
    """The order change a message carries; Unhandleable if it does not read or validate."""
    try:
        message = json.loads(body)
    except (TypeError, ValueError) as exc:
        raise Unhandleable("The message is not JSON.") from exc
    metadata = message.get("NotificationMetadata") if isinstance(message, dict) else None
    notification_id = metadata.get("NotificationId") if isinstance(metadata, dict) else None
    notification_id = notification_id if isinstance(notification_id, str) else ""
    error = next(iter(sorted(_validator().iter_errors(message), key=lambda e: list(e.path))), None)
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the message"
        # The validator's message quotes the value; ours names the place only.
        raise Unhandleable(
            f"Does not match ORDER_CHANGE's schema at {where} ({error.validator}).",
            notification_id=notification_id,
        )
    if not notification_id:
        raise Unhandleable("NotificationMetadata.NotificationId is empty.")
    change = message["Payload"]["OrderChangeNotification"]
    return OrderChange(
        notification_id=notification_id,
        notification_type=str(message.get("NotificationType", "")),
        seller_id=str(change.get("SellerId", "")),
        marketplace_id=str((change.get("Summary") or {}).get("MarketplaceId", "")),
        amazon_order_id=str(change.get("AmazonOrderId", "")),
        change_type=str(change.get("OrderChangeType", "")),
        changed_at=_time((change.get("OrderChangeTrigger") or {}).get("TimeOfOrderChange")),
        published_at=_time(metadata.get("PublishTime")),
    )


def _receipt_fields(change: OrderChange, store: Store | None) -> dict:
    return dict(
        store=store,
        seller_id=change.seller_id[:64],
        marketplace_id=change.marketplace_id[:32],
        amazon_order_id=change.amazon_order_id[:100],
        change_type=change.change_type[:40],
        changed_at=change.changed_at,
    )


def _dead_letter(*, key: str, reason: str, body: str, now: dt.datetime, fields: dict | None = None) -> None:
    NotificationReceipt.objects.update_or_create(
        notification_id=key[:200],
        defaults=dict(
            **(fields or {}),
            received_at=now,
            outcome=Outcome.DEAD,
            reason=reason[:500],
            body=body,
        ),
    )
    logger.warning("notification %s set aside as a dead letter: %s", key, reason)


def _route(change: OrderChange, stores: dict[tuple[str, str], Store]) -> tuple[Store | None, str]:
    store = stores.get((change.seller_id, change.marketplace_id))
    if store is None:
        return None, f"No store for seller {change.seller_id} in marketplace {change.marketplace_id}."
    if not (store.is_active and store.is_connected):
        return None, f"The store {store.name} is not active and connected."
    return store, ""


@dataclass
class _Pending:
    message: sqs.QueueMessage | None
    change: OrderChange
    body: str


def notifications_handle(messages: list[sqs.QueueMessage], *, now: dt.datetime | None = None) -> Counter[str]:
    """Handle a batch of queue messages (see the module docstring). Returns what happened, counted."""
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    readable: list[_Pending] = []
    for m in messages:
        try:
            readable.append(_Pending(m, notification_read(m.body), m.body))
        except Unhandleable as exc:
            key = exc.notification_id or f"sqs:{m.message_id}"
            if not NotificationReceipt.objects.filter(notification_id=key).exists():
                _dead_letter(key=key, reason=exc.reason, body=m.body, now=now)
                counts["dead"] += 1
            _delete(m)
    known = set(
        NotificationReceipt.objects.filter(
            notification_id__in=[p.change.notification_id for p in readable]
        ).values_list("notification_id", flat=True)
    )
    fresh: dict[str, _Pending] = {}
    for p in readable:
        if p.change.notification_id in known or p.change.notification_id in fresh:
            counts["duplicate"] += 1
            _delete(p.message)
        else:
            fresh[p.change.notification_id] = p
    pending = list(fresh.values())

    tests = [p for p in pending if p.change.is_test]
    for p in tests:
        with transaction.atomic():
            NotificationReceipt.objects.create(
                notification_id=p.change.notification_id,
                **_receipt_fields(p.change, None),
                received_at=now,
                handled_at=now,
                outcome=Outcome.TEST,
            )
            notification_test_received()
        counts["test"] += 1
        _delete(p.message)
    pending = [p for p in pending if not p.change.is_test]

    stores = {
        (s.selling_partner_id, s.marketplace.marketplace_id): s
        for s in Store.objects.select_related("marketplace").filter(
            selling_partner_id__in={p.change.seller_id for p in pending}
        )
    }
    by_store: dict[int, list[_Pending]] = defaultdict(list)
    store_of: dict[int, Store] = {}
    for p in pending:
        if p.change.notification_type != ORDER_CHANGE:
            reason = f"Not an ORDER_CHANGE notification ({p.change.notification_type})."
            store = None
        else:
            store, reason = _route(p.change, stores)
        if store is None:
            NotificationReceipt.objects.create(
                notification_id=p.change.notification_id,
                **_receipt_fields(p.change, None),
                received_at=now,
                handled_at=now,
                outcome=Outcome.DROPPED,
                reason=reason[:500],
            )
            counts["dropped"] += 1
            _delete(p.message)
            continue
        by_store[store.pk].append(p)
        store_of[store.pk] = store

    waiting = Counter(
        dict(
            NotificationReceipt.objects.filter(outcome=Outcome.WAITING_DOWNLOAD, store_id__in=list(by_store))
            .values_list("store_id")
            .annotate(n=Count("pk"))
            .values_list("store_id", "n")
        )
    )
    for store_id, items in by_store.items():
        store = store_of[store_id]
        items = _not_yet_current(store=store, items=items, now=now, counts=counts)
        if not items:
            continue
        if waiting[store_id] or len(items) > get_order_per_minute():
            counts["by_download"] += _leave_to_download(store=store, items=items, now=now)
            continue
        client = AmazonClient(store, stats=CallStats())
        for p in items:
            try:
                counts[_order_change_apply(store=store, client=client, pending=p, now=now)] += 1
            except Exception as exc:  # one bad message never stops the rest
                logger.error(
                    "notification %s could not be handled: %s", p.change.notification_id, safe_error(exc)
                )
                _dead_letter(
                    key=p.change.notification_id,
                    reason=f"Could not be handled: {safe_error(exc)}",
                    body=p.body,
                    now=now,
                    fields=_receipt_fields(p.change, store),
                )
                _delete(p.message)
                counts["dead"] += 1
        counts["get_order_calls"] += client.stats.api_calls
    if by_store:
        NotificationSubscription.objects.filter(store_id__in=list(by_store)).update(last_notification_at=now)
    return counts


def _not_yet_current(
    *, store: Store, items: list[_Pending], now: dt.datetime, counts: Counter[str]
) -> list[_Pending]:
    """Leave out changes a download already brought (the order as stored is at least as
    recent as the change): recorded, deleted, no getOrder. Returns the others."""
    stored = dict(
        Order.objects.filter(
            store=store, amazon_order_id__in=[p.change.amazon_order_id for p in items]
        ).values_list("amazon_order_id", "amazon_updated_at")
    )
    current = [
        p
        for p in items
        if p.change.changed_at is not None
        and stored.get(p.change.amazon_order_id) is not None
        # Amazon's order times are whole seconds; the change's has milliseconds.
        and stored[p.change.amazon_order_id] >= p.change.changed_at.replace(microsecond=0)
    ]
    if not current:
        return items
    NotificationReceipt.objects.bulk_create(
        [
            NotificationReceipt(
                notification_id=p.change.notification_id,
                **_receipt_fields(p.change, store),
                received_at=now,
                handled_at=now,
                outcome=Outcome.BY_DOWNLOAD,
                reason="Already current: a download had read this change.",
            )
            for p in current
        ],
        ignore_conflicts=True,
    )
    for p in current:
        _delete(p.message)
    counts["already_current"] += len(current)
    done = {p.change.notification_id for p in current}
    return [p for p in items if p.change.notification_id not in done]


def _delete(message: sqs.QueueMessage | None) -> None:
    if message is None:
        return
    try:
        sqs.message_delete(message)
    except sqs.QueueError as exc:
        # It comes back and is found handled by its NotificationId.
        logger.warning("%s", exc)


def _leave_to_download(*, store: Store, items: list[_Pending], now: dt.datetime) -> int:
    """A burst: receipts wait for one download of the store instead of getOrder each."""
    receipts = [
        NotificationReceipt(
            notification_id=p.change.notification_id,
            **_receipt_fields(p.change, store),
            received_at=now,
            outcome=Outcome.WAITING_DOWNLOAD,
            download_due_at=(p.change.changed_at or now) + SETTLE_DELAY,
        )
        for p in items
    ]
    NotificationReceipt.objects.bulk_create(receipts, ignore_conflicts=True)
    for p in items:
        _delete(p.message)
    logger.info("store %s: %d order changes left to one download", store.pk, len(items))
    return len(items)


def _order_change_apply(
    *,
    store: Store,
    client: AmazonClient,
    pending: _Pending,
    now: dt.datetime,
    receipt: NotificationReceipt | None = None,
) -> str:
    """getOrder and ingest one order change; the receipt is written with the order.

    Returns the count key: imported, duplicate, later (left on the queue) or dead."""
    change, message = pending.change, pending.message
    try:
        body = client.get_order(change.amazon_order_id, included_data=INCLUDED_DATA)
        raw = body.get("order") if isinstance(body, dict) else None
        if not isinstance(raw, dict):
            raise Unhandleable("getOrder answered without an order.")
    except (AmazonError, Unhandleable) as exc:
        if isinstance(exc, ReauthorizationRequired):
            store_reauthorization_record(store=store, error=exc)
        reason = safe_error(exc) if isinstance(exc, AmazonError) else exc.reason
        final = (
            receipt is not None
            or message is None
            or message.receive_count >= MAX_RECEIVES
            or isinstance(exc, ReauthorizationRequired)
        )
        if not final:
            with contextlib.suppress(sqs.QueueError):
                sqs.message_retry_later(message, RETRY_LATER_SECONDS)
            return "later"
        _dead_letter(
            key=change.notification_id,
            reason=f"getOrder failed: {reason}",
            body=pending.body,
            now=now,
            fields=_receipt_fields(change, store),
        )
        _delete(message)
        return "dead"
    counts: Counter[str] = Counter()
    try:
        with transaction.atomic():
            if receipt is None:
                NotificationReceipt.objects.create(
                    notification_id=change.notification_id,
                    **_receipt_fields(change, store),
                    received_at=now,
                    handled_at=now,
                    outcome=Outcome.IMPORTED,
                )
            else:
                NotificationReceipt.objects.filter(pk=receipt.pk).update(
                    store=store,
                    outcome=Outcome.IMPORTED,
                    handled_at=now,
                    reason="",
                    body="",
                    attempts=receipt.attempts + 1,
                )
            orders_ingest_page(ctx=RunContext(store), raw_orders=[raw], now=now, counts=counts)
    except IntegrityError:
        # Another consumer handled the same notification meanwhile.
        _delete(message)
        return "duplicate"
    _delete(message)
    return "imported"


def notification_downloads_run(*, now: dt.datetime | None = None) -> Counter[str]:
    """Run the download of every store whose burst receipts are due; mark them handled by it."""
    now = now or timezone.now()
    counts: Counter[str] = Counter()
    store_ids = set(
        NotificationReceipt.objects.filter(
            outcome=Outcome.WAITING_DOWNLOAD, download_due_at__lte=now
        ).values_list("store_id", flat=True)
    )
    for store in Store.objects.select_related("marketplace").filter(pk__in=store_ids):
        started = timezone.now()
        try:
            run = job_run(OrderDownloadJob(), store=store)
        except JobLockBusy:
            continue  # the scheduled download is running; the next cycle tries again
        counts["downloads"] += 1
        counts["search_calls"] += run.api_calls
        if run.ok:
            counts["handled_by_download"] += NotificationReceipt.objects.filter(
                store=store, outcome=Outcome.WAITING_DOWNLOAD, download_due_at__lte=started
            ).update(outcome=Outcome.BY_DOWNLOAD, handled_at=timezone.now())
    return counts


def notifications_consume_once(*, wait_seconds: int = 20, now: dt.datetime | None = None) -> Counter[str]:
    """One cycle of the consumer: a long poll (then what else waits, up to
    BATCH_MESSAGES), the batch handled, due burst downloads run."""
    messages: list[sqs.QueueMessage] = []
    while len(messages) < BATCH_MESSAGES:
        got = sqs.messages_receive(wait_seconds=0 if messages else wait_seconds)
        messages += got
        if not got:
            break
    counts = notifications_handle(messages, now=now) if messages else Counter()
    counts["received"] += len(messages)
    counts += notification_downloads_run(now=now)
    return counts


def notification_dead_letter_retry(*, receipt: NotificationReceipt, now: dt.datetime | None = None) -> str:
    """*Retry* on a dead letter: read the kept message again and handle it now. Returns what happened."""
    now = now or timezone.now()
    receipt.refresh_from_db()
    if receipt.outcome != Outcome.DEAD:
        return "It is not a dead letter (any more)."
    try:
        change = notification_read(receipt.body)
    except Unhandleable as exc:
        NotificationReceipt.objects.filter(pk=receipt.pk).update(
            attempts=receipt.attempts + 1, reason=exc.reason[:500]
        )
        return f"Still unreadable: {exc.reason}"
    store, reason = _route(
        change,
        {
            (s.selling_partner_id, s.marketplace.marketplace_id): s
            for s in Store.objects.select_related("marketplace").filter(selling_partner_id=change.seller_id)
        },
    )
    if store is None:
        NotificationReceipt.objects.filter(pk=receipt.pk).update(
            outcome=Outcome.DROPPED,
            reason=reason[:500],
            handled_at=now,
            body="",
            attempts=receipt.attempts + 1,
        )
        return f"Dropped: {reason}"
    result = _order_change_apply(
        store=store,
        client=AmazonClient(store),
        pending=_Pending(None, change, receipt.body),
        now=now,
        receipt=receipt,
    )
    return "Order read and imported." if result == "imported" else "Still failing; see the reason."
