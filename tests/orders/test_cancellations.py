"""Known orders that Amazon cancels, the buyer asks to cancel, or that ship elsewhere."""

from __future__ import annotations

import pytest
from django.utils import timezone

from fulfillment.orders.models import Order, OrderLine
from fulfillment.orders.services.download import orders_pull
from mappings.models import ShippingMethodMapping
from sandbox.models import SandboxOrder
from sandbox.orders import sandbox_order_cancel, sandbox_order_update, sandbox_orders_create


@pytest.fixture
def imported(store, seller, time_passes):
    """Two orders downloaded: one released (STANDARD is mapped), one held (NEXT_DAY is not)."""
    ShippingMethodMapping.objects.create(
        store=store, service_level="STANDARD", prime=None, carrier="UPS", ship_code="GND"
    )
    released, held = sandbox_orders_create(seller=seller, count=2, seed=1, status="UNSHIPPED")
    for order, level in ((released, "STANDARD"), (held, "NEXT_DAY")):
        sandbox_order_update(order=order, when=order.last_updated_time, service_level=level, programs=[])
    orders_pull(store=store)
    time_passes(10)
    assert Order.objects.get(amazon_order_id=released.order_id).status == Order.Status.RELEASED
    assert Order.objects.get(amazon_order_id=held.order_id).status == Order.Status.HELD
    return released, held


def _pull_later(store, time_passes):
    time_passes(10)
    run = orders_pull(store=store)
    assert run.ok, run.error
    return run


def test_a_held_order_cancelled_at_amazon_is_cancelled_quietly(store, imported, time_passes):
    # given
    _, held = imported
    sandbox_order_cancel(order=SandboxOrder.objects.get(pk=held.pk))

    # when
    run = _pull_later(store, time_passes)
    again = _pull_later(store, time_passes)

    # then: the warehouse never had it, so it is not asked to stop
    order = Order.objects.get(amazon_order_id=held.order_id)
    assert order.status == Order.Status.CANCELLED and order.cancelled_at is not None
    assert order.wms_stop_requested_at is None
    assert not Order.objects.wms_stop_pending().exists()
    assert run.counts["cancelled"] == 1 and again.counts["cancelled"] == 0
    assert all(line.quantity_cancelled == line.quantity_ordered for line in order.lines.all())


def test_a_released_order_cancelled_at_amazon_tells_the_warehouse(store, imported, time_passes):
    # given
    released, _ = imported
    sandbox_order_cancel(order=SandboxOrder.objects.get(pk=released.pk))

    # when
    run = _pull_later(store, time_passes)
    again = _pull_later(store, time_passes)

    # then
    order = Order.objects.get(amazon_order_id=released.order_id)
    assert order.status == Order.Status.CANCELLED and order.amazon_status == "CANCELLED"
    assert list(Order.objects.wms_stop_pending()) == [order]
    assert run.counts["cancelled"] == 1 and again.counts["cancelled"] == 0
    assert order.carrier == "UPS" and order.released_at is not None  # what the warehouse had stays
    lines = OrderLine.objects.filter(order=order)
    assert all(line.quantity_cancelled == line.quantity_ordered for line in lines)


def test_a_cancellation_acknowledged_by_the_warehouse_leaves_the_feed(store, imported, time_passes):
    released, _ = imported
    sandbox_order_cancel(order=SandboxOrder.objects.get(pk=released.pk))
    _pull_later(store, time_passes)

    Order.objects.filter(amazon_order_id=released.order_id).update(
        cancellation_acknowledged_at="2026-01-01T00:00Z"
    )
    _pull_later(store, time_passes)

    assert not Order.objects.wms_stop_pending().exists()


def test_a_buyer_cancellation_request_after_release_tells_the_warehouse(store, imported, time_passes):
    released, _ = imported
    sandbox_order_cancel(order=SandboxOrder.objects.get(pk=released.pk), buyer_requested=True)

    _pull_later(store, time_passes)

    order = Order.objects.get(amazon_order_id=released.order_id)
    assert order.buyer_cancellation_requested
    assert order.status == Order.Status.RELEASED  # Amazon has not cancelled it (yet)
    assert list(Order.objects.wms_stop_pending()) == [order]


