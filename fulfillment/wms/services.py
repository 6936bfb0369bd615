"""Writes on the warehouse side. The WMS API, the admin and the CSV imports all call these."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from fulfillment.models import Order, OrderLine, Warehouse

from .models import InventoryChange, InventoryLevel, Shipment, ShipmentLine, WebhookDelivery, WmsApiKey
from .selectors import order_payload, wms_orders

# --- Errors ----------------------------------------------------------------------


class WmsError(Exception):
    """A refusal with field errors; nothing was written."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
        self.errors = errors


class ShipmentRejected(WmsError):
    """`errors` keys: order, package_id, carrier, tracking_number, ship_date, lines,
    and lines.<i> for the i-th input line (0-based)."""


class InventoryRejected(WmsError):
    """`errors` keys: items, and items.<i> for the i-th item (0-based)."""


class OrderConflict(Exception):
    """The order exists but is in no state for this call (answered 409)."""


# --- API keys ----------------------------------------------------------------------

KEY_PREFIX = "wms_"


def wms_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def wms_key_create(*, warehouse: Warehouse, name: str, created_by=None) -> tuple[WmsApiKey, str]:
    """A new key; the plain key is returned here once and never stored."""
    prefix = secrets.token_hex(4)
    plain = f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    key = WmsApiKey.objects.create(
        warehouse=warehouse, name=name, prefix=prefix, key_hash=wms_key_hash(plain), created_by=created_by
    )
    return key, plain


def wms_key_revoke(*, key: WmsApiKey) -> None:
    WmsApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    key.refresh_from_db(fields=["revoked_at"])


