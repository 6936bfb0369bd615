"""Inventory push actions for StoreAdmin: queue a task per store."""

from __future__ import annotations

from django.contrib import admin

from fulfillment.jobs.schedules import INVENTORY_PUSH_TASK
from fulfillment.orders.admin_actions import queue_per_store


def _queue(modeladmin, request, queryset, *, full: bool) -> None:
    queue_per_store(
        modeladmin,
        request,
        queryset,
        task=INVENTORY_PUSH_TASK,
        args=(full,),
        eligible=lambda s: s.is_active and s.is_connected and s.inventory_sync_enabled,
        queued_message=("Full inventory push" if full else "Inventory push")
        + " queued for {count} store(s); see Inventory pushes.",
        skipped_message="{count} store(s) skipped: inactive, not connected or inventory sync off.",
    )


@admin.action(description="Push inventory now (changed SKUs)")
def push_inventory_now(modeladmin, request, queryset) -> None:
    _queue(modeladmin, request, queryset, full=False)


@admin.action(description="Push inventory now (all SKUs)")
def push_inventory_full_now(modeladmin, request, queryset) -> None:
    _queue(modeladmin, request, queryset, full=True)
