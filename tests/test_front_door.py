"""What a newcomer meets first: the README is complete in itself, every import's
example file is downloadable from its page and imports cleanly through it, and
a command run outside the demo says how to run it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from connections.models import Marketplace, Store
from fulfillment.inventory.models import InventoryLevel
from fulfillment.orders.models import Warehouse
from fulfillment.shipments.models import Shipment
from fulfillment.wms.imports import INVENTORY_COLUMNS, SHIPMENT_COLUMNS
from mappings.import_tables import mapping_columns
from mappings.models import CarrierMapping, ImportJob, ShippingMethodMapping, SkuMapping
from tests.wms.factories import make_released_order

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
EXAMPLES = ROOT / "docs" / "examples"

MAPPING_IMPORTS = [
    ("skumapping", "sku-mappings.csv", ImportJob.Kind.SKU, SkuMapping),
    ("shippingmethodmapping", "shipping-method-mappings.csv", ImportJob.Kind.SHIPPING_METHOD,
     ShippingMethodMapping),
    ("carriermapping", "carrier-mappings.csv", ImportJob.Kind.CARRIER, CarrierMapping),
]  # fmt: skip
WMS_IMPORTS = [
    ("shipment", "shipments.csv", SHIPMENT_COLUMNS),
    ("inventorylevel", "inventory.csv", INVENTORY_COLUMNS),
]


def _header(file_name: str) -> tuple[str, ...]:
    with (EXAMPLES / file_name).open(newline="") as f:
        return tuple(next(csv.reader(f)))


def test_the_readme_stands_alone():
    assert "DESIGN.md" not in README
    # no path outside the repository: whoever clones it has only what is inside
    assert not re.search(r"\.\./\w", README)
    for command in ("make demo", "make test", "make manage", "make shell"):
        assert command in README


@pytest.mark.parametrize(
    ("file_name", "columns"),
    [(f, mapping_columns(kind=k)) for _, f, k, _ in MAPPING_IMPORTS] + [(f, c) for _, f, c in WMS_IMPORTS],
)
def test_each_example_file_has_every_column_and_the_readme_documents_it(file_name, columns):
    assert _header(file_name) == tuple(columns)
    assert f"docs/examples/{file_name}" in README
    for column in columns:
        assert f"`{column}`" in README, f"{column} of {file_name} is not explained in the README"


@pytest.fixture
def acme_us(db) -> Store:
    warehouse = Warehouse.objects.create(code="NJ1", name="New Jersey DC", time_zone="America/New_York")
    return Store.objects.create(
        name="Acme US", marketplace=Marketplace.objects.get(code="US"), warehouse=warehouse
    )


def _download(admin_client, import_page: str, model_name: str, file_name: str) -> bytes:
    page = admin_client.get(import_page)
    link = reverse("csv-example", args=[model_name])
    assert page.status_code == 200 and f'href="{link}"' in page.content.decode()
    response = admin_client.get(link)
    assert response.status_code == 200
    assert f'filename="{file_name}"' in response["Content-Disposition"]
    content = b"".join(response.streaming_content)
    assert content == (EXAMPLES / file_name).read_bytes()
    return content


@pytest.mark.parametrize(("model_name", "file_name", "kind", "model"), MAPPING_IMPORTS)
def test_each_mapping_example_downloads_from_its_page_and_imports_cleanly(
    admin_client, acme_us, model_name, file_name, kind, model
):
    page = reverse(f"admin:mappings_{model_name}_import_csv")
    content = _download(admin_client, page, model_name, file_name)
    rows = len(content.decode().strip().splitlines()) - 1

    preview = admin_client.post(page, {"file": io.BytesIO(content)})
    assert b'id="import-preview"' in preview.content, preview.content.decode()[-2000:]
    job = ImportJob.objects.get(kind=kind)
    done = admin_client.post(page, {"confirm": job.pk}, follow=True)

    assert f"Imported {rows} rows: {rows} new".encode() in done.content
    assert model.objects.count() == rows


def test_the_shipments_example_downloads_and_imports_cleanly(admin_client, acme_us):
    # given: the order the example ships (two Amazon items, and a kit of a bottle)
    make_released_order(
        store=acme_us,
        amazon_order_id="113-0000001-0000001",
        purchased_at=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
        lines=[
            ("10000000000001", "ACME-MUG-11OZ", 1, [("MUG-11", 1)]),
            ("10000000000002", "ACME-SOCKS-3PK", 2, [("SOCKS-1PR", 3)]),
            ("10000000000003", "ACME-BOTTLE-750", 1, [("BOTTLE-750", 1)]),
        ],
    )
    page = reverse("admin:confirmations_shipment_import_csv")
    content = _download(admin_client, page, "shipment", "shipments.csv")

    preview = admin_client.post(page, {"warehouse": acme_us.warehouse_id, "file": io.BytesIO(content)})
    payload = preview.context["payload"]
    assert payload, preview.context["report"].errors
    admin_client.post(page, {"payload": payload})

    assert sorted(Shipment.objects.values_list("package_id", flat=True)) == ["PKG-1001", "PKG-1002"]


def test_the_inventory_example_downloads_and_imports_cleanly(admin_client, acme_us):
    page = reverse("admin:inventory_inventorylevel_import_csv")
    content = _download(admin_client, page, "inventorylevel", "inventory.csv")

    preview = admin_client.post(page, {"warehouse": acme_us.warehouse_id, "file": io.BytesIO(content)})
    payload = preview.context["payload"]
    assert payload, preview.context["report"].errors
    admin_client.post(page, {"payload": payload})

    assert dict(InventoryLevel.objects.values_list("sku", "available")) == {
        "MUG-11": 120,
        "BOTTLE-750": 45,
        "SOCKS-1PR": 0,
    }


def test_an_unknown_example_is_a_404_and_examples_are_for_staff(admin_client, client):
    assert admin_client.get(reverse("csv-example", args=["nothing"])).status_code == 404
    assert client.get(reverse("csv-example", args=["skumapping"])).status_code == 302


def test_a_command_outside_the_demo_says_how_to_run_it():
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}
    env.update(DJANGO_SETTINGS_MODULE="fulfillment.settings", DJANGO_READ_DOT_ENV="0")

    result = subprocess.run(
        [sys.executable, "manage.py", "sandbox_orders", "--seller", "A1", "--count", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 1
    assert "SECRET_KEY is not set" in result.stderr
    assert 'make manage ARGS="<command> …"' in result.stderr and ".env.example" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_shell_runs_with_the_demo_settings(tmp_path):
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'shell.sqlite3'}"

    result = subprocess.run(
        ["make", "--no-print-directory", "shell"],
        cwd=ROOT,
        env=env,
        input="from django.conf import settings; print('demo settings:', settings.DEBUG, settings.SP_API_ENDPOINT)\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "demo settings: True http://127.0.0.1:8000/sandbox" in result.stdout


def test_make_demo_says_so_and_starts_nothing_when_its_setup_fails(tmp_path):
    # given: a database the demo cannot open
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'missing-folder' / 'demo.sqlite3'}"
    env.update(DEBUG="1", SANDBOX_ENABLED="1", DJANGO_READ_DOT_ENV="0")

    # when
    result = subprocess.run(
        [sys.executable, "bin/demo", "--port", "9"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    # then
    assert result.returncode != 0
    assert "manage.py migrate failed" in result.stdout and "the demo did not start" in result.stdout
    assert "Starting the web server" not in result.stdout
