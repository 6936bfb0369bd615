"""A store learns which SKUs Amazon fulfills in bulk (searchListingsItems, 20 SKUs a
call): a new store's first run pushes every merchant-fulfilled SKU and skips every
Amazon-fulfilled one; later runs read again only channels older than the refresh age."""

import datetime as dt
from collections import Counter

import pytest
from django.utils import timezone

from connections import amazon
from connections.amazon import PermanentAmazonError, TransientAmazonError
from connections.models import Marketplace
from fulfillment.inventory.models import InventoryLevel, ListingState
from fulfillment.inventory.services import inventory_push_run
from mappings.models import SkuMapping
from sandbox.listings import sandbox_listing_upsert
from sandbox.models import SandboxListing

N_SKUS = 2000


@pytest.fixture
def calls(monkeypatch):
    """SP-API operations called, by name (the real calls still happen)."""
    seen = Counter()
    real = amazon.AmazonClient._call

    def counting(self, operation, *args, **kwargs):
        seen[operation] += 1
        return real(self, operation, *args, **kwargs)

    monkeypatch.setattr(amazon.AmazonClient, "_call", counting)
    return seen


@pytest.fixture
def catalog(make_catalog):
    return make_catalog(N_SKUS)


@pytest.fixture
def make_catalog(store, seller):
    return lambda n: _catalog(store, seller, n)


def _catalog(store, seller, n_skus: int) -> list[str]:
    """Activated, stocked and listed SKUs, made in bulk; one in ten Amazon-fulfilled."""
    us = Marketplace.objects.get(code="US")
    now = timezone.now()
    skus = [f"SKU-{n:05d}" for n in range(n_skus)]
    SkuMapping.objects.bulk_create(
        SkuMapping(store=store, amazon_sku=sku, warehouse_sku=sku, units=1, sync_inventory=True)
        for sku in skus
    )
    InventoryLevel.objects.bulk_create(
        InventoryLevel(warehouse=store.warehouse, sku=sku, available=5, updated_at=now) for sku in skus
    )
    SandboxListing.objects.bulk_create(
        SandboxListing(
            seller=seller,
            marketplace=us,
            sku=sku,
            quantity=9 if n % 10 == 0 else 0,
            fulfillment_channel_code="AMAZON_NA" if n % 10 == 0 else "DEFAULT",
        )
        for n, sku in enumerate(skus)
    )
    return skus


def _fba(skus):
    return {sku for n, sku in enumerate(skus) if n % 10 == 0}


@pytest.mark.usefixtures("feeds_only")
def test_a_new_store_learns_every_channel_in_bulk_and_pushes_every_merchant_sku(store, catalog, calls):
    # when: the first run of a new store, then a second one
    first = inventory_push_run(store=store)
    reads_first = calls["searchListingsItems"]
    second = inventory_push_run(store=store)

    # then: one read per 20 SKUs, no per-SKU read; every MFN SKU on Amazon, no FBA one touched
    assert first.ok, first.error
    assert reads_first == N_SKUS // 20 and calls["getListingsItem"] == 0
    assert first.counts["channels_read"] == N_SKUS
    assert first.counts["sent"] == first.counts["accepted"] == N_SKUS - len(_fba(catalog))
    assert first.counts["skipped_amazon_fulfilled"] == len(_fba(catalog))
    assert first.counts["awaiting_channel_check"] == 0
    assert not SandboxListing.objects.filter(sku__in=_fba(catalog)).exclude(quantity=9).exists()
    assert not SandboxListing.objects.exclude(sku__in=_fba(catalog)).exclude(quantity=5).exists()
    assert ListingState.objects.filter(store=store, is_amazon_fulfilled=True).count() == len(_fba(catalog))
    # the second run reads and sends nothing
    assert second.ok and second.counts["sent"] == 0 and second.counts["channels_read"] == 0
    assert calls["searchListingsItems"] == reads_first


@pytest.mark.usefixtures("feeds_only")
def test_later_runs_read_again_only_channels_older_than_the_refresh_age(store, make_catalog, calls, settings):
    # given: everything learnt and pushed
    settings.INVENTORY_CHANNEL_REFRESH_HOURS = 24
    catalog = make_catalog(200)
    inventory_push_run(store=store)
    # 40 SKUs were last read two days ago; meanwhile one moved to FBA, one FBA SKU became the merchant's
    stale = catalog[:40]
    ListingState.objects.filter(store=store, sku__in=stale).update(
        channel_checked_at=timezone.now() - dt.timedelta(days=2)
    )
    SandboxListing.objects.filter(sku="SKU-00001").update(fulfillment_channel_code="AMAZON_NA", quantity=3)
    SandboxListing.objects.filter(sku="SKU-00010").update(fulfillment_channel_code="DEFAULT", quantity=0)
    before = calls["searchListingsItems"]

    # when: twice
    run = inventory_push_run(store=store)
    again = inventory_push_run(store=store)

    # then: two searches of 20; the new FBA SKU is left alone, the former FBA one is pushed
    assert calls["searchListingsItems"] - before == 2 and run.counts["channels_read"] == 40
    assert ListingState.objects.get(store=store, sku="SKU-00001").is_amazon_fulfilled
    assert SandboxListing.objects.get(sku="SKU-00001").quantity == 3
    assert run.counts["sent"] == 1 and SandboxListing.objects.get(sku="SKU-00010").quantity == 5
    assert again.counts["channels_read"] == 0 and again.counts["sent"] == 0


