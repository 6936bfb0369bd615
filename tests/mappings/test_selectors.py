"""The reads order download, confirmation and inventory push rely on."""

import pytest
from django.utils.timezone import now

from connections.models import Store
from fulfillment.inventory.models import InventoryLevel
from mappings.models import ServiceLevel, service_level_normalize
from mappings.selectors import (
    Component,
    amazon_carrier_for,
    inventory_sku_mappings_for,
    shipping_method_table_for,
    sku_components_for,
)
from tests.factories import make_store
from tests.mappings.factories import make_carrier_mapping, make_shipping_method_mapping, make_sku_mapping

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("SecondDay", "SECOND_DAY"),
        ("second_day", "SECOND_DAY"),
        ("SECOND_DAY", "SECOND_DAY"),
        ("Second Day", "SECOND_DAY"),
        ("standard", "STANDARD"),
        ("FreeEconomy", "FREE_ECONOMY"),
        (" NextDay ", "NEXT_DAY"),
    ],
)
def test_it_normalizes_service_level_aliases(typed, stored):
    assert service_level_normalize(typed) == stored


def test_it_refuses_an_unknown_service_level_naming_the_accepted_ones():
    with pytest.raises(ValueError, match=r"unknown service level 'Overnight'.*SECOND_DAY \(SecondDay\)"):
        service_level_normalize("Overnight")


def test_it_maps_skus_and_kits_in_one_query(store, django_assert_num_queries):
    # given
    make_sku_mapping(store=store, amazon_sku="KIT-1", warehouse_sku="PART-A", units=2)
    make_sku_mapping(store=store, amazon_sku="KIT-1", warehouse_sku="PART-B", units=1)
    make_sku_mapping(store=store, amazon_sku="SOLO", warehouse_sku="W-SOLO")
    make_sku_mapping(store=make_store(), amazon_sku="SOLO", warehouse_sku="OTHER-STORE")
    # The warehouse names UNMAPPED (at 0) and SOLO in its stock, never NEVER-SEEN.
    InventoryLevel.objects.create(warehouse=store.warehouse, sku="UNMAPPED", available=0, updated_at=now())
    InventoryLevel.objects.create(warehouse=store.warehouse, sku="SOLO", available=3, updated_at=now())

    # when
    with django_assert_num_queries(1):
        components = sku_components_for(
            store=store, product_codes=["KIT-1", "SOLO", "UNMAPPED", "NEVER-SEEN"] * 50
        )

    # then: an unmapped SKU ships as itself only when the warehouse knows it
    assert components == {
        "KIT-1": [Component("PART-A", 2), Component("PART-B", 1)],
        "SOLO": [Component("W-SOLO", 1)],
        "UNMAPPED": [Component("UNMAPPED", 1)],
    }


def test_it_leaves_unmapped_skus_out_when_the_store_says_they_differ(store):
    store.unmapped_sku_is_warehouse_sku = False
    make_sku_mapping(store=store, amazon_sku="SOLO", warehouse_sku="W-SOLO")

    assert sku_components_for(store=store, product_codes=["SOLO", "UNMAPPED"]) == {
        "SOLO": [Component("W-SOLO", 1)]
    }


def test_it_matches_on_asin_when_the_store_identifies_products_by_asin(store, django_assert_num_queries):
    store.product_code_field = Store.ProductCode.ASIN
    make_sku_mapping(store=store, amazon_sku="A", asin="B000000001", warehouse_sku="W-A")
    InventoryLevel.objects.create(warehouse=store.warehouse, sku="A", available=1, updated_at=now())

    with django_assert_num_queries(1):
        components = sku_components_for(store=store, product_codes=["B000000001", "A"])

    assert components == {"B000000001": [Component("W-A", 1)], "A": [Component("A", 1)]}


@pytest.mark.parametrize(
    ("rows", "is_prime", "expected"),
    [
        # (store's own?, prime) -> ship code; the lookup picks the most specific.
        ([("default", None), ("own", None)], False, "own-None"),
        ([("default", True), ("own", None)], True, "own-None"),
        ([("own", None), ("own", True)], True, "own-True"),
        ([("own", None), ("own", True)], False, "own-None"),
        ([("default", None), ("default", False)], False, "default-False"),
        ([("default", None), ("default", False)], True, "default-None"),
        ([("own", False)], True, None),  # a Prime order never falls back to a non-Prime row
        ([("default", True)], False, None),
    ],
)
def test_it_picks_the_most_specific_shipping_method(store, rows, is_prime, expected):
    # given
    for who, prime in rows:
        make_shipping_method_mapping(
            store=store if who == "own" else None,
            marketplace=None if who == "own" else store.marketplace,
            service_level=ServiceLevel.SECOND_DAY,
            prime=prime,
            ship_code=f"{who}-{prime}",
        )
    make_shipping_method_mapping(store=make_store(), service_level=ServiceLevel.SECOND_DAY, prime=is_prime)

    # when
    table = shipping_method_table_for(store=store)
    found = table.lookup(service_level="SECOND_DAY", is_prime=is_prime)

    # then
    assert (found.ship_code if found else None) == expected
    assert table.lookup(service_level="NEXT_DAY", is_prime=is_prime) is None


def test_it_builds_the_shipping_method_table_in_one_query(store, django_assert_num_queries):
    make_shipping_method_mapping(store=store)
    make_shipping_method_mapping(
        store=None, marketplace=store.marketplace, service_level=ServiceLevel.NEXT_DAY
    )
    with django_assert_num_queries(1):
        table = shipping_method_table_for(store=store)
    with django_assert_num_queries(0):
        assert table.lookup(service_level="NEXT_DAY", is_prime=True).store_id is None


@pytest.mark.parametrize(
    ("own", "default", "carrier", "expected"),
    [
        (("ups ground", "UPS", ""), ("UPS Ground", "FedEx", ""), "UPS GROUND", ("UPS", "UPS GROUND")),
        (None, ("Speedy", "Other", "Speedy Couriers"), "speedy", ("Other", "Speedy Couriers")),
        (None, None, "fedex", ("FedEx", "fedex")),
        (None, None, "Pony Express", ("Other", "Pony Express")),
    ],
)
def test_it_coerces_the_warehouse_carrier_in_one_query(
    store, own, default, carrier, expected, django_assert_num_queries
):
    # given
    if own:
        make_carrier_mapping(store=store, warehouse_carrier=own[0], amazon_carrier_code=own[1])
    if default:
        make_carrier_mapping(
            store=None,
            warehouse_carrier=default[0],
            amazon_carrier_code=default[1],
            amazon_carrier_name=default[2],
        )
    make_carrier_mapping(store=make_store(), warehouse_carrier=carrier, amazon_carrier_code="DHL")

    # when
    with django_assert_num_queries(1):
        answer = amazon_carrier_for(store=store, warehouse_carrier=carrier)

    # then
    assert answer == expected


def test_it_lists_only_skus_activated_for_inventory_sync(store):
    make_sku_mapping(store=store, amazon_sku="ON", warehouse_sku="W-ON", sync_inventory=True)
    make_sku_mapping(store=store, amazon_sku="OFF", warehouse_sku="W-OFF", sync_inventory=False)
    make_sku_mapping(store=make_store(), amazon_sku="ON", warehouse_sku="W-ON", sync_inventory=True)

    assert [m.amazon_sku for m in inventory_sku_mappings_for(store=store)] == ["ON"]
