"""The admin at a big 3PL's scale: 1,000,000 orders and 2,000,000 lines on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/admin_scale \\
        .venv/bin/python bench/admin_scale.py [--orders 1000000] [--runs 5] [--keepdb]

Creates its own scratch database (test_<name>, migrated, dropped at the end
unless --keepdb), fills it by SQL (generate_series: seconds, not hours) with
four stores' orders over 18 months, most of them shipped, the last days'
open (20,000 released), two lines each, then ANALYZEs as autovacuum would.

Times, with a logged-in superuser's test Client (the whole request: view,
queries, template), the order list by default, sorted by ship-by, filtered by
status, searched by an Amazon order id and by a SKU, its page 500, and the
dashboard (admin index): the median of --runs after one warm-up, with the
queries each made.

The last line is machine-readable:
list_ms=… sort_ms=… filter_ms=… open_ms=… search_ms=… sku_search_ms=… page500_ms=… dashboard_ms=…
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_databases, teardown_databases  # noqa: E402

from bench.common import sql_insert  # noqa: E402

OPEN_ORDERS = {"released": 20_000, "acknowledged": 5_000, "held": 3_000, "partially_shipped": 1_000}


def _fill(n_orders: int) -> tuple[str, str]:
    """Orders and lines by SQL; returns (an order id, a SKU) to search for."""
    from django.contrib.auth import get_user_model

    from fulfillment.orders.models import Order, OrderLine
    from tests.factories import make_store

    stores = [make_store().pk for _ in range(4)]
    get_user_model().objects.create_superuser("bench", "bench@example.com", "pw")
    # The newest orders are the open ones; older ones shipped (1 in 30 cancelled).
    cases, upto, held_from, held_to = [], 0, 0, 0
    for status, count in OPEN_ORDERS.items():
        if status == "held":
            held_from, held_to = upto, upto + count
        upto += count
        cases.append(f"WHEN i <= {upto} THEN '{status}'")
    status_sql = f"CASE {' '.join(cases)} WHEN i % 30 = 0 THEN 'cancelled' ELSE 'shipped' END"
    columns = {
        "store_id": f"(ARRAY{stores})[1 + i % {len(stores)}]",
        "amazon_order_id": "lpad((100 + i % 900)::text, 3, '0') || '-' || lpad(i::text, 7, '0') "
        "|| '-' || lpad((i::bigint * 7919 % 10000000)::text, 7, '0')",
        "amazon_status": f"CASE WHEN i <= {upto} THEN 'UNSHIPPED' ELSE 'SHIPPED' END",
        "status": status_sql,
        # 18 months back from now, newest first: i = 1 is the latest order.
        "purchased_at": f"now() - (i * interval '{540 * 86400 / n_orders} seconds')",
        "amazon_updated_at": f"now() - (i * interval '{540 * 86400 / n_orders} seconds')",
        "ship_by_latest": f"now() - (i * interval '{540 * 86400 / n_orders} seconds') + interval '2 days'",
        "created_at": f"now() - (i * interval '{540 * 86400 / n_orders} seconds') + interval '5 minutes'",
        "updated_at": "now()",
        "released_at": f"CASE WHEN i > {held_from} AND i <= {held_to} THEN NULL ELSE now() END",
        "service_level": "'Std'",
        "ship_to_country": "'US'",
        "hold_reasons": "'[]'::jsonb",
    }
    _timed_insert(Order, columns, f"generate_series(1, {n_orders}) AS i")
    line_columns = {
        "order_id": "o.id",
        "order_item_id": "o.id::text || '-' || n::text",
        "amazon_sku": "'SKU-' || ((o.id * 2 + n) % 50000)::text",
        "product_code": "'SKU-' || ((o.id * 2 + n) % 50000)::text",
        "quantity_ordered": "1 + n",
        "quantity_shipped": "0",
        "quantity_cancelled": "0",
        "components": "'[]'::jsonb",
    }
    _timed_insert(OrderLine, line_columns, f"{Order._meta.db_table} o CROSS JOIN generate_series(0, 1) AS n")
    with connection.cursor() as cursor:
        for model in (Order, OrderLine):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    # An old, shipped order (a small --orders has none: then any order).
    orders = Order.objects.order_by().only("amazon_order_id")
    shipped = list(orders.filter(status="shipped")[n_orders // 3 : n_orders // 3 + 1])
    order = shipped[0] if shipped else orders.first()
    return order.amazon_order_id, "SKU-12345"


def _timed_insert(model, columns: dict[str, str], source: str) -> None:
    started = time.perf_counter()
    rows = sql_insert(model, columns, source)
    print(f"  {model._meta.db_table}: {rows} rows in {time.perf_counter() - started:.1f} s")


def _time(client, url: str, runs: int) -> tuple[float, float, float, list[dict]]:
    """Medians of the request's ms, of its ms in the database and of this process's CPU ms
    (the Python side: on a shared machine wall time also holds other processes' turns), and
    the queries of the last run."""
    response = client.get(url)  # warm-up (and a check that the page works)
    assert response.status_code == 200, (url, response.status_code)
    timings, db_timings, cpu_timings, queries = [], [], [], []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            cpu_timings.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
        queries = captured.captured_queries
        db_timings.append(sum(float(q["time"]) for q in queries) * 1000)
    return statistics.median(timings), statistics.median(db_timings), statistics.median(cpu_timings), queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keepdb", action="store_true", help="keep the scratch database")
    parser.add_argument("--verbose", action="store_true", help="print each page's slowest query")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("bench/admin_scale.py needs PostgreSQL: set DATABASE_URL=postgres://…")

    from django.test import Client
    from django.urls import reverse

    from fulfillment.orders.admin import OrderAdmin

    old_config = setup_databases(verbosity=0, interactive=False, keepdb=False)
    try:
        started = time.perf_counter()
        print(f"filling {connection.settings_dict['NAME']} with {args.orders:,} orders …")
        order_id, sku = _fill(args.orders)
        print(f"filled in {time.perf_counter() - started:.1f} s")

        client = Client()
        from django.contrib.auth import get_user_model

        client.force_login(get_user_model().objects.get(username="bench"))
        changelist = reverse("admin:fulfillment_order_changelist")
        ship_by_column = OrderAdmin.list_display.index("ship_by") + 1
        cases = {
            "list": changelist,
            "sort": f"{changelist}?o={ship_by_column}",
            "filter": f"{changelist}?status__exact=released",
            # What an operator opens first: every open order, the most urgent first.
            "open": f"{changelist}?status__exact=open",
            "search": f"{changelist}?q={order_id}",
            "sku_search": f"{changelist}?q={sku}",
            # Page 500 (a smaller --orders: its last page).
            "page500": f"{changelist}?p={min(500, max(1, args.orders // 100 - 1))}",
            "dashboard": reverse("admin:index"),
        }
        figures = {}
        for name, url in cases.items():
            ms, db_ms, cpu_ms, queries = _time(client, url, args.runs)
            figures[name] = ms
            print(
                f"{name:>11}: {ms:7.1f} ms median of {args.runs} ({db_ms:6.1f} ms in {len(queries)} queries,"
                f" {cpu_ms:6.1f} ms Python CPU)   {url}"
            )
            if args.verbose:
                slowest = max(queries, key=lambda q: float(q["time"]))
                print(f"{'':13}slowest query {float(slowest['time']) * 1000:.1f} ms: {slowest['sql'][:300]}")
    finally:
        if not args.keepdb:
            teardown_databases(old_config, verbosity=0)
    print(" ".join(f"{name}_ms={ms:.0f}" for name, ms in figures.items()))


if __name__ == "__main__":
    main()
