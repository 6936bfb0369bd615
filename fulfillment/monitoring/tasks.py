"""django-q2 tasks of monitoring (no arguments)."""

from __future__ import annotations

from django.utils import timezone

from fulfillment.monitoring.services import heartbeat_record


def heartbeat_task() -> dict:
    now = timezone.now()
    heartbeat_record(now=now)
    return {"beat_at": now.isoformat()}