# Record use at most once a minute: one UPDATE per key per minute, not one per request.
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def wms_key_touch(*, key: WmsApiKey, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    if key.last_used_at and key.last_used_at > now - LAST_USED_RESOLUTION:
        return
    # Compare-and-set: concurrent requests of one key write at most once.
    WmsApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    key.last_used_at = now


# --- Orders ------------------------------------------------------------------------


def _locked_order(*, warehouse: Warehouse, order_id: int) -> Order:
    """The order row, locked; Order.DoesNotExist for another warehouse's order too."""
    return wms_orders(warehouse=warehouse).select_for_update(of=("self",)).get(pk=order_id)


def order_acknowledge(*, warehouse: Warehouse, order_id: int) -> Order:
    """released → acknowledged. Idempotent: an order already past released is returned as is."""
    with transaction.atomic():
        order = _locked_order(warehouse=warehouse, order_id=order_id)
        if order.status == Order.Status.CANCELLED:
            raise OrderConflict("The order is cancelled: do not ship it.")
        if order.status == Order.Status.RELEASED:
            order.status = Order.Status.ACKNOWLEDGED
            order.acknowledged_at = timezone.now()
            order.save(update_fields=["status", "acknowledged_at", "updated_at"])
    return order


def cancellation_acknowledge(*, warehouse: Warehouse, order_id: int) -> Order:
    """The WMS has stopped the order. Idempotent."""
    with transaction.atomic():
        order = _locked_order(warehouse=warehouse, order_id=order_id)
        if order.wms_stop_requested_at is None:
            raise OrderConflict("The order has no cancellation to acknowledge.")
        if order.cancellation_acknowledged_at is None:
            order.cancellation_acknowledged_at = timezone.now()
            order.save(update_fields=["cancellation_acknowledged_at", "updated_at"])
    return order


# --- Shipments -----------------------------------------------------------------------


@dataclass(frozen=True)
class ShipmentLineInput:
    """Exactly one of order_item_id (quantity in Amazon units) or warehouse_sku
    (quantity in warehouse units)."""

    quantity: int
    order_item_id: str = ""
    warehouse_sku: str = ""


@dataclass(frozen=True)
class ShipmentInput:
    order: str  # the product's order id or the Amazon order id
    package_id: str
    carrier: str
    tracking_number: str
    ship_date: dt.datetime | dt.date
    lines: list[ShipmentLineInput] = field(default_factory=list)
    service: str = ""


SHIPPABLE_STATUSES = (Order.Status.RELEASED, Order.Status.ACKNOWLEDGED, Order.Status.PARTIALLY_SHIPPED)
# A WMS clock a little ahead is fine; a ship date tomorrow is a mistake.
SHIP_DATE_FUTURE_TOLERANCE = dt.timedelta(hours=1)


def ship_date_resolve(*, value: dt.datetime | dt.date, warehouse: Warehouse, order: Order, now: dt.datetime):
    """An aware datetime for the ship date.

    A date alone is that day in the warehouse's time zone: noon, moved into
    the part of that day after the purchase and not after now, because Amazon
    refuses a ship date before the order date or in the future.
    """
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            return timezone.make_aware(value, zoneinfo.ZoneInfo(warehouse.time_zone))
        return value
    tz = zoneinfo.ZoneInfo(warehouse.time_zone)
    start = dt.datetime.combine(value, dt.time.min, tzinfo=tz)
    end = start + dt.timedelta(days=1) - dt.timedelta(seconds=1)
    when = start + dt.timedelta(hours=12)
    low, high = max(start, order.purchased_at), min(end, now)
    if low <= high:
        when = min(max(when, low), high)
    return when


def _find_order(*, warehouse: Warehouse, ref: str) -> Order | None:
    ref = str(ref).strip()
    orders = wms_orders(warehouse=warehouse).select_for_update(of=("self",))
    if ref.isdigit() and len(ref) < 19:
        found = list(orders.filter(pk=int(ref)))
    else:
        found = list(orders.filter(amazon_order_id=ref)[:2])
    return found[0] if len(found) == 1 else None


def _left(line: OrderLine) -> int:
    return max(line.quantity_ordered - line.quantity_shipped - line.quantity_cancelled, 0)


def _kit_text(line: OrderLine) -> str:
    return " + ".join(f"{c['warehouse_sku']}×{c['units']}" for c in line.components)


def _allocate(order_lines: list[OrderLine], lines: list[ShipmentLineInput]) -> tuple[dict[int, int], dict]:
    """Amazon units per order line pk, and errors. Lines by warehouse SKU are
    turned into whole Amazon units of the items they are components of."""
    errors: dict[str, list[str]] = defaultdict(list)
    by_item = {line.order_item_id: line for line in order_lines}
    left = {line.pk: _left(line) for line in order_lines}
    units: dict[int, int] = defaultdict(int)
    sku_units: dict[str, int] = defaultdict(int)
    sku_first_index: dict[str, int] = {}

    for i, line in enumerate(lines):
        if line.order_item_id:
            order_line = by_item.get(line.order_item_id)
            if order_line is None:
                errors[f"lines.{i}"].append(f"order item {line.order_item_id} is not in this order")
                continue
            if line.quantity > left[order_line.pk]:
                errors[f"lines.{i}"].append(
                    f"quantity {line.quantity} of order item {line.order_item_id} is more than the "
                    f"{left[order_line.pk]} left to ship"
                )
                continue
            left[order_line.pk] -= line.quantity
            units[order_line.pk] += line.quantity
        else:
            sku_units[line.warehouse_sku] += line.quantity
            sku_first_index.setdefault(line.warehouse_sku, i)

    # Whole Amazon units of each item the warehouse SKUs make up, item by item.
    for order_line in order_lines:
        parts = order_line.components
        if not parts or not all(p["warehouse_sku"] in sku_units for p in parts):
            continue
        whole = min(sku_units[p["warehouse_sku"]] // p["units"] for p in parts)
        whole = min(whole, left[order_line.pk])
        if whole <= 0:
            continue
        for p in parts:
            sku_units[p["warehouse_sku"]] -= whole * p["units"]
        left[order_line.pk] -= whole
        units[order_line.pk] += whole

    for sku, rest in sku_units.items():
        if rest == 0:
            continue
        key = f"lines.{sku_first_index[sku]}"
        holders = [ol for ol in order_lines if any(p["warehouse_sku"] == sku for p in ol.components)]
        if not holders:
            errors[key].append(f"warehouse SKU {sku} is not in this order")
        elif all(left[ol.pk] == 0 for ol in holders):
            errors[key].append(f"{rest} unit(s) of warehouse SKU {sku} are more than is left to ship")
        else:
            kits = "; ".join(f"order item {ol.order_item_id} = {_kit_text(ol)}" for ol in holders)
            errors[key].append(
                f"{rest} unit(s) of warehouse SKU {sku} do not make whole Amazon units ({kits}): "
                "ship every component of a kit in the same package"
            )
    return dict(units), dict(errors)


def shipment_record(*, warehouse: Warehouse, data: ShipmentInput, source: str) -> tuple[Shipment, bool]:
    """Record one package, all or nothing. (shipment, created); a replayed
    package id returns the shipment already recorded and changes nothing.

    The order row is locked for the whole transaction: two packages of one
    order arriving at once are counted one after the other, and the package
    reference (max + 1) cannot be taken twice.
    """
    errors: dict[str, list[str]] = defaultdict(list)
    for name in ("package_id", "carrier", "tracking_number"):
        value = getattr(data, name)
        if not value or not value.strip():
            errors[name].append("This field is required.")
        elif len(value) > 100:
            errors[name].append("Ensure this field has no more than 100 characters.")
    if len(data.service) > 100:
        errors["service"].append("Ensure this field has no more than 100 characters.")
    for i, line in enumerate(data.lines):
        if bool(line.order_item_id) == bool(line.warehouse_sku):
            errors[f"lines.{i}"].append("give exactly one of order_item_id or warehouse_sku")
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int) or line.quantity < 1:
            errors[f"lines.{i}"].append("quantity must be a whole number of 1 or more")
    if not data.lines:
        errors["lines"].append("a package has at least one line")

    with transaction.atomic():
        order = _find_order(warehouse=warehouse, ref=data.order)
        if order is None:
            errors["order"].append(f"unknown order {data.order!r}")
            raise ShipmentRejected(dict(errors))
        if not errors.get("package_id"):
            existing = Shipment.objects.filter(order=order, package_id=data.package_id).first()
            if existing is not None:
                return existing, False
        if order.status == Order.Status.CANCELLED:
            errors["order"].append(f"order {order.amazon_order_id} is cancelled: it must not ship")
        elif order.status == Order.Status.SHIPPED:
            errors["order"].append(f"order {order.amazon_order_id} is already shipped in full")
        elif order.status not in SHIPPABLE_STATUSES:
            errors["order"].append(f"order {order.amazon_order_id} is not released to the warehouse")
        now = timezone.now()
        ship_date = ship_date_resolve(value=data.ship_date, warehouse=warehouse, order=order, now=now)
        if ship_date > now + SHIP_DATE_FUTURE_TOLERANCE:
            errors["ship_date"].append("ship_date is in the future")
        if errors:
            raise ShipmentRejected(dict(errors))

        order_lines = list(order.lines.order_by("order_item_id"))
        units, line_errors = _allocate(order_lines, data.lines)
        if line_errors:
            raise ShipmentRejected(line_errors)

        reference = (Shipment.objects.filter(order=order).aggregate(m=Max("package_reference"))["m"] or 0) + 1
        shipment = Shipment.objects.create(
            order=order,
            package_id=data.package_id,
            package_reference=reference,
            carrier=data.carrier.strip(),
            service=data.service.strip(),
            tracking_number=data.tracking_number.strip(),
            ship_date=ship_date,
            source=source,
        )
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, order_line_id=pk, quantity=qty) for pk, qty in units.items()
        )
        # Queued in this transaction; its send task goes once the shipment commits.
        from fulfillment.confirmations.services import confirmation_enqueue

        confirmation_enqueue(shipment=shipment)
        for pk, qty in units.items():
            OrderLine.objects.filter(pk=pk).update(quantity_shipped=F("quantity_shipped") + qty)
        shipped_in_full = all(_left(ol) - units.get(ol.pk, 0) == 0 for ol in order_lines)
        order.status = Order.Status.SHIPPED if shipped_in_full else Order.Status.PARTIALLY_SHIPPED
        order.save(update_fields=["status", "updated_at"])
    return shipment, True


