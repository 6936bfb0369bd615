"""searchOrders / getOrder (Orders 2026-01-01): filters, pagination, includedData, errors."""

import datetime as dt

import pytest
from django.utils import timezone

from sandbox.models import SandboxAccessToken, SandboxOrder
from sandbox.orders import sandbox_order_cancel, sandbox_order_update, sandbox_orders_create
from tests.sandbox.helpers import access_token_for
from tests.sandbox.schemas import assert_valid_response

MODEL = "orders_2026-01-01.json"
SEARCH = "/orders/2026-01-01/orders"
GET = "/orders/2026-01-01/orders/{orderId}"


@pytest.fixture
def api(client, sandbox_seller):
    token = access_token_for()

    def call(path, params=None, *, schema_path=SEARCH):
        response = client.get("/sandbox" + path, params or {}, HTTP_X_AMZ_ACCESS_TOKEN=token)
        assert_valid_response(response, model_file=MODEL, path=schema_path)
        return response

    return call


def _ago(**kw) -> str:
    return (timezone.now() - dt.timedelta(**kw)).isoformat()


def test_it_pages_through_every_order_once_in_a_stable_order(api, sandbox_seller):
    # given
    created = sandbox_orders_create(seller=sandbox_seller, count=25, seed=1)

    # when
    seen, token, pages = [], None, 0
    while True:
        params = (
            {"paginationToken": token}
            if token
            else {"lastUpdatedAfter": _ago(days=30), "maxResultsPerPage": 10}
        )
        body = api(SEARCH, params).json()
        pages += 1
        seen += [o["orderId"] for o in body["orders"]]
        token = body.get("pagination", {}).get("nextToken")
        if not token:
            break

    # then
    assert pages == 3
    assert sorted(seen) == sorted(o.order_id for o in created)
    assert len(seen) == len(set(seen))
    assert "lastUpdatedBefore" in body


def test_it_refuses_a_before_bound_within_two_minutes_with_invalid_input(api, sandbox_seller):
    response = api(SEARCH, {"lastUpdatedAfter": _ago(days=1), "lastUpdatedBefore": _ago(seconds=30)})

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    assert "2 minutes" in error["message"]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"createdAfter": "2026-01-01T00:00:00Z", "lastUpdatedAfter": "2026-01-01T00:00:00Z"},
        {"createdAfter": "yesterday"},
        {"createdAfter": "2026-01-01T00:00:00Z", "maxResultsPerPage": "101"},
        {"createdAfter": "2026-01-01T00:00:00Z", "fulfillmentStatuses": "LOST"},
        {"createdAfter": "2026-01-01T00:00:00Z", "includedData": "EVERYTHING"},
        {"paginationToken": "not-a-token"},
    ],
)
def test_it_refuses_invalid_searches_with_amazons_error_list(api, params):
    response = api(SEARCH, params)

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_it_filters_by_status_marketplace_fulfilled_by_and_created_window(api, sandbox_seller):
    # given
    orders = sandbox_orders_create(seller=sandbox_seller, count=12, seed=2, status="UNSHIPPED")
    sandbox_order_update(order=orders[0], status="SHIPPED", when=timezone.now() - dt.timedelta(minutes=10))
    sandbox_orders_create(seller=sandbox_seller, count=3, seed=3, marketplace_code="CA")
    old = orders[1]
    SandboxOrder.objects.filter(pk=old.pk).update(created_time=timezone.now() - dt.timedelta(days=20))

    # when
    body = api(
        SEARCH,
        {
            "createdAfter": _ago(days=10),
            "fulfillmentStatuses": "UNSHIPPED,PARTIALLY_SHIPPED",
            "marketplaceIds": "ATVPDKIKX0DER",
            "fulfilledBy": "MERCHANT",
            "includedData": "FULFILLMENT",
        },
    ).json()

    # then
    ids = {o["orderId"] for o in body["orders"]}
    assert ids == {o.order_id for o in orders[2:]}
    assert {o["fulfillment"]["fulfillmentStatus"] for o in body["orders"]} == {"UNSHIPPED"}
    assert "createdBefore" in body


def test_it_returns_recipient_and_other_sections_only_when_included(api, sandbox_seller):
    order = sandbox_orders_create(seller=sandbox_seller, count=1, seed=4, status="UNSHIPPED")[0]
    path = f"/orders/2026-01-01/orders/{order.order_id}"

    bare = api(path, schema_path=GET).json()["order"]
    full = api(
        path, {"includedData": "RECIPIENT,FULFILLMENT,CANCELLATION,PACKAGES,BUYER,PROCEEDS"}, schema_path=GET
    ).json()["order"]

    assert not {"recipient", "fulfillment", "packages", "buyer"} & set(bare)
    assert full["recipient"]["deliveryAddress"]["postalCode"]
    assert full["fulfillment"]["fulfillmentServiceLevel"] == order.service_level
    assert full["fulfillment"]["shipByWindow"]["latestDateTime"]
    assert full["packages"] == []
    assert full["orderItems"][0]["product"]["sellerSku"]


def test_it_answers_404_for_an_order_of_another_seller(api, sandbox_seller):
    from sandbox.sellers import sandbox_seller_ensure

    other = sandbox_seller_ensure(selling_partner_id="AOTHER")
    order = sandbox_orders_create(seller=other, count=1, seed=5)[0]

    response = api(f"/orders/2026-01-01/orders/{order.order_id}", schema_path=GET)

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "NotFound"


def test_it_shows_a_buyer_cancellation_request(api, sandbox_seller):
    order = sandbox_orders_create(seller=sandbox_seller, count=1, seed=6, status="UNSHIPPED")[0]
    sandbox_order_cancel(order=order, buyer_requested=True, reason="Ordered by mistake")

    body = api(
        f"/orders/2026-01-01/orders/{order.order_id}", {"includedData": "CANCELLATION"}, schema_path=GET
    )

    item = body.json()["order"]["orderItems"][0]
    assert item["cancellation"]["cancellationRequest"] == {
        "requester": "BUYER",
        "cancelReason": "Ordered by mistake",
    }


def test_it_refuses_calls_without_or_with_an_expired_access_token(client, sandbox_seller):
    missing = client.get("/sandbox" + SEARCH, {"createdAfter": _ago(days=1)})
    token = access_token_for()
    SandboxAccessToken.objects.filter(token=token).update(expires_at=timezone.now())
    expired = client.get("/sandbox" + SEARCH, {"createdAfter": _ago(days=1)}, HTTP_X_AMZ_ACCESS_TOKEN=token)

    for response in (missing, expired):
        assert_valid_response(response, model_file=MODEL, path=SEARCH)
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "Unauthorized"
        assert response["x-amzn-RateLimit-Limit"]
