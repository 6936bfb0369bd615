"""What several benches set up the same way (imported after django.setup())."""

from __future__ import annotations

from django.db import connection


def every_order_releases(*, warehouse, marketplace, ship_code: str | None = None) -> None:
    """The marketplace's shipping defaults (UPS, `ship_code` or the level's name) and a
    warehouse whose stock names every sandbox SKU (unknown SKUs hold): every sandbox
    order of that marketplace releases."""
    from fulfillment.inventory.levels import inventory_update
    from mappings.models import ServiceLevel, ShippingMethodMapping
    from sandbox.orders import SANDBOX_CATALOG

    ShippingMethodMapping.objects.bulk_create(
        ShippingMethodMapping(
            marketplace=marketplace,
            service_level=level,
            prime=None,
            carrier="UPS",
            ship_code=ship_code or level,
        )
        for level in ServiceLevel.values
    )
    inventory_update(warehouse=warehouse, items=[(sku, 5) for sku, *_ in SANDBOX_CATALOG], complete=False)


def bench_store():
    """A connected US store of a seller that exists in the sandbox, its warehouse, and
    every order releasing. Returns (store, sandbox seller)."""
    from connections.models import Marketplace, Store
    from fulfillment.orders.models import Warehouse
    from sandbox.sellers import sandbox_application_ensure, sandbox_seller_ensure

    spid, token = "A1BENCHSELLER", "Atzr|bench-refresh-token"
    sandbox_application_ensure()
    seller = sandbox_seller_ensure(
        selling_partner_id=spid, name="Bench", marketplace_codes=("US",), refresh_token=token
    )
    warehouse = Warehouse.objects.create(code="BENCH", name="Bench DC")
    store = Store.objects.create(
        name="Bench US",
        marketplace=Marketplace.objects.get(code="US"),
        warehouse=warehouse,
        selling_partner_id=spid,
        authorization_status=Store.Authorization.CONNECTED,
        refresh_token=token,
    )
    every_order_releases(warehouse=warehouse, marketplace=store.marketplace)
    return store, seller


def sql_insert(model, columns: dict[str, str], source: str) -> int:
    """INSERT … SELECT … FROM `source` into every concrete column of `model`: the given
    SQL, else the field's blank value (NULL, '', false, []). Returns the rows written."""
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        names.append(connection.ops.quote_name(f.column))
        if f.column in columns:
            values.append(columns[f.column])
        elif f.null:
            values.append("NULL")
        elif f.get_internal_type() == "BooleanField":
            values.append("false")
        elif f.get_internal_type() == "JSONField":
            values.append("'[]'::jsonb")
        else:
            values.append("''")
    sql = f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) SELECT {', '.join(values)} FROM {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.rowcount
