"""The download is crash-safe whatever order Amazon serves the pages of a search in.

Amazon documents no order for searchOrders pages; the sandbox's page-order
switch serves them oldest first (as before), newest first or shuffled. A
worker killed mid-window under each order, then the job run twice: every
order present once, nothing missed, nothing counted twice.
"""

from __future__ import annotations

import collections
import datetime as dt

import pytest
from django.utils import timezone

from connections.amazon import amazon_client
from fulfillment.orders.models import Order, OrderLine, StoreSyncState
from fulfillment.orders.services import download as orders_service
from fulfillment.orders.services.download import order_search_params, orders_pull
from sandbox.models import PageOrder, SandboxOrder, SandboxOrderItem
from sandbox.orders import sandbox_order_cancel, sandbox_orders_create

pytestmark = pytest.mark.usefixtures("shipping_for_every_level")

PAGE_ORDERS = [PageOrder.OLDEST_FIRST, PageOrder.NEWEST_FIRST, PageOrder.SHUFFLED]


class Killed(BaseException):
    """The worker dies: not an Exception, so the run records nothing."""


@pytest.fixture
def kill_after_page(monkeypatch):
    def arm(n: int | None) -> None:
        def hook(*, store, page):
            if n is not None and page == n:
                raise Killed(f"killed after page {page}")

        monkeypatch.setattr(orders_service, "_after_page_committed", hook)

    return arm


def _every_order_once(seller) -> None:
    amazon = set(SandboxOrder.objects.filter(seller=seller).values_list("order_id", flat=True))
    ours = collections.Counter(Order.objects.values_list("amazon_order_id", flat=True))
    assert set(ours) == amazon, f"missing {sorted(amazon - set(ours))[:5]}"
    assert max(ours.values()) == 1
    items = collections.Counter(
        SandboxOrderItem.objects.filter(order__seller=seller).values_list("order__order_id", "order_item_id")
    )
    assert (
        collections.Counter(OrderLine.objects.values_list("order__amazon_order_id", "order_item_id")) == items
    )


@pytest.mark.parametrize("page_order", PAGE_ORDERS)
def test_the_sandbox_serves_every_order_once_in_each_page_order(store, seller, sandbox_faults, page_order):
    # given
    sandbox_orders_create(seller=seller, count=250, seed=3, status="UNSHIPPED")
    sandbox_faults(page_order=page_order)
    client = amazon_client(store)
    query = order_search_params(store=store, watermark=None, now=timezone.now())

    # when
    pages, token = [], None
    while True:
        body = client.search_orders(**query, **({"paginationToken": token} if token else {}))
        pages.append([o["createdTime"] for o in body["orders"]])
        token = (body.get("pagination") or {}).get("nextToken")
        if not token:
            break

    # then
    assert [len(p) for p in pages] == [100, 100, 50]
    times = [t for page in pages for t in page]
    assert len(times) == 250
    if page_order == PageOrder.OLDEST_FIRST:
        assert times == sorted(times)
    elif page_order == PageOrder.NEWEST_FIRST:
        assert times == sorted(times, reverse=True)
    else:
        assert times not in (sorted(times), sorted(times, reverse=True))


@pytest.mark.parametrize("kill_after", [1, 2])
@pytest.mark.parametrize("page_order", PAGE_ORDERS)
def test_a_first_download_killed_mid_window_misses_and_doubles_nothing(
    store, seller, sandbox_faults, kill_after_page, page_order, kill_after
):
    # given: three pages, served in `page_order`; the worker dies after page `kill_after`
    sandbox_orders_create(seller=seller, count=250, seed=21, status="UNSHIPPED")
    sandbox_faults(page_order=page_order)
    kill_after_page(kill_after)

    # when
    with pytest.raises(Killed):
        orders_pull(store=store)
    state = StoreSyncState.objects.get(store=store)
    kill_after_page(None)
    rerun = orders_pull(store=store)
    again = orders_pull(store=store)

    # then: nothing was marked read past the slice half read ...
    assert state.order_watermark is None and state.initial_import_cursor is None
    assert state.slice_before is not None and state.slice_token
    # ... the rerun resumed it with Amazon's token (only the unread pages) ...
    assert rerun.ok and rerun.api_calls == 3 - kill_after
    assert rerun.counts["new"] == 250 - 100 * kill_after
    # ... and a run after that finds nothing new
    assert again.ok and again.counts["new"] == 0 and again.counts["updated"] == 0
    _every_order_once(seller)


