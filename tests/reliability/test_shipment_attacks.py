"""Attacks on the WMS's way in (issue 16.2, 16.8, 16.12, 16.13): ship dates that
poison the database, a partial commit behind a 500, bodies nested too deep,
replays with other data, tracking numbers no carrier prints."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.shipments.models import Shipment, ShipmentConfirmation
from fulfillment.wms.api import serializers as api_serializers
from fulfillment.wms.imports import shipments_csv_import
from fulfillment.wms.services import wms_key_create
from tests.wms.factories import make_released_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(store):
    return make_released_order(store=store, lines=[("A1", "AMZ-A", 2, [("WH-A", 1)])])


@pytest.fixture
def api(store) -> APIClient:
    _, plain = wms_key_create(warehouse=store.warehouse, name="WMS")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


def _package(order, **kw) -> dict:
    return {
        "order": order.amazon_order_id,
        "package_id": "PKG-1",
        "carrier": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "ship_date": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
        "lines": [{"order_item_id": "A1", "quantity": 1}],
        **kw,
    }


# --- 16.2: ship dates ------------------------------------------------------------------------

BAD_SHIP_DATES = {
    "year 1 with an offset (PostgreSQL would store it BC)": "0001-01-01T00:00:00+05:00",
    "year 9999 with a negative offset (past the end of datetime)": "9999-12-31T23:59:59-05:00",
    "year 1, a date alone": "0001-01-01",
    "before the order was placed": "2020-01-01T00:00:00Z",
    "a day ahead": "{tomorrow}",
}


@pytest.mark.parametrize("case", BAD_SHIP_DATES)
def test_a_ship_date_amazon_would_refuse_is_a_400_naming_it_and_writes_nothing(
    case, api, order, admin_client
):
    ship_date = BAD_SHIP_DATES[case].format(tomorrow=(timezone.now() + dt.timedelta(days=1)).isoformat())

    response = api.post("/api/v1/shipments", _package(order, ship_date=ship_date), format="json")

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["ship_date"]
    assert not Shipment.objects.exists() and not ShipmentConfirmation.objects.exists()
    # and every page that lists shipments still answers
    for url in (
        reverse("admin:confirmations_shipment_changelist"),
        reverse("admin:confirmations_shipmentconfirmation_changelist"),
        reverse("admin:fulfillment_order_change", args=[order.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_the_csv_import_and_the_admin_form_apply_the_same_ship_date_rule(admin_client, warehouse, order):
    csv = (
        "amazon_order_id,package_id,carrier,tracking_number,ship_date,order_item_id,quantity\n"
        f"{order.amazon_order_id},P1,UPS,1Z999AA10123456784,0001-01-01T00:00:00+05:00,A1,1\n"
    )
    report = shipments_csv_import(warehouse=warehouse, data=csv, dry_run=False)
    form = admin_client.post(
        reverse("admin:confirmations_shipment_record", args=[order.pk]),
        {
            "package_id": "P2",
            "carrier": "UPS",
            "tracking_number": "1Z999AA10123456784",
            "ship_date": (order.purchased_at - dt.timedelta(days=3)).date().isoformat(),
            f"qty_{order.lines.get().pk}": 1,
        },
    )

    assert [(e.line, e.message.split(":")[0]) for e in report.errors] == [(2, "ship_date")]
    assert form.status_code == 200 and "ship_date" in form.context["form"].errors
    assert not Shipment.objects.exists()


# --- 16.2: a package is written only when the request succeeds ------------------------------


def test_a_failure_after_the_write_leaves_no_package_behind_the_500(api, order, monkeypatch):
    # given: building the answer fails once the package is written
    def broken(self, instance):
        raise RuntimeError("the answer could not be built")

    monkeypatch.setattr(api_serializers.ShipmentOutSerializer, "to_representation", broken)

    # when
    with pytest.raises(RuntimeError):
        api.post("/api/v1/shipments", _package(order), format="json")

    # then: nothing was written, so the WMS's retry is a first recording, not a replay
    assert not Shipment.objects.exists() and not ShipmentConfirmation.objects.exists()
    order.lines.get().refresh_from_db()
    assert order.lines.get().quantity_shipped == 0


def test_a_broker_that_is_down_does_not_turn_a_recorded_package_into_a_500(
    api, order, monkeypatch, django_capture_on_commit_callbacks
):
    def broker_down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr("django_q.tasks.async_task", broker_down)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/shipments", _package(order), format="json")

    # the package is recorded and says so; the sweep sends it
    assert response.status_code == 201
    assert ShipmentConfirmation.objects.get().state == ShipmentConfirmation.State.PENDING


# --- 16.8: bodies nested too deep --------------------------------------------------------------


@pytest.mark.parametrize("depth", [40, 100_000])
def test_a_deeply_nested_body_is_a_json_400(api, order, depth):
    body = "[" * depth + "]" * depth
    for method in (api.post, api.put):
        response = method("/api/v1/shipments", body, content_type="application/json")
        assert response.status_code == 400
        assert "nested deeper" in response.json()["detail"]
    assert api.put("/api/v1/inventory", body, content_type="application/json").status_code == 400
    assert not Shipment.objects.exists()


# --- 16.12: a replay with other data -------------------------------------------------------------


def test_a_replayed_package_id_with_other_data_is_a_409_naming_each_difference(api, order):
    first = api.post("/api/v1/shipments", _package(order), format="json")
    # the same package, as a label prints the number: the same package
    same = api.post(
        "/api/v1/shipments",
        {
            **_package(order),
            "ship_date": first.json()["ship_date"],
            "tracking_number": "1Z 999 AA1 0123 4567 84",
        },
        format="json",
    )
    other = api.post(
        "/api/v1/shipments",
        {
            **_package(order),
            "ship_date": first.json()["ship_date"],
            "tracking_number": "1Z999AA10000000000",
            "lines": [{"order_item_id": "A1", "quantity": 2}],
        },
        format="json",
    )

    assert first.status_code == 201
    assert same.status_code == 200 and same.json() == first.json()
    assert other.status_code == 409
    assert other.json()["differences"] == {
        "tracking_number": {"stored": "1Z999AA10123456784", "sent": "1Z999AA10000000000"},
        "lines": {
            "stored": [{"order_item_id": "A1", "quantity": 1}],
            "sent": [{"order_item_id": "A1", "quantity": 2}],
        },
    }
    assert "PUT" in other.json()["detail"]
    shipment = Shipment.objects.get()
    assert shipment.tracking_number == "1Z999AA10123456784"
    assert order.lines.get().quantity_shipped == 1


# --- 16.13: tracking numbers ------------------------------------------------------------------------

BAD_TRACKING = {
    "full-width digits": "１Ｚ９９９ＡＡ１０１２３",
    "an emoji": "1Z999AA1😀",
    "a script tag": "<script>1Z</script>",
    "a newline": "1Z999\nAA1",
    "too short": "1Z9",
    "too long": "1Z" + "9" * 39,
}


@pytest.mark.parametrize("case", BAD_TRACKING)
def test_a_tracking_number_no_carrier_prints_is_refused_everywhere(case, api, order, admin_client, warehouse):
    value = BAD_TRACKING[case]

    response = api.post("/api/v1/shipments", _package(order, tracking_number=value), format="json")
    csv = (
        "amazon_order_id,package_id,carrier,tracking_number,ship_date,order_item_id,quantity\n"
        f'{order.amazon_order_id},P1,UPS,"{value}",{timezone.now().isoformat()},A1,1\n'
    )
    report = shipments_csv_import(warehouse=warehouse, data=csv, dry_run=False)
    form = admin_client.post(
        reverse("admin:confirmations_shipment_record", args=[order.pk]),
        {
            "package_id": "P2",
            "carrier": "UPS",
            "tracking_number": value,
            "ship_date": timezone.localdate(timezone=zoneinfo.ZoneInfo(warehouse.time_zone)).isoformat(),
            f"qty_{order.lines.get().pk}": 1,
        },
    )

    assert response.status_code == 400 and list(response.json()) == ["tracking_number"]
    assert "6 to 40 ASCII letters and digits" in response.json()["tracking_number"][0]
    assert [e.message.split(":")[0] for e in report.errors] == ["tracking_number"]
    assert form.status_code == 200 and "tracking_number" in form.context["form"].errors
    assert not Shipment.objects.exists()


def test_spaces_and_hyphens_of_a_printed_label_are_removed(api, order):
    response = api.post(
        "/api/v1/shipments", _package(order, tracking_number=" 1Z 999-AA1 0123 4567 84 "), format="json"
    )
    assert response.status_code == 201
    assert response.json()["tracking_number"] == "1Z999AA10123456784"
