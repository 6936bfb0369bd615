"""An order's timeline, from the rows that record it, on the order page."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from fulfillment.ops.selectors import order_timeline
from fulfillment.orders.models import Order
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.wms.services import ShipmentInput, ShipmentLineInput, order_acknowledge, shipment_record
from tests.orders.factories import make_order
from tests.wms.factories import make_released_order


def _ship(order: Order, package_id: str, item: str | None = None):
    line = order.lines.get(order_item_id=item) if item else order.lines.first()
    shipment, _ = shipment_record(
        warehouse=order.store.warehouse,
        data=ShipmentInput(
            order=str(order.pk),
            package_id=package_id,
            carrier="UPS",
            tracking_number=f"1Z0000{package_id}",
            ship_date=timezone.now(),
            lines=[ShipmentLineInput(quantity=1, order_item_id=line.order_item_id)],
        ),
        source="admin",
    )
    return shipment


def test_it_tells_an_orders_story_in_order(db):
    # given: released, acknowledged by the WMS, two packages, one confirmed, one rejected
    order = make_released_order(
        lines=[("0001", "AMZ-1", 1, [("WH-1", 1)]), ("0002", "AMZ-2", 1, [("WH-2", 1)])]
    )
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - dt.timedelta(hours=21))
    order_acknowledge(warehouse=order.store.warehouse, order_id=order.pk)
    first, second = _ship(order, "P1", "0001"), _ship(order, "P2", "0002")
    now = timezone.now()
    ShipmentConfirmation.objects.filter(shipment=first).update(
        state=ShipmentConfirmation.State.ACCEPTED, accepted_at=now + dt.timedelta(minutes=1)
    )
    ShipmentConfirmation.objects.filter(shipment=second).update(
        state=ShipmentConfirmation.State.REJECTED,
        last_attempt_at=now + dt.timedelta(minutes=2),
        amazon_message="carrierCode not accepted",
    )
    order.refresh_from_db()

    # when
    events = order_timeline(order=order)

    # then
    assert [e.kind for e in events] == [
        "purchased",
        "downloaded",
        "released",
        "acknowledged",
        "shipped",
        "shipped",
        "confirmed",
        "rejected",
    ]
    assert order.acknowledged_at is not None
    assert events[-1].detail == "carrierCode not accepted"
    assert "1Z0000P1" in events[4].detail
    assert [e.at for e in events] == sorted(e.at for e in events)


def test_it_shows_why_an_order_is_held_and_when_it_was_cancelled(db):
    order = make_order(hold_reasons=["SKU ABC-1 not mapped", "No shipping method for NEXT_DAY"])
    Order.objects.filter(pk=order.pk).update(cancelled_at=timezone.now() + dt.timedelta(minutes=5))
    order.refresh_from_db()

    events = order_timeline(order=order)

    held = next(e for e in events if e.kind == "held")
    assert held.detail == "SKU ABC-1 not mapped; No shipping method for NEXT_DAY"
    assert events[-1].kind == "cancelled"


def test_the_order_page_shows_timeline_record_link_and_confirmations(admin_client):
    # given: one of two items shipped, so more packages may come
    order = make_released_order(
        lines=[("0001", "AMZ-1", 1, [("WH-1", 1)]), ("0002", "AMZ-2", 1, [("WH-2", 1)])]
    )
    _ship(order, "P9", "0001")

    response = admin_client.get(reverse("admin:fulfillment_order_change", args=[order.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="order-timeline"' in body and "Package P9 shipped" in body
    assert reverse("admin:confirmations_shipment_record", args=[order.pk]) in body
    assert "package confirmations to amazon" in body.lower()


def test_a_held_order_page_has_no_record_shipment_link(admin_client):
    order = make_order()
    body = admin_client.get(reverse("admin:fulfillment_order_change", args=[order.pk])).content.decode()
    assert reverse("admin:confirmations_shipment_record", args=[order.pk]) not in body
    assert "Held" in body
