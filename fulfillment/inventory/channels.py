"""Which of a store's SKUs Amazon fulfills, learnt in bulk before a push.

A quantity sent for an Amazon-fulfilled (FBA) offer would turn it
merchant-fulfilled, so unless the store uses Remote Fulfillment with FBA, a
SKU is pushed only once its channel is known. searchListingsItems reads 20
SKUs a call (100,000 SKUs: 5,000 calls, about 17 minutes at Amazon's 5/s), so
a new store's first run learns every channel and pushes every
merchant-fulfilled SKU. Later runs read again the SKUs whose channel was last
read more than INVENTORY_CHANNEL_REFRESH_HOURS ago (a listing can move to or
from FBA in Seller Central).

getListingsItem is the fallback for what a search cannot take: a SKU with a
comma (identifiers is a comma-delimited list) and a batch Amazon refused as a
whole (so one odd SKU never stops the other 19).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.utils import timezone

from connections.amazon import (
    SEARCH_LISTINGS_MAX_IDENTIFIERS,
    AmazonClient,
    PermanentAmazonError,
    ReauthorizationRequired,
)
from connections.models import Store
from fulfillment.inventory.models import ListingState
from fulfillment.inventory.selectors import KnownListing
from fulfillment.jobs.locks import JobLease

logger = logging.getLogger(__name__)

# Amazon's channel codes for its own fulfillment network (AMAZON_NA, AMAZON_EU, AMAZON_JP, ...).
AMAZON_FULFILLED_PREFIX = "AMAZON"
# Channels learnt are written (and the lease renewed) every this many SKUs: a
# crash loses at most this much reading.
_SAVE_EVERY_SKUS = 1000
_UPSERT_BATCH = 5000


def channel_reads_due(
    *, skus: Iterable[str], known: dict[str, KnownListing], now: dt.datetime | None = None
) -> list[str]:
    """SKUs whose channel must be read now: never read, or read before the refresh age."""
    now = now or timezone.now()
    stale_before = now - dt.timedelta(hours=settings.INVENTORY_CHANNEL_REFRESH_HOURS)
    due = []
    for sku in skus:
        state = known.get(sku)
        if state is None or state.channel_checked_at is None or state.channel_checked_at < stale_before:
            due.append(sku)
    return sorted(due)


def is_amazon_fulfilled(item: dict) -> bool:
    """A listings item (with includedData fulfillmentAvailability) says Amazon fulfills it."""
    return any(
        str(entry.get("fulfillmentChannelCode", "")).upper().startswith(AMAZON_FULFILLED_PREFIX)
        for entry in item.get("fulfillmentAvailability") or []
        if isinstance(entry, dict)
    )


def channels_learn(
    *, store: Store, skus: list[str], client: AmazonClient, lease: JobLease | None = None
) -> dict[str, bool]:
    """Read the channel of `skus` from Amazon and keep it in ListingState; SKU -> Amazon-fulfilled.

    A SKU Amazon does not list is not Amazon-fulfilled (the push then
    reports what Amazon thinks of it). Transient errors propagate: what was
    learnt until then is saved and the next run goes on from there.
    """
    learnt: dict[str, bool] = {}
    unsaved: dict[str, bool] = {}
    searchable = [sku for sku in skus if "," not in sku]
    one_by_one = [sku for sku in skus if "," in sku]
    try:
        for start in range(0, len(searchable), SEARCH_LISTINGS_MAX_IDENTIFIERS):
            batch = searchable[start : start + SEARCH_LISTINGS_MAX_IDENTIFIERS]
            unsaved.update(_search_batch(client=client, batch=batch))
            if len(unsaved) >= _SAVE_EVERY_SKUS:
                learnt.update(_save(store=store, channels=unsaved, lease=lease))
                unsaved = {}
        for sku in one_by_one:
            unsaved[sku] = _read_one(client=client, sku=sku)
    finally:
        learnt.update(_save(store=store, channels=unsaved, lease=lease))
    return learnt


def _search_batch(*, client: AmazonClient, batch: list[str]) -> dict[str, bool]:
    try:
        items = client.search_listings_items_by_sku(batch)
    except ReauthorizationRequired:
        raise
    except PermanentAmazonError as exc:
        logger.info("searchListingsItems refused a batch of %d SKUs (%s); reading each", len(batch), exc)
        return {sku: _read_one(client=client, sku=sku) for sku in batch}
    found = {item.get("sku"): is_amazon_fulfilled(item) for item in items}
    return {sku: found.get(sku, False) for sku in batch}


def _read_one(*, client: AmazonClient, sku: str) -> bool:
    try:
        item = client.get_listings_item(sku, included_data=("fulfillmentAvailability",))
    except ReauthorizationRequired:
        raise
    except PermanentAmazonError:
        # Not found (or not readable): not an FBA offer we could convert.
        return False
    return is_amazon_fulfilled(item)


def _save(*, store: Store, channels: dict[str, bool], lease: JobLease | None) -> dict[str, bool]:
    if not channels:
        return {}
    now = timezone.now()
    ListingState.objects.bulk_create(
        [
            ListingState(store=store, sku=sku, is_amazon_fulfilled=fba, channel_checked_at=now)
            for sku, fba in channels.items()
        ],
        update_conflicts=True,
        unique_fields=["store", "sku"],
        update_fields=["is_amazon_fulfilled", "channel_checked_at"],
        batch_size=_UPSERT_BATCH,
    )
    if lease is not None:
        lease.renew()
    return dict(channels)
