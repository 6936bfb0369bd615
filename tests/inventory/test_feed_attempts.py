"""Each feed of a push is a row of the outbound queue base: its upload and its
polls are attempts with Amazon's status code and the duration; an Amazon error
waits for the backoff instead of failing every run, and gives up in the end."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fulfillment.inventory.models import InventoryFeed, InventoryPush, ListingState
from fulfillment.inventory.services import inventory_feeds_retry, inventory_push_run
from sandbox.models import SandboxFeed, SandboxListing


def _history(feed: InventoryFeed) -> list[tuple]:
    feed.refresh_from_db()
    return [(e["n"], e["outcome"], e["response_code"]) for e in feed.attempt_history]


def _due_now():
    InventoryFeed.objects.update(not_before=timezone.now() - dt.timedelta(seconds=1))


@pytest.fixture
def pushed_once(store, sku, stock, settings):
    """MUG on Amazon with 5 (its channel read), then the warehouse has 4: the next push sends it."""
    settings.SP_API_MAX_ATTEMPTS = 1  # a 5xx goes back to the queue, which owns the backoff
    sku("MUG", available=5)
    assert inventory_push_run(store=store).ok
    stock("MUG", 4)


@pytest.mark.usefixtures("feeds_only")
def test_the_upload_and_the_poll_are_two_attempts_with_amazons_codes(store, sku):
    # given
    sku("MUG", available=5)

    # when: run twice
    first = inventory_push_run(store=store)
    second = inventory_push_run(store=store)

    # then: createFeed's 202, then the processing report's download (200); nothing more
    assert first.ok and second.counts["sent"] == 0
    feed = InventoryFeed.objects.get()
    assert _history(feed) == [(1, "ok", 202), (2, "ok", 200)]
    assert all(isinstance(e["duration_ms"], int) and e["duration_ms"] >= 0 for e in feed.attempt_history)
    assert (feed.state, feed.attempts, feed.last_error) == (InventoryFeed.State.DONE, 2, "")


def test_a_round_of_patches_is_one_attempt(store, sku):
    sku("MUG", available=5)

    inventory_push_run(store=store)
    inventory_push_run(store=store)

    assert _history(InventoryFeed.objects.get()) == [(1, "ok", 200)]


@pytest.mark.usefixtures("feeds_only")
def test_a_feed_amazon_is_still_processing_spends_no_attempt(store, sku, settings):
    settings.SANDBOX_FEED_PROCESSING_SECONDS = 3600
    settings.INVENTORY_FEED_MAX_WAIT_SECONDS = 0
    sku("MUG", available=5)

    first = inventory_push_run(store=store)
    second = inventory_push_run(store=store)

    feed = InventoryFeed.objects.get()
    assert _history(feed) == [(1, "ok", 202)]
    assert first.ok and second.ok and second.counts["pending_feeds"] == 1
    assert "not finished" in second.notes


@pytest.mark.usefixtures("feeds_only", "pushed_once")
def test_an_amazon_error_waits_for_the_backoff_then_the_feed_goes(store, sandbox_faults):
    # given: Amazon fails the upload
    sandbox_faults(error_rate=1.0)
    failed = inventory_push_run(store=store)
    feed = InventoryFeed.objects.latest("pk")
    assert not failed.ok and "tried again from" in failed.error
    ((n, outcome, code),) = _history(feed)
    assert (n, outcome, feed.state) == (1, "retry", InventoryFeed.State.PLANNED) and code >= 500
    assert feed.not_before > timezone.now()

    # when: Amazon recovers, but the backoff has not passed (twice)
    sandbox_faults(error_rate=0.0)
    waiting = [inventory_push_run(store=store) for _ in range(2)]

    # then: not tried, no new push planned on top of it
    assert all(run.ok and run.api_calls == 0 and run.counts["pending_feeds"] == 1 for run in waiting)
    assert InventoryPush.objects.count() == 2 and len(_history(feed)) == 1

    # when: the backoff has passed (twice)
    _due_now()
    sent = inventory_push_run(store=store)
    inventory_push_run(store=store)

    # then
    assert sent.ok and sent.counts["accepted"] == 1
    assert _history(feed) == [(1, "retry", code), (2, "ok", 202), (3, "ok", 200)]
    assert SandboxListing.objects.get(sku="MUG").quantity == 4
    assert InventoryPush.objects.latest("pk").state == InventoryPush.State.DONE


@pytest.mark.usefixtures("feeds_only", "pushed_once")
def test_a_feed_that_keeps_failing_is_given_up_and_a_new_push_sends_its_skus(store, sandbox_faults, settings):
    # given
    settings.INVENTORY_FEED_MAX_ATTEMPTS = 2
    sandbox_faults(error_rate=1.0)
    inventory_push_run(store=store)
    feed = InventoryFeed.objects.latest("pk")

    # when: its second attempt fails too
    _due_now()
    gave_up = inventory_push_run(store=store)

    # then: given up, its push failed, the SKU says why
    assert [outcome for _, outcome, _ in _history(feed)] == ["retry", "failed"]
    assert feed.state == InventoryFeed.State.FATAL and "Gave up after 2 attempts" in feed.last_error
    assert feed.push.state == InventoryPush.State.FAILED and not gave_up.ok
    assert "Gave up after 2 attempts" in ListingState.objects.get(sku="MUG").last_error
    # the same run planned a new push from the current stock; its feed waits for its own backoff
    newer = InventoryFeed.objects.latest("pk")
    assert newer.pk != feed.pk and newer.state == InventoryFeed.State.PLANNED

    # when: Amazon recovers and the backoff has passed (run twice)
    sandbox_faults(error_rate=0.0)
    _due_now()
    again = inventory_push_run(store=store)
    inventory_push_run(store=store)

    # then: the new push sent what Amazon had not accepted, once
    assert again.ok and again.counts["sent"] == 1 and again.counts["accepted"] == 1
    assert SandboxListing.objects.get(sku="MUG").quantity == 4
    assert SandboxFeed.objects.count() == 2  # the first push's and this one
    assert InventoryPush.objects.latest("pk").state == InventoryPush.State.DONE


@pytest.mark.usefixtures("feeds_only", "pushed_once")
def test_a_manual_retry_makes_a_waiting_feed_due_and_leaves_finished_ones(
    store, sandbox_faults, monkeypatch, django_capture_on_commit_callbacks
):
    # given: a feed waiting after an error, and the first push's finished feed
    sandbox_faults(error_rate=1.0)
    inventory_push_run(store=store)
    waiting, done = InventoryFeed.objects.latest("pk"), InventoryFeed.objects.earliest("pk")
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args: queued.append(args))

    # when
    with django_capture_on_commit_callbacks(execute=True):
        retried = inventory_feeds_retry(feed_ids=[waiting.pk, done.pk])

    # then: the waiting one is due with fresh attempts and its history; the push is queued
    waiting.refresh_from_db()
    assert retried == 1 and queued == [(store.pk,)]
    assert (waiting.attempts, waiting.last_error, len(waiting.attempt_history)) == (0, "", 1)
    assert list(InventoryFeed.objects.due()) == [waiting]
    assert InventoryFeed.objects.get(pk=done.pk).state == InventoryFeed.State.DONE
