"""A complete inventory snapshot that would zero too much of a warehouse waits for a
person, whatever the count (WMS API 202, CSV import); a person applies or discards
it on a confirmation page; the inventory push's zero-stock guard holds at any
catalog size."""

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from connections.models import MerchantMembership
from fulfillment.inventory.levels import inventory_update
from fulfillment.inventory.models import HeldInventorySnapshot, InventoryChange, InventoryLevel, InventoryPush
from fulfillment.inventory.services import inventory_push_run
from fulfillment.ops.roles import MERCHANT_USER
from fulfillment.wms.services import wms_key_create
from tests.factories import make_user
from tests.ops.factories import make_merchant


@pytest.fixture
def api(store) -> APIClient:
    _, plain = wms_key_create(warehouse=store.warehouse, name="WMS prod")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {plain}")
    return client


@pytest.fixture
def stocked(store):
    """The warehouse has three SKUs in stock and one at 0."""
    now = timezone.now()
    InventoryLevel.objects.bulk_create(
        InventoryLevel(warehouse=store.warehouse, sku=sku, available=n, updated_at=now)
        for sku, n in (("A", 5), ("B", 6), ("C", 7), ("Z", 0))
    )


def levels() -> dict[str, int]:
    return dict(InventoryLevel.objects.values_list("sku", "available"))


def put(api, items, complete=True):
    return api.put("/api/v1/inventory", {"items": items, "complete": complete}, format="json")


BEFORE = {"A": 5, "B": 6, "C": 7, "Z": 0}


@pytest.mark.usefixtures("stocked")
def test_an_empty_complete_snapshot_is_held_and_answered_202(api):
    # when: twice, as a retrying WMS would
    first = put(api, [])
    second = put(api, [])

    # then: nothing written, one snapshot held (the newer replaced the older), the answer says why
    assert first.status_code == second.status_code == 202
    body = second.json()
    assert body["held"] is True and (body["stocked"], body["zeroing"]) == (3, 3)
    assert "every one of the warehouse's 3 SKUs in stock" in body["detail"] and "no SKU" in body["detail"]
    assert levels() == BEFORE and not InventoryChange.objects.exists()
    held = HeldInventorySnapshot.objects.get(state=HeldInventorySnapshot.State.HELD)
    assert held.pk == body["snapshot_id"] and held.sent_by == "API key WMS prod"
    assert HeldInventorySnapshot.objects.get(pk=first.json()["snapshot_id"]).state == "discarded"


@pytest.mark.usefixtures("stocked")
def test_a_snapshot_zeroing_more_than_the_share_is_held_and_less_goes_through(api, settings):
    assert settings.INVENTORY_SNAPSHOT_ZERO_GUARD_PERCENT == 50

    held = put(api, [{"sku": "A", "available": 5}])  # B and C to 0: 2 of 3
    applied = put(api, [{"sku": "A", "available": 5}, {"sku": "B", "available": 1}])  # C only: 1 of 3
    applied_again = put(api, [{"sku": "A", "available": 5}, {"sku": "B", "available": 1}])

    assert held.status_code == 202 and "2 of the warehouse's 3 SKUs in stock" in held.json()["detail"]
    assert applied.status_code == 200 and applied.json() == {"changed": 1, "unchanged": 1, "zeroed": 1}
    assert applied_again.json() == {"changed": 0, "unchanged": 2, "zeroed": 0}
    assert levels() == {"A": 5, "B": 1, "C": 0, "Z": 0}
    # the applied complete snapshot made the held one stale
    assert not HeldInventorySnapshot.objects.filter(state="held").exists()


def test_a_one_sku_warehouse_is_not_zeroed_without_a_person(api, store):
    inventory_update(warehouse=store.warehouse, items=[("ONLY", 3)], complete=False)

    answer = put(api, [{"sku": "ONLY", "available": 0}])

    assert answer.status_code == 202 and levels() == {"ONLY": 3}


@pytest.mark.usefixtures("stocked")
def test_updates_that_are_not_complete_snapshots_are_not_held(api):
    answer = put(api, [{"sku": s, "available": 0} for s in "ABC"], complete=False)

    assert answer.status_code == 200 and levels() == {"A": 0, "B": 0, "C": 0, "Z": 0}


