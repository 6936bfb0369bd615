"""The operations alert checks' django-q2 schedule (every few minutes, no arguments)."""

from __future__ import annotations

from django.apps import apps as django_apps

ALERTS_SCHEDULE_NAME = "ops-alerts-check"
ALERTS_TASK = "fulfillment.ops.tasks.alerts_check_task"
ALERTS_EVERY_MINUTES = 5


def alerts_schedule_ensure(*, apps=django_apps) -> None:
    """Create or update the schedule (idempotent; works with a migration's `apps`)."""
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=ALERTS_SCHEDULE_NAME,
        defaults=dict(
            func=ALERTS_TASK,
            schedule_type="I",  # Schedule.MINUTES
            minutes=ALERTS_EVERY_MINUTES,
            repeats=-1,
        ),
    )
