"""django-q2 tasks of operations (no arguments: nothing personal is stored with them)."""

from __future__ import annotations

from fulfillment.ops.alerts import alerts_check


def alerts_check_task() -> dict:
    return alerts_check().as_dict()