@pytest.mark.parametrize("page_order", PAGE_ORDERS)
def test_an_incremental_download_killed_mid_window_misses_and_doubles_nothing(
    store, seller, sandbox_faults, kill_after_page, time_passes, page_order
):
    # given: a first download; then an hour of new orders and cancellations of old ones
    old = sandbox_orders_create(seller=seller, count=20, seed=4, status="UNSHIPPED")
    orders_pull(store=store)
    time_passes(60)
    now = timezone.now()
    sandbox_orders_create(
        seller=seller,
        count=230,
        seed=5,
        status="UNSHIPPED",
        created_after=now - dt.timedelta(minutes=50),
        created_before=now - dt.timedelta(minutes=10),
    )
    for order in old[:5]:
        sandbox_order_cancel(order=order)
    time_passes(5)
    watermark = StoreSyncState.objects.get(store=store).order_watermark
    sandbox_faults(page_order=page_order)
    kill_after_page(2)

    # when
    with pytest.raises(Killed):
        orders_pull(store=store)
    after_kill = StoreSyncState.objects.get(store=store).order_watermark
    kill_after_page(None)
    rerun = orders_pull(store=store)
    again = orders_pull(store=store)

    # then: the rerun read the unread page, and one call for the minutes since the dead run's window
    assert after_kill == watermark
    assert rerun.ok and rerun.api_calls == 2
    assert again.ok and again.counts["new"] == 0 and again.counts["updated"] == 0
    _every_order_once(seller)
    cancelled = Order.objects.filter(amazon_order_id__in=[o.order_id for o in old[:5]])
    assert set(cancelled.values_list("status", flat=True)) == {Order.Status.CANCELLED}
    assert StoreSyncState.objects.get(store=store).order_watermark > watermark


@pytest.mark.parametrize("page_order", PAGE_ORDERS)
def test_a_resume_token_amazon_no_longer_takes_reads_the_slice_again(
    store, seller, sandbox_faults, kill_after_page, page_order
):
    # given: killed after page 1, and Amazon refuses the token it left behind
    sandbox_orders_create(seller=seller, count=250, seed=8, status="UNSHIPPED")
    sandbox_faults(page_order=page_order)
    kill_after_page(1)
    with pytest.raises(Killed):
        orders_pull(store=store)
    StoreSyncState.objects.filter(store=store).update(slice_token="expired-token")
    kill_after_page(None)

    # when
    rerun = orders_pull(store=store)
    again = orders_pull(store=store)

    # then: the refused call, then the slice's three pages again; nothing counted twice
    assert rerun.ok, rerun.error
    assert rerun.api_calls == 4 and rerun.counts["pages"] == 3
    assert rerun.counts["new"] == 150
    assert again.ok and again.counts["new"] == 0
    _every_order_once(seller)


@pytest.mark.parametrize("page_order", PAGE_ORDERS)
def test_a_long_window_is_read_in_slices_and_a_crash_costs_one_slice(
    store, seller, sandbox_faults, kill_after_page, time_passes, monkeypatch, page_order
):
    # given: a store whose order rate is known, after a day without downloads:
    # 300 orders over 10 hours, slices of about 100 orders
    monkeypatch.setattr(orders_service, "SLICE_TARGET_ORDERS", 100)
    orders_pull(store=store)
    time_passes(60 * 11)
    now = timezone.now()
    sandbox_orders_create(
        seller=seller,
        count=300,
        seed=9,
        status="UNSHIPPED",
        created_after=now - dt.timedelta(hours=10, minutes=30),
        created_before=now - dt.timedelta(minutes=30),
    )
    StoreSyncState.objects.filter(store=store).update(orders_per_hour=30.0)
    watermark = StoreSyncState.objects.get(store=store).order_watermark
    sandbox_faults(page_order=page_order)

    def kill_mid_slice(*, store, page):
        # dies once a slice was read whole and the next one is half read
        state = StoreSyncState.objects.get(store=store)
        if state.order_watermark > watermark and state.slice_token:
            raise Killed("killed mid-slice")

    monkeypatch.setattr(orders_service, "_after_page_committed", kill_mid_slice)

    # when
    with pytest.raises(Killed):
        orders_pull(store=store)
    after_kill = StoreSyncState.objects.get(store=store)
    kill_after_page(None)
    rerun = orders_pull(store=store)
    again = orders_pull(store=store)

    # then: the watermark moved past the slices read whole, not into the one half read
    assert watermark < after_kill.order_watermark <= after_kill.slice_after
    assert after_kill.slice_token
    assert rerun.ok and again.ok and again.counts["new"] == 0
    assert rerun.counts["slices"] >= 1
    _every_order_once(seller)
