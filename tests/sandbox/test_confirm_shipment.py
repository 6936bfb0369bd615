"""confirmShipment (Orders v0): Amazon's validation and status moves."""

import pytest

from sandbox.models import SandboxOrder
from sandbox.orders import sandbox_orders_create
from tests.sandbox.helpers import access_token_for
from tests.sandbox.schemas import assert_valid, assert_valid_response

PATH = "/orders/v0/orders/{orderId}/shipmentConfirmation"


@pytest.fixture
def order(sandbox_seller) -> SandboxOrder:
    order = sandbox_orders_create(seller=sandbox_seller, count=1, seed=11, status="UNSHIPPED")[0]
    items = list(order.items.order_by("order_item_id"))
    if len(items) == 1:
        items[0].quantity_ordered = 2
        items[0].save()
    return order


@pytest.fixture
def confirm(client, sandbox_seller):
    token = access_token_for()

    def call(order_id, body):
        response = client.post(
            f"/sandbox/orders/v0/orders/{order_id}/shipmentConfirmation",
            body,
            content_type="application/json",
            HTTP_X_AMZ_ACCESS_TOKEN=token,
        )
        assert_valid_response(response, model_file="ordersV0.json", path=PATH, method="post")
        return response

    return call


def _body(order, *, reference="1", carrier="UPS", lines=None, **detail):
    items = list(order.items.order_by("order_item_id"))
    body = {
        "marketplaceId": "ATVPDKIKX0DER",
        "packageDetail": {
            "packageReferenceId": reference,
            "carrierCode": carrier,
            "trackingNumber": "1Z999AA10123456784",
            "shipDate": "2026-01-05T15:00:00Z",
            "orderItems": lines
            if lines is not None
            else [{"orderItemId": items[0].order_item_id, "quantity": 1}],
            **detail,
        },
    }
    return body


def test_the_request_bodies_sent_here_follow_the_model(order):
    assert_valid(_body(order), model_file="ordersV0.json", definition="ConfirmShipmentRequest")


def test_it_moves_the_order_to_partially_shipped_then_shipped(confirm, order):
    # given
    before = order.last_updated_time

    # when: part of the first item
    first = confirm(order.order_id, _body(order))
    order.refresh_from_db()

    # then
    assert first.status_code == 204
    assert not first.content
    assert order.status == "PARTIALLY_SHIPPED"
    assert order.last_updated_time > before

    # when: the rest
    rest = [{"orderItemId": i.order_item_id, "quantity": i.quantity_unshipped} for i in order.items.all()]
    rest = [line for line in rest if line["quantity"]]
    second = confirm(order.order_id, _body(order, reference="2", lines=rest))
    order.refresh_from_db()

    # then
    assert second.status_code == 204
    assert order.status == "SHIPPED"
    assert sum(i.quantity_unshipped for i in order.items.all()) == 0
    assert order.packages.count() == 2


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        (dict(carrier="Pony Express"), "carrierCode"),
        (dict(carrier="Other"), "carrierName"),
        (dict(lines=[{"orderItemId": "00000000000000", "quantity": 1}]), "not part of order"),
        (dict(lines=[{"orderItemId": "X", "quantity": "one"}]), "invalid"),
        (dict(reference="PKG-1"), "packageReferenceId"),
        (dict(shipDate="02/21/2022"), "shipDate"),
    ],
    ids=["unknown carrier", "Other without name", "unknown item", "bad body", "non-numeric ref", "bad date"],
)
def test_it_refuses_invalid_confirmations_with_invalid_input(confirm, order, change, fragment):
    response = confirm(order.order_id, _body(order, **change))

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidInput"
    assert fragment.lower() in (error["message"] + error.get("details", "")).lower()
    order.refresh_from_db()
    assert order.status == "UNSHIPPED"


def test_it_accepts_other_with_a_carrier_name(confirm, order):
    response = confirm(order.order_id, _body(order, carrier="Other", carrierName="Pony Express"))

    assert response.status_code == 204


def test_it_refuses_more_than_the_unshipped_quantity(confirm, order):
    item = order.items.order_by("order_item_id").first()

    response = confirm(
        order.order_id,
        _body(order, lines=[{"orderItemId": item.order_item_id, "quantity": item.quantity_ordered + 1}]),
    )

    assert response.status_code == 400
    assert "exceeds" in response.json()["errors"][0]["message"]


def test_it_refuses_a_repeated_package_reference(confirm, order):
    assert confirm(order.order_id, _body(order)).status_code == 204

    again = confirm(order.order_id, _body(order))

    assert again.status_code == 400
    assert "already used" in again.json()["errors"][0]["message"]


@pytest.mark.parametrize("status", ["SHIPPED", "CANCELLED"])
def test_it_refuses_an_order_already_shipped_or_cancelled(confirm, order, status):
    SandboxOrder.objects.filter(pk=order.pk).update(status=status)

    response = confirm(order.order_id, _body(order))

    assert response.status_code == 400
    assert status.lower() in response.json()["errors"][0]["message"]


def test_it_answers_404_for_an_unknown_order(confirm, order):
    response = confirm("111-1111111-1111111", _body(order))

    assert response.status_code == 404
