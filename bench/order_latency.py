"""Order latency benchmark: from an order placed at Amazon (the sandbox) to `released`
in the WMS API, through ORDER_CHANGE notifications on a real SQS wire protocol.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fulfillment_bench \\
        .venv/bin/python bench/order_latency.py [--steady-seconds 90] [--every 3] [--burst 500]

Creates a scratch database (test_<name>, dropped at the end), starts moto's
SQS server in this process, subscribes a connected store through the
product's own setup (the sandbox answers in-process, as in the tests), then:

1. steady state: one order placed every `--every` seconds for
   `--steady-seconds`, the consumer cycling (long poll of 1 s) between;
2. a burst: `--burst` orders placed at once; the consumer leaves them to one
   searchOrders download instead of a getOrder each;
3. a scheduled download at the end: the orders it finds that no
   notification brought are "missed by notifications".

Amazon's usage plans are enforced by the sandbox at real speed and followed by
our rate limiter. Per order, the time from placing it to the first WMS API
read (`GET /api/wms/v1/orders?status=released`, polled after every consumer
cycle) that lists it. The sandbox stamps its orders SANDBOX_NOW_LAG_SECONDS in
the past (200 s by default) so a download sees them at once; Amazon's
two-minute rule would add about three minutes to the burst's orders.

The last line is machine-readable:
p50_s=… p95_s=… max_s=… get_order_calls_per_order=… missed_by_notifications=…
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
for _name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
    os.environ.setdefault(_name, "bench")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _setup():
    from bench.common import bench_store
    from fulfillment.orders.services.notification_setup import notification_subscription_setup
    from fulfillment.wms.services import wms_key_create

    store, seller = bench_store()
    print(f"setup: {notification_subscription_setup(store=store)}", flush=True)
    _, key = wms_key_create(warehouse=store.warehouse, name="bench")
    return store, seller, key


class Wms:
    """The WMS's view: which orders `GET …/orders?status=released` lists, and since when."""

    def __init__(self, key: str) -> None:
        from rest_framework.test import APIClient

        self.client = APIClient()
        self.client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
        self.first_seen: dict[str, float] = {}

    def poll(self) -> None:
        from django.urls import reverse

        url = reverse("wms-orders") + "?status=released"
        now = time.time()
        while url:
            body = self.client.get(url).json()
            rows = body["results"] if isinstance(body, dict) else body
            for row in rows:
                self.first_seen.setdefault(str(row["amazon_order_id"]), now)
            url = body.get("next") if isinstance(body, dict) else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steady-seconds", type=float, default=90.0)
    parser.add_argument("--every", type=float, default=3.0, help="seconds between steady orders")
    parser.add_argument("--burst", type=int, default=500)
    parser.add_argument("--burst-timeout", type=float, default=300.0)
    args = parser.parse_args()

    if connection.vendor != "postgresql":
        print("Set DATABASE_URL to a PostgreSQL database (a scratch test_ copy is created).")
        return 2

    import boto3
    from moto.server import ThreadedMotoServer

    from connections.amazon import sqs
    from fulfillment.orders.models import NotificationReceipt, Order
    from fulfillment.orders.services.download import orders_pull
    from fulfillment.orders.services.notifications import notifications_consume_once
    from sandbox.inprocess import serve_in_process
    from sandbox.orders import sandbox_orders_place

    port = _free_port()
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    moto.start()
    endpoint = f"http://127.0.0.1:{port}"
    settings.SQS_ENDPOINT_URL = endpoint
    settings.AWS_REGION = "us-east-1"
    settings.SQS_QUEUE_URL = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1").create_queue(
        QueueName="bench-order-change"
    )["QueueUrl"]
    # Amazon's usage plans, at Amazon's speed, on both sides.
    settings.SANDBOX_RATE_LIMITS = True
    settings.SANDBOX_TIME_SCALE = 1.0
    settings.SP_API_RATE_TIME_SCALE = 1.0
    serve_in_process()

    old_config = setup_databases(verbosity=0, interactive=False, serialized_aliases=set())
    try:
        store, seller, key = _setup()
        orders_pull(store=store)  # the store's first download (empty), as in production
        wms = Wms(key)
        placed_at: dict[str, float] = {}
        counts: dict[str, int] = {}

        def cycle() -> None:
            for name, value in notifications_consume_once(wait_seconds=1).items():
                counts[name] = counts.get(name, 0) + value
            wms.poll()

        # 1. Steady state.
        started = time.time()
        next_order = started
        while time.time() - started < args.steady_seconds:
            if time.time() >= next_order:
                at = time.time()
                for order in sandbox_orders_place(seller=seller, count=1):
                    placed_at[order.order_id] = at
                next_order += args.every
            cycle()
        steady_ids = set(placed_at)
        deadline = time.time() + 60
        while not steady_ids <= set(wms.first_seen) and time.time() < deadline:
            cycle()

        # 2. The burst.
        at = time.time()
        burst_ids = {o.order_id for o in sandbox_orders_place(seller=seller, count=args.burst)}
        placed_at.update(dict.fromkeys(burst_ids, at))
        print(f"burst: {len(burst_ids)} orders placed in {time.time() - at:.1f} s", flush=True)
        deadline = time.time() + args.burst_timeout
        while (not set(placed_at) <= set(wms.first_seen) or sqs.queue_depth()) and time.time() < deadline:
            cycle()

        # 3. The safety net.
        run = orders_pull(store=store)
        missed = run.counts.get("missed_by_notifications", 0)

        latency = {oid: wms.first_seen[oid] - placed_at[oid] for oid in placed_at if oid in wms.first_seen}
        steady = [latency[o] for o in steady_ids if o in latency]
        burst = [latency[o] for o in burst_ids if o in latency]
        every = list(latency.values())
        get_order_calls = counts.get("get_order_calls", 0)
        print(
            f"steady: {len(steady)}/{len(steady_ids)} released, p50 {statistics.median(steady):.2f} s, "
            f"p95 {_percentile(steady, 0.95):.2f} s, max {max(steady):.2f} s",
            flush=True,
        )
        print(
            f"burst: {len(burst)}/{len(burst_ids)} released, p50 {statistics.median(burst):.2f} s, "
            f"max {max(burst):.2f} s; by download {counts.get('handled_by_download', 0)}, "
            f"downloads {counts.get('downloads', 0)} ({counts.get('search_calls', 0)} searchOrders calls)",
            flush=True,
        )
        print(
            f"consumer: {counts.get('received', 0)} messages, {counts.get('imported', 0)} imported "
            f"by getOrder, {get_order_calls} getOrder calls, {counts.get('already_current', 0)} already "
            f"current; receipts {NotificationReceipt.objects.count()}; "
            f"orders {Order.objects.filter(store=store).count()}; "
            f"never released in time {len(set(placed_at) - set(latency))}",
            flush=True,
        )
        print(
            f"p50_s={statistics.median(every):.2f} p95_s={_percentile(every, 0.95):.2f} "
            f"max_s={max(every):.2f} get_order_calls_per_order={get_order_calls / len(placed_at):.3f} "
            f"missed_by_notifications={missed}",
            flush=True,
        )
    finally:
        teardown_databases(old_config, verbosity=0)
        moto.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