@pytest.mark.usefixtures("stocked")
def test_a_person_applies_a_held_snapshot_on_a_confirmation_page_once(api, admin_client, admin_user):
    # given
    snapshot_id = put(api, [{"sku": "A", "available": 2}]).json()["snapshot_id"]
    put(api, [{"sku": "C", "available": 9}], complete=False)  # a change after the snapshot
    page = reverse("admin:inventory_heldinventorysnapshot_change", args=[snapshot_id])
    apply = reverse("admin:inventory_heldinventorysnapshot_apply", args=[snapshot_id])

    # when
    shown = admin_client.get(page)
    confirm = admin_client.get(apply)
    applied = admin_client.post(apply)
    again = admin_client.post(apply, follow=True)

    # then: the page offers Apply and Discard; the confirmation says what happens; applied once
    assert apply.encode() in shown.content and b"discard/" in shown.content
    assert b"<strong>2</strong> SKUs now in stock to 0" in confirm.content
    assert b"1 quantity change after this snapshot" in confirm.content
    assert b"<code>B</code>" in confirm.content and b"<code>C</code>" in confirm.content
    assert levels() == {"A": 2, "B": 0, "C": 0, "Z": 0}
    assert applied.status_code == 302
    snapshot = HeldInventorySnapshot.objects.get(pk=snapshot_id)
    assert (snapshot.state, snapshot.decided_by) == ("applied", admin_user)
    assert any("already applied" in str(m) for m in again.context["messages"])
    assert InventoryChange.objects.filter(changed_at__gte=snapshot.created_at).count() == 4


@pytest.mark.usefixtures("stocked")
def test_a_person_discards_a_held_snapshot(api, admin_client):
    snapshot_id = put(api, []).json()["snapshot_id"]
    discard = reverse("admin:inventory_heldinventorysnapshot_discard", args=[snapshot_id])

    assert b"Discarding keeps" in admin_client.get(discard).content
    admin_client.post(discard)
    admin_client.post(reverse("admin:inventory_heldinventorysnapshot_apply", args=[snapshot_id]))

    assert HeldInventorySnapshot.objects.get(pk=snapshot_id).state == "discarded"
    assert levels() == BEFORE


@pytest.mark.usefixtures("stocked")
def test_a_merchant_user_cannot_see_or_decide_held_snapshots(api, store):
    snapshot_id = put(api, []).json()["snapshot_id"]
    user = make_user(is_staff=True)
    user.groups.add(Group.objects.get(name=MERCHANT_USER))
    MerchantMembership.objects.create(user=user, merchant=make_merchant(name="M"))
    client = Client()
    client.force_login(user)

    listing = client.get(reverse("admin:inventory_heldinventorysnapshot_changelist"))
    decide = client.post(reverse("admin:inventory_heldinventorysnapshot_apply", args=[snapshot_id]))

    assert listing.status_code == 403 and decide.status_code == 403
    assert levels() == BEFORE


@pytest.mark.usefixtures("stocked")
def test_the_csv_import_holds_an_empty_complete_snapshot_and_says_so(admin_client, store):
    url = reverse("admin:inventory_inventorylevel_import_csv")
    upload = SimpleUploadedFile("stock.csv", b"sku,available\n", content_type="text/csv")

    preview = admin_client.post(url, {"warehouse": store.warehouse.pk, "file": upload, "complete": "on"})
    confirmed = admin_client.post(url, {"payload": preview.context["payload"]}, follow=True)

    assert b'id="import-held"' in preview.content and b"every one of the warehouse" in preview.content
    held = HeldInventorySnapshot.objects.get(state="held")
    assert (held.source, held.sent_by, held.item_count) == ("csv", "admin", 0)
    assert any("Not imported" in str(m) for m in confirmed.context["messages"])
    assert levels() == BEFORE


# --- the inventory push's zero-stock guard, by share at any catalog size --------------------


