"""The sweep's queries, the command, its schedule and the admin actions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_q.models import Schedule

from connections.models import Store
from fulfillment.jobs.locks import JobLockBusy, store_job_lock
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.schedules import confirmation_sweep_schedule_name, schedules_sync
from fulfillment.orders.models import Order
from fulfillment.shipments.models import Shipment, ShipmentConfirmation
from sandbox.models import SandboxPackage
from tests.shipments.factories import make_confirmation
from tests.wms.factories import make_released_order, make_shipment

from .conftest import ITEM_A, ITEM_B

State = ShipmentConfirmation.State


def _accepted_rows(store, n):
    for _ in range(n):
        make_confirmation(
            shipment=make_shipment(order=make_released_order(store=store)), state=State.ACCEPTED
        )


def test_an_idle_sweep_costs_the_same_queries_with_many_rows_present(store, sweep):
    # given
    _accepted_rows(store, 2)
    _, few = sweep()

    # when
    _accepted_rows(store, 10)
    run, many = sweep()

    # then: lock, run row, poll, run finish, unlock; no query per row
    assert many == few
    assert run.counts["sent"] == 0


# Ours and the in-process sandbox's, for the first package of a sweep. Ours: the package
# with everything a send reads (one query), the carrier (2, once a sweep), the claim (which
# records the request), a rate-limit token, the answer with the order's status (the order
# is partially shipped: its lock and lines). PostgreSQL takes a rate-limit token in one
# UPDATE … RETURNING, SQLite in a transaction of three queries (connections/ratelimit.py).
PER_PACKAGE_QUERIES = {"postgresql": 21}.get(connection.vendor, 25)


def test_each_package_costs_the_same_number_of_queries(store, amazon_order, order, ship, sweep):
    # given: five of item A on both sides; a first package warms the access
    # token and the rate-limit buckets
    amazon_order.items.filter(order_item_id=ITEM_A).update(quantity_ordered=5)
    order.lines.filter(order_item_id=ITEM_A).update(quantity_ordered=5)
    ship(order, {ITEM_A: 1})
    sweep()
    _, idle = sweep()

    # when: one due package, then two due packages
    ship(order, {ITEM_A: 1})
    _, one = sweep()
    ship(order, {ITEM_A: 1})
    ship(order, {ITEM_A: 1})
    run, two = sweep()

    # then: queries grow by a fixed amount per package (ours and the in-process
    # sandbox's), nothing per row already in the table; the carrier is looked up
    # once per sweep (its mappings, whether Amazon accepts the code: 2 queries)
    assert run.counts["accepted"] == 2
    per_package = one - idle
    assert two - idle == 2 * per_package - 2
    assert per_package == PER_PACKAGE_QUERIES


def test_a_sweep_of_a_store_already_sweeping_is_refused(store, sweep):
    with store_job_lock(store=store, kind=SyncRun.Kind.SHIPMENT_CONFIRM), pytest.raises(JobLockBusy):
        sweep()
    assert not SyncRun.objects.filter(kind=SyncRun.Kind.SHIPMENT_CONFIRM).exists()


def test_the_command_confirms_and_prints_one_line_per_store(order, amazon_order, ship, capsys):
    ship(order, {ITEM_A: 2, ITEM_B: 1})

    call_command("confirm_shipments", "--store", order.store.name)
    call_command("confirm_shipments")

    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{order.store.name}: 1 sent, 1 accepted, 0 rejected, 0 retrying, 1 API calls")
    assert out[1].startswith(f"{order.store.name}: 0 sent")
    assert SandboxPackage.objects.count() == 1


def test_the_command_exits_non_zero_when_a_package_is_rejected(order, amazon_order, ship, capsys):
    shipment = ship(order, {ITEM_A: 1})
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="")

    with pytest.raises(CommandError) as exc:
        call_command("confirm_shipments", "--store", order.store.name)

    assert exc.value.returncode == 1
    assert "1 rejected" in capsys.readouterr().out


def test_the_command_fails_for_a_store_that_is_not_connected(store, capsys):
    Store.objects.filter(pk=store.pk).update(authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION)

    with pytest.raises(CommandError):
        call_command("confirm_shipments", "--store", store.name)
    with pytest.raises(CommandError):
        call_command("confirm_shipments", "--store", "no such store")

    assert "not connected" in capsys.readouterr().out


def test_a_connected_store_s_sweep_is_scheduled_with_its_id(store, settings):
    settings.CONFIRMATION_SWEEP_MINUTES = 5
    name = confirmation_sweep_schedule_name(store.pk)

    schedules_sync(store=store)
    schedules_sync(store=store)

    schedule = Schedule.objects.get(name=name)
    assert (schedule.func, schedule.args, schedule.minutes) == (
        "fulfillment.shipments.tasks.confirmations_sweep_task",
        repr(store.pk),
        5,
    )


def test_the_sweep_task_skips_stores_that_are_not_connected(store):
    from fulfillment.shipments.tasks import confirmations_sweep_task

    Store.objects.filter(pk=store.pk).update(is_active=False)

    assert "skipped" in confirmations_sweep_task(store.pk)
    assert not SyncRun.objects.exists()


def test_admin_retry_sends_a_rejected_package_again(
    admin_client, order, amazon_order, ship, sweep, monkeypatch, django_capture_on_commit_callbacks
):
    # given: rejected because the tracking number was missing, then fixed
    shipment = ship(order, {ITEM_A: 1})
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="")
    sweep()
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="1ZFIXED")
    queued = []
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args: queued.append(args))
    confirmation = ShipmentConfirmation.objects.get()

    # when
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:confirmations_shipmentconfirmation_changelist"),
            {"action": "retry", "_selected_action": [confirmation.pk]},
        )

    # then
    assert response.status_code == 302
    confirmation.refresh_from_db()
    assert (confirmation.state, confirmation.attempts) == (State.PENDING, 0)
    assert queued == [(confirmation.pk,)]
    sweep()
    assert SandboxPackage.objects.get().tracking_number == "1ZFIXED"


def test_admin_mark_resolved_stops_the_package(admin_client, order, ship, sweep):
    shipment = ship(order, {ITEM_A: 1})
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="")
    sweep()
    confirmation = ShipmentConfirmation.objects.get()

    admin_client.post(
        reverse("admin:confirmations_shipmentconfirmation_changelist"),
        {"action": "mark_resolved", "_selected_action": [confirmation.pk]},
    )

    confirmation.refresh_from_db()
    assert confirmation.state == State.RESOLVED
    assert confirmation.resolved_by == "admin"
    run, _ = sweep()
    assert run.counts["sent"] == 0


def test_admin_filters_by_state_and_shows_amazons_message(admin_client, store):
    make_confirmation(amazon_message="carrierCode 'Pony' is not accepted here")
    make_confirmation(state=State.ACCEPTED, amazon_message="")

    response = admin_client.get(
        reverse("admin:confirmations_shipmentconfirmation_changelist"), {"state__exact": "rejected"}
    )

    assert response.status_code == 200
    assert "carrierCode &#x27;Pony&#x27; is not accepted here" in response.content.decode()
    assert len(response.context["cl"].result_list) == 1


def test_the_order_page_inline_lists_each_packages_state(admin_client, order, ship):
    from django.contrib import admin as django_admin

    from fulfillment.shipments.admin import ShipmentConfirmationInline

    # given: the lead's hook (OrderAdmin.inlines += ShipmentConfirmationInline), done here
    order_admin = django_admin.site._registry[Order]
    ship(order, {ITEM_A: 1}, tracking="1ZINLINE1")
    ship(order, {ITEM_B: 1}, tracking="1ZINLINE2")
    original = order_admin.inlines
    order_admin.inlines = (*original, ShipmentConfirmationInline)
    try:
        response = admin_client.get(reverse("admin:fulfillment_order_change", args=[order.pk]))
    finally:
        order_admin.inlines = original

    body = response.content.decode()
    assert response.status_code == 200
    assert "1ZINLINE1" in body and "1ZINLINE2" in body and "Pending" in body


def test_a_store_with_due_packages_and_a_past_not_before_is_polled_in_order(store, order, ship, sweep):
    first = ship(order, {ITEM_A: 1})
    ShipmentConfirmation.objects.filter(pk=first.confirmation.pk).update(
        not_before=timezone.now() + dt.timedelta(hours=1)
    )
    ship(order, {ITEM_B: 1})

    run, _ = sweep()

    assert run.counts["sent"] == 1
    assert ShipmentConfirmation.objects.get(pk=first.confirmation.pk).state == State.PENDING
