"""Order download from Amazon (Orders API 2026-01-01 searchOrders).

One call per page of 100 orders (items, recipient, fulfillment and
cancellation data come in the same page), a fixed handful of queries per page:

- the first run reads orders *created* since the store's "import since"
  (7 days back by default); later runs read orders *updated* since the stored
  watermark minus an overlap, up to now minus 3 minutes (Amazon wants
  `lastUpdatedBefore` at least two minutes before the request);
- the window is read in time slices. Amazon documents no order for the pages
  of a search, so the watermark (or a first download's cursor) moves only
  past a slice whose pages were all read, in the transaction of its last
  page. A slice holds about SLICE_TARGET_ORDERS orders (sized from the orders
  per hour of the previous slices), so slicing costs about one extra call per
  slice and a store's usual window is one slice;
- each page commits on its own, with Amazon's nextToken for the next page: a
  run that died mid-slice resumes with that token (the page in flight when it
  died is read again, nothing else); if Amazon no longer takes the token the
  slice is read again from its start. Upserts on Amazon's ids make any re-read
  harmless;
- new orders and held orders are upserted with their lines (already released
  or held), orders the warehouse owns only take cancellation-type changes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from connections.amazon import AmazonClient, CallStats, PermanentAmazonError, amazon_client
from connections.models import OrderStatus, Store
from fulfillment.locks import JobLease, store_job_lock
from fulfillment.models import Order, OrderLine, StoreSyncState, SyncRun
from fulfillment.services.release import order_release_decide
from fulfillment.services.sync_runs import sync_run_finish, sync_run_start
from mappings.selectors import ShippingMethodTable, shipping_method_table_for, sku_components_for

logger = logging.getLogger(__name__)

# Re-read a little of what the previous run saw: Amazon's index lags, and an
# order updated in the same second as the watermark must not fall between runs.
WATERMARK_OVERLAP = dt.timedelta(minutes=5)
# lastUpdatedBefore/createdBefore must be at least 2 minutes before the
# request; 3 leaves room for clock skew and a slow first call.
SETTLE_DELAY = dt.timedelta(minutes=3)
DEFAULT_LOOKBACK = dt.timedelta(days=7)
PAGE_SIZE = 100
INCLUDED_DATA = ["RECIPIENT", "FULFILLMENT", "CANCELLATION"]
# Short, and renewed while the run is alive (per page, and while it waits on
# the rate limiter): a killed run's store is free again within a minute.
PULL_LEASE_SECONDS = 60
# Orders per slice once the store's rate is known: 50 pages, so slicing adds
# about 1 % calls, and a slice Amazon makes us read again costs at most that.
# Until the rate is known (a store's first download) the window is one slice:
# one call per 100 orders, whatever the store's size.
SLICE_TARGET_ORDERS = 5000
# A slice that comes back empty makes the next one this many times longer.
EMPTY_SLICE_GROWTH = 4
MIN_SLICE = dt.timedelta(minutes=10)
# An incremental download also asks for these, whatever the store imports as
# new orders: a known order that ships or is cancelled must be seen.
TRACKED_STATUSES = (
    OrderStatus.UNSHIPPED,
    OrderStatus.PARTIALLY_SHIPPED,
    OrderStatus.SHIPPED,
    OrderStatus.CANCELLED,
)
RECONCILE_STATUSES = [OrderStatus.UNSHIPPED.value, OrderStatus.PARTIALLY_SHIPPED.value]

# Columns a page upsert writes for new and held orders (everything Amazon says
# plus the release decision). Released orders never go through this path.
_FULL_ORDER_FIELDS = [
    "amazon_status",
    "status",
    "marketplace_id",
    "fulfilled_by",
    "service_level",
    "is_prime",
    "is_business",
    "is_gift",
    "gift_message",
    "purchased_at",
    "amazon_updated_at",
    "ship_by_earliest",
    "ship_by_latest",
    "deliver_by_earliest",
    "deliver_by_latest",
    "ship_to_country",
    "recipient",
    "carrier",
    "ship_code",
    "hold_reasons",
    "buyer_cancellation_requested",
    "released_at",
    "cancelled_at",
    "shipped_outside_at",
    "updated_at",
]
_LINE_FIELDS = [
    "amazon_sku",
    "asin",
    "product_code",
    "title",
    "quantity_ordered",
    "quantity_shipped",
    "quantity_cancelled",
    "gift_message",
    "components",
]
# What the download may still change on an order the warehouse owns.
_FROZEN_ORDER_FIELDS = [
    "amazon_status",
    "amazon_updated_at",
    "status",
    "buyer_cancellation_requested",
    "cancelled_at",
    "shipped_outside_at",
    "wms_stop_requested_at",
    "cancellation_acknowledged_at",
    "updated_at",
]


class AmazonOrderParseError(ValueError):
    """An order in Amazon's answer lacks what the product needs; the page is not written."""


