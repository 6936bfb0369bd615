"""The order's moves (fulfillment/orders/transitions.py): the table, each move's facts, after commit."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.db import transaction
from django.utils import timezone

from fulfillment.orders import transitions
from fulfillment.orders.models import Order
from fulfillment.orders.transitions import MOVES, NEW, TransitionNotAllowed

from .factories import make_order

S = Order.Status
EVERY_STATE = [NEW, *S.values]
NOW = timezone.now()
EARLIER = NOW - dt.timedelta(days=1)

# How each move is made; in-memory moves are written by the caller (the download, Re-check holds).
DRIVERS = {
    "hold": lambda o, to: transitions.order_hold(o, reasons=["SKU X not mapped"]),
    "release": lambda o, to: transitions.order_release(o, carrier="UPS", ship_code="GND", now=NOW),
    "arrive_shipped": lambda o, to: transitions.order_arrive_shipped(o),
    "acknowledge": lambda o, to: transitions.order_acknowledge(o, now=NOW),
    "ship_partially": lambda o, to: transitions.order_ship_partially(o),
    "ship": lambda o, to: transitions.order_ship(o, now=NOW),
    "correct_shipment": lambda o, to: transitions.order_correct_shipment(
        o, complete=to == S.SHIPPED, now=NOW
    ),
    "cancel": lambda o, to: transitions.order_cancel(o, now=NOW),
    "ship_elsewhere": lambda o, to: transitions.order_ship_elsewhere(o, now=NOW),
}
SAVING = {"acknowledge", "ship_partially", "ship", "correct_shipment"}


def _order(store, state: str) -> Order:
    """A stored order in `state`, or one the download has just read (NEW)."""
    if state == NEW:
        return transitions.order_as_read(
            known=None,
            store=store,
            amazon_order_id="111-0000000-0000000",
            purchased_at=NOW,
            amazon_updated_at=NOW,
        )
    return make_order(store=store, status=state, released_at=EARLIER if state != S.HELD else None)


ALLOWED = [(name, was, to) for name, move in MOVES.items() for was in move.sources for to in move.targets]
FORBIDDEN = [(name, was) for name, move in MOVES.items() for was in EVERY_STATE if was not in move.sources]


def test_every_move_has_a_function():
    assert set(DRIVERS) == set(MOVES)


@pytest.mark.parametrize(("name", "was", "to"), ALLOWED)
def test_every_allowed_move_works(store, name, was, to):
    # given
    order = _order(store, was)

    # when
    DRIVERS[name](order, to)

    # then
    assert order.status == to
    if name in SAVING:
        order.refresh_from_db()
        assert order.status == to


@pytest.mark.parametrize(("name", "was"), FORBIDDEN)
def test_a_move_the_table_does_not_allow_raises_and_changes_nothing(store, name, was):
    # given
    order = _order(store, was)
    to = sorted(MOVES[name].targets)[0]

    # when
    with pytest.raises(TransitionNotAllowed) as raised:
        DRIVERS[name](order, to)

    # then: the error says which move, from what, to what
    assert f"'{name}'" in str(raised.value) and f"from {was}" in str(raised.value)
    assert order.status == was
    if was != NEW:
        order.refresh_from_db()
        assert order.status == was


def test_the_table_reaches_every_status_from_a_new_order_and_closes():
    # given
    reached, frontier = {NEW}, [NEW]
    while frontier:
        was = frontier.pop()
        for move in MOVES.values():
            if was in move.sources:
                for to in move.targets - reached:
                    reached.add(to)
                    frontier.append(to)

    # then: every status is reachable; a cancelled order never moves again,
    # a shipped one only when a package is corrected
    assert reached == set(EVERY_STATE)
    assert not [m for m in MOVES.values() if S.CANCELLED in m.sources]
    assert [m.name for m in MOVES.values() if S.SHIPPED in m.sources] == ["correct_shipment"]


# --- What each move records ------------------------------------------------------------


def test_release_and_hold_record_the_decision():
    # given
    order = Order(status=S.HELD, hold_reasons=["old"], carrier="", ship_code="")

    # when
    transitions.order_release(order, carrier="UPS", ship_code="GND", now=NOW)

    # then
    assert (order.hold_reasons, order.carrier, order.ship_code, order.released_at) == ([], "UPS", "GND", NOW)

    # and a new order held keeps no carrier
    held = Order(status=NEW, carrier="UPS", ship_code="GND")
    transitions.order_hold(held, reasons=["address missing"])
    assert (held.status, held.hold_reasons, held.carrier, held.ship_code) == (
        S.HELD,
        ["address missing"],
        "",
        "",
    )


# A new order Amazon already shipped arrives shipped (arrive_shipped): never "shipped elsewhere".
_STOPS = [(NEW, False), (S.HELD, False), *[(s, True) for s in Order.FROZEN_STATUSES]]


@pytest.mark.parametrize(
    ("move", "was", "stopped"),
    [("cancel", was, stopped) for was, stopped in _STOPS]
    + [("ship_elsewhere", was, stopped) for was, stopped in _STOPS if was != NEW],
)
def test_the_warehouse_is_asked_to_stop_only_orders_it_had(move, was, stopped):
    # given: a stop it acknowledged before (a buyer's request, say)
    order = Order(status=was, wms_stop_requested_at=EARLIER, cancellation_acknowledged_at=EARLIER)
    if was in (NEW, S.HELD):
        order.wms_stop_requested_at = order.cancellation_acknowledged_at = None

    # when
    DRIVERS[move](order, None)

    # then
    assert (order.wms_stop_requested_at == NOW) is stopped
    assert order.cancellation_acknowledged_at is None
    assert (order.cancelled_at if move == "cancel" else order.shipped_outside_at) == NOW


def test_a_new_order_already_shipped_is_not_shipped_elsewhere():
    order = Order(status=NEW)
    transitions.order_arrive_shipped(order)
    assert order.status == S.SHIPPED and order.shipped_outside_at is None and order.shipped_by_us_at is None


def test_the_ship_move_records_that_we_shipped_it(store):
    # given
    partial = make_order(store=store, status=S.RELEASED)
    full = make_order(store=store, status=S.PARTIALLY_SHIPPED)

    # when
    transitions.order_ship_partially(partial)
    transitions.order_ship(full, now=NOW)

    # then
    partial.refresh_from_db()
    full.refresh_from_db()
    assert partial.shipped_by_us_at is None and transitions.shipped_by_us(full)
    assert full.shipped_by_us_at == NOW


def test_a_correction_keeps_the_fact_true(store):
    # given: shipped by us yesterday
    order = make_order(store=store, status=S.SHIPPED, shipped_by_us_at=EARLIER)

    # when: still complete, then a package made smaller
    transitions.order_correct_shipment(order, complete=True, now=NOW)
    kept = order.shipped_by_us_at
    transitions.order_correct_shipment(order, complete=False, now=NOW)

    # then
    order.refresh_from_db()
    assert kept == EARLIER
    assert order.status == S.PARTIALLY_SHIPPED and order.shipped_by_us_at is None


@pytest.mark.parametrize(
    ("was", "complete", "becomes"),
    [
        (S.RELEASED, False, S.PARTIALLY_SHIPPED),
        (S.ACKNOWLEDGED, True, S.SHIPPED),
        (S.PARTIALLY_SHIPPED, True, S.SHIPPED),
        (S.PARTIALLY_SHIPPED, False, S.PARTIALLY_SHIPPED),
        (S.SHIPPED, False, S.SHIPPED),
        (S.HELD, True, S.HELD),
        (S.CANCELLED, True, S.CANCELLED),
    ],
)
def test_amazons_confirmations_only_move_an_order_forward(store, was, complete, becomes):
    # given
    order = make_order(store=store, status=was)

    # when
    moved = transitions.order_ship_confirmed(order, complete=complete, now=NOW)

    # then
    order.refresh_from_db()
    assert order.status == becomes and moved is (becomes != was)
    assert (order.shipped_by_us_at == NOW) is (moved and becomes == S.SHIPPED)


def test_a_buyers_request_stops_a_released_order_once():
    # given
    order = Order(status=S.ACKNOWLEDGED)

    # when
    transitions.order_buyer_cancellation_request(order, now=EARLIER)
    transitions.order_buyer_cancellation_request(order, now=NOW)

    # then
    assert order.buyer_cancellation_requested and order.wms_stop_requested_at == EARLIER


def test_an_order_read_without_a_move_is_never_written(store):
    order = _order(store, NEW)
    with pytest.raises(ValueError, match="no move decided"):
        transitions.orders_upsert([order], fields=["amazon_status"])
    assert not Order.objects.exists()


# --- After commit ------------------------------------------------------------------------


def _moves_logged(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == transitions.logger.name]


def test_a_move_is_followed_once_its_transaction_commits(store, caplog, django_capture_on_commit_callbacks):
    # given
    caplog.set_level(logging.INFO, logger=transitions.logger.name)
    order = make_order(store=store, status=S.RELEASED, amazon_order_id="111-0000001-0000001")

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            transitions.order_acknowledge(order)
        assert _moves_logged(caplog) == []  # nothing before the commit

    # then
    assert len(callbacks) == 1
    assert _moves_logged(caplog) == [
        f"order move acknowledge (released -> acknowledged) committed: {order.pk} (111-0000001-0000001)"
    ]


def _acknowledge_then_fail(order: Order) -> None:
    with transaction.atomic():
        transitions.order_acknowledge(order)
        raise RuntimeError("the caller fails after the move")


def test_a_rolled_back_move_is_not_followed(store, caplog, django_capture_on_commit_callbacks):
    # given
    caplog.set_level(logging.INFO, logger=transitions.logger.name)
    order = make_order(store=store, status=S.RELEASED)

    # when
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        _acknowledge_then_fail(order)

    # then
    assert callbacks == [] and _moves_logged(caplog) == []
    order.refresh_from_db()
    assert order.status == S.RELEASED


def test_a_batch_is_followed_by_one_callback_and_each_move_once(
    store, caplog, django_capture_on_commit_callbacks
):
    # given: three held orders released in memory
    caplog.set_level(logging.INFO, logger=transitions.logger.name)
    orders = [make_order(store=store, status=S.HELD) for _ in range(3)]
    for order in orders:
        transitions.order_release(order, carrier="UPS", ship_code="GND", now=NOW)

    # when: written, then written again in the same transaction
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        transitions.orders_write(orders, fields=["released_at"])
        transitions.orders_write(orders, fields=["released_at"])

    # then
    assert len(callbacks) == 2
    logged = _moves_logged(caplog)
    assert len(logged) == 1 and logged[0].startswith("order move release (held -> released) committed:")
    assert all(str(o.pk) in logged[0] for o in orders)
    assert set(Order.objects.values_list("status", flat=True)) == {S.RELEASED}


@pytest.mark.django_db(transaction=True)
def test_on_a_real_commit_the_move_is_followed_once_and_not_after_a_rollback(store, caplog):
    # given
    caplog.set_level(logging.INFO, logger=transitions.logger.name)
    kept = make_order(store=store, status=S.RELEASED)
    undone = make_order(store=store, status=S.RELEASED)

    # when
    with transaction.atomic():
        transitions.order_acknowledge(kept)
    with pytest.raises(RuntimeError):
        _acknowledge_then_fail(undone)

    # then
    logged = _moves_logged(caplog)
    assert len(logged) == 1 and f"{kept.pk} (" in logged[0]
    assert Order.objects.get(pk=undone.pk).status == S.RELEASED
