"""Admin: keys shown once, revoke, record a shipment on the order, CSV imports with preview."""

from __future__ import annotations

import re
import zoneinfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from fulfillment.inventory.models import InventoryChange, InventoryLevel
from fulfillment.orders.models import OrderLine
from fulfillment.shipments.models import Shipment
from fulfillment.wms.imports import inventory_csv_import, shipments_csv_import
from fulfillment.wms.models import WebhookDelivery, WmsApiKey
from fulfillment.wms.services import wms_key_hash

from .factories import make_delivery

pytestmark = pytest.mark.django_db

# A ship date Amazon takes: after the orders' purchase (a day ago), not in the future.
TODAY = timezone.localdate(timezone=zoneinfo.ZoneInfo("America/Chicago")).isoformat()


def test_creating_a_key_shows_it_once(admin_client, warehouse):
    # when
    response = admin_client.post(
        reverse("admin:wms_wmsapikey_add"), {"warehouse": warehouse.pk, "name": "WMS prod"}, follow=True
    )

    # then
    text = response.content.decode()
    plain = re.search(r"wms_[0-9a-f]{8}_[A-Za-z0-9_-]{40,}", text).group(0)
    key = WmsApiKey.objects.get()
    assert key.key_hash == wms_key_hash(plain) and key.name == "WMS prod"
    page = admin_client.get(reverse("admin:wms_wmsapikey_change", args=[key.pk])).content.decode()
    assert plain not in page and key.key_hash not in page


def test_the_revoke_action_revokes(admin_client, warehouse):
    admin_client.post(reverse("admin:wms_wmsapikey_add"), {"warehouse": warehouse.pk, "name": "k"})
    key = WmsApiKey.objects.get()
    admin_client.post(
        reverse("admin:wms_wmsapikey_changelist"), {"action": "revoke", "_selected_action": [key.pk]}
    )
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_it_records_a_shipment_from_the_order_page(admin_client, order):
    # given
    url = reverse("admin:confirmations_shipment_record", args=[order.pk])
    lines = {line.order_item_id: line for line in order.lines.all()}
    assert admin_client.get(url).status_code == 200
    form = {
        "package_id": "BOX-1",
        "carrier": "UPS",
        "service": "Ground",
        "tracking_number": "1Z0000001",
        "ship_date": TODAY,
        f"qty_{lines['A1'].pk}": 1,
        f"qty_{lines['K1'].pk}": 0,
    }

    # when
    response = admin_client.post(url, form)
    again = admin_client.post(url, form)

    # then
    assert response.status_code == 302 and again.status_code == 302
    shipment = Shipment.objects.get()
    assert shipment.source == Shipment.Source.ADMIN and shipment.package_reference == 1
    assert OrderLine.objects.get(pk=lines["A1"].pk).quantity_shipped == 1


def test_the_record_form_refuses_more_than_left(admin_client, order):
    line = order.lines.get(order_item_id="K1")
    response = admin_client.post(
        reverse("admin:confirmations_shipment_record", args=[order.pk]),
        {
            "package_id": "B",
            "carrier": "UPS",
            "tracking_number": "1Z0000000",
            "ship_date": TODAY,
            f"qty_{line.pk}": 3,
            f"qty_{order.lines.get(order_item_id='A1').pk}": 0,
        },
    )
    assert response.status_code == 200 and not Shipment.objects.exists()


SHIPMENTS_CSV = f"""amazon_order_id,package_id,carrier,service,tracking_number,ship_date,warehouse_sku,order_item_id,quantity
{{oid}},P1,UPS,Ground,1Z0000001,{TODAY},,A1,1
{{oid}},P2,UPS,Ground,1Z0000002,{TODAY},KIT-X,,2
{{oid}},P2,UPS,Ground,1Z0000002,{TODAY},KIT-Y,,4
"""


def test_a_shipments_csv_records_one_package_per_order_and_package_id(warehouse, order):
    # when
    preview = shipments_csv_import(
        warehouse=warehouse, data=SHIPMENTS_CSV.format(oid=order.amazon_order_id), dry_run=True
    )
    assert preview.ok and not Shipment.objects.exists()
    report = shipments_csv_import(
        warehouse=warehouse, data=SHIPMENTS_CSV.format(oid=order.amazon_order_id), dry_run=False
    )
    again = shipments_csv_import(
        warehouse=warehouse, data=SHIPMENTS_CSV.format(oid=order.amazon_order_id), dry_run=False
    )

    # then
    assert report.counts == {"packages recorded": 2, "packages already recorded": 0}
    assert again.counts == {"packages recorded": 0, "packages already recorded": 2}
    assert sorted(Shipment.objects.values_list("package_id", "package_reference", "source")) == [
        ("P1", 1, "csv"),
        ("P2", 2, "csv"),
    ]
    order.refresh_from_db()
    assert order.status == "shipped"


