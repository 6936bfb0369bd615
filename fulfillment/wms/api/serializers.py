"""The wire format of the WMS API (README, "Warehouse side"; and the OpenAPI document the API serves)."""

from __future__ import annotations

import re

from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from fulfillment.orders.models import Order
from fulfillment.shipments.services.recording import ShipmentInput, ShipmentLineInput
from fulfillment.wms.selectors import order_payload

_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")

# --- Orders (read) -----------------------------------------------------------------


class ShipToSerializer(serializers.Serializer):
    name = serializers.CharField()
    company_name = serializers.CharField()
    address_line1 = serializers.CharField()
    address_line2 = serializers.CharField()
    address_line3 = serializers.CharField()
    city = serializers.CharField()
    district_or_county = serializers.CharField()
    state_or_region = serializers.CharField()
    municipality = serializers.CharField()
    postal_code = serializers.CharField()
    country_code = serializers.CharField()
    phone = serializers.CharField()
    address_type = serializers.CharField()


class OrderLineOutSerializer(serializers.Serializer):
    order_item_id = serializers.CharField()
    warehouse_sku = serializers.CharField()
    amazon_sku = serializers.CharField()
    quantity = serializers.IntegerField(help_text="Warehouse units (Amazon units × units of the SKU).")
    quantity_shipped = serializers.IntegerField()
    quantity_cancelled = serializers.IntegerField()


class OrderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    store = serializers.CharField()
    amazon_order_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    service_level = serializers.CharField()
    is_prime = serializers.BooleanField()
    is_business = serializers.BooleanField()
    ship_by = serializers.DateTimeField(allow_null=True)
    deliver_by = serializers.DateTimeField(allow_null=True)
    carrier = serializers.CharField()
    ship_code = serializers.CharField()
    is_gift = serializers.BooleanField()
    gift_message = serializers.CharField()
    ship_to = ShipToSerializer()
    lines = OrderLineOutSerializer(many=True)

    def to_representation(self, order: Order) -> dict:
        # One builder for the API and the webhook; lines come prefetched.
        return order_payload(order=order, lines=list(order.lines.all()))


class CancellationSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    store = serializers.CharField()
    amazon_order_id = serializers.CharField()
    status = serializers.ChoiceField(choices=Order.Status.choices)
    reason = serializers.CharField()
    stop_requested_at = serializers.DateTimeField()

    def to_representation(self, order: Order) -> dict:
        if order.status == Order.Status.CANCELLED:
            reason = "cancelled"
        elif order.shipped_outside_at:
            reason = "shipped outside the warehouse"
        elif order.buyer_cancellation_requested:
            reason = "buyer requested cancellation"
        else:
            reason = "stop requested"
        return {
            "id": order.pk,
            "store": order.store.name,
            "amazon_order_id": order.amazon_order_id,
            "status": order.status,
            "reason": reason,
            "stop_requested_at": serializers.DateTimeField().to_representation(order.wms_stop_requested_at),
        }


# --- Shipments ----------------------------------------------------------------------


class ShipmentLineInSerializer(serializers.Serializer):
    order_item_id = serializers.CharField(required=False, allow_blank=True, max_length=40)
    warehouse_sku = serializers.CharField(required=False, allow_blank=True, max_length=100)
    quantity = serializers.IntegerField(
        min_value=1,
        max_value=1_000_000,
        help_text="Amazon units with order_item_id; warehouse units with warehouse_sku.",
    )

    def validate(self, attrs):
        if bool(attrs.get("order_item_id")) == bool(attrs.get("warehouse_sku")):
            raise serializers.ValidationError("Give exactly one of order_item_id or warehouse_sku.")
        return attrs


class ShipmentInSerializer(serializers.Serializer):
    order = serializers.CharField(max_length=40, help_text="The order's id or its Amazon order id.")
    package_id = serializers.CharField(max_length=100, help_text="The WMS's own package id.")
    carrier = serializers.CharField(max_length=100)
    service = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(
        max_length=100,
        help_text="6 to 40 ASCII letters and digits; spaces and hyphens (as labels print them) are removed.",
    )
    ship_date = serializers.CharField(
        max_length=40,
        help_text="ISO 8601 date-time, or a date alone (that day in the warehouse's time zone). Not before "
        "the order was placed, nor more than an hour ahead of our clock.",
    )
    lines = ShipmentLineInSerializer(many=True, allow_empty=False, max_length=1000)

    def validate_ship_date(self, value: str):
        value = value.strip()
        try:
            parsed = parse_date(value) if _DATE_ONLY.fullmatch(value) else parse_datetime(value)
        except (ValueError, OverflowError):
            parsed = None
        if parsed is None:
            raise serializers.ValidationError("Use ISO 8601: 2026-05-04 or 2026-05-04T15:30:00Z.")
        return parsed

    def to_input(self) -> ShipmentInput:
        d = self.validated_data
        return ShipmentInput(
            order=d["order"],
            package_id=d["package_id"],
            carrier=d["carrier"],
            service=d.get("service", ""),
            tracking_number=d["tracking_number"],
            ship_date=d["ship_date"],
            lines=[
                ShipmentLineInput(
                    quantity=line["quantity"],
                    order_item_id=line.get("order_item_id", ""),
                    warehouse_sku=line.get("warehouse_sku", ""),
                )
                for line in d["lines"]
            ],
        )


