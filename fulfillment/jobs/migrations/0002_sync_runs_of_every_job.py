"""Every background job writes a run row: a store only for per-store jobs, a kind for each job.

No data changes: existing rows keep their store and kind.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("connections", "0007_rate_limit_bucket_counts"),
        ("jobs", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="syncrun",
            name="kind",
            field=models.CharField(
                choices=[
                    ("order_pull", "Order download"),
                    ("reconcile", "Order reconciliation"),
                    ("shipment_confirm", "Shipment confirmation"),
                    ("inventory_push", "Inventory push"),
                    ("webhook_sweep", "Webhook delivery sweep"),
                    ("alerts", "Operations alerts"),
                    ("personal_data_purge", "Personal data purge"),
                    ("order_data_purge", "Order data purge"),
                    ("authorization_purge", "Authorization records purge"),
                    ("schedules_repair", "Schedule repair"),
                ],
                max_length=24,
            ),
        ),
        migrations.AlterField(
            model_name="syncrun",
            name="store",
            field=models.ForeignKey(
                blank=True,
                help_text="Empty for jobs that run for every store at once.",
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="sync_runs",
                to="connections.store",
            ),
        ),
    ]
