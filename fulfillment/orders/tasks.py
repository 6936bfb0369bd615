"""django-q2 tasks: take a store id, re-read the store, call the service.

They return a short summary without personal data (django-q2 stores task
results). A run that finds the store's job lease taken records nothing.
"""

from __future__ import annotations

import logging

from connections.models import Store
from fulfillment.jobs.locks import JobLockBusy
from fulfillment.orders.services.download import orders_pull, orders_reconcile

logger = logging.getLogger(__name__)

RECONCILE_DAYS = 3
UNREADABLE_RETRY_TASK = "fulfillment.orders.tasks.unreadable_order_retry_task"


def _connected_store(store_id: int) -> Store | None:
    store = Store.objects.select_related("marketplace").filter(pk=store_id).first()
    if store is None or not (store.is_active and store.is_connected):
        return None
    return store


def order_pull_task(store_id: int) -> dict:
    store = _connected_store(store_id)
    if store is None:
        return {"skipped": "store missing, inactive or not connected"}
    try:
        run = orders_pull(store=store)
    except JobLockBusy:
        logger.info("order download of store %s already running; skipped", store_id)
        return {"skipped": "already running"}
    return {"sync_run": run.pk, "ok": run.ok, **run.counts}


def order_reconcile_task(store_id: int) -> dict:
    store = _connected_store(store_id)
    if store is None:
        return {"skipped": "store missing, inactive or not connected"}
    try:
        run = orders_reconcile(store=store, days=RECONCILE_DAYS)
    except JobLockBusy:
        return {"skipped": "already running"}
    return {"sync_run": run.pk, "ok": run.ok, **run.counts}


def unreadable_order_retry_task(unreadable_id: int) -> dict:
    """*Retry* on an unreadable order: read it again with getOrder."""
    from fulfillment.orders.models import UnreadableOrder
    from fulfillment.orders.services.unreadable import unreadable_order_retry

    row = UnreadableOrder.objects.select_related("store__marketplace").filter(pk=unreadable_id).first()
    if row is None or row.resolved_at is not None:
        return {"skipped": "unknown or already resolved"}
    if not (row.store.is_active and row.store.is_connected):
        return {"skipped": "store inactive or not connected"}
    result = unreadable_order_retry(unreadable=row)
    return {"unreadable_order": row.pk, "resolved": result.resolved, "api_calls": result.api_calls}


def store_schedules_sync_task() -> dict:
    from fulfillment.orders.schedules import stores_schedules_sync_all

    return {"stores_changed": stores_schedules_sync_all()}
