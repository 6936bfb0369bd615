"""The per-store sweep: send every due package of one store, under the store's lease."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.utils import timezone

from connections.amazon import CallStats, amazon_client
from connections.models import Store
from fulfillment.jobs.errors import job_failure
from fulfillment.jobs.locks import store_job_lock
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runs import sync_run_finish, sync_run_start
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.selectors import confirmations_due
from fulfillment.shipments.services.confirmation_send import claim_lease, confirmation_send

logger = logging.getLogger(__name__)

State = ShipmentConfirmation.State
SWEEP_LOCK_KIND = SyncRun.Kind.SHIPMENT_CONFIRM
# Lease of the per-store sweep; renewed after every package.
SWEEP_LEASE_SECONDS = 600


@dataclass
class SweepCounts:
    sent: int = 0
    accepted: int = 0
    rejected: int = 0
    retrying: int = 0
    skipped: int = 0
    failed: int = 0  # rows that raised (left for the next sweep or a person)

    def as_dict(self) -> dict:
        return {
            "sent": self.sent,
            "accepted": self.accepted,
            "rejected": self.rejected,
            "retrying": self.retrying,
            "skipped": self.skipped,
            "failed": self.failed,
        }


def confirmations_sweep(*, store: Store, now: dt.datetime | None = None, limit: int = 5000) -> SyncRun:
    """Send every due package of one store; returns the run's record.

    Raises fulfillment.jobs.locks.JobLockBusy (recording nothing) when a sweep of
    this store is already running. The on-commit task may send single
    packages meanwhile: the per-row claim keeps them apart.
    """
    with store_job_lock(store=store, kind=SWEEP_LOCK_KIND, lease_seconds=SWEEP_LEASE_SECONDS) as lease:
        run = sync_run_start(store=store, kind=SWEEP_LOCK_KIND)
        stats = CallStats()
        counts = SweepCounts()
        ok, error = True, ""
        try:
            client = amazon_client(store, stats=stats)
            start = now or timezone.now()
            due = list(
                confirmations_due(store_id=store.pk, now=start, lease=claim_lease()).values_list(
                    "pk", flat=True
                )[:limit]
            )
            for confirmation_id in due:
                # Each package at the time it is sent: backoffs and ship dates are against it.
                try:
                    state = confirmation_send(confirmation_id=confirmation_id, client=client, now=now)
                except Exception:
                    # One bad row never stops the store's other packages.
                    logger.exception(
                        "confirmation %s failed in the sweep of store %s", confirmation_id, store.pk
                    )
                    counts.failed += 1
                    lease.renew()
                    continue
                if state == State.ACCEPTED:
                    counts.accepted += 1
                elif state == State.REJECTED:
                    counts.rejected += 1
                elif state == State.RETRYING:
                    counts.retrying += 1
                else:
                    counts.skipped += 1  # another worker had it
                    continue
                counts.sent += 1
                lease.renew()
            if counts.rejected or counts.retrying or counts.failed:
                # The run did its job, but packages need attention: a failed run
                # makes `confirm_shipments` exit non-zero and shows red in the admin.
                ok = False
                error = f"{counts.rejected} rejected, {counts.retrying} to retry: see Shipment confirmations."
                if counts.failed:
                    error += f" {counts.failed} failed unexpectedly (see the log)."
        except Exception as exc:
            ok, error = False, job_failure(logger, f"confirmation sweep of store {store.pk}", exc)
        return sync_run_finish(
            run=run,
            ok=ok,
            counts=counts.as_dict(),
            api_calls=stats.api_calls,
            throttled=stats.throttled,
            error=error,
        )
