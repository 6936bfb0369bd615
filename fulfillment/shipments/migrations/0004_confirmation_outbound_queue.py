"""Shipment confirmations join the one outbound queue base (fulfillment.core.outbound).

Their attempts, not_before and last_error are the base's already; `sent_at`
(the last request to Amazon) becomes the base's `last_attempt_at`, renamed
in place so every row keeps its value; the attempt history starts empty.
"""

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('confirmations', '0003_shipments_move_in'),
    ]

    operations = [
        migrations.RenameField(
            model_name='shipmentconfirmation',
            old_name='sent_at',
            new_name='last_attempt_at',
        ),
        migrations.AlterField(
            model_name='shipmentconfirmation',
            name='last_attempt_at',
            field=models.DateTimeField(blank=True, help_text='When it was last tried.', null=True),
        ),
        migrations.AddField(
            model_name='shipmentconfirmation',
            name='attempt_history',
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AlterField(
            model_name='shipmentconfirmation',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Tries since it was queued or retried.'),
        ),
        migrations.AlterField(
            model_name='shipmentconfirmation',
            name='not_before',
            field=models.DateTimeField(default=django.utils.timezone.now, help_text='Not tried before this time (backoff after a failure).'),
        ),
    ]
