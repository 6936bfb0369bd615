"""Reading one Amazon `Order` (Orders API 2026-01-01) into what the product keeps.

Strict and per order: an order that cannot be read (a quantity that is not a
non-negative integer or does not fit our column, a required block missing, a
text longer than the column that stores it, a time without zone, ...) raises
AmazonOrderParseError naming the order, the field at fault and why, never the
value: values can be buyer data. The download quarantines such an order on
its own (see services/unreadable.py); the rest of its page goes on.

Amazon's model documents no maximum length for any text we store, so each
text is checked against the column that stores it (`Order`, `OrderLine`):
longer is refused here, never a database error later.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from fulfillment.core.errors import ValueFreeError
from fulfillment.orders.models import Order, OrderLine

# Amazon's FulfillmentStatus enum (the model's), all of which fit Order.amazon_status.
FULFILLMENT_STATUSES = frozenset(
    {
        "PENDING_AVAILABILITY",
        "PENDING",
        "UNSHIPPED",
        "PARTIALLY_SHIPPED",
        "SHIPPED",
        "CANCELLED",
        "UNFULFILLABLE",
    }
)
# PositiveIntegerField's range on every database we run on.
MAX_QUANTITY = 2_147_483_647
# Titles are for people reading the order page; a longer one is cut, not refused.
TITLE_LENGTH = OrderLine._meta.get_field("title").max_length


class AmazonOrderParseError(ValueFreeError, ValueError):
    """An order in Amazon's answer that the product cannot read or store.

    `field` is the path in Amazon's Order (e.g. `orderItems[1].quantityOrdered`);
    `reason` says what is wrong with it in words, without its value.
    """

    def __init__(self, reason: str, *, order_id: str = "", field: str = "") -> None:
        self.reason = reason
        self.order_id = order_id
        self.field = field
        where = f"{field}: " if field else ""
        super().__init__(f"order {order_id or '(no orderId)'}: {where}{reason}")


@dataclass
class AmazonLine:
    order_item_id: str
    quantity_ordered: int
    quantity_fulfilled: int
    amazon_sku: str
    asin: str
    title: str
    gift_message: str
    is_gift: bool
    cancellation_requested: bool


@dataclass
class AmazonOrder:
    amazon_order_id: str
    status: str
    purchased_at: dt.datetime
    updated_at: dt.datetime
    marketplace_id: str
    fulfilled_by: str
    service_level: str
    is_prime: bool
    is_business: bool
    ship_by: tuple[dt.datetime | None, dt.datetime | None]
    deliver_by: tuple[dt.datetime | None, dt.datetime | None]
    recipient: dict
    lines: list[AmazonLine] = field(default_factory=list)

    @property
    def ship_to_country(self) -> str:
        return (self.recipient.get("countryCode") or "").upper()

    @property
    def buyer_cancellation_requested(self) -> bool:
        return any(line.cancellation_requested for line in self.lines)


class _Reader:
    """The checks of one order, each raising with the order id and the field's path."""

    def __init__(self, order_id: str) -> None:
        self.order_id = order_id

    def fail(self, path: str, reason: str) -> AmazonOrderParseError:
        return AmazonOrderParseError(reason, order_id=self.order_id, field=path)

    def block(self, value, path: str, *, required: bool = False) -> dict:
        if value is None:
            if required:
                raise self.fail(path, "is missing")
            return {}
        if not isinstance(value, dict):
            raise self.fail(path, "is not an object")
        return value

    def text(self, value, path: str, *, column=None, required: bool = False) -> str:
        if value is None or value == "":
            if required:
                raise self.fail(path, "is missing")
            return ""
        if not isinstance(value, str):
            raise self.fail(path, "is not text")
        if "\x00" in value:
            raise self.fail(path, "contains a NUL character")
        limit = column.max_length if column is not None else None
        if limit is not None and len(value) > limit:
            raise self.fail(path, f"is longer than the {limit} characters we store")
        return value

    def count(self, value, path: str, *, required: bool = False) -> int:
        if value is None:
            if required:
                raise self.fail(path, "is missing")
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(path, "is not an integer")
        if value < 0:
            raise self.fail(path, "is negative")
        if value > MAX_QUANTITY:
            raise self.fail(path, "is too large to store")
        return value

    def time(self, value, path: str, *, required: bool = False) -> dt.datetime | None:
        if value is None or value == "":
            if required:
                raise self.fail(path, "is missing")
            return None
        try:
            parsed = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            parsed = None
        if parsed is None:
            raise self.fail(path, "is not an ISO 8601 time")
        if timezone.is_naive(parsed):
            raise self.fail(path, "is a time without zone")
        if parsed.year < 1970:
            raise self.fail(path, "is before 1970")
        return parsed

    def window(self, value, path: str) -> tuple[dt.datetime | None, dt.datetime | None]:
        raw = self.block(value, path)
        return (
            self.time(raw.get("earliestDateTime"), f"{path}.earliestDateTime"),
            self.time(raw.get("latestDateTime"), f"{path}.latestDateTime"),
        )


