"""The WMS API: every call, every refusal, key scoping between two warehouses."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.inventory.models import InventoryChange, InventoryLevel
from fulfillment.orders.models import Order, OrderLine
from fulfillment.shipments.models import Shipment, ShipmentConfirmation, ShipmentLine
from fulfillment.wms.models import WmsApiKey
from fulfillment.wms.services import wms_key_create, wms_key_revoke

from .factories import make_released_order

pytestmark = pytest.mark.django_db


def _shipment(order, package_id="PKG-1", lines=None, **kw):
    return {
        "order": kw.pop("order_ref", order.amazon_order_id),
        "package_id": package_id,
        "carrier": "UPS",
        "service": "Ground",
        "tracking_number": "1Z999AA10123456784",
        # After the purchase (a day ago), not in the future: a date Amazon takes.
        "ship_date": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "lines": lines if lines is not None else [{"order_item_id": "A1", "quantity": 1}],
        **kw,
    }


# --- Authentication and scoping ---------------------------------------------------------


def test_it_refuses_a_request_without_a_key(order):
    response = APIClient().get("/api/v1/orders")
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_refuses_an_unknown_key(order):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer wms_deadbeef_nope")
    assert client.get("/api/v1/orders").status_code == 401


def test_it_refuses_a_revoked_key(store, order):
    # given
    key, plain = wms_key_create(warehouse=store.warehouse, name="old")
    wms_key_revoke(key=key)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")

    # when
    response = client.get("/api/v1/orders")

    # then
    assert response.status_code == 401
    assert "revoked" in response.json()["detail"]


def test_it_stores_only_the_hash_and_records_use_once_a_minute(store, django_assert_num_queries):
    # given
    key, plain = wms_key_create(warehouse=store.warehouse, name="WMS")
    assert plain.startswith(f"wms_{key.prefix}_") and plain not in key.key_hash
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")

    # when
    client.get("/api/v1/cancellations")
    first_use = WmsApiKey.objects.get(pk=key.pk).last_used_at
    # key lookup, the list's count: no UPDATE within the minute
    with django_assert_num_queries(2):
        client.get("/api/v1/cancellations")

    # then
    assert first_use is not None
    assert WmsApiKey.objects.get(pk=key.pk).last_used_at == first_use


def test_a_key_sees_only_its_warehouses_orders(api, order, other_warehouse_order):
    # when
    listed = api.get("/api/v1/orders").json()
    detail = api.get(f"/api/v1/orders/{other_warehouse_order.pk}")
    ack = api.post(f"/api/v1/orders/{other_warehouse_order.pk}/acknowledge")
    ship = api.post(
        "/api/v1/shipments",
        _shipment(other_warehouse_order, lines=[{"order_item_id": "B1", "quantity": 1}]),
        format="json",
    )

    # then
    assert [o["id"] for o in listed["results"]] == [order.pk]
    assert detail.status_code == 404
    assert ack.status_code == 404
    assert ship.status_code == 400 and "order" in ship.json()
    assert not Shipment.objects.exists()


def test_the_other_warehouses_key_sees_only_its_own(order, other_warehouse_order):
    # given
    _, plain = wms_key_create(warehouse=other_warehouse_order.store.warehouse, name="TX")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")

    # when
    listed = client.get("/api/v1/orders").json()

    # then
    assert [o["id"] for o in listed["results"]] == [other_warehouse_order.pk]
    assert client.get(f"/api/v1/orders/{order.pk}").status_code == 404


# --- Orders --------------------------------------------------------------------------------


def test_it_lists_released_orders_with_kit_components_in_warehouse_units(api, order):
    # when
    response = api.get("/api/v1/orders", {"status": "released"})

    # then
    assert response.status_code == 200
    (body,) = response.json()["results"]
    assert body["id"] == order.pk and body["store"] == order.store.name
    assert body["amazon_order_id"] == order.amazon_order_id
    assert body["status"] == "released" and body["carrier"] == "UPS" and body["ship_code"] == "UPS-GROUND"
    assert body["ship_to"]["name"] == "Jane Doe" and body["ship_to"]["postal_code"] == "98101"
    assert body["lines"] == [
        {
            "order_item_id": "A1",
            "warehouse_sku": "WH-A",
            "amazon_sku": "AMZ-A",
            "quantity": 1,
            "quantity_shipped": 0,
            "quantity_cancelled": 0,
        },
        {
            "order_item_id": "K1",
            "warehouse_sku": "KIT-X",
            "amazon_sku": "AMZ-KIT",
            "quantity": 2,
            "quantity_shipped": 0,
            "quantity_cancelled": 0,
        },
        {
            "order_item_id": "K1",
            "warehouse_sku": "KIT-Y",
            "amazon_sku": "AMZ-KIT",
            "quantity": 4,
            "quantity_shipped": 0,
            "quantity_cancelled": 0,
        },
    ]


def test_it_never_shows_held_orders_and_filters_by_status(api, store, order):
    # given
    make_released_order(store=store, status=Order.Status.HELD, released_at=None)
    make_released_order(store=store, status=Order.Status.CANCELLED, released_at=None)
    acked = make_released_order(store=store, status=Order.Status.ACKNOWLEDGED)

    # when
    everything = api.get("/api/v1/orders").json()["results"]
    acknowledged = api.get("/api/v1/orders", {"status": "acknowledged"}).json()["results"]

    # then
    assert {o["id"] for o in everything} == {order.pk, acked.pk}
    assert [o["id"] for o in acknowledged] == [acked.pk]
    assert api.get("/api/v1/orders", {"status": "held"}).status_code == 400
    assert api.get("/api/v1/orders", {"status": "nonsense"}).status_code == 400


def test_it_lists_orders_in_a_fixed_number_of_queries(api, store, django_assert_num_queries):
    # given
    for _ in range(6):
        make_released_order(store=store, lines=[("X1", "S1", 1, [("W1", 1)]), ("X2", "S2", 3, [("W2", 2)])])
    api.get("/api/v1/cancellations")  # the key's first use is recorded (one UPDATE)

    # when / then: key, orders with their store (no COUNT: a cursor page), their lines,
    # one INSERT of the access audit (a row per order sent, Amazon's DPP)
    with django_assert_num_queries(4):
        response = api.get("/api/v1/orders", {"status": "released"})
    assert len(response.json()["results"]) == 6
    with django_assert_num_queries(4):
        response = api.get("/api/v1/orders")
    assert len(response.json()["results"]) == 6


def test_it_pages_orders_by_ship_by_with_a_cursor(api, store, monkeypatch, django_assert_num_queries):
    # given: ship-by ties, orders without a ship-by (last), another status in between
    from fulfillment.wms.api import pagination

    monkeypatch.setattr(pagination.OrderCursorPagination, "page_size", 2)
    now = timezone.now()
    soon, later = now + dt.timedelta(hours=2), now + dt.timedelta(hours=5)
    orders = [
        make_released_order(store=store, ship_by_latest=later),
        make_released_order(store=store, ship_by_latest=soon),
        make_released_order(store=store, ship_by_latest=None),
        make_released_order(store=store, ship_by_latest=soon),
        make_released_order(store=store, ship_by_latest=later),
        make_released_order(store=store, ship_by_latest=None),
    ]
    make_released_order(store=store, status=Order.Status.ACKNOWLEDGED, ship_by_latest=soon)
    api.get("/api/v1/cancellations")  # the key's first use is recorded (one UPDATE)
    expected = [orders[i].pk for i in (1, 3, 0, 4, 2, 5)]

    # when: follow `next` to the end
    seen, url, pages = [], "/api/v1/orders?status=released", 0
    while url:
        with django_assert_num_queries(4):
            body = api.get(url).json()
        assert set(body) == {"next", "results"}
        seen += [o["id"] for o in body["results"]]
        url, pages = body["next"], pages + 1

    # then: each once, in order, in three pages
    assert (seen, pages) == (expected, 3)


def test_it_still_answers_page_numbers_with_a_count(api, store, monkeypatch):
    from fulfillment.wms.api import pagination

    monkeypatch.setattr(pagination.PageNumberPagination, "page_size", 2)
    for hours in (3, 1, 2):
        make_released_order(store=store, ship_by_latest=timezone.now() + dt.timedelta(hours=hours))

    first = api.get("/api/v1/orders", {"page": 1}).json()
    second = api.get(first["next"]).json()

    assert first["count"] == second["count"] == 3
    assert [len(first["results"]), len(second["results"]), second["next"]] == [2, 1, None]
    ship_bys = [o["ship_by"] for o in first["results"] + second["results"]]
    assert ship_bys == sorted(ship_bys)


@pytest.mark.parametrize("cursor", ["nonsense", "W10", "WyJub3QgYSBkYXRlIiwgMV0", "WyIyMDI2LTAxLTAxIiwxXQ"])
def test_a_cursor_not_of_this_list_is_a_400(api, order, cursor):
    response = api.get("/api/v1/orders", {"cursor": cursor})
    assert response.status_code == 400
    assert "cursor" in response.json()


def test_it_lists_cancellations_in_a_fixed_number_of_queries(api, store, django_assert_num_queries):
    # given
    now = timezone.now()
    for _ in range(4):
        make_released_order(store=store, status=Order.Status.CANCELLED, wms_stop_requested_at=now)
    api.get("/api/v1/cancellations")  # the key's first use is recorded (one UPDATE)

    # when / then: key, count, the page with its stores (a small list: the stop-pending index)
    with django_assert_num_queries(3):
        response = api.get("/api/v1/cancellations")
    assert len(response.json()["results"]) == 4


def test_it_shows_one_order(api, order):
    response = api.get(f"/api/v1/orders/{order.pk}")
    assert response.status_code == 200 and response.json()["amazon_order_id"] == order.amazon_order_id
    assert api.get("/api/v1/orders/999999999").status_code == 404


def test_it_acknowledges_an_order_once(api, order):
    # when
    first = api.post(f"/api/v1/orders/{order.pk}/acknowledge")
    again = api.post(f"/api/v1/orders/{order.pk}/acknowledge")

    # then
    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == again.json()["status"] == "acknowledged"
    order.refresh_from_db()
    assert order.status == Order.Status.ACKNOWLEDGED


def test_it_refuses_to_acknowledge_a_cancelled_order(api, store):
    # given
    cancelled = make_released_order(store=store, status=Order.Status.CANCELLED)

    # when
    response = api.post(f"/api/v1/orders/{cancelled.pk}/acknowledge")

    # then
    assert response.status_code == 409
    assert "cancelled" in response.json()["detail"]


# --- Cancellations ---------------------------------------------------------------------------


def test_it_lists_cancellations_until_the_wms_acknowledges(api, store, order, other_warehouse_order):
    # given
    now = timezone.now()
    cancelled = make_released_order(
        store=store, status=Order.Status.CANCELLED, wms_stop_requested_at=now, cancelled_at=now
    )
    Order.objects.filter(pk=other_warehouse_order.pk).update(wms_stop_requested_at=now)

    # when
    listed = api.get("/api/v1/cancellations").json()["results"]
    ack = api.post(f"/api/v1/cancellations/{cancelled.pk}/acknowledge")
    ack_again = api.post(f"/api/v1/cancellations/{cancelled.pk}/acknowledge")
    after = api.get("/api/v1/cancellations").json()["results"]

    # then
    assert [(c["id"], c["reason"]) for c in listed] == [(cancelled.pk, "cancelled")]
    assert ack.status_code == ack_again.status_code == 200
    assert after == []
    cancelled.refresh_from_db()
    assert cancelled.cancellation_acknowledged_at is not None


def test_it_refuses_to_acknowledge_a_cancellation_that_is_not_there(api, order, other_warehouse_order):
    assert api.post(f"/api/v1/cancellations/{order.pk}/acknowledge").status_code == 409
    assert api.post(f"/api/v1/cancellations/{other_warehouse_order.pk}/acknowledge").status_code == 404


# --- Shipments --------------------------------------------------------------------------------


def test_it_records_a_package_by_order_item_and_replays_it(api, order):
    # when
    package = _shipment(order)
    first = api.post("/api/v1/shipments", package, format="json")
    again = api.post("/api/v1/shipments", package, format="json")

    # then
    assert first.status_code == 201, first.json()
    assert again.status_code == 200
    assert again.json() == first.json()
    body = first.json()
    assert body["package_reference"] == 1 and body["order_status"] == "partially_shipped"
    assert body["lines"] == [{"order_item_id": "A1", "amazon_sku": "AMZ-A", "quantity": 1}]
    assert Shipment.objects.count() == 1 and ShipmentLine.objects.count() == 1
    assert OrderLine.objects.get(order=order, order_item_id="A1").quantity_shipped == 1


def test_it_accepts_the_order_by_its_id(api, order):
    response = api.post("/api/v1/shipments", _shipment(order, order_ref=str(order.pk)), format="json")
    assert response.status_code == 201


def test_kit_components_by_warehouse_sku_count_as_whole_amazon_units(api, order):
    # when: both kits of K1 (KIT-Xx1 + KIT-Yx2 each) and item A by its warehouse SKU
    lines = [
        {"warehouse_sku": "KIT-X", "quantity": 2},
        {"warehouse_sku": "KIT-Y", "quantity": 4},
        {"warehouse_sku": "WH-A", "quantity": 1},
    ]
    response = api.post("/api/v1/shipments", _shipment(order, lines=lines), format="json")

    # then
    assert response.status_code == 201, response.json()
    assert sorted((line["order_item_id"], line["quantity"]) for line in response.json()["lines"]) == [
        ("A1", 1),
        ("K1", 2),
    ]
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_it_refuses_a_partial_kit_and_writes_nothing(api, order):
    # when: one kit needs KIT-Yx2; only 1 sent
    lines = [{"warehouse_sku": "KIT-X", "quantity": 1}, {"warehouse_sku": "KIT-Y", "quantity": 1}]
    response = api.post("/api/v1/shipments", _shipment(order, lines=lines), format="json")

    # then
    assert response.status_code == 400
    errors = response.json()
    assert any("whole Amazon units" in m for msgs in errors.values() for m in msgs), errors
    assert not Shipment.objects.exists()
    assert not OrderLine.objects.filter(quantity_shipped__gt=0).exists()


@pytest.mark.parametrize(
    ("lines", "field", "text"),
    [
        ([{"order_item_id": "A1", "quantity": 2}], "lines.0", "left to ship"),
        ([{"order_item_id": "NOPE", "quantity": 1}], "lines.0", "not in this order"),
        ([{"warehouse_sku": "NOPE", "quantity": 1}], "lines.0", "not in this order"),
        (
            [{"order_item_id": "A1", "quantity": 1}, {"warehouse_sku": "WH-A", "quantity": 1}],
            "lines.1",
            "left to ship",
        ),
    ],
)
def test_it_refuses_quantities_it_cannot_ship(api, order, lines, field, text):
    response = api.post("/api/v1/shipments", _shipment(order, lines=lines), format="json")
    assert response.status_code == 400
    assert any(text in m for m in response.json()[field]), response.json()
    assert not Shipment.objects.exists()


def test_it_refuses_a_line_with_both_or_neither_identifier(api, order):
    response = api.post(
        "/api/v1/shipments",
        _shipment(
            order, lines=[{"order_item_id": "A1", "warehouse_sku": "WH-A", "quantity": 1}, {"quantity": 1}]
        ),
        format="json",
    )
    assert response.status_code == 400 and "lines" in response.json()


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (Order.Status.CANCELLED, "cancelled"),
        (Order.Status.HELD, "unknown order"),
        (Order.Status.SHIPPED, "already shipped"),
    ],
)
def test_it_refuses_an_order_that_must_not_ship(api, store, status, text):
    # given
    target = make_released_order(store=store, status=status, lines=[("A1", "AMZ-A", 1, [("WH-A", 1)])])

    # when
    response = api.post("/api/v1/shipments", _shipment(target), format="json")

    # then
    assert response.status_code == 400
    assert any(text in m for m in response.json()["order"]), response.json()
    assert not Shipment.objects.exists()


def test_it_refuses_an_unknown_order(api, order):
    response = api.post("/api/v1/shipments", _shipment(order, order_ref="999-0000000-0000000"), format="json")
    assert response.status_code == 400 and "order" in response.json()


def test_it_refuses_missing_fields_and_bad_dates(api, order):
    body = _shipment(order, ship_date="yesterday")
    del body["tracking_number"]
    response = api.post("/api/v1/shipments", body, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"tracking_number", "ship_date"}


def test_it_refuses_a_ship_date_in_the_future(api, order):
    tomorrow = (timezone.now() + dt.timedelta(days=2)).isoformat()
    response = api.post("/api/v1/shipments", _shipment(order, ship_date=tomorrow), format="json")
    assert response.status_code == 400 and "ship_date" in response.json()


def test_a_date_alone_is_that_day_in_the_warehouses_time_zone(api, order):
    # given: the warehouse is in New York (tests/conftest.py)
    ny = zoneinfo.ZoneInfo("America/New_York")
    day = (timezone.now() - dt.timedelta(days=3)).astimezone(ny).date()
    Order.objects.filter(pk=order.pk).update(purchased_at=timezone.now() - dt.timedelta(days=5))

    # when
    response = api.post("/api/v1/shipments", _shipment(order, ship_date=day.isoformat()), format="json")

    # then
    assert response.status_code == 201, response.json()
    shipped = Shipment.objects.get().ship_date
    assert shipped.astimezone(ny).date() == day
    assert shipped.astimezone(ny).hour == 12


def test_two_packages_get_references_1_and_2_and_ship_the_order(api, order):
    # when
    one = api.post("/api/v1/shipments", _shipment(order, "P1"), format="json")
    two = api.post(
        "/api/v1/shipments",
        _shipment(order, "P2", lines=[{"order_item_id": "K1", "quantity": 2}]),
        format="json",
    )

    # then
    assert (one.status_code, two.status_code) == (201, 201)
    assert [one.json()["package_reference"], two.json()["package_reference"]] == [1, 2]
    assert two.json()["order_status"] == "shipped"


# --- Inventory ---------------------------------------------------------------------------------


def test_it_sets_inventory_and_records_only_changes(api, store):
    # when
    first = api.put(
        "/api/v1/inventory",
        {"items": [{"sku": "A", "available": 5}, {"sku": "B", "available": 0}]},
        format="json",
    )
    second = api.put(
        "/api/v1/inventory",
        {"items": [{"sku": "A", "available": 5}, {"sku": "B", "available": 3}]},
        format="json",
    )

    # then
    assert first.json() == {"changed": 2, "unchanged": 0, "zeroed": 0}
    assert second.json() == {"changed": 1, "unchanged": 1, "zeroed": 0}
    levels = dict(InventoryLevel.objects.filter(warehouse=store.warehouse).values_list("sku", "available"))
    assert levels == {"A": 5, "B": 3}
    assert list(InventoryChange.objects.order_by("pk").values_list("sku", "previous", "available")) == [
        ("A", None, 5),
        ("B", None, 0),
        ("B", 0, 3),
    ]


def test_a_complete_snapshot_zeroes_every_sku_not_listed(api, store, other_warehouse_order):
    # given
    api.put(
        "/api/v1/inventory",
        {"items": [{"sku": "A", "available": 5}, {"sku": "B", "available": 2}, {"sku": "C", "available": 0}]},
        format="json",
    )
    InventoryLevel.objects.create(
        warehouse=other_warehouse_order.store.warehouse, sku="A", available=9, updated_at=timezone.now()
    )

    # when
    response = api.put(
        "/api/v1/inventory", {"items": [{"sku": "A", "available": 4}], "complete": True}, format="json"
    )

    # then
    assert response.json() == {"changed": 1, "unchanged": 0, "zeroed": 1}
    levels = dict(InventoryLevel.objects.filter(warehouse=store.warehouse).values_list("sku", "available"))
    assert levels == {"A": 4, "B": 0, "C": 0}
    assert InventoryLevel.objects.get(warehouse=other_warehouse_order.store.warehouse).available == 9


@pytest.mark.parametrize(
    "items",
    [
        [{"sku": "A", "available": -1}],
        [{"sku": "A", "available": 2.5}],
        [{"sku": "A", "available": "many"}],
        [{"sku": "A", "available": 1}, {"sku": "A", "available": 2}],
        [{"sku": "", "available": 1}],
    ],
)
def test_it_refuses_bad_inventory_and_writes_nothing(api, store, items):
    response = api.put("/api/v1/inventory", {"items": [{"sku": "OK", "available": 1}, *items]}, format="json")
    assert response.status_code == 400
    assert not InventoryLevel.objects.exists() and not InventoryChange.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_recording_a_package_opens_no_new_database_connection(api, order, monkeypatch):
    """django-q2's ORM broker calls close_old_connections() when it enqueues outside a
    transaction: with CONN_MAX_AGE 0 that reconnected twice per package. The send task's
    row is now written in the shipment's transaction, so even then none is opened."""
    from django.db import connection
    from django_q.models import OrmQ

    api.get("/api/v1/cancellations")  # the connection is open
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    monkeypatch.setattr(connection, "close_at", 0)  # as if opened with CONN_MAX_AGE 0: obsolete at once
    opened = []
    real_connect = connection.connect
    monkeypatch.setattr(connection, "connect", lambda: (opened.append(1), real_connect())[1])

    response = api.post("/api/v1/shipments", _shipment(order), format="json")

    assert response.status_code == 201
    assert opened == []
    confirmation = ShipmentConfirmation.objects.get()
    assert [row.task["args"] for row in OrmQ.objects.all()] == [(confirmation.pk,)]


