"""django-q2 task of the inventory push: takes a store id, runs the job through the job runner."""

from __future__ import annotations

from fulfillment.inventory.services import InventoryPushJob
from fulfillment.jobs.runner import job_task


def inventory_push_task(store_id: int, full: bool = False) -> dict:
    return job_task(InventoryPushJob(full=full), store_id)
