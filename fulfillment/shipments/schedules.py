"""The per-store confirmation sweep schedule, kept in step with the store.

Like fulfillment/orders/schedules.py for the order download: found by a stable name
(saving a store twice changes nothing), only the store id as argument.
"""

from __future__ import annotations

from django.conf import settings
from django_q.models import Schedule

SWEEP_TASK = "fulfillment.shipments.tasks.confirmations_sweep_task"


def confirmation_sweep_schedule_name(store_id: int) -> str:
    return f"shipment-confirm:store:{store_id}"


def confirmation_schedule_sync(*, store) -> None:
    """Create, update or delete the store's sweep schedule to match the store."""
    name = confirmation_sweep_schedule_name(store.pk)
    if not (store.is_active and store.is_connected):
        Schedule.objects.filter(name=name).delete()
        return
    Schedule.objects.update_or_create(
        name=name,
        defaults=dict(
            func=SWEEP_TASK,
            args=repr(store.pk),
            schedule_type=Schedule.MINUTES,
            minutes=settings.CONFIRMATION_SWEEP_MINUTES,
            repeats=-1,
        ),
    )


def confirmation_schedule_delete(*, store_id: int) -> None:
    Schedule.objects.filter(name=confirmation_sweep_schedule_name(store_id)).delete()
