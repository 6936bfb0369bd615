"""confirmShipment (Orders v0) in the sandbox: validated as Amazon does, the
package recorded, the order's status moved."""

from __future__ import annotations

from django.db import transaction

from connections.models import AcceptedCarrier

from .amazon_models import schema_errors
from .errors import SpApiError
from .models import FulfillmentStatus, SandboxOrder, SandboxPackage, SandboxSeller
from .orders import sandbox_order_update
from .selectors import parse_iso


def _invalid(message: str, details: str = "") -> SpApiError:
    return SpApiError(status=400, code="InvalidInput", message=message, details=details)


def sandbox_shipment_confirm(*, seller: SandboxSeller, order_id: str, body) -> SandboxPackage:
    """confirmShipment: validate as Amazon does, record the package, move the order's status."""
    if not isinstance(body, dict):
        raise _invalid("The request body is not valid JSON.")
    errors = schema_errors(body, schema="confirmShipmentRequest.json")
    if errors:
        raise _invalid("The request body is invalid.", "; ".join(errors))
    detail = body["packageDetail"]
    reference = detail["packageReferenceId"]
    if not reference.isdigit() or int(reference) < 1:
        raise _invalid("packageReferenceId must be a positive number.", f"packageReferenceId: {reference!r}")
    try:
        ship_date = parse_iso(detail["shipDate"])
    except ValueError as exc:
        raise _invalid(
            "shipDate must be in ISO 8601 date/time format.", f"shipDate: {detail['shipDate']!r}"
        ) from exc

    with transaction.atomic():
        # The order row lock serializes confirmations of one order (quantities, status).
        order = (
            SandboxOrder.objects.select_for_update()
            .select_related("marketplace")
            .filter(seller=seller, order_id=order_id)
            .first()
        )
        if order is None:
            raise SpApiError(status=404, code="NotFound", message=f"Order {order_id} was not found.")
        if body["marketplaceId"] != order.marketplace.marketplace_id:
            raise _invalid("The marketplaceId does not match the order's marketplace.")
        if order.status in (FulfillmentStatus.SHIPPED, FulfillmentStatus.CANCELLED):
            raise _invalid(f"The order is {order.status.lower()}; it cannot be confirmed again.")
        carrier_code = detail["carrierCode"]
        if carrier_code == "Other":
            if not detail.get("carrierName", "").strip():
                raise _invalid("carrierName is required when carrierCode is Other.")
        elif not AcceptedCarrier.objects.filter(marketplace=order.marketplace, code=carrier_code).exists():
            raise _invalid(f"carrierCode {carrier_code!r} is not accepted here; use Other with carrierName.")
        if SandboxPackage.objects.filter(order=order, package_reference_id=reference).exists():
            raise _invalid(f"packageReferenceId {reference} was already used for this order.")

        items = {i.order_item_id: i for i in order.items.all()}
        shipped: dict[str, int] = {}
        for line in detail["orderItems"]:
            if line["orderItemId"] not in items:
                raise _invalid(f"Order item {line['orderItemId']} is not part of order {order_id}.")
            if line["quantity"] < 1:
                raise _invalid(f"Quantity for order item {line['orderItemId']} must be at least 1.")
            shipped[line["orderItemId"]] = shipped.get(line["orderItemId"], 0) + line["quantity"]
        for item_id, quantity in shipped.items():
            if quantity > items[item_id].quantity_unshipped:
                raise _invalid(
                    f"Quantity {quantity} for order item {item_id} exceeds the unshipped quantity "
                    f"{items[item_id].quantity_unshipped}."
                )

        package = SandboxPackage.objects.create(
            order=order,
            package_reference_id=reference,
            carrier_code=carrier_code,
            carrier_name=detail.get("carrierName", ""),
            shipping_method=detail.get("shippingMethod", ""),
            tracking_number=detail["trackingNumber"],
            ship_date=ship_date,
            items=[{"orderItemId": k, "quantity": v} for k, v in shipped.items()],
        )
        for item_id, quantity in shipped.items():
            item = items[item_id]
            item.quantity_shipped += quantity
            item.save(update_fields=["quantity_shipped"])
        everything_shipped = all(i.quantity_unshipped == 0 for i in items.values())
        sandbox_order_update(
            order=order,
            status=FulfillmentStatus.SHIPPED if everything_shipped else FulfillmentStatus.PARTIALLY_SHIPPED,
        )
    return package