def test_a_bad_shipments_csv_lists_every_bad_line_and_writes_nothing(warehouse, order):
    # given: line 2 fine, line 3 a partial kit, line 4 an unknown order
    data = (
        "amazon_order_id,package_id,carrier,tracking_number,ship_date,warehouse_sku,order_item_id,quantity\n"
        f"{order.amazon_order_id},P1,UPS,1Z0000001,{TODAY},,A1,1\n"
        f"{order.amazon_order_id},P2,UPS,1Z0000002,{TODAY},KIT-Y,,1\n"
        f"999-9999999-9999999,P3,UPS,1Z0000003,{TODAY},,A1,1\n"
    )

    # when
    report = shipments_csv_import(warehouse=warehouse, data=data, dry_run=False)
    bad_qty = shipments_csv_import(
        warehouse=warehouse,
        data=data.replace(f"1Z0000001,{TODAY},,A1,1", f"1Z0000001,{TODAY},,A1,x"),
        dry_run=False,
    )

    # then
    assert [e.line for e in report.errors] == [3, 4]
    assert "whole Amazon units" in report.errors[0].message and "unknown order" in report.errors[1].message
    assert [e.line for e in bad_qty.errors] == [2]
    assert not Shipment.objects.exists()
    assert not OrderLine.objects.filter(quantity_shipped__gt=0).exists()


def test_an_inventory_csv_with_a_complete_snapshot(warehouse):
    # given
    inventory_csv_import(warehouse=warehouse, data="sku,available\nA,1\nB,2\n", complete=False, dry_run=False)

    # when
    preview = inventory_csv_import(
        warehouse=warehouse, data="sku,available\nA,3\n", complete=True, dry_run=True
    )
    report = inventory_csv_import(
        warehouse=warehouse, data="sku,available\nA,3\n", complete=True, dry_run=False
    )

    # then
    assert preview.counts == report.counts == {"changed": 1, "unchanged": 0, "zeroed": 1}
    assert dict(InventoryLevel.objects.values_list("sku", "available")) == {"A": 3, "B": 0}
    assert InventoryChange.objects.count() == 4


def test_a_bad_inventory_csv_lists_every_bad_line(warehouse):
    report = inventory_csv_import(
        warehouse=warehouse, data="sku,available\nA,1\nB,2.7\nA,3\nC,-1\n", complete=False, dry_run=False
    )
    assert [e.line for e in report.errors] == [3, 4, 5]
    assert not InventoryLevel.objects.exists()


def test_it_refuses_a_file_with_the_wrong_columns(warehouse):
    report = inventory_csv_import(warehouse=warehouse, data="sku,qty\nA,1\n", complete=False, dry_run=False)
    assert report.errors[0].line == 1 and "missing column(s) available" in report.errors[0].message


def test_the_admin_import_previews_then_confirms(admin_client, warehouse):
    # given
    url = reverse("admin:inventory_inventorylevel_import_csv")
    upload = SimpleUploadedFile("stock.csv", b"sku,available\nA,4\nB,1\n", content_type="text/csv")

    # when
    preview = admin_client.post(url, {"warehouse": warehouse.pk, "file": upload})
    payload = preview.context["payload"]
    assert not InventoryLevel.objects.exists()
    confirmed = admin_client.post(url, {"payload": payload})

    # then
    assert b"Confirm import" in preview.content
    assert confirmed.status_code == 302
    assert dict(InventoryLevel.objects.values_list("sku", "available")) == {"A": 4, "B": 1}


def test_the_admin_import_shows_errors_with_lines(admin_client, warehouse, order):
    upload = SimpleUploadedFile(
        "ship.csv",
        f"amazon_order_id,package_id,carrier,tracking_number,ship_date,order_item_id,quantity\n{order.amazon_order_id},P,UPS,1Z0000000,{TODAY},A1,5\n".encode(),
    )
    response = admin_client.post(
        reverse("admin:confirmations_shipment_import_csv"), {"warehouse": warehouse.pk, "file": upload}
    )
    assert response.status_code == 200 and response.context["payload"] is None
    assert [e.line for e in response.context["report"].errors] == [2]


def test_the_retry_action_requeues_failed_deliveries(admin_client):
    delivery = make_delivery(status=WebhookDelivery.Status.FAILED, attempts=8, last_error="HTTP 500")
    admin_client.post(
        reverse("admin:wms_webhookdelivery_changelist"),
        {"action": "retry", "_selected_action": [delivery.pk]},
    )
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("pending", 0, "")
