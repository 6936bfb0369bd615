"""Sandbox orders ship to their marketplace's country."""

from __future__ import annotations

import pytest

from connections.models import Marketplace
from sandbox.orders import sandbox_orders_create


@pytest.mark.parametrize(
    ("code", "cities", "phone"),
    [
        ("DE", {"Berlin", "München", "Hamburg", "Köln"}, "+49 "),
        ("GB", {"London", "Manchester", "Leeds"}, "+44 "),
        ("JP", {"Chiyoda-ku", "Osaka-shi", "Yokohama-shi"}, "+81 "),
        ("US", {"Seattle", "Austin", "Edison", "Denver", "Miami", "Chicago", "Portland", "Boston"}, "+1 "),
    ],
)
def test_orders_carry_addresses_of_their_marketplaces_country(sandbox_seller, code, cities, phone):
    orders = sandbox_orders_create(seller=sandbox_seller, count=12, seed=3, marketplace_code=code)

    for order in orders:
        address = order.delivery_address
        assert address["countryCode"] == code
        assert address["city"] in cities
        assert address["phone"].startswith(phone)
        assert order.marketplace == Marketplace.objects.get(code=code)


def test_a_german_street_has_its_number_after_the_name(sandbox_seller):
    (order,) = sandbox_orders_create(seller=sandbox_seller, count=1, seed=1, marketplace_code="DE")

    street, number = order.delivery_address["addressLine1"].rsplit(" ", 1)
    assert number.isdigit() and street in {"Hauptstraße", "Bahnhofstraße", "Schillerstraße", "Gartenweg"}
