"""Row makers for the admin page tests (tests/test_admin_pages.py)."""

from __future__ import annotations

import itertools
import uuid

from django.utils import timezone

from fulfillment.orders.models import NotificationReceipt
from tests.factories import make_store, register_row_maker

_seq = itertools.count(1)


def make_notification_receipt(*, store=None, **kw) -> NotificationReceipt:
    n = next(_seq)
    defaults = dict(
        notification_id=str(uuid.uuid4()),
        seller_id="A1ACMESELLER",
        marketplace_id="ATVPDKIKX0DER",
        amazon_order_id=f"111-{n:07d}-0000001",
        change_type="OrderStatusChange",
        received_at=timezone.now(),
        outcome=NotificationReceipt.Outcome.IMPORTED,
    )
    return NotificationReceipt.objects.create(store=store or make_store(), **{**defaults, **kw})


register_row_maker(NotificationReceipt, lambda n: [make_notification_receipt() for _ in range(n)])
