"""The per-store sweep: send every due package of one store, as a job of the runner."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from connections.models import Store
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext, job_run
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.selectors import confirmations_due
from fulfillment.shipments.services.confirmation_send import claim_lease, confirmation_send

logger = logging.getLogger(__name__)

State = ShipmentConfirmation.State
_SWEEP_OUTCOMES = {
    State.ACCEPTED: "accepted",
    State.REJECTED: "rejected",
    State.RETRYING: "retrying",
    State.HELD: "held",  # its tracking number is not its carrier's: a person decides
}


def confirmations_sweep(*, store: Store, now: dt.datetime | None = None, limit: int = 5000) -> SyncRun:
    """Send every due package of one store; returns the run's record (see ConfirmationSweepJob).

    Raises fulfillment.jobs.locks.JobLockBusy (recording nothing) when a sweep of
    this store is already running.
    """
    return job_run(ConfirmationSweepJob(now=now, limit=limit), store=store)


class ConfirmationSweepJob(Job):
    """Send every due package of one store, each claimed on its own.

    The on-commit task may send single packages meanwhile: the per-row claim
    keeps them apart, so the lease only keeps two sweeps of a store from
    walking the same list; it is renewed after every package.
    """

    kind = SyncRun.Kind.SHIPMENT_CONFIRM
    count_keys = ("sent", "accepted", "rejected", "retrying", "held", "skipped", "failed")

    def __init__(self, *, now: dt.datetime | None = None, limit: int = 5000) -> None:
        self.now = now
        self.limit = limit

    def run(self, ctx: JobContext) -> None:
        store, counts = ctx.store, ctx.counts
        client = ctx.amazon_client()
        due = list(
            confirmations_due(
                store_id=store.pk, now=self.now or timezone.now(), lease=claim_lease()
            ).values_list("pk", flat=True)[: self.limit]
        )
        carriers: dict = {}  # the carrier mappings, looked up once per carrier in this sweep
        for confirmation_id in due:
            # Each package at the time it is sent: backoffs and ship dates are against it.
            try:
                state = confirmation_send(
                    confirmation_id=confirmation_id, client=client, now=self.now, carriers=carriers
                )
            except Exception:
                # One bad row never stops the store's other packages.
                logger.exception("confirmation %s failed in the sweep of store %s", confirmation_id, store.pk)
                counts["failed"] += 1
                ctx.renew()
                continue
            outcome = _SWEEP_OUTCOMES.get(state)
            if outcome is None:
                counts["skipped"] += 1  # another worker had it
                continue
            counts[outcome] += 1
            if outcome != "held":  # held before anything went to Amazon
                counts["sent"] += 1
            ctx.renew()
        if counts["rejected"] or counts["retrying"] or counts["held"] or counts["failed"]:
            # The run did its job, but packages need attention: a failed run
            # makes `confirm_shipments` exit non-zero and shows red in the admin.
            held = f", {counts['held']} held for their tracking number" if counts["held"] else ""
            error = (
                f"{counts['rejected']} rejected, {counts['retrying']} to retry{held}: "
                "see Shipment confirmations."
            )
            if counts["failed"]:
                error += f" {counts['failed']} failed unexpectedly (see the log)."
            ctx.fail(error)
