"""ORDER_CHANGE notifications end to end: the sandbox publishes to a real SQS
(moto's server), the consumer imports through the download's own path.
Every sync runs twice: the second finds nothing to do."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.management import call_command

from connections.amazon import sqs
from connections.models import Marketplace, Store
from fulfillment.jobs.models import SyncRun
from fulfillment.orders.models import NotificationReceipt, Order
from fulfillment.orders.services import notifications as consumer
from fulfillment.orders.services.notifications import (
    notification_dead_letter_retry,
    notifications_consume_once,
)
from sandbox.models import SandboxFaults, SandboxOrder
from sandbox.notifications import order_change_message
from sandbox.orders import sandbox_order_cancel, sandbox_orders_place

Outcome = NotificationReceipt.Outcome


def _consume():
    return notifications_consume_once(wait_seconds=0)


def _place(publish, seller, count=1):
    return publish(sandbox_orders_place, seller=seller, count=count)


def test_a_notification_releases_its_order_without_any_scheduled_download(
    subscribed, sandbox_seller, publish
):
    (placed,) = _place(publish, sandbox_seller)

    first, again = _consume(), _consume()

    order = Order.objects.get(store=subscribed, amazon_order_id=placed.order_id)
    assert order.status == Order.Status.RELEASED
    assert (first["imported"], first["get_order_calls"]) == (1, 1)
    assert again["received"] == 0 and not again["imported"]
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.ORDER_PULL).exists()
    receipt = NotificationReceipt.objects.get(amazon_order_id=placed.order_id)
    assert receipt.outcome == Outcome.IMPORTED and receipt.store == subscribed and receipt.body == ""


def test_a_duplicate_notification_changes_nothing(subscribed, sandbox_seller, publish, sandbox_faults):
    sandbox_faults(notification_duplicates=True)
    (placed,) = _place(publish, sandbox_seller)

    first, again = _consume(), _consume()

    assert first["received"] == 2 and first["imported"] == 1 and first["duplicate"] == 1
    assert first["get_order_calls"] == 1
    assert again["received"] == 0
    assert Order.objects.filter(amazon_order_id=placed.order_id).count() == 1
    assert NotificationReceipt.objects.count() == 1


def test_a_late_notification_of_an_earlier_change_does_not_undo_a_later_one(
    subscribed, sandbox_seller, publish, queue_client, sqs_queue
):
    (placed,) = _place(publish, sandbox_seller)
    _consume()
    order = SandboxOrder.objects.get(pk=placed.pk)
    earlier = order_change_message(
        order=order,
        subscription=None,
        change_type="OrderStatusChange",
        reason="Order placed",
        application_id="a",
    )
    publish(sandbox_order_cancel, order=order)
    _consume()
    # Amazon promises no order: the "placed" notification arrives after the cancellation.
    queue_client.send_message(QueueUrl=sqs_queue, MessageBody=json.dumps(earlier))

    first, again = _consume(), _consume()

    # Our copy is newer than that change: no getOrder, nothing undone.
    assert first["already_current"] == 1 and first.get("get_order_calls", 0) == 0
    assert again["received"] == 0
    assert Order.objects.get(amazon_order_id=placed.order_id).status == Order.Status.CANCELLED


def test_a_notification_for_another_store_is_routed_to_it(subscribed, sandbox_seller, publish, warehouse):
    from sandbox.sellers import sandbox_seller_ensure

    other_seller = sandbox_seller_ensure(
        selling_partner_id="A2OTHERSELLER",
        name="Other",
        marketplace_codes=("US",),
        refresh_token="Atzr|other",
    )
    other = Store.objects.create(
        name="Other US",
        marketplace=Marketplace.objects.get(code="US"),
        warehouse=warehouse,
        selling_partner_id="A2OTHERSELLER",
        authorization_status=Store.Authorization.CONNECTED,
        refresh_token="Atzr|other",
    )
    from fulfillment.orders.services.notification_setup import notification_subscription_setup

    notification_subscription_setup(store=other)
    (mine,) = _place(publish, sandbox_seller)
    (theirs,) = _place(publish, other_seller)

    _consume()
    _consume()

    assert Order.objects.get(amazon_order_id=mine.order_id).store == subscribed
    assert Order.objects.get(amazon_order_id=theirs.order_id).store == other


def test_a_notification_for_an_unknown_seller_or_marketplace_is_dropped_with_a_reason(
    subscribed, sandbox_seller, publish, sandbox_faults
):
    sandbox_faults(notification_stray=True)
    (placed,) = _place(publish, sandbox_seller)

    first, again = _consume(), _consume()

    assert first["imported"] == 1 and first["dropped"] == 1 and again["received"] == 0
    stray = NotificationReceipt.objects.get(outcome=Outcome.DROPPED)
    assert stray.store is None and stray.amazon_order_id == placed.order_id
    assert "No store for seller A0STRAYSELLER0 in marketplace A1PA6795UKMFR9" in stray.reason
    assert Order.objects.filter(amazon_order_id=placed.order_id).count() == 1


def test_a_buyer_cancellation_request_reaches_the_wms_cancellation_feed(subscribed, sandbox_seller, publish):
    (placed,) = _place(publish, sandbox_seller)
    _consume()
    assert not Order.objects.wms_stop_pending().exists()

    publish(sandbox_order_cancel, order=SandboxOrder.objects.get(pk=placed.pk), buyer_requested=True)
    first, again = _consume(), _consume()

    order = Order.objects.get(amazon_order_id=placed.order_id)
    assert first["imported"] == 1 and again["received"] == 0
    assert order.buyer_cancellation_requested and order.status == Order.Status.RELEASED
    assert list(Order.objects.wms_stop_pending()) == [order]
    # What the WMS reads: its cancellations feed.
    from django.urls import reverse
    from rest_framework.test import APIClient

    from fulfillment.wms.services import wms_key_create

    _, key = wms_key_create(warehouse=subscribed.warehouse, name="WMS")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    feed = api.get(reverse("wms-cancellations")).json()
    rows = feed["results"] if isinstance(feed, dict) else feed
    assert [row["amazon_order_id"] for row in rows] == [placed.order_id]
    receipt = NotificationReceipt.objects.get(change_type="BuyerRequestedChange")
    assert receipt.outcome == Outcome.IMPORTED


def test_a_consumer_killed_between_commit_and_delete_imports_nothing_twice(
    subscribed, sandbox_seller, publish, monkeypatch
):
    (placed,) = _place(publish, sandbox_seller)
    real_delete = sqs.message_delete

    def killed(message):
        raise KeyboardInterrupt  # the process dies after the commit, before the delete

    monkeypatch.setattr(sqs, "message_delete", killed)
    with pytest.raises(KeyboardInterrupt):
        _consume()
    monkeypatch.setattr(sqs, "message_delete", real_delete)
    assert Order.objects.filter(amazon_order_id=placed.order_id).count() == 1

    # The message comes back (visibility timeout over) and is found handled.
    _expire_visibility(subscribed)
    first, again = _consume(), _consume()

    assert first["received"] == 1 and first["duplicate"] == 1 and first.get("get_order_calls", 0) == 0
    assert again["received"] == 0
    assert Order.objects.filter(amazon_order_id=placed.order_id).count() == 1
    assert NotificationReceipt.objects.count() == 1


def _expire_visibility(store):
    """What the visibility timeout does after a crash: the message is visible again
    (through the receipt handle the killed consumer held, kept by the fixture below)."""
    from django.conf import settings

    client = sqs.sqs_client()
    for handle in _HANDLES.pop(settings.SQS_QUEUE_URL, []):
        client.change_message_visibility(
            QueueUrl=settings.SQS_QUEUE_URL, ReceiptHandle=handle, VisibilityTimeout=0
        )


_HANDLES: dict[str, list[str]] = {}


@pytest.fixture(autouse=True)
def _keep_receipt_handles(monkeypatch):
    original = sqs.messages_receive

    def receive(**kwargs):
        from django.conf import settings

        got = original(**kwargs)
        _HANDLES.setdefault(settings.SQS_QUEUE_URL, []).extend(m.receipt_handle for m in got)
        return got

    monkeypatch.setattr(sqs, "messages_receive", receive)
    yield
    _HANDLES.clear()


def test_a_message_that_does_not_validate_is_a_dead_letter_and_retry_handles_it_once_fixed(
    subscribed, sandbox_seller, publish, queue_client, sqs_queue
):
    (placed,) = _place(publish, sandbox_seller)
    _consume()
    good = order_change_message(
        order=SandboxOrder.objects.get(pk=placed.pk),
        subscription=None,
        change_type="OrderStatusChange",
        reason="x",
        application_id="app",
    )
    broken = dict(good)
    broken["Payload"] = {"OrderChangeNotification": {"SellerId": "A1ACMESELLER"}}  # required fields missing
    queue_client.send_message(QueueUrl=sqs_queue, MessageBody=json.dumps(broken))
    queue_client.send_message(QueueUrl=sqs_queue, MessageBody="not json at all")

    first, again = _consume(), _consume()

    assert first["dead"] == 2 and again["received"] == 0
    dead = NotificationReceipt.objects.filter(outcome=Outcome.DEAD)
    assert dead.count() == 2
    schema = dead.get(notification_id=good["NotificationMetadata"]["NotificationId"])
    assert "schema" in schema.reason and schema.body  # kept, for Retry
    assert "not JSON" in dead.exclude(pk=schema.pk).get().reason

    # Retry of a message that still does not read says so and changes nothing.
    assert notification_dead_letter_retry(receipt=schema).startswith("Still unreadable")
    schema.refresh_from_db()
    assert schema.outcome == Outcome.DEAD and schema.attempts == 2


def test_retry_of_a_dead_letter_that_reads_imports_its_order(subscribed, sandbox_seller, publish):
    (placed,) = _place(publish, sandbox_seller)
    message = order_change_message(
        order=SandboxOrder.objects.get(pk=placed.pk),
        subscription=None,
        change_type="OrderStatusChange",
        reason="x",
        application_id="app",
    )
    receipt = NotificationReceipt.objects.create(
        notification_id=message["NotificationMetadata"]["NotificationId"],
        received_at="2026-01-01T00:00Z",
        outcome=Outcome.DEAD,
        reason="getOrder failed: timeout",
        body=json.dumps(message),
    )

    first = notification_dead_letter_retry(receipt=receipt)
    again = notification_dead_letter_retry(receipt=receipt)

    assert first == "Order read and imported." and again.startswith("It is not a dead letter")
    receipt.refresh_from_db()
    assert receipt.outcome == Outcome.IMPORTED and receipt.body == ""
    assert Order.objects.get(amazon_order_id=placed.order_id).status == Order.Status.RELEASED


def test_a_burst_makes_one_search_instead_of_hundreds_of_get_order_calls(subscribed, sandbox_seller, publish):
    from fulfillment.orders.services.download import orders_pull

    orders_pull(store=subscribed)  # the store's first download (empty) ran before the burst
    placed = _place(publish, sandbox_seller, count=150)

    first, again = _consume(), _consume()

    assert first["received"] == 150 and first["by_download"] == 150
    assert first.get("get_order_calls", 0) == 0
    assert first["downloads"] == 1 and first["search_calls"] == 2  # 150 orders: two pages of 100
    assert first["handled_by_download"] == 150
    assert again["received"] == 0 and not again["downloads"]
    assert Order.objects.filter(store=subscribed, status=Order.Status.RELEASED).count() == len(placed)
    assert NotificationReceipt.objects.filter(outcome=Outcome.BY_DOWNLOAD).count() == 150
    run = SyncRun.objects.filter(kind=SyncRun.Kind.ORDER_PULL).first()
    assert run.counts["missed_by_notifications"] == 0


def test_the_download_counts_orders_no_notification_brought(
    subscribed, sandbox_seller, publish, sandbox_faults
):
    from fulfillment.orders.services.download import orders_pull

    orders_pull(store=subscribed)
    sandbox_faults(notification_drop_rate=1.0)  # Amazon never delivers these
    _place(publish, sandbox_seller, count=3)
    sandbox_faults(notification_drop_rate=0.0)
    _place(publish, sandbox_seller)  # this one is notified
    _consume()

    first, again = orders_pull(store=subscribed), orders_pull(store=subscribed)

    assert first.counts["missed_by_notifications"] == 3
    assert again.counts["missed_by_notifications"] == 0


def test_the_command_runs_one_cycle(subscribed, sandbox_seller, publish, capsys):
    (placed,) = _place(publish, sandbox_seller)
    call_command("consume_notifications", "--once", "--wait", "0")
    call_command("consume_notifications", "--once", "--wait", "0")
    assert "imported 1" in capsys.readouterr().out
    assert Order.objects.filter(amazon_order_id=placed.order_id).count() == 1


def test_the_command_refuses_without_a_queue(settings):
    from django.core.management.base import CommandError

    settings.SQS_QUEUE_URL = ""
    with pytest.raises(CommandError, match="SQS_QUEUE_URL"):
        call_command("consume_notifications", "--once")


@pytest.mark.parametrize("status", ["UNSHIPPED", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED", "PENDING"])
def test_a_sandbox_message_validates_against_amazons_schema(subscribed, sandbox_seller, status):
    from sandbox.orders import sandbox_orders_create

    (placed,) = sandbox_orders_create(seller=sandbox_seller, count=1, status=status)
    message = order_change_message(
        order=SandboxOrder.objects.get(pk=placed.pk),
        subscription=None,
        change_type="BuyerRequestedChange",
        reason="Buyer Requested Cancel",
        application_id="app",
    )
    change = consumer.notification_read(json.dumps(message))  # raises unless valid
    assert change.amazon_order_id == placed.order_id and change.seller_id == "A1ACMESELLER"
    assert uuid.UUID(change.notification_id)
    assert SandboxFaults.current().notification_duplicates is False


def test_a_notification_the_download_already_brought_costs_no_get_order(subscribed, sandbox_seller, publish):
    from fulfillment.orders.services.download import orders_pull

    orders_pull(store=subscribed)
    (placed,) = _place(publish, sandbox_seller)
    late = orders_pull(store=subscribed)  # the download finds it before the notification is read

    first, again = _consume(), _consume()

    assert late.counts["missed_by_notifications"] == 1
    assert first["already_current"] == 1 and first.get("get_order_calls", 0) == 0
    assert again["received"] == 0
    receipt = NotificationReceipt.objects.get(amazon_order_id=placed.order_id)
    assert receipt.outcome == Outcome.BY_DOWNLOAD and "Already current" in receipt.reason


def test_one_message_that_breaks_is_a_dead_letter_and_the_rest_are_imported(
    subscribed, sandbox_seller, publish, monkeypatch
):
    first_order, second_order = _place(publish, sandbox_seller, count=2)
    original = consumer.orders_ingest_page

    def breaks_on_first(*, ctx, raw_orders, now, counts):
        if raw_orders[0]["orderId"] == first_order.order_id:
            raise RuntimeError("boom")
        return original(ctx=ctx, raw_orders=raw_orders, now=now, counts=counts)

    monkeypatch.setattr(consumer, "orders_ingest_page", breaks_on_first)
    first, again = _consume(), _consume()

    assert first["dead"] == 1 and first["imported"] == 1 and again["received"] == 0
    assert Order.objects.filter(amazon_order_id=second_order.order_id).exists()
    assert not Order.objects.filter(amazon_order_id=first_order.order_id).exists()
    dead = NotificationReceipt.objects.get(outcome=Outcome.DEAD)
    assert dead.amazon_order_id == first_order.order_id and "RuntimeError" in dead.reason and dead.body

    monkeypatch.setattr(consumer, "orders_ingest_page", original)
    assert notification_dead_letter_retry(receipt=dead) == "Order read and imported."
    assert Order.objects.filter(amazon_order_id=first_order.order_id).exists()


def test_out_of_order_delivery_imports_every_order_once(subscribed, sandbox_seller, publish, sandbox_faults):
    import time

    sandbox_faults(notification_out_of_order=True, notification_duplicates=True)
    placed = _place(publish, sandbox_seller, count=4)
    wanted = {o.order_id for o in placed}

    deadline = time.monotonic() + 15  # the sandbox delays each by up to 5 s
    received = 0
    while time.monotonic() < deadline and received < 8:
        received += _consume()["received"]
        time.sleep(0.2)

    assert received == 8  # every notification, twice
    assert set(Order.objects.filter(store=subscribed).values_list("amazon_order_id", flat=True)) == wanted
    assert NotificationReceipt.objects.filter(outcome=Outcome.IMPORTED).count() == 4
    assert _consume()["received"] == 0


@pytest.mark.parametrize("signum", ["SIGTERM", "SIGINT"])
def test_the_command_stops_after_the_batch_in_hand_on_a_signal(sqs_queue, monkeypatch, signum):
    import os
    import signal
    from collections import Counter

    from fulfillment.orders.management.commands import consume_notifications as command

    cycles = []

    def cycle(*, wait_seconds):
        cycles.append(wait_seconds)
        if len(cycles) == 1:
            os.kill(os.getpid(), getattr(signal, signum))  # arrives mid-batch
        return Counter(received=0)

    monkeypatch.setattr(command, "notifications_consume_once", cycle)
    before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        call_command("consume_notifications", "--wait", "0")
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
    assert cycles == [0]  # the batch in hand finished, no next poll


def test_a_get_order_that_fails_leaves_the_message_for_later_then_makes_a_dead_letter(
    subscribed, sandbox_seller, publish, sandbox_faults, settings, monkeypatch
):
    settings.SP_API_MAX_ATTEMPTS = 1
    settings.SP_API_RATE_TIME_SCALE = 1000.0  # the limiter's wait after a 429, sped up
    (placed,) = _place(publish, sandbox_seller)
    sandbox_faults(throttle_storm=True)  # Amazon answers 429 to everything

    first = _consume()

    assert first["later"] == 1 and not NotificationReceipt.objects.exists()
    assert sqs.queue_depth() == 1  # still on the queue, hidden for a while

    monkeypatch.setattr(consumer, "MAX_RECEIVES", 1)  # as if it were the fifth delivery
    _expire_visibility(subscribed)
    second, again = _consume(), _consume()

    assert second["dead"] == 1 and again["received"] == 0 and sqs.queue_depth() == 0
    dead = NotificationReceipt.objects.get()
    assert dead.outcome == Outcome.DEAD and "getOrder failed" in dead.reason and dead.store == subscribed

    sandbox_faults(throttle_storm=False)  # Amazon is back: Retry imports it
    assert notification_dead_letter_retry(receipt=dead) == "Order read and imported."
    assert Order.objects.get(amazon_order_id=placed.order_id).status == Order.Status.RELEASED