class ShipmentLineOutSerializer(serializers.Serializer):
    order_item_id = serializers.CharField(source="order_line.order_item_id")
    amazon_sku = serializers.CharField(source="order_line.amazon_sku")
    quantity = serializers.IntegerField(help_text="Amazon units.")


class ShipmentOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    order = serializers.IntegerField(source="order_id")
    amazon_order_id = serializers.CharField(source="order.amazon_order_id")
    order_status = serializers.CharField(source="order.status")
    package_id = serializers.CharField()
    package_reference = serializers.IntegerField()
    carrier = serializers.CharField()
    service = serializers.CharField()
    tracking_number = serializers.CharField()
    ship_date = serializers.DateTimeField()
    lines = ShipmentLineOutSerializer(many=True, source="lines.all")
    created_at = serializers.DateTimeField()


class ShipmentDifferenceSerializer(serializers.Serializer):
    stored = serializers.JSONField()
    sent = serializers.JSONField()


class ShipmentConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    differences = serializers.DictField(
        child=ShipmentDifferenceSerializer(),
        help_text="Field (carrier, service, tracking_number, ship_date, lines) → stored and sent values.",
    )


# --- Inventory ----------------------------------------------------------------------


class InventoryItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=100)
    available = serializers.IntegerField(min_value=0, max_value=2_147_483_647)


INVENTORY_ITEMS_MAX = 100_000


@extend_schema_field(InventoryItemSerializer(many=True))
class InventoryItemsField(serializers.Field):
    """The items as (sku, available) pairs, checked lightly: a nested serializer
    (a field object per value) spent most of a 10,000-item PUT. The shape is
    checked here, each value by the service (fulfillment.inventory.levels),
    which refuses the whole request with every item's error and writes nothing.
    A SKU sent as a number and a quantity sent as a string of digits are
    accepted, as the nested serializer accepted them."""

    default_error_messages = {
        "not_a_list": "Expected a list of items.",
        "too_many": f"At most {INVENTORY_ITEMS_MAX:,} items per request.",
    }

    def to_internal_value(self, data) -> list[tuple[object, object]]:
        if not isinstance(data, list):
            self.fail("not_a_list")
        if len(data) > INVENTORY_ITEMS_MAX:
            self.fail("too_many")
        items, errors = [], {}
        for i, item in enumerate(data):
            if not isinstance(item, dict) or "sku" not in item or "available" not in item:
                errors[i] = ["Each item is an object with sku and available."]
                continue
            sku, available = item["sku"], item["available"]
            if isinstance(sku, int) and not isinstance(sku, bool):
                sku = str(sku)
            elif isinstance(sku, str):
                sku = sku.strip()
            if isinstance(available, str) and available.strip().isdigit():
                available = int(available)
            items.append((sku, available))
        if errors:
            raise serializers.ValidationError(errors)
        return items

    def to_representation(self, value):
        return [{"sku": sku, "available": available} for sku, available in value]


class InventoryInSerializer(serializers.Serializer):
    items = InventoryItemsField()
    complete = serializers.BooleanField(
        required=False, default=False, help_text="true: every warehouse SKU not listed is set to 0."
    )


class InventoryOutSerializer(serializers.Serializer):
    changed = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    zeroed = serializers.IntegerField()


class InventoryHeldSerializer(serializers.Serializer):
    held = serializers.BooleanField(help_text="Always true: nothing was written.")
    snapshot_id = serializers.IntegerField(
        help_text="The held snapshot, in the admin's Held inventory snapshots."
    )
    stocked = serializers.IntegerField(help_text="The warehouse's SKUs in stock before.")
    zeroing = serializers.IntegerField(help_text="Of those, how many the snapshot would set to 0.")
    detail = serializers.CharField(help_text="Why it was held, and what happens next.")


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
