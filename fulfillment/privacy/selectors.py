"""Which orders still hold buyer personal data past the retention period."""

from __future__ import annotations

import datetime as dt

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Subquery, When
from django.db.models.functions import Coalesce, Greatest

from fulfillment.orders.models import Order, OrderLine
from fulfillment.shipments.models import Shipment


def order_closed_at_annotated(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Annotate `closed_at`: when the order was cancelled or (probably) delivered.

    Amazon's policy counts from delivery, which Amazon does not tell a
    merchant-fulfilled seller. So a shipped order counts from the later of
    its last ship date (the latest package's, or `shipped_outside_at` when
    Amazon said it shipped elsewhere) and its deliver-by date: a package can
    still be on its way until then. A cancelled order counts from
    `cancelled_at`. Amazon's last update is the fallback when a date is missing.
    """
    last_ship_date = Subquery(
        Shipment.objects.filter(order=OuterRef("pk")).order_by("-ship_date").values("ship_date")[:1]
    )
    shipped_at = Coalesce(last_ship_date, "shipped_outside_at", "amazon_updated_at")
    # Each side of Greatest is non-null: SQLite's MAX() is NULL if any argument is.
    delivered_at = Greatest(shipped_at, Coalesce("deliver_by_latest", shipped_at))
    return queryset.annotate(
        closed_at=Case(
            When(status=Order.Status.CANCELLED, then=Coalesce("cancelled_at", "amazon_updated_at")),
            default=delivered_at,
        )
    )


def orders_due_for_purge(*, cutoff: dt.datetime) -> QuerySet[Order]:
    """Shipped or cancelled orders closed before `cutoff` that still hold personal data.

    Personal data: the encrypted recipient (name, address, phone) and gift
    messages (free text from the buyer, often with names). Blank values need
    no decryption to compare, so the filter runs in the database.
    """
    line_with_gift_message = OrderLine.objects.filter(order=OuterRef("pk")).exclude(gift_message="")
    holds_pii = ~Q(recipient="") | ~Q(gift_message="") | Exists(line_with_gift_message)
    return (
        order_closed_at_annotated(Order.objects.filter(status__in=Order.CLOSED_STATUSES))
        .filter(holds_pii, closed_at__lt=cutoff)
        .order_by("pk")
    )


# --- Non-personal order data past ORDER_DATA_RETENTION_DAYS ----------------------


def orders_expired(*, cutoff: dt.datetime) -> QuerySet[Order]:
    """Shipped or cancelled orders closed before `cutoff`: deleted with everything hanging off them.

    Open orders are never expired, however old: the warehouse still owes them.
    """
    return (
        order_closed_at_annotated(Order.objects.filter(status__in=Order.CLOSED_STATUSES))
        .filter(closed_at__lt=cutoff)
        .order_by("pk")
    )


def order_data_expired_standalone(*, cutoff: dt.datetime) -> list[QuerySet]:
    """Rows not tied to one order that are older than `cutoff`, oldest kinds of history first."""
    from fulfillment.inventory.models import InventoryChange, InventoryPush
    from fulfillment.jobs.models import SyncRun
    from fulfillment.ops.models import AlertSent
    from fulfillment.orders.models import UnreadableOrder

    return [
        SyncRun.objects.filter(started_at__lt=cutoff).order_by("pk"),
        InventoryChange.objects.filter(changed_at__lt=cutoff).order_by("pk"),
        InventoryPush.objects.filter(created_at__lt=cutoff).order_by("pk"),
        AlertSent.objects.filter(sent_at__lt=cutoff).order_by("pk"),
        # Orders set aside by the download, last seen before the cutoff.
        UnreadableOrder.objects.filter(last_seen_at__lt=cutoff).order_by("pk"),
    ]


def order_data_expired_counts(*, cutoff: dt.datetime, access_log_cutoff: dt.datetime) -> dict[str, int]:
    """What a purge would delete now, per model label (the command's --dry-run)."""
    from fulfillment.inventory.models import InventoryFeed
    from fulfillment.shipments.models import ShipmentConfirmation, ShipmentLine
    from fulfillment.wms.models import WebhookDelivery

    order_ids = orders_expired(cutoff=cutoff).values("pk")
    counts = {
        "fulfillment.Order": orders_expired(cutoff=cutoff).count(),
        "fulfillment.OrderLine": OrderLine.objects.filter(order__in=order_ids).count(),
        "confirmations.Shipment": Shipment.objects.filter(order__in=order_ids).count(),
        "confirmations.ShipmentLine": ShipmentLine.objects.filter(shipment__order__in=order_ids).count(),
        "confirmations.ShipmentConfirmation": ShipmentConfirmation.objects.filter(
            order__in=order_ids
        ).count(),
        "wms.WebhookDelivery": WebhookDelivery.objects.filter(order__in=order_ids).count(),
    }
    for queryset in order_data_expired_standalone(cutoff=cutoff):
        counts[queryset.model._meta.label] = queryset.count()
        if queryset.model._meta.label == "inventory.InventoryPush":
            feeds = InventoryFeed.objects.filter(push__in=queryset.values("pk"))
            counts["inventory.InventoryFeed"] = feeds.count()
    for queryset in access_log_expired(cutoff=access_log_cutoff):
        counts[queryset.model._meta.label] = queryset.count()
    return counts


def access_log_expired(*, cutoff: dt.datetime) -> list[QuerySet]:
    """Security logs past ACCESS_LOG_RETENTION_DAYS: the buyer data access audit and
    django-axes' logins, logouts and failures."""
    from axes.models import AccessFailureLog, AccessLog

    from fulfillment.privacy.models import BuyerDataAccess

    return [
        BuyerDataAccess.objects.filter(accessed_at__lt=cutoff).order_by("pk"),
        AccessLog.objects.filter(attempt_time__lt=cutoff).order_by("pk"),
        AccessFailureLog.objects.filter(attempt_time__lt=cutoff).order_by("pk"),
    ]
