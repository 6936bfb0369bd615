"""The job runner (fulfillment/jobs/runner.py): the same lease, run row, counts, API
calls, re-authorization handling, safe errors and rescheduling for every job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_q.models import Schedule

from connections import ratelimit
from connections.amazon import ReauthorizationRequired
from connections.models import Store
from fulfillment.jobs.locks import JobLockBusy, store_job_lock
from fulfillment.jobs.models import JobLock, SyncRun
from fulfillment.jobs.runner import REAUTHORIZATION_MESSAGE, Job, JobContext, job_run, job_task
from fulfillment.jobs.schedules import schedules_sync
from fulfillment.orders.services.download import orders_pull


class StoreJob(Job):
    """A per-store job whose work a test hands in."""

    kind = SyncRun.Kind.ORDER_PULL
    count_keys = ("done", "skipped")

    def __init__(self, work=None) -> None:
        self.work = work or (lambda ctx: None)

    def run(self, ctx: JobContext) -> None:
        self.work(ctx)


class EveryStoreJob(StoreJob):
    kind = SyncRun.Kind.ALERTS
    per_store = False


def test_a_run_row_holds_the_counts_the_api_calls_and_the_notes(store, sandbox_seller):
    def work(ctx):
        ctx.amazon_client().get_marketplace_participations()
        ctx.counts["done"] += 2
        ctx.counts["extra"] += 1
        ctx.notes = "all good"

    first = job_run(StoreJob(work), store=store)
    second = job_run(StoreJob(work), store=store)

    for run in (first, second):
        run.refresh_from_db()
        assert (run.store, run.kind, run.ok, run.error, run.notes) == (
            store,
            "order_pull",
            True,
            "",
            "all good",
        )
        assert run.counts == {"done": 2, "skipped": 0, "extra": 1}  # declared counts first, 0 included
        assert run.api_calls == 1 and run.finished_at >= run.started_at
    assert JobLock.objects.get(store=store, kind="order_pull").owner == ""  # released


def test_a_store_whose_lease_is_held_runs_nothing_and_records_nothing(store):
    ran = []

    with store_job_lock(store=store, kind=SyncRun.Kind.ORDER_PULL):
        with pytest.raises(JobLockBusy):
            job_run(StoreJob(ran.append), store=store)
        assert job_task(StoreJob(ran.append), store.pk) == {"skipped": "already running"}

    assert ran == [] and not SyncRun.objects.exists()


def test_a_job_sharing_another_s_lease_waits_for_it(store):
    class Reconciliation(StoreJob):
        kind = SyncRun.Kind.RECONCILE
        lease_kind = SyncRun.Kind.ORDER_PULL

    with store_job_lock(store=store, kind=SyncRun.Kind.ORDER_PULL), pytest.raises(JobLockBusy):
        job_run(Reconciliation(), store=store)
    assert job_run(Reconciliation(), store=store).ok


def test_a_task_skips_a_store_that_is_gone_or_no_longer_connected(store):
    Store.objects.filter(pk=store.pk).update(authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION)

    assert job_task(StoreJob(), store.pk) == {"skipped": "store missing, inactive or not connected"}
    assert job_task(StoreJob(), 10**9) == {"skipped": "store missing, inactive or not connected"}
    assert not SyncRun.objects.exists()


def test_a_task_returns_ids_flags_and_counts(store):
    def work(ctx):
        ctx.counts["done"] += 1

    first, second = job_task(StoreJob(work), store.pk), job_task(StoreJob(work), store.pk)

    runs = list(SyncRun.objects.order_by("pk").values_list("pk", flat=True))
    assert first == {"sync_run": runs[0], "ok": True, "done": 1, "skipped": 0}
    assert second == {"sync_run": runs[1], "ok": True, "done": 1, "skipped": 0}


def test_a_job_that_needs_a_person_fails_its_run_with_its_counts(store):
    def work(ctx):
        ctx.counts["done"] += 3
        ctx.fail("1 rejected: see Shipment confirmations.")

    run = job_run(StoreJob(work), store=store)

    assert (run.ok, run.error, run.counts["done"]) == (False, "1 rejected: see Shipment confirmations.", 3)


def test_an_exception_fails_the_run_with_no_value_it_carried(store, caplog):
    def work(ctx):
        ctx.counts["done"] += 1
        raise ValueError("Jane Doe, 1 Main Street, +1 555 0100")

    first = job_run(StoreJob(work), store=store)
    second = job_run(StoreJob(work), store=store)

    for run in (first, second):
        assert run.ok is False and run.counts["done"] == 1
        assert run.error.startswith("ValueError in tests/jobs/test_runner.py:")
        assert "Jane" not in run.error
    assert "Jane" not in caplog.text and "ValueError" in caplog.text


def test_amazon_refusing_the_token_is_recorded_on_the_store_and_fails_the_run(store, sandbox_app):
    # given: a connected store with its schedules, whose token the sandbox does not know (invalid_grant)
    schedules_sync(store=store)
    assert Schedule.objects.filter(name__contains=f":store:{store.pk}").exists()

    # when: the download meets it, and the task comes again
    run = orders_pull(store=store)
    again = job_task(StoreJob(), store.pk)

    # then
    store.refresh_from_db()
    assert run.ok is False and run.error == REAUTHORIZATION_MESSAGE
    assert store.authorization_status == Store.Authorization.NEEDS_REAUTHORIZATION
    assert "authorize again" in store.authorization_error
    assert not Schedule.objects.filter(name__contains=f":store:{store.pk}").exists()
    assert again == {"skipped": "store missing, inactive or not connected"}


def test_a_store_with_no_token_yet_is_not_marked(store):
    def work(ctx):
        raise ReauthorizationRequired("The store has no Amazon authorization yet.", code="not_authorized")

    run = job_run(StoreJob(work), store=store)

    store.refresh_from_db()
    assert run.ok is False and "no Amazon authorization yet" in run.error
    assert store.authorization_status == Store.Authorization.CONNECTED


def test_a_job_that_asks_is_rescheduled_in_finally_whatever_happened(store):
    class Rescheduled(StoreJob):
        reschedule = True

    def work(ctx):
        raise RuntimeError("boom")

    assert not Schedule.objects.exists()
    run = job_run(Rescheduled(work), store=store)
    job_run(Rescheduled(work), store=store)

    assert run.ok is False
    assert Schedule.objects.filter(name=f"order-pull:store:{store.pk}").count() == 1
    assert (
        not Schedule.objects.filter(name=f"order-pull:store:{store.pk}").exclude(args=repr(store.pk)).exists()
    )


def test_a_job_for_every_store_writes_a_run_without_a_store_or_a_lease(db):
    def work(ctx):
        ctx.counts["done"] += 1
        # safe to run twice at once: nothing stops a second run meanwhile
        if ctx.counts["done"] == 1:
            job_run(EveryStoreJob(lambda inner: None))

    run = job_run(EveryStoreJob(work))

    assert (run.store, run.kind, run.ok, run.counts) == (None, "alerts", True, {"done": 1, "skipped": 0})
    assert SyncRun.objects.filter(store=None, kind="alerts").count() == 2
    assert not JobLock.objects.exists()


def test_a_job_must_be_given_a_store_exactly_when_it_is_per_store(store):
    with pytest.raises(ValueError, match="a store is needed"):
        job_run(StoreJob())
    with pytest.raises(ValueError, match="takes no store"):
        job_run(EveryStoreJob(), store=store)


def test_a_frequent_job_keeps_its_successful_runs_for_a_while_and_every_failure(db):
    class Frequent(EveryStoreJob):
        keep_ok_runs = dt.timedelta(days=2)

    old = timezone.now() - dt.timedelta(days=3)
    old_ok = SyncRun.objects.create(kind="alerts", started_at=old, finished_at=old, ok=True)
    old_failed = SyncRun.objects.create(kind="alerts", started_at=old, finished_at=old, ok=False, error="x")
    other_kind = SyncRun.objects.create(kind="order_data_purge", started_at=old, finished_at=old, ok=True)
    recent = SyncRun.objects.create(kind="alerts", started_at=timezone.now(), ok=True)

    job_run(Frequent())
    job_run(Frequent())

    left = set(SyncRun.objects.values_list("pk", flat=True))
    assert old_ok.pk not in left
    assert {old_failed.pk, other_kind.pk, recent.pk} <= left and len(left) == 5


def test_every_sp_api_call_slot_renews_the_job_s_lease(store):
    # The sweep and the download hold a one-minute lease: a package or a page
    # that makes several calls back to back renews it at each one.
    beats = []
    key = ratelimit.BucketKey(selling_partner_id="A1ACMESELLER", region="na", operation="getOrder")

    with ratelimit.heartbeat(lambda: beats.append(1)):
        ratelimit.acquire(key)
        ratelimit.acquire(key)
    ratelimit.acquire(key)  # no job: nothing to renew

    assert beats == [1, 1]


def test_the_confirmation_sweep_holds_the_same_renewed_one_minute_lease_as_the_download():
    from fulfillment.jobs.locks import DEFAULT_LEASE_SECONDS
    from fulfillment.orders.services.download import OrderDownloadJob
    from fulfillment.shipments.services.confirmations import ConfirmationSweepJob

    assert ConfirmationSweepJob.lease_seconds == OrderDownloadJob.lease_seconds == DEFAULT_LEASE_SECONDS == 60
