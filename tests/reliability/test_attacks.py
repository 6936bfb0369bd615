"""Attacks: what each one tries, and that nothing is let in or written.

OAuth `state` tampering, replay, expiry and another browser are tested in
tests/connections/test_authorization.py; here is the cross-store case. WMS
keys of one warehouse against another's data, CSV formula cells on export,
broken encodings and oversized files on import. (Admin URLs of another
merchant depend on the roles of issue 10: tests/ops/.)
"""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from connections.merchant_links import store_send_authorization_link
from connections.models import Store
from fulfillment.inventory.models import InventoryLevel
from fulfillment.orders.models import Order
from fulfillment.shipments.models import Shipment
from fulfillment.wms.imports import inventory_csv_import, shipments_csv_import
from fulfillment.wms.services import wms_key_create
from mappings.imports import mapping_csv_import
from mappings.models import CarrierMapping, ImportJob, ShippingMethodMapping, SkuMapping
from mappings.resources import CarrierMappingResource, ShippingMethodMappingResource, SkuMappingResource
from sandbox.sellers import sandbox_seller_ensure
from tests.connections.test_authorization import _consent as _consent_page
from tests.connections.test_authorization import open_link
from tests.factories import make_store, make_warehouse
from tests.ops.conftest import merchant_a, merchant_client, merchant_user, store_a  # noqa: F401
from tests.wms.factories import make_released_order

pytestmark = pytest.mark.django_db

SKU_HEADER = b"store,amazon_sku,asin,warehouse_sku,units,sync_inventory,buffer\n"


# --- OAuth: a state issued for one store, completed in a session that moved on ---------


def _consent(client, consent_url: str, seller) -> str:
    form = {k: v[0] for k, v in parse_qs(urlsplit(consent_url).query).items()}
    form.update({"seller": str(seller.pk), "confirm": "1"})
    answer = client.post(urlsplit(consent_url).path, form)
    assert answer.status_code == 302
    return answer["Location"]


def test_a_state_of_one_store_cannot_complete_another_stores_consent(
    admin_client, warehouse, us_marketplace, sandbox_seller, tally
):
    # given: two unconnected stores; the admin starts A, then B in the same browser
    a, b = (
        make_store(
            name=name,
            warehouse=warehouse,
            marketplace=us_marketplace,
            selling_partner_id="",
            authorization_status=Store.Authorization.NOT_CONNECTED,
            refresh_token="",
        )
        for name in ("Store A", "Store B")
    )
    consent_a = admin_client.get(reverse("connections:store_authorize", args=[a.pk]))["Location"]
    consent_b_first = admin_client.get(reverse("connections:store_authorize", args=[b.pk]))["Location"]
    callback_a = _consent(admin_client, consent_a, sandbox_seller)

    # when: A's answer arrives in the session now waiting for B
    refused = admin_client.get(callback_a)
    # and a fresh answer for B is tampered to carry A's state
    consent_b = admin_client.get(reverse("connections:store_authorize", args=[b.pk]))["Location"]
    callback_b = _consent(admin_client, consent_b, sandbox_seller)
    answer_b = {k: v[0] for k, v in parse_qs(urlsplit(callback_b).query).items()}
    answer_b["state"] = parse_qs(urlsplit(callback_a).query)["state"][0]
    swapped = admin_client.get(urlsplit(callback_b).path, answer_b)

    # then: neither store changed
    assert refused.status_code == 400 and b"state mismatch" in refused.content
    assert swapped.status_code == 400
    for s in (a, b):
        s.refresh_from_db()
        assert (s.authorization_status, s.refresh_token) == (Store.Authorization.NOT_CONNECTED, "")
    # and B, started again, completes with its own state
    consent_b = admin_client.get(reverse("connections:store_authorize", args=[b.pk]))["Location"]
    assert admin_client.get(_consent(admin_client, consent_b, sandbox_seller)).status_code == 200
    b.refresh_from_db()
    assert b.authorization_status == Store.Authorization.CONNECTED
    assert consent_b_first != consent_b
    tally("OAuth state: cross-store (A's answer in B's session; swapped state)", 2)


# --- WMS: warehouse A's key against warehouse B ---------------------------------------------


