"""The purge jobs and their django-q2 tasks: no arguments in, counts out (task results are stored)."""

from __future__ import annotations

from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext, job_task
from fulfillment.privacy.services import order_data_purge, personal_data_purge


class PersonalDataPurgeJob(Job):
    """Daily: blank the buyer data of orders closed more than PII_RETENTION_DAYS ago."""

    kind = SyncRun.Kind.PERSONAL_DATA_PURGE
    per_store = False
    count_keys = ("purged",)

    def __init__(self, *, days: int | None = None) -> None:
        self.days = days

    def run(self, ctx: JobContext) -> None:
        ctx.counts["purged"] = personal_data_purge(days=self.days)


class OrderDataPurgeJob(Job):
    """Daily: delete order data past ORDER_DATA_RETENTION_DAYS; counts are rows per model label."""

    kind = SyncRun.Kind.ORDER_DATA_PURGE
    per_store = False

    def __init__(self, *, days: int | None = None) -> None:
        self.days = days

    def run(self, ctx: JobContext) -> None:
        ctx.counts.update(order_data_purge(days=self.days))


def personal_data_purge_task() -> dict:
    return job_task(PersonalDataPurgeJob())


def order_data_purge_task() -> dict:
    return job_task(OrderDataPurgeJob())
