"""Fixtures for the order download tests: a connected store whose seller exists in
the sandbox, mappings that release every sandbox order, and a clock helper."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import F

from fulfillment.inventory.levels import inventory_update
from fulfillment.orders.models import StoreSyncState
from mappings.models import ServiceLevel, ShippingMethodMapping
from sandbox.models import SandboxOrder
from sandbox.orders import SANDBOX_CATALOG


@pytest.fixture
def seller(sandbox_seller, warehouse):
    """The sandbox seller; the warehouse knows every SKU of its catalog (its stock
    names them), so a store that ships unmapped SKUs as themselves releases them."""
    warehouse_knows_the_catalog(warehouse)
    return sandbox_seller


def warehouse_knows_the_catalog(warehouse) -> None:
    inventory_update(warehouse=warehouse, items=[(sku, 5) for sku, *_ in SANDBOX_CATALOG], complete=False)


@pytest.fixture
def shipping_for_every_level(store):
    """A store-specific mapping for every service level, Prime or not."""
    return [
        ShippingMethodMapping.objects.create(
            store=store, service_level=level, prime=None, carrier="UPS", ship_code=f"UPS-{level}"
        )
        for level in ServiceLevel.values
    ]


@pytest.fixture
def time_passes(store):
    """Move every sandbox time and the store's watermark back, as if `minutes` passed.

    The sandbox enforces the two-minute rule against the real clock, so a test
    cannot ask about "now"; it moves the past instead.
    """

    def shift(minutes: int) -> None:
        delta = dt.timedelta(minutes=minutes)
        SandboxOrder.objects.update(
            created_time=F("created_time") - delta, last_updated_time=F("last_updated_time") - delta
        )
        _sync_state_times_pass(store, delta)

    return shift


def _sync_state_times_pass(store, delta) -> None:
    """Every time the download stored (watermark, first-download cursor and end,
    the slice being read) moves back with the sandbox's."""
    state = StoreSyncState.objects.filter(store=store)
    for name in (
        "order_watermark",
        "initial_import_cursor",
        "initial_import_until",
        "slice_after",
        "slice_before",
    ):
        state.filter(**{f"{name}__isnull": False}).update(**{name: F(name) - delta})
