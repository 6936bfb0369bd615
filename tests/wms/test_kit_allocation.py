"""Packages by warehouse SKU when a component is also sold on its own (issue 16.7):
every package some choice of whole Amazon units explains is accepted, and only
those no choice explains are refused, saying why."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from fulfillment.orders.models import Order
from fulfillment.shipments.models import Shipment
from fulfillment.shipments.services.allocation import Item, SearchTooLarge, allocate_warehouse_units

from .factories import make_released_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(store) -> Order:
    """A1: 2 of the single WH-A; K1: 1 kit of WH-A + WH-B (first by item id, as Amazon may list it)."""
    return make_released_order(
        store=store,
        lines=[
            ("A1", "AMZ-A", 2, [("WH-A", 1)]),
            ("K1", "AMZ-KIT", 1, [("WH-A", 1), ("WH-B", 1)]),
        ],
    )


def _post(api, order, package_id, skus: dict[str, int]):
    return api.post(
        "/api/v1/shipments",
        {
            "order": order.amazon_order_id,
            "package_id": package_id,
            "carrier": "UPS",
            "tracking_number": f"1Z{package_id}00000",
            "ship_date": (timezone.now() - dt.timedelta(minutes=5)).isoformat(),
            "lines": [{"warehouse_sku": sku, "quantity": qty} for sku, qty in skus.items()],
        },
        format="json",
    )


def _units(response) -> list[tuple[str, int]]:
    return sorted((line["order_item_id"], line["quantity"]) for line in response.json()["lines"])


def test_a_kit_sharing_a_component_with_a_single_item_is_accepted(api, order):
    # when: one A and the kit; a greedy pass gave both WH-A to A1 and refused the lone WH-B
    response = _post(api, order, "P1", {"WH-A": 2, "WH-B": 1})

    # then
    assert response.status_code == 201, response.json()
    assert _units(response) == [("A1", 1), ("K1", 1)]


def test_partial_packages_add_up_to_the_whole_order(api, order):
    first = _post(api, order, "P1", {"WH-A": 2, "WH-B": 1})
    second = _post(api, order, "P2", {"WH-A": 1})

    assert (first.status_code, second.status_code) == (201, 201)
    assert _units(second) == [("A1", 1)]
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_the_whole_order_in_one_package(api, order):
    response = _post(api, order, "P1", {"WH-A": 3, "WH-B": 1})

    assert response.status_code == 201
    assert _units(response) == [("A1", 2), ("K1", 1)]


@pytest.mark.parametrize(
    ("skus", "fragment"),
    [
        ({"WH-B": 2}, "more than the 1 left to ship"),
        ({"WH-A": 4, "WH-B": 1}, "more than the 3 left to ship"),
        ({"WH-C": 1}, "WH-C is not in this order"),
    ],
)
def test_a_package_no_allocation_explains_is_refused(api, order, skus, fragment):
    response = _post(api, order, "P1", skus)

    assert response.status_code == 400
    assert any(fragment in message for messages in response.json().values() for message in messages)
    assert not Shipment.objects.exists()


def test_a_lone_component_of_a_kit_is_refused_with_the_kits_it_belongs_to(api, store):
    order = make_released_order(
        store=store,
        lines=[("K1", "AMZ-KIT", 1, [("WH-A", 2), ("WH-B", 1)]), ("S1", "AMZ-B", 1, [("WH-B", 1)])],
    )

    response = _post(api, order, "P1", {"WH-A": 1, "WH-B": 1})

    assert response.status_code == 400
    message = response.json()["lines.0"][0]
    assert "do not make whole Amazon units" in message and "K1 = WH-A×2 + WH-B×1" in message
    assert not Shipment.objects.exists()


# --- The search itself -------------------------------------------------------------------------


def test_the_search_settles_kits_that_share_every_component():
    # Two kits of the same parts in other ratios and the single part on its own.
    items = [
        Item(key=1, parts={"A": 1}, left=5),
        Item(key=2, parts={"A": 2, "B": 1}, left=3),
        Item(key=3, parts={"A": 1, "B": 2}, left=3),
    ]

    found = allocate_warehouse_units(items=items, quantities={"A": 5, "B": 4})
    assert found is not None
    assert sum(n * items[k - 1].parts.get("A", 0) for k, n in found.items()) == 5
    assert sum(n * items[k - 1].parts.get("B", 0) for k, n in found.items()) == 4
    assert allocate_warehouse_units(items=items, quantities={"A": 0, "B": 7}) is None


def test_a_search_too_large_is_refused_not_run_forever(monkeypatch):
    monkeypatch.setattr("fulfillment.shipments.services.allocation.SEARCH_LIMIT", 50)
    items = [Item(key=k, parts={"A": 2, "B": 3 + k % 2}, left=1000) for k in range(6)]

    with pytest.raises(SearchTooLarge):
        allocate_warehouse_units(items=items, quantities={"A": 1999, "B": 3001})
