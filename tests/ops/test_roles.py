"""Roles: the groups' permissions, and that a merchant user cannot read or change
another merchant's rows through ANY admin URL (every registered model, every
standard view, plus the custom ones: record shipment, store buttons,
autocomplete, export, import)."""

from __future__ import annotations

import io

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.forms.models import model_to_dict
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse

from connections.models import AcceptedCarrier, Marketplace, Store
from fulfillment.ops.roles import MERCHANT_USER, WAREHOUSE_ADMIN, WAREHOUSE_STAFF, roles_sync
from fulfillment.orders.models import Order
from mappings.models import ImportJob, SkuMapping
from tests.factories import ROW_MAKERS, make_store, make_user
from tests.mappings.factories import make_sku_mapping
from tests.orders.factories import make_order
from tests.wms.factories import make_released_order

# Amazon's reference data: readable by everyone, owned by no merchant.
SHARED_REFERENCE = {Marketplace, AcceptedCarrier}
ADMIN_MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


def _perms(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def test_it_creates_the_three_groups_with_their_permissions(db):
    admin_perms, staff, merchant = _perms(WAREHOUSE_ADMIN), _perms(WAREHOUSE_STAFF), _perms(MERCHANT_USER)

    assert {"wms.add_wmsapikey", "auth.change_user", "sandbox.change_sandboxfaults"} <= admin_perms
    assert {"fulfillment.change_order", "confirmations.add_shipment", "mappings.add_skumapping"} <= staff
    assert {"jobs.view_syncrun", "mappings.view_importjob"} <= staff
    # No credentials for staff: keys, webhooks, sandbox, users, store authorization.
    for secret in (
        "wms.view_wmsapikey",
        "wms.view_warehousewebhook",
        "auth.view_user",
        "connections.change_store",
    ):
        assert secret not in staff
    assert not any(p.startswith("sandbox.") for p in staff | merchant)
    assert {"connections.change_store", "fulfillment.view_order", "mappings.change_skumapping"} <= merchant
    assert "fulfillment.view_warehouse" not in merchant
    assert "inventory.view_inventorylevel" not in merchant


def test_it_syncs_roles_idempotently(db):
    roles_sync()
    roles_sync()
    assert Group.objects.filter(name__in=[WAREHOUSE_ADMIN, WAREHOUSE_STAFF, MERCHANT_USER]).count() == 3


def test_it_lets_a_merchant_user_work_with_its_own_rows(merchant_client, merchant_a, store_a, store_b):
    # given
    make_store(name="A second store", merchant=merchant_a)
    mine, theirs = make_order(store=store_a), make_order(store=store_b)
    make_sku_mapping(store=store_a, amazon_sku="MINE-1")
    make_sku_mapping(store=store_b, amazon_sku="THEIRS-1")

    # when
    orders = merchant_client.get(reverse("admin:fulfillment_order_changelist"))
    skus = merchant_client.get(reverse("admin:mappings_skumapping_changelist"))
    own_page = merchant_client.get(reverse("admin:fulfillment_order_change", args=[mine.pk]))
    their_page = merchant_client.get(reverse("admin:fulfillment_order_change", args=[theirs.pk]))

    # then
    assert [o.pk for o in orders.context["cl"].result_list] == [mine.pk]
    assert [m.amazon_sku for m in skus.context["cl"].result_list] == ["MINE-1"]
    assert own_page.status_code == 200
    assert their_page.status_code == 302
    # The store filter in the sidebar lists only its own stores.
    store_filter = next(
        f for f in orders.context["cl"].filter_specs if getattr(f, "field_path", "") == "store"
    )
    assert [name for _, name in store_filter.lookup_choices] == ["A second store", "A store"]


def test_it_lists_only_own_stores_in_store_choices(merchant_client, store_a, store_b):
    mapping = make_sku_mapping(store=store_a)
    response = merchant_client.get(reverse("admin:mappings_skumapping_change", args=[mapping.pk]))
    choices = list(response.context["adminform"].form.fields["store"].queryset)
    assert choices == [store_a]


def test_it_keeps_a_store_with_its_merchant_and_warehouse(merchant_client, store_a):
    response = merchant_client.get(reverse("admin:connections_store_change", args=[store_a.pk]))
    assert response.status_code == 200
    form_fields = response.context["adminform"].form.fields
    assert "merchant" not in form_fields and "warehouse" not in form_fields


@pytest.fixture
def foreign_rows(merchant_user, store_a, merchant_b):
    """One or more rows of every admin model, none of them merchant A's."""
    for model in ADMIN_MODELS:
        if model in ROW_MAKERS:
            ROW_MAKERS[model](1)
    # Every store that is not A's becomes merchant B's.
    Store.objects.exclude(pk=store_a.pk).update(merchant=merchant_b)
    other = make_user(is_staff=True)
    ImportJob.objects.exclude(created_by=merchant_user).update(created_by=other)
    rows = {}
    for model in ADMIN_MODELS:
        if model in SHARED_REFERENCE:
            continue
        queryset = model._default_manager.all()
        if model is User:
            queryset = queryset.exclude(pk=merchant_user.pk)
        if model is Store:
            queryset = queryset.exclude(pk=store_a.pk)
        rows[model] = list(queryset.order_by("pk")[:2])
    return rows


def _url(model, view: str, *args) -> str | None:
    try:
        return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)
    except NoReverseMatch:
        return None


