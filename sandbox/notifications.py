"""Amazon's Notifications API v1 and ORDER_CHANGE delivery, emulated.

Destinations and subscriptions are kept per application; when a sandbox order
is placed, cancelled, shipped, or its buyer asks to cancel, every matching
ORDER_CHANGE subscription gets a message exactly as
`OrderChangeNotification.json` defines it, as the body of an SQS message sent
with boto3 to the destination's queue (moto in the demo and the tests; the
queue's ARN names it). Sent after the sandbox's own transaction commits, as
Amazon notifies about what it has stored.

Fault switches (SandboxFaults) make the delivery do what Amazon's allows:
duplicates, any order, stray notifications, lost ones.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import random
import uuid
from collections.abc import Iterable

import boto3
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .errors import SpApiError
from .models import (
    SandboxApplication,
    SandboxFaults,
    SandboxNotificationDestination,
    SandboxNotificationSubscription,
    SandboxOrder,
    SandboxSeller,
)

logger = logging.getLogger(__name__)

ORDER_CHANGE = "ORDER_CHANGE"
STATUS_CHANGE = "OrderStatusChange"
BUYER_REQUESTED_CHANGE = "BuyerRequestedChange"
# The mock order of sendTestNotification (the consumer knows it by this id).
TEST_ORDER_ID = "000-0000000-0000000"
STRAY_SELLER_ID = "A0STRAYSELLER0"
STRAY_MARKETPLACE_ID = "A1PA6795UKMFR9"  # DE: a marketplace the sandbox's stores do not sell in
_STATUS_WORDS = {
    "PENDING": "Pending",
    "PENDING_AVAILABILITY": "PendingAvailability",
    "UNSHIPPED": "Unshipped",
    "PARTIALLY_SHIPPED": "PartiallyShipped",
    "SHIPPED": "Shipped",
    "CANCELLED": "Canceled",
    "UNFULFILLABLE": "Unfulfillable",
}


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


# --- The API's state ----------------------------------------------------------------


def destination_create(*, application: SandboxApplication, body) -> SandboxNotificationDestination:
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise SpApiError(status=400, code="InvalidInput", message="name is required.")
    sqs = (
        ((body.get("resourceSpecification") or {}).get("sqs") or {})
        if isinstance(body.get("resourceSpecification"), dict)
        else {}
    )
    arn = sqs.get("arn") if isinstance(sqs, dict) else None
    if not isinstance(arn, str) or not arn.startswith("arn:aws:sqs:") or len(arn.split(":")) != 6:
        raise SpApiError(
            status=400, code="InvalidInput", message="resourceSpecification.sqs.arn must be an SQS queue ARN."
        )
    if SandboxNotificationDestination.objects.filter(application=application, sqs_arn=arn).exists():
        raise SpApiError(
            status=409, code="Conflict", message="A destination for this resource already exists."
        )
    return SandboxNotificationDestination.objects.create(
        application=application, destination_id=str(uuid.uuid4()), name=body["name"][:256], sqs_arn=arn
    )


def destination_as_wire(d: SandboxNotificationDestination) -> dict:
    return {"name": d.name, "destinationId": d.destination_id, "resource": {"sqs": {"arn": d.sqs_arn}}}


def subscription_as_wire(s: SandboxNotificationSubscription) -> dict:
    wire = {
        "subscriptionId": s.subscription_id,
        "payloadVersion": s.payload_version,
        "destinationId": s.destination.destination_id,
    }
    event_filter: dict = {"eventFilterType": ORDER_CHANGE}
    if s.marketplace_ids:
        event_filter["marketplaceIds"] = s.marketplace_ids
    if s.order_change_types:
        event_filter["orderChangeTypes"] = s.order_change_types
    wire["processingDirective"] = {"eventFilter": event_filter}
    return wire


def subscription_create(
    *, application: SandboxApplication, seller: SandboxSeller, notification_type: str, body
) -> SandboxNotificationSubscription:
    if notification_type != ORDER_CHANGE:
        raise SpApiError(
            status=400,
            code="InvalidInput",
            message=f"The sandbox emulates ORDER_CHANGE only, not {notification_type}.",
        )
    if not isinstance(body, dict) or not body.get("destinationId") or not body.get("payloadVersion"):
        raise SpApiError(
            status=400, code="InvalidInput", message="destinationId and payloadVersion are required."
        )
    destination = SandboxNotificationDestination.objects.filter(
        application=application, destination_id=body["destinationId"]
    ).first()
    if destination is None:
        raise SpApiError(
            status=400,
            code="InvalidInput",
            message="The destination does not exist or is not this application's.",
        )
    event_filter = ((body.get("processingDirective") or {}).get("eventFilter")) or {}
    if event_filter and event_filter.get("eventFilterType") != ORDER_CHANGE:
        raise SpApiError(
            status=400, code="InvalidInput", message="eventFilter.eventFilterType must be ORDER_CHANGE."
        )
    types = event_filter.get("orderChangeTypes") or []
    allowed = {STATUS_CHANGE, BUYER_REQUESTED_CHANGE, "DeliveryTipChange"}
    if not isinstance(types, list) or not set(types) <= allowed:
        raise SpApiError(status=400, code="InvalidInput", message="orderChangeTypes holds an unknown type.")
    marketplaces = event_filter.get("marketplaceIds") or []
    if SandboxNotificationSubscription.objects.filter(
        application=application, seller=seller, notification_type=notification_type
    ).exists():
        raise SpApiError(
            status=409, code="Conflict", message="A subscription for this notification type already exists."
        )
    return SandboxNotificationSubscription.objects.create(
        application=application,
        seller=seller,
        notification_type=notification_type,
        subscription_id=str(uuid.uuid4()),
        destination=destination,
        payload_version=str(body["payloadVersion"]),
        marketplace_ids=list(marketplaces),
        order_change_types=list(types),
    )


# --- Delivery ------------------------------------------------------------------------


@functools.cache
def _sqs(region: str, endpoint: str):
    return boto3.client("sqs", region_name=region, endpoint_url=endpoint or None)


def _queue_url(arn: str) -> str:
    _, _, _, region, account, name = arn.split(":", 5)
    client = _sqs(region, settings.SQS_ENDPOINT_URL)
    return client.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]


def _send(*, arn: str, body: str, delay: int = 0) -> None:
    region = arn.split(":")[3]
    try:
        _sqs(region, settings.SQS_ENDPOINT_URL).send_message(
            QueueUrl=_queue_url(arn), MessageBody=body, DelaySeconds=delay
        )
    except (BotoCoreError, ClientError) as exc:
        # Amazon retries its own deliveries; the sandbox says so and moves on
        # (the product's download is the safety net).
        logger.warning("sandbox: ORDER_CHANGE not delivered to %s (%s)", arn, type(exc).__name__)


def _send_batch(*, arn: str, bodies: list[dict], out_of_order: bool) -> None:
    """SendMessageBatch, ten a call (a burst of orders is many messages at once)."""
    region = arn.split(":")[3]
    try:
        client, url = _sqs(region, settings.SQS_ENDPOINT_URL), _queue_url(arn)
        for start in range(0, len(bodies), 10):
            entries = [
                {
                    "Id": str(n),
                    "MessageBody": json.dumps(body),
                    "DelaySeconds": random.randint(0, 5) if out_of_order else 0,
                }
                for n, body in enumerate(bodies[start : start + 10])
            ]
            client.send_message_batch(QueueUrl=url, Entries=entries)
    except (BotoCoreError, ClientError) as exc:
        logger.warning("sandbox: ORDER_CHANGE not delivered to %s (%s)", arn, type(exc).__name__)


def order_change_message(
    *,
    order: SandboxOrder,
    subscription: SandboxNotificationSubscription | None,
    change_type: str,
    reason: str,
    application_id: str,
    seller_id: str | None = None,
    marketplace_id: str | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """One ORDER_CHANGE notification (OrderChangeNotification.json), order level."""
    now = now or timezone.now()
    items = list(order.items.all())
    shipped = sum(i.quantity_shipped for i in items)
    ordered = sum(i.quantity_ordered for i in items)
    summary = {
        "MarketplaceId": marketplace_id or order.marketplace.marketplace_id,
        "OrderStatus": _STATUS_WORDS.get(order.status, order.status),
        "PurchaseDate": _iso(order.created_time),
        "DestinationPostalCode": str((order.delivery_address or {}).get("postalCode", "")),
        "FulfillmentType": "AFN" if order.fulfilled_by == "AMAZON" else "MFN",
        "OrderType": "StandardOrder",
        "NumberOfItemsShipped": shipped,
        "NumberOfItemsUnshipped": max(ordered - shipped, 0),
        "OrderItems": [
            {
                "OrderItemId": i.order_item_id,
                "SellerSKU": i.sku,
                "SupplySourceId": None,  # merchant-fulfilled from the seller's default source
                # The model knows only these two for an item.
                "OrderItemStatus": "Shipped" if i.quantity_shipped >= i.quantity_ordered else "Unshipped",
                "Quantity": i.quantity_ordered,
                "QuantityShipped": i.quantity_shipped,
                "IsBuyerRequestedCancel": i.buyer_cancel_requested,
            }
            for i in items
        ],
    }
    if order.ship_by_earliest:
        summary["EarliestShipDate"] = _iso(order.ship_by_earliest)
    if order.ship_by_latest:
        summary["LatestShipDate"] = _iso(order.ship_by_latest)
    if order.deliver_by_earliest:
        summary["EarliestDeliveryDate"] = _iso(order.deliver_by_earliest)
    if order.deliver_by_latest:
        summary["LatestDeliveryDate"] = _iso(order.deliver_by_latest)
    return {
        "NotificationVersion": "1.0",
        "NotificationType": ORDER_CHANGE,
        "PayloadVersion": subscription.payload_version if subscription else "1.0",
        "EventTime": _iso(now),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": seller_id or order.seller.selling_partner_id,
                "AmazonOrderId": order.order_id,
                "OrderChangeType": change_type,
                "OrderChangeTrigger": {
                    "TimeOfOrderChange": _iso(order.last_updated_time),
                    "ChangeReason": reason,
                },
                "Summary": summary,
            }
        },
        "NotificationMetadata": {
            "ApplicationId": application_id,
            "SubscriptionId": subscription.subscription_id if subscription else "",
            "PublishTime": _iso(now),
            "NotificationId": str(uuid.uuid4()),
        },
    }


def sandbox_order_changes_notify(*, orders: Iterable[SandboxOrder], change_type: str, reason: str) -> int:
    """Queue ORDER_CHANGE notifications for `orders` to every matching subscription,
    sent once the caller's transaction commits. Returns how many were planned."""
    orders = list(orders)
    if not orders:
        return 0
    seller_ids = {o.seller_id for o in orders}
    subscriptions = list(
        SandboxNotificationSubscription.objects.select_related("destination", "application").filter(
            seller_id__in=seller_ids, notification_type=ORDER_CHANGE
        )
    )
    if not subscriptions:
        return 0
    faults = SandboxFaults.current()
    messages: list[tuple[str, dict]] = []
    for order in (
        SandboxOrder.objects.select_related("seller", "marketplace")
        .prefetch_related("items")
        .filter(pk__in=[o.pk for o in orders])
    ):
        for s in subscriptions:
            if s.seller_id != order.seller_id:
                continue
            if s.marketplace_ids and order.marketplace.marketplace_id not in s.marketplace_ids:
                continue
            if s.order_change_types and change_type not in s.order_change_types:
                continue
            if faults.notification_drop_rate and random.random() < faults.notification_drop_rate:
                continue
            app_id = s.application.application_id
            message = order_change_message(
                order=order, subscription=s, change_type=change_type, reason=reason, application_id=app_id
            )
            messages.append((s.destination.sqs_arn, message))
            if faults.notification_duplicates:
                messages.append((s.destination.sqs_arn, message))  # same NotificationId: a redelivery
            if faults.notification_stray:
                stray = order_change_message(
                    order=order,
                    subscription=s,
                    change_type=change_type,
                    reason=reason,
                    application_id=app_id,
                    seller_id=STRAY_SELLER_ID,
                    marketplace_id=STRAY_MARKETPLACE_ID,
                )
                messages.append((s.destination.sqs_arn, stray))
    out_of_order = faults.notification_out_of_order

    def deliver() -> None:
        by_queue: dict[str, list[dict]] = {}
        for arn, message in messages:
            by_queue.setdefault(arn, []).append(message)
        for arn, bodies in by_queue.items():
            _send_batch(arn=arn, bodies=bodies, out_of_order=out_of_order)

    transaction.on_commit(deliver, robust=True)
    return len(messages)


