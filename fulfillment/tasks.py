"""django-q2 tasks: take a store id, re-read the store, call the service.

They return a short summary without personal data (django-q2 stores task
results). A run that finds the store's job lease taken records nothing.
"""

from __future__ import annotations

import logging

from connections.models import Store
from fulfillment.locks import JobLockBusy
from fulfillment.services.orders import orders_pull, orders_reconcile

logger = logging.getLogger(__name__)

RECONCILE_DAYS = 3


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


def store_schedules_sync_task() -> dict:
    from fulfillment.schedules import stores_schedules_sync_all

    return {"stores_changed": stores_schedules_sync_all()}
