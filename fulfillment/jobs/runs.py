"""Sync-run rows: every job run records what it did, for operators to read.

Written by the job runner (fulfillment/jobs/runner.py) for every job: start a
row, finish it with counts, API calls and the error.
"""

from __future__ import annotations

from django.utils import timezone

from fulfillment.core.logs import job_context_set
from fulfillment.jobs.models import SyncRun


def sync_run_start(*, store, kind: str) -> SyncRun:
    run = SyncRun.objects.create(store=store, kind=kind, started_at=timezone.now())
    # Every log line of this run from here on names the store and the run.
    job_context_set(store_id=store.pk if store is not None else None, run_id=run.pk)
    return run


def sync_run_finish(
    *,
    run: SyncRun,
    ok: bool,
    counts: dict | None = None,
    api_calls: int = 0,
    throttled: int = 0,
    error: str = "",
    notes: str = "",
) -> SyncRun:
    run.finished_at = timezone.now()
    run.ok = ok
    if counts is not None:
        run.counts = counts
    run.api_calls = api_calls
    run.throttled = throttled
    # Errors are ours or Amazon's messages, never tokens; keep the row readable.
    run.error = error[:4000]
    run.notes = notes
    run.save(update_fields=["finished_at", "ok", "counts", "api_calls", "throttled", "error", "notes"])
    return run
