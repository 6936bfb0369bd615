"""The hourly purge of expired OAuth states, merchant links and sessions."""

from __future__ import annotations

from django.apps import apps as django_apps

PURGE_SCHEDULE_NAME = "authorization-records-purge"
PURGE_TASK = "connections.tasks.authorization_records_purge_task"


def authorization_purge_schedule_ensure(*, apps=django_apps) -> None:
    """Create or repair the schedule (idempotent; works with a migration's `apps`)."""
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=PURGE_SCHEDULE_NAME,
        defaults=dict(func=PURGE_TASK, args=None, kwargs=None, schedule_type="H", repeats=-1),  # HOURLY
    )
