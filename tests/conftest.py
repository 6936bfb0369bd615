"""Shared fixtures.

`testserver` URLs (the sandbox's SP-API and LWA, see tests/settings.py) are
served in-process by the Django app itself through httpx's WSGI transport, so
the product's real client code (sp_api over httpx) runs unchanged, inside the
test's database transaction, with no socket opened.
"""

import httpx
import pytest

from connections.models import Marketplace, Store
from fulfillment.orders.models import Warehouse
from sandbox.inprocess import in_process_handle_request

pytest_plugins = ["tests.sandbox_fixtures"]

POSTGRES_COMMAND = "run DATABASE_URL=postgres://postgres@127.0.0.1:5432/bridge make test"
POSTGRES_WHY = "row locks across connections; SQLite locks the whole database"


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.postgres` (or `…postgres(reason="why")`) tests run on
    PostgreSQL only (CI's second step); on SQLite they skip, naming the command."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    for item in items:
        marker = item.get_closest_marker("postgres")
        if marker:
            why = marker.kwargs.get("reason", POSTGRES_WHY)
            item.add_marker(pytest.mark.skip(reason=f"needs PostgreSQL ({why}): {POSTGRES_COMMAND}"))


@pytest.fixture(autouse=True)
def _route_testserver_in_process(monkeypatch):
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", in_process_handle_request())


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request):
    """A transactional test ends with a flush that also empties the reference
    data the migrations loaded (marketplaces, carriers); the next one reloads it."""
    marker = request.node.get_closest_marker("django_db")
    transactional = "transactional_db" in request.fixturenames or "live_server" in request.fixturenames
    if not transactional and not (marker and marker.kwargs.get("transaction")):
        return
    request.getfixturevalue("_django_db_helper")
    from connections.models import AcceptedCarrier
    from connections.reference_data import reference_data_load

    if not Marketplace.objects.exists():
        reference_data_load(Marketplace, AcceptedCarrier)


@pytest.fixture(autouse=True)
def _backoffs_wait_their_whole_window(monkeypatch):
    """Outbound queues draw each backoff from [0, window] (full jitter); a test that
    runs a sweep again right after a failure must not find the row due by chance.
    tests/core/test_outbound.py checks the draw itself."""
    from fulfillment.core import outbound

    monkeypatch.setattr(outbound, "_jitter", lambda: 1.0)


@pytest.fixture(autouse=True)
def _clear_lwa_token_cache():
    # sp_api caches access tokens per process by refresh token.
    from sp_api.auth import access_token_client

    access_token_client.cache.clear()
    access_token_client.grantless_cache.clear()
    yield
    access_token_client.cache.clear()
    access_token_client.grantless_cache.clear()


@pytest.fixture
def us_marketplace(db) -> Marketplace:
    return Marketplace.objects.get(code="US")


@pytest.fixture
def warehouse(db) -> Warehouse:
    return Warehouse.objects.create(
        code="NJ1", name="New Jersey DC", time_zone="America/New_York", city="Edison", country_code="US"
    )


@pytest.fixture
def store(db, warehouse, us_marketplace) -> Store:
    return Store.objects.create(
        name="Acme US",
        marketplace=us_marketplace,
        warehouse=warehouse,
        selling_partner_id="A1ACMESELLER",
        authorization_status=Store.Authorization.CONNECTED,
        refresh_token="Atzr|acme-refresh-token",
    )
