"""The inventory push never wipes the handling time (or restock date) a merchant set
in Seller Central: quantities go by JSON Patch `merge`, validated against the
vendored models; a store latency, when set, goes with every quantity."""

import datetime as dt
import json

import pytest

from connections.amazon_models import load
from fulfillment.inventory import feeds
from fulfillment.inventory.models import InventoryPush
from fulfillment.inventory.services import inventory_push_run
from sandbox.models import SandboxFeed, SandboxListing

RESTOCK = dt.date(2026, 12, 24)


def _sent_patches() -> list[dict]:
    return [
        patch
        for feed in SandboxFeed.objects.select_related("input_document")
        for message in json.loads(bytes(feed.input_document.content))["messages"]
        for patch in message["patches"]
    ]


def _merchant_listing(sku, name: str, *, available: int):
    """A listing whose handling time and restock date the merchant set in Seller Central."""
    sku(name, available=available)
    SandboxListing.objects.filter(sku=name).update(lead_time_to_ship_max_days=4, restock_date=RESTOCK)


def test_merge_is_an_operation_of_every_vendored_schema_we_send_by():
    message = load("listings-feed-message-schema-v2.json")
    feed = load("listings-feed-schema-v2.json")
    model = load("listingsItems_2021-08-01.json")

    enums = [
        message["properties"]["patches"]["items"]["properties"]["op"]["enum"],
        feed["properties"]["messages"]["items"]["properties"]["patches"]["items"]["properties"]["op"]["enum"],
        model["definitions"]["PatchOperation"]["properties"]["op"]["enum"],
    ]

    assert all(feeds.AVAILABILITY_PATCH_OP in enum for enum in enums)
    body = feeds.patch_request_build(quantity=3, lead_time=None, channel_code="DEFAULT")
    assert body["patches"][0]["op"] == "merge" and feeds.patch_request_errors(body) == []
    document = feeds.feed_document_build(seller_id="A1", items=[("MUG", 3, None, "DEFAULT")])
    assert feeds.feed_document_errors(document) == []


def test_a_patch_body_breaking_the_model_is_refused_before_sending():
    body = {
        "productType": "PRODUCT",
        "patches": [{"op": "upsert", "path": feeds.FULFILLMENT_AVAILABILITY_PATH}],
    }

    errors = feeds.patch_request_errors(body)

    assert errors and errors[0].startswith("patches/0/op")


@pytest.mark.usefixtures("feeds_only")
def test_a_feed_push_without_store_latency_keeps_the_listings_handling_time(store, sku, stock):
    # given: the store leaves latency blank ("use the marketplace default")
    assert store.fulfillment_latency is None
    _merchant_listing(sku, "MUG", available=5)

    # when: pushed twice, the warehouse's stock changing in between
    first = inventory_push_run(store=store)
    stock("MUG", 8)
    second = inventory_push_run(store=store)

    # then: the quantity is Amazon's now, the merchant's handling time and restock date stayed
    assert first.ok and second.ok and second.counts["sent"] == 1
    assert InventoryPush.objects.filter(method=InventoryPush.Method.FEED).count() == 2
    assert [p["op"] for p in _sent_patches()] == ["merge", "merge"]
    assert all("lead_time_to_ship_max_days" not in p["value"][0] for p in _sent_patches())
    listing = SandboxListing.objects.get(sku="MUG")
    assert (listing.quantity, listing.lead_time_to_ship_max_days, listing.restock_date) == (8, 4, RESTOCK)
    assert inventory_push_run(store=store).counts["sent"] == 0


def test_a_patch_push_without_store_latency_keeps_the_listings_handling_time(store, sku, stock):
    # given: a handful of SKUs goes by patchListingsItem
    _merchant_listing(sku, "MUG", available=5)

    # when
    first = inventory_push_run(store=store)
    stock("MUG", 2)
    second = inventory_push_run(store=store)

    # then
    assert first.ok and second.ok and second.counts["accepted"] == 1
    assert set(InventoryPush.objects.values_list("method", flat=True)) == {InventoryPush.Method.PATCH}
    assert SandboxFeed.objects.count() == 0
    listing = SandboxListing.objects.get(sku="MUG")
    assert (listing.quantity, listing.lead_time_to_ship_max_days, listing.restock_date) == (2, 4, RESTOCK)


@pytest.mark.parametrize("by_feed", [True, False], ids=["feed", "patch"])
def test_a_store_latency_goes_with_every_quantity_and_wins(store, sku, stock, settings, by_feed):
    # given: the store sets a handling time for all its listings
    if by_feed:
        settings.INVENTORY_PATCH_MAX_SKUS = 0
    store.fulfillment_latency = 2
    store.save()
    _merchant_listing(sku, "MUG", available=5)

    # when
    inventory_push_run(store=store)
    stock("MUG", 6)
    run = inventory_push_run(store=store)

    # then: the store's handling time is on the listing; the restock date is untouched
    assert run.ok and run.counts["accepted"] == 1
    listing = SandboxListing.objects.get(sku="MUG")
    assert (listing.quantity, listing.lead_time_to_ship_max_days, listing.restock_date) == (6, 2, RESTOCK)
    if by_feed:
        assert [p["value"][0]["lead_time_to_ship_max_days"] for p in _sent_patches()] == [2, 2]
