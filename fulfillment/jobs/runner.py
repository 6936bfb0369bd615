"""One runner for every background job, per store or not.

    run = job_run(OrderDownload(), store=store)   # a job of one store
    run = job_run(PersonalDataPurge())             # a job for every store at once
    job_task(OrderDownload(), store_id)            # as django-q2 runs it: an id in, a summary out

A job is a small class (`Job`) whose `run(ctx)` does only its work: it reads
its store from `ctx.store`, fills `ctx.counts`, builds its SP-API client with
`ctx.amazon_client()` (so the run row gets its calls and throttles), renews
its lease with `ctx.renew()` between steps, leaves `ctx.notes` for operators
and calls `ctx.fail(message)` when it did its work but something needs a
person. The runner does the rest, the same way for every job:

1. a per-store job takes the store's lease for the job (fulfillment/jobs/locks.py);
   `JobLockBusy` when another worker holds it, and nothing is recorded. Jobs
   for every store run without a lease: each is safe to run twice at once
   (they claim rows one by one, or delete what is already gone);
2. a SyncRun row, running (`ok` empty) until the job ends, with the counts,
   the API calls and throttles, the notes and the error;
3. Amazon refusing the store's refresh token (`ReauthorizationRequired`) is
   recorded on the store, which leaves the connected stores and loses its
   schedules, and the run fails saying so;
4. any other exception fails the run with a message that carries no buyer
   data (fulfillment/jobs/errors.py), its frames logged;
5. in `finally`, whatever happened, the store's schedules are brought in step
   with the registry (fulfillment/jobs/schedules.py) after a run that did not
   succeed (the job, or a service it called, may have found the store's token
   refused) and after every run of a job with `reschedule = True`.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

from connections.amazon import AmazonClient, CallStats, ReauthorizationRequired, amazon_client
from connections.models import Store
from fulfillment.jobs.errors import job_failure, safe_error
from fulfillment.jobs.locks import DEFAULT_LEASE_SECONDS, JobLease, JobLockBusy, store_job_lock
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runs import sync_run_finish, sync_run_start

logger = logging.getLogger(__name__)

REAUTHORIZATION_MESSAGE = (
    "Amazon refused the store's authorization: the store needs re-authorization, and its jobs "
    "stop until someone authorizes it again (store page, Authorize or Send to merchant)."
)


@dataclass
class JobContext:
    """What the runner hands a job: its store, lease, counts and call statistics."""

    run: SyncRun
    store: Store | None = None
    lease: JobLease | None = None
    counts: Counter[str] = field(default_factory=Counter)
    stats: CallStats = field(default_factory=CallStats)
    notes: str = ""
    failure: str = ""

    def amazon_client(self) -> AmazonClient:
        """The store's SP-API client, counting into this run's calls and throttles."""
        if self.store is None:
            raise RuntimeError("a job for every store has no Amazon client")
        return amazon_client(self.store, stats=self.stats)

    def renew(self) -> None:
        """Between steps: keep the lease (cheap; raises JobLockLost if another worker took it)."""
        if self.lease is not None:
            self.lease.renew()

    def fail(self, message: str) -> None:
        """The job did its work, but the run counts as failed (red in the admin, exit 1)."""
        self.failure = message


class Job:
    """One background job. Subclasses set `kind` and write `run`."""

    kind: ClassVar[str]
    #: A job of one store (its lease, its run rows), or one for every store at once.
    per_store: ClassVar[bool] = True
    #: The lease's kind when the job shares another job's lease (the reconciliation the download's).
    lease_kind: ClassVar[str | None] = None
    lease_seconds: ClassVar[int] = DEFAULT_LEASE_SECONDS
    #: Counts every run row shows, 0 when nothing happened (others appear when counted).
    count_keys: ClassVar[tuple[str, ...]] = ()
    #: After every run, not only a failed one, bring the store's schedules in step.
    reschedule: ClassVar[bool] = False
    #: Successful runs kept this long (jobs that run every few minutes); None: kept with the
    #: order data (ORDER_DATA_RETENTION_DAYS). Failed runs are always kept.
    keep_ok_runs: ClassVar[dt.timedelta | None] = None

    def run(self, ctx: JobContext) -> None:
        raise NotImplementedError

    def eligible(self, store: Store) -> bool:
        """Whether a task should run the job for this store now (the command says why not)."""
        return store.is_active and store.is_connected

    #: What a task returns when `eligible` says no.
    not_eligible = "store missing, inactive or not connected"

    @property
    def label(self) -> str:
        return SyncRun.Kind(self.kind).label.lower()


def _describe(job: Job, store: Store | None) -> str:
    return f"{job.label} of store {store.pk}" if store is not None else job.label


@contextlib.contextmanager
def _lease(job: Job, store: Store | None) -> Iterator[JobLease | None]:
    if store is None:
        yield None
        return
    with store_job_lock(
        store=store, kind=job.lease_kind or job.kind, lease_seconds=job.lease_seconds
    ) as lease:
        yield lease


def _reauthorization_record(*, store: Store | None, error: ReauthorizationRequired) -> str:
    """Record on the store that Amazon refused its token; the run's error message."""
    from connections.services import store_mark_needs_reauthorization

    # A store that holds no token at all was never refused: nothing to record.
    if store is None or error.code == "not_authorized":
        return safe_error(error)
    store_mark_needs_reauthorization(store=store, reason=error.message)
    return REAUTHORIZATION_MESSAGE


