"""The admin home: per-store health in a fixed number of queries, figures that
link to the list they count, and a server-drawn chart."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from fulfillment.inventory.models import InventoryPush
from fulfillment.jobs.models import SyncRun
from fulfillment.ops.selectors import dashboard_for
from fulfillment.orders.models import Order
from fulfillment.shipments.models import ShipmentConfirmation
from tests.factories import make_store
from tests.orders.factories import make_order, make_sync_run, make_unreadable_order
from tests.shipments.factories import make_confirmation
from tests.wms.factories import make_released_order, make_shipment

# stores (with last pull, last finished pull, last push and open unreadable
# orders subqueries), the warehouses' holidays (ship risk), order counts (held,
# released, acknowledged, late, at risk, stops not acknowledged), confirmation
# counts (rejected, retrying, and orders shipped here that Amazon refused), the
# last pushes, running runs, orders per day, confirmations per day.
DASHBOARD_QUERIES = 8


def _busy_store(now: dt.datetime, **kw):
    store = make_store(**kw)
    make_order(store=store)  # held
    make_released_order(store=store)
    make_released_order(
        store=store, status=Order.Status.ACKNOWLEDGED, ship_by_latest=now - dt.timedelta(hours=1)
    )
    make_confirmation(shipment=make_shipment(order=make_released_order(store=store)))
    make_confirmation(
        shipment=make_shipment(order=make_released_order(store=store)),
        state=ShipmentConfirmation.State.ACCEPTED,
        accepted_at=now,
    )
    make_sync_run(store=store, finished_at=now - dt.timedelta(minutes=10))
    make_sync_run(store=store, ok=None, finished_at=None, kind=SyncRun.Kind.INVENTORY_PUSH)
    InventoryPush.objects.create(
        store=store, state=InventoryPush.State.DONE, accepted=12, rejected=1, finished_at=now
    )
    make_unreadable_order(store=store)
    make_unreadable_order(store=store)
    make_unreadable_order(store=store, resolved_at=now)
    return store


def test_it_builds_the_dashboard_in_a_fixed_number_of_queries(db, django_assert_num_queries):
    # given
    now = timezone.now()
    admin_user = User.objects.create_superuser("boss", "boss@example.com", "pw")
    for _ in range(3):
        _busy_store(now)

    # when / then
    with django_assert_num_queries(DASHBOARD_QUERIES):
        few = dashboard_for(user=admin_user, now=now)
    for _ in range(3):
        _busy_store(now)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        many = dashboard_for(user=admin_user, now=now)
    assert (len(few.stores), len(many.stores)) == (3, 6)


def test_it_counts_each_stores_queues(db):
    # given
    now = timezone.now()
    admin_user = User.objects.create_superuser("boss", "boss@example.com", "pw")
    store = _busy_store(now)
    quiet = make_store(order_pull_minutes=30)
    make_sync_run(
        store=quiet, finished_at=now - dt.timedelta(minutes=61), started_at=now - dt.timedelta(minutes=62)
    )

    # when
    dashboard = dashboard_for(user=admin_user, now=now)

    # then
    busy, idle = dashboard.stores
    assert busy.store == store
    assert (busy.held.value, busy.released.value, busy.acknowledged.value, busy.overdue.value) == (1, 3, 1, 1)
    assert (busy.rejected.value, busy.retrying.value) == (1, 0)
    assert busy.refused_orders.value == 1 and busy.refused_orders.alert
    assert busy.unreadable.value == 2 and busy.unreadable.alert
    assert (idle.unreadable.value, idle.unreadable.alert) == (0, False)
    assert not busy.pull_stale and busy.last_pull.value == "10 min ago"
    assert busy.last_push_figure.value == "Done: 12 accepted, 1 rejected"
    assert [r.kind for r in busy.running] == [SyncRun.Kind.INVENTORY_PUSH]
    # 61 minutes without a successful download on a 30-minute interval: flagged.
    assert idle.pull_stale and idle.last_pull.alert
    assert dashboard.orders_per_day[-1] == 5
    assert dashboard.confirmed_per_day[-1] == 1
    assert dashboard.chart_svg.startswith("<svg") and "Orders in" in dashboard.chart_svg


def test_it_flags_a_connected_store_that_never_downloaded(db):
    admin_user = User.objects.create_superuser("boss", "boss@example.com", "pw")
    make_store()
    (health,) = dashboard_for(user=admin_user, now=timezone.now()).stores
    assert health.pull_stale and health.last_pull.value == "never"


def test_its_links_filter_the_changelists(admin_client):
    # given
    now = timezone.now()
    store, other = _busy_store(now), _busy_store(now)
    response = admin_client.get(reverse("admin:index"))
    health = next(h for h in response.context["dashboard"].stores if h.store == store)

    # when
    held = admin_client.get(health.held.url)
    overdue = admin_client.get(health.overdue.url)
    rejected = admin_client.get(health.rejected.url)
    refused = admin_client.get(health.refused_orders.url)
    pulls = admin_client.get(health.last_pull.url)

    # then
    assert response.status_code == 200
    assert health.held.url.replace("&", "&amp;") in response.content.decode()
    assert [o.status for o in held.context["cl"].result_list] == [Order.Status.HELD]
    assert {o.store_id for o in held.context["cl"].result_list} == {store.pk}
    assert [o.ship_by_latest < now for o in overdue.context["cl"].result_list] == [True]
    assert {c.store_id for c in rejected.context["cl"].result_list} == {store.pk}
    assert [o.pk for o in refused.context["cl"].result_list] == [
        c.order_id for c in rejected.context["cl"].result_list
    ]
    assert {r.kind for r in pulls.context["cl"].result_list} == {SyncRun.Kind.ORDER_PULL}
    assert {r.store_id for r in pulls.context["cl"].result_list} == {store.pk}
    assert other.pk not in {o.store_id for o in held.context["cl"].result_list}


def test_it_draws_the_chart_inline_without_external_assets(admin_client):
    _busy_store(timezone.now())
    body = admin_client.get(reverse("admin:index")).content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="ops-chart"' in body
    assert "cdn" not in body.lower()
    assert body.count("<rect ") >= 14 * 2


def test_a_merchant_users_dashboard_costs_one_query_more_and_shows_its_stores(
    merchant_user, store_a, store_b, django_assert_num_queries
):
    # given
    now = timezone.now()
    for store in (store_a, store_b):
        make_order(store=store)
        InventoryPush.objects.create(store=store, state=InventoryPush.State.DONE)

    # when: one more query, for the user's groups
    with django_assert_num_queries(DASHBOARD_QUERIES + 1):
        dashboard = dashboard_for(user=merchant_user, now=now)

    # then
    assert [h.store for h in dashboard.stores] == [store_a]
    assert dashboard.orders_per_day[-1] == 1


def test_a_store_whose_last_download_failed_is_red_with_the_error(admin_client):
    # given: a success 20 minutes ago, then a failure 5 minutes ago
    now = timezone.now()
    store = make_store()
    make_sync_run(
        store=store, finished_at=now - dt.timedelta(minutes=20), started_at=now - dt.timedelta(minutes=21)
    )
    make_sync_run(
        store=store,
        ok=False,
        error="Amazon answered 503 Service Unavailable",
        started_at=now - dt.timedelta(minutes=6),
        finished_at=now - dt.timedelta(minutes=5),
    )

    # when
    response = admin_client.get(reverse("admin:index"))

    # then
    (health,) = response.context["dashboard"].stores
    assert health.last_pull.alert and health.last_pull.value == "Failed 5 min ago"
    assert health.last_pull_error == "Amazon answered 503 Service Unavailable"
    assert "Amazon answered 503 Service Unavailable" in response.content.decode()

    # when: the next download succeeds
    make_sync_run(store=store, finished_at=now, started_at=now)
    (health,) = dashboard_for(user=response.wsgi_request.user, now=now).stores

    # then
    assert (health.last_pull.alert, health.last_pull.value, health.last_pull_error) == (
        False,
        "0 min ago",
        "",
    )


def test_it_counts_orders_at_risk_and_stops_the_warehouse_has_not_acknowledged(admin_client):
    # given: the warehouse ships every day at 23:59, so an order due within the
    # next cut-off is at risk and one due in three days is on track
    now = timezone.now()
    store = make_store()
    store.warehouse.working_days, store.warehouse.cutoff_time = "1234567", dt.time(23, 59)
    store.warehouse.time_zone = "UTC"
    store.warehouse.save()
    at_risk = make_order(store=store, ship_by_latest=now + dt.timedelta(minutes=30))
    make_order(store=store, ship_by_latest=now + dt.timedelta(days=3))
    make_order(store=store, ship_by_latest=now - dt.timedelta(minutes=30))  # late
    stopped = make_released_order(store=store, status=Order.Status.CANCELLED, wms_stop_requested_at=now)
    make_released_order(
        store=store,
        status=Order.Status.CANCELLED,
        wms_stop_requested_at=now,
        cancellation_acknowledged_at=now,
    )

    # when
    response = admin_client.get(reverse("admin:index"))
    (health,) = response.context["dashboard"].stores

    # then
    assert (health.overdue.value, health.at_risk.value, health.stop_pending.value) == (1, 1, 1)
    assert health.at_risk.alert and health.stop_pending.alert
    listed = admin_client.get(health.at_risk.url).context["cl"].result_list
    assert [o.pk for o in listed] == [at_risk.pk]
    stops = admin_client.get(health.stop_pending.url).context["cl"].result_list
    assert [o.pk for o in stops] == [stopped.pk]
    page = response.content.decode()
    assert "At risk" in page and "Stops not acknowledged" in page
