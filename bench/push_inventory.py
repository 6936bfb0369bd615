"""Inventory push benchmark: 100,000 activated SKUs on PostgreSQL, against the sandbox.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fulfillment_inventory_bench \
        .venv/bin/python bench/push_inventory.py [--skus 100000] [--changed 0.01]

Creates a scratch database (test_<name>, dropped at the end), a connected
store with N activated SKU mappings (one in ten a 2-component kit), the
warehouse's levels and the sandbox's listings, then measures:

(1) the full push's build: quantities, delta, the stored plan and every feed
    document built, validated against Amazon's schemas and serialized
    (wall time; peak Python memory in a second pass under tracemalloc);
(2) the full push sent through the sandbox (in-process, rate limits off):
    feeds and SP-API calls (document up/downloads included);
(3) a delta after 1% of the warehouse SKUs changed: messages, feeds, calls;
(4) the same catalog as a NEW store without Remote Fulfillment with FBA (one
    listing in 50 fulfilled by Amazon, nothing known about any SKU): runs until
    every merchant-fulfilled SKU was pushed and every Amazon-fulfilled one
    skipped, counting the listing reads (getListingsItem, searchListingsItems)
    per SKU (goal: at most 1 per 20).

In (1)-(3) the store has Remote Fulfillment with FBA on, so no channel is
read; (4) turns it off.

The last line is machine-readable:
skus=… feeds=… build_s=… peak_mb=… api_calls=… delta_messages=… new_store_reads_per_sku=…
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from sandbox.inprocess import serve_in_process  # noqa: E402


def _setup(n_skus: int):
    from connections.models import Marketplace, Store
    from fulfillment.inventory.models import InventoryLevel
    from fulfillment.orders.models import Warehouse
    from mappings.models import SkuMapping
    from sandbox.models import SandboxListing
    from sandbox.sellers import sandbox_application_ensure, sandbox_seller_ensure

    rng = random.Random(42)
    sandbox_application_ensure()
    seller = sandbox_seller_ensure(
        selling_partner_id="A1BENCHSELLER",
        name="Bench",
        marketplace_codes=("US",),
        refresh_token="Atzr|bench-refresh-token",
    )
    us = Marketplace.objects.get(code="US")
    warehouse = Warehouse.objects.create(code="BENCH", name="Bench DC", time_zone="America/New_York")
    store = Store.objects.create(
        name="Bench US",
        marketplace=us,
        warehouse=warehouse,
        selling_partner_id="A1BENCHSELLER",
        authorization_status=Store.Authorization.CONNECTED,
        refresh_token="Atzr|bench-refresh-token",
        fulfillment_latency=2,
        remote_fulfillment_with_fba=True,
    )
    started = time.perf_counter()
    mappings, levels, listings = [], [], []
    for n in range(n_skus):
        sku = f"AMZ-{n:06d}"
        parts = [f"WH-{n:06d}"] + ([f"WH-{n:06d}-B"] if n % 10 == 0 else [])
        for part in parts:
            mappings.append(
                SkuMapping(
                    store=store,
                    amazon_sku=sku,
                    warehouse_sku=part,
                    units=1 + (n % 3 == 0),
                    buffer=n % 2,
                    sync_inventory=True,
                )
            )
            levels.append(
                InventoryLevel(
                    warehouse=warehouse, sku=part, available=rng.randint(1, 200), updated_at=timezone.now()
                )
            )
        listings.append(SandboxListing(seller=seller, marketplace=us, sku=sku))
    SkuMapping.objects.bulk_create(mappings, batch_size=5000)
    InventoryLevel.objects.bulk_create(levels, batch_size=5000)
    SandboxListing.objects.bulk_create(listings, batch_size=5000)
    print(
        f"setup: {n_skus} SKUs ({len(mappings)} mapping rows) in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return store


def _build(store, *, full: bool):
    """Plan the push and build (validate, serialize) every document, as sending would."""
    from fulfillment.inventory import feeds
    from fulfillment.inventory.services import inventory_push_plan

    push = inventory_push_plan(store=store, full=full)
    size = 0
    for row in push.feed_rows.order_by("sequence"):
        size += len(feeds.feed_document_bytes(seller_id=store.selling_partner_id, items=row.items))
    return push, size


LISTING_READS = {"getListingsItem", "searchListingsItems"}


def _new_store(store, n_skus: int) -> tuple[int, int, float]:
    """Forget every listing, make one in 50 Amazon-fulfilled, push until all is decided.

    Returns (listing reads, runs, start time). Checks that every merchant-fulfilled
    SKU reached Amazon and no Amazon-fulfilled one was sent.
    """
    from connections.amazon import AmazonClient
    from fulfillment.inventory.models import InventoryPush, ListingState
    from fulfillment.inventory.services import inventory_push_run
    from sandbox.models import SandboxListing

    ListingState.objects.filter(store=store).delete()
    InventoryPush.objects.filter(store=store).delete()
    store.remote_fulfillment_with_fba = False
    store.save(update_fields=["remote_fulfillment_with_fba"])
    fba = {f"AMZ-{n:06d}" for n in range(0, n_skus, 50)}
    SandboxListing.objects.filter(sku__in=fba).update(fulfillment_channel_code="AMAZON_NA", quantity=7)
    SandboxListing.objects.exclude(sku__in=fba).update(quantity=0)
    reads = 0
    real_call = AmazonClient._call

    def counting_call(self, operation, *args, **kwargs):
        nonlocal reads
        reads += operation in LISTING_READS
        return real_call(self, operation, *args, **kwargs)

    AmazonClient._call = counting_call
    started = time.perf_counter()
    runs = 0
    try:
        while True:
            runs += 1
            result = inventory_push_run(store=store)
            assert result.ok, result.error
            if not result.counts.get("awaiting_channel_check") or runs >= 100:
                break
    finally:
        AmazonClient._call = real_call
    assert not SandboxListing.objects.filter(sku__in=fba).exclude(quantity=7).exists(), "an FBA SKU was sent"
    pushed = ListingState.objects.filter(store=store, accepted_at__isnull=False).count()
    assert pushed == n_skus - len(fba), (pushed, n_skus - len(fba))
    return reads, runs, started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument(
        "--changed", type=float, default=0.01, help="share of warehouse SKUs changed for the delta"
    )
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database (a scratch test_ copy is created).")
        return 2

    from fulfillment.inventory.models import InventoryLevel, InventoryPush
    from fulfillment.inventory.services import inventory_push_run

    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    serve_in_process()
    settings.SANDBOX_RATE_LIMITS = False
    settings.SP_API_RATE_TIME_SCALE = 1e9
    # The sandbox's x-amzn-RateLimit-Limit header, which the client follows, on the same clock.
    settings.SANDBOX_TIME_SCALE = 1e9
    settings.SANDBOX_FEED_PROCESSING_SECONDS = 0.0
    settings.INVENTORY_FEED_POLL_SECONDS = 0.0
    try:
        store = _setup(args.skus)

        # (1) build time, then peak memory in a second pass (tracemalloc slows Python down).
        started = time.perf_counter()
        push, size = _build(store, full=True)
        build_s = time.perf_counter() - started
        push.delete()
        tracemalloc.start()
        push, _ = _build(store, full=True)
        peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        print(
            f"(1) build: {push.messages} messages in {push.feeds} feeds ({size / 2**20:.1f} MiB of JSON) "
            f"in {build_s:.2f} s; peak Python memory {peak_mb:.1f} MiB"
        )

        # (2) send the planned push through the sandbox.
        started = time.perf_counter()
        run = inventory_push_run(store=store)
        assert run.ok, run.error
        print(
            f"(2) full push: {run.counts['sent']} sent, {run.counts['accepted']} accepted, "
            f"{run.counts['rejected']} rejected, {run.counts['feeds']} feeds, {run.api_calls} API calls, "
            f"{time.perf_counter() - started:.1f} s including the sandbox applying them"
        )

        # (3) 1% of the warehouse SKUs change.
        rng = random.Random(7)
        changed = rng.sample(range(args.skus), int(args.skus * args.changed))
        for n in changed:
            InventoryLevel.objects.filter(warehouse=store.warehouse, sku=f"WH-{n:06d}").update(
                available=1000 + n % 7
            )
        started = time.perf_counter()
        delta_push, _ = _build(store, full=False)
        delta_build_s = time.perf_counter() - started
        delta_push.delete()
        started = time.perf_counter()
        delta = inventory_push_run(store=store)
        assert delta.ok, delta.error
        print(
            f"(3) delta after {len(changed)} warehouse SKUs changed: build {delta_build_s:.2f} s; "
            f"{delta.counts['sent']} messages in {delta.counts['feeds']} feed(s), "
            f"{delta.api_calls} API calls, {time.perf_counter() - started:.1f} s"
        )
        assert not InventoryPush.objects.filter(state__in=["building", "submitted"]).exists()

        # (4) a new store: nothing known about any listing, FBA listings among them.
        reads, runs, new_started = _new_store(store, args.skus)
        print(
            f"(4) new store: {reads} listing reads for {args.skus} SKUs ({reads / args.skus:.3f} per SKU) "
            f"in {runs} run(s), {time.perf_counter() - new_started:.1f} s"
        )
        print(
            f"skus={args.skus} feeds={run.counts['feeds']} build_s={build_s:.2f} peak_mb={peak_mb:.1f} "
            f"api_calls={run.api_calls} delta_messages={delta.counts['sent']} "
            f"new_store_reads_per_sku={reads / args.skus:.3f}"
        )
    finally:
        teardown_databases(old_config, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
