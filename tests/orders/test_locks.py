"""The per-store lease: one job per store and kind, across processes; crashes expire."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fulfillment.locks import JobLockBusy, JobLockLost, job_lock_acquire, store_job_lock
from fulfillment.models import JobLock


def test_a_second_worker_cannot_take_a_held_lease(store):
    with store_job_lock(store=store, kind="order_pull", lease_seconds=60):
        with pytest.raises(JobLockBusy), store_job_lock(store=store, kind="order_pull", lease_seconds=60):
            pass
        # another kind of job for the same store is independent
        with store_job_lock(store=store, kind="inventory_push", lease_seconds=60):
            pass


def test_the_lease_is_free_again_after_the_block(store):
    with store_job_lock(store=store, kind="order_pull", lease_seconds=60):
        pass
    with store_job_lock(store=store, kind="order_pull", lease_seconds=60):
        pass
    assert JobLock.objects.count() == 1


def test_the_lease_is_released_when_the_job_fails(store):
    with pytest.raises(RuntimeError), store_job_lock(store=store, kind="order_pull", lease_seconds=60):
        raise RuntimeError("boom")

    assert job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60) is not None


def test_a_crashed_workers_lease_expires(store):
    # given: a worker took the lease and died without releasing it
    assert job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60) is not None
    assert job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60) is None

    # when: its lease runs out
    JobLock.objects.update(locked_until=timezone.now() - dt.timedelta(seconds=1))

    # then
    assert job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60) is not None


def test_renewing_a_lease_taken_over_by_another_worker_fails(store):
    # given: our lease expired and another worker took it
    lease = job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60)
    JobLock.objects.update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    other = job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60)

    # when / then
    with pytest.raises(JobLockLost):
        lease.renew()
    lease.release()  # releases nothing of the other worker's
    assert JobLock.objects.get().owner == other.owner
    other.renew()


def test_renewing_extends_the_lease(store):
    lease = job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=5)
    lease.lease_seconds = 600

    lease.renew()

    assert JobLock.objects.get().locked_until > timezone.now() + dt.timedelta(seconds=500)
