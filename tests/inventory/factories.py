"""Row makers for the inventory admins (auto-discovered by tests/factories.py)."""

from __future__ import annotations

import itertools

from django.utils import timezone

from fulfillment.inventory.models import (
    HeldInventorySnapshot,
    InventoryFeed,
    InventoryPush,
    ListingState,
    StoreInventorySettings,
)
from tests.factories import make_store, make_warehouse, register_row_maker

_seq = itertools.count(1)


def make_push(**kw) -> InventoryPush:
    defaults = dict(store=kw.pop("store", None) or make_store(), messages=1, feeds=1)
    return InventoryPush.objects.create(**{**defaults, **kw})


def make_feed(**kw) -> InventoryFeed:
    n = next(_seq)
    defaults = dict(
        push=kw.pop("push", None) or make_push(),
        sequence=n,
        message_count=1,
        items=[[f"SKU-{n}", 3, None, "DEFAULT"]],
        feed_id=f"{n:011d}",
    )
    return InventoryFeed.objects.create(**{**defaults, **kw})


def make_listing_state(**kw) -> ListingState:
    n = next(_seq)
    defaults = dict(
        store=kw.pop("store", None) or make_store(),
        sku=f"SKU-{n}",
        quantity=n,
        channel_code="DEFAULT",
        accepted_at=timezone.now(),
        last_error="Amazon said no" if n % 2 else "",
    )
    return ListingState.objects.create(**{**defaults, **kw})


register_row_maker(
    StoreInventorySettings,
    lambda n: [StoreInventorySettings.objects.create(store=make_store()) for _ in range(n)],
)
register_row_maker(InventoryPush, lambda n: [make_feed().push for _ in range(n)])
register_row_maker(InventoryFeed, lambda n: [make_feed() for _ in range(n)])
register_row_maker(ListingState, lambda n: [make_listing_state(last_feed=make_feed()) for _ in range(n)])


def make_held_snapshot(**kw) -> HeldInventorySnapshot:
    defaults = dict(
        warehouse=kw.pop("warehouse", None) or make_warehouse(),
        source=HeldInventorySnapshot.Source.API,
        items=[["A", 1]],
        item_count=1,
        stocked=3,
        zeroing=2,
        reason="This complete snapshot was held because it would set 2 of 3 SKUs in stock to 0.",
    )
    return HeldInventorySnapshot.objects.create(**{**defaults, **kw})


register_row_maker(HeldInventorySnapshot, lambda n: [make_held_snapshot() for _ in range(n)])
