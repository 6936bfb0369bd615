"""The admin's CSV import (preview, then confirm), the background job, the
`manage.py import` command and the export, all on the same import path."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from mappings.models import ImportJob, SkuMapping
from mappings.resources import SkuMappingResource
from mappings.services import import_job_confirm, import_job_create
from mappings.tasks import import_job_run_task
from tests.mappings.factories import make_sku_mapping

pytestmark = pytest.mark.django_db

HEADER = "store,amazon_sku,asin,warehouse_sku,units,sync_inventory,buffer\n"
IMPORT_URL = reverse("admin:mappings_skumapping_import_csv")


def _upload(content: str, name="skus.csv"):
    return SimpleUploadedFile(name, content.encode(), content_type="text/csv")


def test_it_previews_then_imports_on_confirm(admin_client, store):
    # given
    data = HEADER + "Acme US,A,,W-A,1,1,0\nAcme US,B,,W-B,2,0,0\n"

    # when: upload
    preview = admin_client.post(IMPORT_URL, {"file": _upload(data)})

    # then: a preview, nothing written yet
    assert preview.status_code == 200
    assert "<strong>2</strong> new" in preview.content.decode()
    assert not SkuMapping.objects.exists()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.PREVIEWED

    # when: confirm
    done = admin_client.post(IMPORT_URL, {"confirm": job.pk})

    # then
    assert done.status_code == 302
    assert SkuMapping.objects.count() == 2
    job.refresh_from_db()
    assert (job.status, job.rows_new, job.rows_done) == (ImportJob.Status.DONE, 2, 2)


def test_it_lists_every_bad_row_in_the_preview_and_offers_no_confirm(admin_client, store):
    data = HEADER + "Ghost,A,,W,1,1,0\nAcme US,B,,W,2.7,1,0\n"

    response = admin_client.post(IMPORT_URL, {"file": _upload(data)})

    page = response.content.decode()
    assert "<td>2</td><td>unknown store &#x27;Ghost&#x27;</td>" in page
    assert "<td>3</td><td>units must be a whole number, not &#x27;2.7&#x27;</td>" in page
    assert "Confirm import" not in page
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.FAILED
    # a failed job cannot be confirmed
    admin_client.post(IMPORT_URL, {"confirm": job.pk})
    assert not SkuMapping.objects.exists()


def test_it_runs_a_big_import_in_the_background(
    admin_client, store, settings, django_capture_on_commit_callbacks, monkeypatch
):
    # given
    settings.MAPPINGS_IMPORT_BACKGROUND_ROWS = 3
    queued = []
    monkeypatch.setattr("mappings.services.async_task", lambda *args: queued.append(args))
    data = HEADER + "".join(f"Acme US,S{i},,W{i},1,1,0\n" for i in range(5))
    admin_client.post(IMPORT_URL, {"file": _upload(data)})
    job = ImportJob.objects.get()

    # when: confirmed, the task is queued once the job row commits
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(IMPORT_URL, {"confirm": job.pk})

    # then
    assert response.status_code == 302
    assert response.url == reverse("admin:mappings_importjob_change", args=[job.pk])
    assert queued == [("mappings.tasks.import_job_run_task", job.pk)]
    assert not SkuMapping.objects.exists()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.QUEUED

    # when: the worker runs it, twice (at-least-once delivery)
    first = import_job_run_task(job.pk)
    second = import_job_run_task(job.pk)

    # then
    assert first == "5 new, 0 changed, 0 unchanged"
    assert second == "already taken by another worker"
    job.refresh_from_db()
    assert (job.status, job.rows_done, job.rows_total, job.progress_percent) == (
        ImportJob.Status.DONE,
        5,
        5,
        100,
    )
    assert SkuMapping.objects.count() == 5
    page = admin_client.get(reverse("admin:mappings_importjob_change", args=[job.pk])).content.decode()
    assert "5 of 5 rows checked" in page


def test_a_job_whose_file_went_bad_meanwhile_writes_nothing(store):
    # given: previewed fine, then the store is renamed before the worker runs
    job = import_job_create(kind=ImportJob.Kind.SKU, upload=_upload(HEADER + "Acme US,A,,W,1,1,0\n"))
    store.name = "Renamed"
    store.save(update_fields=["name"])

    # when
    job = import_job_confirm(job=job)

    # then
    assert job.status == ImportJob.Status.FAILED
    assert job.errors == [{"line": 2, "message": "unknown store 'Acme US'"}]
    assert not SkuMapping.objects.exists()


def test_the_resource_imports_through_the_same_path(store):
    # given
    import tablib

    dataset = tablib.Dataset().load(HEADER + "Acme US,A,,W,2,1,0\nGhost,B,,W,1,1,0\n", format="csv")

    # when
    result = SkuMappingResource().import_data(dataset)

    # then
    assert result.has_errors()
    assert [str(e.error) for e in result.base_errors] == ["line 3: unknown store 'Ghost'"]
    assert not SkuMapping.objects.exists()


def test_the_import_command_imports_a_file(store, tmp_path, capsys):
    path = tmp_path / "skus.csv"
    path.write_text(HEADER + "Acme US,A,,W,2,1,0\n")

    call_command("import", "mappings.resources.SkuMappingResource", str(path), "--no-input")
    call_command("import", "mappings.resources.SkuMappingResource", str(path), "--no-input")

    err = capsys.readouterr().err
    assert "Import finished: 1 new, 0 updated, 0 deleted and 0 skipped" in err
    assert "Import finished: 0 new, 0 updated, 0 deleted and 1 skipped" in err
    assert SkuMapping.objects.get().units == 2


def test_the_import_command_exits_non_zero_naming_the_bad_lines(store, tmp_path, capsys):
    path = tmp_path / "skus.csv"
    path.write_text(HEADER + "Acme US,A,,W,-1,1,0\n")

    with pytest.raises(SystemExit) as exit_info:
        call_command("import", "mappings.resources.SkuMappingResource", str(path), "--no-input")

    assert exit_info.value.code == 1
    assert "line 2: units must be 1 or more, not -1" in capsys.readouterr().err


def test_it_exports_the_import_columns_with_formulas_neutralised(admin_client, store):
    # given
    make_sku_mapping(
        store=store, amazon_sku="=HYPERLINK(1)", warehouse_sku="-W", asin="", sync_inventory=True
    )

    # when
    dataset = SkuMappingResource().export()
    rows = list(csv.reader(io.StringIO(dataset.csv)))

    # then
    assert rows == [
        ["store", "amazon_sku", "asin", "warehouse_sku", "units", "sync_inventory", "buffer"],
        ["Acme US", "'=HYPERLINK(1)", "", "'-W", "1", "1", "0"],
    ]


def test_an_export_imports_back_unchanged(store):
    make_sku_mapping(store=store, amazon_sku="A", warehouse_sku="W", units=3, buffer=2, sync_inventory=True)
    from mappings.imports import mapping_csv_import

    report = mapping_csv_import(kind=ImportJob.Kind.SKU, data=SkuMappingResource().export().csv)

    assert (report.errors, report.unchanged) == ([], 1)


def test_the_changelists_offer_import_and_export(admin_client):
    page = admin_client.get(reverse("admin:mappings_skumapping_changelist")).content.decode()
    assert IMPORT_URL in page
    assert reverse("admin:mappings_skumapping_export") in page
    assert admin_client.get(IMPORT_URL).status_code == 200


def test_the_preview_lists_rows_added_changed_old_to_new_and_unchanged_with_kits_as_one_sku(
    admin_client, store
):
    # given: MUG exists; KIT is a kit whose second component changes its units
    make_sku_mapping(store=store, amazon_sku="MUG", asin="", warehouse_sku="W-MUG", units=1)
    make_sku_mapping(store=store, amazon_sku="KIT", asin="", warehouse_sku="W-BOX", units=1)
    make_sku_mapping(store=store, amazon_sku="KIT", asin="", warehouse_sku="W-LID", units=1)
    data = HEADER + (
        "Acme US,MUG,,W-MUG,1,0,0\n"  # unchanged
        "Acme US,KIT,,W-BOX,1,0,0\n"  # unchanged component
        "Acme US,KIT,,W-LID,2,0,0\n"  # changed: units 1 -> 2
        "Acme US,KIT,,W-CUP,1,0,0\n"  # added component
        "Acme US,TEE,,W-TEE,1,1,3\n"  # added
    )

    # when
    page = admin_client.post(IMPORT_URL, {"file": _upload(data)}).content.decode()

    # then: each row, what it does, and the change old -> new
    assert 'id="import-preview-rows"' in page
    assert not SkuMapping.objects.filter(warehouse_sku="W-CUP").exists()  # nothing written yet
    rows = ImportJob.objects.get().preview
    by_item = {row["item"].split(" ")[0]: row for row in rows}
    assert by_item["W-MUG"]["status"] == "unchanged"
    assert by_item["W-LID"]["status"] == "changed" and by_item["W-LID"]["changes"] == [["units", "1", "2"]]
    assert by_item["W-CUP"]["status"] == "new" and by_item["W-TEE"]["status"] == "new"
    # the kit is one Amazon SKU with its three components
    kit = [row for row in rows if row["group"] == "Acme US: Amazon SKU KIT"]
    assert [row["item"].split(" ")[0] for row in kit] == ["W-BOX", "W-CUP", "W-LID"]
    assert "Acme US: Amazon SKU KIT — kit of 3 components" in page
    assert "units: 1 → <strong>2</strong>" in page
    assert "W-TEE × 1 (inventory synced, buffer 3)" in page


def test_the_preview_of_shipping_methods_shows_the_default_and_the_change(admin_client, store):
    from mappings.models import ShippingMethodMapping

    ShippingMethodMapping.objects.create(
        marketplace=store.marketplace, service_level="STANDARD", prime=None, carrier="UPS", ship_code="GND"
    )
    code = store.marketplace.code
    data = f"store,marketplace,service_level,prime,carrier,ship_code\n,{code},Standard,,FedEx,GROUND\n"

    page = admin_client.post(
        reverse("admin:mappings_shippingmethodmapping_import_csv"), {"file": _upload(data)}
    ).content.decode()

    assert f"{code} marketplace (default): STANDARD, Prime or not → FedEx GROUND" in page
    assert "carrier: UPS → <strong>FedEx</strong>" in page