# --- Parsing Amazon's Order -------------------------------------------------------


@dataclass
class AmazonLine:
    order_item_id: str
    quantity_ordered: int
    quantity_fulfilled: int
    amazon_sku: str
    asin: str
    title: str
    gift_message: str
    is_gift: bool
    cancellation_requested: bool


@dataclass
class AmazonOrder:
    amazon_order_id: str
    status: str
    purchased_at: dt.datetime
    updated_at: dt.datetime
    marketplace_id: str
    fulfilled_by: str
    service_level: str
    is_prime: bool
    is_business: bool
    ship_by: tuple[dt.datetime | None, dt.datetime | None]
    deliver_by: tuple[dt.datetime | None, dt.datetime | None]
    recipient: dict
    lines: list[AmazonLine] = field(default_factory=list)

    @property
    def ship_to_country(self) -> str:
        return (self.recipient.get("countryCode") or "").upper()

    @property
    def buyer_cancellation_requested(self) -> bool:
        return any(line.cancellation_requested for line in self.lines)


def _time(value, *, what: str, order_id: str, required: bool = False) -> dt.datetime | None:
    if not value:
        if required:
            raise AmazonOrderParseError(f"order {order_id}: {what} is missing")
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None or timezone.is_naive(parsed):
        raise AmazonOrderParseError(f"order {order_id}: {what} {value!r} is not an ISO 8601 time with zone")
    return parsed


def _window(raw: dict | None, *, what: str, order_id: str):
    raw = raw or {}
    return (
        _time(raw.get("earliestDateTime"), what=f"{what} start", order_id=order_id),
        _time(raw.get("latestDateTime"), what=f"{what} end", order_id=order_id),
    )


def amazon_order_parse(raw: dict) -> AmazonOrder:
    """Amazon's Order (2026-01-01) -> what the product keeps. Raises AmazonOrderParseError."""
    if not isinstance(raw, dict) or not raw.get("orderId"):
        raise AmazonOrderParseError("an order without orderId")
    oid = str(raw["orderId"])
    fulfillment = raw.get("fulfillment") or {}
    status = fulfillment.get("fulfillmentStatus")
    if not status:
        raise AmazonOrderParseError(f"order {oid}: fulfillment.fulfillmentStatus is missing")
    address = (raw.get("recipient") or {}).get("deliveryAddress") or {}
    lines = []
    for item in raw.get("orderItems") or []:
        product = item.get("product") or {}
        item_fulfillment = item.get("fulfillment") or {}
        gift = (item_fulfillment.get("packing") or {}).get("giftOption")
        request = (item.get("cancellation") or {}).get("cancellationRequest")
        try:
            quantity = int(item["quantityOrdered"])
            fulfilled = int(item_fulfillment.get("quantityFulfilled") or 0)
            item_id = str(item["orderItemId"])
        except (KeyError, TypeError, ValueError) as exc:
            raise AmazonOrderParseError(f"order {oid}: an item lacks orderItemId or quantityOrdered") from exc
        lines.append(
            AmazonLine(
                order_item_id=item_id,
                quantity_ordered=quantity,
                quantity_fulfilled=fulfilled,
                amazon_sku=product.get("sellerSku") or "",
                asin=product.get("asin") or "",
                title=(product.get("title") or "")[:500],
                gift_message=(gift or {}).get("giftMessage") or "",
                is_gift=gift is not None,
                cancellation_requested=bool(request) and (request.get("requester") or "BUYER") == "BUYER",
            )
        )
    programs = set(raw.get("programs") or [])
    return AmazonOrder(
        amazon_order_id=oid,
        status=status,
        purchased_at=_time(raw.get("createdTime"), what="createdTime", order_id=oid, required=True),
        updated_at=_time(raw.get("lastUpdatedTime"), what="lastUpdatedTime", order_id=oid, required=True),
        marketplace_id=(raw.get("salesChannel") or {}).get("marketplaceId") or "",
        fulfilled_by=fulfillment.get("fulfilledBy") or "",
        service_level=fulfillment.get("fulfillmentServiceLevel") or "",
        is_prime="PRIME" in programs,
        is_business="AMAZON_BUSINESS" in programs,
        ship_by=_window(fulfillment.get("shipByWindow"), what="shipByWindow", order_id=oid),
        deliver_by=_window(fulfillment.get("deliverByWindow"), what="deliverByWindow", order_id=oid),
        recipient=address,
        lines=lines,
    )


