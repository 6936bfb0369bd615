"""The order download against the sandbox: every order once, every page, crash-safe."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from connections.amazon import AmazonClient
from fulfillment.jobs.models import SyncRun
from fulfillment.orders.models import Order, OrderLine, StoreSyncState
from fulfillment.orders.services import download as orders_service
from fulfillment.orders.services.download import orders_pull
from sandbox.models import SandboxOrder
from sandbox.orders import sandbox_order_cancel, sandbox_order_update, sandbox_orders_create

pytestmark = pytest.mark.usefixtures("shipping_for_every_level")

_NO_HOOK = orders_service._after_page_committed


def _recent_orders(seller, count, *, seed=1, minutes_ago=(50, 10)):
    now = timezone.now()
    return sandbox_orders_create(
        seller=seller,
        count=count,
        seed=seed,
        status="UNSHIPPED",
        created_after=now - dt.timedelta(minutes=minutes_ago[0]),
        created_before=now - dt.timedelta(minutes=minutes_ago[1]),
    )


def test_it_imports_orders_with_their_details(store, seller):
    # given
    placed = sandbox_orders_create(seller=seller, count=40, seed=7, status="UNSHIPPED")
    prime = next(o for o in placed if "PRIME" in o.programs)
    business = next(o for o in placed if "AMAZON_BUSINESS" in o.programs)
    gift_item = next(i for o in placed for i in o.items.all() if i.gift_message)

    # when
    run = orders_pull(store=store)

    # then
    assert run.ok, run.error
    assert run.counts["new"] == 40 and run.counts["released"] == 40
    assert run.api_calls == 1
    order = Order.objects.get(amazon_order_id=prime.order_id)
    assert order.is_prime and order.status == Order.Status.RELEASED
    assert order.service_level == prime.service_level
    assert order.carrier == "UPS" and order.ship_code == f"UPS-{prime.service_level}"
    assert order.ship_by_latest == prime.ship_by_latest.replace(microsecond=0)
    assert order.deliver_by_latest == prime.deliver_by_latest.replace(microsecond=0)
    assert order.recipient_data["name"] == prime.delivery_address["name"]
    assert order.ship_to_country == "US"
    assert Order.objects.get(amazon_order_id=business.order_id).is_business
    gift_order = Order.objects.get(amazon_order_id=gift_item.order.order_id)
    assert gift_order.is_gift and gift_item.gift_message in gift_order.gift_message
    line = OrderLine.objects.get(order=order, order_item_id=prime.items.first().order_item_id)
    assert line.amazon_sku == prime.items.first().sku
    assert line.product_code == line.amazon_sku
    assert line.components == [{"warehouse_sku": line.amazon_sku, "units": 1}]


def test_it_stores_the_recipient_encrypted(store, seller):
    placed = sandbox_orders_create(seller=seller, count=1, seed=3, status="UNSHIPPED")
    orders_pull(store=store)

    with connection.cursor() as cursor:
        cursor.execute("SELECT recipient FROM fulfillment_order")
        (raw,) = cursor.fetchone()
    assert placed[0].delivery_address["name"] not in raw
    assert placed[0].delivery_address["addressLine1"] not in raw


def test_it_reads_every_page_and_imports_nothing_twice(store, seller):
    # given
    sandbox_orders_create(seller=seller, count=250, seed=11, status="UNSHIPPED")

    # when
    first = orders_pull(store=store)
    second = orders_pull(store=store)

    # then
    assert first.ok and second.ok, (first.error, second.error)
    assert first.counts["pages"] == 3 and first.api_calls == 3
    assert first.counts["new"] == 250
    assert second.counts["new"] == 0 and second.counts["updated"] == 0
    assert Order.objects.count() == 250
    assert SyncRun.objects.filter(kind=SyncRun.Kind.ORDER_PULL, ok=True).count() == 2


def test_the_first_download_resumes_after_a_crash_without_duplicates(store, seller, monkeypatch):
    # given
    sandbox_orders_create(seller=seller, count=230, seed=5, status="UNSHIPPED")

    def crash(*, store, page):
        if page == 1:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(orders_service, "_after_page_committed", crash)

    # when
    crashed = orders_pull(store=store)
    state = StoreSyncState.objects.get(store=store)
    first_window_end = state.initial_import_until
    monkeypatch.setattr(orders_service, "_after_page_committed", _NO_HOOK)
    rerun = orders_pull(store=store)

    # then: the cursor did not move past a slice half read; the rerun resumed
    # it with Amazon's token (2 calls for the 2 pages it had not read)
    assert not crashed.ok and "RuntimeError" in crashed.error
    assert crashed.counts["new"] == 100
    assert state.initial_import_cursor is None and state.slice_token
    assert rerun.ok and rerun.counts["new"] == 130 and rerun.api_calls == 2
    assert Order.objects.count() == 230
    state = StoreSyncState.objects.get(store=store)
    # updates made since the first attempt began are read by the next download
    assert state.order_watermark == first_window_end and state.initial_import_cursor is None
    assert not state.slice_token and state.slice_before is None


def test_an_incremental_download_resumes_after_a_crash_mid_window(store, seller, monkeypatch, time_passes):
    # given: a first download, then an hour of new orders
    orders_pull(store=store)
    time_passes(60)
    _recent_orders(seller, 230)
    watermark_before = StoreSyncState.objects.get(store=store).order_watermark

    def crash(*, store, page):
        if page == 1:
            raise RuntimeError("worker killed")

    monkeypatch.setattr(orders_service, "_after_page_committed", crash)

    # when
    crashed = orders_pull(store=store)
    watermark_after_crash = StoreSyncState.objects.get(store=store).order_watermark
    monkeypatch.setattr(orders_service, "_after_page_committed", _NO_HOOK)
    rerun = orders_pull(store=store)

    # then: the watermark stayed before the slice half read, and the rerun finished it
    assert not crashed.ok and crashed.counts["new"] == 100
    assert watermark_after_crash == watermark_before
    assert rerun.ok and rerun.counts["new"] == 130
    assert Order.objects.count() == 230
    assert StoreSyncState.objects.get(store=store).order_watermark > watermark_before


def test_it_never_misses_an_order_updated_during_a_download(store, seller, monkeypatch, time_passes):
    # given
    orders_pull(store=store)
    time_passes(60)
    placed = _recent_orders(seller, 150)
    first_page = sorted(placed, key=lambda o: (o.last_updated_time, o.order_id))[0]

    def cancel_while_paging(*, store, page):
        # Amazon cancels an order of page 1 while we read page 2.
        if page == 1:
            sandbox_order_cancel(order=SandboxOrder.objects.get(pk=first_page.pk))

    monkeypatch.setattr(orders_service, "_after_page_committed", cancel_while_paging)

    # when
    during = orders_pull(store=store)
    monkeypatch.setattr(orders_service, "_after_page_committed", _NO_HOOK)
    time_passes(10)
    after = orders_pull(store=store)

    # then
    assert during.ok and during.counts["new"] == 150
    assert after.ok and after.counts["cancelled"] == 1 and after.counts["new"] == 0
    assert Order.objects.get(amazon_order_id=first_page.order_id).status == Order.Status.CANCELLED


def test_it_finds_an_order_the_sandbox_moves_between_pages(store, seller, sandbox_faults, time_passes):
    # given: Amazon updates an already returned order while we page
    orders_pull(store=store)
    time_passes(60)
    _recent_orders(seller, 150)
    sandbox_faults(change_order_between_pages=True)

    # when
    orders_pull(store=store)
    moved = SandboxOrder.objects.order_by("-last_updated_time").first()
    sandbox_order_update(order=moved, when=moved.last_updated_time, service_level="NEXT_DAY")
    sandbox_faults(change_order_between_pages=False)
    time_passes(10)
    after = orders_pull(store=store)

    # then: the held/released order took the change, nothing was imported twice
    assert Order.objects.count() == 150
    assert after.ok
    order = Order.objects.get(amazon_order_id=moved.order_id)
    assert order.amazon_updated_at == moved.last_updated_time.replace(microsecond=0) - dt.timedelta(
        minutes=10
    )


def test_it_keeps_the_two_minute_rule(store, seller, monkeypatch, time_passes):
    # given: an order updated a minute ago
    asked = []
    real = AmazonClient.search_orders
    monkeypatch.setattr(
        AmazonClient,
        "search_orders",
        lambda client, **query: asked.append(query) or real(client, **query),
    )
    orders_pull(store=store)
    time_passes(30)
    now = timezone.now()
    just_now = _recent_orders(seller, 1, minutes_ago=(1, 1))[0]
    sandbox_order_update(order=just_now, when=now - dt.timedelta(minutes=1))

    # when
    before = orders_pull(store=store, now=now)
    time_passes(5)
    later = orders_pull(store=store)

    # then
    for query in asked:
        end = query.get("lastUpdatedBefore") or query.get("createdBefore")
        assert dt.datetime.fromisoformat(end) <= timezone.now() - dt.timedelta(minutes=2)
    assert before.ok and before.counts["new"] == 0
    assert later.ok and later.counts["new"] == 1


# SQLite binds at most 999 parameters per statement, so Django splits the bulk
# upserts of 100 orders (about 30 columns each) and of their lines into more
# INSERT statements there: 5 more, still a fixed number per page.
_SQLITE_BATCHES = 5 if connection.vendor == "sqlite" else 0


def test_it_writes_a_page_of_100_orders_in_a_fixed_handful_of_queries(
    store, seller, django_assert_num_queries, django_assert_max_num_queries
):
    # Exact on PostgreSQL; on SQLite at most that many (its batches vary with the columns)
    queries = (
        django_assert_num_queries if connection.vendor == "postgresql" else django_assert_max_num_queries
    )

    # given: a page as Amazon sends it
    from connections.amazon import amazon_client
    from fulfillment.orders.models import UnreadableOrder
    from fulfillment.orders.services.download import RunContext, order_search_params, orders_ingest_page

    sandbox_orders_create(seller=seller, count=100, seed=2, status="UNSHIPPED")
    query = order_search_params(store=store, watermark=None, now=timezone.now())
    raw = amazon_client(store).search_orders(**query)["orders"]
    assert len(raw) == 100
    ctx = RunContext(store)
    ctx.shipping_table  # noqa: B018 - read once per run, not per page
    ctx.open_unreadable  # noqa: B018 - read once per run, not per page

    # when / then: new orders (lock, mappings, savepoint, orders, lines, release)
    with queries(6 + _SQLITE_BATCHES):
        orders_ingest_page(ctx=ctx, raw_orders=raw, now=timezone.now(), counts=Counter())
    # and the same page again with every order changed (held and released ones)
    Order.objects.filter(pk__in=Order.objects.all()[:50].values("pk")).update(status=Order.Status.HELD)
    for order in raw:
        order["lastUpdatedTime"] = "2099-01-01T00:00:00Z"
        order["fulfillment"]["fulfillmentStatus"] = "CANCELLED"
    counts = Counter()
    with queries(7 + _SQLITE_BATCHES):
        orders_ingest_page(ctx=ctx, raw_orders=raw, now=timezone.now(), counts=counts)
    assert counts["cancelled"] == 100
    assert Order.objects.filter(status=Order.Status.CANCELLED).count() == 100
    # and a page with two unreadable orders: one query sets them aside, whatever their number
    # (lock, savepoint, the 98 others' updates, release, unreadable orders)
    for n, order in enumerate(raw):
        order["lastUpdatedTime"] = "2099-01-02T00:00:00Z"
        if n < 2:
            order["orderItems"][0]["quantityOrdered"] = -1
    counts = Counter()
    with queries(5 + _SQLITE_BATCHES):
        orders_ingest_page(ctx=ctx, raw_orders=raw, now=timezone.now(), counts=counts)
    assert counts["unreadable"] == 2 and counts["updated"] == 98
    assert UnreadableOrder.objects.filter(resolved_at__isnull=True).count() == 2
