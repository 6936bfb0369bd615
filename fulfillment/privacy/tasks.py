"""django-q2 tasks: no arguments in, counts out (task results are stored)."""

from __future__ import annotations

from fulfillment.privacy.services import order_data_purge, personal_data_purge


def personal_data_purge_task() -> dict:
    return {"purged": personal_data_purge()}


def order_data_purge_task() -> dict:
    return {"deleted": order_data_purge()}
