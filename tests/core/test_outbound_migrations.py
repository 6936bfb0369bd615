"""The outbound-queue migrations keep every row: a database filled at the schema
before them (confirmations with sent_at, deliveries, feeds with error) is
migrated and every value is found where the base keeps it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from django_test_migrations.signals import mute_migrate_signals

from fulfillment.inventory.models import InventoryFeed
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.wms.models import WebhookDelivery
from tests.factories import make_store
from tests.wms.factories import make_released_order, make_shipment, make_webhook

BEFORE = [
    ("confirmations", "0003_shipments_move_in"),
    ("wms", "0005_levels_move_out"),
    ("inventory", "0002_levels_move_in"),
]


def _migrate(targets=None):
    """Migrate the test database to `targets` (default: every app's latest migration)."""
    executor = MigrationExecutor(connection)
    targets = targets or sorted(executor.loader.graph.leaf_nodes())
    with mute_migrate_signals():
        executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


@pytest.mark.django_db(transaction=True)
def test_the_queue_migrations_keep_every_row():
    # given: the schema before the queue base (only its three migrations undone), rows in it
    old = _migrate(BEFORE)
    try:
        at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=2)
        store = make_store()
        shipment = make_shipment(order=make_released_order(store=store))
        Confirmation = old.get_model("confirmations", "ShipmentConfirmation")
        Confirmation.objects.create(
            shipment_id=shipment.pk,
            order_id=shipment.order_id,
            store_id=store.pk,
            package_reference=shipment.package_reference,
            state="retrying",
            attempts=3,
            not_before=at + dt.timedelta(minutes=4),
            last_error="503 Service Unavailable",
            sent_at=at,
        )
        webhook = make_webhook(warehouse=store.warehouse)
        Delivery = old.get_model("wms", "WebhookDelivery")
        sent = Delivery.objects.create(
            webhook_id=webhook.pk,
            order_id=shipment.order_id,
            status="sent",
            attempts=2,
            not_before=at,
            sent_at=at + dt.timedelta(minutes=1),
        )
        failed = Delivery.objects.create(
            webhook_id=webhook.pk,
            order_id=make_released_order(store=store).pk,
            status="failed",
            attempts=8,
            not_before=at,
            last_error="HTTP 500 from the webhook",
        )
        Push = old.get_model("inventory", "InventoryPush")
        Feed = old.get_model("inventory", "InventoryFeed")
        push = Push.objects.create(store_id=store.pk, state="submitted")
        Push.objects.filter(pk=push.pk).update(created_at=at)
        done = Feed.objects.create(
            push=push,
            sequence=1,
            state="done",
            message_count=1,
            items=[["MUG", 5, None, "DEFAULT"]],
            feed_id="F1",
            error="1 message without a messageId",
            submitted_at=at + dt.timedelta(minutes=1),
            processed_at=at + dt.timedelta(minutes=2),
        )
        planned = Feed.objects.create(push=push, sequence=2, state="planned", message_count=1, items=[])
    finally:
        # when: to today's schema (the test database is left there for the next tests)
        _migrate()

    # then: nothing lost, every value where the base keeps it
    confirmation = ShipmentConfirmation.objects.get(shipment=shipment)
    assert (confirmation.state, confirmation.attempts, confirmation.last_error) == (
        "retrying",
        3,
        "503 Service Unavailable",
    )
    assert (confirmation.last_attempt_at, confirmation.not_before) == (at, at + dt.timedelta(minutes=4))
    assert confirmation.attempt_history == []

    sent, failed = WebhookDelivery.objects.get(pk=sent.pk), WebhookDelivery.objects.get(pk=failed.pk)
    assert (sent.status, sent.attempts, sent.last_attempt_at) == ("sent", 2, at + dt.timedelta(minutes=1))
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 8, "HTTP 500 from the webhook")
    assert failed.last_attempt_at is None  # never recorded before

    done, planned = InventoryFeed.objects.get(pk=done.pk), InventoryFeed.objects.get(pk=planned.pk)
    assert done.last_error == "1 message without a messageId"
    assert (done.attempts, done.last_attempt_at, done.not_before) == (
        1,
        at + dt.timedelta(minutes=2),
        at + dt.timedelta(minutes=1),
    )
    assert (planned.attempts, planned.last_attempt_at, planned.not_before) == (0, None, at)
    assert list(InventoryFeed.objects.due()) == [planned]  # an unfinished feed is due at the next run
