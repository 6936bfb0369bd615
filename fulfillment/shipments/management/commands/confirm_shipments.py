"""`manage.py confirm_shipments [--store NAME]`: send pending confirmations now, one line per store."""

from __future__ import annotations

from fulfillment.jobs.commands import StoreJobCommand
from fulfillment.shipments.services.confirmations import ConfirmationSweepJob


class Command(StoreJobCommand):
    help = "Send pending shipment confirmations to Amazon now. Exits 1 if any store failed."
    job_name = "a confirmation run"

    def job(self, **options):
        return ConfirmationSweepJob()

    def summary(self, run) -> str:
        c = run.counts
        return (
            f"{c.get('sent', 0)} sent, {c.get('accepted', 0)} accepted, {c.get('rejected', 0)} rejected, "
            f"{c.get('retrying', 0)} retrying, {run.api_calls} API calls, {run.throttled} throttled"
        )
