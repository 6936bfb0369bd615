"""Attack (issue 16.1): a merchant user writing mappings for another merchant's
store or for "every store" (the defaults), through the CSV import, the admin's
Add/Change forms and the services behind them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mappings.imports import mapping_csv_import
from mappings.models import CarrierMapping, ImportJob, ShippingMethodMapping, SkuMapping
from mappings.services import import_job_run
from tests.mappings.factories import make_import_job, make_shipping_method_mapping
from tests.ops.conftest import (  # noqa: F401
    merchant_a,
    merchant_b,
    merchant_client,
    merchant_user,
    staff_client,
    staff_user,
    store_a,
    store_b,
)

pytestmark = pytest.mark.django_db


def _upload(content: str, name="file.csv"):
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type="text/csv")


def _import(client, model: str, content: str):
    return client.post(reverse(f"admin:mappings_{model}_import_csv"), {"file": _upload(content)})


# Each file names the user's own store where a second reader would look, and
# another merchant's store (or none: every store) where the importer reads.
ATTACK_FILES = {
    # Two "store" columns: a DictReader keeps the first, the importer the last.
    "duplicate store column, other merchant": (
        "skumapping",
        "store,amazon_sku,asin,warehouse_sku,units,sync_inventory,buffer,Store\n"
        "A store,THEIRS-1,,WH-9,1,1,0,B store\n",
    ),
    "duplicate store column, every store": (
        "shippingmethodmapping",
        "store,service_level,prime,carrier,ship_code,STORE\nA store,STANDARD,,EVIL,GROUND,\n",
    ),
    # A byte-order mark before a header the importer lowercases and strips.
    "BOM and spaced header": (
        "carriermapping",
        "\ufeffstore,warehouse_carrier,amazon_carrier_code, Store \nA store,EVIL,UPS,\n",
    ),
}


@pytest.mark.parametrize("attack", ATTACK_FILES)
def test_a_crafted_mapping_file_writes_nothing_outside_the_merchants_stores(
    attack,
    merchant_client,  # noqa: F811
    store_a,  # noqa: F811
    store_b,  # noqa: F811
):
    model, content = ATTACK_FILES[attack]

    # when: uploaded, and confirmed if a preview was offered
    response = _import(merchant_client, model, content)
    for job in ImportJob.objects.filter(status=ImportJob.Status.PREVIEWED):
        merchant_client.post(reverse(f"admin:mappings_{model}_import_csv"), {"confirm": job.pk})

    # then: nothing written, and the page says why
    assert not SkuMapping.objects.exists()
    assert not ShippingMethodMapping.objects.exists()
    assert not CarrierMapping.objects.exists()
    assert response.status_code == 200
    page = response.content.decode()
    assert "given twice" in page or "may not import rows" in page


@pytest.mark.parametrize(
    ("row", "refused"),
    [
        ("B store,STANDARD,,UPS,GROUND", "B store"),
        (",STANDARD,,UPS,GROUND", "(empty: every store)"),
        ("No such store,STANDARD,,UPS,GROUND", "No such store"),
    ],
)
def test_the_import_itself_refuses_rows_outside_the_users_stores(row, refused, store_a, store_b):  # noqa: F811
    # when: the one parse the importer writes from, with a merchant's stores
    report = mapping_csv_import(
        kind=ImportJob.Kind.SHIPPING_METHOD,
        data=f"store,service_level,prime,carrier,ship_code\nA store,NEXTDAY,,UPS,AIR\n{row}\n",
        store_ids={store_a.pk},
    )

    # then
    assert report.refused_stores == {refused}
    assert [e.line for e in report.errors] == [3]
    assert not report.written and not ShippingMethodMapping.objects.exists()


def test_a_job_created_by_a_merchant_user_is_checked_again_when_it_runs(
    merchant_user,  # noqa: F811
    store_a,  # noqa: F811
    store_b,  # noqa: F811
):
    # given: a previewed job whose file names another merchant's store (the
    # file swapped in storage, or the store moved to another merchant since)
    job = make_import_job(created_by=merchant_user, status=ImportJob.Status.PREVIEWED)
    job.file.save(
        "swapped.csv",
        _upload("store,amazon_sku,warehouse_sku\nB store,THEIRS-1,WH-9\n"),
        save=True,
    )

    # when
    report = import_job_run(job_id=job.pk)

    # then
    assert report.refused_stores == {"B store"}
    assert not SkuMapping.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED


@pytest.mark.parametrize(
    ("model", "form"),
    [
        ("shippingmethodmapping", {"service_level": "STANDARD", "carrier": "EVIL", "ship_code": "X"}),
        ("carriermapping", {"warehouse_carrier": "EVIL", "amazon_carrier_code": "UPS"}),
    ],
)
def test_the_add_form_refuses_an_empty_store_from_a_merchant_user(model, form, merchant_client, store_a):  # noqa: F811
    # when: Add with the store left empty ("every store")
    response = merchant_client.post(reverse(f"admin:mappings_{model}_add"), {**form, "store": ""})

    # then: the form says why, nothing is written
    assert response.status_code == 200
    assert "a default for every store applies to every merchant" in response.content.decode()
    assert not ShippingMethodMapping.objects.exists()
    assert not CarrierMapping.objects.exists()

    # and: with its own store it works
    done = merchant_client.post(reverse(f"admin:mappings_{model}_add"), {**form, "store": store_a.pk})
    assert done.status_code == 302


def test_the_change_form_cannot_turn_a_merchants_row_into_a_default(merchant_client, store_a):  # noqa: F811
    mapping = make_shipping_method_mapping(store=store_a, ship_code="MINE")

    response = merchant_client.post(
        reverse("admin:mappings_shippingmethodmapping_change", args=[mapping.pk]),
        {"service_level": "STANDARD", "carrier": "UPS", "ship_code": "MINE", "store": ""},
    )

    assert response.status_code == 200
    mapping.refresh_from_db()
    assert mapping.store_id == store_a.pk


def test_the_save_service_refuses_whatever_form_calls_it(merchant_user, store_a, store_b):  # noqa: F811
    from mappings.services import mapping_save

    for store in (None, store_b):
        with pytest.raises(ValidationError) as refused:
            mapping_save(
                user=merchant_user,
                mapping=ShippingMethodMapping(
                    store=store, service_level="STANDARD", carrier="X", ship_code="Y"
                ),
            )
        assert "store" in refused.value.message_dict
    # Moving another merchant's row into its own store is writing that row too.
    theirs = make_shipping_method_mapping(store=store_b, ship_code="THEIRS")
    theirs.store = store_a
    with pytest.raises(ValidationError):
        mapping_save(user=merchant_user, mapping=theirs)
    assert ShippingMethodMapping.objects.get(pk=theirs.pk).store_id == store_b.pk


def test_warehouse_staff_still_set_the_defaults(staff_client, store_a):  # noqa: F811
    added = staff_client.post(
        reverse("admin:mappings_shippingmethodmapping_add"),
        {
            "service_level": "STANDARD",
            "carrier": "UPS",
            "ship_code": "GROUND",
            "store": "",
            "marketplace": store_a.marketplace_id,
        },
    )
    imported = _import(
        staff_client, "carriermapping", "store,warehouse_carrier,amazon_carrier_code\n,ups,UPS\n"
    )

    assert added.status_code == 302
    default = ShippingMethodMapping.objects.get()
    assert (default.store, default.marketplace) == (None, store_a.marketplace)
    assert ImportJob.objects.get().status == ImportJob.Status.PREVIEWED
    assert imported.status_code == 200
