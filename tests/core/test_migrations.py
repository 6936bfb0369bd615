"""Migrations keep data: a database filled at the schema of the last release
before the "one owner per concept" redesign migrates to today's and every row
is still there, under the package that now owns its model.

The redesign moved models between apps (shipments and stock levels out of
wms, job runs and leases out of the orders app) with SeparateDatabaseAndState,
so the tables and their rows stay; this test proves it on a real database
instead of trusting the migration files.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management.color import no_style
from django.db import DEFAULT_DB_ALIAS, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django_test_migrations import sql
from django_test_migrations.signals import mute_migrate_signals

# The last migration of each app at the release before the redesign (commit 658c0dc).
BEFORE = [
    ("fulfillment", "0008_unreadable_order"),
    ("connections", "0007_rate_limit_bucket_counts"),
    ("mappings", "0001_initial"),
    ("sandbox", "0006_faults_search_page_cap"),
    ("wms", "0003_held_inventory_snapshots"),
    ("confirmations", "0002_repair_out_of_range_ship_dates"),
    ("inventory", "0001_initial"),
    ("ops", "0004_alert_unreadable_order"),
    ("privacy", "0003_buyer_data_access"),
    ("accounts", "0001_password_history"),
    ("monitoring", "0002_heartbeat_schedule"),
]

# Tables whose models moved to another app, with the app that owns them now.
MOVED = {
    "wms_shipment": ("confirmations", "Shipment"),
    "wms_shipmentline": ("confirmations", "ShipmentLine"),
    "wms_inventorylevel": ("inventory", "InventoryLevel"),
    "wms_inventorychange": ("inventory", "InventoryChange"),
    "wms_heldinventorysnapshot": ("inventory", "HeldInventorySnapshot"),
    "fulfillment_syncrun": ("jobs", "SyncRun"),
    "fulfillment_joblock": ("jobs", "JobLock"),
    "ops_merchantmembership": ("connections", "MerchantMembership"),
}

NOW = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC)


def _latest() -> list[tuple[str, str]]:
    return sorted(MigrationLoader(connection, ignore_no_migrations=True).graph.leaf_nodes())


def _database_at(targets):
    """An empty database migrated exactly to `targets` (their ancestors and nothing else).

    django-test-migrations' own `apply_initial_migration` cuts the full plan at
    the last target, which also applies later migrations of other apps that
    happen to sort before it: here, the very moves under test.
    """
    style = no_style()
    sql.drop_models_tables(DEFAULT_DB_ALIAS, style)
    sql.flush_django_migrations_table(DEFAULT_DB_ALIAS, style)
    executor = MigrationExecutor(connection)
    with mute_migrate_signals():
        executor.migrate(targets)
    return executor.loader.project_state(targets)


def _migrate_to_latest():
    executor = MigrationExecutor(connection)
    with mute_migrate_signals():
        executor.migrate(_latest())
    executor.loader.build_graph()
    return executor.loader.project_state(_latest())


def _fill(apps) -> dict[str, object]:
    """One row (or two) in every table the redesign touches, through the old models."""
    get = apps.get_model
    warehouse = get("fulfillment", "Warehouse").objects.create(
        code="WH-M", name="Migration WH", time_zone="America/Chicago", country_code="US"
    )
    store = get("connections", "Store").objects.create(
        name="Migration store",
        marketplace=get("connections", "Marketplace").objects.get(code="US"),
        warehouse=warehouse,
        selling_partner_id="AMIGRATION0001",
        authorization_status="connected",
        refresh_token="Atzr|migration",
    )
    order = get("fulfillment", "Order").objects.create(
        store=store,
        amazon_order_id="111-0000000-0000001",
        amazon_status="SHIPPED",
        status="shipped",
        purchased_at=NOW,
        amazon_updated_at=NOW,
        recipient="Jane Buyer, 1 Main St",
        gift_message="Happy birthday",
    )
    line = get("fulfillment", "OrderLine").objects.create(
        order=order, order_item_id="ITEM-1", amazon_sku="SKU-1", quantity_ordered=2, quantity_shipped=2
    )
    shipment = get("wms", "Shipment").objects.create(
        order=order,
        package_id="PKG-1",
        package_reference=1,
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        ship_date=NOW,
        source="api",
    )
    get("wms", "ShipmentLine").objects.create(shipment=shipment, order_line=line, quantity=2)
    get("confirmations", "ShipmentConfirmation").objects.create(
        shipment=shipment,
        order=order,
        store=store,
        package_reference=1,
        state="accepted",
        attempts=1,
        not_before=NOW,
        accepted_at=NOW,
    )
    get("wms", "InventoryLevel").objects.create(
        warehouse=warehouse, sku="WSKU-1", available=7, updated_at=NOW
    )
    get("wms", "InventoryChange").objects.create(
        warehouse=warehouse, sku="WSKU-1", available=7, previous=3, changed_at=NOW
    )
    get("wms", "HeldInventorySnapshot").objects.create(
        warehouse=warehouse, source="api", items=[["WSKU-1", 0]], item_count=1, reason="would zero 100%"
    )
    webhook = get("wms", "WarehouseWebhook").objects.create(
        warehouse=warehouse, url="https://wms.example/hook", secret="s3cret"
    )
    get("wms", "WebhookDelivery").objects.create(
        webhook=webhook, order=order, status="failed", attempts=3, not_before=NOW, last_error="HTTP 500"
    )
    push = get("inventory", "InventoryPush").objects.create(store=store, state="done", messages=1, feeds=1)
    get("inventory", "InventoryFeed").objects.create(
        push=push, sequence=1, state="done", message_count=1, feed_id="F1", accepted=1
    )
    get("fulfillment", "SyncRun").objects.create(
        store=store,
        kind="order_pull",
        started_at=NOW,
        finished_at=NOW,
        ok=True,
        counts={"new": 1},
        api_calls=2,
    )
    get("fulfillment", "JobLock").objects.create(store=store, kind="order_pull", locked_until=NOW)
    user = get("auth", "User").objects.create(username="merchant-person")
    merchant = get("connections", "Merchant").objects.create(name="Migration merchant")
    get("ops", "MerchantMembership").objects.create(user=user, merchant=merchant)
    return {"order": order.pk, "shipment": shipment.pk, "store": store.pk, "warehouse": warehouse.pk}


def _old_permissions(apps) -> dict[str, tuple[int, int]]:
    """A content type and a permission per moved model, under its old app (as migrate made them)."""
    ContentType, Permission = (
        apps.get_model("contenttypes", "ContentType"),
        apps.get_model("auth", "Permission"),
    )
    made = {}
    for table, (_app, model) in MOVED.items():
        ct, _ = ContentType.objects.get_or_create(app_label=table.split("_", 1)[0], model=model.lower())
        perm, _ = Permission.objects.get_or_create(
            content_type=ct, codename=f"view_{model.lower()}", defaults={"name": f"Can view {model}"}
        )
        made[model] = (ct.pk, perm.pk)
    return made


def _table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        tables = [
            t
            for t in connection.introspection.table_names(cursor)
            if t.split("_", 1)[0]
            in {"fulfillment", "wms", "confirmations", "inventory", "jobs", "connections", "mappings", "ops"}
            | {"privacy", "accounts", "monitoring"}
        ]
        counts = {}
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.django_db(transaction=True)
def test_a_database_at_the_old_schema_keeps_every_row(migrator):
    old = _database_at(BEFORE)
    ids = _fill(old.apps)
    permissions = _old_permissions(old.apps)
    before = _table_counts()
    assert all(before[t] >= 1 for t in MOVED), "the fill must reach every moved table"

    new = _migrate_to_latest()

    after = _table_counts()
    # Every table that existed keeps every row (new tables may appear; none vanish).
    assert {t: after.get(t) for t in before} == before
    # The moved models are read through their new owners, from the same rows.
    for table, (app, model) in MOVED.items():
        Model = new.apps.get_model(app, model)
        assert Model._meta.db_table == table
        assert Model.objects.count() == before[table], table
    Shipment = new.apps.get_model("confirmations", "Shipment")
    shipment = Shipment.objects.get(pk=ids["shipment"])
    assert (shipment.order_id, shipment.package_id, shipment.tracking_number) == (
        ids["order"],
        "PKG-1",
        "1Z999AA10123456784",
    )
    assert shipment.lines.get().quantity == 2
    assert (
        new.apps.get_model("confirmations", "ShipmentConfirmation").objects.get().shipment_id == shipment.pk
    )
    level = new.apps.get_model("inventory", "InventoryLevel").objects.get()
    assert (level.warehouse_id, level.sku, level.available) == (ids["warehouse"], "WSKU-1", 7)
    run = new.apps.get_model("jobs", "SyncRun").objects.get()
    assert (run.store_id, run.kind, run.counts, run.api_calls) == (ids["store"], "order_pull", {"new": 1}, 2)
    # Encrypted buyer data still decrypts after the move.
    order = new.apps.get_model("fulfillment", "Order").objects.get(pk=ids["order"])
    assert (order.recipient, order.gift_message) == ("Jane Buyer, 1 Main St", "Happy birthday")
    # Permissions hang off content types: they follow the models, or every role
    # grant on shipments, stock levels and job runs would silently vanish.
    ContentType, Permission = (
        new.apps.get_model("contenttypes", "ContentType"),
        new.apps.get_model("auth", "Permission"),
    )
    for _table, (app, model) in MOVED.items():
        ct = ContentType.objects.get(app_label=app, model=model.lower())
        assert ct.pk == permissions[model][0], model
        assert Permission.objects.get(pk=permissions[model][1]).content_type_id == ct.pk
    migrator.reset()
