"""Fixtures for the fault suite: a world of one store against the sandbox, fast clocks,
a read timeout the in-process transport does not have by itself, and a tally of
what was tried (written to $RELIABILITY_REPORT as JSON when set; docs/reliability.md)."""

from __future__ import annotations

import collections
import json
import os
import time

import httpx
import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from .world import World

TALLY: collections.Counter = collections.Counter()


@pytest.fixture(scope="session", autouse=True)
def _tally_report():
    yield
    path = os.environ.get("RELIABILITY_REPORT")
    if path and TALLY:
        with open(path, "w") as fh:
            json.dump(dict(sorted(TALLY.items())), fh, indent=2)


@pytest.fixture
def tally():
    """tally("5xx burst", n): count what a test tried, for docs/reliability.md."""

    def add(what: str, n: int = 1) -> None:
        TALLY[what] += n

    return add


@pytest.fixture(autouse=True)
def _count_injected_faults(request, monkeypatch):
    """Tally every faulty answer the sandbox's switches produced, per test and status."""
    from sandbox import api

    inner = api._fault_response
    counts: collections.Counter = collections.Counter()

    def counting(faults):
        response = inner(faults)
        if response is not None:
            counts[response.status_code] += 1
        return response

    monkeypatch.setattr(api, "_fault_response", counting)
    yield
    for status, n in counts.items():
        TALLY[f"injected: {request.node.name}: HTTP {status}"] += n


@pytest.fixture(autouse=True)
def _fast_clocks(settings):
    # The limiter and the client's backoff run a million times faster (the
    # sandbox's own limits are off), and a feed is polled without waiting.
    settings.SP_API_RATE_TIME_SCALE = 1_000_000.0
    # The sandbox's x-amzn-RateLimit-Limit header on the same clock (its limits stay off).
    settings.SANDBOX_TIME_SCALE = 1_000_000.0
    settings.INVENTORY_FEED_POLL_SECONDS = 0.0
    # The first full push goes by feed, later small deltas by patchListingsItem.
    settings.INVENTORY_PATCH_MAX_SKUS = 3


@pytest.fixture
def small_pages(monkeypatch):
    # Several searchOrders pages out of a few dozen orders.
    from fulfillment.orders.services import download as orders

    monkeypatch.setattr(orders, "PAGE_SIZE", 10)


@pytest.fixture
def world(store, sandbox_seller, small_pages) -> World:
    return World(store=store, seller=sandbox_seller).build()


@pytest.fixture
def read_timeouts(monkeypatch, _route_testserver_in_process):
    """The in-process transport has no socket, so no read timeout: emulate one.

    The sandbox answers in full (so whatever the call did at Amazon is done),
    then the client gets httpx.ReadTimeout if the answer took longer than its
    read timeout: exactly what a slow Amazon does to a real client.
    """
    inner = httpx.HTTPTransport.handle_request
    timed_out = collections.Counter()

    def handle_request(self, request):
        started = time.monotonic()
        response = inner(self, request)
        limit = (request.extensions.get("timeout") or {}).get("read")
        if limit is not None and time.monotonic() - started > limit:
            timed_out[request.url.path] += 1
            raise httpx.ReadTimeout("timed out", request=request)
        return response

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", handle_request)
    return timed_out


@pytest.fixture
def no_connection_recycling():
    """Threads in one process share the request signals the in-process transport
    toggles; keep Django from closing a thread's connection mid-job meanwhile."""
    started = request_started.disconnect(close_old_connections)
    finished = request_finished.disconnect(close_old_connections)
    yield
    if started:
        request_started.connect(close_old_connections)
    if finished:
        request_finished.connect(close_old_connections)
