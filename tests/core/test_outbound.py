"""The outbound queue base (fulfillment/core/outbound.py): backoff bounds with full
jitter, the attempt history's cap, giving up, deferring and the manual retry.

WebhookDelivery stands in for every queue: the three share these methods."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from django.utils import timezone

from fulfillment.core import outbound
from fulfillment.core.outbound import HISTORY_LIMIT, RetryPolicy
from fulfillment.inventory.models import InventoryFeed
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.wms.models import WebhookDelivery
from tests.wms.factories import make_delivery

POLICY = RetryPolicy(
    base=dt.timedelta(minutes=1), cap=dt.timedelta(hours=1), max_attempts_setting="WMS_WEBHOOK_MAX_ATTEMPTS"
)


@pytest.fixture
def real_jitter(monkeypatch):
    # tests/conftest.py pins the draw at 1.0; these tests check the draw itself.
    rng = random.Random(18)
    monkeypatch.setattr(outbound, "_jitter", rng.random)


# --- Backoff ------------------------------------------------------------------------------


def test_the_window_doubles_from_the_base_up_to_the_cap():
    windows = [POLICY.window(n).total_seconds() for n in range(1, 9)]

    assert windows == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert POLICY.window(0) == POLICY.window(1)  # a first failure never waits less
    assert POLICY.window(30_000) == dt.timedelta(hours=1)  # no overflow, however many attempts


@pytest.mark.usefixtures("real_jitter")
@pytest.mark.parametrize("attempts", [1, 3, 7, 12])
def test_each_wait_is_drawn_from_zero_to_the_whole_window(attempts):
    window = POLICY.window(attempts).total_seconds()

    waits = [POLICY.backoff(attempts).total_seconds() for _ in range(400)]

    assert all(0 <= w <= window for w in waits)
    # Full jitter: spread over the whole window, not bunched at its top (rows
    # that failed together in an outage come back spread out).
    assert min(waits) < window * 0.1 and max(waits) > window * 0.9
    assert len(set(waits)) > 390


def test_the_three_queues_back_off_within_their_own_bounds(settings):
    bounds = {
        ShipmentConfirmation: (dt.timedelta(minutes=1), dt.timedelta(hours=1), "CONFIRMATION_MAX_ATTEMPTS"),
        WebhookDelivery: (dt.timedelta(minutes=1), dt.timedelta(hours=6), "WMS_WEBHOOK_MAX_ATTEMPTS"),
        InventoryFeed: (dt.timedelta(minutes=1), dt.timedelta(hours=1), "INVENTORY_FEED_MAX_ATTEMPTS"),
    }
    for model, (base, cap, setting) in bounds.items():
        policy = model.retry_policy
        assert (policy.base, policy.cap, policy.max_attempts_setting) == (base, cap, setting)
        assert policy.max_attempts == getattr(settings, setting) == 8


# --- One attempt --------------------------------------------------------------------------


def test_a_failure_waits_its_backoff_and_records_code_duration_and_error(db, monkeypatch):
    # given
    monkeypatch.setattr(outbound, "_jitter", lambda: 0.5)
    delivery = make_delivery()
    now = timezone.now()

    # when
    attempt = delivery.attempt_started(now=now)
    again = delivery.attempt_failed(attempt, code=503, error="HTTP 503 from the webhook", retryable=True)

    # then
    assert again
    assert (delivery.attempts, delivery.last_attempt_at) == (1, now)
    assert delivery.not_before == now + dt.timedelta(seconds=30)  # half of the first minute
    assert delivery.last_error == "HTTP 503 from the webhook"
    (entry,) = delivery.attempt_history
    assert entry["n"] == 1 and entry["at"] == now.isoformat()
    assert (entry["outcome"], entry["response_code"], entry["error"]) == (
        "retry",
        503,
        "HTTP 503 from the webhook",
    )
    assert isinstance(entry["duration_ms"], int) and entry["duration_ms"] >= 0


def test_a_success_clears_the_last_error_and_keeps_the_history(db):
    delivery = make_delivery()
    delivery.attempt_failed(delivery.attempt_started(), code=500, error="HTTP 500", retryable=True)

    delivery.attempt_succeeded(delivery.attempt_started(), code=200)

    assert (delivery.attempts, delivery.last_error) == (2, "")
    assert [(e["n"], e["outcome"], e["response_code"]) for e in delivery.attempt_history] == [
        (1, "retry", 500),
        (2, "ok", 200),
    ]


def test_it_gives_up_after_the_last_attempt_and_at_once_when_not_retryable(db, settings):
    settings.WMS_WEBHOOK_MAX_ATTEMPTS = 2
    delivery = make_delivery()
    refused = make_delivery()
    refused_not_before = refused.not_before

    first = delivery.attempt_failed(delivery.attempt_started(), error="timeout", retryable=True)
    second = delivery.attempt_failed(delivery.attempt_started(), error="timeout", retryable=True)
    final = refused.attempt_failed(refused.attempt_started(), code=400, error="bad", retryable=False)

    assert (first, second, final) == (True, False, False)
    assert [e["outcome"] for e in delivery.attempt_history] == ["retry", "failed"]
    # Given up: no next try is scheduled.
    assert refused.not_before == refused_not_before
    assert [(e["outcome"], e["response_code"]) for e in refused.attempt_history] == [("failed", 400)]


def test_a_deferred_try_gives_the_attempt_back(db):
    delivery = make_delivery(attempts=3)
    later = timezone.now() + dt.timedelta(hours=1)

    delivery.attempt_started()
    delivery.attempt_deferred(until=later, error="The store must be authorized again.")

    assert (delivery.attempts, delivery.not_before) == (3, later)
    assert delivery.last_error == "The store must be authorized again."
    assert delivery.attempt_history == []  # not an attempt: nothing to remember


def test_the_history_keeps_the_last_attempts_only(db, settings):
    settings.WMS_WEBHOOK_MAX_ATTEMPTS = 100
    delivery = make_delivery()

    for n in range(1, HISTORY_LIMIT + 6):
        delivery.attempt_failed(
            delivery.attempt_started(), code=500, error=f"failure {n} " + "x" * 900, retryable=True
        )
    delivery.save()

    delivery.refresh_from_db()
    assert len(delivery.attempt_history) == HISTORY_LIMIT
    assert [e["n"] for e in delivery.attempt_history] == list(range(6, HISTORY_LIMIT + 6))
    assert all(len(e["error"]) <= outbound.HISTORY_ERROR_LIMIT for e in delivery.attempt_history)
    assert delivery.last_error.startswith(f"failure {HISTORY_LIMIT + 5} ")


# --- The queue ------------------------------------------------------------------------------


def test_due_rows_are_waiting_rows_whose_not_before_has_passed(db):
    now = timezone.now()
    due = make_delivery(not_before=now - dt.timedelta(seconds=1))
    make_delivery(not_before=now + dt.timedelta(minutes=1))  # backing off
    make_delivery(not_before=now - dt.timedelta(hours=1), status=WebhookDelivery.Status.FAILED)

    assert list(WebhookDelivery.objects.due(now)) == [due]


def test_a_claim_counts_the_attempt_once_between_two_workers(db):
    delivery = make_delivery(not_before=timezone.now() - dt.timedelta(seconds=1))
    now = timezone.now()

    first = WebhookDelivery.objects.claim(delivery.pk, now=now, not_before=now + dt.timedelta(seconds=30))
    second = WebhookDelivery.objects.claim(delivery.pk, now=now, not_before=now + dt.timedelta(seconds=30))

    delivery.refresh_from_db()
    assert (first, second) == (True, False)
    assert (delivery.attempts, delivery.last_attempt_at) == (1, now)


def test_a_manual_retry_is_due_now_with_fresh_attempts_and_keeps_the_history(db, settings):
    # given: a delivery that gave up
    settings.WMS_WEBHOOK_MAX_ATTEMPTS = 1
    delivery = make_delivery()
    delivery.attempt_failed(delivery.attempt_started(), code=500, error="HTTP 500", retryable=True)
    delivery.status = WebhookDelivery.Status.FAILED
    delivery.save()
    now = timezone.now()

    # when
    retried = WebhookDelivery.objects.filter(pk=delivery.pk).retry(
        now=now, status=WebhookDelivery.Status.PENDING
    )

    # then
    delivery.refresh_from_db()
    assert retried == 1
    assert (delivery.status, delivery.attempts, delivery.not_before, delivery.last_error) == (
        "pending",
        0,
        now,
        "",
    )
    assert [e["error"] for e in delivery.attempt_history] == ["HTTP 500"]
    assert list(WebhookDelivery.objects.due(now)) == [delivery]