@pytest.fixture
def two_warehouses(store):
    mine = make_released_order(store=store, lines=[("A1", "AMZ-A", 2, [("WH-A", 1)])])
    other_store = make_store(warehouse=make_warehouse(code="TX1"))
    theirs = make_released_order(store=other_store, lines=[("B1", "AMZ-B", 2, [("WH-B", 1)])])
    Order.objects.filter(pk=theirs.pk).update(wms_stop_requested_at=theirs.released_at)
    InventoryLevel.objects.create(
        warehouse=other_store.warehouse, sku="WH-B", available=9, updated_at=theirs.released_at
    )
    _, key = wms_key_create(warehouse=store.warehouse, name="A")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return api, mine, theirs


def test_a_wms_key_of_warehouse_a_cannot_touch_warehouse_b(two_warehouses, tally):
    api, mine, theirs = two_warehouses
    package = {
        "package_id": "P1",
        "carrier": "UPS",
        "tracking_number": "1Z999AA10123456784",
        "ship_date": "2026-01-05T15:00:00Z",
        "lines": [{"order_item_id": "B1", "quantity": 1}],
    }

    # when
    tries = {
        "list released": api.get("/api/v1/orders", {"status": "released"}),
        "detail": api.get(f"/api/v1/orders/{theirs.pk}"),
        "acknowledge": api.post(f"/api/v1/orders/{theirs.pk}/acknowledge"),
        "ship by id": api.post("/api/v1/shipments", {**package, "order": str(theirs.pk)}, format="json"),
        "ship by Amazon id": api.post(
            "/api/v1/shipments", {**package, "order": theirs.amazon_order_id}, format="json"
        ),
        "ship by warehouse sku": api.post(
            "/api/v1/shipments",
            {**package, "order": theirs.amazon_order_id, "lines": [{"warehouse_sku": "WH-B", "quantity": 1}]},
            format="json",
        ),
        "cancellations": api.get("/api/v1/cancellations"),
        "acknowledge cancellation": api.post(f"/api/v1/cancellations/{theirs.pk}/acknowledge"),
        "inventory complete": api.put(
            "/api/v1/inventory", {"items": [{"sku": "WH-A", "available": 1}], "complete": True}, format="json"
        ),
    }

    # then: B's order is invisible and untouched; the snapshot only covers A
    assert [o["id"] for o in tries["list released"].json()["results"]] == [mine.pk]
    assert tries["detail"].status_code == 404
    assert tries["acknowledge"].status_code == 404
    for name in ("ship by id", "ship by Amazon id", "ship by warehouse sku"):
        assert tries[name].status_code == 400, (name, tries[name].content)
    assert tries["cancellations"].json()["results"] == []
    assert tries["acknowledge cancellation"].status_code == 404
    assert tries["inventory complete"].status_code == 200
    theirs.refresh_from_db()
    assert theirs.status == Order.Status.RELEASED and theirs.cancellation_acknowledged_at is None
    assert not Shipment.objects.exists()
    assert InventoryLevel.objects.get(sku="WH-B").available == 9
    tally("WMS key of warehouse A against B (9 calls)", len(tries))


def test_a_csv_import_for_warehouse_a_cannot_ship_warehouse_bs_order(two_warehouses, store, tally):
    _, _, theirs = two_warehouses
    data = (
        "amazon_order_id,package_id,carrier,tracking_number,ship_date,order_item_id,quantity\n"
        f"{theirs.amazon_order_id},P1,UPS,1Z999AA10123456784,2026-01-05,B1,1\n"
    )

    report = shipments_csv_import(warehouse=store.warehouse, data=data, dry_run=False)

    assert not report.ok and "line 2" in str(report.errors[0])
    assert not Shipment.objects.exists()
    tally("WMS CSV of warehouse A naming B's order", 1)