def test_inventory_items_are_checked_lightly_and_a_bad_shape_writes_nothing(api, store):
    # numbers for SKUs and digit strings for quantities pass, as before
    ok = api.put(
        "/api/v1/inventory",
        {"items": [{"sku": 12345, "available": "7"}, {"sku": " B ", "available": 2}]},
        format="json",
    )
    assert ok.status_code == 200
    levels = dict(InventoryLevel.objects.values_list("sku", "available"))
    assert levels == {"12345": 7, "B": 2}

    for items in ({"sku": "A"}, [{"sku": "A"}], ["A"], [{"sku": "C", "available": 1}, None]):
        response = api.put("/api/v1/inventory", {"items": items}, format="json")
        assert response.status_code == 400 and "items" in response.json()
    assert dict(InventoryLevel.objects.values_list("sku", "available")) == levels


@pytest.mark.postgres(reason="one statement per 10,000 items as arrays; SQLite takes Django's bulk upsert")
def test_an_inventory_put_costs_the_same_queries_for_ten_or_a_thousand_items(
    api, store, django_assert_num_queries
):
    # given: the SKUs exist, so every item below changes
    api.put(
        "/api/v1/inventory", {"items": [{"sku": f"S{i}", "available": 1} for i in range(1000)]}, format="json"
    )

    # when / then: key, savepoint pair, the warehouse's lock, its current levels, and one
    # statement that upserts the levels and records the changes (INSERT … ON CONFLICT DO UPDATE)
    for n in (10, 1000):
        with django_assert_num_queries(6):
            response = api.put(
                "/api/v1/inventory",
                {"items": [{"sku": f"S{i}", "available": n} for i in range(n)]},
                format="json",
            )
        assert response.json()["changed"] == n


