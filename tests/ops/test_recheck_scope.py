"""A merchant user's mapping import says how many of ITS held orders are being
re-checked: never a count of another merchant's orders."""

import io

from django.contrib.auth.models import Permission
from django.urls import reverse

from fulfillment.orders.models import Order
from mappings.models import ImportJob
from tests.orders.factories import make_order


def test_a_merchant_users_import_counts_only_its_own_held_orders(
    merchant_client, store_a, store_b, django_capture_on_commit_callbacks
):
    make_order(store=store_a)
    for _ in range(3):
        make_order(store=store_b)
    url = reverse("admin:mappings_skumapping_import_csv")
    upload = io.BytesIO(f"store,amazon_sku,warehouse_sku\n{store_a.name},NEW-1,WH-1\n".encode())
    upload.name = "skus.csv"
    merchant_client.post(url, {"file": upload})

    with django_capture_on_commit_callbacks(execute=True):
        response = merchant_client.post(url, {"confirm": ImportJob.objects.get().pk}, follow=True)

    text = response.content.decode()
    assert "Re-checking 1 held order(s)" in text


def test_a_merchant_user_cannot_recheck_another_merchants_order(
    merchant_client, merchant_user, store_a, store_b
):
    theirs, mine = make_order(store=store_b), make_order(store=store_a)
    merchant_user.user_permissions.add(Permission.objects.get(codename="change_order"))

    refused = merchant_client.post(reverse("admin:fulfillment_order_recheck", args=[theirs.pk]))
    allowed = merchant_client.post(reverse("admin:fulfillment_order_recheck", args=[mine.pk]))

    assert refused.status_code == 404
    assert allowed.status_code == 302
    assert Order.objects.get(pk=theirs.pk).hold_reasons == ["SKU ABC-1 not mapped"]
