"""django-q2 task: no arguments in, a count out (task results are stored)."""

from __future__ import annotations

from .services import personal_data_purge


def personal_data_purge_task() -> dict:
    return {"purged": personal_data_purge()}
