"""django-q2 tasks: take a store id, run the job through the job runner.

They return a short summary without personal data (django-q2 stores task
results). A run that finds the store's job lease taken records nothing.
"""

from __future__ import annotations

from fulfillment.jobs.runner import job_task
from fulfillment.orders.services.download import OrderDownloadJob, ReconciliationJob

RECONCILE_DAYS = 3
UNREADABLE_RETRY_TASK = "fulfillment.orders.tasks.unreadable_order_retry_task"


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
