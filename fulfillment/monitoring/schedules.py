"""The heartbeat's django-q2 schedule (every minute, no arguments)."""

from __future__ import annotations

from django.apps import apps as django_apps

HEARTBEAT_NAME = "task-cluster"
HEARTBEAT_SCHEDULE_NAME = "monitoring-heartbeat"
HEARTBEAT_TASK = "fulfillment.monitoring.tasks.heartbeat_task"


def heartbeat_schedule_ensure(*, apps=django_apps) -> None:
    """Create or update the schedule (idempotent; works with a migration's `apps`)."""
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=HEARTBEAT_SCHEDULE_NAME,
        defaults=dict(func=HEARTBEAT_TASK, schedule_type="I", minutes=1, repeats=-1),  # "I" = MINUTES
    )
