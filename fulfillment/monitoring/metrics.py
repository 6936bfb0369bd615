"""Prometheus figures of the product, read from the database at each scrape.

Counting rows (not in-process counters) makes every figure right whatever the
number of web and worker processes, and survives restarts. One query per
family, whatever the number of stores (asserted in tests/monitoring).

Order, inventory and sync-run rows are deleted after ORDER_DATA_RETENTION_DAYS,
so their counts can fall: they are gauges (rows on record; use delta(), not
rate()), and job durations cover the last 24 hours. Amazon call counts live in
the rate limiter's bucket rows, which are never deleted: those are counters.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

# Sync-run duration buckets (seconds): a download page takes seconds, a large
# inventory push many minutes; the queue's task timeout is 1500 s.
DURATION_BUCKETS = (1, 5, 15, 60, 300, 900, 1500)
JOB_WINDOW = dt.timedelta(hours=24)


def _stores() -> dict[int, str]:
    from connections.models import Store

    return dict(Store.objects.values_list("pk", "name"))


def _store_labels(stores: dict[int, str], store_id: int) -> list[str]:
    return [str(store_id), stores.get(store_id, "")]


def _order_families(stores: dict[int, str]) -> Iterator:
    from fulfillment.orders.models import Order

    downloaded = GaugeMetricFamily(
        "fulfillment_orders_downloaded",
        "Orders downloaded from Amazon, on record.",
        labels=["store_id", "store"],
    )
    released = GaugeMetricFamily(
        "fulfillment_orders_released",
        "Orders released to the warehouse, on record.",
        labels=["store_id", "store"],
    )
    held = GaugeMetricFamily(
        "fulfillment_orders_held",
        "Orders held now (a mapping or an address missing).",
        labels=["store_id", "store"],
    )
    rows = (
        Order.objects.values("store_id")
        .annotate(
            downloaded=Count("pk"),
            released=Count("pk", filter=Q(released_at__isnull=False)),
            held=Count("pk", filter=Q(status=Order.Status.HELD)),
        )
        .order_by()
    )
    for row in rows:
        labels = _store_labels(stores, row["store_id"])
        downloaded.add_metric(labels, row["downloaded"])
        released.add_metric(labels, row["released"])
        held.add_metric(labels, row["held"])
    yield from (downloaded, released, held)


def _confirmation_family(stores: dict[int, str]) -> Iterator:
    from fulfillment.shipments.models import ShipmentConfirmation

    family = GaugeMetricFamily(
        "fulfillment_shipment_confirmations",
        "Packages by confirmation state (accepted = confirmed to Amazon).",
        labels=["store_id", "store", "state"],
    )
    rows = ShipmentConfirmation.objects.values("store_id", "state").annotate(n=Count("pk")).order_by()
    for row in rows:
        family.add_metric([*_store_labels(stores, row["store_id"]), row["state"]], row["n"])
    yield family


def _inventory_families(stores: dict[int, str]) -> Iterator:
    from fulfillment.inventory.models import InventoryPush

    accepted = GaugeMetricFamily(
        "fulfillment_inventory_messages_accepted",
        "Inventory messages (SKUs) Amazon accepted, pushes on record.",
        labels=["store_id", "store"],
    )
    rejected = GaugeMetricFamily(
        "fulfillment_inventory_messages_rejected",
        "Inventory messages (SKUs) Amazon rejected, pushes on record.",
        labels=["store_id", "store"],
    )
    rows = (
        InventoryPush.objects.values("store_id")
        .annotate(accepted=Sum("accepted"), rejected=Sum("rejected"))
        .order_by()
    )
    for row in rows:
        labels = _store_labels(stores, row["store_id"])
        accepted.add_metric(labels, row["accepted"] or 0)
        rejected.add_metric(labels, row["rejected"] or 0)
    yield from (accepted, rejected)


def _amazon_families() -> Iterator:
    from connections.models import RateLimitBucket

    calls = CounterMetricFamily(
        "fulfillment_amazon_calls", "SP-API calls made, per operation.", labels=["operation"]
    )
    throttled = CounterMetricFamily(
        "fulfillment_amazon_throttled",
        "SP-API calls Amazon answered 429, per operation.",
        labels=["operation"],
    )
    rows = (
        RateLimitBucket.objects.values("operation")
        .annotate(calls=Sum("calls"), throttled=Sum("throttled"))
        .order_by("operation")
    )
    for row in rows:
        calls.add_metric([row["operation"]], row["calls"] or 0)
        throttled.add_metric([row["operation"]], row["throttled"] or 0)
    yield from (calls, throttled)


def _job_families(now: dt.datetime) -> Iterator:
    from fulfillment.jobs.models import SyncRun

    duration = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    buckets = {
        f"le_{limit}": Count("pk", filter=Q(duration__lte=dt.timedelta(seconds=limit)))
        for limit in DURATION_BUCKETS
    }
    rows = (
        SyncRun.objects.filter(finished_at__isnull=False, started_at__gte=now - JOB_WINDOW)
        .annotate(duration=duration)
        .values("kind")
        .annotate(runs=Count("pk"), failed=Count("pk", filter=Q(ok=False)), total=Sum("duration"), **buckets)
        .order_by("kind")
    )
    histogram = GaugeHistogramMetricFamily(
        "fulfillment_job_duration_seconds",
        "Duration of sync runs finished in the last 24 hours, per job.",
        labels=["job"],
    )
    failed = GaugeMetricFamily(
        "fulfillment_job_failures_24h", "Sync runs that failed in the last 24 hours, per job.", labels=["job"]
    )
    for row in rows:
        histogram.add_metric(
            [row["kind"]],
            [
                *((floatToGoString(limit), row[f"le_{limit}"]) for limit in DURATION_BUCKETS),
                ("+Inf", row["runs"]),
            ],
            gsum_value=row["total"].total_seconds() if row["total"] else 0.0,
        )
        failed.add_metric([row["kind"]], row["failed"])
    yield from (histogram, failed)


def _health_families(now: dt.datetime) -> Iterator:
    from fulfillment.monitoring.health import stores_late
    from fulfillment.monitoring.models import Heartbeat
    from fulfillment.monitoring.services import HEARTBEAT_NAME

    beat_at = Heartbeat.objects.filter(name=HEARTBEAT_NAME).values_list("beat_at", flat=True).first()
    heartbeat = GaugeMetricFamily(
        "fulfillment_task_cluster_heartbeat_age_seconds", "Seconds since the task cluster's last heartbeat."
    )
    if beat_at is not None:
        heartbeat.add_metric([], (now - beat_at).total_seconds())
    _, late = stores_late(now=now)
    late_family = GaugeMetricFamily(
        "fulfillment_stores_download_late", "Connected stores whose order download is two intervals late."
    )
    late_family.add_metric([], late)
    yield from (heartbeat, late_family)


class ProductCollector(Collector):
    def collect(self) -> Iterator:
        from django.utils import timezone

        now = timezone.now()
        stores = _stores()
        yield from _order_families(stores)
        yield from _confirmation_family(stores)
        yield from _inventory_families(stores)
        yield from _amazon_families()
        yield from _job_families(now)
        yield from _health_families(now)


def metrics_text() -> bytes:
    """The exposition text of every family, read now (no process-global registry)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ProductCollector())
    return generate_latest(registry)
