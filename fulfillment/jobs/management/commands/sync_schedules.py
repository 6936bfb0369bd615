"""`manage.py sync_schedules`: make django-q2's schedules match the registry now.

bin/release and bin/demo run it after `migrate`, so a fresh install has its
schedules before the task cluster starts; running it again changes nothing.
"""

from __future__ import annotations

from fulfillment.jobs.commands import GlobalJobCommand
from fulfillment.jobs.tasks import SchedulesRepairJob


class Command(GlobalJobCommand):
    help = "Create, update or delete django-q2 schedules to match fulfillment/jobs/schedules.py."

    def job(self, **options):
        return SchedulesRepairJob()

    def summary(self, run) -> str:
        c = run.counts
        return f"schedules: {c['created']} created, {c['updated']} updated, {c['deleted']} deleted"
