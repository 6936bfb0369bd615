import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from tests.connections.fake_amazon import fake_amazon, no_sleep  # noqa: F401


@pytest.fixture(autouse=True)
def _keep_test_connection_in_nested_requests(monkeypatch):
    """Our callback view calls LWA, which tests serve in-process: a request
    inside a test-client request. The test client reconnects
    close_old_connections for the duration of its request, so the nested
    request would close the test's connection (it is in a transaction).
    Keep the signals off around each in-process call, then put back what was there."""
    inner = httpx.HTTPTransport.handle_request

    def handle_request(self, request):
        if request.url.host != "testserver":
            return inner(self, request)
        had_started = request_started.disconnect(close_old_connections)
        had_finished = request_finished.disconnect(close_old_connections)
        try:
            response = inner(self, request)
            # Reading closes the WSGI response, which sends request_finished:
            # do it here, while the signal is off.
            content = response.read()
            return httpx.Response(response.status_code, headers=response.headers, content=content)
        finally:
            if had_started:
                request_started.connect(close_old_connections)
            if had_finished:
                request_finished.connect(close_old_connections)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
