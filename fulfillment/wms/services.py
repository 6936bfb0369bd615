"""Writes on the warehouse side. The WMS API, the admin and the CSV imports all call these."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets

import httpx
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from fulfillment.core.errors import OrderConflict, ShipmentRejected, WmsError  # noqa: F401 (ShipmentRejected re-exported)
from fulfillment.jobs.errors import safe_error
from fulfillment.orders import transitions
from fulfillment.orders.models import Order, Warehouse

# Shipments live in .shipments; their names stay importable from here.
from fulfillment.shipments.services.recording import (  # noqa: F401
    ShipmentInput,
    ShipmentLineInput,
    shipment_record,
)
from fulfillment.wms.models import WebhookDelivery, WmsApiKey
from fulfillment.wms.selectors import order_payload, wms_orders

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
            transitions.order_acknowledge(order)
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


# --- Outbound webhook --------------------------------------------------------------------

WEBHOOK_TIMEOUT_SECONDS = 10.0
ATTEMPT_FIELDS = WebhookDelivery.ATTEMPT_FIELDS


def webhook_signature(*, secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def webhook_deliveries_enqueue(*, now: dt.datetime | None = None) -> int:
    """A pending delivery for every released order of a warehouse with an enabled
    webhook that has none yet. The unique (webhook, order) merges repeats."""
    from fulfillment.wms.models import WarehouseWebhook

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
    WMS should still treat the order id as idempotent (at-least-once). The
    attempt (the WMS's status code, the duration) goes into the row's history.
    """
    now = timezone.now()
    claim_until = now + dt.timedelta(seconds=WEBHOOK_TIMEOUT_SECONDS * 3)
    if not WebhookDelivery.objects.claim(delivery_id, now=now, not_before=claim_until):
        return WebhookDelivery.objects.get(pk=delivery_id).status
    delivery = WebhookDelivery.objects.select_related("webhook", "order__store").get(pk=delivery_id)
    attempt = delivery.attempt_started(now=now, claimed=True)
    order = delivery.order
    if order.status != Order.Status.RELEASED or not delivery.webhook.enabled:
        # Nothing was sent: not an attempt.
        delivery.attempt_deferred(until=now)
        delivery.status = WebhookDelivery.Status.SKIPPED
        delivery.save(update_fields=["status", *ATTEMPT_FIELDS])
        return delivery.status

    body = json.dumps(order_payload(order=order, lines=list(order.lines.all())), sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": webhook_signature(secret=delivery.webhook.secret, body=body),
        "X-Order-Id": str(order.pk),
    }
    error, code = "", None
    try:
        if client is not None:
            response = client.post(delivery.webhook.url, content=body, headers=headers)
        else:
            with httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS) as http:
                response = http.post(delivery.webhook.url, content=body, headers=headers)
        code = response.status_code
        if code >= 300:
            # Not the answer's body: a WMS may echo the order (and its address) back.
            error = f"HTTP {code} from the webhook"
    except httpx.HTTPError as e:
        error = safe_error(e)  # never the URL (it may carry a token) nor the body

    if not error:
        delivery.attempt_succeeded(attempt, code=code)
        delivery.status, delivery.sent_at = WebhookDelivery.Status.SENT, timezone.now()
    elif not delivery.attempt_failed(attempt, code=code, error=error, retryable=True):
        delivery.status = WebhookDelivery.Status.FAILED
    delivery.save(update_fields=["status", "sent_at", *ATTEMPT_FIELDS])
    return delivery.status


def webhook_deliveries_sweep(*, client: httpx.Client | None = None, limit: int = 200) -> dict[str, int]:
    """Enqueue new released orders, then send what is due. Safe to run twice at once."""
    counts = {"enqueued": webhook_deliveries_enqueue(), "sent": 0, "failed": 0, "retrying": 0, "skipped": 0}
    due = WebhookDelivery.objects.due().order_by("not_before")[:limit]
    for delivery_id in list(due.values_list("pk", flat=True)):
        status = webhook_delivery_send(delivery_id=delivery_id, client=client)
        key = {"sent": "sent", "failed": "failed", "skipped": "skipped"}.get(status, "retrying")
        counts[key] += 1
    return counts


def webhook_deliveries_retry(*, delivery_ids: list[int]) -> int:
    """Admin "Retry now": failed (or pending) deliveries go again on the next sweep,
    with fresh attempts and their history kept."""
    return WebhookDelivery.objects.filter(
        pk__in=delivery_ids, status__in=[WebhookDelivery.Status.FAILED, WebhookDelivery.Status.PENDING]
    ).retry(status=WebhookDelivery.Status.PENDING)
