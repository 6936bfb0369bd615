"""Pre-send checks, Amazon's rejections, retries after 5xx, and crash recovery."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from fulfillment.orders.models import Order, OrderLine
from fulfillment.shipments.models import Shipment, ShipmentConfirmation
from fulfillment.shipments.selectors import Carrier
from fulfillment.shipments.services.confirmations import confirmation_body, confirmation_claim
from mappings.models import CarrierMapping
from sandbox.models import SandboxOrder, SandboxOrderItem, SandboxPackage
from sandbox.shipments import sandbox_shipment_confirm

from .conftest import ITEM_A, ITEM_B

State = ShipmentConfirmation.State


@pytest.fixture(autouse=True)
def ops_email(store):
    store.warehouse.operations_email = "ops@example.com"
    store.warehouse.save(update_fields=["operations_email"])


def _due_now(confirmation):
    ShipmentConfirmation.objects.filter(pk=confirmation.pk).update(
        not_before=timezone.now() - dt.timedelta(seconds=1)
    )


# --- Pre-send checks: rejected with a clear message, Amazon never called ---------------------


def _tracking_missing(order, shipment, store):
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="  ")


def _ship_date_future(order, shipment, store):
    Shipment.objects.filter(pk=shipment.pk).update(ship_date=timezone.now() + dt.timedelta(days=2))


def _ship_date_before_order(order, shipment, store):
    Shipment.objects.filter(pk=shipment.pk).update(ship_date=order.purchased_at - dt.timedelta(hours=3))


def _cancelled_on_amazon(order, shipment, store):
    Order.objects.filter(pk=order.pk).update(amazon_status="CANCELLED")


def _order_cancelled(order, shipment, store):
    Order.objects.filter(pk=order.pk).update(status=Order.Status.CANCELLED)


def _more_than_unshipped(order, shipment, store):
    # Amazon cancelled one of the two units after the warehouse packed them.
    OrderLine.objects.filter(order=order, order_item_id=ITEM_A).update(quantity_cancelled=1)


def _carrier_not_accepted_here(order, shipment, store):
    # A default mapping to a code only Amazon Australia accepts.
    CarrierMapping.objects.create(store=None, warehouse_carrier="UPS", amazon_carrier_code="Sendle")


def _carrier_missing(order, shipment, store):
    Shipment.objects.filter(pk=shipment.pk).update(carrier="")


@pytest.mark.parametrize(
    ("spoil", "fragment"),
    [
        (_tracking_missing, "tracking number is missing"),
        (_ship_date_future, "in the future"),
        (_ship_date_before_order, "before the order was placed"),
        (_cancelled_on_amazon, "cancelled on Amazon"),
        (_order_cancelled, "cancelled on Amazon"),
        (_more_than_unshipped, f"Order item {ITEM_A}: 2 in this package but Amazon has only 1 unshipped"),
        (_carrier_not_accepted_here, "'Sendle' (from the warehouse's 'UPS') is not accepted in the US"),
        (_carrier_missing, "carrier is missing"),
    ],
    ids=lambda v: getattr(v, "__name__", "")[1:],
)
def test_it_rejects_before_sending_with_a_clear_message(
    order, amazon_order, store, ship, sweep, spoil, fragment
):
    # given
    shipment = ship(order, {ITEM_A: 2})
    spoil(order, shipment, store)

    # when: run twice
    run, _ = sweep()
    sweep()

    # then
    confirmation = ShipmentConfirmation.objects.get()
    assert confirmation.state == State.REJECTED
    assert fragment in confirmation.amazon_message
    assert run.api_calls == 0 and not run.ok and run.counts["rejected"] == 1
    assert not SandboxPackage.objects.exists()
    assert len(mail.outbox) == 1  # alerted once, not once per run
    assert mail.outbox[0].to == ["ops@example.com"]
    assert fragment in mail.outbox[0].body


def test_quantities_already_confirmed_by_other_packages_count(order, amazon_order, ship, sweep):
    # given: package 1 confirmed both units of A; then a second package claims one more
    ship(order, {ITEM_A: 2})
    sweep()
    OrderLine.objects.filter(order=order, order_item_id=ITEM_A).update(quantity_shipped=0)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.PARTIALLY_SHIPPED)
    ship(order, {ITEM_A: 1})

    # when
    sweep()

    # then
    rejected = ShipmentConfirmation.objects.get(state=State.REJECTED)
    assert "2 already confirmed" in rejected.amazon_message
    assert SandboxPackage.objects.count() == 1


def test_a_ship_date_a_little_ahead_waits_instead_of_failing(order, ship, sweep):
    # given: the WMS clock is ten minutes fast
    shipment = ship(order, {ITEM_A: 1})
    soon = timezone.now() + dt.timedelta(minutes=10)
    Shipment.objects.filter(pk=shipment.pk).update(ship_date=soon)

    # when
    run, _ = sweep()

    # then
    confirmation = ShipmentConfirmation.objects.get()
    assert (confirmation.state, confirmation.attempts, confirmation.not_before) == (State.RETRYING, 0, soon)
    assert run.api_calls == 0 and not mail.outbox


# --- Amazon's own rejections ---------------------------------------------------------------


def _order_unknown_to_amazon(order, amazon_order):
    SandboxOrder.objects.filter(pk=amazon_order.pk).update(order_id="999-0000000-0000000")


def _wrong_marketplace(order, amazon_order):
    Order.objects.filter(pk=order.pk).update(marketplace_id="A2EUQ1WTGCTBG2")


def _cancelled_at_amazon_only(order, amazon_order):
    SandboxOrder.objects.filter(pk=amazon_order.pk).update(status="CANCELLED")


def _shipped_elsewhere(order, amazon_order):
    SandboxOrderItem.objects.filter(order=amazon_order).update(quantity_shipped=1)


def _item_unknown_to_amazon(order, amazon_order):
    SandboxOrderItem.objects.filter(order=amazon_order, order_item_id=ITEM_A).update(
        order_item_id="33333333333333"
    )


@pytest.mark.parametrize(
    ("spoil", "fragment"),
    [
        (_order_unknown_to_amazon, "NotFound"),
        (_wrong_marketplace, "marketplaceId does not match"),
        (_cancelled_at_amazon_only, "The order is cancelled; it cannot be confirmed again."),
        (_shipped_elsewhere, "exceeds the unshipped quantity 1"),
        (_item_unknown_to_amazon, f"Order item {ITEM_A} is not part of order"),
    ],
    ids=lambda v: getattr(v, "__name__", "")[1:],
)
def test_it_stops_on_amazons_rejection_with_its_message(order, amazon_order, ship, sweep, spoil, fragment):
    # given
    ship(order, {ITEM_A: 2, ITEM_B: 1})
    spoil(order, amazon_order)

    # when: run twice
    run, _ = sweep()
    again, _ = sweep()

    # then
    confirmation = ShipmentConfirmation.objects.get()
    assert confirmation.state == State.REJECTED
    assert fragment in confirmation.amazon_message
    assert confirmation.attempts == 1
    assert not confirmation.outcome_unknown
    assert not SandboxPackage.objects.exists()
    assert not run.ok and run.counts["rejected"] == 1
    assert again.api_calls == 0
    assert len(mail.outbox) == 1
    assert order.amazon_order_id in mail.outbox[0].subject


# --- Transient errors -------------------------------------------------------------------------


def test_it_retries_after_a_5xx_with_backoff_and_then_confirms_once(
    order, amazon_order, ship, sweep, sandbox_faults
):
    # given: Amazon answers 500/503
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1})
    sandbox_faults(error_rate=1.0)

    # when
    run, _ = sweep()

    # then: waiting, not rejected, not alerted
    confirmation = ShipmentConfirmation.objects.get()
    assert confirmation.state == State.RETRYING
    assert confirmation.attempts == 1
    assert confirmation.outcome_unknown  # the request may have reached Amazon
    assert confirmation.not_before > timezone.now() + dt.timedelta(seconds=20)
    assert "server error" in confirmation.last_error or "Internal" in confirmation.last_error
    assert run.counts["retrying"] == 1 and not mail.outbox

    # when: Amazon recovers, but the backoff has not passed
    sandbox_faults(error_rate=0.0)
    early, _ = sweep()

    # then
    assert early.api_calls == 0

    # when: the backoff has passed
    _due_now(confirmation)
    late, _ = sweep()

    # then: it asked Amazon first (getOrder), then confirmed
    confirmation.refresh_from_db()
    assert confirmation.state == State.ACCEPTED
    assert confirmation.attempts == 2
    assert late.api_calls == 2
    assert SandboxPackage.objects.get().package_reference_id == str(shipment.package_reference)


def test_it_gives_up_after_the_last_attempt_and_alerts_once(order, ship, sweep, sandbox_faults, settings):
    # given
    settings.CONFIRMATION_MAX_ATTEMPTS = 2
    ship(order, {ITEM_A: 1})
    sandbox_faults(error_rate=1.0)

    # when
    sweep()
    _due_now(ShipmentConfirmation.objects.get())
    sweep()
    sweep()

    # then
    confirmation = ShipmentConfirmation.objects.get()
    assert confirmation.state == State.REJECTED
    assert confirmation.attempts == 2
    assert "Gave up after 2 attempts" in confirmation.amazon_message
    assert len(mail.outbox) == 1


# --- Crashes ----------------------------------------------------------------------------------


def _confirm_directly(sandbox_seller, shipment):
    """Amazon accepts the package, and then our worker dies before it commits."""
    confirmation = shipment.confirmation
    body = confirmation_body(
        confirmation=confirmation,
        carrier=Carrier(code="UPS", name=""),
        lines=list(shipment.lines.select_related("order_line")),
    )
    sandbox_shipment_confirm(seller=sandbox_seller, order_id=shipment.order.amazon_order_id, body=body)


@pytest.mark.parametrize("items", [{ITEM_A: 1}, {ITEM_A: 2, ITEM_B: 1}], ids=["partial", "whole order"])
def test_a_package_amazon_accepted_before_a_crash_is_marked_accepted(
    order, amazon_order, sandbox_seller, ship, sweep, items
):
    # given: Amazon has the package, our row still says pending
    shipment = ship(order, items)
    _confirm_directly(sandbox_seller, shipment)

    # when: the job runs (twice)
    run, _ = sweep()
    sweep()

    # then: Amazon refused the repeat; getOrder showed our package: accepted, not rejected
    confirmation = ShipmentConfirmation.objects.get()
    assert confirmation.state == State.ACCEPTED
    assert "Already confirmed" in confirmation.amazon_message
    assert SandboxPackage.objects.count() == 1
    assert run.ok and not mail.outbox


def test_a_crashed_workers_claim_is_taken_over_after_the_lease_and_not_sent_twice(
    order, amazon_order, sandbox_seller, ship, sweep
):
    # given: a worker claimed the row, sent it, Amazon accepted, and the worker died
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1})
    _confirm_directly(sandbox_seller, shipment)
    ShipmentConfirmation.objects.filter(pk=shipment.confirmation.pk).update(
        state=State.SENDING,
        attempts=1,
        outcome_unknown=True,
        claimed_at=timezone.now() - dt.timedelta(minutes=30),
    )

    # when
    run, _ = sweep()

    # then: asked Amazon (one getOrder), never re-sent
    confirmation = ShipmentConfirmation.objects.get()
    assert confirmation.state == State.ACCEPTED
    assert run.api_calls == 1
    assert SandboxPackage.objects.count() == 1


def test_a_crash_before_the_request_reached_amazon_sends_it(order, amazon_order, ship, sweep):
    # given: claimed and crashed before anything reached Amazon
    shipment = ship(order, {ITEM_A: 1})
    ShipmentConfirmation.objects.filter(pk=shipment.confirmation.pk).update(
        state=State.SENDING,
        attempts=1,
        outcome_unknown=True,
        claimed_at=timezone.now() - dt.timedelta(minutes=30),
    )

    # when
    sweep()

    # then
    assert ShipmentConfirmation.objects.get().state == State.ACCEPTED
    assert SandboxPackage.objects.count() == 1


def test_a_live_claim_is_left_to_its_worker(order, ship, sweep):
    # given: a worker claimed it a moment ago
    shipment = ship(order, {ITEM_A: 1})
    now = timezone.now()
    assert confirmation_claim(confirmation_id=shipment.confirmation.pk, now=now)

    # when
    second = confirmation_claim(confirmation_id=shipment.confirmation.pk, now=now)
    run, _ = sweep()

    # then
    assert not second
    assert run.api_calls == 0
    assert ShipmentConfirmation.objects.get().state == State.SENDING


def test_a_reused_reference_with_another_tracking_number_is_rejected_not_accepted(
    order, amazon_order, sandbox_seller, ship, sweep
):
    # given: someone confirmed reference 1 in Seller Central with other tracking
    shipment = ship(order, {ITEM_A: 1})
    sandbox_shipment_confirm(
        seller=sandbox_seller,
        order_id=amazon_order.order_id,
        body={
            "marketplaceId": "ATVPDKIKX0DER",
            "packageDetail": {
                "packageReferenceId": str(shipment.package_reference),
                "carrierCode": "USPS",
                "trackingNumber": "9400SOMETHINGELSE",
                "shipDate": "2026-01-05T15:00:00Z",
                "orderItems": [{"orderItemId": ITEM_B, "quantity": 1}],
            },
        },
    )

    # when
    sweep()

    # then
    confirmation = ShipmentConfirmation.objects.get()
    assert confirmation.state == State.REJECTED
    assert "already used" in confirmation.amazon_message
    assert "9400SOMETHINGELSE" in confirmation.amazon_message
