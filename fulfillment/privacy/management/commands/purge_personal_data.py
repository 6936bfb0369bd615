"""`manage.py purge_personal_data [--days N]`: blank buyer data of orders closed long enough."""

from __future__ import annotations

from django.core.management.base import CommandError

from fulfillment.jobs.commands import GlobalJobCommand
from fulfillment.privacy.tasks import PersonalDataPurgeJob


class Command(GlobalJobCommand):
    help = (
        "Blank buyer names, addresses, phones and gift messages of orders shipped or cancelled "
        "more than PII_RETENTION_DAYS days ago. Also runs daily as a django-q2 schedule."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days", type=int, help="Retention in days for this run (default: settings.PII_RETENTION_DAYS)."
        )

    def job(self, *, days: int | None = None, **options):
        if days is not None and days < 0:
            raise CommandError("--days must be 0 or more.")
        return PersonalDataPurgeJob(days=days)

    def summary(self, run) -> str:
        return f"personal data purged from {run.count('purged')} order(s)"