# --- CSV: formula cells on export -------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_exports_neutralise_formula_cells(store, start, tally):
    # given: cells an attacker typed (or imported) to run in a spreadsheet
    payload = f'{start}HYPERLINK("http://evil.test";"x")'
    SkuMapping.objects.create(store=store, amazon_sku=payload, warehouse_sku=payload, units=1)
    ShippingMethodMapping.objects.create(
        store=store, service_level="STANDARD", prime=None, carrier=payload, ship_code=payload
    )
    CarrierMapping.objects.create(
        store=store, warehouse_carrier=payload, amazon_carrier_code="Other", amazon_carrier_name=payload
    )

    # when
    exported = [
        list(csv.reader(io.StringIO(resource().export().csv)))[1:]
        for resource in (SkuMappingResource, ShippingMethodMappingResource, CarrierMappingResource)
    ]

    # then: no cell of any export starts a formula
    cells = [cell for rows in exported for row in rows for cell in row]
    assert payload not in cells
    assert f"'{payload}" in cells
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@")]
    tally("CSV export with a formula cell", 1)


# --- CSV: broken encodings and oversized files, refused before anything is written --------


BROKEN = {
    "NUL byte": SKU_HEADER + b"Acme US,AMZ-\x00,,W-1,1,1,0\n",
    "byte neither UTF-8 nor cp1252": SKU_HEADER + b"Acme US,BAD\x81,,W-1,1,1,0\n",
    "UTF-16 file": SKU_HEADER.decode().encode("utf-16"),
}


@pytest.mark.parametrize("what", list(BROKEN))
def test_a_mapping_csv_with_a_broken_encoding_is_refused(store, what, tally):
    # when
    report = mapping_csv_import(kind=ImportJob.Kind.SKU, data=BROKEN[what] + b"Acme US,OK,,W-2,1,1,0\n")

    # then
    assert not report.ok
    assert report.errors[0].line == 1
    assert not SkuMapping.objects.exists()
    tally(f"mapping CSV: {what}", 1)


@pytest.mark.parametrize(
    "data",
    [b"sku,available\nW\x00X,3\nOK,1\n", b"sku,available\nW\x81X,3\nOK,1\n", "sku,available\nW\ufffdX,3\n"],
    ids=["NUL byte", "undecodable byte", "text already decoded with replacement characters"],
)
def test_a_wms_inventory_csv_with_a_broken_encoding_is_refused(store, data, tally):
    report = inventory_csv_import(warehouse=store.warehouse, data=data, complete=False, dry_run=False)

    assert not report.ok and report.errors[0].line == 1
    assert not InventoryLevel.objects.exists()
    tally("WMS inventory CSV: broken encoding", 1)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xef\xbb\xbf" + SKU_HEADER + b"Acme US,BOM-1,,W-1,1,1,0\n", "BOM-1"),
        (SKU_HEADER + b"Acme US,CAF\xc9,,W-1,1,1,0\n", "CAFÉ"),
    ],
    ids=["UTF-8 with a BOM", "Windows-1252 (Excel) text"],
)
def test_readable_encodings_are_read_right(store, data, expected):
    report = mapping_csv_import(kind=ImportJob.Kind.SKU, data=data)

    assert report.ok, report.errors
    assert list(SkuMapping.objects.values_list("amazon_sku", flat=True)) == [expected]


def test_oversized_csv_files_are_refused_before_parsing(store, settings, admin_client, tally, monkeypatch):
    # given: a 1 KB limit, and a parser that must never be reached
    settings.CSV_IMPORT_MAX_BYTES = 1024
    big = SKU_HEADER + b"".join(b"Acme US,A%d,,W%d,1,1,0\n" % (n, n) for n in range(100))
    assert len(big) > 1024
    import mappings.imports as mapping_imports

    def parser_reached(*args, **kwargs):
        raise AssertionError("parsed a file over the limit")

    monkeypatch.setattr(mapping_imports, "mapping_rows_import", parser_reached)

    # when
    mapping = mapping_csv_import(kind=ImportJob.Kind.SKU, data=big)
    inventory = inventory_csv_import(
        warehouse=store.warehouse, data=b"sku,available\n" + b"W,1\n" * 400, complete=False, dry_run=False
    )
    shipments = shipments_csv_import(warehouse=store.warehouse, data="x" * 2000, dry_run=True)
    upload = admin_client.post(
        reverse("admin:mappings_skumapping_import_csv"),
        {"file": SimpleUploadedFile("big.csv", big, content_type="text/csv")},
    )
    wms_upload = admin_client.post(
        reverse("admin:inventory_inventorylevel_import_csv"),
        {
            "warehouse": store.warehouse.pk,
            "file": SimpleUploadedFile("big.csv", b"sku,available\n" + b"W,1\n" * 400),
        },
    )

    # then: the services refuse it, and both admin forms refuse it from the
    # upload's size, before reading it or creating an import job
    for report in (mapping, inventory, shipments):
        assert not report.ok
        assert "at most 1,024 are accepted" in str(report.errors[0])
    for response in (upload, wms_upload):
        assert response.status_code == 200
        assert "at most 1,024 are accepted" in str(response.context["form"].errors["file"])
    assert not ImportJob.objects.exists()
    assert not SkuMapping.objects.exists() and not InventoryLevel.objects.exists()
    tally("oversized CSV (mappings, WMS inventory, WMS shipments, both admin uploads)", 5)


