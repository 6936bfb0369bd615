"""The shape the job commands share: each runs its job through the job runner
(fulfillment/jobs/runner.py), so a run from the command line writes the same
run row as the scheduled one.

`StoreJobCommand` (pull_orders, reconcile_orders, confirm_shipments,
push_inventory) runs the job for one store or every eligible store, prints
one line per store, and exits non-zero when any store did not run well: 1
when a store failed, 75 (EX_TEMPFAIL, "try again later") when the only
trouble was that another worker held a store's job lease, so the command did
nothing for it. Scripts and cron wrappers rely on that (README, "Order
download").

`GlobalJobCommand` (purge_personal_data, purge_order_data, sync_schedules)
runs a job for every store at once, prints its summary and exits 1 when the
run failed.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db.models import QuerySet

from connections.models import Store
from fulfillment.jobs.locks import JobLockBusy
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, job_run

#: Exit status when nothing failed but a lease kept the job from running for a store.
EXIT_LEASE_BUSY = 75


class StoreJobCommand(BaseCommand):
    #: How the job is named in "NOT RUN: … is already running".
    job_name = "the job"

    def add_arguments(self, parser):
        parser.add_argument("--store", help="Only this store (its nickname). Default: every connected store.")

    def eligible_stores(self) -> QuerySet[Store]:
        return Store.objects.connected()

    def job(self, **options) -> Job:
        raise NotImplementedError

    def summary(self, run: SyncRun) -> str:
        raise NotImplementedError

    def failed(self, run: SyncRun) -> str | None:
        """Why the run counts as failed, or None."""
        return None if run.ok else run.error or "failed"

    def handle(self, *args, store: str | None = None, **options):
        stores = self.eligible_stores()
        if store:
            stores = Store.objects.filter(name=store)
            if not stores.exists():
                raise CommandError(f"No store named {store!r}.")
        failures = busy = 0
        for s in stores.select_related("marketplace", "warehouse"):
            if not (s.is_active and s.is_connected):
                failures += 1
                self.stdout.write(self.style.ERROR(f"{s.name}: FAILED: the store is not connected to Amazon"))
                continue
            try:
                run = job_run(self.job(**options), store=s)
            except JobLockBusy as exc:
                busy += 1
                until = f" (its lease runs until {exc.held_until:%H:%M:%S} UTC)" if exc.held_until else ""
                self.stdout.write(
                    self.style.WARNING(
                        f"{s.name}: NOT RUN: {self.job_name} is already running for this store{until}; "
                        "nothing was done, try again later"
                    )
                )
                continue
            line = f"{s.name}: {self.summary(run)}"
            reason = self.failed(run)
            if reason is None:
                self.stdout.write(line)
            else:
                failures += 1
                self.stdout.write(self.style.ERROR(f"{line}; FAILED: {reason}"))
        if failures:
            also = f"; {busy} not run (lease held)" if busy else ""
            raise CommandError(f"{failures} store(s) failed{also}.", returncode=1)
        if busy:
            raise CommandError(
                f"{busy} store(s) not run: another worker holds the job's lease.", returncode=EXIT_LEASE_BUSY
            )


class GlobalJobCommand(BaseCommand):
    """A job for every store at once, run now."""

    def job(self, **options) -> Job:
        raise NotImplementedError

    def summary(self, run: SyncRun) -> str:
        raise NotImplementedError

    def handle(self, *args, **options):
        run = job_run(self.job(**options))
        if not run.ok:
            raise CommandError(f"{self.summary(run)}; FAILED: {run.error or 'failed'}", returncode=1)
        self.stdout.write(self.summary(run))
