"""/metrics: the product's figures in Prometheus' format, counted from the
database, behind a bearer token, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from connections import ratelimit
from connections.models import RateLimitBucket
from fulfillment.jobs.models import SyncRun
from fulfillment.monitoring.models import Heartbeat
from fulfillment.monitoring.services import HEARTBEAT_NAME
from fulfillment.orders.models import Order
from fulfillment.shipments.models import ShipmentConfirmation
from tests.factories import make_store
from tests.inventory.factories import make_push
from tests.orders.factories import make_order, make_sync_run
from tests.shipments.factories import make_confirmation
from tests.wms.factories import make_shipment

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-tests"
AUTH = {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}


@pytest.fixture(autouse=True)
def _token(settings):
    settings.METRICS_TOKEN = TOKEN


def _samples(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", **AUTH)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def _store_rows(store, *, released=1, held=1) -> None:
    for _ in range(released):
        make_order(store=store, status=Order.Status.RELEASED, released_at=timezone.now(), hold_reasons=[])
    for _ in range(held):
        make_order(store=store)


def test_it_needs_the_bearer_token(client, settings):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Basic {TOKEN}").status_code == 401
    assert client.get("/metrics")["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert client.get("/metrics", **AUTH).status_code == 200

    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", **AUTH).status_code == 404


def test_it_counts_orders_confirmations_and_inventory_per_store(client):
    acme = make_store(name="Acme US")
    _store_rows(acme, released=2, held=1)
    accepted = make_shipment(order=make_order(store=acme, status=Order.Status.SHIPPED))
    make_confirmation(shipment=accepted, state=ShipmentConfirmation.State.ACCEPTED)
    rejected = make_shipment(order=make_order(store=acme, status=Order.Status.SHIPPED))
    make_confirmation(shipment=rejected, state=ShipmentConfirmation.State.REJECTED)
    make_push(store=acme, accepted=40, rejected=2)
    make_push(store=acme, accepted=5, rejected=0)
    other = make_store(name="Other EU")
    _store_rows(other, released=0, held=2)

    samples = _samples(client)

    acme_labels = (("store", "Acme US"), ("store_id", str(acme.pk)))
    other_labels = (("store", "Other EU"), ("store_id", str(other.pk)))
    assert samples[("fulfillment_orders_downloaded", acme_labels)] == 5
    assert samples[("fulfillment_orders_released", acme_labels)] == 2
    assert samples[("fulfillment_orders_held", acme_labels)] == 1
    assert samples[("fulfillment_orders_held", other_labels)] == 2
    assert samples[("fulfillment_orders_released", other_labels)] == 0
    confirmations = "fulfillment_shipment_confirmations"
    assert samples[(confirmations, tuple(sorted([*acme_labels, ("state", "accepted")])))] == 1
    assert samples[(confirmations, tuple(sorted([*acme_labels, ("state", "rejected")])))] == 1
    assert samples[("fulfillment_inventory_messages_accepted", acme_labels)] == 45
    assert samples[("fulfillment_inventory_messages_rejected", acme_labels)] == 2


def test_it_reports_job_durations_failures_heartbeat_and_late_stores(client):
    store = make_store()
    start = timezone.now() - dt.timedelta(hours=2)
    for seconds, ok in ((2, True), (40, True), (600, False)):
        make_sync_run(store=store, started_at=start, finished_at=start + dt.timedelta(seconds=seconds), ok=ok)
    # Older than the 24-hour window: not in the durations.
    old = timezone.now() - dt.timedelta(hours=25)
    make_sync_run(store=store, started_at=old, finished_at=old, ok=False)
    make_sync_run(store=store, kind=SyncRun.Kind.INVENTORY_PUSH, started_at=start, finished_at=start)
    # Still running: no duration yet.
    make_sync_run(store=store, finished_at=None, ok=None)
    Heartbeat.objects.create(name=HEARTBEAT_NAME, beat_at=timezone.now() - dt.timedelta(seconds=20))

    samples = _samples(client)

    pull = (("job", "order_pull"),)
    assert samples[("fulfillment_job_duration_seconds_gcount", pull)] == 3
    assert samples[("fulfillment_job_duration_seconds_gsum", pull)] == pytest.approx(642, abs=0.01)
    assert samples[("fulfillment_job_duration_seconds_bucket", tuple(sorted([*pull, ("le", "1.0")])))] == 0
    assert samples[("fulfillment_job_duration_seconds_bucket", tuple(sorted([*pull, ("le", "5.0")])))] == 1
    assert samples[("fulfillment_job_duration_seconds_bucket", tuple(sorted([*pull, ("le", "60.0")])))] == 2
    assert samples[("fulfillment_job_duration_seconds_bucket", tuple(sorted([*pull, ("le", "900.0")])))] == 3
    assert samples[("fulfillment_job_failures_24h", pull)] == 1
    assert samples[("fulfillment_job_failures_24h", (("job", "inventory_push"),))] == 0
    assert 20 <= samples[("fulfillment_task_cluster_heartbeat_age_seconds", ())] < 60
    # The last successful download finished two hours ago, the interval is 30 minutes.
    assert samples[("fulfillment_stores_download_late", ())] == 1


def test_it_counts_amazon_calls_and_429s_per_operation(client, store):
    orders = ratelimit.BucketKey(selling_partner_id="A1", region="NA", operation="searchOrders")
    confirm = ratelimit.BucketKey(selling_partner_id="A1", region="NA", operation="confirmShipment")
    other_seller = ratelimit.BucketKey(selling_partner_id="A2", region="EU", operation="confirmShipment")
    for key, calls in ((orders, 2), (confirm, 3), (other_seller, 1)):
        for _ in range(calls):
            ratelimit.acquire(key, max_wait=1000)
    ratelimit.observe_throttled(confirm)

    samples = _samples(client)

    assert samples[("fulfillment_amazon_calls_total", (("operation", "searchOrders"),))] == 2
    assert samples[("fulfillment_amazon_calls_total", (("operation", "confirmShipment"),))] == 4
    assert samples[("fulfillment_amazon_throttled_total", (("operation", "confirmShipment"),))] == 1
    assert samples[("fulfillment_amazon_throttled_total", (("operation", "searchOrders"),))] == 0


def test_a_429_empties_the_bucket_but_keeps_reserved_slots_and_their_clock():
    key = ratelimit.BucketKey(selling_partner_id="A1", region="NA", operation="getOrder")
    ratelimit.acquire(key)
    RateLimitBucket.objects.filter(operation="getOrder").update(tokens=-2.0, updated_at=100.0)

    ratelimit.observe_throttled(key)

    bucket = RateLimitBucket.objects.get(operation="getOrder")
    assert (bucket.tokens, bucket.updated_at, bucket.throttled) == (-2.0, 100.0, 1)

    RateLimitBucket.objects.filter(pk=bucket.pk).update(tokens=5.0)
    ratelimit.observe_throttled(key)
    bucket.refresh_from_db()
    assert bucket.tokens == 0 and bucket.updated_at > 100.0 and bucket.throttled == 2


def test_it_reads_in_a_fixed_number_of_queries(client, django_assert_num_queries):
    def rows():
        store = make_store()
        _store_rows(store)
        make_confirmation(shipment=make_shipment(order=make_order(store=store)))
        make_push(store=store, accepted=1)
        make_sync_run(store=store)
        ratelimit.acquire(ratelimit.BucketKey(store.selling_partner_id, "NA", "searchOrders"))

    rows()
    rows()
    # stores, orders, confirmations, inventory, Amazon calls, sync runs, heartbeat, late stores
    with django_assert_num_queries(8):
        client.get("/metrics", **AUTH)
    rows()
    rows()
    with django_assert_num_queries(8):
        assert client.get("/metrics", **AUTH).status_code == 200
