"""Writing one page of Amazon orders (the order download, reconciliation, *Retry*).

A fixed handful of queries per page: every order that reads is upserted with
its lines (new and held orders take everything Amazon says and are released or
held; orders the warehouse owns only take cancellation-type changes). An
order that cannot be read, or that the database refuses, is set aside on its
own as an unreadable order (services/unreadable.py); the rest of the page is
written. The counts say what was written, not what was attempted.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from dataclasses import dataclass, field

from django.db import DatabaseError, transaction
from django.db.models import F

from connections.models import OrderStatus, Store
from fulfillment.jobs.errors import safe_error
from fulfillment.orders import transitions
from fulfillment.orders.models import Order, OrderLine, UnreadableOrder
from fulfillment.orders.services.parsing import (
    AmazonLine,
    AmazonOrder,
    AmazonOrderParseError,
    amazon_order_parse,
)
from fulfillment.orders.services.release import order_release_decide
from fulfillment.orders.services.unreadable import (
    Unreadable,
    unreadable_orders_record,
    unreadable_orders_resolve,
)
from mappings.selectors import ShippingMethodTable, shipping_method_table_for, sku_components_for

logger = logging.getLogger(__name__)

# Columns a page upsert writes for new and held orders (everything Amazon says
# plus the release decision; the status column is written by transitions.py).
# Released orders never go through this path.
_FULL_ORDER_FIELDS = [
    "amazon_status",
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
# What the download may still change on an order the warehouse owns (and its
# status, written by transitions.py).
_FROZEN_ORDER_FIELDS = [
    "amazon_status",
    "amazon_updated_at",
    "buyer_cancellation_requested",
    "cancelled_at",
    "shipped_outside_at",
    "wms_stop_requested_at",
    "cancellation_acknowledged_at",
    "updated_at",
]


class RunContext:
    """What a run reads once, not once per page."""

    def __init__(self, store: Store):
        self.store = store
        self.import_statuses = set(store.import_order_statuses)
        self.countries = set(store.ship_to_country_list)
        self.by_asin = store.product_code_field == Store.ProductCode.ASIN
        self._table: ShippingMethodTable | None = None
        self._open_unreadable: set[str] | None = None

    @property
    def shipping_table(self) -> ShippingMethodTable:
        if self._table is None:
            self._table = shipping_method_table_for(store=self.store)
        return self._table

    @property
    def open_unreadable(self) -> set[str]:
        """Ids of this store's unreadable orders not yet resolved (read once per run)."""
        if self._open_unreadable is None:
            self._open_unreadable = set(
                UnreadableOrder.objects.filter(store=self.store, resolved_at__isnull=True).values_list(
                    "amazon_order_id", flat=True
                )
            )
        return self._open_unreadable

    def product_code(self, line: AmazonLine) -> str:
        return (line.asin if self.by_asin else line.amazon_sku) or ""


@dataclass
class _Write:
    """One order's write and what it counts once written."""

    order: Order
    lines: list[OrderLine] = field(default_factory=list)
    full: bool = True  # False: a frozen order's cancellation-type update
    new: bool = False
    updated: bool = False
    cancelled: bool = False
    released: bool = False
    held: bool = False
    cancel_lines: bool = False  # a frozen order cancelled now: its lines' cancelled quantities

    def count(self, counts: Counter[str]) -> None:
        counts.update(
            new=self.new,
            updated=self.updated,
            cancelled=self.cancelled,
            released=self.released,
            held=self.held,
        )


