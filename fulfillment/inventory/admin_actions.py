"""Admin action other apps' admins use: StoreAdmin.actions = [push_inventory_now]."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django_q.tasks import async_task

from .schedules import INVENTORY_PUSH_TASK


def _queue(modeladmin, request, queryset, *, full: bool) -> None:
    queued = skipped = 0
    for store in queryset.only("pk", "is_active", "authorization_status", "inventory_sync_enabled"):
        if not (store.is_active and store.is_connected and store.inventory_sync_enabled):
            skipped += 1
            continue
        # Queued once the request's transaction commits, with the id only.
        transaction.on_commit(lambda pk=store.pk: async_task(INVENTORY_PUSH_TASK, pk, full))
        queued += 1
    if queued:
        what = "Full inventory push" if full else "Inventory push"
        modeladmin.message_user(
            request, f"{what} queued for {queued} store(s); see Inventory pushes.", messages.SUCCESS
        )
    if skipped:
        modeladmin.message_user(
            request,
            f"{skipped} store(s) skipped: inactive, not connected or inventory sync off.",
            messages.WARNING,
        )


@admin.action(description="Push inventory now (changed SKUs)")
def push_inventory_now(modeladmin, request, queryset) -> None:
    _queue(modeladmin, request, queryset, full=False)


@admin.action(description="Push inventory now (all SKUs)")
def push_inventory_full_now(modeladmin, request, queryset) -> None:
    _queue(modeladmin, request, queryset, full=True)
