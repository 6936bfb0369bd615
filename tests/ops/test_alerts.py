"""Alerts to the warehouse's operations address: each one once, across runs."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from connections.models import Store
from fulfillment.jobs.models import SyncRun
from fulfillment.ops.alerts import alerts_check
from fulfillment.ops.models import AlertSent
from fulfillment.ops.tasks import alerts_check_task
from fulfillment.orders.models import Holiday, Order
from fulfillment.shipments.models import ShipmentConfirmation
from tests.factories import make_store, make_warehouse
from tests.orders.factories import make_order, make_sync_run
from tests.shipments.factories import make_confirmation
from tests.wms.factories import make_released_order, make_shipment

OPS = "ops@warehouse.example"


@pytest.fixture
def ops_store(db):
    return make_store(warehouse=make_warehouse(operations_email=OPS), merchant_email="owner@merchant.example")


def _to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


def test_it_alerts_a_store_needing_reauthorization_once_and_sends_the_merchant_a_link(ops_store):
    # given
    Store.objects.filter(pk=ops_store.pk).update(
        authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION, authorization_error="invalid_grant"
    )

    # when
    first = alerts_check()
    second = alerts_check()

    # then
    assert (first.reauthorization, second.reauthorization) == (1, 0)
    (ops_mail,) = _to(OPS)
    assert "needs re-authorization" in ops_mail.subject and "invalid_grant" in ops_mail.body
    (merchant_mail,) = _to("owner@merchant.example")
    assert "/connections/authorize/" in merchant_mail.body
    ops_store.refresh_from_db()
    assert ops_store.authorization_status == Store.Authorization.AWAITING_MERCHANT


def test_it_alerts_again_when_a_store_loses_a_new_authorization(ops_store):
    Store.objects.filter(pk=ops_store.pk).update(
        authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION
    )
    alerts_check()
    Store.objects.filter(pk=ops_store.pk).update(
        authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION, authorized_at=timezone.now()
    )
    assert alerts_check().reauthorization == 1
    assert len(_to(OPS)) == 2


def test_it_alerts_a_job_failing_three_times_in_a_row_once_per_streak(ops_store, settings):
    # given
    settings.OPS_ALERT_JOB_FAILURES = 3
    now = timezone.now()

    def run(minutes_ago: int, ok: bool):
        at = now - dt.timedelta(minutes=minutes_ago)
        make_sync_run(store=ops_store, ok=ok, started_at=at, finished_at=at, error="" if ok else "HTTP 503")

    run(100, True)
    run(90, False)
    run(80, False)

    # when: two failures are not enough
    assert alerts_check(now=now).job_failing == 0
    run(70, False)
    first = alerts_check(now=now)
    run(60, False)  # the same streak goes on
    second = alerts_check(now=now)
    run(50, True)
    run(40, False)
    run(30, False)
    run(20, False)  # a new streak after a success
    third = alerts_check(now=now)

    # then
    assert (first.job_failing, second.job_failing, third.job_failing) == (1, 0, 1)
    subjects = [m.subject for m in _to(OPS)]
    assert subjects == [f"Order download for {ops_store.name} failed 3 times in a row"] * 2
    assert "HTTP 503" in _to(OPS)[0].body


def test_it_does_not_double_the_confirmations_own_rejection_email(ops_store):
    # given: rejected once while the warehouse had no operations address
    warehouse = ops_store.warehouse
    warehouse.operations_email = ""
    warehouse.save(update_fields=["operations_email"])
    order = make_released_order(store=ops_store)
    make_confirmation(shipment=make_shipment(order=order))  # rejected, never alerted
    already = make_confirmation(
        shipment=make_shipment(order=make_released_order(store=ops_store)), alerted_at=timezone.now()
    )
    assert alerts_check().confirmation_rejected == 0

    # when: the address is set
    warehouse.operations_email = OPS
    warehouse.save(update_fields=["operations_email"])
    first, second = alerts_check(), alerts_check()

    # then: only the one the confirmations app could not email, once
    assert (first.confirmation_rejected, second.confirmation_rejected) == (1, 0)
    (message,) = _to(OPS)
    assert order.amazon_order_id in message.subject
    assert already.alerted_at is not None


def test_it_alerts_orders_at_risk_with_nothing_shipped_once_each(ops_store):
    # given: the warehouse ships every day, its cut-off an hour from now: the
    # next cut-offs are in 1 h and 25 h, so a ship-by within 25 h is at risk
    now = timezone.now().replace(second=0, microsecond=0)
    warehouse = ops_store.warehouse
    warehouse.time_zone, warehouse.working_days = "UTC", "1234567"
    warehouse.cutoff_time = (now + dt.timedelta(hours=1)).time()
    warehouse.save()
    soon = make_released_order(store=ops_store, ship_by_latest=now + dt.timedelta(hours=2))
    held_soon = make_order(store=ops_store, ship_by_latest=now + dt.timedelta(hours=3))
    make_released_order(store=ops_store, ship_by_latest=now + dt.timedelta(hours=30))  # on track
    shipped = make_released_order(store=ops_store, ship_by_latest=now + dt.timedelta(hours=1))
    make_shipment(order=shipped)  # something shipped: no alert
    make_released_order(
        store=ops_store, status=Order.Status.CANCELLED, ship_by_latest=now + dt.timedelta(hours=1)
    )

    # when
    first = alerts_check(now=now)
    second = alerts_check(now=now)
    later = make_released_order(store=ops_store, ship_by_latest=now + dt.timedelta(hours=4))
    third = alerts_check(now=now)

    # then
    assert (first.ship_by_near, second.ship_by_near, third.ship_by_near) == (2, 0, 1)
    first_mail, third_mail = _to(OPS)
    assert soon.amazon_order_id in first_mail.body and held_soon.amazon_order_id in first_mail.body
    assert shipped.amazon_order_id not in first_mail.body
    assert later.amazon_order_id in third_mail.body and soon.amazon_order_id not in third_mail.body


def test_a_mail_outage_leaves_the_alert_for_the_next_run(ops_store):
    # given
    Store.objects.filter(pk=ops_store.pk).update(
        authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION
    )
    Store.objects.filter(pk=ops_store.pk).update(merchant_email="")

    # when
    with mock.patch("fulfillment.ops.alerts.send_mail", side_effect=OSError("mail server down")):
        failed = alerts_check()
    retried = alerts_check()

    # then
    assert failed.reauthorization == 0
    assert retried.reauthorization == 1
    assert AlertSent.objects.filter(kind=AlertSent.Kind.REAUTHORIZATION).count() == 1
    assert len(_to(OPS)) == 1


def test_it_claims_nothing_while_the_warehouse_has_no_operations_address(db):
    store = make_store(warehouse=make_warehouse(operations_email=""))
    Store.objects.filter(pk=store.pk).update(authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION)
    assert alerts_check().reauthorization == 0
    assert not AlertSent.objects.exists()


def test_the_task_runs_every_check_returns_counts_and_writes_a_run(ops_store):
    SyncRun.objects.all().delete()
    counts = {
        "reauthorization": 0,
        "job_failing": 0,
        "confirmation_rejected": 0,
        "ship_by_near": 0,
        "unreadable_orders": 0,
    }

    first, second = alerts_check_task(), alerts_check_task()

    runs = list(SyncRun.objects.order_by("pk"))
    assert first == {"sync_run": runs[0].pk, "ok": True, **counts}
    assert second == {"sync_run": runs[1].pk, "ok": True, **counts}
    assert [(run.kind, run.store) for run in runs] == [(SyncRun.Kind.ALERTS, None)] * 2


def test_a_check_that_raises_fails_the_run_and_the_others_still_run(ops_store, monkeypatch):
    from fulfillment.ops import alerts

    def broken(*, now):
        raise RuntimeError("the mail server is down")

    monkeypatch.setattr(alerts, "alerts_ship_by_near", broken)
    Store.objects.filter(pk=ops_store.pk).update(
        authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION
    )

    result = alerts_check_task()

    run = SyncRun.objects.get(kind=SyncRun.Kind.ALERTS)
    assert result["ok"] is False and result["reauthorization"] == 1
    assert "ship_by_near: RuntimeError" in run.error and "mail server" not in run.error


def test_a_global_job_failing_alerts_no_store(ops_store):
    # Runs of jobs for every store have no store: the per-store streak check leaves them out.
    for _ in range(4):
        SyncRun.objects.create(
            store=None, kind=SyncRun.Kind.ORDER_DATA_PURGE, started_at=timezone.now(), ok=False, error="boom"
        )

    assert alerts_check().job_failing == 0


def test_the_alert_schedule_exists(db):
    from django_q.models import Schedule

    from fulfillment.jobs.schedules import schedules_sync

    schedules_sync()
    schedules_sync()
    schedule = Schedule.objects.get(name="ops-alerts-check")
    assert schedule.func == "fulfillment.ops.tasks.alerts_check_task"
    assert schedule.minutes == 5 and not schedule.args


def test_a_rejected_confirmation_row_is_still_one_email_per_package(ops_store):
    confirmation = make_confirmation(shipment=make_shipment(order=make_released_order(store=ops_store)))
    ShipmentConfirmation.objects.filter(pk=confirmation.pk).update(alerted_at=None)
    alerts_check()
    alerts_check()
    assert len(_to(OPS)) == 1


def test_the_alert_counts_the_warehouses_holidays(ops_store):
    # given: every day at 11:00 UTC, today's cut-off passed; due in 60 h there
    # would be two cut-offs left (on track), but the next two days are holidays
    now = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.UTC)
    warehouse = ops_store.warehouse
    warehouse.time_zone, warehouse.working_days, warehouse.cutoff_time = "UTC", "1234567", dt.time(11)
    warehouse.save()
    due = make_released_order(store=ops_store, ship_by_latest=now + dt.timedelta(hours=60))
    assert alerts_check(now=now).ship_by_near == 0
    for day in (3, 4):
        Holiday.objects.create(warehouse=warehouse, date=dt.date(2026, 12, day))

    assert alerts_check(now=now).ship_by_near == 1
    (mail,) = _to(OPS)
    assert due.amazon_order_id in mail.body and "at risk" in mail.subject
