"""Feeds (JSON_LISTINGS_FEED) and Listings Items against the sandbox's listings."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from sandbox.listings import sandbox_listing_upsert
from sandbox.models import SandboxFeed, SandboxListing
from tests.sandbox.helpers import access_token_for
from tests.sandbox.schemas import MODELS_DIR, assert_valid_response

FEEDS = "feeds_2021-06-30.json"
LISTINGS = "listingsItems_2021-08-01.json"
ITEM = "/listings/2021-08-01/items/{sellerId}/{sku}"


@pytest.fixture
def call(client, sandbox_seller):
    token = access_token_for()

    def call(method, path, *, model, schema_path, body=None, params=""):
        url = "/sandbox" + path + (f"?{params}" if params else "")
        kwargs = dict(HTTP_X_AMZ_ACCESS_TOKEN=token)
        if body is not None:
            kwargs.update(data=json.dumps(body), content_type="application/json")
        response = getattr(client, method)(url, **kwargs)
        assert_valid_response(response, model_file=model, path=schema_path, method=method)
        return response

    return call


@pytest.fixture
def listings(sandbox_seller):
    return [
        sandbox_listing_upsert(seller=sandbox_seller, sku="ACME-MUG-11OZ", quantity=3),
        sandbox_listing_upsert(seller=sandbox_seller, sku="ACME-TEE-M-BLK", quantity=0),
    ]


def _feed(*messages):
    return {"header": {"sellerId": "A1ACMESELLER", "version": "2.0"}, "messages": list(messages)}


def _patch(message_id, sku, quantity, **extra):
    return {
        "messageId": message_id,
        "sku": sku,
        "operationType": "PATCH",
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "replace",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity, **extra}],
            }
        ],
    }


def _submit(client, call, document: bytes):
    created = call(
        "post",
        "/feeds/2021-06-30/documents",
        model=FEEDS,
        schema_path="/feeds/2021-06-30/documents",
        body={"contentType": "application/json; charset=UTF-8"},
    )
    assert created.status_code == 201
    url = created.json()["url"]
    assert url.startswith("http://testserver/sandbox/feeds/upload/")
    upload = client.put(
        url.removeprefix("http://testserver"), document, content_type="application/json; charset=UTF-8"
    )
    assert upload.status_code == 200
    feed = call(
        "post",
        "/feeds/2021-06-30/feeds",
        model=FEEDS,
        schema_path="/feeds/2021-06-30/feeds",
        body={
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "inputFeedDocumentId": created.json()["feedDocumentId"],
        },
    )
    assert feed.status_code == 202
    return feed.json()["feedId"]


def _get_feed(call, feed_id):
    return call(
        "get",
        f"/feeds/2021-06-30/feeds/{feed_id}",
        model=FEEDS,
        schema_path="/feeds/2021-06-30/feeds/{feedId}",
    )


def _report(client, call, document_id):
    document = call(
        "get",
        f"/feeds/2021-06-30/documents/{document_id}",
        model=FEEDS,
        schema_path="/feeds/2021-06-30/documents/{feedDocumentId}",
    )
    assert document.status_code == 200
    report = client.get(document.json()["url"].removeprefix("http://testserver")).content
    return json.loads(report)


def _assert_valid_report(report):
    import jsonschema

    schema = json.loads((MODELS_DIR / "listings-feed-processing-report-schema-v2.json").read_text())
    jsonschema.validators.validator_for(schema)(schema).validate(report)


def test_it_applies_quantities_and_reports_unknown_skus_and_invalid_messages(client, call, listings):
    # given
    document = _feed(
        _patch(1, "ACME-MUG-11OZ", 40, lead_time_to_ship_max_days=3),
        _patch(2, "NO-SUCH-SKU", 5),
        _patch(3, "ACME-TEE-M-BLK", -1),
        {"messageId": 4, "sku": "ACME-TEE-M-BLK", "operationType": "PATCH"},
        {
            "messageId": 5,
            "sku": "ACME-TEE-M-BLK",
            "operationType": "PARTIAL_UPDATE",
            "productType": "PRODUCT",
            "attributes": {
                "fulfillment_availability": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}]
            },
        },
    )

    # when
    feed_id = _submit(client, call, json.dumps(document).encode())
    feed = _get_feed(call, feed_id).json()

    # then
    assert feed["processingStatus"] == "DONE"
    report = _report(client, call, feed["resultFeedDocumentId"])
    _assert_valid_report(report)
    assert report["summary"]["messagesProcessed"] == 5
    assert report["summary"]["messagesAccepted"] == 2
    assert report["summary"]["messagesInvalid"] == 3
    assert {i["messageId"] for i in report["issues"]} == {2, 3, 4}
    mug = SandboxListing.objects.get(sku="ACME-MUG-11OZ")
    assert (mug.quantity, mug.lead_time_to_ship_max_days) == (40, 3)
    assert SandboxListing.objects.get(sku="ACME-TEE-M-BLK").quantity == 7


def test_a_feed_queues_then_progresses_then_is_done_after_the_configured_time(
    client, call, listings, settings
):
    # given
    settings.SANDBOX_FEED_PROCESSING_SECONDS = 60
    feed_id = _submit(client, call, json.dumps(_feed(_patch(1, "ACME-MUG-11OZ", 9))).encode())

    # when / then
    assert _get_feed(call, feed_id).json()["processingStatus"] == "IN_QUEUE"
    SandboxFeed.objects.filter(feed_id=feed_id).update(created_time=timezone.now() - dt.timedelta(seconds=40))
    assert _get_feed(call, feed_id).json()["processingStatus"] == "IN_PROGRESS"
    assert SandboxListing.objects.get(sku="ACME-MUG-11OZ").quantity == 3
    SandboxFeed.objects.filter(feed_id=feed_id).update(created_time=timezone.now() - dt.timedelta(seconds=61))
    done = _get_feed(call, feed_id).json()
    assert done["processingStatus"] == "DONE"
    assert SandboxListing.objects.get(sku="ACME-MUG-11OZ").quantity == 9
    # Reading it again does not process it again.
    SandboxListing.objects.filter(sku="ACME-MUG-11OZ").update(quantity=1)
    assert _get_feed(call, feed_id).json()["resultFeedDocumentId"] == done["resultFeedDocumentId"]
    assert SandboxListing.objects.get(sku="ACME-MUG-11OZ").quantity == 1


def test_a_feed_that_is_not_json_is_fatal_with_a_report(client, call, listings):
    feed_id = _submit(client, call, b"sku\tquantity\nACME-MUG-11OZ\t1\n")

    feed = _get_feed(call, feed_id).json()

    assert feed["processingStatus"] == "FATAL"
    report = _report(client, call, feed["resultFeedDocumentId"])
    _assert_valid_report(report)
    assert report["summary"]["errors"] == 1


def test_it_refuses_a_feed_for_a_document_never_uploaded(call, sandbox_seller):
    created = call(
        "post",
        "/feeds/2021-06-30/documents",
        model=FEEDS,
        schema_path="/feeds/2021-06-30/documents",
        body={"contentType": "application/json"},
    )
    response = call(
        "post",
        "/feeds/2021-06-30/feeds",
        model=FEEDS,
        schema_path="/feeds/2021-06-30/feeds",
        body={
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "inputFeedDocumentId": created.json()["feedDocumentId"],
        },
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_it_answers_404_for_an_unknown_feed(call, sandbox_seller):
    assert _get_feed(call, "123").status_code == 404


def test_it_patches_and_reads_back_fulfillment_availability(call, listings):
    # when
    patched = call(
        "patch",
        "/listings/2021-08-01/items/A1ACMESELLER/ACME-MUG-11OZ",
        params="marketplaceIds=ATVPDKIKX0DER",
        model=LISTINGS,
        schema_path=ITEM,
        body={
            "productType": "PRODUCT",
            "patches": [
                {
                    "op": "replace",
                    "path": "/attributes/fulfillment_availability",
                    "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}],
                }
            ],
        },
    )
    read = call(
        "get",
        "/listings/2021-08-01/items/A1ACMESELLER/ACME-MUG-11OZ",
        params="marketplaceIds=ATVPDKIKX0DER&includedData=summaries,fulfillmentAvailability,attributes",
        model=LISTINGS,
        schema_path=ITEM,
    )

    # then
    assert patched.status_code == 200
    assert patched.json()["status"] == "ACCEPTED"
    assert read.status_code == 200
    assert read.json()["fulfillmentAvailability"] == [{"fulfillmentChannelCode": "DEFAULT", "quantity": 12}]


def test_it_reports_an_unknown_sku_as_invalid_and_404(call, listings):
    body = {
        "productType": "PRODUCT",
        "patches": [{"op": "delete", "path": "/attributes/fulfillment_availability"}],
    }
    patched = call(
        "patch",
        "/listings/2021-08-01/items/A1ACMESELLER/NOPE",
        params="marketplaceIds=ATVPDKIKX0DER",
        model=LISTINGS,
        schema_path=ITEM,
        body=body,
    )
    read = call(
        "get",
        "/listings/2021-08-01/items/A1ACMESELLER/NOPE",
        params="marketplaceIds=ATVPDKIKX0DER",
        model=LISTINGS,
        schema_path=ITEM,
    )

    assert patched.json()["status"] == "INVALID"
    assert read.status_code == 404


def test_it_refuses_an_invalid_patch_body(call, listings):
    response = call(
        "patch",
        "/listings/2021-08-01/items/A1ACMESELLER/ACME-MUG-11OZ",
        params="marketplaceIds=ATVPDKIKX0DER",
        model=LISTINGS,
        schema_path=ITEM,
        body={"patches": []},
    )

    assert response.status_code == 400
