"""Sending a push: each feed row is a queue row of the outbound base
(fulfillment.core.outbound), tried when its `not_before` has passed.

One attempt of a feed is its upload (validate, createFeedDocument, upload,
createFeed), a poll round that gets Amazon's answer (getFeed until done,
then the processing report), or, for a handful of SKUs, a round of
patchListingsItem calls. The status code of Amazon's last answer and the
duration go into the feed's attempt history.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from connections.amazon import AmazonClient, AmazonError, PermanentAmazonError, ReauthorizationRequired
from connections.services import store_reauthorization_record
from fulfillment.core.outbound import Attempt
from fulfillment.inventory import feeds
from fulfillment.inventory.models import InventoryFeed, InventoryPush, ListingState
from fulfillment.jobs.locks import JobLease

if TYPE_CHECKING:
    from collections import Counter

ATTEMPT_FIELDS = InventoryFeed.ATTEMPT_FIELDS
_UPSERT_BATCH = 5000
_sleep = time.sleep  # tests replace it


def push_continue(
    *, push: InventoryPush, client: AmazonClient, lease: JobLease, counts: Counter[str]
) -> list[str]:
    """Move a BUILDING or SUBMITTED push as far as it goes; returns failure messages.

    Only feeds whose `not_before` has passed are tried: a feed that failed
    waits for its backoff (fulfillment.core.outbound) and the push with it.
    """
    rows = list(push.feed_rows.order_by("sequence"))
    failures: list[str] = []
    now = timezone.now()
    if push.method == InventoryPush.Method.PATCH:
        for row in rows:
            if row.state == InventoryFeed.State.PLANNED and row.not_before <= now:
                # A merge of the same values is idempotent: a resumed patch push simply sends again.
                failures += _feed_attempt(row, _patch_send, client=client, counts=counts)
    else:
        if push.state == InventoryPush.State.BUILDING:
            InventoryPush.objects.filter(pk=push.pk).update(state=InventoryPush.State.SUBMITTED)
            push.state = InventoryPush.State.SUBMITTED
        for row in rows:
            if row.state == InventoryFeed.State.PLANNED and row.not_before <= now:
                failures += _feed_attempt(row, _feed_submit, client=client, counts=counts)
                lease.renew()
        for row in rows:
            if row.state == InventoryFeed.State.SUBMITTED and row.not_before <= now:
                failures += _feed_attempt(row, _feed_await, client=client, counts=counts, lease=lease)
    unfinished = sum(row.state in InventoryFeed.waiting_states for row in rows)
    if unfinished:
        counts["pending_feeds"] += unfinished  # the next run goes on with them
        return failures
    fatal = [row for row in rows if row.state in (InventoryFeed.State.FATAL, InventoryFeed.State.CANCELLED)]
    for row in fatal:
        failures.append(f"feed {row.feed_id or row.sequence}: {row.last_error or row.get_state_display()}")
    push.accepted = sum(row.accepted for row in rows)
    push.rejected = sum(row.rejected for row in rows)
    push.rejected_skus = push_rejected_skus(push=push) if push.rejected else []
    push.state = push_outcome(push=push, fatal=bool(fatal))
    refused = ""
    if push.rejected and not fatal:
        listed = ", ".join(sku for sku, _ in push.rejected_skus[:10])
        more = "…" if push.rejected > 10 else ""
        refused = f"Amazon refused {push.rejected} of {push.rejected + push.accepted} SKU(s): {listed}{more}"
    push.error = "; ".join(filter(None, [*failures, refused]))[:4000]
    push.finished_at = timezone.now()
    push.save(update_fields=["accepted", "rejected", "rejected_skus", "state", "error", "finished_at"])
    return failures


def push_outcome(*, push: InventoryPush, fatal: bool) -> str:
    """Failed when a feed failed or Amazon refused every SKU; partly failed when it refused some."""
    if fatal or (push.rejected and not push.accepted):
        return InventoryPush.State.FAILED
    if push.rejected:
        return InventoryPush.State.PARTLY_FAILED
    return InventoryPush.State.DONE


def push_rejected_skus(*, push: InventoryPush) -> list[list[str]]:
    """[[sku, Amazon's message], ...] of the push's refused SKUs, as just recorded per SKU."""
    rows = (
        ListingState.objects.filter(last_feed__push=push)
        .exclude(last_error="")
        .order_by("sku")
        .values_list("sku", "last_error")[: InventoryPush.REJECTED_SKUS_KEPT]
    )
    return [[sku, error] for sku, error in rows]


def _feed_attempt(feed: InventoryFeed, step, *, counts: Counter[str], **kw) -> list[str]:
    """One attempt of a feed: an upload, a poll round, or a round of patches (`step`).

    Amazon refusing or failing (other than the store's authorization, which
    stops the run) is recorded on the feed: it waits for its backoff, or, out
    of attempts, is given up (FATAL: its SKUs count as not accepted and the
    next push sends them again). Returns the failure to report, if any.
    """
    attempt = feed.attempt_started()
    try:
        step(feed=feed, attempt=attempt, counts=counts, **kw)
    except ReauthorizationRequired:
        raise
    except AmazonError as exc:
        error = str(exc)
        if feed.attempt_failed(attempt, error=error, retryable=True, code=exc.status):
            feed.save(update_fields=[*ATTEMPT_FIELDS])
            when = timezone.localtime(feed.not_before).strftime("%Y-%m-%d %H:%M %Z")
            return [f"feed {feed.feed_id or feed.sequence}: {error} (tried again from {when})"]
        given_up = f"Gave up after {feed.attempts} attempts. Last error: {error}"
        _feed_record(
            feed=feed,
            outcome=feeds.FeedOutcome(fatal=True, feed_errors=[given_up]),
            state=InventoryFeed.State.FATAL,
            counts=counts,
        )
    return []


def _patch_send(*, feed: InventoryFeed, attempt: Attempt, client: AmazonClient, counts: Counter[str]) -> None:
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
    # Amazon answered every SKU (its refusals are per SKU, in ListingState).
    feed.attempt_succeeded(attempt, code=client.last_status)
    _feed_record(feed=feed, outcome=outcome, state=InventoryFeed.State.DONE, counts=counts)


def _feed_submit(
    *, feed: InventoryFeed, attempt: Attempt, client: AmazonClient, counts: Counter[str]
) -> None:
    """Validate, upload and create one feed; saves the ids so a crash after this polls, not resends."""
    try:
        content = feeds.feed_document_bytes(seller_id=feed.push.store.selling_partner_id, items=feed.items)
    except feeds.FeedDocumentInvalid as exc:
        error = f"Invalid feed document: {exc}"
        feed.attempt_failed(attempt, error=error, retryable=False)
        outcome = feeds.FeedOutcome(fatal=True, feed_errors=[error])
        _feed_record(feed=feed, outcome=outcome, state=InventoryFeed.State.FATAL, counts=counts)
        return
    document = client.create_feed_document(content_type=feeds.CONTENT_TYPE)
    feed.feed_document_id = str(document.get("feedDocumentId") or "")
    client.upload_feed_document(url=document["url"], content=content, content_type=feeds.CONTENT_TYPE)
    feed.feed_id = client.create_feed(feed_type=feeds.FEED_TYPE, input_feed_document_id=feed.feed_document_id)
    feed.attempt_succeeded(attempt, code=client.last_status)
    feed.state = InventoryFeed.State.SUBMITTED
    feed.submitted_at = timezone.now()
    feed.save(update_fields=["feed_document_id", "feed_id", "state", "submitted_at", *ATTEMPT_FIELDS])
    counts["sent"] += feed.message_count
    counts["feeds"] += 1


_TERMINAL = {"DONE", "FATAL", "CANCELLED"}


def _feed_await(
    *, feed: InventoryFeed, attempt: Attempt, client: AmazonClient, lease: JobLease, counts: Counter[str]
) -> None:
    """Poll getFeed until Amazon finishes (bounded); then read its processing report."""
    deadline = time.monotonic() + settings.INVENTORY_FEED_MAX_WAIT_SECONDS
    while True:
        info = client.get_feed(feed.feed_id)
        status = info.get("processingStatus")
        if status in _TERMINAL:
            break
        if time.monotonic() >= deadline:
            # Still processing: nothing went wrong, so not an attempt (a slow
            # Amazon must not use up the feed's attempts). The next run polls again.
            feed.attempt_deferred(until=feed.not_before)
            return
        _sleep(settings.INVENTORY_FEED_POLL_SECONDS)
        lease.renew()
    if status == "CANCELLED":
        error = "Amazon cancelled the feed."
        feed.attempt_failed(attempt, error=error, retryable=False, code=client.last_status)
        outcome = feeds.FeedOutcome(fatal=True, feed_errors=[error])
        _feed_record(feed=feed, outcome=outcome, state=InventoryFeed.State.CANCELLED, counts=counts)
        return
    report_id = info.get("resultFeedDocumentId") or ""
    if report_id:
        feed.report_document_id = report_id
        outcome = feeds.processing_report_read(client.get_feed_document(report_id), fatal=status == "FATAL")
    else:
        outcome = feeds.FeedOutcome(fatal=True, feed_errors=["Amazon gave no processing report."])
    if outcome.fatal:
        error = "; ".join(outcome.feed_errors) or f"Amazon ended the feed {status}."
        feed.attempt_failed(attempt, error=error, retryable=False, code=client.last_status)
    else:
        feed.attempt_succeeded(attempt, code=client.last_status)
    state = InventoryFeed.State.FATAL if outcome.fatal else InventoryFeed.State.DONE
    _feed_record(feed=feed, outcome=outcome, state=state, counts=counts)


def _feed_record(
    *, feed: InventoryFeed, outcome: feeds.FeedOutcome, state: str, counts: Counter[str]
) -> None:
    """Store per SKU what Amazon now has (accepted) or why it refused, and close the feed
    (with the attempt the caller recorded on it)."""
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
        # The feed-level issues of Amazon's report (or why the feed failed).
        feed.last_error = feed_error[:4000]
        feed.processed_at = now
        feed.save(
            update_fields=[
                "state",
                "accepted",
                "rejected",
                "processed_at",
                "report_document_id",
                *ATTEMPT_FIELDS,
            ]
        )
    counts["accepted"] += feed.accepted
    counts["rejected"] += feed.rejected
