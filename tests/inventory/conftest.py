"""Fixtures for the inventory push: a connected store whose seller exists in the
sandbox, and a helper that gives one Amazon SKU a mapping, stock and a listing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from fulfillment.inventory.models import InventoryLevel
from mappings.models import SkuMapping
from sandbox.listings import sandbox_listing_upsert


@pytest.fixture
def seller(sandbox_seller):
    return sandbox_seller


@pytest.fixture
def feeds_only(settings):
    # Every push goes by feed (the patch path has its own tests).
    settings.INVENTORY_PATCH_MAX_SKUS = 0


@pytest.fixture
def stock(store):
    def set_stock(warehouse_sku: str, available: int) -> None:
        InventoryLevel.objects.update_or_create(
            warehouse=store.warehouse,
            sku=warehouse_sku,
            defaults=dict(available=available, updated_at=timezone.now()),
        )

    return set_stock


@pytest.fixture
def sku(store, seller, stock):
    """sku("MUG", available=5) maps MUG -> MUG (units 1), stocks it and lists it in the sandbox."""

    def make(
        amazon_sku: str,
        *,
        available: int | None = None,
        units: int = 1,
        buffer: int = 0,
        warehouse_sku: str | None = None,
        sync: bool = True,
        listed: bool = True,
        channel: str = "DEFAULT",
    ) -> SkuMapping:
        wsku = warehouse_sku or amazon_sku
        mapping = SkuMapping.objects.create(
            store=store,
            amazon_sku=amazon_sku,
            warehouse_sku=wsku,
            units=units,
            buffer=buffer,
            sync_inventory=sync,
        )
        if available is not None:
            stock(wsku, available)
        if listed:
            listing = sandbox_listing_upsert(seller=seller, sku=amazon_sku, quantity=0)
            if channel != listing.fulfillment_channel_code:
                listing.fulfillment_channel_code = channel
                listing.save(update_fields=["fulfillment_channel_code"])
        return mapping

    return make
