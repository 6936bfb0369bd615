"""django-q2 schedules per store, kept in step with the store.

Each store has an order download every `order_pull_minutes` and a daily
reconciliation while it is active and connected; otherwise it has none.
Schedules are found by a stable name, so saving a store twice changes
nothing, and carry only the store id (schedule arguments are stored and go
through `ast.literal_eval`: never PII).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django_q.models import Schedule

ORDER_PULL_TASK = "fulfillment.orders.tasks.order_pull_task"
ORDER_RECONCILE_TASK = "fulfillment.orders.tasks.order_reconcile_task"


def order_pull_schedule_name(store_id: int) -> str:
    return f"order-pull:store:{store_id}"


def order_reconcile_schedule_name(store_id: int) -> str:
    return f"order-reconcile:store:{store_id}"


def store_schedules_sync(*, store) -> None:
    """Create, update or delete the store's order schedules to match it."""
    names = [order_pull_schedule_name(store.pk), order_reconcile_schedule_name(store.pk)]
    if not (store.is_active and store.is_connected):
        Schedule.objects.filter(name__in=names).delete()
        return
    args = repr(store.pk)
    now = timezone.now()
    pull, _ = Schedule.objects.update_or_create(
        name=names[0],
        defaults=dict(
            func=ORDER_PULL_TASK,
            args=args,
            schedule_type=Schedule.MINUTES,
            minutes=store.order_pull_minutes,
            repeats=-1,
        ),
    )
    # A shorter interval takes effect now, not after the old, longer wait.
    soonest = now + dt.timedelta(minutes=store.order_pull_minutes)
    if pull.next_run is None or pull.next_run > soonest:
        Schedule.objects.filter(pk=pull.pk).update(next_run=soonest)
    Schedule.objects.update_or_create(
        name=names[1],
        defaults=dict(func=ORDER_RECONCILE_TASK, args=args, schedule_type=Schedule.DAILY, repeats=-1),
        # The first reconciliation a day after connecting, not on top of the first download.
        create_defaults=dict(
            func=ORDER_RECONCILE_TASK,
            args=args,
            schedule_type=Schedule.DAILY,
            repeats=-1,
            next_run=now + dt.timedelta(days=1),
        ),
    )


def store_schedules_delete(*, store_id: int) -> None:
    Schedule.objects.filter(
        name__in=[order_pull_schedule_name(store_id), order_reconcile_schedule_name(store_id)]
    ).delete()


STORE_SCHEDULES_SYNC_NAME = "store-schedules-sync"
STORE_SCHEDULES_SYNC_TASK = "fulfillment.orders.tasks.store_schedules_sync_task"
_PULL_PREFIX = "order-pull:store:"
_RECONCILE_PREFIX = "order-reconcile:store:"


def stores_schedules_sync_all() -> int:
    """Bring every store's schedules in step; returns how many stores changed.

    The post_save signal covers saves; this covers changes made with
    QuerySet.update(), which sends no signal (e.g. a store connected or marked
    for re-authorization by connections' services), and stores deleted in bulk.
    Scheduled every few minutes by migration 0004; reads everything in three
    queries and writes only what differs.
    """
    from connections.models import Store

    existing: dict[str, int | None] = dict(
        Schedule.objects.filter(name__startswith="order-").values_list("name", "minutes")
    )
    changed = 0
    seen: set[str] = set()
    for store in Store.objects.only("pk", "is_active", "authorization_status", "order_pull_minutes"):
        pull, reconcile = order_pull_schedule_name(store.pk), order_reconcile_schedule_name(store.pk)
        seen.update((pull, reconcile))
        wanted = store.is_active and store.is_connected
        in_step = (
            existing.get(pull) == store.order_pull_minutes and reconcile in existing
            if wanted
            else pull not in existing and reconcile not in existing
        )
        if not in_step:
            store_schedules_sync(store=store)
            changed += 1
    orphans = [
        name for name in existing if name.startswith((_PULL_PREFIX, _RECONCILE_PREFIX)) and name not in seen
    ]
    if orphans:
        Schedule.objects.filter(name__in=orphans).delete()
    return changed
