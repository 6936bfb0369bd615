"""Which orders still hold buyer personal data past the retention period."""

from __future__ import annotations

import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from fulfillment.models import Order, OrderLine
from fulfillment.wms.models import Shipment


def order_closed_at_annotated(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """Annotate `closed_at`: when the order was cancelled or (last) shipped.

    Order has no "shipped at" column: the latest package's ship date is when
    the warehouse shipped it, `shipped_outside_at` when Amazon said it shipped
    elsewhere; Amazon's last update is the fallback for anything else closed.
    """
    last_ship_date = Subquery(
        Shipment.objects.filter(order=OuterRef("pk")).order_by("-ship_date").values("ship_date")[:1]
    )
    return queryset.annotate(
        closed_at=Coalesce("cancelled_at", "shipped_outside_at", last_ship_date, "amazon_updated_at")
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
