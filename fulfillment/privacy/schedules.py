"""The daily purge schedules, created idempotently (found by their stable names)."""

from __future__ import annotations

from django_q.models import Schedule

PURGE_SCHEDULE_NAME = "personal-data-purge"
PURGE_TASK = "fulfillment.privacy.tasks.personal_data_purge_task"
ORDER_DATA_PURGE_SCHEDULE_NAME = "order-data-purge"
ORDER_DATA_PURGE_TASK = "fulfillment.privacy.tasks.order_data_purge_task"


def _daily_ensure(*, name: str, func: str) -> Schedule:
    schedule, _ = Schedule.objects.update_or_create(
        name=name,
        defaults=dict(func=func, args=None, kwargs=None, schedule_type=Schedule.DAILY, repeats=-1),
    )
    return schedule


def personal_data_purge_schedule_ensure() -> Schedule:
    """Create or repair the daily purge schedule; running it twice changes nothing."""
    return _daily_ensure(name=PURGE_SCHEDULE_NAME, func=PURGE_TASK)


def order_data_purge_schedule_ensure() -> Schedule:
    """Create or repair the daily order data purge schedule; running it twice changes nothing."""
    return _daily_ensure(name=ORDER_DATA_PURGE_SCHEDULE_NAME, func=ORDER_DATA_PURGE_TASK)
