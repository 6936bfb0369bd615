"""Scale benchmark: S stores x N orders through a full cycle on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fulfillment_scale \\
        .venv/bin/python bench/scale.py [--stores 100] [--orders 1000]

Creates a scratch database (test_<name>, dropped at the end), S connected
stores, each with its own sandbox seller holding N Unshipped orders, and runs
for every store: the order download (which releases each order to the WMS),
the WMS shipping every order in one package (the WMS service
`shipment_record`, as the API does), and the confirmation sweep (one
confirmShipment per package). The sandbox answers in-process (as in
tests/conftest.py) with its rate limits off, and our limiter's clock is sped
up to match: the figures are the product's own cost, not Amazon's pacing.

Queries are counted with `connection.execute_wrapper`; those the sandbox makes
while answering (it shares the process and the database) are counted apart,
so `queries_per_order` is the product's alone. `db_bytes_per_order` is the
growth of `pg_database_size` over the run divided by the orders (the sandbox's
own tables included; the product's tables alone are printed above it).

New database connections are counted with the `connection_created` signal
(a reconnect in the product, e.g. django-q2's broker closing an obsolete
connection, shows there).

The last line is machine-readable:
stores=… orders=… wall_s=… queries_per_order=… db_bytes_per_order=… product_queries_per_order=…
sandbox_queries_per_order=… pull_/ship_/confirm_queries_per_order=… new_connections_per_order=…
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.backends.signals import connection_created  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from sandbox.inprocess import serve_in_process  # noqa: E402

QUERIES: collections.Counter = collections.Counter()
# Queries per (stage, who): the stage the loop is in, and whether the sandbox
# (answering in-process, on the same connection) or the product made them.
STAGE_QUERIES: collections.Counter = collections.Counter()
_in_sandbox = [False]
_stage = ["setup"]
CONNECTIONS = [0]


def _count_queries(execute, sql, params, many, context):
    who = "sandbox" if _in_sandbox[0] else "product"
    QUERIES[who] += 1
    STAGE_QUERIES[_stage[0], who] += 1
    return execute(sql, params, many, context)


def _count_sandbox_apart() -> None:
    """Mark every in-process call to the sandbox, so its queries are counted apart."""
    import httpx

    serve = httpx.HTTPTransport.handle_request

    def handle_request(self, request):
        _in_sandbox[0] = True
        try:
            return serve(self, request)
        finally:
            _in_sandbox[0] = False

    httpx.HTTPTransport.handle_request = handle_request


def _count_new_connections(sender, connection, **kwargs) -> None:
    CONNECTIONS[0] += 1


def _db_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        return cursor.fetchone()[0]


def _product_tables_size() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE 'sandbox\\_%'"
        )
        return int(cursor.fetchone()[0])


def _setup(n_stores: int, n_orders: int):
    """Stores, sellers and their sandbox orders (not timed: that is Amazon's side)."""
    from bench.common import every_order_releases
    from connections.models import Marketplace, Store
    from fulfillment.orders.models import Warehouse
    from sandbox.orders import sandbox_orders_create
    from sandbox.sellers import sandbox_application_ensure, sandbox_seller_ensure

    sandbox_application_ensure()
    us = Marketplace.objects.get(code="US")
    warehouse = Warehouse.objects.create(code="SCALE", name="Scale DC", time_zone="America/New_York")
    every_order_releases(warehouse=warehouse, marketplace=us, ship_code="GND")
    stores = []
    for s in range(n_stores):
        spid, token = f"A{s:05d}SCALE", f"Atzr|scale-{s}"
        seller = sandbox_seller_ensure(
            selling_partner_id=spid, name=f"Scale {s}", marketplace_codes=("US",), refresh_token=token
        )
        sandbox_orders_create(seller=seller, count=n_orders, seed=s, status="UNSHIPPED")
        stores.append(
            Store.objects.create(
                name=f"Scale {s:03d}",
                marketplace=us,
                warehouse=warehouse,
                selling_partner_id=spid,
                authorization_status=Store.Authorization.CONNECTED,
                refresh_token=token,
            )
        )
    return stores


def _ship_all(store) -> int:
    from django.utils import timezone

    from fulfillment.orders.models import Order
    from fulfillment.wms.services import ShipmentInput, ShipmentLineInput, shipment_record

    shipped = 0
    ship_date = timezone.now() - dt.timedelta(minutes=1)
    for order in Order.objects.filter(store=store, status=Order.Status.RELEASED).prefetch_related("lines"):
        shipment_record(
            warehouse=store.warehouse,
            data=ShipmentInput(
                order=str(order.pk),
                package_id=f"P{order.pk}",
                carrier="UPS",
                tracking_number=f"1ZSCALE{order.pk:010d}",
                ship_date=ship_date,
                lines=[
                    ShipmentLineInput(quantity=line.quantity_ordered, order_item_id=line.order_item_id)
                    for line in order.lines.all()
                ],
            ),
            source="api",
        )
        shipped += 1
    return shipped


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stores", type=int, default=100)
    parser.add_argument("--orders", type=int, default=1000, help="orders per store")
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database (a scratch test_ copy is created).")
        return 2

    import logging

    from fulfillment.orders.models import Order
    from fulfillment.orders.services.download import orders_pull
    from fulfillment.shipments.models import ShipmentConfirmation
    from fulfillment.shipments.services.confirmations import confirmations_sweep
    from sandbox.models import SandboxPackage

    logging.getLogger("django-q").setLevel(logging.WARNING)  # one "Enqueued" line per package
    failed = 0
    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    serve_in_process()
    _count_sandbox_apart()
    connection_created.connect(_count_new_connections)
    try:
        settings.SANDBOX_RATE_LIMITS = False
        # Our limiter follows Amazon's plans; sped up, it never waits here.
        settings.SANDBOX_TIME_SCALE = settings.SP_API_RATE_TIME_SCALE = 1_000_000.0
        started = time.perf_counter()
        stores = _setup(args.stores, args.orders)
        setup_s = time.perf_counter() - started
        print(f"setup: {args.stores} stores x {args.orders} sandbox orders in {setup_s:.1f} s")

        size_before, product_before = _db_size(), _product_tables_size()
        phases: collections.Counter = collections.Counter()
        started = time.perf_counter()
        connections_before = CONNECTIONS[0]
        with connection.execute_wrapper(_count_queries):
            for n, store in enumerate(stores, start=1):
                t = time.perf_counter()
                _stage[0] = "pull"
                pull = orders_pull(store=store)
                phases["pull"] += time.perf_counter() - t
                t = time.perf_counter()
                _stage[0] = "ship"
                _ship_all(store)
                phases["ship"] += time.perf_counter() - t
                t = time.perf_counter()
                _stage[0] = "confirm"
                sweep = confirmations_sweep(store=store)
                phases["confirm"] += time.perf_counter() - t
                _stage[0] = "other"
                failed += (not pull.ok) + (not sweep.ok)
                if n % max(1, len(stores) // 10) == 0:
                    print(f"  {n} stores done, {time.perf_counter() - started:.0f} s", flush=True)
        wall = time.perf_counter() - started
        new_connections = CONNECTIONS[0] - connections_before
        orders = Order.objects.count()
        with connection.cursor() as cursor:
            cursor.execute("CHECKPOINT")
        grown, product_grown = _db_size() - size_before, _product_tables_size() - product_before

        shipped = Order.objects.filter(status=Order.Status.SHIPPED).count()
        accepted = ShipmentConfirmation.objects.filter(state=ShipmentConfirmation.State.ACCEPTED).count()
        print(
            f"orders {orders}, shipped {shipped}, confirmations accepted {accepted}, "
            f"sandbox packages {SandboxPackage.objects.count()}, failed runs {failed}"
        )
        print(
            "phases: "
            + ", ".join(
                f"{k} {v:.1f} s ({v / max(orders, 1) * 1000:.1f} ms/order)" for k, v in phases.items()
            )
        )
        print(
            f"queries: product {QUERIES['product']} ({QUERIES['product'] / max(orders, 1):.1f}/order), "
            f"sandbox {QUERIES['sandbox']} ({QUERIES['sandbox'] / max(orders, 1):.1f}/order)"
        )
        for stage in ("pull", "ship", "confirm"):
            print(
                f"  {stage:>7}: product {STAGE_QUERIES[stage, 'product'] / max(orders, 1):.2f} q/order, "
                f"sandbox {STAGE_QUERIES[stage, 'sandbox'] / max(orders, 1):.2f}/order, "
                f"{phases[stage] / max(orders, 1) * 1000:.2f} ms/order"
            )
        print(f"new database connections: {new_connections} ({new_connections / max(orders, 1):.2f}/order)")
        print(
            f"database grew {grown / 1e6:.1f} MB ({grown / max(orders, 1):.0f} B/order); "
            f"product tables {product_grown / 1e6:.1f} MB ({product_grown / max(orders, 1):.0f} B/order)"
        )
        print(
            f"stores={args.stores} orders={orders} wall_s={wall:.1f} "
            f"queries_per_order={QUERIES['product'] / max(orders, 1):.1f} "
            f"db_bytes_per_order={grown / max(orders, 1):.0f} "
            f"product_queries_per_order={QUERIES['product'] / max(orders, 1):.2f} "
            f"sandbox_queries_per_order={QUERIES['sandbox'] / max(orders, 1):.2f} "
            + " ".join(
                f"{stage}_queries_per_order={STAGE_QUERIES[stage, 'product'] / max(orders, 1):.2f}"
                for stage in ("pull", "ship", "confirm")
            )
            + f" new_connections_per_order={new_connections / max(orders, 1):.3f}"
        )
    finally:
        teardown_databases(old_config, verbosity=0)
    return 0 if not failed else 1


if __name__ == "__main__":
    sys.exit(main())
