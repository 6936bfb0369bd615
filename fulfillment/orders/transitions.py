"""The order's life: every move of `Order.status`, and the only code that writes it.

`MOVES` is the table: each move's name, the statuses it may start from and
the ones it may end in. One function per move checks the table, sets the
status with the facts that go with it (`released_at`, `cancelled_at`,
`shipped_by_us_at`, the warehouse's stop request, ...) and, once the
transaction commits, runs what follows it (`_committed`). A move the table
does not allow raises `TransitionNotAllowed`; callers check their own rules
first (a package for a cancelled order is refused in words the WMS reads)
and so never meet it.

Two kinds of callers:
- one order, locked by the caller: the move saves the row itself
  (acknowledge, ship, ship partially, correct a shipment, Amazon's
  confirmations catching up);
- the download's page and "Re-check holds" decide a batch in memory (rows
  locked, or not stored yet) and write it in one bulk query: the moves only
  set fields, and `orders_write` / `orders_upsert` here write the batch with
  its status column. A page costs the queries it cost before.

`NEW` is the state of an order the download has just read and not stored.
A released order ("the warehouse's", `Order.FROZEN_STATUSES`) that Amazon
cancels, ships elsewhere or whose buyer asks to cancel must be stopped: the
move records the stop request, which the WMS reads from its cancellations
feed and acknowledges (fulfillment/wms/services.py).

After commit: a log line per move (ids only), so the log tells what happened
to an order and a rolled-back move never shows. The WMS hears of releases
and stops by its own polling (orders and cancellations feeds) and the
per-minute webhook sweep, not from here: queuing from the download's pages
would add a query to each of them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django.utils import timezone

from fulfillment.orders.models import Order

logger = logging.getLogger(__name__)

S = Order.Status
NEW = "new"


@dataclass(frozen=True)
class Move:
    name: str
    sources: frozenset[str]
    targets: frozenset[str]
    what: str


def _move(name: str, sources: Iterable[str], targets: Iterable[str], what: str) -> Move:
    return Move(name, frozenset(sources), frozenset(targets), what)


MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        _move("hold", [NEW, S.HELD], [S.HELD], "something a person must fix (a mapping, the address, ...)"),
        _move("release", [NEW, S.HELD], [S.RELEASED], "nothing to fix: the warehouse may ship it"),
        _move("arrive_shipped", [NEW], [S.SHIPPED], "first downloaded already shipped on Amazon"),
        _move("acknowledge", [S.RELEASED], [S.ACKNOWLEDGED], "the WMS took the order"),
        _move(
            "ship_partially",
            Order.FROZEN_STATUSES,
            [S.PARTIALLY_SHIPPED],
            "the warehouse's packages (recorded, or confirmed by Amazon) cover part of the order",
        ),
        _move(
            "ship",
            Order.FROZEN_STATUSES,
            [S.SHIPPED],
            "the warehouse's packages (recorded, or confirmed by Amazon) cover the whole order",
        ),
        _move(
            "correct_shipment",
            [S.PARTIALLY_SHIPPED, S.SHIPPED],
            [S.PARTIALLY_SHIPPED, S.SHIPPED],
            "a package Amazon has not accepted was corrected: the order is what its packages cover now",
        ),
        _move("cancel", [NEW, *Order.OPEN_STATUSES], [S.CANCELLED], "cancelled on Amazon"),
        _move(
            "ship_elsewhere",
            Order.OPEN_STATUSES,
            [S.SHIPPED],
            "Amazon reports it shipped and the warehouse's packages do not cover it",
        ),
    )
}


class TransitionNotAllowed(Exception):
    """A move the table does not allow from the order's status (a bug in the caller)."""

    def __init__(self, order: Order, move: Move, to: str):
        self.move, self.was, self.to = move.name, order.status, to
        allowed = ", ".join(sorted(move.sources))
        super().__init__(
            f"Order {order.amazon_order_id or order.pk}: '{move.name}' cannot move it from "
            f"{order.status or NEW} to {to} (it moves orders from {allowed} to "
            f"{', '.join(sorted(move.targets))})."
        )


def _apply(order: Order, name: str, to: str) -> str:
    """Check the table, set the status in memory, note the move for after commit; returns the old status."""
    move = MOVES[name]
    was = order.status
    if was not in move.sources or to not in move.targets:
        raise TransitionNotAllowed(order, move, to)
    order.status = to
    order.__dict__.setdefault("_moves", []).append((name, was, to))
    return was


def _stop_request(order: Order, *, now: dt.datetime) -> None:
    # A new reason to stop: the warehouse hears it again even if it
    # acknowledged an earlier one (e.g. a request, then the cancellation).
    order.wms_stop_requested_at = now
    order.cancellation_acknowledged_at = None


# --- The download's moves (in memory; the page writes them with orders_upsert/orders_write) ---


def order_as_read(*, known: Order | None, **fields) -> Order:
    """The order the download's page writes, in the state it is in now: NEW when
    Amazon's order is not stored yet, else the stored order's (held)."""
    return Order(status=known.status if known is not None else NEW, **fields)


def order_hold(order: Order, *, reasons: list[str]) -> None:
    _apply(order, "hold", S.HELD)
    order.hold_reasons = reasons
    order.carrier = order.ship_code = ""


def order_release(order: Order, *, carrier: str, ship_code: str, now: dt.datetime) -> None:
    _apply(order, "release", S.RELEASED)
    order.hold_reasons = []
    order.carrier = carrier
    order.ship_code = ship_code
    order.released_at = now


def order_arrive_shipped(order: Order) -> None:
    """Amazon's order was shipped before we ever saw it: history, not a shipment elsewhere."""
    _apply(order, "arrive_shipped", S.SHIPPED)