# --- Search parameters ------------------------------------------------------------


def amazon_time(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _base_params(store: Store) -> dict:
    fulfilled_by = "AMAZON" if store.fulfillment_channel == Store.FulfillmentChannel.AFN else "MERCHANT"
    return {
        "marketplaceIds": [store.marketplace.marketplace_id],
        "fulfilledBy": [fulfilled_by],
        "includedData": list(INCLUDED_DATA),
        "maxResultsPerPage": PAGE_SIZE,
    }


def download_window(
    *,
    store: Store,
    watermark: dt.datetime | None,
    now: dt.datetime,
    initial_cursor: dt.datetime | None = None,
    initial_until: dt.datetime | None = None,
) -> tuple[dt.datetime, dt.datetime]:
    """The (after, before) times the next download of `store` reads.

    By update since the watermark (less an overlap) when there is one; a first
    download reads by creation from "import since", and one that did not
    finish resumes from `initial_cursor` (the end of the last slice it read
    whole) and keeps its first window end (`initial_until`), so attempts add
    up instead of starting over.
    """
    before = now - SETTLE_DELAY
    if watermark is not None:
        return min(watermark - WATERMARK_OVERLAP, before), before
    before = initial_until or before
    start = store.import_since or now - DEFAULT_LOOKBACK
    if initial_cursor is not None:
        start = max(start, initial_cursor)
    return min(start, before), before


def slice_search_params(*, store: Store, after: dt.datetime, before: dt.datetime, incremental: bool) -> dict:
    """searchOrders query parameters for the orders created (first download) or
    updated (later ones) from `after` to `before`."""
    params = _base_params(store)
    if incremental:
        params.update(
            lastUpdatedAfter=amazon_time(after),
            lastUpdatedBefore=amazon_time(before),
            fulfillmentStatuses=sorted(set(store.import_order_statuses) | set(TRACKED_STATUSES)),
        )
    else:
        params.update(
            createdAfter=amazon_time(after),
            createdBefore=amazon_time(before),
            fulfillmentStatuses=sorted(store.import_order_statuses),
        )
    return params


def order_search_params(*, store: Store, watermark: dt.datetime | None, now: dt.datetime) -> dict:
    """searchOrders query parameters for the whole window of the next download of `store`."""
    after, before = download_window(store=store, watermark=watermark, now=now)
    return slice_search_params(store=store, after=after, before=before, incremental=watermark is not None)


def _search_pages(client, params: dict) -> Iterator[list[dict]]:
    """Every page of one search, for jobs that move no watermark (reconciliation)."""
    token = None
    while True:
        query = dict(params)
        if token:
            # Amazon wants every other parameter repeated unchanged with the token.
            query["paginationToken"] = token
        body = client.search_orders(**query)
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list):
            raise AmazonOrderParseError("searchOrders answered without an orders list")
        yield orders
        token = (body.get("pagination") or {}).get("nextToken")
        if not token:
            return


# --- One page ---------------------------------------------------------------------


@dataclass
class PullCounts:
    new: int = 0
    updated: int = 0
    cancelled: int = 0
    held: int = 0
    released: int = 0
    skipped: int = 0
    pages: int = 0
    slices: int = 0

    def as_dict(self) -> dict:
        return asdict(self)


class _RunContext:
    """What a run reads once, not once per page."""

    def __init__(self, store: Store):
        self.store = store
        self.import_statuses = set(store.import_order_statuses)
        self.countries = set(store.ship_to_country_list)
        self.by_asin = store.product_code_field == Store.ProductCode.ASIN
        self._table: ShippingMethodTable | None = None

    @property
    def shipping_table(self) -> ShippingMethodTable:
        if self._table is None:
            self._table = shipping_method_table_for(store=self.store)
        return self._table

    def product_code(self, line: AmazonLine) -> str:
        return (line.asin if self.by_asin else line.amazon_sku) or ""


