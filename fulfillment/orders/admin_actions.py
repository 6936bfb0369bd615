"""Admin actions that queue a job per store (used on StoreAdmin).

Nothing in the request waits on Amazon: each action queues a django-q2 task
with the store id only, once the request's transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db import transaction
from django_q.tasks import async_task

from connections.models import Store
from fulfillment.jobs.schedules import ORDER_PULL_TASK


def queue_per_store(
    modeladmin,
    request,
    queryset,
    *,
    task: str,
    args: tuple = (),
    eligible: Callable[[Store], bool],
    queued_message: str,
    skipped_message: str,
) -> None:
    queued = skipped = 0
    # The changelist's queryset joins marketplace and warehouse; drop that:
    # only the flags and the id are read.
    for store in queryset.select_related(None).only(
        "pk", "is_active", "authorization_status", "inventory_sync_enabled"
    ):
        if not eligible(store):
            skipped += 1
            continue
        transaction.on_commit(lambda pk=store.pk: async_task(task, pk, *args))
        queued += 1
    if queued:
        modeladmin.message_user(request, queued_message.format(count=queued), messages.SUCCESS)
    if skipped:
        modeladmin.message_user(request, skipped_message.format(count=skipped), messages.WARNING)


def _connected(store: Store) -> bool:
    return store.is_active and store.is_connected


@admin.action(description="Pull orders now")
def pull_orders_now(modeladmin, request, queryset) -> None:
    queue_per_store(
        modeladmin,
        request,
        queryset,
        task=ORDER_PULL_TASK,
        eligible=_connected,
        queued_message="Order download queued for {count} store(s); see Sync runs.",
        skipped_message="{count} store(s) skipped: inactive or not connected.",
    )
