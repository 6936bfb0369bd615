"""Reads for operations: the admin dashboard and an order's timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, TruncDate
from django.urls import reverse
from django.utils import timezone

from connections.models import Store
from connections.scoping import stores_visible
from fulfillment.inventory.models import InventoryPush
from fulfillment.jobs.models import SyncRun
from fulfillment.ops.charts import DailySeries, daily_bars_svg
from fulfillment.orders.models import Order, UnreadableOrder
from fulfillment.orders.services.ship_risk import ShipRisk, ship_risk_q, shipping_calendars
from fulfillment.shipments.models import Shipment, ShipmentConfirmation

CHART_DAYS = 14
# A run with no result after this long is a crashed worker's, not a running one.
RUNNING_WINDOW = dt.timedelta(hours=2)


def _changelist(name: str, **params) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


@dataclass
class Figure:
    value: int | str
    url: str
    alert: bool = False


@dataclass
class StoreHealth:
    store: Store
    connection: Figure
    last_pull_at: dt.datetime | None
    last_pull_age: dt.timedelta | None
    pull_stale: bool
    last_pull: Figure
    held: Figure
    released: Figure
    acknowledged: Figure
    overdue: Figure
    unreadable: Figure
    rejected: Figure
    retrying: Figure
    refused_orders: Figure
    last_push: InventoryPush | None
    last_push_figure: Figure
    running: list[SyncRun] = field(default_factory=list)
    # Ship risk (services/ship_risk.py): open orders with at most one cut-off left.
    at_risk: Figure | None = None
    # Released orders the WMS must stop and has not acknowledged stopping.
    stop_pending: Figure | None = None
    # The last finished download failed: its error, in words.
    last_pull_error: str = ""


@dataclass
class Dashboard:
    now: dt.datetime
    stores: list[StoreHealth]
    chart_svg: str
    chart_days: list[dt.date]
    orders_per_day: list[int]
    confirmed_per_day: list[int]
    running: list[SyncRun]


def _push_result(push: InventoryPush | None) -> str:
    if push is None:
        return "never"
    result = push.get_state_display()
    if push.state == InventoryPush.State.DONE:
        result += f": {push.accepted} accepted"
        if push.rejected:
            result += f", {push.rejected} rejected"
    elif push.error:
        result += f": {push.error[:80]}"
    return result


def dashboard_for(*, user, now: dt.datetime) -> Dashboard:
    """Per visible store: health, queues and last runs; plus a 14-day chart.

    Eight queries whatever the number of stores (asserted in tests/ops): one
    per table, grouped by store in the database, none per store.
    """
    visible = stores_visible(user=user)
    visible_ids = visible.values("pk")
    last_pull = SyncRun.objects.filter(store=OuterRef("pk"), kind=SyncRun.Kind.ORDER_PULL, ok=True).order_by(
        "-started_at"
    )
    last_finished_pull = SyncRun.objects.filter(
        store=OuterRef("pk"), kind=SyncRun.Kind.ORDER_PULL, ok__isnull=False
    ).order_by("-started_at")
    last_push = InventoryPush.objects.filter(store=OuterRef("pk")).order_by("-created_at")
    unreadable = (
        UnreadableOrder.objects.filter(store=OuterRef("pk"), resolved_at__isnull=True)
        .order_by()
        .values("store")
        .annotate(n=Count("pk"))
        .values("n")
    )
    stores = list(
        visible.select_related("marketplace", "warehouse").annotate(
            last_pull_at=Subquery(last_pull.values("finished_at")[:1]),
            last_pull_ok=Subquery(last_finished_pull.values("ok")[:1]),
            last_pull_error=Subquery(last_finished_pull.values("error")[:1]),
            last_pull_failed_at=Subquery(last_finished_pull.values("finished_at")[:1]),
            last_push_id=Subquery(last_push.values("pk")[:1]),
            open_unreadable=Coalesce(Subquery(unreadable[:1]), 0),
        )
    )

    # The same ship-risk rule as the orders list's filter and the alert.
    calendars = shipping_calendars(warehouses={s.warehouse_id: s.warehouse for s in stores}.values(), now=now)
    stop_pending_q = Q(wms_stop_requested_at__isnull=False, cancellation_acknowledged_at__isnull=True)
    order_counts = {
        row["store_id"]: row
        # Only open orders and cancelled ones the warehouse has not acknowledged:
        # every figure counts some of them, and they are a small part of a table
        # that keeps every order for 18 months (index ranges on
        # order_status_store_idx and the partial stop index, not a table scan).
        for row in Order.objects.filter(
            Q(status__in=Order.OPEN_STATUSES) | stop_pending_q, store__in=visible_ids
        )
        .values("store_id")
        .annotate(
            held=Count("pk", filter=Q(status=Order.Status.HELD)),
            released=Count("pk", filter=Q(status=Order.Status.RELEASED)),
            acknowledged=Count("pk", filter=Q(status=Order.Status.ACKNOWLEDGED)),
            overdue=Count("pk", filter=ship_risk_q(ShipRisk.LATE, now=now, calendars=calendars)),
            at_risk=Count("pk", filter=ship_risk_q(ShipRisk.AT_RISK, now=now, calendars=calendars)),
            stop_pending=Count("pk", filter=stop_pending_q),
        )
        .order_by()
    }
    State = ShipmentConfirmation.State
    confirmation_counts = {
        row["store_id"]: row
        for row in ShipmentConfirmation.objects.filter(
            store__in=visible_ids, state__in=[State.REJECTED, State.RETRYING]
        )
        .values("store_id")
        .annotate(
            rejected=Count("pk", filter=Q(state=State.REJECTED)),
            retrying=Count("pk", filter=Q(state=State.RETRYING)),
            # Orders shipped here that Amazon refused: one order may have several such packages.
            refused_orders=Count("order_id", filter=Q(state=State.REJECTED), distinct=True),
        )
        .order_by()
    }
    push_ids = [s.last_push_id for s in stores if s.last_push_id]
    pushes = {p.pk: p for p in InventoryPush.objects.filter(pk__in=push_ids)} if push_ids else {}
    running = list(
        SyncRun.objects.filter(store__in=visible_ids, ok__isnull=True, started_at__gte=now - RUNNING_WINDOW)
        .select_related("store")
        .order_by("started_at")
    )
    running_by_store: dict[int, list[SyncRun]] = {}
    for run in running:
        running_by_store.setdefault(run.store_id, []).append(run)

    health = []
    for store in stores:
        orders = order_counts.get(store.pk, {})
        confirmations = confirmation_counts.get(store.pk, {})
        age = now - store.last_pull_at if store.last_pull_at else None
        # Flagged when two scheduled downloads in a row have not succeeded.
        stale_after = dt.timedelta(minutes=2 * store.order_pull_minutes)
        stale = store.is_active and store.is_connected and (age is None or age > stale_after)
        push = pushes.get(store.last_push_id)
        by_store = {"store__id__exact": store.pk}
        # A download that failed last is said in red with its error, not hidden
        # behind the last success's "0 min ago".
        pull_failed = store.last_pull_ok is False
        pull_value = "never" if age is None else _age(age)
        if pull_failed:
            failed_age = _age(now - store.last_pull_failed_at) if store.last_pull_failed_at else ""
            pull_value = f"Failed {failed_age}".strip()
        health.append(
            StoreHealth(
                store=store,
                connection=Figure(
                    store.get_authorization_status_display(),
                    reverse("admin:connections_store_change", args=[store.pk]),
                    alert=not store.is_connected,
                ),
                last_pull_at=store.last_pull_at,
                last_pull_age=age,
                pull_stale=stale,
                last_pull=Figure(
                    pull_value,
                    _changelist("jobs_syncrun", kind__exact=SyncRun.Kind.ORDER_PULL, **by_store),
                    alert=stale or pull_failed,
                ),
                last_pull_error=(store.last_pull_error or "failed") if pull_failed else "",
                held=Figure(
                    orders.get("held", 0),
                    _changelist("fulfillment_order", status__exact=Order.Status.HELD, **by_store),
                    alert=bool(orders.get("held")),
                ),
                released=Figure(
                    orders.get("released", 0),
                    _changelist("fulfillment_order", status__exact=Order.Status.RELEASED, **by_store),
                ),
                acknowledged=Figure(
                    orders.get("acknowledged", 0),
                    _changelist("fulfillment_order", status__exact=Order.Status.ACKNOWLEDGED, **by_store),
                ),
                overdue=Figure(
                    orders.get("overdue", 0),
                    _changelist("fulfillment_order", ship_risk=ShipRisk.LATE, **by_store),
                    alert=bool(orders.get("overdue")),
                ),
                at_risk=Figure(
                    orders.get("at_risk", 0),
                    _changelist("fulfillment_order", ship_risk=ShipRisk.AT_RISK, **by_store),
                    alert=bool(orders.get("at_risk")),
                ),
                stop_pending=Figure(
                    orders.get("stop_pending", 0),
                    _changelist("fulfillment_order", wms_stop="pending", **by_store),
                    alert=bool(orders.get("stop_pending")),
                ),
                unreadable=Figure(
                    store.open_unreadable,
                    _changelist("fulfillment_unreadableorder", open="yes", **by_store),
                    alert=bool(store.open_unreadable),
                ),
                rejected=Figure(
                    confirmations.get("rejected", 0),
                    _changelist(
                        "confirmations_shipmentconfirmation", state__exact=State.REJECTED, **by_store
                    ),
                    alert=bool(confirmations.get("rejected")),
                ),
                retrying=Figure(
                    confirmations.get("retrying", 0),
                    _changelist(
                        "confirmations_shipmentconfirmation", state__exact=State.RETRYING, **by_store
                    ),
                ),
                refused_orders=Figure(
                    confirmations.get("refused_orders", 0),
                    _changelist("fulfillment_order", amazon_refused="yes", **by_store),
                    alert=bool(confirmations.get("refused_orders")),
                ),
                last_push=push,
                last_push_figure=Figure(
                    _push_result(push),
                    _changelist("inventory_inventorypush", **by_store),
                    alert=bool(push and (push.state == InventoryPush.State.FAILED or push.rejected)),
                ),
                running=running_by_store.get(store.pk, []),
            )
        )

    days, orders_per_day, confirmed_per_day = _daily_counts(visible_ids=visible_ids, now=now)
    chart = daily_bars_svg(
        days=days,
        series=[
            DailySeries("Orders in", "#417690", orders_per_day),
            DailySeries("Packages confirmed", "#e49b0f", confirmed_per_day),
        ],
    )
    return Dashboard(
        now=now,
        stores=health,
        chart_svg=chart,
        chart_days=days,
        orders_per_day=orders_per_day,
        confirmed_per_day=confirmed_per_day,
        running=running,
    )


def _daily_counts(*, visible_ids, now: dt.datetime) -> tuple[list[dt.date], list[int], list[int]]:
    tz = timezone.get_current_timezone()
    today = timezone.localtime(now, tz).date()
    days = [today - dt.timedelta(days=CHART_DAYS - 1 - i) for i in range(CHART_DAYS)]
    start = dt.datetime.combine(days[0], dt.time.min, tzinfo=tz)
    orders = dict(
        Order.objects.filter(store__in=visible_ids, created_at__gte=start)
        .annotate(day=TruncDate("created_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("day", "n")
    )
    confirmed = dict(
        ShipmentConfirmation.objects.filter(store__in=visible_ids, accepted_at__gte=start)
        .annotate(day=TruncDate("accepted_at", tzinfo=tz))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("day", "n")
    )
    return days, [orders.get(d, 0) for d in days], [confirmed.get(d, 0) for d in days]


def _age(age: dt.timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min ago"
    return f"{minutes // (24 * 60)} days ago"


# --- Order timeline --------------------------------------------------------------------------


_LIFECYCLE = {"purchased": 0, "downloaded": 1, "held": 2, "released": 3, "acknowledged": 4}


@dataclass(frozen=True)
class TimelineEvent:
    at: dt.datetime
    kind: str
    title: str
    detail: str = ""


def order_timeline(*, order: Order) -> list[TimelineEvent]:
    """What happened to one order, oldest first, from the rows that record it (one query)."""
    events = [
        TimelineEvent(order.purchased_at, "purchased", "Ordered on Amazon"),
        TimelineEvent(order.created_at, "downloaded", "Downloaded from Amazon"),
    ]
    if order.status == Order.Status.HELD or (order.hold_reasons and order.released_at is None):
        events.append(
            TimelineEvent(
                order.created_at, "held", "Held", "; ".join(order.hold_reasons) or "no reason recorded"
            )
        )
    if order.released_at:
        detail = " ".join(p for p in (order.carrier, order.ship_code) if p)
        events.append(TimelineEvent(order.released_at, "released", "Released to the warehouse", detail))
    if order.acknowledged_at:
        events.append(TimelineEvent(order.acknowledged_at, "acknowledged", "Acknowledged by the warehouse"))
    shipments = (
        Shipment.objects.filter(order=order).select_related("confirmation").order_by("created_at", "pk")
    )
    for shipment in shipments:
        events.append(
            TimelineEvent(
                shipment.created_at,
                "shipped",
                f"Package {shipment.package_id} shipped",
                f"{shipment.carrier} {shipment.tracking_number}, ship date "
                f"{timezone.localtime(shipment.ship_date):%Y-%m-%d}",
            )
        )
        confirmation = getattr(shipment, "confirmation", None)
        if confirmation is not None:
            events.extend(_confirmation_events(shipment, confirmation))
    if order.cancelled_at:
        events.append(TimelineEvent(order.cancelled_at, "cancelled", "Cancelled on Amazon"))
    if order.shipped_outside_at:
        events.append(
            TimelineEvent(order.shipped_outside_at, "shipped_outside", "Amazon reports it shipped elsewhere")
        )
    if order.wms_stop_requested_at:
        events.append(
            TimelineEvent(order.wms_stop_requested_at, "stop_requested", "Warehouse asked to stop it")
        )
    if order.cancellation_acknowledged_at:
        events.append(
            TimelineEvent(
                order.cancellation_acknowledged_at, "stop_acknowledged", "Warehouse confirmed the stop"
            )
        )
    # Within the same second (a download releases an order in the same run) the
    # lifecycle decides; sorted() is stable, so packages keep their order.
    return sorted(events, key=lambda e: (e.at.replace(microsecond=0), _LIFECYCLE.get(e.kind, 5)))


def _confirmation_events(shipment: Shipment, c: ShipmentConfirmation) -> list[TimelineEvent]:
    State = ShipmentConfirmation.State
    name = f"Package {shipment.package_id}"
    if c.state == State.ACCEPTED and c.accepted_at:
        return [TimelineEvent(c.accepted_at, "confirmed", f"{name} confirmed to Amazon", c.amazon_message)]
    if c.state == State.REJECTED:
        at = c.last_attempt_at or c.updated_at
        return [
            TimelineEvent(at, "rejected", f"{name} confirmation rejected", c.amazon_message or c.last_error)
        ]
    if c.state == State.RESOLVED:
        return [TimelineEvent(c.updated_at, "resolved", f"{name} marked resolved", c.resolved_by)]
    if c.state == State.HELD:
        text = f"{name} held: tracking number not its carrier's"
        return [TimelineEvent(c.last_attempt_at or c.updated_at, "held", text, c.amazon_message)]
    if c.state == State.RETRYING:
        at = c.last_attempt_at or c.updated_at
        return [
            TimelineEvent(
                at,
                "retrying",
                f"{name} confirmation retrying",
                f"attempt {c.attempts}: {c.last_error}".strip(),
            )
        ]
    return [TimelineEvent(c.created_at, "pending", f"{name} confirmation queued")]


# --- ORDER_CHANGE notifications (docs/notifications.md) ---------------------------------

NOTIFICATION_DAYS = 7


@dataclass
class NotificationHealth:
    store: Store
    state: str
    healthy: bool
    last_notification_at: dt.datetime | None
    missed_per_day: list[int]  # oldest first, today last
    missed_url: str


def notification_health_for(
    *, user, now: dt.datetime
) -> tuple[list[dt.date], list[NotificationHealth]] | None:
    """Per visible store: its subscription and the orders the download found before
    any notification did ("missed by notifications"), per day. None (no query) while
    notifications are off (SQS_QUEUE_URL empty)."""
    from django.conf import settings

    from connections.models import NotificationSubscription

    if not settings.SQS_QUEUE_URL:
        return None
    today = timezone.localdate(now)
    days = [today - dt.timedelta(days=n) for n in range(NOTIFICATION_DAYS - 1, -1, -1)]
    visible = stores_visible(user=user)
    subscriptions = {
        s.store_id: s for s in NotificationSubscription.objects.filter(store__in=visible.values("pk"))
    }
    missed: dict[tuple[int, dt.date], int] = {}
    since = now - dt.timedelta(days=NOTIFICATION_DAYS)
    for store_id, started_at, counts in SyncRun.objects.filter(
        store__in=visible.values("pk"), kind=SyncRun.Kind.ORDER_PULL, started_at__gte=since
    ).values_list("store_id", "started_at", "counts"):
        n = int((counts or {}).get("missed_by_notifications", 0) or 0)
        if n:
            key = (store_id, timezone.localdate(started_at))
            missed[key] = missed.get(key, 0) + n
    rows = []
    for store in visible.select_related("marketplace").order_by("name"):
        s = subscriptions.get(store.pk)
        rows.append(
            NotificationHealth(
                store=store,
                state=s.get_state_display() if s else "Not subscribed yet",
                healthy=bool(s and s.is_healthy),
                last_notification_at=s.last_notification_at if s else None,
                missed_per_day=[missed.get((store.pk, day), 0) for day in days],
                missed_url=_changelist("jobs_syncrun", store__id__exact=store.pk, kind__exact="order_pull"),
            )
        )
    return days, rows
