"""Faults that need to know about the operation (the generic ones are in api.py)."""

from __future__ import annotations

from django.utils import timezone

from .models import SandboxFaults, SandboxOrder, SandboxSeller
from .selectors import OrderSearch, parse_iso


def order_change_between_pages(*, seller: SandboxSeller, search: OrderSearch) -> None:
    """With the switch on, an order already returned on an earlier page changes now.

    It then sits after the window pinned by page 1, as on Amazon when the
    order is updated while a client is still paging: a correct client finds it
    on its next incremental download.
    """
    if not SandboxFaults.current().change_order_between_pages or not search.position:
        return
    field = "created_time" if search.by == "created" else "last_updated_time"
    already_returned = (
        SandboxOrder.objects.filter(
            seller=seller,
            **{f"{field}__gte": search.after, f"{field}__lte": parse_iso(search.position[0])},
        )
        .order_by(field, "order_id")
        .first()
    )
    if already_returned is not None:
        SandboxOrder.objects.filter(pk=already_returned.pk).update(last_updated_time=timezone.now())
