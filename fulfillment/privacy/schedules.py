"""The daily purge schedule, created idempotently (found by its stable name)."""

from __future__ import annotations

from django_q.models import Schedule

PURGE_SCHEDULE_NAME = "personal-data-purge"
PURGE_TASK = "fulfillment.privacy.tasks.personal_data_purge_task"


def personal_data_purge_schedule_ensure() -> Schedule:
    """Create or repair the daily purge schedule; running it twice changes nothing."""
    schedule, _ = Schedule.objects.update_or_create(
        name=PURGE_SCHEDULE_NAME,
        defaults=dict(func=PURGE_TASK, args=None, kwargs=None, schedule_type=Schedule.DAILY, repeats=-1),
    )
    return schedule
