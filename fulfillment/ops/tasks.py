"""django-q2 tasks of operations (no arguments: nothing personal is stored with them)."""

from __future__ import annotations

import datetime as dt

from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext, job_task
from fulfillment.ops.alerts import alerts_check


class AlertsCheckJob(Job):
    """Every few minutes: every alert check; one that raises fails the run, the others still ran."""

    kind = SyncRun.Kind.ALERTS
    per_store = False
    count_keys = (
        "reauthorization",
        "job_failing",
        "confirmation_rejected",
        "ship_by_near",
        "unreadable_orders",
    )
    keep_ok_runs = dt.timedelta(days=2)

    def run(self, ctx: JobContext) -> None:
        report = alerts_check()
        ctx.counts.update(report.as_dict())
        if report.errors:
            ctx.fail("Alert checks failed (the next run tries again): " + "; ".join(report.errors))


def alerts_check_task() -> dict:
    return job_task(AlertsCheckJob())
