"""Reads of the confirmation queue: what is due, what Amazon still has unshipped,
and the checks a package must pass before it is sent."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce

from connections.models import AcceptedCarrier, OrderStatus
from fulfillment.orders.models import Order, OrderLine
from fulfillment.shipments.models import Shipment, ShipmentConfirmation, ShipmentLine
from mappings.models import OTHER_CARRIER
from mappings.selectors import amazon_carrier_for

State = ShipmentConfirmation.State


def confirmations_due(
    *, store_id: int, now: dt.datetime, lease: dt.timedelta
) -> QuerySet[ShipmentConfirmation]:
    """Rows of one store a worker may claim now: due pending/retrying rows, and
    `sending` rows whose claim is older than the lease (their worker crashed)."""
    return ShipmentConfirmation.objects.filter(
        ShipmentConfirmation.due_q(now) | Q(state=State.SENDING, claimed_at__lt=now - lease),
        store_id=store_id,
    ).order_by("not_before", "pk")


def confirmed_quantities(*, order_id: int, exclude_shipment_id: int | None = None) -> dict[int, int]:
    """Amazon units per order line that ACCEPTED confirmations of the order confirmed."""
    lines = ShipmentLine.objects.filter(
        shipment__order_id=order_id, shipment__confirmation__state=State.ACCEPTED
    )
    if exclude_shipment_id is not None:
        lines = lines.exclude(shipment_id=exclude_shipment_id)
    return {
        row["order_line_id"]: row["total"]
        for row in lines.values("order_line_id").annotate(total=Sum("quantity")).order_by()
    }


def confirmation_for_send(*, confirmation_id: int) -> tuple[ShipmentConfirmation | None, list[ShipmentLine]]:
    """The confirmation with its shipment, order, store (marketplace, warehouse) and the
    package's lines with their order lines and, per line, the Amazon units other packages
    of the order already had ACCEPTED (`confirmed_elsewhere`): everything a send reads
    and checks, in one query (the lines carry the rest). A package without lines costs
    a second query. (None, []) if there is no such confirmation."""
    elsewhere = (
        ShipmentLine.objects.filter(
            order_line=OuterRef("order_line"), shipment__confirmation__state=State.ACCEPTED
        )
        .exclude(shipment_id=OuterRef("shipment_id"))
        .order_by()
        .values("order_line")
        .annotate(total=Sum("quantity"))
        .values("total")[:1]
    )
    lines = list(
        ShipmentLine.objects.filter(shipment__confirmation__pk=confirmation_id)
        .select_related(
            "order_line",
            "shipment__order",
            "shipment__confirmation__store__marketplace",
            "shipment__confirmation__store__warehouse",
        )
        .annotate(confirmed_elsewhere=Coalesce(Subquery(elsewhere), 0))
        .order_by("order_line__order_item_id")
    )
    if not lines:
        confirmation = (
            ShipmentConfirmation.objects.select_related(
                "shipment", "order", "store__marketplace", "store__warehouse"
            )
            .filter(pk=confirmation_id)
            .first()
        )
        return confirmation, []
    # One shipment, order and confirmation for all the lines (each row brought its own copy).
    shipment = lines[0].shipment
    confirmation = shipment.confirmation
    confirmation.shipment = shipment
    confirmation.order = shipment.order
    for line in lines:
        line.shipment = shipment
    return confirmation, lines


@dataclass(frozen=True)
class Carrier:
    code: str
    name: str


def confirmation_carrier(*, store, warehouse_carrier: str) -> tuple[Carrier, str]:
    """(carrier to send, problem or ""). The store's or default mapping, else an
    accepted code matching in any case, else Other with the warehouse's name."""
    code, name = amazon_carrier_for(store=store, warehouse_carrier=warehouse_carrier)
    carrier = Carrier(code=code, name=name if code == OTHER_CARRIER else "")
    if code == OTHER_CARRIER:
        if not name.strip():
            return (
                carrier,
                "The carrier is missing: Amazon needs a carrier code or Other with a carrier name.",
            )
        return carrier, ""
    # A mapping may name a code of another marketplace (a default row for every store).
    if not AcceptedCarrier.objects.filter(marketplace_id=store.marketplace_id, code=code).exists():
        return carrier, (
            f"Carrier code {code!r} (from the warehouse's {warehouse_carrier!r}) is not accepted in the "
            f"{store.marketplace.code} marketplace: fix the carrier mapping, then Retry."
        )
    return carrier, ""


# A WMS clock a little ahead of ours: wait for the ship date instead of refusing it.
SHIP_DATE_SKEW = dt.timedelta(hours=1)


@dataclass
class PreSendCheck:
    carrier: Carrier
    problems: list[str]
    wait_until: dt.datetime | None = None  # ship date slightly in the future: send then