def _order_from_amazon(ctx: _RunContext, a: AmazonOrder, known: Order | None) -> Order:
    gift_lines = [line for line in a.lines if line.is_gift]
    return Order(
        store=ctx.store,
        amazon_order_id=a.amazon_order_id,
        amazon_status=a.status,
        status=Order.Status.HELD,
        marketplace_id=a.marketplace_id,
        fulfilled_by=a.fulfilled_by,
        service_level=a.service_level,
        is_prime=a.is_prime,
        is_business=a.is_business,
        is_gift=bool(gift_lines),
        gift_message="\n\n".join(line.gift_message for line in gift_lines if line.gift_message),
        purchased_at=a.purchased_at,
        amazon_updated_at=a.updated_at,
        ship_by_earliest=a.ship_by[0],
        ship_by_latest=a.ship_by[1],
        deliver_by_earliest=a.deliver_by[0],
        deliver_by_latest=a.deliver_by[1],
        ship_to_country=a.ship_to_country,
        recipient=json.dumps(a.recipient, sort_keys=True) if a.recipient else "",
        buyer_cancellation_requested=a.buyer_cancellation_requested,
        cancelled_at=known.cancelled_at if known else None,
        shipped_outside_at=known.shipped_outside_at if known else None,
    )


def _lines_from_amazon(ctx: _RunContext, order: Order, a: AmazonOrder) -> list[OrderLine]:
    return [
        OrderLine(
            order=order,
            order_item_id=line.order_item_id,
            amazon_sku=line.amazon_sku,
            asin=line.asin,
            product_code=ctx.product_code(line),
            title=line.title,
            quantity_ordered=line.quantity_ordered,
            quantity_shipped=min(line.quantity_fulfilled, line.quantity_ordered),
            gift_message=line.gift_message,
        )
        for line in a.lines
    ]


def _frozen_update(order: Order, a: AmazonOrder, now: dt.datetime) -> bool:
    """Apply what may change on an order the warehouse owns. True if it was cancelled now."""
    # Shipment confirmations set amazon_status to what Amazon will report once
    # they succeed: SHIPPED seen again is our own doing, not a shipment elsewhere.
    confirmed_shipped = order.amazon_status == OrderStatus.SHIPPED
    order.amazon_status = a.status
    order.amazon_updated_at = a.updated_at
    order.updated_at = now
    if order.status in Order.CLOSED_STATUSES:
        return False
    stop = cancelled = False
    if a.status == OrderStatus.CANCELLED:
        order.status = Order.Status.CANCELLED
        order.cancelled_at = now
        stop = cancelled = True
    elif a.status == OrderStatus.SHIPPED and not confirmed_shipped:
        # Our own shipments mark the order shipped first; Amazon saying so
        # while we have not means someone shipped it elsewhere.
        order.status = Order.Status.SHIPPED
        order.shipped_outside_at = now
        stop = True
    if a.buyer_cancellation_requested and not order.buyer_cancellation_requested:
        order.buyer_cancellation_requested = True
        stop = True
    if stop:
        # A new reason to stop: the warehouse hears it again even if it
        # acknowledged an earlier one (e.g. a request, then the cancellation).
        order.wms_stop_requested_at = now
        order.cancellation_acknowledged_at = None
    return cancelled


