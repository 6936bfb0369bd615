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
import time
from collections import Counter

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.amazon import AmazonClient, PermanentAmazonError
from connections.models import Store
from connections.services import store_reauthorization_record
from fulfillment.inventory import feeds
from fulfillment.inventory.channels import channel_reads_due, channels_learn
from fulfillment.inventory.models import InventoryFeed, InventoryPush, ListingState
from fulfillment.inventory.selectors import (
    Availability,
    KnownListing,
    inventory_availability_for,
    inventory_delta_for,
    listing_states_for,
    store_inventory_settings_for,
)
from fulfillment.jobs.locks import JobLease
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext, job_run

logger = logging.getLogger(__name__)

# Longer than the other jobs' minute: planning a large catalog, building and
# uploading a 25,000-message feed document and recording its report are single
# steps with no point to renew inside, each possibly longer than a minute, and
# a second push planned meanwhile could reach Amazon out of order.
PUSH_LEASE_SECONDS = 1800
_UPSERT_BATCH = 5000
_sleep = time.sleep  # tests replace it

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
            failures += _push_continue(push=push, client=client, lease=lease, counts=counts)
        if not counts["pending_feeds"]:
            push = inventory_push_plan(store=store, full=self.full, client=client, counts=counts, lease=lease)
            if push is not None and push.state == InventoryPush.State.BUILDING:
                failures += _push_continue(push=push, client=client, lease=lease, counts=counts)
            elif push is not None:
                ctx.notes = (
                    f"Push {push.pk} would set {push.zeroing} of the store's SKUs to 0 "
                    f"({push.zeroing_share:.0%}); it waits for confirmation in the admin."
                )
        else:
            ctx.notes = "Amazon is still processing an earlier feed; this run polled it and will poll again."
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
    zeroing = sum(
        1
        for sku, availability in to_send.items()
        if availability.quantity == 0 and (known.get(sku) is None or (known[sku].accepted or (None,))[0] != 0)
    )
    guard = store_inventory_settings_for(store=store)
    share = zeroing / len(desired) if desired else 0.0
    # At any catalog size: one SKU selling out in a store of several is never
    # held; a one-SKU store confirms its SKU going to 0 (its whole catalog).
    held = zeroing >= min(2, len(desired)) and share * 100 > guard.zero_guard_percent
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
            zeroing=zeroing,
            zeroing_share=share,
        )
        InventoryFeed.objects.bulk_create(
            InventoryFeed(push=push, sequence=n, message_count=len(chunk), items=list(chunk))
            for n, chunk in enumerate(feeds.feed_chunks(items, size=feeds.FEED_MAX_MESSAGES), start=1)
        )
    if held:
        counts["held_for_confirmation"] += len(items)
    return push


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


# --- sending ------------------------------------------------------------------------------


def _push_continue(
    *, push: InventoryPush, client: AmazonClient, lease: JobLease, counts: Counter[str]
) -> list[str]:
    """Move a BUILDING or SUBMITTED push as far as it goes; returns failure messages."""
    rows = list(push.feed_rows.order_by("sequence"))
    failures: list[str] = []
    if push.method == InventoryPush.Method.PATCH:
        for row in rows:
            if row.state == InventoryFeed.State.PLANNED:
                # A merge of the same values is idempotent: a resumed patch push simply sends again.
                _patch_send(feed=row, client=client, counts=counts)
    else:
        if push.state == InventoryPush.State.BUILDING:
            InventoryPush.objects.filter(pk=push.pk).update(state=InventoryPush.State.SUBMITTED)
            push.state = InventoryPush.State.SUBMITTED
        for row in rows:
            if row.state == InventoryFeed.State.PLANNED:
                try:
                    _feed_submit(feed=row, client=client, counts=counts)
                except feeds.FeedDocumentInvalid as exc:
                    _feed_record(
                        feed=row,
                        outcome=feeds.FeedOutcome(fatal=True, feed_errors=[f"Invalid feed document: {exc}"]),
                        state=InventoryFeed.State.FATAL,
                        counts=counts,
                    )
                lease.renew()
        for row in rows:
            if row.state == InventoryFeed.State.SUBMITTED:
                _feed_await(feed=row, client=client, lease=lease, counts=counts)
    if any(row.state in (InventoryFeed.State.PLANNED, InventoryFeed.State.SUBMITTED) for row in rows):
        return failures
    fatal = [row for row in rows if row.state in (InventoryFeed.State.FATAL, InventoryFeed.State.CANCELLED)]
    for row in fatal:
        failures.append(f"feed {row.feed_id or row.sequence}: {row.error or row.get_state_display()}")
    push.accepted = sum(row.accepted for row in rows)
    push.rejected = sum(row.rejected for row in rows)
    push.state = InventoryPush.State.FAILED if fatal else InventoryPush.State.DONE
    push.error = "; ".join(failures)[:4000]
    push.finished_at = timezone.now()
    push.save(update_fields=["accepted", "rejected", "state", "error", "finished_at"])
    return failures


def _patch_send(*, feed: InventoryFeed, client: AmazonClient, counts: Counter[str]) -> None:
    outcome = feeds.FeedOutcome()
    for message_id, (sku, quantity, lead, channel) in enumerate(feed.items, start=1):
        counts["sent"] += 1
        try:
            body = feeds.patch_request_build(quantity=quantity, lead_time=lead, channel_code=channel)
        except feeds.FeedDocumentInvalid as exc:
            outcome.errors[message_id] = [f"Invalid patch request: {exc}"]
            continue
        try:
            answer = client.patch_listings_item(sku, body=body)
        except PermanentAmazonError as exc:
            store_reauthorization_record(store=feed.push.store, error=exc)
            outcome.errors[message_id] = [exc.message + (f" ({exc.code})" if exc.code else "")]
            continue
        if answer.get("status") != "ACCEPTED":
            outcome.errors[message_id] = [
                f"{i.get('message')} ({i.get('code')})"
                for i in answer.get("issues") or []
                if i.get("severity") == "ERROR"
            ] or [f"Amazon answered {answer.get('status')}."]
    _feed_record(feed=feed, outcome=outcome, state=InventoryFeed.State.DONE, counts=counts)


