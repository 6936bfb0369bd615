"""Sending a push: feeds (validate, upload, create, poll, read the processing
report) or, for a handful of SKUs, patchListingsItem; what Amazon accepted
or refused is recorded per SKU."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.amazon import AmazonClient, PermanentAmazonError
from fulfillment.inventory import feeds
from fulfillment.inventory.models import InventoryFeed, InventoryPush, ListingState
from fulfillment.jobs.locks import JobLease

if TYPE_CHECKING:
    from fulfillment.inventory.services import PushCounts

_UPSERT_BATCH = 5000
_sleep = time.sleep  # tests replace it


def push_continue(
    *, push: InventoryPush, client: AmazonClient, lease: JobLease, counts: PushCounts
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


def _patch_send(*, feed: InventoryFeed, client: AmazonClient, counts: PushCounts) -> None:
    outcome = feeds.FeedOutcome()
    for message_id, (sku, quantity, lead, channel) in enumerate(feed.items, start=1):
        counts.sent += 1
        try:
            body = feeds.patch_request_build(quantity=quantity, lead_time=lead, channel_code=channel)
        except feeds.FeedDocumentInvalid as exc:
            outcome.errors[message_id] = [f"Invalid patch request: {exc}"]
            continue
        try:
            answer = client.patch_listings_item(sku, body=body)
        except PermanentAmazonError as exc:
            outcome.errors[message_id] = [exc.message + (f" ({exc.code})" if exc.code else "")]
            continue
        if answer.get("status") != "ACCEPTED":
            outcome.errors[message_id] = [
                f"{i.get('message')} ({i.get('code')})"
                for i in answer.get("issues") or []
                if i.get("severity") == "ERROR"
            ] or [f"Amazon answered {answer.get('status')}."]
    _feed_record(feed=feed, outcome=outcome, state=InventoryFeed.State.DONE, counts=counts)


def _feed_submit(*, feed: InventoryFeed, client: AmazonClient, counts: PushCounts) -> None:
    """Validate, upload and create one feed; saves the ids so a crash after this polls, not resends."""
    content = feeds.feed_document_bytes(seller_id=feed.push.store.selling_partner_id, items=feed.items)
    document = client.create_feed_document(content_type=feeds.CONTENT_TYPE)
    feed.feed_document_id = str(document.get("feedDocumentId") or "")
    client.upload_feed_document(url=document["url"], content=content, content_type=feeds.CONTENT_TYPE)
    feed.feed_id = client.create_feed(feed_type=feeds.FEED_TYPE, input_feed_document_id=feed.feed_document_id)
    feed.state = InventoryFeed.State.SUBMITTED
    feed.submitted_at = timezone.now()
    feed.save(update_fields=["feed_document_id", "feed_id", "state", "submitted_at"])
    counts.sent += feed.message_count
    counts.feeds += 1


_TERMINAL = {"DONE", "FATAL", "CANCELLED"}


def _feed_await(*, feed: InventoryFeed, client: AmazonClient, lease: JobLease, counts: PushCounts) -> None:
    """Poll getFeed until Amazon finishes (bounded); then read its processing report."""
    deadline = time.monotonic() + settings.INVENTORY_FEED_MAX_WAIT_SECONDS
    while True:
        info = client.get_feed(feed.feed_id)
        status = info.get("processingStatus")
        if status in _TERMINAL:
            break
        if time.monotonic() >= deadline:
            counts.pending_feeds += 1  # the next run polls it again
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


def _feed_record(*, feed: InventoryFeed, outcome: feeds.FeedOutcome, state: str, counts: PushCounts) -> None:
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
    counts.accepted += feed.accepted
    counts.rejected += feed.rejected