def sandbox_test_notification_send(*, application: SandboxApplication, body) -> None:
    """sendTestNotification: a mock ORDER_CHANGE (order TEST_ORDER_ID) to the destination's queue."""
    if not isinstance(body, dict) or not body.get("destinationId"):
        raise SpApiError(status=400, code="InvalidInput", message="destinationId is required.")
    test = body.get("testNotification") or {}
    if not isinstance(test, dict) or not test.get("payloadVersion"):
        raise SpApiError(
            status=400, code="InvalidInput", message="testNotification.payloadVersion is required."
        )
    destination = SandboxNotificationDestination.objects.filter(
        application=application, destination_id=body["destinationId"]
    ).first()
    if destination is None:
        raise SpApiError(
            status=400,
            code="InvalidInput",
            message="Invalid Input, recheck that the AppId and DestinationId are valid "
            "and DestinationId belongs to the application",
        )
    now = timezone.now()
    message = {
        "NotificationVersion": "1.0",
        "NotificationType": ORDER_CHANGE,
        "PayloadVersion": str(test["payloadVersion"]),
        "EventTime": _iso(now),
        "Payload": {
            "OrderChangeNotification": {
                "NotificationLevel": "OrderLevel",
                "SellerId": "A0TESTSELLER00",
                "AmazonOrderId": TEST_ORDER_ID,
                "OrderChangeType": str(test.get("testScenario") or STATUS_CHANGE),
                "OrderChangeTrigger": {"TimeOfOrderChange": _iso(now), "ChangeReason": "Test notification"},
                "Summary": {
                    "MarketplaceId": "ATVPDKIKX0DER",
                    "OrderStatus": "Unshipped",
                    "PurchaseDate": _iso(now),
                    "DestinationPostalCode": None,
                    "FulfillmentType": "MFN",
                    "OrderType": "StandardOrder",
                    "OrderItems": [],
                },
            }
        },
        "NotificationMetadata": {
            "ApplicationId": application.application_id,
            "SubscriptionId": "",
            "PublishTime": _iso(now),
            "NotificationId": str(uuid.uuid4()),
        },
    }
    arn = destination.sqs_arn
    transaction.on_commit(lambda: _send(arn=arn, body=json.dumps(message)), robust=True)
