"""Faults against the sandbox's switches: after each, nothing lost, nothing doubled.

Each test runs the real jobs (the django-q2 task functions) with a fault on
for a few rounds, turns it off, lets the jobs settle, and checks the world's
invariants (tests/reliability/world.py): every sandbox order present once,
every package confirmed once, Amazon's quantities equal to the rules.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from connections.amazon import AmazonClient
from fulfillment.inventory import sending as inventory_sending
from fulfillment.inventory.models import InventoryFeed
from fulfillment.jobs.locks import JobLockBusy
from fulfillment.jobs.models import JobLock, SyncRun
from fulfillment.orders.models import Order
from fulfillment.orders.services import download as order_services
from fulfillment.shipments.models import ShipmentConfirmation
from sandbox.models import PageOrder, SandboxFeed, SandboxOrder, SandboxPackage

from .world import WorkerKilled, World, kill_after

ROUNDS = 3


@pytest.fixture(autouse=True)
def _seeded_faults():
    # The sandbox draws its faults from `random`: the same draws on every run,
    # unless RELIABILITY_SEED asks for others (docs/reliability.md: several seeds).
    random.seed(int(os.environ.get("RELIABILITY_SEED", "20261122")))


def _faulty_rounds(world: World, rounds: int = ROUNDS) -> None:
    for n in range(rounds):
        world.cycle(n)
        world.time_passes()


def test_without_faults_the_cycle_keeps_every_invariant(world, tally):
    # when: run twice over
    world.cycle(0)
    world.settle()
    world.settle(rounds=1)

    # then
    world.check()
    assert SyncRun.objects.filter(store=world.store, ok=False).count() == 0
    tally("baseline cycle", 1)


def test_5xx_bursts(world, sandbox_faults, tally):
    # given: half of every call answered 500 or an HTML 503
    sandbox_faults(error_rate=0.5)

    # when
    _faulty_rounds(world)
    world.settle()

    # then
    world.check()
    assert world.stats["packages"] == world.orders
    tally("5xx bursts (50% of calls)", ROUNDS)


def test_dropped_connections(world, sandbox_faults, tally):
    # given: a third of the calls answered with an empty 502 (the connection dropped)
    sandbox_faults(drop_rate=0.35)

    # when
    _faulty_rounds(world)
    world.settle()

    # then
    world.check()
    tally("dropped connections (35% of calls)", ROUNDS)


def test_timeouts_after_amazon_did_the_work(world, sandbox_faults, settings, read_timeouts, tally):
    # given: every answer slower than the client's read timeout; Amazon still
    # does the work (a confirmation it accepted, a feed it created)
    world.pull()
    world.ship_released()  # packages waiting for their confirmation
    settings.SP_API_TIMEOUT = 0.05
    settings.SP_API_MAX_ATTEMPTS = 2
    sandbox_faults(slow_ms=60)

    # when
    world.cycle(1)
    world.time_passes()
    timed_out = sum(read_timeouts.values())
    accepted_unheard = SandboxPackage.objects.count()
    settings.SP_API_TIMEOUT = 30.0
    world.settle()

    # then
    assert timed_out > 0
    assert any(path.endswith("/shipmentConfirmation") for path in read_timeouts)
    assert accepted_unheard > 0  # Amazon had them while we heard nothing
    world.check()
    tally("timeouts (every call beyond the read timeout)", timed_out)


def test_throttling_storm(world, sandbox_faults, settings, tally):
    # given: every call answered 429 for a while (two attempts per call keep the test short)
    settings.SP_API_MAX_ATTEMPTS = 2
    world.pull()
    sandbox_faults(throttle_storm=True)

    # when
    _faulty_rounds(world, rounds=2)
    throttled = sum(SyncRun.objects.filter(store=world.store).values_list("throttled", flat=True))
    world.settle()

    # then: the storm was felt, and cost nothing once it passed
    assert throttled > 0
    world.check()
    tally("throttling storm (every call 429)", 2)
    tally("injected: test_throttling_storm: HTTP 429", throttled)


def test_an_order_changing_between_pages(world, sandbox_faults, tally):
    # given: on every page after the first an order from an earlier page changes
    sandbox_faults(change_order_between_pages=True)

    # when: a first download and then incremental ones, each of several pages
    for _round in range(ROUNDS):
        world.pull()
        world.time_passes()
        SandboxOrder.objects.filter(seller=world.seller).update(last_updated_time=timezone.now())
        world.time_passes()
    world.ship_released()
    world.settle()

    # then
    world.check()
    assert SyncRun.objects.filter(kind=SyncRun.Kind.ORDER_PULL, counts__pages__gte=2).exists()
    tally("order changing between pages", ROUNDS)


@pytest.mark.parametrize("page_order", [PageOrder.OLDEST_FIRST, PageOrder.NEWEST_FIRST, PageOrder.SHUFFLED])
def test_a_worker_killed_mid_pull_and_its_lease_expiring(world, sandbox_faults, tally, page_order):
    # given: pages in `page_order`; the worker dies right after committing page 2
    # and leaves its lease behind
    sandbox_faults(page_order=page_order)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            order_services, "_after_page_committed", kill_after(2)(order_services._after_page_committed)
        )
        with pytest.raises(WorkerKilled):
            world.pull()
    half = Order.objects.filter(store=world.store).count()
    left_until = timezone.now() + dt.timedelta(seconds=order_services.PULL_LEASE_SECONDS)
    JobLock.objects.filter(store=world.store, kind=SyncRun.Kind.ORDER_PULL).update(
        owner="dead-worker", locked_until=left_until
    )

    # when: the next delivery finds the lease taken; a minute later it has expired
    busy = world.pull()
    JobLock.objects.filter(store=world.store).update(
        locked_until=F("locked_until") - dt.timedelta(seconds=61)
    )
    world.ship_released()
    world.settle()

    # then
    assert half == 20  # two pages of ten committed before the crash
    assert busy == {"skipped": "already running"}
    world.check()
    tally(f"worker killed mid-pull, pages {page_order} (+ lease left behind)", 1)


def test_a_worker_killed_mid_confirmation_after_amazon_accepted(world, tally):
    # given: the worker dies right after Amazon accepted the 3rd package
    world.pull()
    world.ship_released()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(AmazonClient, "confirm_shipment", kill_after(3)(AmazonClient.confirm_shipment))
        with pytest.raises(WorkerKilled):
            world.sweep()
    stuck = ShipmentConfirmation.objects.filter(state=ShipmentConfirmation.State.SENDING).count()

    # when: the lease on its claim runs out and the jobs run again
    world.settle()

    # then: the package Amazon had is not sent again
    assert stuck == 1
    assert SandboxPackage.objects.count() == world.orders
    world.check()
    tally("worker killed mid-confirmation (after Amazon accepted)", 1)


def test_a_worker_killed_mid_push_after_the_feed_was_created(world, tally):
    # given: the first push goes by feed; the worker dies once Amazon has the feed
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(
            inventory_sending, "_feed_await", kill_after(1, before=True)(inventory_sending._feed_await)
        )
        with pytest.raises(WorkerKilled):
            world.push()
    submitted = InventoryFeed.objects.filter(state=InventoryFeed.State.SUBMITTED).count()

    # when
    world.cycle(0)
    world.settle()

    # then: the feed was polled, not created again
    assert submitted == 1
    assert SandboxFeed.objects.count() == 1
    world.check()
    tally("worker killed mid-push (feed created, not yet read)", 1)


def test_a_worker_killed_mid_push_between_patches(world, tally):
    # given: a first push done; then a small change goes by patchListingsItem and
    # the worker dies after the 2nd patch
    world.push()
    world.restock(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(AmazonClient, "patch_listings_item", kill_after(2)(AmazonClient.patch_listings_item))
        with pytest.raises(WorkerKilled):
            world.push()

    # when
    world.pull()
    world.ship_released()
    world.settle()

    # then
    world.check()
    tally("worker killed mid-push (between patches)", 1)


def test_a_task_delivered_twice(world, tally):
    # when: every task arrives twice in a row
    for n in range(2):
        world.restock(n)
        assert world.pull().get("ok")
        assert world.pull().get("ok")
        world.ship_released()
        first, second = world.sweep(), world.sweep()
        world.push()
        world.push()
        world.time_passes()
    world.settle(rounds=1)

    # then
    assert first["ok"] and second.get("accepted", 0) == 0
    world.check()
    tally("task delivered twice (in a row)", 6)


@pytest.mark.django_db(transaction=True)
def test_a_task_delivered_twice_at_the_same_time(
    store, sandbox_seller, small_pages, no_connection_recycling, tally
):
    # given: two workers, each with its own database connection
    world = World(store=store, seller=sandbox_seller).build()

    def twice(job) -> list[dict]:
        barrier = threading.Barrier(2)
        results: list[dict] = []
        errors: list[BaseException] = []

        def worker():
            try:
                barrier.wait()
                results.append(job())
            except BaseException as exc:
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        return results

    # when: the download, the sweep and the push each run twice at once
    pulls = twice(world.pull)
    world.ship_released()
    sweeps = twice(world.sweep)
    pushes = twice(world.push)
    world.settle(rounds=1)

    # then: one of each pair ran, the other stood back (or found nothing left)
    for pair in (pulls, sweeps, pushes):
        assert len(pair) == 2
    assert sum("sync_run" in r for r in pulls) >= 1
    world.check()
    assert SandboxPackage.objects.count() == world.orders
    tally("task delivered twice (concurrently, two connections)", 3)


def test_a_lease_held_by_a_live_worker_is_respected(world, tally):
    # given: another worker holds every lease of the store
    for kind in (SyncRun.Kind.ORDER_PULL, SyncRun.Kind.SHIPMENT_CONFIRM, SyncRun.Kind.INVENTORY_PUSH):
        JobLock.objects.create(
            store=world.store, kind=kind, owner="other", locked_until=timezone.now() + dt.timedelta(minutes=5)
        )

    # when
    results = [world.pull(), world.sweep(), world.push()]

    # then: nothing ran, nothing was recorded
    assert all(r.get("skipped") == "already running" for r in results)
    assert not SyncRun.objects.filter(store=world.store).exists()
    assert not Order.objects.exists()
    with pytest.raises(JobLockBusy):
        order_services.orders_pull(store=world.store)
    tally("lease held by another worker", 3)