@pytest.mark.usefixtures("feeds_only")
@pytest.mark.parametrize(
    ("catalog", "zeroed", "held"),
    [(1, 1, True), (2, 1, False), (2, 2, True), (3, 1, False), (3, 2, True), (5, 5, True)],
)
def test_the_push_guard_holds_by_share_whatever_the_catalog_size(store, sku, stock, catalog, zeroed, held):
    # given: every SKU on Amazon with stock
    names = [f"S{n}" for n in range(catalog)]
    for name in names:
        sku(name, available=4)
    assert inventory_push_run(store=store).counts["accepted"] == catalog

    # when
    for name in names[:zeroed]:
        stock(name, 0)
    run = inventory_push_run(store=store)

    # then
    assert InventoryPush.objects.filter(state=InventoryPush.State.AWAITING_CONFIRMATION).exists() is held
    assert run.counts["sent"] == (0 if held else zeroed)


# --- by count, and sharp cuts count with zeros ----------------------------------------------


def _guard_settings(store, **changes):
    from fulfillment.inventory.selectors import store_inventory_settings_for

    limits = store_inventory_settings_for(store=store)
    for name, value in changes.items():
        setattr(limits, name, value)
    limits.save()


@pytest.mark.usefixtures("feeds_only")
@pytest.mark.parametrize(("count_limit", "held"), [(3, True), (4, False), (0, False)])
def test_the_push_guard_holds_by_count_in_a_large_catalog(store, sku, stock, count_limit, held):
    # given: 40 SKUs on Amazon; 3 going to 0 is 7.5%, far below the 50% share
    _guard_settings(store, zero_guard_count=count_limit)
    names = [f"S{n:02d}" for n in range(40)]
    for name in names:
        sku(name, available=4)
    inventory_push_run(store=store)

    # when
    for name in names[:3]:
        stock(name, 0)
    run = inventory_push_run(store=store)

    # then
    assert InventoryPush.objects.filter(state=InventoryPush.State.AWAITING_CONFIRMATION).exists() is held
    assert run.counts["sent"] == (0 if held else 3)


@pytest.mark.usefixtures("feeds_only")
def test_sharp_cuts_count_with_zeros_and_the_push_lists_them_old_to_new(store, sku, stock):
    # given: four SKUs with 100 on Amazon
    _guard_settings(store, drop_guard_percent=90)
    for name in ("A", "B", "C", "D"):
        sku(name, available=100)
    inventory_push_run(store=store)

    # when: one goes to 0, two fall to 5 (95% cut), one to 50 (a normal day)
    stock("A", 0)
    stock("B", 5)
    stock("C", 5)
    stock("D", 50)
    run = inventory_push_run(store=store)

    # then: 3 of 4 counted (75% > 50%): held, with the SKUs old -> new
    push = InventoryPush.objects.get(state=InventoryPush.State.AWAITING_CONFIRMATION)
    assert (push.zeroing, push.dropping, push.zeroing_share) == (1, 2, 0.75)
    assert push.guarded_skus == [["A", 100, 0], ["B", 100, 5], ["C", 100, 5]]
    assert run.counts["sent"] == 0 and "cut 2 sharply" in run.notes


@pytest.mark.usefixtures("feeds_only")
def test_cuts_within_the_sharp_cut_share_are_not_held(store, sku, stock):
    _guard_settings(store, drop_guard_percent=90)
    for name in ("A", "B", "C", "D"):
        sku(name, available=100)
    inventory_push_run(store=store)
    for name in ("A", "B", "C", "D"):
        stock(name, 10)  # exactly 90%: not more

    run = inventory_push_run(store=store)

    assert run.counts["sent"] == 4
    assert not InventoryPush.objects.filter(state=InventoryPush.State.AWAITING_CONFIRMATION).exists()


@pytest.mark.usefixtures("feeds_only")
def test_a_push_amazon_refused_entirely_is_failed_with_its_skus(store, sku):
    # given: neither SKU is listed on Amazon
    sku("GHOST1", available=2, listed=False)
    sku("GHOST2", available=3, listed=False)

    # when
    inventory_push_run(store=store)

    # then
    push = InventoryPush.objects.get()
    assert (push.state, push.accepted, push.rejected) == (InventoryPush.State.FAILED, 0, 2)
    assert [s for s, _ in push.rejected_skus] == ["GHOST1", "GHOST2"]
