"""Schedules follow the store; tasks take ids and skip when the store's lease is taken."""

from __future__ import annotations

import ast

from django_q.models import Schedule

from connections.models import Store
from fulfillment.jobs.locks import store_job_lock
from fulfillment.jobs.models import SyncRun
from fulfillment.orders.schedules import order_pull_schedule_name, order_reconcile_schedule_name
from fulfillment.orders.tasks import order_pull_task
from tests.factories import make_store


def _schedules(store):
    return Schedule.objects.filter(
        name__in=[order_pull_schedule_name(store.pk), order_reconcile_schedule_name(store.pk)]
    )


def test_a_connected_store_gets_a_download_and_a_daily_reconciliation(db):
    store = make_store(order_pull_minutes=15)

    pull = Schedule.objects.get(name=f"order-pull:store:{store.pk}")
    reconcile = Schedule.objects.get(name=f"order-reconcile:store:{store.pk}")
    assert pull.func == "fulfillment.orders.tasks.order_pull_task"
    assert ast.literal_eval(pull.args) == store.pk  # the id only, never PII
    assert (pull.schedule_type, pull.minutes, pull.repeats) == (Schedule.MINUTES, 15, -1)
    assert reconcile.func == "fulfillment.orders.tasks.order_reconcile_task"
    assert reconcile.schedule_type == Schedule.DAILY


def test_saving_a_store_again_changes_nothing_but_its_interval(db):
    store = make_store(order_pull_minutes=30)
    store.save()
    store.order_pull_minutes = 10
    store.save()

    assert _schedules(store).count() == 2
    assert Schedule.objects.get(name=order_pull_schedule_name(store.pk)).minutes == 10


def test_an_inactive_store_has_no_schedules_until_it_is_active_again(db):
    store = make_store()
    store.is_active = False
    store.save()
    assert not _schedules(store).exists()

    store.is_active = True
    store.save()
    assert _schedules(store).count() == 2


def test_a_store_that_needs_reauthorization_has_no_schedules(db):
    store = make_store()
    store.authorization_status = Store.Authorization.NEEDS_REAUTHORIZATION
    store.save()

    assert not _schedules(store).exists()


def test_a_store_not_connected_yet_has_no_schedules(db):
    store = make_store(authorization_status=Store.Authorization.AWAITING_MERCHANT)

    assert not _schedules(store).exists()


def test_deleting_a_store_deletes_its_schedules(db):
    store = make_store()
    pk = store.pk
    store.delete()

    assert not Schedule.objects.filter(name__endswith=f":store:{pk}").exists()


def test_the_task_records_nothing_while_another_download_runs(store):
    with store_job_lock(store=store, kind=SyncRun.Kind.ORDER_PULL, lease_seconds=60):
        result = order_pull_task(store.pk)

    assert result == {"skipped": "already running"}
    assert not SyncRun.objects.exists()


def test_the_task_skips_a_store_that_is_gone_or_disconnected(store):
    Store.objects.filter(pk=store.pk).update(is_active=False)

    assert order_pull_task(store.pk)["skipped"]
    assert order_pull_task(10**9)["skipped"]
    assert not SyncRun.objects.exists()


def test_the_task_downloads_orders(store, seller, shipping_for_every_level):
    from sandbox.orders import sandbox_orders_create

    sandbox_orders_create(seller=seller, count=3, seed=1, status="UNSHIPPED")

    result = order_pull_task(store.pk)

    assert result["ok"] and result["new"] == 3
    assert SyncRun.objects.get().pk == result["sync_run"]


def test_a_store_connected_without_a_save_gets_its_schedules_on_the_next_sweep(db):
    # given: connections' services change stores with QuerySet.update(), which sends no signal
    from fulfillment.orders.schedules import stores_schedules_sync_all

    store = make_store(authorization_status=Store.Authorization.AUTHORIZED_BY_MERCHANT)
    Store.objects.filter(pk=store.pk).update(authorization_status=Store.Authorization.CONNECTED)
    # and a schedule left behind by a store deleted behind Django's back
    Schedule.objects.create(name="order-pull:store:999999", func="fulfillment.orders.tasks.order_pull_task")
    assert not _schedules(store).exists()

    # when
    changed = stores_schedules_sync_all()
    again = stores_schedules_sync_all()

    # then
    assert changed == 1 and again == 0
    assert _schedules(store).count() == 2
    assert not Schedule.objects.filter(name="order-pull:store:999999").exists()


def test_the_sweep_is_itself_scheduled(db):
    sweep = Schedule.objects.get(name="store-schedules-sync")

    assert sweep.func == "fulfillment.orders.tasks.store_schedules_sync_task"
    assert (sweep.schedule_type, sweep.minutes) == (Schedule.MINUTES, 5)
