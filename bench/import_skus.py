"""Import 100,000 SKU mapping rows through the admin's import path, on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/import_skus.py

Creates (or recreates) its own database `bench_import` on that server, migrates
it, generates a CSV for a few stores and imports it with
`mappings.imports.mapping_csv_import` (what the admin, `manage.py import` and
the background job run), counting queries with `connection.execute_wrapper`.
Then times django-import-export's default `Resource.import_data` on a sample
of the same rows. The last line is:

    rows=… seconds=… rows_per_s=… queries_per_row=… default_rows_per_s=…
"""

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DB = "bench_import"
ROWS = int(os.environ.get("BENCH_ROWS", "100000"))
DEFAULT_SAMPLE = int(os.environ.get("BENCH_DEFAULT_SAMPLE", "5000"))
STORES = 4


def _bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            "DATABASE_URL must point at a PostgreSQL server, e.g. postgres://postgres@127.0.0.1:5432/postgres"
        )
    import psycopg

    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}"')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    return urlunsplit(parts._replace(path=f"/{BENCH_DB}"))


def _setup_django(database_url: str) -> None:
    from cryptography.fernet import Fernet

    # Production settings (DEBUG off, so Django does not log every query).
    os.environ.update(
        DATABASE_URL=database_url,
        DJANGO_READ_DOT_ENV="0",
        DEBUG="0",
        SECRET_KEY="bench-" + Fernet.generate_key().decode(),
        FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="localhost",
        LOG_LEVEL="WARNING",
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fulfillment.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _make_stores():
    from connections.models import Marketplace, Store
    from fulfillment.orders.models import Warehouse

    warehouse = Warehouse.objects.create(code="BENCH", name="Bench warehouse")
    us = Marketplace.objects.get(code="US")
    return [
        Store.objects.create(name=f"Bench store {i}", marketplace=us, warehouse=warehouse)
        for i in range(STORES)
    ]


def _csv(stores, rows: int, prefix: str) -> str:
    lines = ["store,amazon_sku,asin,warehouse_sku,units,sync_inventory,buffer"]
    for i in range(rows):
        store = stores[i % len(stores)].name
        # every tenth Amazon SKU is a two-part kit
        sku = f"{prefix}-{i // 2 if i % 10 < 2 else i}"
        lines.append(f"{store},{sku},B{i:09d},WH-{i},{1 + i % 3},{i % 2},{i % 5}")
    return "\n".join(lines) + "\n"


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def main() -> None:
    _setup_django(_bench_database_url())
    import tablib
    from django.db import connection
    from import_export import fields, resources, widgets

    from connections.models import Store
    from mappings.imports import mapping_csv_import
    from mappings.models import ImportJob, SkuMapping

    stores = _make_stores()
    data = _csv(stores, ROWS, "AMZ")

    counter = _QueryCounter()
    with connection.execute_wrapper(counter):
        started = time.perf_counter()
        report = mapping_csv_import(kind=ImportJob.Kind.SKU, data=data)
        seconds = time.perf_counter() - started
    assert report.ok and report.new == ROWS, report.summary()
    assert SkuMapping.objects.count() == ROWS
    print(f"our path, first import: {report.summary()} in {seconds:.2f} s, {counter.count} queries")

    again = _QueryCounter()
    with connection.execute_wrapper(again):
        started = time.perf_counter()
        second = mapping_csv_import(kind=ImportJob.Kind.SKU, data=data)
        again_seconds = time.perf_counter() - started
    assert second.unchanged == ROWS, second.summary()
    print(f"our path, same file again: {second.summary()} in {again_seconds:.2f} s, {again.count} queries")

    class DefaultSkuMappingResource(resources.ModelResource):
        """django-import-export's default path: row by row, natural key lookups."""

        store = fields.Field(
            attribute="store", column_name="store", widget=widgets.ForeignKeyWidget(Store, "name")
        )

        class Meta:
            model = SkuMapping
            fields = ("store", "amazon_sku", "asin", "warehouse_sku", "units", "sync_inventory", "buffer")
            import_id_fields = ("store", "amazon_sku", "warehouse_sku")

    dataset = tablib.Dataset().load(_csv(stores, DEFAULT_SAMPLE, "DEFAULT"), format="csv")
    default_counter = _QueryCounter()
    with connection.execute_wrapper(default_counter):
        started = time.perf_counter()
        result = DefaultSkuMappingResource().import_data(dataset, raise_errors=True)
        default_seconds = time.perf_counter() - started
    assert not result.has_errors() and result.totals["new"] == DEFAULT_SAMPLE
    default_rate = DEFAULT_SAMPLE / default_seconds
    print(
        f"django-import-export default path: {DEFAULT_SAMPLE} rows in {default_seconds:.2f} s, "
        f"{default_counter.count / DEFAULT_SAMPLE:.2f} queries/row"
    )

    rate = ROWS / seconds
    print(f"speed-up over the default path: {rate / default_rate:.1f}x")
    print(
        f"rows={ROWS} seconds={seconds:.2f} rows_per_s={rate:.0f} "
        f"queries_per_row={counter.count / ROWS:.4f} default_rows_per_s={default_rate:.0f}"
    )


if __name__ == "__main__":
    main()
