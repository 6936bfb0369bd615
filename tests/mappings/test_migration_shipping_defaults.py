"""The "every store" shipping-method defaults become per-marketplace defaults:
each is copied to the marketplace of its warehouse's country (or, for a
warehouse with no country, to its stores' marketplaces) and removed, so a
store in another country stops borrowing the warehouse's domestic carriers."""

from __future__ import annotations

import pytest

BEFORE = [("mappings", "0002_import_job_preview_rows"), ("fulfillment", "0010_order_shipped_by_us_at")]
AFTER = ("mappings", "0003_shipping_defaults_per_marketplace")


@pytest.mark.django_db(transaction=True)
def test_every_store_defaults_go_to_the_warehouse_countrys_marketplace(migrator):
    old = migrator.apply_initial_migration(BEFORE)
    Marketplace = old.apps.get_model("connections", "Marketplace")
    Warehouse = old.apps.get_model("fulfillment", "Warehouse")
    Store = old.apps.get_model("connections", "Store")
    Mapping = old.apps.get_model("mappings", "ShippingMethodMapping")
    us, de, ca = (Marketplace.objects.get(code=c) for c in ("US", "DE", "CA"))
    nj = Warehouse.objects.create(code="NJ", name="NJ", country_code="US")
    nowhere = Warehouse.objects.create(code="XX", name="no country", country_code="")
    Store.objects.create(name="us", marketplace=us, warehouse=nj)
    Store.objects.create(name="de", marketplace=de, warehouse=nj)
    Store.objects.create(name="ca", marketplace=ca, warehouse=nowhere)
    own = Store.objects.create(name="own", marketplace=de, warehouse=nj)
    Mapping.objects.create(service_level="SAME_DAY", prime=None, carrier="FedEx", ship_code="FEDEX_SAME_DAY")
    Mapping.objects.create(service_level="STANDARD", prime=True, carrier="UPS", ship_code="UPS_GROUND")
    Mapping.objects.create(store=own, service_level="STANDARD", prime=None, carrier="DHL", ship_code="PAKET")

    new = migrator.apply_tested_migration(AFTER)
    Mapping = new.apps.get_model("mappings", "ShippingMethodMapping")
    rows = set(
        Mapping.objects.values_list("store__name", "marketplace__code", "service_level", "prime", "ship_code")
    )
    assert rows == {
        (None, "US", "SAME_DAY", None, "FEDEX_SAME_DAY"),
        (None, "US", "STANDARD", True, "UPS_GROUND"),
        # The warehouse without a country: its stores keep what they had.
        (None, "CA", "SAME_DAY", None, "FEDEX_SAME_DAY"),
        (None, "CA", "STANDARD", True, "UPS_GROUND"),
        # A store's own row is untouched; DE gets no US carrier.
        ("own", None, "STANDARD", None, "PAKET"),
    }
    migrator.reset()
