"""Serve `http://testserver/…` (the sandbox's SP-API and LWA) from this process.

Tests and benchmarks point SP_API_ENDPOINT and LWA_TOKEN_URL at `testserver`;
this routes those requests into the Django app through httpx's WSGI
transport, so the product's real client code (sp_api over httpx) runs
unchanged and no socket is opened. Any other host goes out as usual.
"""

from __future__ import annotations

import httpx
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

HOST = "testserver"


def in_process_handle_request(*, hosts: tuple[str, ...] = (HOST,)):
    """A replacement for httpx.HTTPTransport.handle_request serving `hosts` in-process."""
    wsgi = httpx.WSGITransport(app=WSGIHandler())
    original = httpx.HTTPTransport.handle_request

    def handle_request(self, request):
        if request.url.host not in hosts:
            return original(self, request)
        # Django closes the connection at the end of a request; here that is
        # the caller's own connection (in tests, inside its transaction). The
        # test client switches this off for its own requests and back on after,
        # so a view calling the sandbox (a request inside a request) needs the
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

    return handle_request


def serve_in_process(*, hosts: tuple[str, ...] = (HOST,)) -> None:
    """Install the route for the rest of this process (benchmark scripts; demo_setup,
    which runs before the demo's web server is up, for the demo's own host)."""
    httpx.HTTPTransport.handle_request = in_process_handle_request(hosts=hosts)
