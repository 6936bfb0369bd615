"""Shipping-method defaults per marketplace instead of "every store".

What becomes of an existing "every store" row: carriers and ship codes are a
country's, and the warehouse's country is the one we know they were set up
for. Each row is copied as the default of the marketplace of each
warehouse's country (a US warehouse: the US marketplace), and, for a
warehouse with no country set, of the marketplaces its stores sell in (we
cannot tell, so they keep what they had). Then the row is removed. A store
in another marketplace (a German store of a US warehouse) no longer borrows
the US carriers: its new orders are held "no shipping method for ..." until
someone adds its marketplace's defaults or the store's own rows. Orders
already released keep their carrier.
"""

import django.db.models.deletion
from django.db import migrations, models


def every_store_rows_to_marketplaces(apps, schema_editor):
    Mapping = apps.get_model("mappings", "ShippingMethodMapping")
    Marketplace = apps.get_model("connections", "Marketplace")
    Warehouse = apps.get_model("fulfillment", "Warehouse")
    Store = apps.get_model("connections", "Store")
    legacy = list(Mapping.objects.filter(store__isnull=True, marketplace__isnull=True))
    if not legacy:
        return
    by_code = {code.upper(): pk for pk, code in Marketplace.objects.values_list("pk", "code")}
    targets = set()
    for warehouse_id, country in Warehouse.objects.values_list("pk", "country_code"):
        if country and country.upper() in by_code:
            targets.add(by_code[country.upper()])
        elif not country:
            targets.update(
                Store.objects.filter(warehouse_id=warehouse_id).values_list("marketplace_id", flat=True)
            )
    for row in legacy:
        for marketplace_id in sorted(targets):
            exists = Mapping.objects.filter(
                store__isnull=True,
                marketplace_id=marketplace_id,
                service_level=row.service_level,
                prime=row.prime,
            ).exists()
            if not exists:
                Mapping.objects.create(
                    marketplace_id=marketplace_id,
                    service_level=row.service_level,
                    prime=row.prime,
                    carrier=row.carrier,
                    ship_code=row.ship_code,
                )
    Mapping.objects.filter(pk__in=[row.pk for row in legacy]).delete()
    if schema_editor.connection.vendor == "postgresql":
        # The constraints added next alter the table: PostgreSQL refuses while
        # the inserted rows' deferred foreign-key checks are pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0008_membership_move_in"),
        ("mappings", "0002_import_job_preview_rows"),
        ("fulfillment", "0010_order_shipped_by_us_at"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="shippingmethodmapping",
            options={"ordering": ["marketplace", "store", "service_level", "prime"]},
        ),
        migrations.RemoveConstraint(
            model_name="shippingmethodmapping",
            name="shipping_method_unique_default_prime",
        ),
        migrations.RemoveConstraint(
            model_name="shippingmethodmapping",
            name="shipping_method_unique_default_any",
        ),
        migrations.AddField(
            model_name="shippingmethodmapping",
            name="marketplace",
            field=models.ForeignKey(
                blank=True,
                help_text="With no store: the default for every store selling in this marketplace.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="shipping_method_defaults",
                to="connections.marketplace",
            ),
        ),
        migrations.AlterField(
            model_name="shippingmethodmapping",
            name="store",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty: the marketplace's default.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="shipping_method_mappings",
                to="connections.store",
            ),
        ),
        migrations.RunPython(every_store_rows_to_marketplaces, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="shippingmethodmapping",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("marketplace__isnull", True), ("store__isnull", False)),
                    models.Q(("marketplace__isnull", False), ("store__isnull", True)),
                    _connector="OR",
                ),
                name="shipping_method_store_or_marketplace",
            ),
        ),
        migrations.AddConstraint(
            model_name="shippingmethodmapping",
            constraint=models.UniqueConstraint(
                condition=models.Q(("prime__isnull", False), ("store__isnull", True)),
                fields=("marketplace", "service_level", "prime"),
                name="shipping_method_unique_default_prime",
            ),
        ),
        migrations.AddConstraint(
            model_name="shippingmethodmapping",
            constraint=models.UniqueConstraint(
                condition=models.Q(("prime__isnull", True), ("store__isnull", True)),
                fields=("marketplace", "service_level"),
                name="shipping_method_unique_default_any",
            ),
        ),
    ]
