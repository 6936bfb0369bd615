"""Fixtures for the warehouse side: a released order, keys, an API client."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from fulfillment.orders.models import Order
from fulfillment.wms.services import wms_key_create
from tests.factories import make_store, make_warehouse

from .factories import make_released_order


@pytest.fixture
def wms_key(store):
    """The plain key of the `store` fixture's warehouse."""
    _, plain = wms_key_create(warehouse=store.warehouse, name="WMS")
    return plain


@pytest.fixture
def api(wms_key) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {wms_key}")
    return client


@pytest.fixture
def order(store) -> Order:
    """Released: item A (1 Amazon unit = WH-A), 2 of item K (a kit: KIT-Xx1 + KIT-Yx2)."""
    return make_released_order(
        store=store,
        lines=[
            ("A1", "AMZ-A", 1, [("WH-A", 1)]),
            ("K1", "AMZ-KIT", 2, [("KIT-X", 1), ("KIT-Y", 2)]),
        ],
    )


@pytest.fixture
def other_warehouse_order(db) -> Order:
    other = make_store(warehouse=make_warehouse(code="TX1"))
    return make_released_order(store=other, lines=[("B1", "AMZ-B", 1, [("WH-B", 1)])])


@pytest.fixture
def now():
    return timezone.now()
