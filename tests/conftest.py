"""Shared fixtures.

`testserver` URLs (the sandbox's SP-API and LWA, see tests/settings.py) are
served in-process by the Django app itself through httpx's WSGI transport, so
the product's real client code (sp_api over httpx) runs unchanged, inside the
test's database transaction, with no socket opened.
"""

import httpx
import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from connections.models import Marketplace, Store
from fulfillment.models import Warehouse

pytest_plugins = ["tests.sandbox_fixtures"]

_original_handle_request = httpx.HTTPTransport.handle_request


@pytest.fixture(autouse=True)
def _route_testserver_in_process(monkeypatch):
    wsgi = httpx.WSGITransport(app=WSGIHandler())

    def handle_request(self, request):
        if request.url.host != "testserver":
            return _original_handle_request(self, request)
        # Django closes the connection at the end of a request; here that is
        # the test's own connection, inside its transaction. The test client
        # switches this off for its requests and back on afterwards, so a
        # view calling the sandbox (a request inside a request) needs the
        # signals off around each in-process call, restored as they were.
        had_started = request_started.disconnect(close_old_connections)
        had_finished = request_finished.disconnect(close_old_connections)
        try:
            response = wsgi.handle_request(request)
            # Reading closes the WSGI response, which sends request_finished:
            # do it while the signal is off.
            content = response.read()
            return httpx.Response(response.status_code, headers=response.headers, content=content)
        finally:
            if had_started:
                request_started.connect(close_old_connections)
            if had_finished:
                request_finished.connect(close_old_connections)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)


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
