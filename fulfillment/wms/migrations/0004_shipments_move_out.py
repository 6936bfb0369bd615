"""Shipment and ShipmentLine now belong to the shipments package (label 'confirmations').

Their content types follow them, so permissions, admin history and role grants keep
pointing at the same rows."""

from django.db import migrations


def content_types_follow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ['shipment', 'shipmentline']:
        # A content type under the new label can only exist if something created it
        # since; then the old one is left alone rather than clash with it.
        if not ContentType.objects.filter(app_label='confirmations', model=model).exists():
            ContentType.objects.filter(app_label="wms", model=model).update(app_label='confirmations')


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('confirmations', '0003_shipments_move_in'),
        ('wms', '0003_held_inventory_snapshots'),
    ]

    operations = [
        # The tables stay where they are: only Django's idea of which app
        # owns the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='shipmentline',
                    name='shipment',
                ),
                migrations.RemoveField(
                    model_name='shipmentline',
                    name='order_line',
                ),
                migrations.DeleteModel(
                    name='Shipment',
                ),
                migrations.DeleteModel(
                    name='ShipmentLine',
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
