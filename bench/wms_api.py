"""The WMS API under gunicorn on loopback, driven by four clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/wms_api \\
        .venv/bin/python bench/wms_api.py [--orders 20000] [--clients 4] [--requests 400]

Creates its own scratch database (test_<name>, dropped at the end), seeds one
warehouse's store with N released orders (two lines each) by SQL and a WMS
key, starts gunicorn (gunicorn.conf.py, --workers, on a free loopback port)
and drives it with a bounded Python load generator: --clients threads, each
its own http.client connection per request, --requests requests per phase:

- GET  /api/v1/orders?status=released, each client walking the list by its
  `next` links from a different depth (pages of 100 orders);
- POST /api/v1/shipments, one package per released order, each order once;
- PUT  /api/v1/inventory with 10,000 items, every quantity changed, one client,
  median of 3 (after a first PUT that creates the SKUs).

Queries per request are counted in-process (the same views through DRF's test
client), not under gunicorn. The machine's other load shows in the figures:
run it on a quiet machine for comparable numbers.

The last line is machine-readable:
get_rps=… get_p50_ms=… get_p99_ms=… post_rps=… post_p99_ms=… put_10k_s=… get_queries=… post_queries=…
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
# gunicorn's workers must read what this process encrypts: one key for all.
if "FIELD_ENCRYPTION_KEY" not in os.environ:
    from cryptography.fernet import Fernet

    os.environ["FIELD_ENCRYPTION_KEY"] = Fernet.generate_key().decode()

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402

from bench.common import sql_insert  # noqa: E402


def _seed(n_orders: int) -> tuple[str, list[dict]]:
    """(the WMS key, one shipment body per released order)."""
    import datetime as dt

    from django.utils import timezone

    from fulfillment.core.fields import encrypt_str
    from fulfillment.orders.models import Order, OrderLine
    from fulfillment.wms.services import wms_key_create
    from tests.factories import make_store

    store = make_store()
    # Every order has a ship-to, encrypted at rest as in production (one token for all here).
    recipient = encrypt_str(
        json.dumps(
            {
                "name": "Jane Doe",
                "addressLine1": "1 Main St",
                "city": "Springfield",
                "stateOrRegion": "IL",
                "postalCode": "62701",
                "countryCode": "US",
                "phone": "+1 555 0100",
            }
        )
    )
    sql_insert(
        Order,
        {
            "recipient": f"'{recipient}'",
            "store_id": str(store.pk),
            "amazon_order_id": "'114-' || lpad(i::text, 7, '0') || '-0000001'",
            "amazon_status": "'UNSHIPPED'",
            "status": "'released'",
            "purchased_at": "now() - interval '1 day'",
            "amazon_updated_at": "now() - interval '1 day'",
            "ship_by_latest": "now() + (i * interval '7 seconds')",
            "released_at": "now() - interval '20 hours'",
            "created_at": "now() - interval '1 day'",
            "updated_at": "now()",
            "service_level": "'Std'",
            "ship_to_country": "'US'",
            "carrier": "'UPS'",
            "ship_code": "'UPS-GROUND'",
            "hold_reasons": "'[]'::jsonb",
        },
        f"generate_series(1, {n_orders}) AS i",
    )
    sql_insert(
        OrderLine,
        {
            "order_id": "o.id",
            "order_item_id": "o.id::text || '-' || n::text",
            "amazon_sku": "'AMZ-' || n::text",
            "product_code": "'AMZ-' || n::text",
            "quantity_ordered": "1 + n",
            "quantity_shipped": "0",
            "quantity_cancelled": "0",
            "components": "jsonb_build_array("
            "jsonb_build_object('warehouse_sku', 'WH-' || n::text, 'units', 1))",
        },
        f"{Order._meta.db_table} o CROSS JOIN generate_series(0, 1) AS n",
    )
    with connection.cursor() as cursor:
        for model in (Order, OrderLine):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    _, key = wms_key_create(warehouse=store.warehouse, name="bench")
    ship_date = (timezone.now() - dt.timedelta(minutes=5)).isoformat()
    bodies = [
        {
            "order": amazon_order_id,
            "package_id": "PKG-1",
            "carrier": "UPS",
            "service": "Ground",
            "tracking_number": f"1Z999AA1{pk:010d}",
            "ship_date": ship_date,
            "lines": [
                {"order_item_id": f"{pk}-0", "quantity": 1},
                {"order_item_id": f"{pk}-1", "quantity": 2},
            ],
        }
        for pk, amazon_order_id in Order.objects.order_by("pk").values_list("pk", "amazon_order_id")
    ]
    return key, bodies


def _starts(n_orders: int, clients: int) -> list[str]:
    """Each client's first page: evenly deeper in the released list (a cursor made here)."""
    from fulfillment.orders.models import Order

    starts = ["/api/v1/orders?status=released"]
    try:
        from fulfillment.wms.api.pagination import cursor_encode
    except ImportError:  # a version before cursor pages (to measure it): page numbers
        pages = n_orders // 100
        return [f"/api/v1/orders?status=released&page={1 + i * pages // clients}" for i in range(clients)]
    ordered = Order.objects.filter(status="released").order_by("ship_by_latest", "pk")
    for i in range(1, clients):
        o = ordered.values("pk", "ship_by_latest")[i * n_orders // clients]
        cursor = cursor_encode(ship_by_key=o["ship_by_latest"], pk=o["pk"])
        starts.append(f"/api/v1/orders?status=released&cursor={cursor}")
    return starts


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(port: int, workers: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WEB_CONCURRENCY": str(workers),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--config",
            "gunicorn.conf.py",
            "--access-logfile",
            "/dev/null",
            "fulfillment.wsgi",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit("gunicorn did not start")


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Load:
    """--clients threads sharing a bounded list of requests; latencies in ms."""

    def __init__(self, port: int, key: str):
        self.port, self.key = port, key

    def request(self, method: str, path: str, body=None) -> tuple[int, bytes, float]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Authorization": f"Bearer {self.key}", "Host": "localhost"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        started = time.perf_counter()
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        elapsed = (time.perf_counter() - started) * 1000
        conn.close()
        return response.status, payload, elapsed

    def run(self, clients: int, work) -> tuple[float, list[float], int]:
        """work(client_index) yields requests until its share is done; returns (rps, latencies, errors)."""
        latencies: list[float] = []
        errors = [0]
        lock = threading.Lock()

        def client(i):
            for status, elapsed in work(i):
                with lock:
                    latencies.append(elapsed)
                    if status >= 400:
                        errors[0] += 1

        threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
        return len(latencies) / wall, latencies, errors[0]


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _queries_per_request(key: str, shipment: dict) -> tuple[int, int, int]:
    """GET a page, POST a package, PUT 100 items in-process: the queries each made."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    client.get("/api/v1/orders", {"status": "released"})  # the key's use is recorded once a minute
    counts = []
    for call in (
        lambda: client.get("/api/v1/orders", {"status": "released"}),
        lambda: client.post("/api/v1/shipments", shipment, format="json"),
        lambda: client.put(
            "/api/v1/inventory",
            {"items": [{"sku": f"Q-{i}", "available": i} for i in range(100)]},
            format="json",
        ),
    ):
        with CaptureQueriesContext(connection) as captured:
            response = call()
        assert response.status_code in (200, 201), response.content[:300]
        counts.append(len(captured))
    return tuple(counts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--requests", type=int, default=400, help="per phase (GET, POST)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--items", type=int, default=10_000, help="inventory items per PUT")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/wms_api.py needs PostgreSQL: set DATABASE_URL=postgres://…")

    old_config = setup_databases(verbosity=0, interactive=False, keepdb=False)
    server = None
    try:
        key, bodies = _seed(args.orders)
        print(f"seeded {args.orders:,} released orders in {connection.settings_dict['NAME']}")
        get_q, post_q, put_q = _queries_per_request(key, bodies.pop())
        starts = _starts(args.orders, args.clients)
        print(f"queries per request (in-process): GET page {get_q}, POST package {post_q}, PUT 100 {put_q}")
        connection.close()  # gunicorn's workers open their own

        port = _free_port()
        server = _serve(port, args.workers)
        load = Load(port, key)
        per_client = args.requests // args.clients

        # GET: each client walks the list by `next` from its own depth (client 0 from the top).
        def walk(i):
            path = starts[i]
            done = 0
            while done < per_client:
                status, payload, elapsed = load.request("GET", path)
                yield status, elapsed
                done += 1
                following = json.loads(payload).get("next") if status == 200 else None
                if following:
                    path = urllib.parse.urlsplit(following)._replace(scheme="", netloc="").geturl()
                else:
                    path = "/api/v1/orders?status=released"

        # Warm the workers (imports, connections) before timing.
        for _ in range(args.workers * 2):
            load.request("GET", "/api/v1/orders?status=released")
        get_rps, get_ms, get_errors = load.run(args.clients, walk)
        print(
            f"GET  orders: {get_rps:6.1f} req/s, p50 {_p(get_ms, 0.5):.0f} ms, "
            f"p99 {_p(get_ms, 0.99):.0f} ms, "
            f"{len(get_ms)} requests, {get_errors} errors"
        )

        def post(i):
            for body in bodies[i * per_client : (i + 1) * per_client]:
                status, _, elapsed = load.request("POST", "/api/v1/shipments", body)
                yield status, elapsed

        post_rps, post_ms, post_errors = load.run(args.clients, post)
        print(
            f"POST shipments: {post_rps:6.1f} req/s, p50 {_p(post_ms, 0.5):.0f} ms, "
            f"p99 {_p(post_ms, 0.99):.0f} ms, {len(post_ms)} requests, {post_errors} errors"
        )

        put_s = []
        for run in range(4):
            items = [{"sku": f"SKU-{i:06d}", "available": run * 10 + i % 7} for i in range(args.items)]
            status, payload, elapsed = load.request("PUT", "/api/v1/inventory", {"items": items})
            assert status == 200, payload[:300]
            if run:  # the first PUT creates the SKUs; then every quantity changes
                put_s.append(elapsed / 1000)
        put = statistics.median(put_s)
        print(f"PUT  inventory, {args.items:,} changed items: {put:.2f} s (median of {len(put_s)})")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        connection.close()
        teardown_databases(old_config, verbosity=0)
    print(
        f"get_rps={get_rps:.0f} get_p50_ms={_p(get_ms, 0.5):.0f} get_p99_ms={_p(get_ms, 0.99):.0f} "
        f"post_rps={post_rps:.0f} post_p99_ms={_p(post_ms, 0.99):.0f} put_10k_s={put:.2f} "
        f"get_queries={get_q} post_queries={post_q}"
    )


if __name__ == "__main__":
    main()