_order = Order._meta.get_field
_line = OrderLine._meta.get_field


def _line_parse(r: _Reader, item, path: str) -> AmazonLine:
    item = r.block(item, path, required=True)
    product = r.block(item.get("product"), f"{path}.product")
    fulfillment = r.block(item.get("fulfillment"), f"{path}.fulfillment")
    packing = r.block(fulfillment.get("packing"), f"{path}.fulfillment.packing")
    gift = packing.get("giftOption")
    gift_block = r.block(gift, f"{path}.fulfillment.packing.giftOption")
    cancellation = r.block(item.get("cancellation"), f"{path}.cancellation")
    request = r.block(cancellation.get("cancellationRequest"), f"{path}.cancellation.cancellationRequest")
    requester = r.text(request.get("requester"), f"{path}.cancellation.cancellationRequest.requester")
    title = r.text(product.get("title"), f"{path}.product.title")
    return AmazonLine(
        order_item_id=r.text(
            item.get("orderItemId"), f"{path}.orderItemId", column=_line("order_item_id"), required=True
        ),
        quantity_ordered=r.count(item.get("quantityOrdered"), f"{path}.quantityOrdered", required=True),
        quantity_fulfilled=r.count(
            fulfillment.get("quantityFulfilled"), f"{path}.fulfillment.quantityFulfilled"
        ),
        amazon_sku=r.text(product.get("sellerSku"), f"{path}.product.sellerSku", column=_line("amazon_sku")),
        asin=r.text(product.get("asin"), f"{path}.product.asin", column=_line("asin")),
        title=title[:TITLE_LENGTH],
        gift_message=r.text(
            gift_block.get("giftMessage"), f"{path}.fulfillment.packing.giftOption.giftMessage"
        ),
        is_gift=gift is not None,
        cancellation_requested=bool(request) and (requester or "BUYER") == "BUYER",
    )


def amazon_order_parse(raw) -> AmazonOrder:
    """Amazon's Order (2026-01-01) -> what the product keeps. Raises AmazonOrderParseError."""
    if not isinstance(raw, dict):
        raise AmazonOrderParseError("is not an object", field="orders[]")
    r = _Reader("")
    oid = r.text(raw.get("orderId"), "orderId", column=_order("amazon_order_id"), required=True)
    r.order_id = oid
    fulfillment = r.block(raw.get("fulfillment"), "fulfillment", required=True)
    status = r.text(fulfillment.get("fulfillmentStatus"), "fulfillment.fulfillmentStatus", required=True)
    if status not in FULFILLMENT_STATUSES:
        raise r.fail("fulfillment.fulfillmentStatus", "is not one of Amazon's fulfillment statuses")
    recipient = r.block(raw.get("recipient"), "recipient")
    address = r.block(recipient.get("deliveryAddress"), "recipient.deliveryAddress")
    r.text(
        address.get("countryCode"), "recipient.deliveryAddress.countryCode", column=_order("ship_to_country")
    )
    items = raw.get("orderItems")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise r.fail("orderItems", "is not a list")
    lines = [_line_parse(r, item, f"orderItems[{n}]") for n, item in enumerate(items)]
    seen: set[str] = set()
    for n, line in enumerate(lines):
        if line.order_item_id in seen:
            raise r.fail(f"orderItems[{n}].orderItemId", "appears twice in the order")
        seen.add(line.order_item_id)
    programs = raw.get("programs") or []
    if not isinstance(programs, list):
        raise r.fail("programs", "is not a list")
    sales_channel = r.block(raw.get("salesChannel"), "salesChannel")
    return AmazonOrder(
        amazon_order_id=oid,
        status=status,
        purchased_at=r.time(raw.get("createdTime"), "createdTime", required=True),
        updated_at=r.time(raw.get("lastUpdatedTime"), "lastUpdatedTime", required=True),
        marketplace_id=r.text(
            sales_channel.get("marketplaceId"), "salesChannel.marketplaceId", column=_order("marketplace_id")
        ),
        fulfilled_by=r.text(
            fulfillment.get("fulfilledBy"), "fulfillment.fulfilledBy", column=_order("fulfilled_by")
        ),
        service_level=r.text(
            fulfillment.get("fulfillmentServiceLevel"),
            "fulfillment.fulfillmentServiceLevel",
            column=_order("service_level"),
        ),
        is_prime="PRIME" in programs,
        is_business="AMAZON_BUSINESS" in programs,
        ship_by=r.window(fulfillment.get("shipByWindow"), "fulfillment.shipByWindow"),
        deliver_by=r.window(fulfillment.get("deliverByWindow"), "fulfillment.deliverByWindow"),
        recipient=address,
        lines=lines,
    )
