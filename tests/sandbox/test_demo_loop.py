"""The demo's loop from the sandbox's side: orders placed now and changes made in
the sandbox's admin reach the product on the very next download; /sandbox/ says
what the sandbox holds; / goes to the admin."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from fulfillment.inventory.levels import inventory_update
from fulfillment.orders.models import Order
from fulfillment.orders.services.download import orders_pull
from mappings.models import ServiceLevel, ShippingMethodMapping
from sandbox.models import SandboxFaults, SandboxOrder
from sandbox.orders import SANDBOX_CATALOG, sandbox_orders_place
from sandbox.sellers import sandbox_seller_ensure

CHANGELIST = "admin:sandbox_sandboxorder_changelist"


@pytest.fixture
def every_level_by_ups(store):
    # The warehouse names every catalog SKU in its stock: unmapped SKUs ship as themselves.
    inventory_update(
        warehouse=store.warehouse, items=[(sku, 5) for sku, *_ in SANDBOX_CATALOG], complete=False
    )
    for level in ServiceLevel.values:
        ShippingMethodMapping.objects.create(
            store=store, service_level=level, prime=None, carrier="UPS", ship_code="GND"
        )


def _pull(store):
    run = orders_pull(store=store)
    assert run.ok, run.error
    return run


def _action(admin_client, action: str, orders) -> None:
    response = admin_client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [o.pk for o in orders]},
        follow=True,
    )
    assert response.status_code == 200


def test_create_n_orders_places_orders_now_that_the_next_pull_downloads(
    admin_client, store, sandbox_seller, every_level_by_ups, settings
):
    # given: the store's first download already ran (an empty one)
    _pull(store)
    page = admin_client.get(reverse("admin:sandbox_sandboxorder_create_orders"))
    assert page.status_code == 200 and b"How many orders" in page.content

    # when: 4 orders through the admin's "Create N orders"
    response = admin_client.post(
        reverse("admin:sandbox_sandboxorder_create_orders"),
        {"seller": sandbox_seller.pk, "marketplace": "US", "count": 4},
        follow=True,
    )
    first, again = _pull(store), _pull(store)

    # then: placed about now (the sandbox's lag, nothing older), all downloaded once
    assert b"4 orders placed" in response.content
    orders = SandboxOrder.objects.filter(seller=sandbox_seller)
    assert orders.count() == 4
    lag = dt.timedelta(seconds=settings.SANDBOX_NOW_LAG_SECONDS)
    for order in orders:
        assert order.status == "UNSHIPPED" and order.last_updated_time == order.created_time
        assert timezone.now() - lag - dt.timedelta(minutes=2) < order.created_time <= timezone.now() - lag
    assert (first.counts["new"], again.counts["new"]) == (4, 0)
    assert Order.objects.filter(store=store).count() == 4


def test_create_n_orders_refuses_a_bad_count_and_creates_nothing(admin_client, sandbox_seller):
    response = admin_client.post(
        reverse("admin:sandbox_sandboxorder_create_orders"),
        {"seller": sandbox_seller.pk, "marketplace": "US", "count": 0},
    )

    assert response.status_code == 200
    assert b"Ensure this value is greater than or equal to 1" in response.content
    assert not SandboxOrder.objects.exists()


@pytest.mark.parametrize(
    ("action", "amazon_status", "buyer_request"),
    [
        ("cancel_orders", "CANCELLED", False),
        ("request_buyer_cancellation", "UNSHIPPED", True),
        ("ship_outside", "SHIPPED", False),
    ],
)
def test_a_change_in_the_sandbox_admin_reaches_the_warehouse_on_the_next_pull(
    admin_client, store, sandbox_seller, every_level_by_ups, action, amazon_status, buyer_request
):
    # given: two orders placed now, downloaded and released to the warehouse
    changed, untouched = sandbox_orders_place(seller=sandbox_seller, count=2, seed=5)
    _pull(store)
    assert Order.objects.filter(store=store, status=Order.Status.RELEASED).count() == 2
    before = SandboxOrder.objects.get(pk=changed.pk).last_updated_time

    # when
    _action(admin_client, action, [changed])
    first, again = _pull(store), _pull(store)

    # then: Amazon's time moved, the next pull saw it once, the WMS is told to stop
    amazon = SandboxOrder.objects.get(pk=changed.pk)
    assert amazon.last_updated_time > before
    assert amazon.status == amazon_status
    assert (first.counts["updated"], again.counts["updated"]) == (1, 0)
    order = Order.objects.get(amazon_order_id=changed.order_id)
    assert order.amazon_status == amazon_status
    assert order.buyer_cancellation_requested is buyer_request
    assert list(Order.objects.wms_stop_pending()) == [order]
    assert Order.objects.get(amazon_order_id=untouched.order_id).wms_stop_requested_at is None


def test_an_action_leaves_closed_orders_alone_and_says_so(admin_client, sandbox_seller):
    (order,) = sandbox_orders_place(seller=sandbox_seller, count=1, seed=6)
    _action(admin_client, "cancel_orders", [order])
    stamped = SandboxOrder.objects.get(pk=order.pk).last_updated_time

    response = admin_client.post(
        reverse(CHANGELIST), {"action": "ship_outside", "_selected_action": [order.pk]}, follow=True
    )

    assert b"already shipped or cancelled, left alone" in response.content
    assert SandboxOrder.objects.get(pk=order.pk).status == "CANCELLED"
    assert SandboxOrder.objects.get(pk=order.pk).last_updated_time == stamped


def test_editing_an_order_in_the_sandbox_admin_moves_its_last_updated_time(admin_client, sandbox_seller):
    (order,) = sandbox_orders_place(seller=sandbox_seller, count=1, seed=7)
    SandboxOrder.objects.filter(pk=order.pk).update(last_updated_time=timezone.now() - dt.timedelta(days=1))
    url = reverse("admin:sandbox_sandboxorder_change", args=[order.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "service_level": "NEXT_DAY",
            "programs": "[]",
            "buyer": "{}",
            "delivery_address": '{"countryCode": "US"}',
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
            "packages-TOTAL_FORMS": "0",
            "packages-INITIAL_FORMS": "0",
        }
    )
    for key in ("ship_by_earliest", "ship_by_latest", "deliver_by_earliest", "deliver_by_latest"):
        data.pop(key, None)

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    order.refresh_from_db()
    assert order.service_level == "NEXT_DAY"
    assert timezone.now() - order.last_updated_time < dt.timedelta(minutes=10)


def test_sandbox_orders_command_places_orders_now_or_spread_over_days(db):
    out = StringIO()
    call_command("sandbox_orders", "--seller", "ANOW", "--count", "5", stdout=out)
    call_command("sandbox_orders", "--seller", "ADAYS", "--count", "5", "--days", "3", stdout=out)

    now = SandboxOrder.objects.filter(seller__selling_partner_id="ANOW")
    spread = SandboxOrder.objects.filter(seller__selling_partner_id="ADAYS")
    assert all(timezone.now() - o.created_time < dt.timedelta(minutes=5) for o in now)
    assert set(now.values_list("status", flat=True)) == {"UNSHIPPED"}
    assert min(o.created_time for o in spread) < timezone.now() - dt.timedelta(hours=1)


def test_the_sandbox_page_shows_sellers_orders_and_faults_in_fixed_queries(
    client, sandbox_seller, django_assert_num_queries
):
    # given: two sellers, orders in several statuses, a fault switched on
    other = sandbox_seller_ensure(selling_partner_id="A2OTHER", name="Other", marketplace_codes=("US", "CA"))
    placed = sandbox_orders_place(seller=sandbox_seller, count=3, seed=1)
    sandbox_orders_place(seller=other, count=2, seed=2, marketplace_code="CA")
    SandboxOrder.objects.filter(pk=placed[0].pk).update(status="CANCELLED")
    SandboxFaults.objects.update_or_create(pk=1, defaults={"throttle_storm": True})

    # when: sellers, counts, marketplaces (prefetch), faults
    with django_assert_num_queries(4):
        response = client.get("/sandbox/")

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert "local emulator of Amazon" in body
    assert 'id="sandbox-seller-A1ACMESELLER"' in body and "A2OTHER" in body
    assert "CA, US" in body
    assert reverse("admin:sandbox_sandboxorder_create_orders") in body
    assert reverse("admin:sandbox_sandboxfaults_change", args=[1]) in body
    seller_row = body.split('id="sandbox-seller-A1ACMESELLER"')[1].split("</tr>")[0]
    assert [cell.split("<")[0] for cell in seller_row.split('class="n">')[1:]][1:] == ["2", "0", "0", "1"]
    assert '<td class="n on">on</td>' in body


def test_the_site_root_goes_to_the_admin(client):
    response = client.get("/")

    assert response.status_code == 302 and response["Location"] == reverse("admin:index")
