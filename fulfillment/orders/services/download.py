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
import logging
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from connections.amazon import AmazonClient, PermanentAmazonError
from connections.models import NotificationSubscription, OrderStatus, Store
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext, job_run
from fulfillment.orders.models import NotificationReceipt, Order, StoreSyncState
from fulfillment.orders.services.pages import RunContext, orders_ingest_page
from fulfillment.orders.services.parsing import AmazonOrderParseError

__all__ = [
    "OrderDownloadJob",
    "ReconciliationJob",
    "RunContext",
    "orders_ingest_page",
    "orders_pull",
    "orders_reconcile",
]

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
            raise AmazonOrderParseError("is missing from searchOrders' answer", field="orders")
        yield orders
        token = (body.get("pagination") or {}).get("nextToken")
        if not token:
            return


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

PULL_COUNTS = ("new", "updated", "cancelled", "held", "released", "skipped", "unreadable", "pages", "slices")


def orders_pull(*, store: Store, now: dt.datetime | None = None) -> SyncRun:
    """Download new and changed orders of one store; returns the run's record.

    Raises fulfillment.jobs.locks.JobLockBusy (recording nothing) when a download
    or reconciliation of this store is already running elsewhere.
    """
    return job_run(OrderDownloadJob(now=now), store=store)


def orders_reconcile(*, store: Store, days: int = 3, now: dt.datetime | None = None) -> SyncRun:
    """Compare Amazon's open orders of the last `days` days with ours (see ReconciliationJob)."""
    return job_run(ReconciliationJob(days=days, now=now), store=store)


def _slice_read(
    *,
    ctx: JobContext,
    orders_ctx: RunContext,
    client: AmazonClient,
    current: _Slice,
    incremental: bool,
    now: dt.datetime,
) -> tuple[int, bool]:
    """Read one slice to its last page; returns (orders Amazon listed, whether it was read whole)."""
    store = orders_ctx.store
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
            raise AmazonOrderParseError("is missing from searchOrders' answer", field="orders")
        token = (body.get("pagination") or {}).get("nextToken") or ""
        listed += len(orders)
        with transaction.atomic():
            orders_ingest_page(ctx=orders_ctx, raw_orders=orders, now=now, counts=ctx.counts)
            if token:
                _slice_progress(store=store, current=current, token=token)
            else:
                _slice_done(
                    store=store,
                    current=current,
                    incremental=incremental,
                    rate=None if resumed else _orders_per_hour(done=current, orders=listed),
                )
        ctx.counts["pages"] += 1
        ctx.renew()
        _after_page_committed(store=store, page=ctx.counts["pages"])
        if not token:
            return listed, not resumed


class OrderDownloadJob(Job):
    """Download new and changed orders of one store, slice by slice (module docstring)."""

    kind = SyncRun.Kind.ORDER_PULL
    lease_seconds = PULL_LEASE_SECONDS
    count_keys = PULL_COUNTS

    def __init__(self, *, now: dt.datetime | None = None) -> None:
        self.now = now

    def run(self, ctx: JobContext) -> None:
        started = timezone.now()
        self._download(ctx)
        if settings.SQS_QUEUE_URL:
            missed = orders_missed_by_notifications(store=ctx.store, since=started)
            if missed is not None:
                ctx.counts["missed_by_notifications"] = missed

    def _download(self, ctx: JobContext) -> None:
        store, now = ctx.store, self.now or timezone.now()
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
        orders_ctx, client = RunContext(store), ctx.amazon_client()
        while True:
            if current is None:
                current = _slice_next(after=start, end=window_end, length=length)
            listed, whole = _slice_read(
                ctx=ctx,
                orders_ctx=orders_ctx,
                client=client,
                current=current,
                incremental=incremental,
                now=now,
            )
            ctx.counts["slices"] += 1
            if whole:
                length = _slice_length(_orders_per_hour(done=current, orders=listed), previous=length)
            start, current = current.before, None
            if start >= window_end:
                return


def orders_missed_by_notifications(*, store: Store, since: dt.datetime) -> int | None:
    """Orders this download created that no ORDER_CHANGE notification had brought
    (None when the store has no active subscription: then every order is the download's)."""
    if not NotificationSubscription.objects.filter(
        store=store, state=NotificationSubscription.State.ACTIVE
    ).exists():
        return None
    noticed = (
        NotificationReceipt.objects.filter(store=store).exclude(amazon_order_id="").values("amazon_order_id")
    )
    return (
        Order.objects.filter(store=store, created_at__gte=since).exclude(amazon_order_id__in=noticed).count()
    )


class ReconciliationJob(Job):
    """Compare Amazon's open orders of the last `days` days with ours.

    Imports the open orders we lack and reports orders we hold open that
    Amazon has closed. Shares the download's lease: the two never overlap.
    """

    kind = SyncRun.Kind.RECONCILE
    lease_kind = SyncRun.Kind.ORDER_PULL
    lease_seconds = PULL_LEASE_SECONDS
    count_keys = PULL_COUNTS

    def __init__(
        self,
        *,
        days: int = 3,
        now: dt.datetime | None = None,
        first_day: dt.date | None = None,
        last_day: dt.date | None = None,
    ) -> None:
        """The last `days` days, or (*Resync a date range*) the orders created from
        `first_day` to `last_day` inclusive, days in the warehouse's time zone."""
        self.days = days
        self.now = now
        self.first_day, self.last_day = first_day, last_day

    def _window(self, store: Store, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
        settled = now - SETTLE_DELAY
        if self.first_day is None or self.last_day is None:
            return now - dt.timedelta(days=self.days), settled
        zone = zoneinfo.ZoneInfo(store.warehouse.time_zone)
        after = dt.datetime.combine(self.first_day, dt.time(), tzinfo=zone)
        before = dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
        return after, min(before, settled)

    def run(self, ctx: JobContext) -> None:
        store, now = ctx.store, self.now or timezone.now()
        after, before = self._window(store, now)
        if after >= before:
            ctx.fail("The range ends before it starts (or lies in the future): nothing to resync.")
            return
        params = _base_params(store)
        params.update(
            createdAfter=amazon_time(after),
            createdBefore=amazon_time(before),
            fulfillmentStatuses=RECONCILE_STATUSES,
        )
        orders_ctx, client = RunContext(store), ctx.amazon_client()
        open_at_amazon: set[str] = set()
        for raw_orders in _search_pages(client, params):
            with transaction.atomic():
                orders_ingest_page(ctx=orders_ctx, raw_orders=raw_orders, now=now, counts=ctx.counts)
            open_at_amazon.update(str(r.get("orderId")) for r in raw_orders if isinstance(r, dict))
            ctx.counts["pages"] += 1
            ctx.renew()
        open_here = set(
            Order.objects.filter(
                store=store,
                status__in=Order.OPEN_STATUSES,
                amazon_status__in=RECONCILE_STATUSES,
                purchased_at__gte=after,
                purchased_at__lt=before,
            ).values_list("amazon_order_id", flat=True)
        )
        closed_at_amazon = sorted(open_here - open_at_amazon)
        ctx.counts.update(
            listed=len(open_at_amazon), missing=ctx.counts["new"], closed_at_amazon=len(closed_at_amazon)
        )
        notes = []
        if self.first_day is not None:
            notes.append(f"Resync of orders created {self.first_day:%Y-%m-%d} to {self.last_day:%Y-%m-%d}.")
        if closed_at_amazon:
            notes.append("Open here but no longer open at Amazon: " + ", ".join(closed_at_amazon))
        ctx.notes = " ".join(notes)
        StoreSyncState.objects.update_or_create(store=store, defaults={"last_reconciled_at": now})