def _snapshot(obj) -> dict:
    return model_to_dict(type(obj)._default_manager.get(pk=obj.pk))


def test_it_never_shows_or_changes_another_merchants_rows_through_any_admin_url(
    merchant_client, foreign_rows
):
    checked = 0
    for model, objs in foreign_rows.items():
        changelist = merchant_client.get(_url(model, "changelist"))
        # The task queue's tables may be empty: then the page must at least be closed.
        assert objs or changelist.status_code == 403, f"no foreign row of {model._meta.label} to check"
        assert changelist.status_code in (200, 403), model
        if changelist.status_code == 200:
            visible = changelist.context["cl"].queryset
            assert not visible.filter(pk__in=[o.pk for o in objs]).exists(), model

        for obj in objs:
            before = _snapshot(obj)
            for view in ("change", "delete", "history"):
                url = _url(model, view, obj.pk)
                if url is None:
                    continue
                got = merchant_client.get(url)
                # 302: "does not exist" back to the index; 403: no permission at all.
                assert got.status_code in (302, 403, 404), (model, view, got.status_code)
                if got.status_code == 302:
                    assert got["Location"] in (reverse("admin:index"), "/admin/"), (model, view)
                posted = merchant_client.post(url, {"post": "yes"})
                assert posted.status_code in (302, 403, 404), (model, view, "POST", posted.status_code)
                checked += 1
            assert type(obj)._default_manager.filter(pk=obj.pk).exists(), (model, "deleted")
            assert _snapshot(obj) == before, (model, "changed")
    # Every model with rows was checked through all three views.
    assert checked >= 3 * sum(1 for objs in foreign_rows.values() if objs)


def test_it_scopes_autocomplete_for_every_foreign_key(merchant_client, foreign_rows, store_a):
    for source in ADMIN_MODELS:
        for field in source._meta.fields:
            target = field.related_model if field.is_relation else None
            if target is None or target not in admin.site._registry or target in SHARED_REFERENCE:
                continue
            response = merchant_client.get(
                reverse("admin:autocomplete"),
                {
                    "term": "",
                    "app_label": source._meta.app_label,
                    "model_name": source._meta.model_name,
                    "field_name": field.name,
                },
            )
            if response.status_code != 200:
                assert response.status_code in (403, 404), (source, field.name)
                continue
            ids = {int(r["id"]) for r in response.json()["results"]}
            foreign = {o.pk for o in foreign_rows.get(target, [])}
            assert not ids & foreign, (source, field.name)
            if target is Store:
                assert ids == {store_a.pk}


