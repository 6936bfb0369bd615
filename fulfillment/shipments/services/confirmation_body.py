"""What goes to Amazon for one package (Orders v0 confirmShipment), and what Amazon's refusal said."""

from __future__ import annotations

import datetime as dt

from connections.amazon import AmazonError
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.selectors import Carrier


def confirmation_body(*, confirmation: ShipmentConfirmation, carrier: Carrier, lines) -> dict:
    """Orders v0 ConfirmShipmentRequest for the package (only its own items)."""
    shipment = confirmation.shipment
    order = confirmation.order
    detail: dict = {
        "packageReferenceId": str(confirmation.package_reference),
        "carrierCode": carrier.code,
        "trackingNumber": shipment.tracking_number.strip(),
        "shipDate": shipment.ship_date.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orderItems": [
            {"orderItemId": line.order_line.order_item_id, "quantity": line.quantity} for line in lines
        ],
    }
    if carrier.name:
        detail["carrierName"] = carrier.name
    # Only what the warehouse says it used: the order's planned ship code is
    # another carrier's service as soon as the warehouse ships otherwise.
    shipping_method = shipment.service.strip()
    if shipping_method:
        detail["shippingMethod"] = shipping_method
    return {
        "marketplaceId": order.marketplace_id or confirmation.store.marketplace.marketplace_id,
        "packageDetail": detail,
    }


def amazon_message(error: AmazonError) -> str:
    """Amazon's error list as one line for the admin (codes, messages, details)."""
    parts = []
    for e in error.errors or []:
        if isinstance(e, dict):
            text = " ".join(str(e.get(k) or "") for k in ("code", "message", "details")).strip()
            parts.append(text)
    return "; ".join(p for p in parts if p) or str(error)


def amazon_answer(*, status: int | None, error: AmazonError | None = None) -> dict:
    """Amazon's answer to confirmShipment as kept on the row: its status code, and on a
    refusal its code, message and error list (Amazon's own words, no buyer data)."""
    answer: dict = {"status": status}
    if error is not None:
        answer.update(code=error.code, message=error.message, errors=list(error.errors or []))
    return answer
