"""python-amazon-sp-api, built the way the product builds it, against the sandbox.

Only tests/sandbox builds sp_api clients directly; the product does it in
connections/amazon/. Every call goes through the in-process `testserver`.
"""

import datetime as dt
import io
import json

import pytest
from django.utils import timezone
from sp_api.api import FeedsV20210630, ListingsItemsV20210801, OrdersV0, OrdersV20260101, Sellers
from sp_api.auth import AccessTokenClient
from sp_api.auth.exceptions import AuthorizationError
from sp_api.base import Marketplaces
from sp_api.base.exceptions import SellingApiBadRequestException, SellingApiRequestThrottledException

from sandbox.listings import sandbox_listing_upsert
from sandbox.models import SandboxListing
from sandbox.orders import sandbox_orders_create


class SandboxLwa(AccessTokenClient):
    scheme = "http://"
    host = "testserver"
    path = "/sandbox/auth/o2/token"


class _TestserverHost:
    # sp_api sends `host: endpoint[8:]`, which is wrong for an http:// endpoint.
    @property
    def headers(self):
        return {**super().headers, "host": "testserver"}


def build(cls, refresh_token="Atzr|acme-refresh-token"):
    client = type(f"Sandbox{cls.__name__}", (_TestserverHost, cls), {})(
        marketplace=Marketplaces.US,
        refresh_token=refresh_token,
        credentials=dict(
            lwa_app_id="amzn1.application-oa2-client.sandbox", lwa_client_secret="sandbox-client-secret"
        ),
        auth_token_client_class=SandboxLwa,
    )
    client.endpoint = "http://testserver/sandbox"
    return client


def test_sellers_get_marketplace_participation(sandbox_seller):
    response = build(Sellers).get_marketplace_participation()

    assert response.payload[0]["marketplace"]["id"] == "ATVPDKIKX0DER"
    assert response.rate_limit == "0.016"


def test_orders_search_pages_and_get_order(sandbox_seller):
    # given
    orders = sandbox_orders_create(seller=sandbox_seller, count=7, seed=21)
    client = build(OrdersV20260101)

    # when
    seen, token = [], None
    while True:
        kwargs = (
            {"paginationToken": token}
            if token
            else {
                "lastUpdatedAfter": (timezone.now() - dt.timedelta(days=10)).isoformat(),
                "maxResultsPerPage": 3,
                "includedData": ["RECIPIENT", "FULFILLMENT"],
            }
        )
        page = client.search_orders(**kwargs)
        seen += page.payload["orders"]
        token = page.next_token
        if not token:
            break
    one = client.get_order(orders[0].order_id, includedData=["FULFILLMENT"])

    # then
    assert sorted(o["orderId"] for o in seen) == sorted(o.order_id for o in orders)
    assert all("recipient" in o for o in seen)
    assert one.payload["order"]["orderId"] == orders[0].order_id


def test_orders_v0_confirm_shipment(sandbox_seller):
    order = sandbox_orders_create(seller=sandbox_seller, count=1, seed=22, status="UNSHIPPED")[0]
    lines = [{"orderItemId": i.order_item_id, "quantity": i.quantity_ordered} for i in order.items.all()]

    build(OrdersV0).confirm_shipment(
        order.order_id,
        marketplaceId="ATVPDKIKX0DER",
        packageDetail={
            "packageReferenceId": "1",
            "carrierCode": "USPS",
            "trackingNumber": "9400100000000000000000",
            "shipDate": timezone.now().isoformat(),
            "orderItems": lines,
        },
    )

    order.refresh_from_db()
    assert order.status == "SHIPPED"
    with pytest.raises(SellingApiBadRequestException) as refused:
        build(OrdersV0).confirm_shipment(
            order.order_id,
            marketplaceId="ATVPDKIKX0DER",
            packageDetail={
                "packageReferenceId": "2",
                "carrierCode": "USPS",
                "trackingNumber": "1",
                "shipDate": timezone.now().isoformat(),
                "orderItems": lines,
            },
        )
    assert refused.value.code == 400


def test_feeds_submit_poll_and_read_the_report(sandbox_seller):
    # given
    sandbox_listing_upsert(seller=sandbox_seller, sku="ACME-MUG-11OZ", quantity=1)
    document = {
        "header": {"sellerId": "A1ACMESELLER", "version": "2.0"},
        "messages": [
            {
                "messageId": 1,
                "sku": "ACME-MUG-11OZ",
                "operationType": "PATCH",
                "productType": "PRODUCT",
                "patches": [
                    {
                        "op": "replace",
                        "path": "/attributes/fulfillment_availability",
                        "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 25}],
                    }
                ],
            }
        ],
    }
    feeds = build(FeedsV20210630)

    # when
    created = feeds.create_feed_document(
        io.BytesIO(json.dumps(document).encode("utf-8")), content_type="application/json; charset=UTF-8"
    )
    feed_id = feeds.create_feed(
        "JSON_LISTINGS_FEED", created.payload["feedDocumentId"], marketplaceIds=["ATVPDKIKX0DER"]
    ).payload["feedId"]
    feed = feeds.get_feed(feed_id).payload
    report = json.loads(feeds.get_feed_result_document(feed["resultFeedDocumentId"]))

    # then
    assert feed["processingStatus"] == "DONE"
    assert report["summary"]["messagesAccepted"] == 1
    assert SandboxListing.objects.get(sku="ACME-MUG-11OZ").quantity == 25


def test_listings_items_patch_and_get(sandbox_seller):
    sandbox_listing_upsert(seller=sandbox_seller, sku="ACME-SOCKS-3PK", quantity=2)
    client = build(ListingsItemsV20210801)

    patched = client.patch_listings_item(
        "A1ACMESELLER",
        "ACME-SOCKS-3PK",
        marketplaceIds=["ATVPDKIKX0DER"],
        body={
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 8}],
                }
            ],
        },
    )
    read = client.get_listings_item(
        "A1ACMESELLER",
        "ACME-SOCKS-3PK",
        marketplaceIds=["ATVPDKIKX0DER"],
        includedData=["fulfillmentAvailability"],
    )

    assert patched.payload["status"] == "ACCEPTED"
    assert read.payload["fulfillmentAvailability"][0]["quantity"] == 8


def test_throttling_reaches_the_client_as_429_with_the_rate_header(sandbox_seller, settings):
    # given: Amazon's real usage plan, burst 15 for getMarketplaceParticipations
    settings.SANDBOX_RATE_LIMITS = True
    client = build(Sellers)
    for _ in range(15):
        client.get_marketplace_participation()

    # when
    with pytest.raises(SellingApiRequestThrottledException) as throttled:
        client.get_marketplace_participation()

    # then
    assert throttled.value.code == 429
    assert throttled.value.error[0]["code"] == "QuotaExceeded"
    assert throttled.value.headers["x-amzn-RateLimit-Limit"] == "0.016"


def test_an_unknown_refresh_token_fails_at_lwa(sandbox_seller):
    with pytest.raises(AuthorizationError) as failed:
        build(Sellers, refresh_token="Atzr|unknown").get_marketplace_participation()

    assert failed.value.error_code == "invalid_grant"
    assert failed.value.status_code == 400
