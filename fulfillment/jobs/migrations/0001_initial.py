"""SyncRun and JobLock move here from the orders app (label 'fulfillment'), keeping their tables."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('fulfillment', '0008_unreadable_order'),
        ('connections', '0007_rate_limit_bucket_counts'),
    ]

    operations = [
        # The tables stay where they are: only Django's idea of which app
        # owns the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='JobLock',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=24)),
                        ('owner', models.CharField(blank=True, max_length=64)),
                        ('locked_until', models.DateTimeField()),
                        ('store', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='job_locks', to='connections.store')),
                    ],
                    options={
                        'db_table': 'fulfillment_joblock',
                        'constraints': [models.UniqueConstraint(fields=('store', 'kind'), name='job_lock_unique_per_store_kind')],
                    },
                ),
                migrations.CreateModel(
                    name='SyncRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('order_pull', 'Order download'), ('reconcile', 'Order reconciliation'), ('shipment_confirm', 'Shipment confirmation'), ('inventory_push', 'Inventory push')], max_length=24)),
                        ('started_at', models.DateTimeField()),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('ok', models.BooleanField(help_text='Empty while running.', null=True)),
                        ('counts', models.JSONField(blank=True, default=dict)),
                        ('api_calls', models.PositiveIntegerField(default=0)),
                        ('throttled', models.PositiveIntegerField(default=0)),
                        ('error', models.TextField(blank=True)),
                        ('notes', models.TextField(blank=True)),
                        ('store', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='sync_runs', to='connections.store')),
                    ],
                    options={
                        'db_table': 'fulfillment_syncrun',
                        'ordering': ['-started_at'],
                        'indexes': [models.Index(fields=['store', 'kind', '-started_at'], name='sync_run_store_kind_idx')],
                    },
                ),
            ],
        ),
    ]
