"""Blank buyer personal data a configurable number of days after an order closes.

Amazon's Data Protection Policy allows keeping PII only as long as needed to
fulfil the order (and at most 30 days after delivery). Once an order is
shipped or cancelled for `settings.PII_RETENTION_DAYS` days, its recipient
(name, address, phone) and gift messages are blanked; the order, its lines,
shipments and confirmations stay for accounting and support.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from contextlib import nullcontext

from django.conf import settings
from django.db import connection, transaction
from django.db.models import ProtectedError, QuerySet
from django.utils import timezone

from fulfillment.orders.models import Order, OrderLine
from fulfillment.privacy.selectors import (
    access_log_expired,
    order_data_expired_counts,
    order_data_expired_standalone,
    orders_due_for_purge,
    orders_expired,
)

logger = logging.getLogger(__name__)

PURGE_BATCH = 1000


def personal_data_cutoff(*, now: dt.datetime, days: int | None = None) -> dt.datetime:
    return now - dt.timedelta(days=settings.PII_RETENTION_DAYS if days is None else days)


def personal_data_purge(
    *, now: dt.datetime | None = None, days: int | None = None, batch_size: int = PURGE_BATCH
) -> int:
    """Blank the personal data of orders closed more than PII_RETENTION_DAYS ago.

    `days` overrides the setting for one run (the command's --days). Returns
    how many orders were purged. Idempotent: a purged order no longer
    matches, so a second run (or a task delivered twice) purges nothing. Works
    in batches, each its own short transaction, so a crash loses nothing and
    no lock is held on a large table for long.
    """
    cutoff = personal_data_cutoff(now=now or timezone.now(), days=days)
    purged = 0
    while True:
        ids = list(orders_due_for_purge(cutoff=cutoff).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            # The filter re-checks the status: an order reopened meanwhile keeps its data.
            Order.objects.filter(pk__in=ids, status__in=Order.CLOSED_STATUSES).update(
                recipient="", gift_message=""
            )
            OrderLine.objects.filter(order_id__in=ids).exclude(gift_message="").update(gift_message="")
        purged += len(ids)
        if len(ids) < batch_size:
            break
    if purged:
        logger.info("personal data purged from %s order(s) closed before %s", purged, cutoff.date())
    return purged


# --- Non-personal order data: deleted after ORDER_DATA_RETENTION_DAYS ------------

ORDER_DATA_BATCH = 500


def order_data_cutoffs(*, now: dt.datetime, days: int | None = None) -> tuple[dt.datetime, dt.datetime]:
    """(order data cutoff, access log cutoff) for a run at `now`."""
    order_days = settings.ORDER_DATA_RETENTION_DAYS if days is None else days
    return (
        now - dt.timedelta(days=order_days),
        now - dt.timedelta(days=settings.ACCESS_LOG_RETENTION_DAYS),
    )


def order_data_purge(
    *,
    now: dt.datetime | None = None,
    days: int | None = None,
    dry_run: bool = False,
    batch_size: int = ORDER_DATA_BATCH,
) -> dict[str, int]:
    """Delete Amazon order data kept longer than ORDER_DATA_RETENTION_DAYS (18 months).

    Closed orders with their lines, shipments, confirmations and webhook
    deliveries; sync runs; inventory changes and pushes; alerts sent; and
    security logs past ACCESS_LOG_RETENTION_DAYS. Returns rows deleted per
    model label (with `dry_run`, what would be deleted, nothing deleted).

    Each batch deletes at most `batch_size` parent rows in its own short
    transaction (DELETE ... WHERE id IN (SELECT ... LIMIT n)), so the tables
    stay writable for the download and the WMS meanwhile, and a crash keeps
    what was committed. Idempotent: a second run finds nothing old enough.
    """
    cutoff, access_log_cutoff = order_data_cutoffs(now=now or timezone.now(), days=days)
    if dry_run:
        return order_data_expired_counts(cutoff=cutoff, access_log_cutoff=access_log_cutoff)
    deleted: Counter[str] = Counter()
    deleted.update(_orders_delete(cutoff=cutoff, batch_size=batch_size))
    for queryset in [
        *order_data_expired_standalone(cutoff=cutoff),
        *access_log_expired(cutoff=access_log_cutoff),
    ]:
        deleted.update(_batches_delete(queryset, batch_size=batch_size))
    result = {label: count for label, count in deleted.items() if count}
    if result:
        logger.info("order data purge deleted %s", ", ".join(f"{k}={v}" for k, v in sorted(result.items())))
    return result


def _batches_delete(queryset: QuerySet, *, batch_size: int) -> Counter[str]:
    deleted: Counter[str] = Counter()
    model = queryset.model
    while True:
        with transaction.atomic():
            _, per_model = model.objects.filter(pk__in=queryset.values("pk")[:batch_size]).delete()
        deleted.update(per_model)
        if per_model.get(model._meta.label, 0) < batch_size:
            return deleted


def _orders_delete(*, cutoff: dt.datetime, batch_size: int) -> Counter[str]:
    """Closed orders and what hangs off them, children first (shipments protect their order)."""
    deleted: Counter[str] = Counter()
    kept: set[int] = set()  # orders another table still protects: logged, not retried forever
    while True:
        candidates = orders_expired(cutoff=cutoff).exclude(pk__in=kept)
        ids = list(candidates.values_list("pk", flat=True)[:batch_size])
        if not ids:
            return deleted
        try:
            deleted.update(_orders_with_children_delete(ids))
        except ProtectedError:
            # A row of another kind still points at one of these orders: go one by one.
            for pk in ids:
                try:
                    deleted.update(_orders_with_children_delete([pk]))
                except ProtectedError:
                    kept.add(pk)
                    logger.warning("order data purge kept order id=%s: another record still refers to it", pk)
        if len(ids) < batch_size:
            return deleted


def _orders_with_children_delete(ids: list[int]) -> Counter[str]:
    from fulfillment.shipments.models import Shipment, ShipmentConfirmation, ShipmentLine
    from fulfillment.wms.models import WebhookDelivery

    deleted: Counter[str] = Counter()
    with transaction.atomic():
        for queryset in (
            ShipmentConfirmation.objects.filter(order_id__in=ids),
            ShipmentLine.objects.filter(shipment__order_id__in=ids),
            Shipment.objects.filter(order_id__in=ids),
            WebhookDelivery.objects.filter(order_id__in=ids),
            OrderLine.objects.filter(order_id__in=ids),
            # Re-checked: an order reopened meanwhile is not deleted.
            Order.objects.filter(pk__in=ids, status__in=Order.CLOSED_STATUSES),
        ):
            deleted.update(queryset.delete()[1])
    return deleted


# --- Access audit: who saw buyer data -----------------------------------------------


def buyer_data_fields_shown(*, order: Order, lines: list[OrderLine] | None, address_shown: bool) -> list[str]:
    """The buyer-data fields a screen or answer showing `order` (and its `lines`) actually carries."""
    return buyer_data_fields(
        address=address_shown and bool(order.recipient),
        gift_message=bool(order.gift_message) or any(line.gift_message for line in lines or ()),
    )


def buyer_data_fields(*, address: bool, gift_message: bool) -> list[str]:
    """The audit's `fields` for an answer that carried an address and/or a gift message."""
    return ["ship_to"] * address + ["gift_message"] * gift_message


def buyer_data_viewed_in_admin(*, request, order: Order) -> int:
    """The admin's order page was shown: audit the address (with the permission) and gift messages."""
    from fulfillment.accounts.selectors import client_address

    address_shown = request.user.has_perm("fulfillment.view_order_address")
    # Blank stays blank when encrypted: which lines carry a message needs no decryption.
    gift_lines = list(OrderLine.objects.filter(order=order).exclude(gift_message="").only("pk")[:1])
    fields = []
    if address_shown and order.recipient:
        fields.append("ship_to")
    if order.gift_message or gift_lines:
        fields.append("gift_message")
    return buyer_data_access_record(
        shown=[(order, fields)],
        via="admin_order",
        address=client_address(request),
        user=request.user,
    )


def buyer_data_sent_to_wms(*, request, orders: list[Order], via: str) -> int:
    """A WMS API answer carried these orders (their ship_to, lines prefetched): one row per order."""
    from fulfillment.accounts.selectors import client_address

    shown = [
        (order, buyer_data_fields_shown(order=order, lines=list(order.lines.all()), address_shown=True))
        for order in orders
    ]
    return buyer_data_access_record(
        shown=shown, via=via, address=client_address(request), wms_key=request.auth
    )


def buyer_data_listed_to_wms(*, request, shown: dict[int, list[str]], via: str) -> int:
    """A WMS API list answer carried these orders (order id → buyer_data_fields): one row per
    order with fields, written by the database from the orders' own rows, one INSERT per
    distinct `fields` (one on most pages) and no model instances: at 100 orders a page,
    polled all day by the WMS, the ORM's bulk_create cost as much as building the answer.
    """
    from fulfillment.accounts.selectors import client_address
    from fulfillment.privacy.models import BuyerDataAccess

    groups: dict[tuple[str, ...], list[int]] = {}
    for order_id, fields in shown.items():
        if fields:
            groups.setdefault(tuple(fields), []).append(order_id)
    if not groups:
        return 0
    meta, order_meta = BuyerDataAccess._meta, Order._meta
    key, address = request.auth, client_address(request) or None

    def prep(name, value):
        return meta.get_field(name).get_db_prep_save(value, connection)

    qn = connection.ops.quote_name
    columns = ", ".join(
        qn(meta.get_field(name).column)
        for name in ("accessed_at", "wms_key", "actor", "via", "address", "fields", "order", "store")
    )
    fixed = [prep("accessed_at", timezone.now()), key.pk, str(key)[:200], via, prep("address", address)]
    written = 0
    # A single INSERT is its own transaction: no BEGIN and COMMIT round trips on most pages.
    with transaction.atomic() if len(groups) > 1 else nullcontext():
        for fields, ids in groups.items():
            # Names from model metadata; values are parameters.
            sql = (
                f"INSERT INTO {qn(meta.db_table)} ({columns}, amazon_order_id) "  # noqa: S608
                "SELECT %s, %s, %s, %s, %s, %s, id, store_id, amazon_order_id "
                f"FROM {qn(order_meta.db_table)} WHERE id IN ({', '.join(['%s'] * len(ids))})"
            )
            with connection.cursor() as cursor:
                cursor.execute(sql, [*fixed, prep("fields", list(fields)), *ids])
                written += cursor.rowcount
    return written


def buyer_data_access_record(
    *,
    shown: list[tuple[Order, list[str]]],
    via: str,
    address: str,
    user=None,
    wms_key=None,
    now: dt.datetime | None = None,
) -> int:
    """Write one audit row per order whose buyer data was shown (orders with nothing shown: none).

    `shown` pairs each order with buyer_data_fields_shown(); one INSERT for all.
    """
    from fulfillment.privacy.models import BuyerDataAccess

    now = now or timezone.now()
    if wms_key is not None:
        actor = str(wms_key)
    elif user is not None:
        actor = user.get_username()
    else:
        actor = ""
    rows = [
        BuyerDataAccess(
            accessed_at=now,
            user=user if user is not None and user.is_authenticated else None,
            wms_key=wms_key,
            actor=actor[:200],
            order=order,
            store_id=order.store_id,
            amazon_order_id=order.amazon_order_id,
            fields=fields,
            via=via,
            address=address or None,
        )
        for order, fields in shown
        if fields
    ]
    BuyerDataAccess.objects.bulk_create(rows)
    return len(rows)
