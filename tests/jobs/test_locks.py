"""The per-store lease: one job per store and kind, across processes; crashes expire."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fulfillment.jobs.locks import JobLockBusy, JobLockLost, job_lock_acquire, store_job_lock
from fulfillment.jobs.models import JobLock


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
        lease.renew(force=True)
    lease.release()  # releases nothing of the other worker's
    assert JobLock.objects.get().owner == other.owner
    other.renew()


def test_renewing_extends_the_lease(store):
    lease = job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=5)
    lease.lease_seconds = 600

    lease.renew()  # less than half of the new length is left

    assert JobLock.objects.get().locked_until > timezone.now() + dt.timedelta(seconds=500)


def test_renewing_a_fresh_lease_costs_no_query(store, django_assert_num_queries):
    lease = job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=600)

    with django_assert_num_queries(0):
        lease.renew()


@pytest.mark.django_db(transaction=True)
def test_only_one_of_many_concurrent_workers_gets_the_lease():
    # given: eight workers, each with its own database connection, racing for a fresh lease
    import threading

    from django.db import connection

    from connections.models import Marketplace
    from tests.factories import make_store

    # an earlier transactional test may have flushed the reference data
    Marketplace.objects.get_or_create(
        code="US",
        defaults=dict(
            country="United States",
            marketplace_id="ATVPDKIKX0DER",
            region="NA",
            aws_region="us-east-1",
            sp_api_endpoint="https://sellingpartnerapi-na.amazon.com",
            seller_central_url="https://sellercentral.amazon.com",
            currency="USD",
            default_language="en_US",
        ),
    )
    store = make_store()
    barrier = threading.Barrier(8)
    winners = []

    def worker():
        try:
            barrier.wait()
            if job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60) is not None:
                winners.append(threading.get_ident())
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert len(winners) == 1
    assert JobLock.objects.count() == 1


# --- Short leases, renewed while the run lives -------------------------------------


class _Clock:
    """The lease's clock, moved forward by the rate limiter's pauses instead of waiting."""

    def __init__(self):
        self.at = timezone.now()

    def now(self):
        return self.at


@pytest.fixture
def lease_clock(monkeypatch):
    from fulfillment.jobs import locks

    clock = _Clock()
    monkeypatch.setattr(locks, "timezone", clock)
    return clock


def test_the_download_takes_a_lease_of_about_a_minute(store, sandbox_seller, monkeypatch):
    # given: the worker dies after its first page, leaving its lease behind
    from fulfillment.orders.services import download as orders_service
    from sandbox.orders import sandbox_orders_create

    sandbox_orders_create(seller=sandbox_seller, count=150, seed=1, status="UNSHIPPED")
    seen = []

    def dies(*, store, page):
        seen.append(JobLock.objects.get(store=store, kind="order_pull").locked_until)
        raise KeyboardInterrupt  # a BaseException: nothing records it

    monkeypatch.setattr(orders_service, "_after_page_committed", dies)
    with pytest.raises(KeyboardInterrupt):
        orders_service.orders_pull(store=store)

    # then: its lease would have freed itself within a minute
    assert seen and seen[0] <= timezone.now() + dt.timedelta(seconds=61)
    JobLock.objects.update(owner="dead-worker", locked_until=seen[0])
    assert job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60) is None
    JobLock.objects.update(locked_until=seen[0] - dt.timedelta(seconds=61))
    assert job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60) is not None


def test_a_run_waiting_minutes_on_the_rate_limiter_keeps_its_lease(
    store, sandbox_seller, settings, lease_clock
):
    # given: Amazon's real searchOrders plan (one call per ~3 minutes) and an empty bucket
    from connections import ratelimit
    from connections.models import RateLimitBucket
    from fulfillment.orders.services.download import orders_pull

    settings.SP_API_RATE_TIME_SCALE = 1.0
    RateLimitBucket.objects.create(
        selling_partner_id=store.selling_partner_id,
        region=store.marketplace.region,
        operation="searchOrders",
        rate=0.0056,
        burst=20,
        tokens=0,
        updated_at=ratelimit.clock(),
    )
    waited, refused = [], []

    def pause(seconds):
        # time passes for the lease; meanwhile another worker tries to take the store
        lease_clock.at += dt.timedelta(seconds=seconds)
        waited.append(seconds)
        refused.append(job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60) is None)

    original = ratelimit._pause
    ratelimit._pause = pause
    try:
        # when
        run = orders_pull(store=store)
    finally:
        ratelimit._pause = original

    # then: three minutes of waiting, and the lease was never free meanwhile
    assert run.ok, run.error
    assert sum(waited) > 180
    assert refused and all(refused)


def test_a_renewal_after_the_lease_ran_out_stops_the_job(store, lease_clock):
    with store_job_lock(store=store, kind="order_pull", lease_seconds=60) as lease:
        # the worker froze for two minutes and another took the store
        lease_clock.at += dt.timedelta(minutes=2)
        assert job_lock_acquire(store_id=store.pk, kind="order_pull", lease_seconds=60) is not None

        with pytest.raises(JobLockLost):
            lease.renew()
