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

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fulfillment.models import Order, OrderLine

from .selectors import orders_due_for_purge

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