@pytest.mark.parametrize("n_lines", [1, 3])
def test_recording_a_package_costs_a_fixed_number_of_queries(api, store, n_lines, django_assert_num_queries):
    # given: an order of n items, one earlier package
    lines = [(f"I{i}", f"AMZ-{i}", 2, [(f"WH-{i}", 1)]) for i in range(n_lines)]
    order = make_released_order(store=store, lines=lines)
    first = _shipment(order, package_id="P0", lines=[{"order_item_id": "I0", "quantity": 1}])
    assert api.post("/api/v1/shipments", first, format="json").status_code == 201
    package = _shipment(
        order, package_id="P1", lines=[{"order_item_id": f"I{i}", "quantity": 1} for i in range(n_lines)]
    )

    # when / then: key; a savepoint pair (the view's transaction, in the test's here; the
    # service takes none of its own inside it); the order's lines with the order locked (one
    # query); the package (its reference, the next, taken by the INSERT; a replay found by its
    # ON CONFLICT), its lines, its confirmation row, the send task's row (ORM broker, same
    # transaction); the lines' shipped quantities (one UPDATE) and the order's status.
    with django_assert_num_queries(10):
        response = api.post("/api/v1/shipments", package, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["package_reference"] == 2
    assert body["order_status"] == ("shipped" if n_lines == 1 else "partially_shipped")
    assert [line["quantity"] for line in body["lines"]] == [1] * n_lines
    assert body == api.post("/api/v1/shipments", package, format="json").json()  # a replay: the same body
    assert list(
        OrderLine.objects.filter(order=order)
        .order_by("order_item_id")
        .values_list("quantity_shipped", flat=True)
    ) == [2] + [1] * (n_lines - 1)
