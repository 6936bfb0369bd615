"""Faults that need to know about the operation (the generic ones are in api.py)."""

from __future__ import annotations

import dataclasses
import secrets

from django.utils import timezone

from .models import PageOrder, SandboxFaults, SandboxOrder, SandboxSeller
from .selectors import OrderSearch


def order_search_page_order(search: OrderSearch) -> OrderSearch:
    """A new search takes the page order the switch says now; its token keeps it."""
    page_order = SandboxFaults.current().page_order
    seed = secrets.token_hex(8) if page_order == PageOrder.SHUFFLED else ""
    return dataclasses.replace(search, page_order=page_order, shuffle_seed=seed)


def order_change_between_pages(*, seller: SandboxSeller, search: OrderSearch) -> None:
    """With the switch on, an order already returned on an earlier page changes now.

    It then sits after the window pinned by page 1, as on Amazon when the
    order is updated while a client is still paging: a correct client finds it
    on its next incremental download. (The last order returned is the one
    changed, whatever the page order.)
    """
    if not SandboxFaults.current().change_order_between_pages or not search.position:
        return
    SandboxOrder.objects.filter(seller=seller, order_id=search.position[1]).update(
        last_updated_time=timezone.now()
    )