def confirmation_check(
    *,
    shipment: Shipment,
    order: Order,
    store,
    lines: list[ShipmentLine],
    now: dt.datetime,
    carriers: dict | None = None,
) -> PreSendCheck:
    """Every reason Amazon would refuse this package, as messages for the admin.

    `carriers`: a sweep's cache of the carrier to send per (store, warehouse
    carrier), so its packages look the mappings up once per carrier, not once each.
    """
    problems: list[str] = []
    key = (store.pk, shipment.carrier)
    if carriers is not None and key in carriers:
        carrier, carrier_problem = carriers[key]
    else:
        carrier, carrier_problem = confirmation_carrier(store=store, warehouse_carrier=shipment.carrier)
        if carriers is not None:
            carriers[key] = (carrier, carrier_problem)
    if carrier_problem:
        problems.append(carrier_problem)
    if not shipment.tracking_number.strip():
        problems.append("The tracking number is missing.")
    wait_until = None
    if shipment.ship_date > now:
        if shipment.ship_date - now <= SHIP_DATE_SKEW:
            wait_until = shipment.ship_date
        else:
            problems.append(
                f"The ship date {shipment.ship_date:%Y-%m-%d %H:%M} UTC is in the future; Amazon refuses it."
            )
    if shipment.ship_date < order.purchased_at:
        problems.append(
            f"The ship date {shipment.ship_date:%Y-%m-%d %H:%M} UTC is before the order was placed "
            f"({order.purchased_at:%Y-%m-%d %H:%M} UTC); Amazon refuses it."
        )
    if order.status == Order.Status.CANCELLED or order.amazon_status == OrderStatus.CANCELLED:
        problems.append(f"Order {order.amazon_order_id} is cancelled on Amazon: it cannot be confirmed.")
    if not lines:
        problems.append("The package has no items.")
    if lines and all(hasattr(line, "confirmed_elsewhere") for line in lines):
        # Loaded with the lines (confirmation_for_send): no query of its own.
        confirmed = {line.order_line_id: line.confirmed_elsewhere for line in lines}
    else:
        confirmed = confirmed_quantities(order_id=order.pk, exclude_shipment_id=shipment.pk)
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        wanted[line.order_line_id] += line.quantity
    by_pk: dict[int, OrderLine] = {line.order_line_id: line.order_line for line in lines}
    for pk, quantity in wanted.items():
        ol = by_pk[pk]
        unshipped = ol.quantity_ordered - ol.quantity_cancelled - confirmed.get(pk, 0)
        if quantity > unshipped:
            problems.append(
                f"Order item {ol.order_item_id}: {quantity} in this package but Amazon has only "
                f"{max(unshipped, 0)} unshipped ({ol.quantity_ordered} ordered, {ol.quantity_cancelled} "
                f"cancelled, {confirmed.get(pk, 0)} already confirmed)."
            )
    return PreSendCheck(carrier=carrier, problems=problems, wait_until=wait_until)


def amazon_package_find(*, amazon_order: dict, package_reference: int) -> dict | None:
    """The package with our reference in a getOrder(includedData=PACKAGES) answer, or None."""
    # Orders 2026-01-01 getOrder answers {"order": {...}}; accept the bare order too.
    order = amazon_order.get("order") if isinstance(amazon_order.get("order"), dict) else amazon_order
    for package in order.get("packages") or []:
        if str(package.get("packageReferenceId", "")).strip() == str(package_reference):
            return package
    return None


# --- Orders Amazon refused --------------------------------------------------------------------
# A package the warehouse shipped whose confirmation Amazon refused (the order
# cancelled there, quantities Amazon no longer has ...) leaves the order
# "shipped" here while Amazon says otherwise: that conflict is its own state
# until the package is corrected, retried or settled by hand ("Mark resolved").


def _refused(order_ref) -> QuerySet[ShipmentConfirmation]:
    return ShipmentConfirmation.objects.filter(order=order_ref, state=State.REJECTED)


def orders_refused_by_amazon(*, orders: QuerySet[Order]) -> QuerySet[Order]:
    return orders.filter(Exists(_refused(OuterRef("pk"))))


def orders_with_amazon_refusal(*, orders: QuerySet[Order]) -> QuerySet[Order]:
    """`orders` annotated with `amazon_refusal`: the message of the order's first refused
    package (None when Amazon refused none), in the same query."""
    first = _refused(OuterRef("pk")).order_by("package_reference").values("amazon_message")[:1]
    return orders.annotate(amazon_refusal=Subquery(first))


def order_state_text(*, order: Order, refusal: str | None, limit: int | None = None) -> str:
    """The order's state as a person reads it: "Shipped, Amazon refused: <reason>" in conflict."""
    text = order.get_status_display()
    if refusal is None:
        return text
    reason = refusal.strip() or "see the package's confirmation"
    if limit and len(reason) > limit:
        reason = reason[: limit - 1] + "…"
    return f"{text}, Amazon refused: {reason}"
