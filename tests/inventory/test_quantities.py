"""The quantity rule: units, kits, buffer, the store's share, the zero floor."""

import pytest

from fulfillment.inventory.models import StoreInventorySettings
from fulfillment.inventory.selectors import inventory_quantities_for, listing_quantity


@pytest.mark.parametrize(
    ("components", "buffer", "share", "expected"),
    [
        ([(10, 1)], 0, 100, 10),  # one to one
        ([(10, 3)], 0, 100, 3),  # a 3-pack: whole Amazon units only
        ([(10, 2), (3, 1)], 0, 100, 3),  # a kit: the scarcest component decides
        ([(10, 1)], 4, 100, 6),  # the safety buffer is held back
        ([(10, 1)], 12, 100, 0),  # never below zero
        ([(9, 1)], 0, 50, 4),  # the store's share, rounded down
        ([(9, 1)], 1, 50, 3),  # share first, then the buffer
        ([(0, 1)], 0, 100, 0),
        ([], 0, 100, 0),
    ],
)
def test_it_computes_the_quantity_to_offer(components, buffer, share, expected):
    assert listing_quantity(components=components, buffer=buffer, share_percent=share) == expected


def test_it_reads_activated_mappings_and_levels_in_two_queries(store, sku, django_assert_num_queries):
    # given
    StoreInventorySettings.objects.create(store=store, share_percent=50)
    sku("MUG", available=21, listed=False)
    sku("PACK", warehouse_sku="TEE", available=12, units=3, buffer=1, listed=False)
    sku("KIT", warehouse_sku="KIT-A", available=8, units=2, listed=False)
    sku("KIT", warehouse_sku="KIT-B", available=3, listed=False)
    sku("NOSTOCK", listed=False)  # no inventory row: 0 available
    sku("OFF", available=50, sync=False, listed=False)  # not activated

    # when
    with django_assert_num_queries(3):  # settings, mappings, levels
        quantities = inventory_quantities_for(store=store)

    # then
    assert quantities == {"MUG": 10, "PACK": 1, "KIT": 1, "NOSTOCK": 0}