def order_cancel(order: Order, *, now: dt.datetime) -> None:
    was = _apply(order, "cancel", S.CANCELLED)
    order.cancelled_at = order.cancelled_at or now
    if was in Order.FROZEN_STATUSES:
        _stop_request(order, now=now)


def order_ship_elsewhere(order: Order, *, now: dt.datetime) -> None:
    was = _apply(order, "ship_elsewhere", S.SHIPPED)
    order.shipped_outside_at = order.shipped_outside_at or now
    if was in Order.FROZEN_STATUSES:
        _stop_request(order, now=now)


def shipped_by_us(order: Order) -> bool:
    """Whether Amazon saying "shipped" is our own doing (the `ship` move recorded it)."""
    return order.shipped_by_us_at is not None


def order_buyer_cancellation_request(order: Order, *, now: dt.datetime) -> None:
    """Not a move of the status: the buyer asked to cancel a released order, so the
    warehouse must stop it (a held order is held for it instead, see services/release.py)."""
    if order.buyer_cancellation_requested:
        return
    order.buyer_cancellation_requested = True
    if order.status in Order.FROZEN_STATUSES:
        _stop_request(order, now=now)


def orders_write(orders: Sequence[Order], *, fields: Sequence[str]) -> None:
    """Write stored orders moved in memory: one UPDATE of `fields` and their status."""
    if not orders:
        return
    Order.objects.bulk_update(orders, _with_status(fields))
    _after_commit(orders)


def orders_upsert(orders: Sequence[Order], *, fields: Sequence[str]) -> None:
    """Insert (or update, on Amazon's order id) orders the download read, with their status."""
    if not orders:
        return
    unmoved = [o.amazon_order_id for o in orders if o.status == NEW]
    if unmoved:
        raise ValueError(f"orders {', '.join(unmoved)} were read but no move decided their status")
    Order.objects.bulk_create(
        orders,
        update_conflicts=True,
        unique_fields=["store", "amazon_order_id"],
        update_fields=_with_status(fields),
    )
    _after_commit(orders)


def _with_status(fields: Sequence[str]) -> list[str]:
    return [*fields, *(["status"] if "status" not in fields else [])]


# --- One order, locked by the caller: the move saves it ----------------------------------


def order_acknowledge(order: Order, *, now: dt.datetime | None = None) -> None:
    """The WMS took a released order (POST .../acknowledge)."""
    _apply(order, "acknowledge", S.ACKNOWLEDGED)
    order.acknowledged_at = now or timezone.now()
    _save(order, "acknowledged_at")


def order_ship(order: Order, *, now: dt.datetime | None = None) -> None:
    """The warehouse's packages cover the whole order: a fact the download reads, so
    Amazon saying "shipped" afterwards is not taken for a shipment elsewhere."""
    _apply(order, "ship", S.SHIPPED)
    order.shipped_by_us_at = now or timezone.now()
    _save(order, "shipped_by_us_at")


def order_ship_partially(order: Order) -> None:
    _apply(order, "ship_partially", S.PARTIALLY_SHIPPED)
    _save(order)


def order_correct_shipment(order: Order, *, complete: bool, now: dt.datetime | None = None) -> None:
    """A corrected package: the order is what its packages cover now, both ways."""
    _apply(order, "correct_shipment", S.SHIPPED if complete else S.PARTIALLY_SHIPPED)
    order.shipped_by_us_at = (order.shipped_by_us_at or now or timezone.now()) if complete else None
    _save(order, "shipped_by_us_at")


# Forward only: Amazon's confirmations catch up with what the warehouse recorded, never undo it.
_SHIPPING_PROGRESS = {S.RELEASED: 0, S.ACKNOWLEDGED: 0, S.PARTIALLY_SHIPPED: 1, S.SHIPPED: 2}


def order_ship_confirmed_may_move(status: str) -> bool:
    """Whether Amazon accepting packages could move an order in `status` at all
    (order_ship_confirmed): not a shipped, held or cancelled one."""
    return _SHIPPING_PROGRESS.get(status, 2) < _SHIPPING_PROGRESS[S.SHIPPED]


def order_ship_confirmed(order: Order, *, complete: bool, now: dt.datetime | None = None) -> bool:
    """Amazon accepted packages of ours: the order moves forward to what they cover
    (ship or ship partially), never back, and a held, cancelled or shipped order
    stays as it is. True if it moved."""
    target = S.SHIPPED if complete else S.PARTIALLY_SHIPPED
    if _SHIPPING_PROGRESS[target] <= _SHIPPING_PROGRESS.get(order.status, 2):
        return False
    if complete:
        order_ship(order, now=now)
    else:
        order_ship_partially(order)
    return True


def _save(order: Order, *fields: str) -> None:
    order.save(update_fields=["status", *fields, "updated_at"])
    _after_commit([order])


# --- After commit ------------------------------------------------------------------------


def _after_commit(orders: Sequence[Order]) -> None:
    # Callbacks registered in a savepoint that rolls back are dropped by
    # Django; the moves stay noted on the orders for a retried write.
    transaction.on_commit(partial(_committed, list(orders)), robust=True)


def _committed(orders: list[Order]) -> None:
    """What follows the moves of `orders` once they are committed (each move once)."""
    done: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for order in orders:
        for name, was, to in order.__dict__.pop("_moves", []):
            done[name, was, to].append(f"{order.pk} ({order.amazon_order_id})")
    for (name, was, to), ids in done.items():
        shown = ", ".join(ids[:20]) + (f" and {len(ids) - 20} more" if len(ids) > 20 else "")
        logger.info("order move %s (%s -> %s) committed: %s", name, was or NEW, to, shown)
