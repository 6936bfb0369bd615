"""Access audit (issue 17): every view of a buyer's address or gift message writes one row."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from fulfillment.ops.roles import WAREHOUSE_ADMIN, WAREHOUSE_STAFF
from fulfillment.orders.models import Order, OrderLine
from fulfillment.privacy.models import BuyerDataAccess
from fulfillment.wms.services import wms_key_create
from tests.factories import make_user
from tests.orders.factories import make_sync_run
from tests.wms.factories import make_released_order

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client(REMOTE_ADDR="198.51.100.20")
    client.force_login(user)
    return client


@pytest.fixture
def gift_order(store) -> Order:
    order = make_released_order(store=store, is_gift=True, gift_message="Happy birthday")
    OrderLine.objects.filter(order=order).update(gift_message="With love")
    return order


@pytest.fixture
def wms(store):
    key, plain = wms_key_create(warehouse=store.warehouse, name="WMS prod")
    client = APIClient(REMOTE_ADDR="203.0.113.5")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return key, client


def test_the_admin_order_page_writes_exactly_one_row(admin_client, admin_user, gift_order):
    # when
    response = admin_client.get(reverse("admin:fulfillment_order_change", args=[gift_order.pk]))

    # then
    assert response.status_code == 200
    entry = BuyerDataAccess.objects.get()
    assert entry.user == admin_user and entry.actor == admin_user.username
    assert entry.order == gift_order and entry.amazon_order_id == gift_order.amazon_order_id
    assert entry.store_id == gift_order.store_id
    assert entry.fields == ["ship_to", "gift_message"]
    assert entry.via == BuyerDataAccess.Via.ADMIN_ORDER_PAGE
    assert entry.address == "127.0.0.1"
    assert entry.wms_key is None


def test_without_the_address_permission_only_the_gift_message_is_recorded(store, gift_order):
    # given: staff whose role lacks "Can see the buyer's ship-to address"
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name=WAREHOUSE_STAFF))
    Group.objects.get(name=WAREHOUSE_STAFF).permissions.remove(
        Permission.objects.get(codename="view_order_address")
    )

    # when
    response = _client(user).get(reverse("admin:fulfillment_order_change", args=[gift_order.pk]))

    # then
    assert response.status_code == 200
    assert b"ship-to address" not in response.content
    entry = BuyerDataAccess.objects.get()
    assert entry.fields == ["gift_message"]
    assert entry.address == "198.51.100.20"


def test_pages_without_buyer_data_write_no_row(admin_client, store, gift_order):
    # given: an order whose buyer data was purged, and pages that never show buyer data
    purged = make_released_order(store=store, status=Order.Status.SHIPPED, recipient="", gift_message="")
    run = make_sync_run(store=store)

    # when
    pages = [
        admin_client.get(reverse("admin:fulfillment_order_changelist")),
        admin_client.get(reverse("admin:fulfillment_order_change", args=[purged.pk])),
        admin_client.get(reverse("admin:jobs_syncrun_change", args=[run.pk])),
        admin_client.get(reverse("admin:index")),
    ]

    # then
    assert [p.status_code for p in pages] == [200, 200, 200, 200]
    assert not BuyerDataAccess.objects.exists()


def test_the_wms_api_order_detail_writes_exactly_one_row(wms, gift_order):
    key, api = wms

    # when
    response = api.get(f"/api/v1/orders/{gift_order.pk}")

    # then
    assert response.status_code == 200 and response.json()["ship_to"]
    entry = BuyerDataAccess.objects.get()
    assert entry.wms_key == key and entry.user is None
    assert entry.actor == str(key) and "WMS prod" in entry.actor
    assert entry.fields == ["ship_to", "gift_message"]
    assert entry.via == BuyerDataAccess.Via.API_ORDER
    assert entry.address == "203.0.113.5"


def test_the_wms_api_order_list_writes_one_row_per_order_sent(wms, store):
    # given
    orders = [make_released_order(store=store) for _ in range(3)]
    _, api = wms

    # when
    response = api.get("/api/v1/orders", {"status": "released"})

    # then
    assert len(response.json()["results"]) == 3
    assert sorted(BuyerDataAccess.objects.values_list("order_id", flat=True)) == sorted(o.pk for o in orders)
    assert set(BuyerDataAccess.objects.values_list("via", flat=True)) == {"api_orders"}
    assert all(fields == ["ship_to"] for fields in BuyerDataAccess.objects.values_list("fields", flat=True))


def test_wms_answers_without_buyer_data_write_no_row(wms, gift_order):
    _, api = wms

    responses = [
        api.get("/api/v1/cancellations"),
        api.get("/api/v1/orders/999999"),
        api.get("/api/v1/schema/"),
    ]

    assert [r.status_code for r in responses] == [200, 404, 200]
    assert not BuyerDataAccess.objects.exists()


def test_a_warehouse_admin_reads_the_audit_with_filters_and_cannot_change_it(admin_client, wms, gift_order):
    # given: one admin view, one API view
    admin_client.get(reverse("admin:fulfillment_order_change", args=[gift_order.pk]))
    wms[1].get(f"/api/v1/orders/{gift_order.pk}")
    warehouse_admin = make_user(is_staff=True)
    warehouse_admin.groups.add(Group.objects.get(name=WAREHOUSE_ADMIN))
    client = _client(warehouse_admin)
    url = reverse("admin:privacy_buyerdataaccess_changelist")

    # when
    everything = client.get(url)
    api_only = client.get(url, {"via__exact": "api_order"})
    entry = BuyerDataAccess.objects.first()

    # then
    assert everything.status_code == 200 and len(everything.context["cl"].result_list) == 2
    assert [e.via for e in api_only.context["cl"].result_list] == ["api_order"]
    assert client.get(reverse("admin:privacy_buyerdataaccess_change", args=[entry.pk])).status_code == 200
    assert client.get(reverse("admin:privacy_buyerdataaccess_delete", args=[entry.pk])).status_code == 403
    assert client.post(url, {"action": "delete_selected", "_selected_action": [entry.pk]}).status_code == 200
    assert BuyerDataAccess.objects.count() == 2


def test_warehouse_staff_cannot_read_the_audit(staff_client):
    assert staff_client.get(reverse("admin:privacy_buyerdataaccess_changelist")).status_code == 403
