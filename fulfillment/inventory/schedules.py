"""The inventory push schedule of each store, kept in step with the store.

One django-q2 schedule per store, named `inventory-push:store:<id>`, whose
`next_run` is the store's next push time of day in the WAREHOUSE's time zone
(django-q2's CRON type would read the server's zone). The task moves
`next_run` on to the following push time after each run; the DAILY type is
only the fallback step if a run dies before doing so. Saving a store (its
push times, its warehouse, its connection) re-computes it here, through the
same post_save path as the order schedules (fulfillment/orders/signals.py).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.utils import timezone
from django_q.models import Schedule

from connections.models import Store

INVENTORY_PUSH_TASK = "fulfillment.inventory.tasks.inventory_push_task"


def inventory_push_schedule_name(store_id: int) -> str:
    return f"inventory-push:store:{store_id}"


def next_push_time(*, times: list[dt.time], time_zone: str, after: dt.datetime) -> dt.datetime | None:
    """The first of the daily `times` (wall clock in `time_zone`) strictly after `after`, in UTC."""
    if not times:
        return None
    zone = zoneinfo.ZoneInfo(time_zone)
    local = after.astimezone(zone)
    candidates = []
    for days in (0, 1, 2):
        day = local.date() + dt.timedelta(days=days)
        for t in times:
            # fold=0: in the repeated hour of a DST change, the first occurrence.
            when = dt.datetime.combine(day, t, tzinfo=zone)
            if when.astimezone(dt.UTC) > after.astimezone(dt.UTC):
                candidates.append(when.astimezone(dt.UTC))
    return min(candidates) if candidates else None


def inventory_schedule_sync(*, store: Store, now: dt.datetime | None = None) -> Schedule | None:
    """Create, update or delete the store's inventory push schedule to match it."""
    name = inventory_push_schedule_name(store.pk)
    if not (store.is_active and store.is_connected and store.inventory_sync_enabled):
        Schedule.objects.filter(name=name).delete()
        return None
    now = now or timezone.now()
    next_run = next_push_time(times=store.push_times, time_zone=store.warehouse.time_zone, after=now)
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults=dict(
            func=INVENTORY_PUSH_TASK,
            args=repr(store.pk),
            schedule_type=Schedule.DAILY,
            repeats=-1,
            next_run=next_run,
        ),
    )
    return schedule


def inventory_schedule_delete(*, store_id: int) -> None:
    Schedule.objects.filter(name=inventory_push_schedule_name(store_id)).delete()


@receiver(post_save, sender=Store, dispatch_uid="inventory.schedule_sync")
def _store_saved(sender, instance: Store, raw: bool = False, **kwargs) -> None:
    if raw:  # loaddata: the fixture's own rows
        return
    inventory_schedule_sync(store=instance)


@receiver(post_delete, sender=Store, dispatch_uid="inventory.schedule_delete")
def _store_deleted(sender, instance: Store, **kwargs) -> None:
    inventory_schedule_delete(store_id=instance.pk)