def test_a_buyer_cancellation_request_keeps_a_held_order_held(store, imported, time_passes):
    _, held = imported
    ShippingMethodMapping.objects.create(
        store=store, service_level="NEXT_DAY", prime=None, carrier="UPS", ship_code="NDA"
    )
    sandbox_order_cancel(order=SandboxOrder.objects.get(pk=held.pk), buyer_requested=True)

    _pull_later(store, time_passes)

    order = Order.objects.get(amazon_order_id=held.order_id)
    assert order.status == Order.Status.HELD
    assert order.hold_reasons == ["buyer requested cancellation"]


def test_a_released_order_shipped_outside_the_product_tells_the_warehouse(store, imported, time_passes):
    released, _ = imported
    sandbox_order_update(order=SandboxOrder.objects.get(pk=released.pk), status="SHIPPED")

    _pull_later(store, time_passes)

    order = Order.objects.get(amazon_order_id=released.order_id)
    assert order.status == Order.Status.SHIPPED and order.shipped_outside_at is not None
    assert list(Order.objects.wms_stop_pending()) == [order]


def test_a_held_order_shipped_outside_the_product_is_closed(store, imported, time_passes):
    _, held = imported
    sandbox_order_update(order=SandboxOrder.objects.get(pk=held.pk), status="SHIPPED")

    _pull_later(store, time_passes)

    order = Order.objects.get(amazon_order_id=held.order_id)
    assert order.status == Order.Status.SHIPPED and order.shipped_outside_at is not None
    assert not Order.objects.wms_stop_pending().exists()


def test_a_released_order_is_frozen_except_for_cancellation(store, imported, time_passes):
    # given: Amazon changes the address and service level of an order the warehouse has
    released, _ = imported
    sandbox = SandboxOrder.objects.get(pk=released.pk)
    sandbox_order_update(
        order=sandbox,
        service_level="NEXT_DAY",
        delivery_address={**sandbox.delivery_address, "addressLine1": "99 Elsewhere Rd"},
    )

    # when
    run = _pull_later(store, time_passes)

    # then
    order = Order.objects.get(amazon_order_id=released.order_id)
    assert run.counts["updated"] == 1
    assert order.status == Order.Status.RELEASED
    assert order.service_level == "STANDARD" and order.ship_code == "GND"
    assert order.recipient_data["addressLine1"] != "99 Elsewhere Rd"


def test_an_order_the_warehouse_shipped_is_not_shipped_elsewhere(store, imported, time_passes):
    # given: the ship move recorded that our packages cover the order (here
    # still partially shipped, as rows the migration backfilled can be)
    released, _ = imported
    Order.objects.filter(amazon_order_id=released.order_id).update(
        status=Order.Status.PARTIALLY_SHIPPED, shipped_by_us_at=timezone.now()
    )
    sandbox_order_update(order=SandboxOrder.objects.get(pk=released.pk), status="SHIPPED")

    # when
    _pull_later(store, time_passes)

    # then: Amazon's word is stored as it is, and nobody is asked to stop
    order = Order.objects.get(amazon_order_id=released.order_id)
    assert order.shipped_outside_at is None and order.wms_stop_requested_at is None
    assert order.status == Order.Status.PARTIALLY_SHIPPED and order.amazon_status == "SHIPPED"


def test_amazon_status_alone_does_not_make_a_shipment_ours(store, imported, time_passes):
    # given: an amazon_status of SHIPPED but no shipment of ours recorded
    # (confirmations used to write it ahead of Amazon; the download no longer reads it)
    released, _ = imported
    Order.objects.filter(amazon_order_id=released.order_id).update(
        status=Order.Status.PARTIALLY_SHIPPED, amazon_status="SHIPPED"
    )
    sandbox_order_update(order=SandboxOrder.objects.get(pk=released.pk), status="SHIPPED")

    # when
    _pull_later(store, time_passes)

    # then
    order = Order.objects.get(amazon_order_id=released.order_id)
    assert order.status == Order.Status.SHIPPED
    assert order.shipped_outside_at is not None and order.wms_stop_requested_at is not None
