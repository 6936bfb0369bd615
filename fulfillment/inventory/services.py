"""The inventory push: compute, guard, send (feed or patch), read Amazon's answer.

    run = inventory_push_run(store=store)            # delta, as the schedule runs it
    run = inventory_push_run(store=store, full=True) # every activated SKU

One run, under the store's `inventory_push` lease:
1. finishes any push a crashed or timed-out run left (planned feeds are
   submitted, submitted feeds are polled: never created twice);
2. replaces a push still awaiting confirmation by a fresh plan;
3. plans a new push: activated SKUs whose (quantity, handling time, channel
   code) differs from what Amazon last accepted (all with `full`), skipping
   Amazon-fulfilled SKUs unless the store uses Remote Fulfillment with FBA
   (channels read 20 SKUs a call first: fulfillment.inventory.channels);
4. holds it for a person when it would zero too many of the store's SKUs;
5. sends it: patchListingsItem per SKU for a handful, JSON_LISTINGS_FEED
   documents of at most 25,000 messages otherwise; reads the processing
   report and records per SKU what Amazon accepted or why it refused.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.amazon import AmazonClient
from connections.models import Store
from fulfillment.inventory import feeds
from fulfillment.inventory.channels import channel_reads_due, channels_learn
from fulfillment.inventory.models import InventoryFeed, InventoryPush
from fulfillment.inventory.selectors import (
    Availability,
    KnownListing,
    inventory_availability_for,
    inventory_delta_for,
    listing_states_for,
    store_inventory_settings_for,
)
from fulfillment.inventory.sending import push_continue
from fulfillment.jobs.locks import JobLease
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext, job_run

logger = logging.getLogger(__name__)

# Longer than the other jobs' minute: planning a large catalog, building and
# uploading a 25,000-message feed document and recording its report are single
# steps with no point to renew inside, each possibly longer than a minute, and
# a second push planned meanwhile could reach Amazon out of order.
PUSH_LEASE_SECONDS = 1800

PUSH_COUNTS = (
    "sent",
    "accepted",
    "rejected",
    "feeds",
    "pending_feeds",
    "skipped_amazon_fulfilled",
    "channels_read",  # SKUs whose fulfillment channel was read from Amazon
    "awaiting_channel_check",
    "held_for_confirmation",
)


# --- the run ------------------------------------------------------------------------


def inventory_push_run(*, store: Store, full: bool = False) -> SyncRun:
    """Push the store's inventory to Amazon; returns the run's record.

    Raises fulfillment.jobs.locks.JobLockBusy (recording nothing) when a push of
    this store is already running elsewhere.
    """
    return job_run(InventoryPushJob(full=full), store=store)


class InventoryPushJob(Job):
    """The push of one store: finish what earlier runs left, then plan and send (module docstring)."""

    kind = SyncRun.Kind.INVENTORY_PUSH
    lease_seconds = PUSH_LEASE_SECONDS
    count_keys = PUSH_COUNTS
    # Each push time is a daily schedule: after a run its next run is put back on the
    # wall-clock time in the warehouse's zone (django-q2 steps a day in the server's zone).
    reschedule = True
    not_eligible = "store missing, inactive, not connected or inventory sync off"

    def __init__(self, *, full: bool = False) -> None:
        self.full = full

    def eligible(self, store: Store) -> bool:
        return super().eligible(store) and store.inventory_sync_enabled

    def run(self, ctx: JobContext) -> None:
        store, counts, lease = ctx.store, ctx.counts, ctx.lease
        client = ctx.amazon_client()
        failures = []
        for push in InventoryPush.objects.filter(
            store=store, state__in=InventoryPush.UNFINISHED_STATES
        ).order_by("created_at"):
            failures += push_continue(push=push, client=client, lease=lease, counts=counts)
        if not counts["pending_feeds"]:
            push = inventory_push_plan(store=store, full=self.full, client=client, counts=counts, lease=lease)
            if push is not None and push.state == InventoryPush.State.BUILDING:
                failures += push_continue(push=push, client=client, lease=lease, counts=counts)
            elif push is not None:
                cut = f" and cut {push.dropping} sharply" if push.dropping else ""
                ctx.notes = (
                    f"Push {push.pk} would set {push.zeroing} of the store's SKUs to 0{cut} "
                    f"({push.zeroing_share:.0%}); it waits for confirmation in the admin."
                )
        else:
            ctx.notes = (
                "An earlier push is not finished: Amazon is still processing a feed, or a feed waits "
                "to retry after an error (see Inventory feeds). The next run goes on with it."
            )
        if failures:
            ctx.fail("; ".join(failures))


# --- planning -------------------------------------------------------------------------


def inventory_push_plan(
    *,
    store: Store,
    full: bool,
    client: AmazonClient | None = None,
    counts: Counter[str] | None = None,
    lease: JobLease | None = None,
) -> InventoryPush | None:
    """Store the next push's plan (feeds with their items); None when nothing differs.

    The push is BUILDING (ready to send) or AWAITING_CONFIRMATION (the zero-stock guard).
    """
    counts = counts if counts is not None else Counter()
    # A held plan is stale once a newer one is computed: the newest replaces it.
    InventoryPush.objects.filter(store=store, state=InventoryPush.State.AWAITING_CONFIRMATION).update(
        state=InventoryPush.State.CANCELLED, finished_at=timezone.now(), error="Replaced by a newer push."
    )
    desired = inventory_availability_for(store=store)
    known = listing_states_for(store=store)
    if not store.remote_fulfillment_with_fba:
        desired = _without_amazon_fulfilled(
            store=store, desired=desired, known=known, client=client, counts=counts, lease=lease
        )
    to_send = inventory_delta_for(desired=desired, known=known, full=full)
    if not to_send:
        return None
    guard = zero_stock_guard(
        to_send=to_send, known=known, catalog=len(desired), limits=store_inventory_settings_for(store=store)
    )
    held = guard.held
    items = [(sku, a.quantity, a.lead_time, a.channel_code) for sku, a in sorted(to_send.items())]
    small = len(items) <= settings.INVENTORY_PATCH_MAX_SKUS
    with transaction.atomic():
        push = InventoryPush.objects.create(
            store=store,
            state=InventoryPush.State.AWAITING_CONFIRMATION if held else InventoryPush.State.BUILDING,
            method=InventoryPush.Method.PATCH if small else InventoryPush.Method.FEED,
            full=full,
            messages=len(items),
            feeds=0 if small else -(-len(items) // feeds.FEED_MAX_MESSAGES),
            zeroing=guard.zeroing,
            dropping=guard.dropping,
            zeroing_share=guard.share,
            guarded_skus=guard.skus[:GUARDED_SKUS_KEPT],
        )
        InventoryFeed.objects.bulk_create(
            InventoryFeed(push=push, sequence=n, message_count=len(chunk), items=list(chunk))
            for n, chunk in enumerate(feeds.feed_chunks(items, size=feeds.FEED_MAX_MESSAGES), start=1)
        )
    if held:
        counts["held_for_confirmation"] += len(items)
    return push


# The held push's page lists these many of the SKUs the guard counted (the counts are whole).
GUARDED_SKUS_KEPT = 2000


@dataclass
class ZeroStockGuard:
    zeroing: int  # SKUs going to 0
    dropping: int  # SKUs cut by more than the store's sharp-cut share, not to 0
    share: float  # (zeroing + dropping) / the store's activated SKUs
    held: bool
    skus: list[list]  # [[sku, quantity Amazon has or None, quantity to send], ...]


def zero_stock_guard(
    *, to_send: dict[str, Availability], known: dict[str, KnownListing], catalog: int, limits
) -> ZeroStockGuard:
    """Would this push empty (or nearly empty) too much of the store on Amazon?

    A wrong snapshot or mapping shows as many SKUs dropping at once; a day's
    sales as a few. Counted: SKUs going to 0 (that Amazon does not already
    have at 0) and SKUs cut by more than `drop_guard_percent`. Held when they
    are more than `zero_guard_percent` of the store's activated SKUs (at any
    catalog size: one SKU selling out in a store of several is never held; a
    one-SKU store confirms its SKU going to 0), or at least `zero_guard_count`
    of them however large the catalog.
    """
    zeroing = dropping = 0
    skus = []
    for sku, availability in sorted(to_send.items()):
        listing = known.get(sku)
        old = listing.accepted[0] if listing is not None and listing.accepted else None
        new = availability.quantity
        if new == 0 and old != 0:
            zeroing += 1
        elif old and new < old and (old - new) * 100 > limits.drop_guard_percent * old:
            dropping += 1
        else:
            continue
        skus.append([sku, old, new])
    counted = zeroing + dropping
    share = counted / catalog if catalog else 0.0
    by_share = counted >= min(2, catalog) and share * 100 > limits.zero_guard_percent
    by_count = bool(limits.zero_guard_count) and counted >= limits.zero_guard_count
    held = counted > 0 and (by_share or by_count)
    return ZeroStockGuard(zeroing=zeroing, dropping=dropping, share=share, held=held, skus=skus)


def _without_amazon_fulfilled(
    *,
    store: Store,
    desired: dict[str, Availability],
    known: dict[str, KnownListing],
    client: AmazonClient | None,
    counts: Counter[str],
    lease: JobLease | None,
) -> dict[str, Availability]:
    """Drop SKUs Amazon fulfills (a quantity sent for them would turn the offer merchant-fulfilled).

    Channels never read, or read longer ago than the refresh age, are read
    first, 20 SKUs a call (fulfillment.inventory.channels). Without a client
    (a plan built offline) a SKU whose channel was never read waits: never
    sent blind.
    """
    due = channel_reads_due(skus=desired, known=known)
    learnt = channels_learn(store=store, skus=due, client=client, lease=lease) if client and due else {}
    counts["channels_read"] += len(learnt)
    out = {}
    for sku, availability in desired.items():
        if sku in learnt:
            fba = learnt[sku]
        elif sku in known and known[sku].channel_checked_at is not None:
            fba = known[sku].is_amazon_fulfilled
        else:
            counts["awaiting_channel_check"] += 1
            continue
        if fba:
            counts["skipped_amazon_fulfilled"] += 1
        else:
            out[sku] = availability
    return out


# --- the admin's decisions ------------------------------------------------------------------


def inventory_push_confirm(*, push: InventoryPush, user) -> bool:
    """A person confirms a held push: it is sent by the next run (queued by the caller).

    Compare-and-set: only a push still awaiting confirmation moves on.
    """
    return bool(
        InventoryPush.objects.filter(pk=push.pk, state=InventoryPush.State.AWAITING_CONFIRMATION).update(
            state=InventoryPush.State.BUILDING, confirmed_by=user, confirmed_at=timezone.now()
        )
    )


def inventory_push_cancel(*, push: InventoryPush, user=None) -> bool:
    """A person discards a held push: nothing of it is sent (the next run plans afresh)."""
    who = f" ({user.get_username()})" if user is not None else ""
    return bool(
        InventoryPush.objects.filter(pk=push.pk, state=InventoryPush.State.AWAITING_CONFIRMATION).update(
            state=InventoryPush.State.CANCELLED,
            finished_at=timezone.now(),
            error=f"Discarded by a person{who}.",
        )
    )


def inventory_feeds_retry(*, feed_ids: list[int]) -> int:
    """Admin "Retry now": feeds waiting after an error are tried at the store's next push,
    with fresh attempts and their history kept (the push is queued now).

    A finished feed (done, fatal, cancelled) is never sent again: its plan is
    stale, and the next push sends what Amazon did not accept from current stock.
    """
    from django_q.tasks import async_task

    from fulfillment.jobs.schedules import INVENTORY_PUSH_TASK

    rows = InventoryFeed.objects.filter(pk__in=feed_ids, state__in=InventoryFeed.waiting_states)
    store_ids = set(rows.values_list("push__store_id", flat=True))
    retried = rows.retry()
    for store_id in sorted(store_ids):
        transaction.on_commit(lambda store_id=store_id: async_task(INVENTORY_PUSH_TASK, store_id))
    return retried
