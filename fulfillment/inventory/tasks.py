"""django-q2 task of the inventory push: takes a store id, re-reads the store, calls the service."""

from __future__ import annotations

import logging

from connections.models import Store
from fulfillment.inventory.schedules import inventory_schedule_sync
from fulfillment.inventory.services import inventory_push_run
from fulfillment.jobs.locks import JobLockBusy

logger = logging.getLogger(__name__)


def inventory_push_task(store_id: int, full: bool = False) -> dict:
    store = Store.objects.select_related("marketplace", "warehouse").filter(pk=store_id).first()
    if store is None or not (store.is_active and store.is_connected and store.inventory_sync_enabled):
        return {"skipped": "store missing, inactive, not connected or inventory sync off"}
    try:
        try:
            run = inventory_push_run(store=store, full=full)
        except JobLockBusy:
            logger.info("inventory push of store %s already running; skipped", store_id)
            return {"skipped": "already running"}
        return {"sync_run": run.pk, "ok": run.ok, **run.counts}
    finally:
        # The schedule steps a day at a time; put it on the next push time of
        # day in the warehouse's zone (several times a day, DST changes).
        inventory_schedule_sync(store=store)
