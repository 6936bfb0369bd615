"""Deleting a store explains what happens to its orders instead of a permission riddle."""

from __future__ import annotations

from django.urls import reverse

from connections.models import Store
from tests.wms.factories import make_released_order


def test_a_store_with_orders_explains_why_it_stays_and_what_to_do(admin_client, store):
    make_released_order(store=store, amazon_order_id="111-0000000-0000001", lines=[("1", "A", 1, [("W", 1)])])
    url = reverse("admin:connections_store_delete", args=[store.pk])

    page = admin_client.get(url).content.decode()
    posted = admin_client.post(url, {"post": "yes"})

    assert 'id="store-has-orders"' in page and "deactivate" in page
    assert "doesn&#x27;t have permission" not in page and "have permission to delete" not in page
    assert posted.status_code == 200
    assert Store.objects.filter(pk=store.pk).exists()


def test_a_store_without_orders_is_deleted_with_its_own_records(admin_client, store):
    from fulfillment.inventory.selectors import store_inventory_settings_for

    store_inventory_settings_for(store=store)
    url = reverse("admin:connections_store_delete", args=[store.pk])

    page = admin_client.get(url).content.decode()
    response = admin_client.post(url, {"post": "yes"})

    assert "have permission to delete" not in page and "Are you sure" in page
    assert response.status_code == 302
    assert not Store.objects.filter(pk=store.pk).exists()
