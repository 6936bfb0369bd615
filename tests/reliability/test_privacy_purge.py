"""Personal data: encrypted at rest, blanked N days after an order closes."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_q.models import Schedule

from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.schedules import schedules_sync
from fulfillment.orders.models import Order, OrderLine
from fulfillment.privacy.services import personal_data_purge
from fulfillment.privacy.tasks import personal_data_purge_task
from fulfillment.shipments.models import Shipment
from tests.wms.factories import ADDRESS, make_released_order, make_shipment

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _raw_recipient(order: Order) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT recipient FROM {Order._meta.db_table} WHERE id = %s", [order.pk])
        return cursor.fetchone()[0]


def _closed(store, *, status, days_ago: float, gift: str = "Happy birthday, Jane!") -> Order:
    when = NOW - dt.timedelta(days=days_ago)
    order = make_released_order(store=store, status=status, gift_message=gift, amazon_updated_at=when)
    OrderLine.objects.filter(order=order).update(gift_message=gift)
    if status == Order.Status.CANCELLED:
        Order.objects.filter(pk=order.pk).update(cancelled_at=when)
    else:
        _ship(order, when)
    return order


def _ship(order: Order, when: dt.datetime) -> None:
    shipment = make_shipment(order=order)
    Shipment.objects.filter(pk=shipment.pk).update(ship_date=when)


def test_it_stores_name_address_and_phone_encrypted(store):
    # given
    order = make_released_order(store=store)

    # when
    raw = _raw_recipient(order)

    # then: the column holds a Fernet token, none of the buyer's words
    assert raw.startswith("gAAAA")
    for value in (ADDRESS["name"], "Doe", ADDRESS["addressLine1"], ADDRESS["phone"], "555-0100"):
        assert value not in raw
    assert Order.objects.get(pk=order.pk).recipient_data == ADDRESS


def test_it_purges_shipped_and_cancelled_orders_after_the_retention_days(store, settings):
    # given: retention 30 days; orders closed 31 and 29 days ago, and an open one
    settings.PII_RETENTION_DAYS = 30
    old_shipped = _closed(store, status=Order.Status.SHIPPED, days_ago=31)
    old_cancelled = _closed(store, status=Order.Status.CANCELLED, days_ago=31)
    recent = _closed(store, status=Order.Status.SHIPPED, days_ago=29)
    open_order = make_released_order(store=store, amazon_updated_at=NOW - dt.timedelta(days=90))

    # when: run twice (a task delivered twice purges nothing more)
    first = personal_data_purge(now=NOW)
    second = personal_data_purge(now=NOW)

    # then
    assert (first, second) == (2, 0)
    for order in (old_shipped, old_cancelled):
        order.refresh_from_db()
        assert order.recipient == "" and _raw_recipient(order) == ""
        assert order.gift_message == ""
        assert set(order.lines.values_list("gift_message", flat=True)) == {""}
        # the order itself stays (accounting, support)
        assert order.amazon_order_id and order.lines.exists()
    for order in (recent, open_order):
        order.refresh_from_db()
        assert order.recipient_data == ADDRESS
    recent.refresh_from_db()
    assert recent.gift_message


def test_it_counts_from_the_last_package_not_the_first(store, settings):
    # given: a first package 40 days ago, the last 10 days ago
    settings.PII_RETENTION_DAYS = 30
    order = _closed(store, status=Order.Status.SHIPPED, days_ago=40)
    _ship(order, NOW - dt.timedelta(days=10))

    # when
    purged = personal_data_purge(now=NOW)

    # then
    assert purged == 0
    order.refresh_from_db()
    assert order.recipient_data == ADDRESS


def test_it_follows_the_configured_days(store, settings):
    # given
    settings.PII_RETENTION_DAYS = 5
    order = _closed(store, status=Order.Status.CANCELLED, days_ago=6)

    # when
    purged = personal_data_purge(now=NOW)

    # then
    assert purged == 1
    order.refresh_from_db()
    assert order.recipient == ""


def test_it_purges_in_batches(store, settings):
    # given
    settings.PII_RETENTION_DAYS = 30
    orders = [_closed(store, status=Order.Status.CANCELLED, days_ago=40) for _ in range(5)]

    # when
    purged = personal_data_purge(now=NOW, batch_size=2)

    # then
    assert purged == 5
    assert not Order.objects.filter(pk__in=[o.pk for o in orders]).exclude(recipient="").exists()


def test_the_task_returns_a_count_only(store, settings):
    # given
    settings.PII_RETENTION_DAYS = 30
    _closed(store, status=Order.Status.CANCELLED, days_ago=40)

    # when
    result = personal_data_purge_task()
    again = personal_data_purge_task()

    # then: nothing a person could be recognised by goes into django-q2's result column
    assert result == {"sync_run": result["sync_run"], "ok": True, "purged": 1}
    assert again == {"sync_run": again["sync_run"], "ok": True, "purged": 0}
    # and operators read each run
    runs = SyncRun.objects.filter(kind=SyncRun.Kind.PERSONAL_DATA_PURGE, store=None).order_by("pk")
    assert [run.counts for run in runs] == [{"purged": 1}, {"purged": 0}]


def test_the_command_purges_and_takes_days(store, capsys):
    # given
    order = _closed(store, status=Order.Status.SHIPPED, days_ago=3)

    # when
    call_command("purge_personal_data")
    kept = Order.objects.get(pk=order.pk).recipient
    call_command("purge_personal_data", "--days", "2")

    # then
    assert kept
    assert Order.objects.get(pk=order.pk).recipient == ""
    out = capsys.readouterr().out.splitlines()
    assert out == ["personal data purged from 0 order(s)", "personal data purged from 1 order(s)"]


def test_the_daily_schedule_exists_once_and_holds_no_arguments(db):
    # given: the registry's sync, run twice
    schedules_sync()
    schedules_sync()

    # when
    schedules = list(Schedule.objects.filter(name="personal-data-purge"))

    # then
    assert len(schedules) == 1
    assert schedules[0].func == "fulfillment.privacy.tasks.personal_data_purge_task"
    assert schedules[0].schedule_type == Schedule.DAILY
    assert not schedules[0].args and not schedules[0].kwargs
    assert json.dumps([schedules[0].args, schedules[0].kwargs]) == "[null, null]"