def orders_ingest_page(
    *, ctx: _RunContext, raw_orders: list[dict], now: dt.datetime, counts: PullCounts
) -> tuple[dt.datetime, dt.datetime] | None:
    """Write one page of Amazon orders; returns its latest (lastUpdatedTime, createdTime).

    Call inside a transaction. Every order is parsed before anything is
    written, so an answer that does not parse changes nothing.
    """
    store = ctx.store
    parsed: dict[str, AmazonOrder] = {}
    for raw in raw_orders:
        a = amazon_order_parse(raw)
        seen = parsed.get(a.amazon_order_id)
        if seen is None or a.updated_at > seen.updated_at:
            parsed[a.amazon_order_id] = a
    if not parsed:
        return None
    high = (max(a.updated_at for a in parsed.values()), max(a.purchased_at for a in parsed.values()))

    # Locked so "Re-check holds" or the WMS acknowledging an order cannot
    # interleave with this page's decision about the same order.
    known = {
        o.amazon_order_id: o
        for o in Order.objects.select_for_update()
        .filter(store=store, amazon_order_id__in=list(parsed))
        .only("pk", "store_id", "amazon_order_id", *_FROZEN_ORDER_FIELDS)
        .order_by("pk")
    }

    full: list[tuple[Order, list[OrderLine], AmazonOrder, bool]] = []
    frozen: list[Order] = []
    newly_cancelled_frozen: list[int] = []
    for a in parsed.values():
        if a.marketplace_id and a.marketplace_id != store.marketplace.marketplace_id:
            counts.skipped += 1
            continue
        existing = known.get(a.amazon_order_id)
        if existing is None:
            if a.status not in ctx.import_statuses or (
                ctx.countries and a.ship_to_country not in ctx.countries
            ):
                counts.skipped += 1
                continue
            counts.new += 1
        elif a.updated_at <= existing.amazon_updated_at:
            continue  # seen already (the overlap re-reads the previous run's tail)
        else:
            counts.updated += 1
            if existing.status != Order.Status.HELD:
                if _frozen_update(existing, a, now):
                    newly_cancelled_frozen.append(existing.pk)
                    counts.cancelled += 1
                frozen.append(existing)
                continue
        order = _order_from_amazon(ctx, a, existing)
        full.append((order, _lines_from_amazon(ctx, order, a), a, existing is not None))

    to_decide = []
    for order, lines, a, was_known in full:
        if a.status == OrderStatus.CANCELLED:
            order.status = Order.Status.CANCELLED
            order.cancelled_at = order.cancelled_at or now
            for line in lines:
                line.quantity_cancelled = line.quantity_ordered - line.quantity_shipped
            counts.cancelled += 1
        elif a.status == OrderStatus.SHIPPED:
            order.status = Order.Status.SHIPPED
            if was_known:  # known and held: shipped without the warehouse
                order.shipped_outside_at = order.shipped_outside_at or now
        else:
            to_decide.append((order, lines))
    if to_decide:
        components = sku_components_for(
            store=store, product_codes={line.product_code for _, lines in to_decide for line in lines}
        )
        for order, lines in to_decide:
            released = order_release_decide(
                order=order,
                lines=lines,
                components=components,
                shipping_table=ctx.shipping_table,
                now=now,
            )
            counts.released += released
            counts.held += not released

    if full:
        orders = [order for order, _, _, _ in full]
        Order.objects.bulk_create(
            orders,
            update_conflicts=True,
            unique_fields=["store", "amazon_order_id"],
            update_fields=_FULL_ORDER_FIELDS,
        )
        lines = [line for _, order_lines, _, _ in full for line in order_lines]
        for line in lines:
            line.order_id = line.order.pk
        if lines:
            OrderLine.objects.bulk_create(
                lines,
                update_conflicts=True,
                unique_fields=["order", "order_item_id"],
                update_fields=_LINE_FIELDS,
            )
    if frozen:
        Order.objects.bulk_update(frozen, _FROZEN_ORDER_FIELDS)
    if newly_cancelled_frozen:
        OrderLine.objects.filter(order_id__in=newly_cancelled_frozen).update(
            quantity_cancelled=F("quantity_ordered") - F("quantity_shipped")
        )
    return high


@dataclass
class _Slice:
    after: dt.datetime
    before: dt.datetime
    token: str = ""  # resume after the committed page this token follows


def _slice_next(*, after: dt.datetime, end: dt.datetime, length: dt.timedelta | None) -> _Slice:
    if length is None:
        return _Slice(after=after, before=end)
    return _Slice(after=after, before=min(end, after + max(length, MIN_SLICE)))


def _orders_per_hour(*, done: _Slice, orders: int) -> float | None:
    if orders == 0:
        return None
    return orders / max((done.before - done.after).total_seconds() / 3600, 1 / 60)


def _slice_length(rate: float | None, *, previous: dt.timedelta | None) -> dt.timedelta | None:
    """About SLICE_TARGET_ORDERS orders at `rate`; after an empty slice, longer than it;
    None (the rest of the window) while nothing is known."""
    if rate:
        return dt.timedelta(hours=SLICE_TARGET_ORDERS / rate)
    return previous * EMPTY_SLICE_GROWTH if previous else None


def _slice_progress(*, store: Store, current: _Slice, token: str) -> None:
    """Commit with a page that is not the slice's last: where to resume."""
    StoreSyncState.objects.filter(store=store).update(
        slice_after=current.after, slice_before=current.before, slice_token=token
    )