# --- The emailed merchant link (issue 16 item 4) --------------------------------------------


def _unconnected(warehouse, marketplace, *, merchant=None) -> Store:
    return make_store(
        name="Link target",
        warehouse=warehouse,
        marketplace=marketplace,
        merchant=merchant,
        selling_partner_id="",
        authorization_status=Store.Authorization.NOT_CONNECTED,
        refresh_token="",
    )


def _link_snapshot(store: Store) -> tuple:
    store.refresh_from_db()
    return (store.selling_partner_id, store.refresh_token, store.authorization_status)


def _attacker_seller():
    return sandbox_seller_ensure(selling_partner_id="A6MALLORY", name="Mallory", marketplace_codes=("US",))


def test_an_old_link_does_nothing_once_a_new_one_was_sent(warehouse, us_marketplace, sandbox_seller, tally):
    # given: a link sent to a wrong address, whose holder starts a consent; then the right link
    store = _unconnected(warehouse, us_marketplace)
    old = store_send_authorization_link(store=store, email="wrong@example.test")
    mallory = Client()
    started_before = open_link(mallory, old)
    new = store_send_authorization_link(store=store, email="owner@acme.test")
    before = _link_snapshot(store)

    # when: the old link is opened, pressed, and the consent started before completes
    opened, pressed = (
        mallory.get(old),
        mallory.post(urlsplit(old).path, {"token": parse_qs(urlsplit(old).query)["token"][0]}),
    )
    completed = mallory.get(_consent_page(mallory, started_before, _attacker_seller()))

    # then: nothing, with a clear 410 each time; the new link still works
    assert [r.status_code for r in (opened, pressed, completed)] == [410, 410, 410]
    assert b"replaced by a newer one" in completed.content
    assert _link_snapshot(store) == before
    merchant = Client()
    assert merchant.get(_consent_page(merchant, open_link(merchant, new), sandbox_seller)).status_code == 200
    assert _link_snapshot(store)[0] == "A1ACMESELLER"
    tally("merchant link: the old link after a new one (open, press, complete a started consent)", 3)


def test_a_link_works_once(warehouse, us_marketplace, sandbox_seller, tally):
    # given: two holders of the same link both start a consent; the merchant finishes first
    store = _unconnected(warehouse, us_marketplace)
    link = store_send_authorization_link(store=store, email="owner@acme.test")
    merchant, mallory = Client(), Client()
    mallory_started = open_link(mallory, link)
    assert merchant.get(_consent_page(merchant, open_link(merchant, link), sandbox_seller)).status_code == 200
    before = _link_snapshot(store)

    # when: the link is reused, and the other holder's consent comes back
    reopened = Client().get(link)
    late = mallory.get(_consent_page(mallory, mallory_started, _attacker_seller()))

    # then: the reused link is gone; the parallel consent was replaced when the merchant pressed
    # Continue (one consent in flight per link), and would meet a used link anyway
    assert reopened.status_code == 410
    assert late.status_code in (400, 410)
    assert b"already used" in reopened.content
    assert (
        _link_snapshot(store)
        == before
        == ("A1ACMESELLER", before[1], Store.Authorization.AUTHORIZED_BY_MERCHANT)
    )
    tally("merchant link: reuse after the merchant consented (open; a consent started in parallel)", 2)


