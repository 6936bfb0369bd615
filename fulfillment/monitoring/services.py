"""Writes of monitoring: the task cluster's heartbeat."""

from __future__ import annotations

import datetime as dt

from fulfillment.monitoring.models import Heartbeat

# The task cluster's heartbeat row (its schedule: fulfillment/jobs/schedules.py).
HEARTBEAT_NAME = "task-cluster"


def heartbeat_record(*, now: dt.datetime) -> None:
    """One UPDATE (an INSERT the first time); never moves the heartbeat back."""
    if not Heartbeat.objects.filter(name=HEARTBEAT_NAME, beat_at__lt=now).update(beat_at=now):
        Heartbeat.objects.get_or_create(name=HEARTBEAT_NAME, defaults={"beat_at": now})
