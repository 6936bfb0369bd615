"""The shipments and stock CSV imports ask for the warehouse only when there are several,
and keep the choice after an error."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from fulfillment.orders.models import Warehouse

URL = reverse("admin:confirmations_shipment_import_csv")


def _bad_file():
    return SimpleUploadedFile("ship.csv", b"amazon_order_id,package_id\nX,P\n", content_type="text/csv")


def test_one_warehouse_is_not_asked_for(admin_client, warehouse):
    page = admin_client.get(URL).content.decode()

    assert f'<input type="hidden" name="warehouse" value="{warehouse.pk}"' in page
    assert "<select" not in page.split('name="warehouse"')[0][-200:]


def test_several_warehouses_are_asked_for_and_the_choice_survives_an_error(admin_client, warehouse):
    other = Warehouse.objects.create(code="CA1", name="California DC", time_zone="America/Los_Angeles")

    page = admin_client.get(URL).content.decode()
    response = admin_client.post(URL, {"warehouse": other.pk, "file": _bad_file()})

    assert '<select name="warehouse"' in page
    assert response.status_code == 200 and response.context["report"].errors
    assert f'<option value="{other.pk}" selected>' in response.content.decode()


def test_one_warehouse_imports_with_the_hidden_choice(admin_client, warehouse):
    url = reverse("admin:inventory_inventorylevel_import_csv")
    page = admin_client.get(url).content.decode()
    assert '<input type="hidden" name="warehouse"' in page
    upload = SimpleUploadedFile("stock.csv", b"sku,available\nA,4\n", content_type="text/csv")

    preview = admin_client.post(url, {"warehouse": warehouse.pk, "file": upload})

    assert preview.context["payload"]
