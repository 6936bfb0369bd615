"""The confirmation page shows what was sent to Amazon (no buyer data) and what Amazon answered."""

from __future__ import annotations

from django.urls import reverse

from fulfillment.shipments.models import ShipmentConfirmation
from sandbox.models import SandboxOrderItem

from .conftest import ITEM_A, ITEM_B

State = ShipmentConfirmation.State


def test_an_accepted_package_keeps_the_body_sent_and_amazons_status(admin_client, order, ship, sweep):
    # given: the order carries a buyer's address
    order.ship_to_country = "US"
    order.save(update_fields=["ship_to_country"])
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1}, carrier="UPS", service="Ground", tracking="1ZBODY0001")

    # when
    sweep()

    # then
    confirmation = ShipmentConfirmation.objects.get(pk=shipment.confirmation.pk)
    assert confirmation.state == State.ACCEPTED
    body = confirmation.sent_body
    assert body["marketplaceId"] == "ATVPDKIKX0DER"
    detail = body["packageDetail"]
    assert (detail["carrierCode"], detail["trackingNumber"], detail["shippingMethod"]) == (
        "UPS",
        "1ZBODY0001",
        "Ground",
    )
    assert sorted((i["orderItemId"], i["quantity"]) for i in detail["orderItems"]) == [
        (ITEM_A, 2),
        (ITEM_B, 1),
    ]
    # only Amazon ids, carrier, tracking, dates and quantities: nothing about the buyer
    assert set(body) == {"marketplaceId", "packageDetail"}
    assert set(detail) <= {
        "packageReferenceId",
        "carrierCode",
        "carrierName",
        "trackingNumber",
        "shipDate",
        "orderItems",
        "shippingMethod",
    }
    assert confirmation.amazon_response == {"status": 204}

    page = admin_client.get(
        reverse("admin:confirmations_shipmentconfirmation_change", args=[confirmation.pk])
    )
    html = page.content.decode()
    assert "Sent to Amazon" in html and "1ZBODY0001" in html and "&quot;status&quot;: 204" in html


def test_a_refused_package_keeps_amazons_error_list(admin_client, order, amazon_order, ship, sweep):
    # given: Amazon no longer knows one of the package's items
    SandboxOrderItem.objects.filter(order=amazon_order, order_item_id=ITEM_A).update(
        order_item_id="33333333333333"
    )
    shipment = ship(order, {ITEM_A: 1})

    # when
    sweep()

    # then
    confirmation = ShipmentConfirmation.objects.get(pk=shipment.confirmation.pk)
    assert confirmation.state == State.REJECTED
    answer = confirmation.amazon_response
    assert answer["status"] == 400
    assert any(f"Order item {ITEM_A} is not part of order" in str(e) for e in answer["errors"])
    assert confirmation.sent_body["packageDetail"]["orderItems"] == [{"orderItemId": ITEM_A, "quantity": 1}]
    page = admin_client.get(
        reverse("admin:confirmations_shipmentconfirmation_change", args=[confirmation.pk])
    )
    assert "is not part of order" in page.content.decode()
