"""The order tasks take ids, skip a store that is gone or disconnected or whose lease is taken."""

from __future__ import annotations

from connections.models import Store
from fulfillment.jobs.locks import store_job_lock
from fulfillment.jobs.models import SyncRun
from fulfillment.orders.tasks import order_pull_task


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
    again = order_pull_task(store.pk)

    assert result["ok"] and result["new"] == 3
    assert again["ok"] and again["new"] == 0 and again["updated"] == 0
    assert list(SyncRun.objects.order_by("pk").values_list("pk", flat=True)) == [
        result["sync_run"],
        again["sync_run"],
    ]
