"""InventoryLevel, InventoryChange and HeldInventorySnapshot now belong to inventory.

Their content types follow them (permissions, admin history, role grants)."""

from django.db import migrations


def content_types_follow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ['inventorylevel', 'inventorychange', 'heldinventorysnapshot']:
        # A content type under the new label can only exist if something created it
        # since; then the old one is left alone rather than clash with it.
        if not ContentType.objects.filter(app_label='inventory', model=model).exists():
            ContentType.objects.filter(app_label="wms", model=model).update(app_label='inventory')


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('inventory', '0002_levels_move_in'),
        ('wms', '0004_shipments_move_out'),
    ]

    operations = [
        # The tables stay where they are: only Django's idea of which app
        # owns the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='inventorychange',
                    name='warehouse',
                ),
                migrations.RemoveField(
                    model_name='inventorylevel',
                    name='warehouse',
                ),
                migrations.DeleteModel(
                    name='HeldInventorySnapshot',
                ),
                migrations.DeleteModel(
                    name='InventoryChange',
                ),
                migrations.DeleteModel(
                    name='InventoryLevel',
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
