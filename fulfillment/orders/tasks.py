"""django-q2 tasks: take a store id, run the job through the job runner.

They return a short summary without personal data (django-q2 stores task
results). A run that finds the store's job lease taken records nothing.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django_q.tasks import async_task

from fulfillment.jobs.runner import job_task
from fulfillment.orders.selectors import stores_with_held_orders
from fulfillment.orders.services.download import OrderDownloadJob, ReconciliationJob
from fulfillment.orders.services.release import HoldRecheckJob

RECONCILE_DAYS = 3
UNREADABLE_RETRY_TASK = "fulfillment.orders.tasks.unreadable_order_retry_task"
HOLD_RECHECK_TASK = "fulfillment.orders.tasks.held_orders_recheck_task"
RESYNC_TASK = "fulfillment.orders.tasks.order_resync_task"


def order_pull_task(store_id: int) -> dict:
    return job_task(OrderDownloadJob(), store_id)


def order_reconcile_task(store_id: int) -> dict:
    return job_task(ReconciliationJob(days=RECONCILE_DAYS), store_id)


def unreadable_order_retry_task(unreadable_id: int) -> dict:
    """*Retry* on an unreadable order: read it again with getOrder."""
    from fulfillment.orders.models import UnreadableOrder
    from fulfillment.orders.services.unreadable_retry import unreadable_order_retry

    row = UnreadableOrder.objects.select_related("store__marketplace").filter(pk=unreadable_id).first()
    if row is None or row.resolved_at is not None:
        return {"skipped": "unknown or already resolved"}
    if not (row.store.is_active and row.store.is_connected):
        return {"skipped": "store inactive or not connected"}
    result = unreadable_order_retry(unreadable=row)
    return {"unreadable_order": row.pk, "resolved": result.resolved, "api_calls": result.api_calls}


def order_resync_task(store_id: int, first_day: str, last_day: str) -> dict:
    """*Resync a date range*: the reconciliation over the orders created on those days (ISO dates)."""
    job = ReconciliationJob(
        first_day=dt.date.fromisoformat(first_day), last_day=dt.date.fromisoformat(last_day)
    )
    return job_task(job, store_id)


def held_orders_recheck_task(store_id: int) -> dict:
    """Re-decide a store's held orders (a mapping that can release them changed)."""
    return job_task(HoldRecheckJob(), store_id)


def held_orders_recheck_queue(sender, *, store_ids, marketplace_ids, **kwargs) -> list[int]:
    """Receiver of mappings' release_mappings_changed: queue a re-check, on commit, for
    each concerned store that has held orders. Returns the store ids queued."""
    queued = stores_with_held_orders(store_ids=store_ids, marketplace_ids=marketplace_ids)
    for store_id in queued:
        transaction.on_commit(lambda pk=store_id: async_task(HOLD_RECHECK_TASK, pk))
    return queued


def held_orders_recheck_new_skus(*, warehouse_id: int) -> list[int]:
    """The warehouse named SKUs it never named before: queue, on commit, a re-check of the
    held orders of its stores that ship unmapped SKUs as themselves (one query)."""
    queued = stores_with_held_orders(warehouse_id=warehouse_id)
    for store_id in queued:
        transaction.on_commit(lambda pk=store_id: async_task(HOLD_RECHECK_TASK, pk))
    return queued


def notification_subscription_setup_task(store_id: int) -> dict:
    """A store just connected or disconnected: its ORDER_CHANGE subscription follows now."""
    from connections.models import Store
    from fulfillment.orders.services.notification_setup import notification_subscription_setup

    store = Store.objects.select_related("marketplace").filter(pk=store_id).first()
    if store is None:
        return {"skipped": "unknown store"}
    return {"store": store_id, "result": notification_subscription_setup(store=store)}


def notification_subscriptions_sync_task() -> dict:
    """Every few minutes: subscribe connected stores to ORDER_CHANGE, unsubscribe the others."""
    from fulfillment.orders.services.notification_setup import notification_subscriptions_sync

    return notification_subscriptions_sync()
