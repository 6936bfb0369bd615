"""searchListingsItems in the sandbox: identifiers, pageSize, pageToken, includedData,
the 1,000-item paging limit, usage plan; every answer validated against the model."""

import datetime as dt

import pytest
from django.utils import timezone

from connections.models import Marketplace
from sandbox.models import SandboxListing
from sandbox.rate_limits import rate_bucket_take
from tests.sandbox.helpers import access_token_for
from tests.sandbox.schemas import assert_valid_response

LISTINGS = "listingsItems_2021-08-01.json"
SEARCH = "/listings/2021-08-01/items/{sellerId}"
US = "ATVPDKIKX0DER"


@pytest.fixture
def catalog(sandbox_seller):
    """1,100 listings made in one query; one in ten Amazon-fulfilled."""
    us = Marketplace.objects.get(code="US")
    SandboxListing.objects.bulk_create(
        SandboxListing(
            seller=sandbox_seller,
            marketplace=us,
            sku=f"SKU-{n:05d}",
            asin=f"B{n:09d}",
            quantity=n % 4,
            fulfillment_channel_code="AMAZON_NA" if n % 10 == 0 else "DEFAULT",
        )
        for n in range(1100)
    )


@pytest.fixture
def search(client, sandbox_seller):
    token = access_token_for()

    def search(seller_id="A1ACMESELLER", **params):
        params.setdefault("marketplaceIds", US)
        response = client.get(
            f"/sandbox/listings/2021-08-01/items/{seller_id}", params, HTTP_X_AMZ_ACCESS_TOKEN=token
        )
        assert_valid_response(response, model_file=LISTINGS, path=SEARCH, method="get")
        return response

    return search


def test_it_finds_up_to_20_skus_by_identifier_with_their_fulfillment_availability(search, catalog):
    skus = [f"SKU-{n:05d}" for n in range(0, 40, 2)] + ["NOT-LISTED"]

    response = search(
        identifiers=",".join(skus[:20]),
        identifiersType="SKU",
        includedData="fulfillmentAvailability",
        pageSize=20,
    )

    body = response.json()
    assert response.status_code == 200 and response["x-amzn-RateLimit-Limit"] == "5"
    assert body["numberOfResults"] == 20 and "pagination" not in body
    by_sku = {item["sku"]: item["fulfillmentAvailability"] for item in body["items"]}
    assert sorted(by_sku) == sorted(skus[:20])
    assert by_sku["SKU-00000"] == [{"fulfillmentChannelCode": "AMAZON_NA", "quantity": 0}]
    assert by_sku["SKU-00002"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 2}]
    assert "summaries" not in body["items"][0]


def test_unknown_skus_are_simply_absent_and_asins_work_too(search, catalog):
    by_sku = search(identifiers="NOPE,SKU-00007", identifiersType="SKU").json()
    by_asin = search(identifiers="B000000007", identifiersType="ASIN", includedData="summaries").json()

    assert [i["sku"] for i in by_sku["items"]] == ["SKU-00007"] and by_sku["numberOfResults"] == 1
    assert by_asin["items"][0]["summaries"][0]["asin"] == "B000000007"


def test_page_tokens_walk_forward_and_back_and_stop_at_1000_items(search, catalog):
    seen, token, pages = [], None, 0
    while True:
        params = dict(pageSize=20, sortBy="sku", sortOrder="ASC")
        if token:
            params["pageToken"] = token
        body = search(**params).json()
        pages += 1
        seen += [item["sku"] for item in body["items"]]
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            break

    assert body["numberOfResults"] == 1100
    assert pages == 50 and len(seen) == len(set(seen)) == 1000
    assert seen[:2] == ["SKU-00000", "SKU-00001"]
    back = search(
        pageSize=20, sortBy="sku", sortOrder="ASC", pageToken=body["pagination"]["previousToken"]
    ).json()
    assert [i["sku"] for i in back["items"]] == seen[960:980]


def test_the_default_page_is_10_newest_first(search, catalog):
    later = timezone.now() + dt.timedelta(minutes=1)
    SandboxListing.objects.filter(sku="SKU-00500").update(quantity=9, updated_at=later)

    body = search().json()

    assert len(body["items"]) == 10 and body["items"][0]["sku"] == "SKU-00500"
    assert body["items"][0]["summaries"][0]["status"] == ["BUYABLE", "DISCOVERABLE"]
    assert body["pagination"]["nextToken"]


@pytest.mark.parametrize(
    "params",
    [
        dict(marketplaceIds=""),
        dict(identifiers=",".join(f"S{n}" for n in range(21)), identifiersType="SKU"),
        dict(identifiers="SKU-00001"),
        dict(identifiers="SKU-00001", identifiersType="NAME"),
        dict(identifiers="SKU-00001", identifiersType="SKU", variationParentSku="P"),
        dict(pageSize=21),
        dict(pageSize=0),
        dict(pageSize="x"),
        dict(includedData="everything"),
        dict(sortBy="price"),
        dict(withStatus="SOLD"),
        dict(pageToken="not-a-token"),
        dict(lastUpdatedAfter="yesterday"),
    ],
)
def test_bad_searches_are_refused_as_amazon_does(search, catalog, params):
    response = search(**params)

    assert response.status_code == 400 and response.json()["errors"][0]["code"] == "InvalidInput"


def test_a_page_token_of_another_search_is_refused(search, catalog):
    token = search(pageSize=5).json()["pagination"]["nextToken"]

    assert search(pageSize=5, sortBy="sku", pageToken=token).status_code == 400


def test_another_sellers_listings_are_refused(search, catalog):
    assert search(seller_id="A2OTHER").status_code == 403


def test_the_page_cap_switch_serves_fewer_items_than_asked(search, catalog, sandbox_faults):
    sandbox_faults(search_page_cap=3)
    skus = [f"SKU-{n:05d}" for n in range(7)]

    first = search(identifiers=",".join(skus), identifiersType="SKU", pageSize=20).json()
    rest = search(
        identifiers=",".join(skus),
        identifiersType="SKU",
        pageSize=20,
        pageToken=first["pagination"]["nextToken"],
    ).json()

    assert len(first["items"]) == 3 and first["numberOfResults"] == 7
    assert len(rest["items"]) == 3 and rest["pagination"]["nextToken"]


def test_the_usage_plan_is_5_per_second_burst_5(search, catalog, settings):
    settings.SANDBOX_RATE_LIMITS = True
    # The bucket emptied "later" than the request: no refill can come in between.
    later = timezone.now() + dt.timedelta(hours=1)
    taken = [
        rate_bucket_take(caller="A1ACMESELLER", operation="searchListingsItems", now=later) for _ in range(6)
    ]

    response = search(identifiers="SKU-00001", identifiersType="SKU")

    assert taken == [True] * 5 + [False]
    assert response.status_code == 429 and response["x-amzn-RateLimit-Limit"] == "5"
