"""The sandbox applies fulfillment_availability patches as JSON Patch and Amazon define
them: `replace` sets the whole attribute (what it does not carry is gone), `merge`
changes only the properties sent, in the entry with the same channel code."""

import datetime as dt
import itertools
import json

import pytest

from sandbox.listings import listings_feed_report, sandbox_listing_patch, sandbox_listing_upsert
from sandbox.models import SandboxFeed, SandboxFeedDocument, SandboxListing

US = "ATVPDKIKX0DER"
RESTOCK = dt.date(2026, 12, 24)
_ids = itertools.count(1)


@pytest.fixture
def mug(sandbox_seller):
    return sandbox_listing_upsert(
        seller=sandbox_seller, sku="MUG", quantity=3, lead_time_to_ship_max_days=4, restock_date=RESTOCK
    )


def _body(op: str, **entry) -> dict:
    value = {"fulfillment_channel_code": "DEFAULT", **entry}
    return {
        "productType": "PRODUCT",
        "patches": [{"op": op, "path": "/attributes/fulfillment_availability", "value": [value]}],
    }


def _by_feed(seller, op: str, **entry) -> dict:
    document = {
        "header": {"sellerId": seller.selling_partner_id, "version": "2.0"},
        "messages": [{"messageId": 1, "sku": "MUG", "operationType": "PATCH", **_body(op, **entry)}],
    }
    n = next(_ids)
    upload = SandboxFeedDocument.objects.create(
        document_id=f"doc-{n}", seller=seller, content=json.dumps(document).encode()
    )
    feed = SandboxFeed.objects.create(
        feed_id=f"{10**10 + n}", seller=seller, feed_type="JSON_LISTINGS_FEED", marketplace_ids=[US],
        input_document=upload, created_time=dt.datetime.now(dt.UTC),
    )  # fmt: skip
    report, fatal = listings_feed_report(feed=feed)
    assert not fatal and report["summary"]["messagesAccepted"] == 1, report
    return report


def _state(sku="MUG"):
    listing = SandboxListing.objects.get(sku=sku)
    return (listing.fulfillment_channel_code, listing.quantity, listing.lead_time_to_ship_max_days,
            listing.restock_date)  # fmt: skip


@pytest.mark.parametrize("path", ["patch", "feed"])
def test_replace_drops_the_handling_time_and_restock_date_it_does_not_carry(sandbox_seller, mug, path):
    if path == "patch":
        assert sandbox_listing_patch(
            seller=sandbox_seller, sku="MUG", marketplace_ids=[US], body=_body("replace", quantity=9)
        ) == ("ACCEPTED", [])
    else:
        _by_feed(sandbox_seller, "replace", quantity=9)

    assert _state() == ("DEFAULT", 9, None, None)


@pytest.mark.parametrize("path", ["patch", "feed"])
def test_merge_changes_only_the_properties_sent(sandbox_seller, mug, path):
    for _ in range(2):  # the same merge twice is the same listing
        if path == "patch":
            sandbox_listing_patch(
                seller=sandbox_seller, sku="MUG", marketplace_ids=[US], body=_body("merge", quantity=9)
            )
        else:
            _by_feed(sandbox_seller, "merge", quantity=9)

    assert _state() == ("DEFAULT", 9, 4, RESTOCK)

    sandbox_listing_patch(
        seller=sandbox_seller, sku="MUG", marketplace_ids=[US],
        body=_body("merge", lead_time_to_ship_max_days=1, restock_date="2027-01-02"),
    )  # fmt: skip
    assert _state() == ("DEFAULT", 9, 1, dt.date(2027, 1, 2))


def test_merge_matches_entries_by_channel_code(sandbox_seller):
    # given: an Amazon-fulfilled offer
    sandbox_listing_upsert(seller=sandbox_seller, sku="MUG", quantity=5, lead_time_to_ship_max_days=4,
                           fulfillment_channel_code="AMAZON_NA")  # fmt: skip

    # when: a merge for the merchant channel arrives
    sandbox_listing_patch(
        seller=sandbox_seller, sku="MUG", marketplace_ids=[US], body=_body("merge", quantity=2)
    )

    # then: it is another entry: nothing of the Amazon channel's entry carries over
    assert _state() == ("DEFAULT", 2, None, None)


def test_a_bad_restock_date_is_refused(sandbox_seller, mug):
    status, issues = sandbox_listing_patch(
        seller=sandbox_seller, sku="MUG", marketplace_ids=[US], body=_body("merge", restock_date="soon")
    )

    assert status == "INVALID" and "restock_date" in issues[0]["message"]
    assert _state() == ("DEFAULT", 3, 4, RESTOCK)


def test_get_listings_item_shows_the_handling_time_and_restock_date(client, sandbox_seller, mug):
    from tests.sandbox.helpers import access_token_for

    response = client.get(
        f"/sandbox/listings/2021-08-01/items/A1ACMESELLER/MUG?marketplaceIds={US}&includedData=attributes",
        HTTP_X_AMZ_ACCESS_TOKEN=access_token_for(),
    )

    assert response.json()["attributes"]["fulfillment_availability"] == [
        {"fulfillment_channel_code": "DEFAULT", "quantity": 3, "marketplace_id": US,
         "lead_time_to_ship_max_days": 4, "restock_date": "2026-12-24"}
    ]  # fmt: skip
