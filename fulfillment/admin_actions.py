"""Admin actions other apps' admins use (e.g. StoreAdmin.actions = [pull_orders_now])."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django_q.tasks import async_task

from fulfillment.schedules import ORDER_PULL_TASK


@admin.action(description="Pull orders now")
def pull_orders_now(modeladmin, request, queryset) -> None:
    """Queue an order download per store; nothing waits on Amazon in the request."""
    queued = skipped = 0
    for store in queryset.only("pk", "is_active", "authorization_status"):
        if not (store.is_active and store.is_connected):
            skipped += 1
            continue
        # Queued once the request's transaction commits, with the id only.
        transaction.on_commit(lambda pk=store.pk: async_task(ORDER_PULL_TASK, pk))
        queued += 1
    if queued:
        modeladmin.message_user(
            request, f"Order download queued for {queued} store(s); see Sync runs.", messages.SUCCESS
        )
    if skipped:
        modeladmin.message_user(
            request, f"{skipped} store(s) skipped: inactive or not connected.", messages.WARNING
        )