def _order_from_amazon(ctx: RunContext, a: AmazonOrder, known: Order | None) -> Order:
    gift_lines = [line for line in a.lines if line.is_gift]
    return transitions.order_as_read(
        known=known,
        store=ctx.store,
        amazon_order_id=a.amazon_order_id,
        amazon_status=a.status,
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


def _lines_from_amazon(ctx: RunContext, order: Order, a: AmazonOrder) -> list[OrderLine]:
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
    """Apply what may change on an order the warehouse owns. True if it was cancelled now.

    The moves (transitions.py) record the warehouse's stop request."""
    order.amazon_status = a.status
    order.amazon_updated_at = a.updated_at
    order.updated_at = now
    if order.status in Order.CLOSED_STATUSES:
        return False
    cancelled = False
    if a.status == OrderStatus.CANCELLED:
        transitions.order_cancel(order, now=now)
        cancelled = True
    elif a.status == OrderStatus.SHIPPED and not transitions.shipped_by_us(order):
        # Our own packages record the order shipped by us first; Amazon
        # saying so while they do not means someone shipped it elsewhere.
        transitions.order_ship_elsewhere(order, now=now)
    if a.buyer_cancellation_requested:
        transitions.order_buyer_cancellation_request(order, now=now)
    return cancelled


def orders_ingest_page(*, ctx: RunContext, raw_orders: list, now: dt.datetime, counts: Counter[str]) -> None:
    """Write one page of Amazon orders. Call inside a transaction.

    Orders that cannot be read, or that the database refuses, are set aside
    as unreadable orders; the others are written. Counts what was written.
    """
    store = ctx.store
    parsed: dict[str, AmazonOrder] = {}
    unreadable: list[Unreadable] = []
    for raw in raw_orders:
        try:
            a = amazon_order_parse(raw)
        except AmazonOrderParseError as exc:
            unreadable.append(Unreadable(exc.order_id, exc.field, exc.reason))
            continue
        seen = parsed.get(a.amazon_order_id)
        if seen is None or a.updated_at > seen.updated_at:
            parsed[a.amazon_order_id] = a
    unreadable = [u for u in unreadable if u.amazon_order_id not in parsed]

    writes = _writes_planned(ctx=ctx, parsed=parsed, now=now, counts=counts) if parsed else []
    refused = _writes_apply(writes)
    for w in writes:
        if w.order.amazon_order_id not in refused:
            w.count(counts)
    unreadable.extend(refused.values())

    # Orders that read (and were stored, or needed nothing) close their
    # unreadable rows; those that did not open or update theirs.
    readable = ctx.open_unreadable.intersection(parsed).difference(refused)
    if readable:
        unreadable_orders_resolve(store=store, amazon_order_ids=readable, now=now)
        ctx.open_unreadable.difference_update(readable)
    if unreadable:
        for u in unreadable:
            # Ids, field names and our words only (never a value of the order).
            logger.warning(
                "store %s: Amazon order %s set aside as unreadable: %s %s",
                store.pk,
                u.amazon_order_id or "(no orderId)",
                u.field or "the order",
                u.reason,
            )
        counts["unreadable"] += unreadable_orders_record(store=store, problems=unreadable, now=now)
        ctx.open_unreadable.update(u.amazon_order_id for u in unreadable)


def _writes_planned(
    *, ctx: RunContext, parsed: dict[str, AmazonOrder], now: dt.datetime, counts: Counter[str]
) -> list[_Write]:
    """Decide every order's write in memory (release or hold included)."""
    store = ctx.store
    # Locked so "Re-check holds" or the WMS acknowledging an order cannot
    # interleave with this page's decision about the same order.
    known = {
        o.amazon_order_id: o
        for o in Order.objects.select_for_update()
        .filter(store=store, amazon_order_id__in=list(parsed))
        .only("pk", "store_id", "amazon_order_id", "status", "shipped_by_us_at", *_FROZEN_ORDER_FIELDS)
        .order_by("pk")
    }
    writes: list[_Write] = []
    to_decide: list[_Write] = []
    for a in parsed.values():
        if a.marketplace_id and a.marketplace_id != store.marketplace.marketplace_id:
            counts["skipped"] += 1
            continue
        existing = known.get(a.amazon_order_id)
        if existing is None:
            if a.status not in ctx.import_statuses or (
                ctx.countries and a.ship_to_country not in ctx.countries
            ):
                counts["skipped"] += 1
                continue
        elif a.updated_at <= existing.amazon_updated_at:
            continue  # seen already (the overlap re-reads the previous run's tail)
        elif existing.status != Order.Status.HELD:
            cancelled = _frozen_update(existing, a, now)
            writes.append(
                _Write(order=existing, full=False, updated=True, cancelled=cancelled, cancel_lines=cancelled)
            )
            continue
        order = _order_from_amazon(ctx, a, existing)
        w = _Write(
            order=order,
            lines=_lines_from_amazon(ctx, order, a),
            new=existing is None,
            updated=existing is not None,
        )
        writes.append(w)
        if a.status == OrderStatus.CANCELLED:
            transitions.order_cancel(order, now=now)
            for line in w.lines:
                line.quantity_cancelled = line.quantity_ordered - line.quantity_shipped
            w.cancelled = True
        elif a.status == OrderStatus.SHIPPED:
            if existing is None:
                transitions.order_arrive_shipped(order)
            else:  # known and held: shipped without the warehouse
                transitions.order_ship_elsewhere(order, now=now)
        else:
            to_decide.append(w)
    if to_decide:
        components = sku_components_for(
            store=store, product_codes={line.product_code for w in to_decide for line in w.lines}
        )
        for w in to_decide:
            w.released = order_release_decide(
                order=w.order,
                lines=w.lines,
                components=components,
                shipping_table=ctx.shipping_table,
                now=now,
                unmapped_is_warehouse_sku=store.unmapped_sku_is_warehouse_sku,
            )
            w.held = not w.released
    return writes


def _writes_apply(writes: list[_Write]) -> dict[str, Unreadable]:
    """Write the page in a few bulk queries; if the database refuses, write each
    order on its own and return the ones it refused (by Amazon order id)."""
    if not writes:
        return {}
    try:
        with transaction.atomic():
            _write(writes)
        return {}
    except DatabaseError:
        pass
    # The rolled-back attempt may have given ids to rows that do not exist.
    for w in writes:
        if w.full:
            w.order.pk = None
            for line in w.lines:
                line.pk = None
    refused: dict[str, Unreadable] = {}
    for w in writes:
        try:
            with transaction.atomic():
                _write([w])
        except DatabaseError as exc:
            oid = w.order.amazon_order_id
            refused[oid] = Unreadable(oid, "", f"the database refused the order ({safe_error(exc)})")
    return refused


def _write(writes: list[_Write]) -> None:
    full = [w for w in writes if w.full]
    frozen = [w.order for w in writes if not w.full]
    if full:
        transitions.orders_upsert([w.order for w in full], fields=_FULL_ORDER_FIELDS)
        lines = [line for w in full for line in w.lines]
        for line in lines:
            line.order_id = line.order.pk
        if lines:
            OrderLine.objects.bulk_create(
                lines,
                update_conflicts=True,
                unique_fields=["order", "order_item_id"],
                update_fields=_LINE_FIELDS,
            )
    transitions.orders_write(frozen, fields=_FROZEN_ORDER_FIELDS)
    cancelled = [w.order.pk for w in writes if w.cancel_lines]
    if cancelled:
        OrderLine.objects.filter(order_id__in=cancelled).update(
            quantity_cancelled=F("quantity_ordered") - F("quantity_shipped")
        )