# --- Inventory -----------------------------------------------------------------------


@dataclass
class InventoryUpdateResult:
    changed: int = 0
    unchanged: int = 0
    zeroed: int = 0


SKU_MAX_LENGTH = InventoryLevel._meta.get_field("sku").max_length
# PositiveIntegerField's upper bound on PostgreSQL.
AVAILABLE_MAX = 2_147_483_647


def _inventory_errors(items: list[tuple[str, int]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    first: dict[str, int] = {}
    for i, (sku, available) in enumerate(items):
        key = f"items.{i}"
        if not isinstance(sku, str) or not sku.strip():
            errors[key].append("sku is required")
        elif len(sku) > SKU_MAX_LENGTH:
            errors[key].append(f"sku is longer than {SKU_MAX_LENGTH} characters")
        elif sku in first:
            errors[key].append(f"sku {sku} is listed twice (first as item {first[sku] + 1})")
        else:
            first[sku] = i
        if isinstance(available, bool) or not isinstance(available, int):
            errors[key].append(f"available must be a whole number, not {available!r}")
        elif not 0 <= available <= AVAILABLE_MAX:
            errors[key].append(f"available must be between 0 and {AVAILABLE_MAX}, not {available}")
    return dict(errors)


def inventory_update(
    *, warehouse: Warehouse, items: list[tuple[str, int]], complete: bool
) -> InventoryUpdateResult:
    """Set available quantities; with `complete`, every SKU not listed becomes 0.

    All or nothing. Only SKUs whose quantity changes are written, each with an
    InventoryChange row, so the inventory push can send only what changed.
    """
    errors = _inventory_errors(items)
    if errors:
        raise InventoryRejected(errors)
    result = InventoryUpdateResult()
    now = timezone.now()
    wanted = dict(items)
    with transaction.atomic():
        # One writer per warehouse at a time: each change's `previous` is then exact.
        Warehouse.objects.select_for_update().filter(pk=warehouse.pk).first()
        levels = InventoryLevel.objects.filter(warehouse=warehouse)
        if not complete:
            levels = levels.filter(sku__in=wanted)
        current = dict(levels.values_list("sku", "available"))
        if complete:
            for sku, available in current.items():
                if sku not in wanted and available != 0:
                    wanted[sku] = 0
                    result.zeroed += 1
        changes = [
            InventoryChange(
                warehouse=warehouse, sku=sku, available=available, previous=current.get(sku), changed_at=now
            )
            for sku, available in wanted.items()
            if current.get(sku) != available
        ]
        result.changed = len(changes) - result.zeroed
        result.unchanged = len(items) - result.changed
        if changes:
            InventoryLevel.objects.bulk_create(
                [
                    InventoryLevel(warehouse=warehouse, sku=c.sku, available=c.available, updated_at=now)
                    for c in changes
                ],
                batch_size=2000,
                update_conflicts=True,
                unique_fields=["warehouse", "sku"],
                update_fields=["available", "updated_at"],
            )
            InventoryChange.objects.bulk_create(changes, batch_size=2000)
    return result


# --- Outbound webhook --------------------------------------------------------------------

WEBHOOK_TIMEOUT_SECONDS = 10.0


def webhook_max_attempts() -> int:
    return settings.WMS_WEBHOOK_MAX_ATTEMPTS


def webhook_backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4, 8 ... minutes after the 1st, 2nd, 3rd ... failure, at most 6 hours."""
    return min(dt.timedelta(minutes=2 ** (attempts - 1)), dt.timedelta(hours=6))


def webhook_signature(*, secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_deliveries_enqueue(*, now: dt.datetime | None = None) -> int:
    """A pending delivery for every released order of a warehouse with an enabled
    webhook that has none yet. The unique (webhook, order) merges repeats."""
    from .models import WarehouseWebhook

    now = now or timezone.now()
    created = 0
    for webhook in WarehouseWebhook.objects.filter(enabled=True):
        order_ids = (
            wms_orders(warehouse_id=webhook.warehouse_id)
            .filter(status=Order.Status.RELEASED)
            .exclude(pk__in=WebhookDelivery.objects.filter(webhook=webhook).values("order_id"))
            .values_list("pk", flat=True)
        )
        rows = [WebhookDelivery(webhook=webhook, order_id=pk, not_before=now) for pk in order_ids]
        created += len(WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True))
    return created


def webhook_delivery_send(*, delivery_id: int, client: httpx.Client | None = None) -> str:
    """POST one due delivery; returns its status afterwards.

    The row is claimed with a compare-and-set (its `not_before` moved past the
    request's timeout) so two sweeps never POST the same order at once; the
    WMS should still treat the order id as idempotent (at-least-once).
    """
    now = timezone.now()
    claim_until = now + dt.timedelta(seconds=WEBHOOK_TIMEOUT_SECONDS * 3)
    claimed = WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, not_before__lte=now
    ).update(not_before=claim_until)
    if not claimed:
        return WebhookDelivery.objects.get(pk=delivery_id).status
    delivery = WebhookDelivery.objects.select_related("webhook", "order__store").get(pk=delivery_id)
    order = delivery.order
    if order.status != Order.Status.RELEASED or not delivery.webhook.enabled:
        delivery.status = WebhookDelivery.Status.SKIPPED
        delivery.save(update_fields=["status"])
        return delivery.status

    body = json.dumps(order_payload(order=order, lines=list(order.lines.all())), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": webhook_signature(secret=delivery.webhook.secret, body=body),
        "X-Order-Id": str(order.pk),
    }
    error = ""
    try:
        if client is not None:
            response = client.post(delivery.webhook.url, content=body, headers=headers)
        else:
            with httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS) as http:
                response = http.post(delivery.webhook.url, content=body, headers=headers)
        if response.status_code >= 300:
            error = f"HTTP {response.status_code}: {response.text[:500]}"
    except httpx.HTTPError as e:
        error = f"{type(e).__name__}: {e}"

    delivery.attempts += 1
    if not error:
        delivery.status, delivery.sent_at, delivery.last_error = (
            WebhookDelivery.Status.SENT,
            timezone.now(),
            "",
        )
    elif delivery.attempts >= webhook_max_attempts():
        delivery.status, delivery.last_error = WebhookDelivery.Status.FAILED, error
    else:
        delivery.last_error = error
        delivery.not_before = timezone.now() + webhook_backoff(delivery.attempts)
    delivery.save(update_fields=["status", "attempts", "not_before", "last_error", "sent_at"])
    return delivery.status


def webhook_deliveries_sweep(*, client: httpx.Client | None = None, limit: int = 200) -> dict[str, int]:
    """Enqueue new released orders, then send what is due. Safe to run twice at once."""
    counts = {"enqueued": webhook_deliveries_enqueue(), "sent": 0, "failed": 0, "retrying": 0, "skipped": 0}
    due = WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, not_before__lte=timezone.now()
    ).order_by("not_before")[:limit]
    for delivery_id in list(due.values_list("pk", flat=True)):
        status = webhook_delivery_send(delivery_id=delivery_id, client=client)
        key = {"sent": "sent", "failed": "failed", "skipped": "skipped"}.get(status, "retrying")
        counts[key] += 1
    return counts


def webhook_deliveries_retry(*, delivery_ids: list[int]) -> int:
    """Admin "Retry": failed (or pending) deliveries go again on the next sweep."""
    return WebhookDelivery.objects.filter(
        pk__in=delivery_ids, status__in=[WebhookDelivery.Status.FAILED, WebhookDelivery.Status.PENDING]
    ).update(status=WebhookDelivery.Status.PENDING, attempts=0, not_before=timezone.now(), last_error="")