def _feed_submit(*, feed: InventoryFeed, client: AmazonClient, counts: Counter[str]) -> None:
    """Validate, upload and create one feed; saves the ids so a crash after this polls, not resends."""
    content = feeds.feed_document_bytes(seller_id=feed.push.store.selling_partner_id, items=feed.items)
    document = client.create_feed_document(content_type=feeds.CONTENT_TYPE)
    feed.feed_document_id = str(document.get("feedDocumentId") or "")
    client.upload_feed_document(url=document["url"], content=content, content_type=feeds.CONTENT_TYPE)
    feed.feed_id = client.create_feed(feed_type=feeds.FEED_TYPE, input_feed_document_id=feed.feed_document_id)
    feed.state = InventoryFeed.State.SUBMITTED
    feed.submitted_at = timezone.now()
    feed.save(update_fields=["feed_document_id", "feed_id", "state", "submitted_at"])
    counts["sent"] += feed.message_count
    counts["feeds"] += 1


_TERMINAL = {"DONE", "FATAL", "CANCELLED"}


def _feed_await(*, feed: InventoryFeed, client: AmazonClient, lease: JobLease, counts: Counter[str]) -> None:
    """Poll getFeed until Amazon finishes (bounded); then read its processing report."""
    deadline = time.monotonic() + settings.INVENTORY_FEED_MAX_WAIT_SECONDS
    while True:
        info = client.get_feed(feed.feed_id)
        status = info.get("processingStatus")
        if status in _TERMINAL:
            break
        if time.monotonic() >= deadline:
            counts["pending_feeds"] += 1  # the next run polls it again
            return
        _sleep(settings.INVENTORY_FEED_POLL_SECONDS)
        lease.renew()
    if status == "CANCELLED":
        outcome = feeds.FeedOutcome(fatal=True, feed_errors=["Amazon cancelled the feed."])
        _feed_record(feed=feed, outcome=outcome, state=InventoryFeed.State.CANCELLED, counts=counts)
        return
    report_id = info.get("resultFeedDocumentId") or ""
    if report_id:
        feed.report_document_id = report_id
        outcome = feeds.processing_report_read(client.get_feed_document(report_id), fatal=status == "FATAL")
    else:
        outcome = feeds.FeedOutcome(fatal=True, feed_errors=["Amazon gave no processing report."])
    state = InventoryFeed.State.FATAL if outcome.fatal else InventoryFeed.State.DONE
    _feed_record(feed=feed, outcome=outcome, state=state, counts=counts)


def _feed_record(
    *, feed: InventoryFeed, outcome: feeds.FeedOutcome, state: str, counts: Counter[str]
) -> None:
    """Store per SKU what Amazon now has (accepted) or why it refused, and close the feed."""
    now = timezone.now()
    store_id = feed.push.store_id
    accepted_ids = set(outcome.accepted_ids(feed.message_count))
    feed_error = "; ".join(outcome.feed_errors)
    accepted_rows, error_rows = [], []
    for message_id, (sku, quantity, lead, channel) in enumerate(feed.items, start=1):
        if message_id in accepted_ids:
            accepted_rows.append(
                ListingState(
                    store_id=store_id,
                    sku=sku,
                    quantity=quantity,
                    lead_time=lead,
                    channel_code=channel,
                    accepted_at=now,
                    last_feed=feed,
                    last_error="",
                    last_error_at=None,
                )
            )
        else:
            text = "; ".join(outcome.errors.get(message_id, [])) or feed_error or "Not accepted by Amazon."
            error_rows.append(
                ListingState(
                    store_id=store_id, sku=sku, last_feed=feed, last_error=text[:2000], last_error_at=now
                )
            )
    with transaction.atomic():
        if accepted_rows:
            ListingState.objects.bulk_create(
                accepted_rows,
                update_conflicts=True,
                unique_fields=["store", "sku"],
                update_fields=[
                    "quantity",
                    "lead_time",
                    "channel_code",
                    "accepted_at",
                    "last_feed",
                    "last_error",
                    "last_error_at",
                ],
                batch_size=_UPSERT_BATCH,
            )
        if error_rows:
            # What Amazon last accepted stays; only the refusal is recorded.
            ListingState.objects.bulk_create(
                error_rows,
                update_conflicts=True,
                unique_fields=["store", "sku"],
                update_fields=["last_feed", "last_error", "last_error_at"],
                batch_size=_UPSERT_BATCH,
            )
        feed.state = state
        feed.accepted = len(accepted_rows)
        feed.rejected = len(error_rows)
        feed.error = feed_error[:4000]
        feed.processed_at = now
        feed.save(
            update_fields=["state", "accepted", "rejected", "error", "processed_at", "report_document_id"]
        )
    counts["accepted"] += feed.accepted
    counts["rejected"] += feed.rejected


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


def inventory_push_cancel(*, push: InventoryPush) -> bool:
    return bool(
        InventoryPush.objects.filter(pk=push.pk, state=InventoryPush.State.AWAITING_CONFIRMATION).update(
            state=InventoryPush.State.CANCELLED, finished_at=timezone.now(), error="Cancelled by a person."
        )
    )
