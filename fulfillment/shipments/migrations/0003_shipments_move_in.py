"""Shipment and ShipmentLine move here from wms, keeping their tables (wms_shipment, wms_shipmentline)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('wms', '0003_held_inventory_snapshots'),
        ('confirmations', '0002_repair_out_of_range_ship_dates'),
        ('fulfillment', '0008_unreadable_order'),
    ]

    operations = [
        # The tables stay where they are: only Django's idea of which app
        # owns the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Shipment',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('package_id', models.CharField(help_text="The WMS's own package id.", max_length=100, verbose_name='package id')),
                        ('package_reference', models.PositiveIntegerField(editable=False)),
                        ('carrier', models.CharField(max_length=100)),
                        ('service', models.CharField(blank=True, max_length=100)),
                        ('tracking_number', models.CharField(max_length=100)),
                        ('ship_date', models.DateTimeField()),
                        ('source', models.CharField(choices=[('api', 'WMS API'), ('admin', 'Admin'), ('csv', 'CSV import')], max_length=8)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('order', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='shipments', to='fulfillment.order')),
                    ],
                    options={
                        'db_table': 'wms_shipment',
                        'ordering': ['-created_at'],
                    },
                ),
                migrations.AlterField(
                    model_name='shipmentconfirmation',
                    name='shipment',
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='confirmation', to='confirmations.shipment'),
                ),
                migrations.CreateModel(
                    name='ShipmentLine',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('quantity', models.PositiveIntegerField(help_text='Amazon units.')),
                        ('order_line', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='fulfillment.orderline')),
                        ('shipment', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='lines', to='confirmations.shipment')),
                    ],
                    options={
                        'db_table': 'wms_shipmentline',
                        'ordering': ['shipment', 'order_line'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='shipment',
                    constraint=models.UniqueConstraint(fields=('order', 'package_id'), name='shipment_unique_package_id'),
                ),
                migrations.AddConstraint(
                    model_name='shipment',
                    constraint=models.UniqueConstraint(fields=('order', 'package_reference'), name='shipment_unique_package_reference'),
                ),
                migrations.AddConstraint(
                    model_name='shipmentline',
                    constraint=models.UniqueConstraint(fields=('shipment', 'order_line'), name='shipment_line_unique_item'),
                ),
                migrations.AddConstraint(
                    model_name='shipmentline',
                    constraint=models.CheckConstraint(condition=models.Q(('quantity__gt', 0)), name='shipment_line_quantity_positive'),
                ),
            ],
        ),
    ]
