"""Per-store job leases: a job for a store never runs twice at once.

A lease is a `JobLock` row per (store, kind). It is taken with a
compare-and-set UPDATE that only matches an expired lease, so exactly one
process wins, on SQLite (the demo) and on PostgreSQL across machines. It is
not a row lock held for the whole transaction: the order download commits
each page on its own (so its watermark can advance) and renews the lease
between pages.

Leases are short (a minute by default) so that a worker that was killed
frees its store within about a minute; a live worker renews its lease as it
goes (`renew()` between steps), at every SP-API call and while it waits on
Amazon's rate limiter or a retry backoff (`store_job_lock` installs the
renewal as the limiter's heartbeat for the block). The job runner
(fulfillment/jobs/runner.py) takes it for every per-store job.

    with store_job_lock(store=store, kind="order_pull") as lock:
        for page in pages:
            ...
            lock.renew()

`JobLockBusy` is raised on entry when another worker holds the lease.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

from connections import ratelimit
from fulfillment.core.errors import ValueFreeError
from fulfillment.jobs.models import JobLock

_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
# Long enough for the slowest single step a job takes between renewals (an
# SP-API call with its timeout, a page written); short enough that a killed
# worker's store is free again within about a minute.
DEFAULT_LEASE_SECONDS = 60


class JobLockBusy(ValueFreeError):
    """Another worker holds the lease for this store and job."""

    def __init__(self, message: str, *, held_until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.held_until = held_until


class JobLockLost(ValueFreeError):
    """The lease expired and another worker took it: stop before writing more."""


def _new_owner() -> str:
    # Host and pid help an operator reading the table; the uuid makes it unique.
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


class JobLease:
    def __init__(self, *, store_id: int, kind: str, owner: str, lease_seconds: int, until: dt.datetime):
        self.store_id = store_id
        self.kind = kind
        self.owner = owner
        self.lease_seconds = lease_seconds
        self.until = until

    def _mine(self):
        return JobLock.objects.filter(store_id=self.store_id, kind=self.kind, owner=self.owner)

    def renew(self, *, force: bool = False) -> None:
        """Extend the lease; raise JobLockLost if another worker took it meanwhile.

        Cheap to call often: within a quarter of the lease since the last
        renewal nobody else can have taken it, so no query is made.
        """
        now = timezone.now()
        if not force and self.until - now > dt.timedelta(seconds=self.lease_seconds * 0.75):
            return
        until = now + dt.timedelta(seconds=self.lease_seconds)
        if self._mine().update(locked_until=until) != 1:
            raise JobLockLost(f"{self.kind} lease of store {self.store_id} was lost")
        self.until = until

    def release(self) -> None:
        # Only our own lease: if it expired and someone else holds it, leave theirs.
        self._mine().update(owner="", locked_until=_EPOCH)


def job_lock_acquire(*, store_id: int, kind: str, lease_seconds: int) -> JobLease | None:
    """Take the lease if it is free or expired; None when another worker holds it."""
    now = timezone.now()
    # The row exists once per (store, kind); ignore_conflicts makes creating it race-free.
    JobLock.objects.bulk_create(
        [JobLock(store_id=store_id, kind=kind, owner="", locked_until=_EPOCH)], ignore_conflicts=True
    )
    owner = _new_owner()
    until = now + dt.timedelta(seconds=lease_seconds)
    taken = JobLock.objects.filter(store_id=store_id, kind=kind, locked_until__lt=now).update(
        owner=owner, locked_until=until
    )
    if taken != 1:
        return None
    return JobLease(store_id=store_id, kind=kind, owner=owner, lease_seconds=lease_seconds, until=until)


@contextmanager
def store_job_lock(*, store, kind: str, lease_seconds: int = DEFAULT_LEASE_SECONDS) -> Iterator[JobLease]:
    """Hold the (store, kind) lease for the block; raise JobLockBusy if it is taken.

    Take it outside any transaction (autocommit): the lease must be visible to
    other workers at once, and the block commits its own work page by page.
    While the block waits on the SP-API rate limiter or a backoff, the lease
    is renewed every few seconds.
    """
    lease = job_lock_acquire(store_id=store.pk, kind=kind, lease_seconds=lease_seconds)
    if lease is None:
        held = JobLock.objects.filter(store_id=store.pk, kind=kind)
        held_until = held.values_list("locked_until", flat=True).first()
        raise JobLockBusy(f"{kind} is already running for store {store.pk}", held_until=held_until)
    try:
        with ratelimit.heartbeat(lease.renew):
            yield lease
    finally:
        lease.release()
