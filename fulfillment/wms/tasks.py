"""django-q2 entry points: thin, they call services."""

from __future__ import annotations

from fulfillment.wms.services import webhook_deliveries_sweep

WEBHOOK_SWEEP_TASK = "fulfillment.wms.tasks.webhook_sweep_task"
WEBHOOK_SWEEP_SCHEDULE = "wms-webhook-sweep"


def webhook_sweep_task() -> dict[str, int]:
    return webhook_deliveries_sweep()
