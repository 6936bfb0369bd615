"""Jobs of the jobs app and their django-q2 tasks (no arguments; a summary out): the
schedule repair, and the purge of spent authorization records (connections sit
below the jobs, so their job is run from here)."""

from __future__ import annotations

import datetime as dt

from connections.purge import authorization_records_purge
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext, job_task
from fulfillment.jobs.schedules import schedules_sync


class SchedulesRepairJob(Job):
    """Every few minutes: the whole schedule sync, for whatever changed without calling it."""

    kind = SyncRun.Kind.SCHEDULES_REPAIR
    per_store = False
    count_keys = ("created", "updated", "deleted")
    keep_ok_runs = dt.timedelta(days=2)

    def run(self, ctx: JobContext) -> None:
        ctx.counts.update(schedules_sync())


class AuthorizationPurgeJob(Job):
    """Hourly: expired OAuth states, merchant links and sessions go."""

    kind = SyncRun.Kind.AUTHORIZATION_PURGE
    per_store = False
    count_keys = ("oauth_states", "merchant_links")

    def run(self, ctx: JobContext) -> None:
        ctx.counts.update(authorization_records_purge())


def schedules_repair_task() -> dict:
    return job_task(SchedulesRepairJob())


def authorization_records_purge_task() -> dict:
    return job_task(AuthorizationPurgeJob())