def test_a_link_does_nothing_after_the_store_was_authorized_another_way(
    admin_client, warehouse, us_marketplace, sandbox_seller, tally
):
    # given: a link is out, then the warehouse authorizes the store itself (and later again)
    store = _unconnected(warehouse, us_marketplace)
    link = store_send_authorization_link(store=store, email="wrong@example.test")
    mallory = Client()
    started = open_link(mallory, link)
    consent = admin_client.get(reverse("connections:store_authorize", args=[store.pk]))["Location"]
    assert admin_client.get(_consent_page(admin_client, consent, sandbox_seller)).status_code == 200
    # the authorization is lost later: the store needs re-authorization
    Store.objects.filter(pk=store.pk).update(authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION)
    before = _link_snapshot(store)

    # when
    opened = Client().get(link)
    completed = mallory.get(_consent_page(mallory, started, _attacker_seller()))

    # then
    assert (opened.status_code, completed.status_code) == (410, 410)
    assert _link_snapshot(store) == before
    tally("merchant link: after the store was authorized directly, then lost authorization", 2)


def test_a_merchant_user_cannot_finalize_its_own_store(merchant_client, store_a, sandbox_app, tally):  # noqa: F811
    # given: its merchant authorized the store through a link; the warehouse has not finalized
    Store.objects.filter(pk=store_a.pk).update(
        authorization_status=Store.Authorization.AUTHORIZED_BY_MERCHANT
    )
    before = _link_snapshot(store_a)

    # when: its own user presses Finalize, runs the action, and looks at the store page
    button = merchant_client.post(reverse("admin:connections_store_finalize", args=[store_a.pk]))
    action = merchant_client.post(
        reverse("admin:connections_store_changelist"),
        {"action": "finalize_authorization", "_selected_action": [store_a.pk]},
    )
    page = merchant_client.get(reverse("admin:connections_store_change", args=[store_a.pk])).content.decode()

    # then: refused; the action and the button are not offered
    assert button.status_code == 403
    assert action.status_code in (200, 302)
    assert "finalize_authorization" not in page
    assert "Finalize</button>" not in page
    assert _link_snapshot(store_a) == before
    tally("merchant user: Finalize its own store (button, action)", 2)


# --- Inventory: a complete snapshot that zeroes a warehouse; a replayed CSV confirm -------


def _stock(warehouse, **levels) -> None:
    from django.utils import timezone

    InventoryLevel.objects.bulk_create(
        InventoryLevel(warehouse=warehouse, sku=sku, available=n, updated_at=timezone.now())
        for sku, n in levels.items()
    )


def test_an_empty_complete_snapshot_cannot_zero_a_warehouse(store, tally):
    # given: a small warehouse (fewer SKUs than any count-based guard would look at)
    _stock(store.warehouse, A=3, B=4)
    _, key = wms_key_create(warehouse=store.warehouse, name="WMS")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")

    # when: the empty snapshot, and one that lists a single unrelated SKU
    tries = [
        api.put("/api/v1/inventory", {"items": [], "complete": True}, format="json"),
        api.put(
            "/api/v1/inventory", {"items": [{"sku": "X", "available": 1}], "complete": True}, format="json"
        ),
    ]

    # then: both held for a person (202), nothing zeroed
    assert [t.status_code for t in tries] == [202, 202]
    assert dict(InventoryLevel.objects.values_list("sku", "available")) == {"A": 3, "B": 4}
    tally("complete inventory snapshot zeroing a warehouse (WMS API)", len(tries))


def test_a_replayed_inventory_csv_confirm_changes_nothing(store, admin_client, tally):
    # given: a confirmed import, then the WMS moves the stock on
    _stock(store.warehouse, A=3)
    url = reverse("admin:inventory_inventorylevel_import_csv")
    upload = SimpleUploadedFile("stock.csv", b"sku,available\nA,9\n", content_type="text/csv")
    payload = admin_client.post(url, {"warehouse": store.warehouse.pk, "file": upload}).context["payload"]
    assert admin_client.post(url, {"payload": payload}).status_code == 302
    InventoryLevel.objects.filter(sku="A").update(available=2)

    # when: the same signed payload is posted again (twice)
    replays = [admin_client.post(url, {"payload": payload}, follow=True) for _ in range(2)]

    # then: nothing written, and the page says so
    assert InventoryLevel.objects.get(sku="A").available == 2
    for replay in replays:
        assert any("already confirmed: nothing changed" in str(m) for m in replay.context["messages"])
    tally("replayed admin CSV import confirm (WMS inventory)", len(replays))