def job_run(job: Job, *, store: Store | None = None) -> SyncRun:
    """Run `job` (for `store` if it is a per-store job) and return its run row.

    Raises JobLockBusy, recording nothing, when another worker holds the
    store's lease for the job.
    """
    if job.per_store != (store is not None):
        raise ValueError(f"{job.label}: {'a store is needed' if job.per_store else 'takes no store'}")
    with _lease(job, store) as lease:
        ctx = JobContext(
            run=sync_run_start(store=store, kind=job.kind),
            store=store,
            lease=lease,
            counts=Counter(dict.fromkeys(job.count_keys, 0)),
        )
        ok, error = False, ""
        try:
            job.run(ctx)
            ok, error = not ctx.failure, ctx.failure
        except ReauthorizationRequired as exc:
            error = _reauthorization_record(store=store, error=exc)
            logger.warning("%s failed: %s", _describe(job, store), safe_error(exc))
        except Exception as exc:
            error = job_failure(logger, _describe(job, store), exc)
        finally:
            if store is not None and (job.reschedule or not ok):
                _reschedule(job, store)
        run = sync_run_finish(
            run=ctx.run,
            ok=ok,
            counts=dict(ctx.counts),
            api_calls=ctx.stats.api_calls,
            throttled=ctx.stats.throttled,
            error=error,
            notes=ctx.notes,
        )
    if job.keep_ok_runs is not None and ok:
        SyncRun.objects.filter(
            store=store, kind=job.kind, ok=True, started_at__lt=run.started_at - job.keep_ok_runs
        ).delete()
    return run


def _reschedule(job: Job, store: Store) -> None:
    from fulfillment.jobs.schedules import schedules_sync

    try:
        schedules_sync(store=store)
    except Exception as exc:
        # The schedule repair does it within minutes; the run's own outcome stands.
        job_failure(logger, f"rescheduling after the {_describe(job, store)}", exc)


def job_task(job: Job, store_id: int | None = None) -> dict:
    """A django-q2 task's body: re-read the store, run the job, return ids, flags and counts.

    django-q2 stores task arguments and results: only ids go in, only
    counts and lowercase words come out, never buyer data.
    """
    store = None
    if job.per_store:
        store = Store.objects.select_related("marketplace", "warehouse").filter(pk=store_id).first()
        if store is None or not job.eligible(store):
            return {"skipped": job.not_eligible}
    try:
        run = job_run(job, store=store)
    except JobLockBusy:
        logger.info("%s already running; skipped", _describe(job, store))
        return {"skipped": "already running"}
    return {"sync_run": run.pk, "ok": run.ok, **run.counts}
