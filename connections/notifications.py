"""ORDER_CHANGE subscriptions: the application's SQS destination and each store's subscription.

Idempotent: `notification_subscription_sync(store=…)` makes Amazon match what
the store needs (subscribed while active, connected and SQS_QUEUE_URL is set;
unsubscribed otherwise) and only calls Amazon where the row says something
differs. A second call changes nothing. Failures are recorded on the row
(state FAILED, the error in our words) and the next sync tries again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone

from .amazon import AmazonClient, AmazonError, PermanentAmazonError, ReauthorizationRequired, sqs
from .models import NotificationDestination, NotificationSubscription, Store
from .services import store_reauthorization_record

logger = logging.getLogger(__name__)

DESTINATION_NAME = "fulfillment-bridge-order-change"
# What the warehouse needs to hear about: new orders and status changes, and
# buyers asking to cancel (DeliveryTipChange is left out: nothing to ship).
ORDER_CHANGE_TYPES = ("OrderStatusChange", "BuyerRequestedChange")


@dataclass(frozen=True)
class SyncResult:
    changed: bool
    message: str


def _wanted(store: Store) -> bool:
    return sqs.notifications_enabled() and store.is_active and store.is_connected


def _record(row: NotificationSubscription, **fields) -> None:
    fields["changed_at"] = timezone.now()
    for name, value in fields.items():
        setattr(row, name, value)
    NotificationSubscription.objects.filter(pk=row.pk).update(**fields)


def notification_destination_ensure(*, client: AmazonClient) -> NotificationDestination:
    """The destination of the store's region for our queue: the stored one, one Amazon
    already has for the queue's ARN (getDestinations), or a new one (createDestination)."""
    arn = sqs.queue_arn()
    region = client.store.marketplace.region
    known = NotificationDestination.objects.filter(region=region, queue_arn=arn).first()
    if known is not None:
        return known
    destination_id = ""
    for destination in client.get_destinations():
        resource = (destination.get("resource") or {}).get("sqs") or {}
        if resource.get("arn") == arn and destination.get("destinationId"):
            destination_id = str(destination["destinationId"])
            break
    if not destination_id:
        created = client.create_destination(name=DESTINATION_NAME, sqs_arn=arn)
        destination_id = str((created or {}).get("destinationId") or "")
        if not destination_id:
            raise PermanentAmazonError("createDestination answered without a destinationId.")
    row, _ = NotificationDestination.objects.get_or_create(
        region=region, queue_arn=arn, defaults={"destination_id": destination_id}
    )
    return row


def notification_subscription_sync(*, store: Store, client: AmazonClient | None = None) -> SyncResult:
    """Subscribe the store to ORDER_CHANGE, or unsubscribe it, as it needs now."""
    row, _ = NotificationSubscription.objects.get_or_create(store=store)
    wanted = _wanted(store)
    if wanted and row.state == NotificationSubscription.State.ACTIVE and row.subscription_id:
        return SyncResult(False, "Subscribed already.")
    if not wanted and not row.subscription_id:
        if (
            row.state != NotificationSubscription.State.REMOVED
            and row.state != NotificationSubscription.State.PENDING
        ):
            _record(row, state=NotificationSubscription.State.REMOVED, error="")
            return SyncResult(True, "Nothing to remove at Amazon.")
        return SyncResult(False, "Not subscribed, as it should be.")
    client = client or AmazonClient(store)
    try:
        if wanted:
            return _subscribe(store=store, row=row, client=client)
        client.delete_subscription(row.subscription_id)
        _record(row, state=NotificationSubscription.State.REMOVED, subscription_id="", error="")
        logger.info("store %s: ORDER_CHANGE subscription removed", store.pk)
        return SyncResult(True, "Subscription removed.")
    except (AmazonError, sqs.QueueError) as exc:
        if isinstance(exc, ReauthorizationRequired):
            store_reauthorization_record(store=store, error=exc)
        message = exc.message if isinstance(exc, AmazonError) else str(exc)
        _record(row, state=NotificationSubscription.State.FAILED, error=message[:2000])
        logger.warning("store %s: ORDER_CHANGE subscription failed: %s", store.pk, message)
        return SyncResult(True, f"Amazon did not subscribe the store: {message}")


def _subscribe(*, store: Store, row: NotificationSubscription, client: AmazonClient) -> SyncResult:
    destination = notification_destination_ensure(client=client)
    existing = client.get_order_change_subscription()
    if (
        existing
        and existing.get("subscriptionId")
        and existing.get("destinationId") == destination.destination_id
    ):
        subscription_id = str(existing["subscriptionId"])  # a run that died after creating it
    else:
        if existing and existing.get("subscriptionId"):
            # Subscribed to another destination (an old queue): Amazon allows one per type.
            client.delete_subscription(str(existing["subscriptionId"]))
        created = client.create_order_change_subscription(
            destination_id=destination.destination_id, order_change_types=ORDER_CHANGE_TYPES
        )
        subscription_id = str((created or {}).get("subscriptionId") or "")
        if not subscription_id:
            raise PermanentAmazonError("createSubscription answered without a subscriptionId.")
    _record(
        row,
        state=NotificationSubscription.State.ACTIVE,
        subscription_id=subscription_id,
        destination_id=destination.destination_id,
        error="",
    )
    logger.info("store %s: subscribed to ORDER_CHANGE", store.pk)
    return SyncResult(True, "Subscribed to ORDER_CHANGE.")


def notification_test_send(*, store: Store) -> SyncResult:
    """*Test notification*: ask Amazon to send a test ORDER_CHANGE to our queue
    (sendTestNotification); the consumer records when it came back."""
    row = NotificationSubscription.objects.filter(store=store).first()
    if row is None or row.state != NotificationSubscription.State.ACTIVE:
        return SyncResult(False, f"{store} has no active ORDER_CHANGE subscription to test.")
    try:
        AmazonClient(store).send_test_notification(destination_id=row.destination_id)
    except AmazonError as exc:
        return SyncResult(False, f"Amazon did not send a test notification: {exc.message}")
    _record(row, last_test_sent_at=timezone.now())
    return SyncResult(
        True, "Test notification sent; its arrival time appears here once the consumer reads it."
    )


def notification_test_received() -> int:
    """A test notification came back through the queue: every subscription that asked
    for one is proven end to end (the queue is the application's, shared by its
    stores; Amazon's test message names no store). Returns how many."""
    return NotificationSubscription.objects.filter(last_test_sent_at__isnull=False).update(
        last_test_received_at=timezone.now()
    )


def notification_subscription_forget(*, store: Store) -> None:
    """The store is being deleted: unsubscribe it at Amazon first (deleteSubscriptionById is
    grantless, so a store without a token can still be unsubscribed). A failure is logged
    and does not stop the deletion: Amazon's notifications for it are then dropped, with
    the reason, by the consumer."""
    row = NotificationSubscription.objects.filter(store=store).exclude(subscription_id="").first()
    if row is None:
        return
    try:
        AmazonClient(store).delete_subscription(row.subscription_id)
    except AmazonError as exc:
        logger.warning(
            "store %s deleted; its ORDER_CHANGE subscription could not be removed: %s", store.pk, exc.message
        )
