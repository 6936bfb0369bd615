"""Reads of the inventory push: the quantity rule and what differs from Amazon.

Everything is computed in a few queries per store whatever the number of
SKUs (the mappings, the warehouse's levels, the listing states), then in
memory: 100,000 SKUs take well under a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from connections.models import Store
from fulfillment.inventory.models import InventoryChange, InventoryLevel, ListingState, StoreInventorySettings
from fulfillment.orders.models import Warehouse
from mappings.selectors import inventory_sku_mappings_for


def listing_quantity(
    *, components: Iterable[tuple[int, int]], buffer: int = 0, share_percent: int = 100
) -> int:
    """Amazon units to offer from (available, units) per warehouse SKU of one Amazon SKU.

    Each component gives floor(available / units) Amazon units; a kit is the
    minimum over its components. The store's share of that (rounded down, so
    two stores at 50% never offer more than the warehouse has), minus the
    safety buffer, never below 0.
    """
    whole = min((max(available, 0) // max(units, 1) for available, units in components), default=0)
    shared = whole * share_percent // 100
    return max(shared - buffer, 0)


@dataclass(frozen=True, slots=True)
class Availability:
    """What one SKU's fulfillment_availability should say."""

    quantity: int
    lead_time: int | None
    channel_code: str

    def as_tuple(self) -> tuple[int, int | None, str]:
        return (self.quantity, self.lead_time, self.channel_code)


def store_inventory_settings_for(*, store: Store) -> StoreInventorySettings:
    """The store's settings row, created with the defaults the first time."""
    found, _ = StoreInventorySettings.objects.get_or_create(store=store)
    return found


def inventory_quantities_for(*, store: Store, share_percent: int | None = None) -> dict[str, int]:
    """Amazon SKU -> quantity to offer, for every SKU activated for inventory sync.

    SKUs whose warehouse SKU has no inventory row count as 0 available. Two
    queries: the activated mappings and the warehouse's levels.
    """
    if share_percent is None:
        share_percent = store_inventory_settings_for(store=store).share_percent
    components: dict[str, list[tuple[str, int]]] = {}
    buffers: dict[str, int] = {}
    for amazon_sku, warehouse_sku, units, buffer in inventory_sku_mappings_for(store=store).values_list(
        "amazon_sku", "warehouse_sku", "units", "buffer"
    ):
        components.setdefault(amazon_sku, []).append((warehouse_sku, units))
        # A kit's rows may carry different buffers: hold back the largest.
        buffers[amazon_sku] = max(buffers.get(amazon_sku, 0), buffer)
    if not components:
        return {}
    levels = dict(
        InventoryLevel.objects.filter(warehouse_id=store.warehouse_id).values_list("sku", "available")
    )
    return {
        sku: listing_quantity(
            components=[(levels.get(wsku, 0), units) for wsku, units in parts],
            buffer=buffers[sku],
            share_percent=share_percent,
        )
        for sku, parts in components.items()
    }


def inventory_availability_for(*, store: Store) -> dict[str, Availability]:
    """Amazon SKU -> the full fulfillment_availability the store should have on Amazon."""
    lead = store.fulfillment_latency
    channel = store.fulfillment_channel_code or "DEFAULT"
    return {
        sku: Availability(quantity, lead, channel)
        for sku, quantity in inventory_quantities_for(store=store).items()
    }


@dataclass(frozen=True, slots=True)
class KnownListing:
    accepted: tuple[int | None, int | None, str] | None  # None: Amazon never accepted a quantity
    is_amazon_fulfilled: bool
    channel_checked_at: dt.datetime | None  # when Amazon last told us the channel


def listing_states_for(*, store: Store) -> dict[str, KnownListing]:
    """Amazon SKU -> what Amazon last accepted (one query)."""
    rows = ListingState.objects.filter(store=store).values_list(
        "sku",
        "quantity",
        "lead_time",
        "channel_code",
        "accepted_at",
        "is_amazon_fulfilled",
        "channel_checked_at",
    )
    return {
        sku: KnownListing(
            accepted=(quantity, lead, channel) if accepted_at is not None else None,
            is_amazon_fulfilled=fba,
            channel_checked_at=checked,
        )
        for sku, quantity, lead, channel, accepted_at, fba, checked in rows
    }


def inventory_delta_for(
    *, desired: dict[str, Availability], known: dict[str, KnownListing], full: bool = False
) -> dict[str, Availability]:
    """The SKUs to send: every one with `full`, else those Amazon does not already have."""
    if full:
        return dict(desired)
    out = {}
    for sku, availability in desired.items():
        state = known.get(sku)
        if state is None or state.accepted != availability.as_tuple():
            out[sku] = availability
    return out


def inventory_changed_since(*, warehouse: Warehouse, since: dt.datetime | None) -> set[str]:
    """Warehouse SKUs whose available quantity changed after `since` (all SKUs ever set when None)."""
    changes = InventoryChange.objects.filter(warehouse=warehouse)
    if since is not None:
        changes = changes.filter(changed_at__gt=since)
    return set(changes.values_list("sku", flat=True).distinct())
