"""The WMS corrects a package Amazon has not accepted (PUT /api/v1/shipments, issue 16.2):
the package and the order's quantities change, its confirmation starts over and
goes to Amazon (the sandbox) with the new data; a package Amazon has is locked."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.orders.models import Order, OrderLine
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.wms.services import wms_key_create
from sandbox.models import SandboxOrderItem, SandboxPackage

from .conftest import ITEM_A, ITEM_B

pytestmark = pytest.mark.django_db

State = ShipmentConfirmation.State


@pytest.fixture
def api(store) -> APIClient:
    _, plain = wms_key_create(warehouse=store.warehouse, name="WMS")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def _package(order, shipment, **kw) -> dict:
    return {
        "order": order.amazon_order_id,
        "package_id": shipment.package_id,
        "carrier": shipment.carrier,
        "service": shipment.service,
        "tracking_number": shipment.tracking_number,
        "ship_date": shipment.ship_date.isoformat(),
        "lines": [
            {"order_item_id": line.order_line.order_item_id, "quantity": line.quantity}
            for line in shipment.lines.all()
        ],
        **kw,
    }


def test_a_package_amazon_refused_is_corrected_and_then_confirmed(order, amazon_order, ship, sweep, api):
    # given: the warehouse recorded 2 of A, Amazon has 1 left (one went by another way): refused
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1})
    SandboxOrderItem.objects.filter(order=amazon_order, order_item_id=ITEM_A).update(quantity_shipped=1)
    sweep()
    assert ShipmentConfirmation.objects.get().state == State.REJECTED

    # when: the WMS sends what it really shipped
    corrected = api.put(
        "/api/v1/shipments",
        _package(
            order,
            shipment,
            lines=[{"order_item_id": ITEM_A, "quantity": 1}, {"order_item_id": ITEM_B, "quantity": 1}],
        ),
        format="json",
    )
    run, _ = sweep()
    again, _ = sweep()

    # then
    assert corrected.status_code == 200, corrected.json()
    assert sorted((li["order_item_id"], li["quantity"]) for li in corrected.json()["lines"]) == [
        (ITEM_A, 1),
        (ITEM_B, 1),
    ]
    assert dict(OrderLine.objects.filter(order=order).values_list("order_item_id", "quantity_shipped")) == {
        ITEM_A: 1,
        ITEM_B: 1,
    }
    confirmation = ShipmentConfirmation.objects.get()
    assert (confirmation.state, confirmation.attempts) == (State.ACCEPTED, 1)
    assert run.counts["accepted"] == 1 and again.counts["sent"] == 0
    package = SandboxPackage.objects.get()
    assert sorted((i["orderItemId"], i["quantity"]) for i in package.items) == [(ITEM_A, 1), (ITEM_B, 1)]
    assert package.package_reference_id == str(shipment.package_reference)


def test_a_pending_package_is_sent_with_the_corrected_tracking_number(order, amazon_order, ship, sweep, api):
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1}, tracking="1ZTYPO00001")

    corrected = api.put(
        "/api/v1/shipments", _package(order, shipment, tracking_number="1ZRIGHT0001"), format="json"
    )
    sweep()
    sweep()

    assert corrected.status_code == 200
    assert SandboxPackage.objects.get().tracking_number == "1ZRIGHT0001"
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_sending_the_stored_data_again_changes_nothing(order, ship, api):
    shipment = ship(order, {ITEM_A: 1})
    ShipmentConfirmation.objects.filter(shipment=shipment).update(state=State.RETRYING, attempts=3)

    response = api.put("/api/v1/shipments", _package(order, shipment), format="json")

    assert response.status_code == 200
    assert ShipmentConfirmation.objects.values_list("state", "attempts").get() == (State.RETRYING, 3)


@pytest.mark.parametrize(
    ("state", "outcome_unknown", "fragment"),
    [
        (State.ACCEPTED, False, "Amazon already accepted"),
        (State.RESOLVED, False, "settled by hand"),
        (State.SENDING, True, "being sent to Amazon"),
        (State.RETRYING, True, "may have reached Amazon"),
    ],
)
def test_a_package_amazon_has_or_may_have_cannot_be_corrected(
    order, ship, api, state, outcome_unknown, fragment
):
    shipment = ship(order, {ITEM_A: 1}, tracking="1ZBEFORE0001")
    ShipmentConfirmation.objects.filter(shipment=shipment).update(
        state=state, outcome_unknown=outcome_unknown, accepted_at=timezone.now()
    )

    response = api.put(
        "/api/v1/shipments",
        _package(
            order, shipment, tracking_number="1ZAFTER00001", lines=[{"order_item_id": ITEM_A, "quantity": 2}]
        ),
        format="json",
    )

    assert response.status_code == 409 and fragment in response.json()["detail"]
    shipment.refresh_from_db()
    assert shipment.tracking_number == "1ZBEFORE0001"
    assert OrderLine.objects.get(order=order, order_item_id=ITEM_A).quantity_shipped == 1


def test_a_correction_is_checked_like_a_new_package(order, ship, api):
    shipment = ship(order, {ITEM_A: 1})
    unknown = api.put("/api/v1/shipments", _package(order, shipment, package_id="NEVER-SENT"), format="json")
    too_many = api.put(
        "/api/v1/shipments",
        _package(order, shipment, lines=[{"order_item_id": ITEM_A, "quantity": 3}]),
        format="json",
    )
    too_early = api.put(
        "/api/v1/shipments",
        _package(order, shipment, ship_date=(order.purchased_at - dt.timedelta(days=1)).isoformat()),
        format="json",
    )

    assert unknown.status_code == 404 and "POST" in unknown.json()["detail"]
    assert too_many.status_code == 400 and "left to ship" in too_many.json()["lines.0"][0]
    assert too_early.status_code == 400 and list(too_early.json()) == ["ship_date"]
    assert OrderLine.objects.get(order=order, order_item_id=ITEM_A).quantity_shipped == 1


def test_a_person_corrects_packages_with_the_shipments_csv_import(order, ship, sweep, admin_client, store):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    # given: one package Amazon has not seen, one it accepted
    pending = ship(order, {ITEM_A: 1}, tracking="1ZTYPO00001")
    accepted = ship(order, {ITEM_B: 1}, tracking="1ZKEEP00001")
    ShipmentConfirmation.objects.filter(shipment=accepted).update(state=State.ACCEPTED)
    day = pending.ship_date.isoformat()
    header = "amazon_order_id,package_id,carrier,tracking_number,ship_date,order_item_id,quantity\n"
    fix_pending = f"{order.amazon_order_id},{pending.package_id},UPS,1ZRIGHT0001,{day},{ITEM_A},1\n"
    fix_accepted = f"{order.amazon_order_id},{accepted.package_id},UPS,1ZOTHER0001,{day},{ITEM_B},1\n"
    url = reverse("admin:confirmations_shipment_import_csv")

    def upload(content, **form):
        file = SimpleUploadedFile("ship.csv", (header + content).encode())
        return admin_client.post(url, {"warehouse": store.warehouse.pk, "file": file, **form})

    # when: without the box, then with it for the accepted one, then with it for the pending one
    refused = upload(fix_pending)
    locked = upload(fix_accepted, correct="on")
    preview = upload(fix_pending, correct="on")
    confirmed = admin_client.post(url, {"payload": preview.context["payload"]})

    # then
    assert "tick" in refused.context["report"].errors[0].message
    assert "Amazon already accepted" in locked.context["report"].errors[0].message
    assert preview.context["report"].counts["packages corrected"] == 1
    assert confirmed.status_code == 302
    pending.refresh_from_db()
    accepted.refresh_from_db()
    assert (pending.tracking_number, accepted.tracking_number) == ("1ZRIGHT0001", "1ZKEEP00001")
    assert ShipmentConfirmation.objects.get(shipment=pending).state == State.PENDING