def _slice_done(*, store: Store, current: _Slice, incremental: bool, rate: float | None) -> None:
    """Commit with the slice's last page: everything up to its end is here."""
    done = {"slice_after": None, "slice_before": None, "slice_token": ""}
    if rate is not None:
        done["orders_per_hour"] = rate
    state = StoreSyncState.objects.filter(store=store)
    if incremental:
        state.update(**done)
        _watermark_advance(store=store, to=current.before)
        return
    state.update(**done)
    first = state.filter(order_watermark__isnull=True).values("initial_import_until").first()
    if first and first["initial_import_until"] and current.before >= first["initial_import_until"]:
        # The first download is complete: updates made since its window was
        # fixed are what the next (incremental) run reads.
        _watermark_advance(store=store, to=first["initial_import_until"])
    else:
        _initial_cursor_advance(store=store, to=current.before)


def _watermark_advance(*, store: Store, to: dt.datetime) -> None:
    # Forward only: a slow, older run can never move it back.
    StoreSyncState.objects.filter(store=store).filter(
        Q(order_watermark__isnull=True) | Q(order_watermark__lt=to)
    ).update(order_watermark=to, initial_import_cursor=None, initial_import_until=None)


def _initial_cursor_advance(*, store: Store, to: dt.datetime) -> None:
    StoreSyncState.objects.filter(store=store, order_watermark__isnull=True).filter(
        Q(initial_import_cursor__isnull=True) | Q(initial_import_cursor__lt=to)
    ).update(initial_import_cursor=to)


def _after_page_committed(*, store: Store, page: int) -> None:
    """Hook point between pages (tests simulate a crash here)."""


# --- The runs ---------------------------------------------------------------------


def orders_pull(*, store: Store, now: dt.datetime | None = None) -> SyncRun:
    """Download new and changed orders of one store; returns the run's record.

    Raises fulfillment.locks.JobLockBusy (recording nothing) when a download
    or reconciliation of this store is already running elsewhere.
    """
    with store_job_lock(store=store, kind=SyncRun.Kind.ORDER_PULL, lease_seconds=PULL_LEASE_SECONDS) as lease:
        return _orders_pull_locked(store=store, now=now or timezone.now(), lease=lease)


def _slice_read(
    *,
    ctx: _RunContext,
    client: AmazonClient,
    current: _Slice,
    incremental: bool,
    now: dt.datetime,
    counts: PullCounts,
    lease: JobLease,
) -> tuple[int, bool]:
    """Read one slice to its last page; returns (orders Amazon listed, whether it was read whole)."""
    store = ctx.store
    params = slice_search_params(
        store=store, after=current.after, before=current.before, incremental=incremental
    )
    token, resumed, listed = current.token, bool(current.token), 0
    while True:
        query = dict(params)
        if token:
            # Amazon wants every other parameter repeated unchanged with the token.
            query["paginationToken"] = token
        try:
            body = client.search_orders(**query)
        except PermanentAmazonError as exc:
            if not (resumed and exc.status == 400):
                raise
            # A token a dead run left behind that Amazon no longer takes: the
            # slice is read again from its start (upserts make that harmless).
            logger.info("store %s: resume token refused; reading the slice again", store.pk)
            token, resumed = "", False
            continue
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list):
            raise AmazonOrderParseError("searchOrders answered without an orders list")
        token = (body.get("pagination") or {}).get("nextToken") or ""
        listed += len(orders)
        with transaction.atomic():
            orders_ingest_page(ctx=ctx, raw_orders=orders, now=now, counts=counts)
            if token:
                _slice_progress(store=store, current=current, token=token)
            else:
                _slice_done(
                    store=store,
                    current=current,
                    incremental=incremental,
                    rate=None if resumed else _orders_per_hour(done=current, orders=listed),
                )
        counts.pages += 1
        lease.renew()
        _after_page_committed(store=store, page=counts.pages)
        if not token:
            return listed, not resumed


