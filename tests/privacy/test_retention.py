"""Retention (issue 17): buyer data 30 days after delivery, order data 18 months, in batches."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from axes.models import AccessLog
from django.core.management import call_command
from django.utils import timezone
from django_q.models import Schedule

from fulfillment.inventory.models import InventoryChange, InventoryFeed, InventoryPush
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.schedules import schedules_sync
from fulfillment.ops.models import AlertSent
from fulfillment.orders.models import Order, OrderLine, UnreadableOrder
from fulfillment.privacy.models import BuyerDataAccess
from fulfillment.privacy.services import order_data_purge, personal_data_purge
from fulfillment.privacy.tasks import order_data_purge_task
from fulfillment.shipments.models import Shipment, ShipmentConfirmation, ShipmentLine
from fulfillment.wms.models import WebhookDelivery
from tests.accounts.factories import make_access_failure, make_access_log
from tests.inventory.factories import make_feed
from tests.ops.factories import make_alert
from tests.orders.factories import make_sync_run
from tests.privacy.factories import make_buyer_data_access
from tests.shipments.factories import make_confirmation
from tests.wms.factories import (
    ADDRESS,
    make_delivery,
    make_inventory_change,
    make_released_order,
    make_shipment,
)

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def _shipped(store, *, days_ago: float, deliver_by_days_ago: float | None = None) -> Order:
    order = make_released_order(
        store=store,
        status=Order.Status.SHIPPED,
        gift_message="For you",
        amazon_updated_at=_ago(days_ago),
        deliver_by_latest=None if deliver_by_days_ago is None else _ago(deliver_by_days_ago),
    )
    shipment = make_shipment(order=order)
    Shipment.objects.filter(pk=shipment.pk).update(ship_date=_ago(days_ago))
    return order


# --- personal data: from the later of ship date and deliver-by --------------------


def test_buyer_data_waits_for_the_deliver_by_date_after_shipping(store, settings):
    # given: both shipped 40 days ago; one still within 30 days of its deliver-by date
    settings.PII_RETENTION_DAYS = 30
    delivered_long_ago = _shipped(store, days_ago=40, deliver_by_days_ago=35)
    maybe_on_its_way = _shipped(store, days_ago=40, deliver_by_days_ago=20)
    no_deliver_by = _shipped(store, days_ago=40)

    # when: twice
    first, second = personal_data_purge(now=NOW), personal_data_purge(now=NOW)

    # then
    assert (first, second) == (2, 0)
    assert Order.objects.get(pk=delivered_long_ago.pk).recipient == ""
    assert Order.objects.get(pk=no_deliver_by.pk).recipient == ""
    assert Order.objects.get(pk=maybe_on_its_way.pk).recipient_data == ADDRESS


def test_a_cancelled_order_counts_from_its_cancellation_not_its_deliver_by(store, settings):
    # given
    settings.PII_RETENTION_DAYS = 30
    order = make_released_order(
        store=store, status=Order.Status.CANCELLED, cancelled_at=_ago(31), deliver_by_latest=_ago(-5)
    )

    # when
    purged = personal_data_purge(now=NOW)

    # then
    assert purged == 1
    assert Order.objects.get(pk=order.pk).recipient == ""


# --- non-personal order data: ORDER_DATA_RETENTION_DAYS ----------------------------


@pytest.fixture
def aged(store, settings):
    """Rows on both sides of an 18-month (548-day) cutoff."""
    settings.ORDER_DATA_RETENTION_DAYS = 548
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    old_order = _shipped(store, days_ago=600)
    make_confirmation(shipment=old_order.shipments.get())
    make_delivery(order=old_order)
    old_cancelled = make_released_order(store=store, status=Order.Status.CANCELLED, cancelled_at=_ago(560))
    young_order = _shipped(store, days_ago=500)
    make_confirmation(shipment=young_order.shipments.get())
    # Open, and untouched for two years: the warehouse still owes it.
    open_order = make_released_order(store=store, amazon_updated_at=_ago(700), purchased_at=_ago(700))
    old_feed = make_feed(push=InventoryPush.objects.create(store=store, messages=1, feeds=1))
    InventoryPush.objects.filter(pk=old_feed.push_id).update(created_at=_ago(600))
    young_feed = make_feed(push=InventoryPush.objects.create(store=store, messages=1, feeds=1))
    return {
        "old": [old_order, old_cancelled],
        "kept": [young_order, open_order],
        "old_run": make_sync_run(store=store, started_at=_ago(549)),
        "young_run": make_sync_run(store=store, started_at=_ago(547)),
        "old_change": make_inventory_change(warehouse=store.warehouse, changed_at=_ago(600)),
        "young_change": make_inventory_change(warehouse=store.warehouse, changed_at=_ago(100)),
        "old_push": old_feed.push,
        "young_push": young_feed.push,
        "old_alert": make_alert(store=store, sent_at=_ago(600)),
        "young_alert": make_alert(store=store, sent_at=_ago(10)),
        # security logs: 12 months
        "old_login": make_access_log(attempt_time=_ago(366)),
        "young_login": make_access_log(attempt_time=_ago(364)),
        "old_failure": make_access_failure(attempt_time=_ago(400)),
        "old_view": make_buyer_data_access(order=young_order, accessed_at=_ago(366)),
        "old_unreadable": UnreadableOrder.objects.create(
            store=store,
            amazon_order_id="111-0000000-0000009",
            reason="bad",
            first_seen_at=_ago(700),
            last_seen_at=_ago(600),
        ),
        "young_unreadable": UnreadableOrder.objects.create(
            store=store,
            amazon_order_id="111-0000000-0000010",
            reason="bad",
            first_seen_at=_ago(10),
            last_seen_at=_ago(10),
        ),
        "young_view": make_buyer_data_access(order=young_order, accessed_at=_ago(300)),
    }


def test_it_deletes_only_what_is_old_enough_and_a_second_run_deletes_nothing(aged):
    # when
    first = order_data_purge(now=NOW, batch_size=1)
    second = order_data_purge(now=NOW, batch_size=1)

    # then
    assert first == {
        "fulfillment.Order": 2,
        "fulfillment.OrderLine": 2,
        "confirmations.Shipment": 1,
        "confirmations.ShipmentLine": 1,
        "confirmations.ShipmentConfirmation": 1,
        "wms.WebhookDelivery": 1,
        "jobs.SyncRun": 1,
        "inventory.InventoryChange": 1,
        "inventory.InventoryPush": 1,
        "inventory.InventoryFeed": 1,
        "ops.AlertSent": 1,
        "axes.AccessLog": 1,
        "axes.AccessFailureLog": 1,
        "privacy.BuyerDataAccess": 1,
        "fulfillment.UnreadableOrder": 1,
    }
    assert list(UnreadableOrder.objects.all()) == [aged["young_unreadable"]]
    assert list(BuyerDataAccess.objects.all()) == [aged["young_view"]]
    assert second == {}
    assert list(AccessLog.objects.all()) == [aged["young_login"]]
    assert set(Order.objects.values_list("pk", flat=True)) == {o.pk for o in aged["kept"]}
    assert OrderLine.objects.filter(order__in=aged["kept"]).count() == 2
    assert ShipmentConfirmation.objects.get().order == aged["kept"][0]
    assert list(SyncRun.objects.all()) == [aged["young_run"]]
    assert list(InventoryChange.objects.all()) == [aged["young_change"]]
    assert list(InventoryPush.objects.all()) == [aged["young_push"]]
    assert InventoryFeed.objects.get().push == aged["young_push"]
    assert list(AlertSent.objects.all()) == [aged["young_alert"]]
    assert not WebhookDelivery.objects.exists()
    assert ShipmentLine.objects.count() == 1


def test_the_dry_run_counts_what_the_purge_then_deletes(aged):
    # when
    planned = order_data_purge(now=NOW, dry_run=True)
    untouched = Order.objects.count()
    done = order_data_purge(now=NOW)

    # then
    assert untouched == 4
    assert {k: v for k, v in planned.items() if v} == done


def test_it_follows_the_configured_days(store, settings):
    # given: 18 months by default; an operator whose law asks for two years sets 730
    settings.ORDER_DATA_RETENTION_DAYS = 730
    order = _shipped(store, days_ago=600)

    # when
    deleted = order_data_purge(now=NOW)

    # then
    assert deleted == {}
    assert Order.objects.filter(pk=order.pk).exists()


def test_the_command_prints_counts_and_deletes_nothing_on_a_dry_run(aged, capsys):
    # when
    call_command("purge_order_data", "--dry-run")
    after_dry_run = Order.objects.count()
    call_command("purge_order_data")
    call_command("purge_order_data")

    # then
    out = capsys.readouterr().out.splitlines()
    assert after_dry_run == 4
    assert "fulfillment.Order: would delete 2" in out
    assert "jobs.SyncRun: would delete 1" in out
    assert "fulfillment.Order: deleted 2" in out
    assert out[-1] == "deleted 0 row(s) in total"
    assert Order.objects.count() == 2


def test_the_command_refuses_negative_days(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--days"):
        call_command("purge_order_data", "--days", "-1")


def test_the_task_returns_counts_only_and_writes_a_run(aged):
    # when
    result = order_data_purge_task()
    again = order_data_purge_task()

    # then
    run = SyncRun.objects.get(pk=result["sync_run"])
    assert result["ok"] and result["fulfillment.Order"] == 2
    assert json.dumps(result)
    assert (run.kind, run.store, run.counts["fulfillment.Order"]) == (SyncRun.Kind.ORDER_DATA_PURGE, None, 2)
    assert again == {"sync_run": again["sync_run"], "ok": True}


def test_the_daily_schedule_exists_once_and_holds_no_arguments(db):
    # given: the registry's sync, run twice
    schedules_sync()
    schedules_sync()

    # when
    schedules = list(Schedule.objects.filter(name="order-data-purge"))

    # then
    assert len(schedules) == 1
    assert schedules[0].func == "fulfillment.privacy.tasks.order_data_purge_task"
    assert schedules[0].schedule_type == Schedule.DAILY
    assert not schedules[0].args and not schedules[0].kwargs
