"""django-q2 tasks of the Amazon side: no arguments in, counts out."""

from __future__ import annotations

from .purge import authorization_records_purge


def authorization_records_purge_task() -> dict[str, int]:
    return authorization_records_purge()
