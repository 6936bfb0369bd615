"""Every filter of the order download: what Amazon is asked, and what is kept."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from connections.amazon import AmazonClient
from connections.models import Marketplace, Store
from fulfillment.orders.models import Order, StoreSyncState
from fulfillment.orders.services.download import order_search_params, orders_pull
from sandbox.orders import sandbox_order_update, sandbox_orders_create

pytestmark = pytest.mark.usefixtures("shipping_for_every_level")

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


def test_the_first_download_asks_for_orders_created_since_seven_days(store):
    params = order_search_params(store=store, watermark=None, now=NOW)

    assert params["createdAfter"] == "2026-05-25T12:00:00Z"
    assert params["createdBefore"] == "2026-06-01T11:57:00Z"
    assert "lastUpdatedAfter" not in params and "lastUpdatedBefore" not in params
    assert params["fulfillmentStatuses"] == ["PARTIALLY_SHIPPED", "UNSHIPPED"]
    assert params["marketplaceIds"] == ["ATVPDKIKX0DER"]
    assert params["fulfilledBy"] == ["MERCHANT"]
    assert params["includedData"] == ["RECIPIENT", "FULFILLMENT", "CANCELLATION"]
    assert params["maxResultsPerPage"] == 100


def test_the_first_download_starts_at_the_stores_import_since(store):
    store.import_since = dt.datetime(2026, 5, 30, 8, 30, tzinfo=dt.UTC)

    params = order_search_params(store=store, watermark=None, now=NOW)

    assert params["createdAfter"] == "2026-05-30T08:30:00Z"


def test_later_downloads_ask_for_orders_updated_since_the_watermark_minus_an_overlap(store):
    store.import_order_statuses = ["UNSHIPPED"]

    params = order_search_params(store=store, watermark=NOW - dt.timedelta(minutes=30), now=NOW)

    assert params["lastUpdatedAfter"] == "2026-06-01T11:25:00Z"
    # the two-minute rule, with a minute to spare
    assert params["lastUpdatedBefore"] == "2026-06-01T11:57:00Z"
    assert "createdAfter" not in params and "createdBefore" not in params
    # known orders that ship or are cancelled must be seen, whatever is imported as new
    assert params["fulfillmentStatuses"] == ["CANCELLED", "PARTIALLY_SHIPPED", "SHIPPED", "UNSHIPPED"]


def test_an_afn_store_asks_for_orders_fulfilled_by_amazon(store):
    store.fulfillment_channel = Store.FulfillmentChannel.AFN

    assert order_search_params(store=store, watermark=None, now=NOW)["fulfilledBy"] == ["AMAZON"]


def test_it_imports_only_merchant_fulfilled_orders_for_an_mfn_store(store, seller):
    # given
    mfn, afn = sandbox_orders_create(seller=seller, count=2, seed=1, status="UNSHIPPED")
    sandbox_order_update(order=afn, when=afn.last_updated_time, fulfilled_by="AMAZON")

    # when
    orders_pull(store=store)

    # then
    assert list(Order.objects.values_list("amazon_order_id", flat=True)) == [mfn.order_id]


def test_it_imports_amazon_fulfilled_orders_for_an_afn_store(store, seller):
    _mfn, afn = sandbox_orders_create(seller=seller, count=2, seed=1, status="UNSHIPPED")
    sandbox_order_update(order=afn, when=afn.last_updated_time, fulfilled_by="AMAZON")
    Store.objects.filter(pk=store.pk).update(fulfillment_channel=Store.FulfillmentChannel.AFN)
    store.refresh_from_db()

    orders_pull(store=store)

    assert list(Order.objects.values_list("amazon_order_id", flat=True)) == [afn.order_id]


def test_it_imports_only_the_stores_marketplace(store, seller):
    # given: the same seller also sells in Canada
    sandbox_orders_create(seller=seller, count=3, seed=1, status="UNSHIPPED", marketplace_code="CA")
    us = sandbox_orders_create(seller=seller, count=2, seed=2, status="UNSHIPPED")

    # when
    orders_pull(store=store)

    # then
    assert set(Order.objects.values_list("amazon_order_id", flat=True)) == {o.order_id for o in us}
    assert Marketplace.objects.get(code="CA").marketplace_id not in set(
        Order.objects.values_list("marketplace_id", flat=True)
    )


def test_it_imports_new_orders_only_in_the_stores_statuses(store, seller):
    # given
    unshipped = sandbox_orders_create(seller=seller, count=2, seed=1, status="UNSHIPPED")
    pending = sandbox_orders_create(seller=seller, count=2, seed=2, status="PENDING")
    shipped = sandbox_orders_create(seller=seller, count=2, seed=3, status="SHIPPED")

    # when
    orders_pull(store=store)

    # then
    assert set(Order.objects.values_list("amazon_order_id", flat=True)) == {o.order_id for o in unshipped}
    del pending, shipped


def test_a_store_that_imports_pending_gets_pending_orders(store, seller):
    store.import_order_statuses = ["PENDING"]
    store.save()
    pending = sandbox_orders_create(seller=seller, count=2, seed=2, status="PENDING")
    sandbox_orders_create(seller=seller, count=2, seed=1, status="UNSHIPPED")

    orders_pull(store=store)

    assert set(Order.objects.values_list("amazon_order_id", flat=True)) == {o.order_id for o in pending}
    assert set(Order.objects.values_list("amazon_status", flat=True)) == {"PENDING"}


def test_incremental_downloads_do_not_import_new_orders_in_other_statuses(store, seller, time_passes):
    # given: after the first download, an order appears already shipped
    orders_pull(store=store)
    time_passes(30)
    now = timezone.now()
    sandbox_orders_create(
        seller=seller,
        count=3,
        seed=4,
        status="SHIPPED",
        created_after=now - dt.timedelta(minutes=20),
        created_before=now - dt.timedelta(minutes=10),
    )

    # when
    run = orders_pull(store=store)

    # then
    assert run.ok and run.counts["skipped"] == 3
    assert not Order.objects.exists()


def test_it_imports_only_orders_shipping_to_the_stores_countries(store, seller):
    # given
    store.ship_to_countries = "CA,MX"
    store.save()
    to_us, to_ca = sandbox_orders_create(seller=seller, count=2, seed=1, status="UNSHIPPED")
    sandbox_order_update(
        order=to_ca,
        when=to_ca.last_updated_time,
        delivery_address={**to_ca.delivery_address, "countryCode": "CA"},
    )

    # when
    run = orders_pull(store=store)

    # then
    assert list(Order.objects.values_list("amazon_order_id", flat=True)) == [to_ca.order_id]
    assert run.counts["skipped"] == 1
    del to_us


def test_it_asks_amazon_with_the_stores_filters(store, seller, monkeypatch):
    asked = []
    real = AmazonClient.search_orders
    monkeypatch.setattr(
        AmazonClient,
        "search_orders",
        lambda client, **query: asked.append(query) or real(client, **query),
    )

    orders_pull(store=store)
    orders_pull(store=store)

    assert "createdAfter" in asked[0] and "lastUpdatedAfter" in asked[1]
    for query in asked:
        assert query["includedData"] == ["RECIPIENT", "FULFILLMENT", "CANCELLATION"]
        assert query["fulfilledBy"] == ["MERCHANT"]
    assert StoreSyncState.objects.get(store=store).order_watermark is not None
