"""Stock levels, their history and held snapshots move here from wms, keeping their tables."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('wms', '0004_shipments_move_out'),
        ('fulfillment', '0008_unreadable_order'),
        ('inventory', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables stay where they are: only Django's idea of which app
        # owns the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='HeldInventorySnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('state', models.CharField(choices=[('held', 'Held for confirmation'), ('applied', 'Applied'), ('discarded', 'Discarded')], default='held', max_length=10)),
                        ('source', models.CharField(choices=[('api', 'WMS API'), ('csv', 'CSV import')], max_length=4)),
                        ('sent_by', models.CharField(blank=True, help_text='The API key or the user.', max_length=150)),
                        ('items', models.JSONField(default=list, editable=False)),
                        ('item_count', models.PositiveIntegerField(default=0, verbose_name='SKUs listed')),
                        ('zeroing', models.PositiveIntegerField(default=0, verbose_name='SKUs it sets to 0')),
                        ('stocked', models.PositiveIntegerField(default=0, verbose_name='SKUs in stock before')),
                        ('reason', models.TextField()),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('decided_at', models.DateTimeField(blank=True, null=True)),
                        ('decision_note', models.CharField(blank=True, max_length=200)),
                        ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('warehouse', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='fulfillment.warehouse')),
                    ],
                    options={
                        'verbose_name': 'held inventory snapshot',
                        'db_table': 'wms_heldinventorysnapshot',
                        'ordering': ['-created_at', '-pk'],
                        'indexes': [models.Index(condition=models.Q(('state', 'held')), fields=['warehouse'], name='held_snapshot_open_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='InventoryChange',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sku', models.CharField(max_length=100, verbose_name='warehouse SKU')),
                        ('available', models.PositiveIntegerField()),
                        ('previous', models.PositiveIntegerField(blank=True, help_text='Empty: a new SKU.', null=True)),
                        ('changed_at', models.DateTimeField()),
                        ('warehouse', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='fulfillment.warehouse')),
                    ],
                    options={
                        'db_table': 'wms_inventorychange',
                        'ordering': ['-changed_at', '-pk'],
                        'indexes': [models.Index(fields=['warehouse', 'changed_at'], name='inventory_change_since_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='InventoryLevel',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sku', models.CharField(max_length=100, verbose_name='warehouse SKU')),
                        ('available', models.PositiveIntegerField()),
                        ('updated_at', models.DateTimeField(help_text='When the quantity last changed.')),
                        ('warehouse', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='inventory_levels', to='fulfillment.warehouse')),
                    ],
                    options={
                        'db_table': 'wms_inventorylevel',
                        'ordering': ['warehouse', 'sku'],
                        'constraints': [models.UniqueConstraint(fields=('warehouse', 'sku'), name='inventory_level_unique_sku')],
                    },
                ),
            ],
        ),
    ]