def _orders_pull_locked(*, store: Store, now: dt.datetime, lease: JobLease) -> SyncRun:
    run = sync_run_start(store=store, kind=SyncRun.Kind.ORDER_PULL)
    stats = CallStats()
    counts = PullCounts()
    ok, error = False, ""
    try:
        state, _ = StoreSyncState.objects.get_or_create(store=store)
        incremental = state.order_watermark is not None
        if not incremental and state.initial_import_until is None:
            # A first download keeps the window end of its first attempt: when
            # it completes, updates since then are what the next run reads.
            state.initial_import_until = now - SETTLE_DELAY
            StoreSyncState.objects.filter(pk=state.pk).update(initial_import_until=state.initial_import_until)
        start, window_end = download_window(
            store=store,
            watermark=state.order_watermark,
            now=now,
            initial_cursor=state.initial_import_cursor,
            initial_until=state.initial_import_until,
        )
        length = _slice_length(state.orders_per_hour, previous=None)
        current = None
        if state.slice_before is not None and state.slice_after is not None:
            # A run died in this slice: finish it first.
            current = _Slice(after=state.slice_after, before=state.slice_before, token=state.slice_token)
            window_end = max(window_end, current.before)
        ctx = _RunContext(store)
        client = amazon_client(store, stats=stats)
        while True:
            if current is None:
                current = _slice_next(after=start, end=window_end, length=length)
            listed, whole = _slice_read(
                ctx=ctx,
                client=client,
                current=current,
                incremental=incremental,
                now=now,
                counts=counts,
                lease=lease,
            )
            counts.slices += 1
            if whole:
                length = _slice_length(_orders_per_hour(done=current, orders=listed), previous=length)
            start, current = current.before, None
            if start >= window_end:
                break
        ok = True
    except Exception as exc:
        logger.warning("order download of store %s failed: %s", store.pk, exc, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
    return sync_run_finish(
        run=run,
        ok=ok,
        counts=counts.as_dict(),
        api_calls=stats.api_calls,
        throttled=stats.throttled,
        error=error,
    )


def orders_reconcile(*, store: Store, days: int = 3, now: dt.datetime | None = None) -> SyncRun:
    """Compare Amazon's open orders of the last `days` days with ours.

    Imports the open orders we lack and reports orders we hold open that
    Amazon has closed. Shares the download's lease: the two never overlap.
    """
    with store_job_lock(store=store, kind=SyncRun.Kind.ORDER_PULL, lease_seconds=PULL_LEASE_SECONDS) as lease:
        return _orders_reconcile_locked(store=store, days=days, now=now or timezone.now(), lease=lease)


def _orders_reconcile_locked(*, store: Store, days: int, now: dt.datetime, lease: JobLease) -> SyncRun:
    run = sync_run_start(store=store, kind=SyncRun.Kind.RECONCILE)
    stats = CallStats()
    counts = PullCounts()
    ok, error, notes = False, "", ""
    result: dict = {}
    try:
        after, before = now - dt.timedelta(days=days), now - SETTLE_DELAY
        params = _base_params(store)
        params.update(
            createdAfter=amazon_time(after),
            createdBefore=amazon_time(before),
            fulfillmentStatuses=RECONCILE_STATUSES,
        )
        ctx = _RunContext(store)
        client = amazon_client(store, stats=stats)
        open_at_amazon: set[str] = set()
        for raw_orders in _search_pages(client, params):
            with transaction.atomic():
                orders_ingest_page(ctx=ctx, raw_orders=raw_orders, now=now, counts=counts)
            open_at_amazon.update(str(r.get("orderId")) for r in raw_orders)
            counts.pages += 1
            lease.renew()
        open_here = set(
            Order.objects.filter(
                store=store,
                status__in=[Order.Status.HELD, *Order.FROZEN_STATUSES],
                amazon_status__in=RECONCILE_STATUSES,
                purchased_at__gte=after,
                purchased_at__lt=before,
            ).values_list("amazon_order_id", flat=True)
        )
        closed_at_amazon = sorted(open_here - open_at_amazon)
        result = {
            "listed": len(open_at_amazon),
            "missing": counts.new,
            "closed_at_amazon": len(closed_at_amazon),
        }
        if closed_at_amazon:
            notes = "Open here but no longer open at Amazon: " + ", ".join(closed_at_amazon)
        StoreSyncState.objects.update_or_create(store=store, defaults={"last_reconciled_at": now})
        ok = True
    except Exception as exc:
        logger.warning("order reconciliation of store %s failed: %s", store.pk, exc, exc_info=True)
        error = f"{type(exc).__name__}: {exc}"
    return sync_run_finish(
        run=run,
        ok=ok,
        counts={**counts.as_dict(), **result},
        api_calls=stats.api_calls,
        throttled=stats.throttled,
        error=error,
        notes=notes,
    )