def test_it_scopes_the_export(merchant_user, merchant_client, store_a, store_b):
    make_sku_mapping(store=store_a, amazon_sku="MINE-1")
    make_sku_mapping(store=store_b, amazon_sku="THEIRS-1")
    model_admin = admin.site._registry[SkuMapping]
    request = RequestFactory().get("/")
    request.user = merchant_user

    exported = model_admin.get_export_queryset(request)

    assert [m.amazon_sku for m in exported] == ["MINE-1"]
    # The export page itself answers for the merchant user.
    assert merchant_client.get(reverse("admin:mappings_skumapping_export")).status_code == 200


def test_it_refuses_a_csv_naming_another_merchants_store(merchant_client, store_a, store_b):
    # given
    data = (
        "store,amazon_sku,asin,warehouse_sku,units,sync_inventory,buffer\n"
        f"{store_a.name},MINE-1,,WH-1,1,1,0\n"
        f"{store_b.name},THEIRS-1,,WH-2,1,1,0\n"
    )
    upload = io.BytesIO(data.encode())
    upload.name = "skus.csv"

    # when
    response = merchant_client.post(reverse("admin:mappings_skumapping_import_csv"), {"file": upload})

    # then
    assert response.status_code == 200
    assert "You may not import rows for: B store" in response.content.decode()
    assert not ImportJob.objects.exists()
    assert not SkuMapping.objects.exists()


def test_it_refuses_default_rows_for_every_store_from_a_merchant_user(merchant_client, store_a):
    upload = io.BytesIO(b"store,service_level,prime,carrier,ship_code\n,STANDARD,,UPS,GROUND\n")
    upload.name = "shipping.csv"
    response = merchant_client.post(
        reverse("admin:mappings_shippingmethodmapping_import_csv"), {"file": upload}
    )
    assert "every store" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_it_lets_a_merchant_user_import_its_own_rows(merchant_client, store_a):
    upload = io.BytesIO(
        f"store,amazon_sku,asin,warehouse_sku,units,sync_inventory,buffer\n{store_a.name},MINE-1,,WH-1,1,1,0\n".encode()
    )
    upload.name = "skus.csv"
    response = merchant_client.post(reverse("admin:mappings_skumapping_import_csv"), {"file": upload})
    job = ImportJob.objects.get()
    merchant_client.post(reverse("admin:mappings_skumapping_import_csv"), {"confirm": job.pk})
    assert response.status_code == 200
    assert list(SkuMapping.objects.values_list("amazon_sku", flat=True)) == ["MINE-1"]


def test_it_refuses_other_merchants_custom_admin_views(merchant_client, store_b):
    order = make_released_order(store=store_b)
    record = merchant_client.get(reverse("admin:confirmations_shipment_record", args=[order.pk]))
    assert record.status_code == 404
    for name in (
        "connections_store_send_link",
        "connections_store_finalize",
        "connections_store_test_connection",
    ):
        response = merchant_client.post(
            reverse(f"admin:{name}", args=[store_b.pk]), {"email": "x@example.com"}
        )
        assert response.status_code == 403, name
    # The shipments file names orders of the whole warehouse: closed to merchant users.
    assert merchant_client.get(reverse("admin:confirmations_shipment_import_csv")).status_code in (302, 403)
    assert Order.objects.get(pk=order.pk).shipments.count() == 0


def test_it_shows_a_merchant_user_only_its_stores_on_the_dashboard(merchant_client, store_a, store_b):
    response = merchant_client.get(reverse("admin:index"))
    assert [h.store for h in response.context["dashboard"].stores] == [store_a]
    assert "B store" not in response.content.decode()


def test_it_lets_warehouse_staff_see_every_store_but_not_credentials(staff_client, store_a, store_b):
    orders_a, orders_b = make_order(store=store_a), make_order(store=store_b)
    orders = staff_client.get(reverse("admin:fulfillment_order_changelist"))
    assert {o.pk for o in orders.context["cl"].result_list} == {orders_a.pk, orders_b.pk}
    assert staff_client.get(reverse("admin:wms_wmsapikey_changelist")).status_code == 403
    assert staff_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    assert staff_client.get(reverse("admin:connections_store_change", args=[store_a.pk])).status_code == 200
    assert (
        staff_client.post(reverse("admin:connections_store_finalize", args=[store_a.pk])).status_code == 403
    )
