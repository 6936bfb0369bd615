"""django-q2 entry points: thin, they run jobs through the job runner."""

from __future__ import annotations

import datetime as dt

from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext, job_task
from fulfillment.wms.services import webhook_deliveries_sweep


class WebhookSweepJob(Job):
    """Every minute while a webhook is on: queue newly released orders, POST what is due."""

    kind = SyncRun.Kind.WEBHOOK_SWEEP
    per_store = False
    count_keys = ("enqueued", "sent", "failed", "retrying", "skipped")
    keep_ok_runs = dt.timedelta(days=2)

    def run(self, ctx: JobContext) -> None:
        ctx.counts.update(webhook_deliveries_sweep())


def webhook_sweep_task() -> dict:
    return job_task(WebhookSweepJob())
