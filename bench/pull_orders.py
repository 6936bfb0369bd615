"""Order download benchmark against the sandbox on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fulfillment_bench \
        .venv/bin/python bench/pull_orders.py [--orders 10000] [--time-scale 500]

Creates a scratch database (test_<name>, dropped at the end), a connected
store and N Unshipped orders in the sandbox, which answers in-process (the
way tests/conftest.py routes `testserver`), then measures:

(a) SP-API calls per 100 orders downloaded;
(b) with rate limits off: orders ingested per second and the product's own
    database queries per order (the sandbox's queries, which stand in for
    Amazon, are not counted; its serving time is reported separately);
(c) with Amazon's real searchOrders usage plan (0.0056/s, burst 20) enforced
    by the sandbox and followed by our limiter, both sped up by --time-scale:
    the wall time divided by the plan's theoretical minimum for those calls
    ((calls - burst) / rate).

The last line is machine-readable:
calls_per_100_orders=… orders_per_s=… queries_per_order=… limit_ratio=…
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

import httpx  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.handlers.wsgi import WSGIHandler  # noqa: E402
from django.core.signals import request_finished, request_started  # noqa: E402
from django.db import close_old_connections, connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402


class InProcessSandbox:
    """Serves `testserver` from this process and keeps the sandbox's costs apart."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.inside = False
        self.product_queries = 0
        self._wsgi = httpx.WSGITransport(app=WSGIHandler())
        self._original = httpx.HTTPTransport.handle_request

    def install(self) -> None:
        sandbox = self

        def handle_request(transport, request):
            if request.url.host != "testserver":
                return sandbox._original(transport, request)
            sandbox.inside = True
            started = time.perf_counter()
            try:
                return sandbox._wsgi.handle_request(request)
            finally:
                sandbox.seconds += time.perf_counter() - started
                sandbox.inside = False

        # The in-process "server" shares this thread's connection: do not close it per request.
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        httpx.HTTPTransport.handle_request = handle_request
        connection.execute_wrappers.append(self._count)

    def _count(self, execute, sql, params, many, context):
        if not self.inside:
            self.product_queries += 1
        return execute(sql, params, many, context)

    def reset(self) -> None:
        self.seconds = 0.0
        self.product_queries = 0


class Timer:
    """Adds up the wall time spent in one function (patched on its module)."""

    def __init__(self, module, name: str) -> None:
        self.seconds = 0.0
        original = getattr(module, name)

        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started

        setattr(module, name, timed)


def _setup(n_orders: int):
    from bench.common import bench_store
    from sandbox.orders import sandbox_orders_create

    store, seller = bench_store()
    started = time.perf_counter()
    sandbox_orders_create(seller=seller, count=n_orders, seed=42, status="UNSHIPPED")
    print(f"sandbox: {n_orders} orders created in {time.perf_counter() - started:.1f} s", flush=True)
    return store


def _fresh_start(store) -> None:
    """Forget every download and every rate-limit bucket: the next pull is a first one."""
    from connections.models import RateLimitBucket
    from fulfillment.jobs.models import JobLock, SyncRun
    from fulfillment.orders.models import Order, StoreSyncState
    from sandbox.models import SandboxRateBucket

    Order.objects.filter(store=store).delete()
    StoreSyncState.objects.filter(store=store).delete()
    JobLock.objects.filter(store=store).delete()
    SyncRun.objects.filter(store=store).delete()
    RateLimitBucket.objects.all().delete()
    SandboxRateBucket.objects.all().delete()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--time-scale", type=float, default=500.0, help="speed-up of Amazon's rate limits")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database (a scratch test_ copy is created).")
        return 2

    from connections.amazon import clients as amazon_clients
    from fulfillment.orders.services import download as orders_module
    from fulfillment.orders.services.download import orders_pull
    from sandbox.rate_limits import USAGE_PLANS

    ingest = Timer(orders_module, "orders_ingest_page")
    client_build = Timer(amazon_clients, "build")

    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    sandbox = InProcessSandbox()
    sandbox.install()
    try:
        store = _setup(args.orders)

        # (a) and (b): rate limits off (sandbox off, our limiter sped up out of the way).
        # The sandbox still sends x-amzn-RateLimit-Limit, scaled like its clock:
        # scale both alike, or our limiter would read Amazon's rate as 1e9 times slower.
        settings.SANDBOX_RATE_LIMITS = False
        settings.SANDBOX_TIME_SCALE = 1e9
        settings.SP_API_RATE_TIME_SCALE = 1e9
        _fresh_start(store)
        sandbox.reset()
        ingest.seconds = client_build.seconds = 0.0
        started = time.perf_counter()
        run = orders_pull(store=store)
        wall = time.perf_counter() - started
        assert run.ok, run.error
        orders = run.counts["new"]
        product_seconds = wall - sandbox.seconds
        calls_per_100 = run.api_calls / orders * 100
        orders_per_s = orders / product_seconds
        queries_per_order = sandbox.product_queries / orders
        print(
            f"(a) {run.api_calls} searchOrders calls for {orders} orders "
            f"({run.counts['pages']} pages): {calls_per_100:.3f} calls per 100 orders"
        )
        print(
            f"(b) rate limits off: {wall:.2f} s end to end, of which the sandbox served "
            f"{sandbox.seconds:.2f} s; product side {product_seconds:.2f} s = {orders_per_s:.0f} orders/s "
            f"({orders / wall:.0f} orders/s end to end); {sandbox.product_queries} product queries = "
            f"{queries_per_order:.4f} per order"
        )
        print(
            f"    product side: writing pages {ingest.seconds:.2f} s "
            f"({orders / ingest.seconds:.0f} orders/s), "
            f"building SP-API clients {client_build.seconds:.2f} s, the rest (HTTP client, JSON, limiter, "
            f"run bookkeeping) {product_seconds - ingest.seconds - client_build.seconds:.2f} s"
        )

        # (c): Amazon's usage plan, time-scaled, enforced by the sandbox and followed by our limiter.
        settings.SANDBOX_RATE_LIMITS = True
        settings.SANDBOX_TIME_SCALE = args.time_scale
        settings.SP_API_RATE_TIME_SCALE = args.time_scale
        _fresh_start(store)
        sandbox.reset()
        started = time.perf_counter()
        limited = orders_pull(store=store)
        wall_limited = time.perf_counter() - started
        assert limited.ok, limited.error
        plan = USAGE_PLANS["searchOrders"]
        minimum = max(limited.api_calls - plan.burst, 0) / (plan.rate * args.time_scale)
        limit_ratio = wall_limited / minimum if minimum else float("nan")
        print(
            f"(c) rate limited x{args.time_scale:g}: {limited.counts['new']} orders, "
            f"{limited.api_calls} calls, "
            f"{limited.throttled} throttled, {wall_limited:.2f} s; theoretical minimum "
            f"({limited.api_calls} - {plan.burst} burst) / {plan.rate}/s = {minimum:.2f} s scaled "
            f"({minimum * args.time_scale / 3600:.2f} h real); ratio {limit_ratio:.3f}"
        )
        print(
            f"calls_per_100_orders={calls_per_100:.3f} orders_per_s={orders_per_s:.0f} "
            f"queries_per_order={queries_per_order:.4f} limit_ratio={limit_ratio:.3f}"
        )
    finally:
        connection.execute_wrappers.remove(sandbox._count)
        teardown_databases(old_config, verbosity=0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