def test_smaller_pages_than_asked_are_followed_to_the_end(store, sku, calls, sandbox_faults):
    # given: Amazon serves 3 items a page whatever pageSize says
    sandbox_faults(search_page_cap=3)
    for n in range(7):
        sku(f"MUG-{n}", available=1, channel="AMAZON_NA" if n == 6 else "DEFAULT")

    # when
    run = inventory_push_run(store=store)

    # then: three pages for one search; the FBA SKU on the last page was seen
    assert calls["searchListingsItems"] == 3
    assert run.counts["channels_read"] == 7 and run.counts["skipped_amazon_fulfilled"] == 1
    assert run.counts["accepted"] == 6


def test_skus_a_search_cannot_take_are_read_one_by_one(store, sku, calls, seller, monkeypatch):
    # given: a SKU with a comma (identifiers is comma-delimited) and a batch Amazon refuses whole
    sku("MUG,RED", available=2, channel="AMAZON_NA")
    sku("TEE", available=2)
    sku("CAP", available=2, channel="AMAZON_NA")
    real_search = amazon.AmazonClient.search_listings_items_by_sku

    def refusing(self, skus, **kw):
        if "TEE" in skus:
            raise PermanentAmazonError("Invalid identifiers.", code="InvalidInput", status=400)
        return real_search(self, skus, **kw)

    monkeypatch.setattr(amazon.AmazonClient, "search_listings_items_by_sku", refusing)

    # when
    run = inventory_push_run(store=store)

    # then: every channel is known all the same
    assert calls["getListingsItem"] == 3
    assert run.counts["channels_read"] == 3 and run.counts["skipped_amazon_fulfilled"] == 2
    assert run.counts["accepted"] == 1 and SandboxListing.objects.get(sku="TEE").quantity == 2


def test_a_sku_amazon_does_not_list_is_pushed_and_amazon_says_why(store, sku):
    sku("GHOST", available=2, listed=False)

    run = inventory_push_run(store=store)

    assert run.counts["channels_read"] == 1 and run.counts["rejected"] == 1
    assert "does not exist" in ListingState.objects.get(sku="GHOST").last_error


@pytest.mark.usefixtures("feeds_only")
def test_a_crash_while_learning_keeps_what_was_read_and_the_rerun_goes_on(
    store, catalog, calls, monkeypatch, settings
):
    # given: Amazon fails for good after 60 searches (1,200 SKUs)
    real_search = amazon.AmazonClient.search_listings_items_by_sku
    done = []

    def failing(self, skus, **kw):
        if len(done) == 60:
            raise TransientAmazonError("Amazon answered with a server error.", status=503)
        done.append(1)
        return real_search(self, skus, **kw)

    monkeypatch.setattr(amazon.AmazonClient, "search_listings_items_by_sku", failing)

    # when
    crashed = inventory_push_run(store=store)

    # then: nothing was pushed, what was read is kept
    assert not crashed.ok and "server error" in crashed.error
    assert ListingState.objects.filter(store=store, channel_checked_at__isnull=False).count() == 1200
    assert not SandboxListing.objects.filter(quantity=5).exists()

    # when: Amazon is back
    monkeypatch.setattr(amazon.AmazonClient, "search_listings_items_by_sku", real_search)
    resumed = inventory_push_run(store=store)

    # then: only the rest is read, everything is pushed once
    assert resumed.ok and resumed.counts["channels_read"] == N_SKUS - 1200
    assert resumed.counts["sent"] == N_SKUS - len(_fba(catalog))
    assert inventory_push_run(store=store).counts["sent"] == 0


def test_remote_fulfillment_stores_read_no_channel(store, sku, calls):
    store.remote_fulfillment_with_fba = True
    store.save()
    sku("MUG", available=1, channel="AMAZON_NA")

    run = inventory_push_run(store=store)

    assert run.counts["accepted"] == 1 and run.counts["channels_read"] == 0
    assert calls["searchListingsItems"] == calls["getListingsItem"] == 0


def test_the_search_adapter_refuses_what_amazon_cannot_take(store, sandbox_seller):
    client = amazon.amazon_client(store)
    sandbox_listing_upsert(seller=sandbox_seller, sku="MUG")

    with pytest.raises(ValueError, match="1 to 20 SKUs"):
        client.search_listings_items_by_sku([f"S{n}" for n in range(21)])
    with pytest.raises(ValueError, match="comma"):
        client.search_listings_items_by_sku(["A,B"])
    assert [item["sku"] for item in client.search_listings_items_by_sku(["MUG", "NOPE"])] == ["MUG"]
