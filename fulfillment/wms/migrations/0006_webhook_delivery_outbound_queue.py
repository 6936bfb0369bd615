"""Webhook deliveries join the one outbound queue base (fulfillment.core.outbound).

Their attempts, not_before and last_error are the base's already. New:
`last_attempt_at`, backfilled from `sent_at` for deliveries that were sent
(the last attempt of a failed or pending one was never recorded), and the
attempt history, empty until the next attempt.
"""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def backfill_last_attempt(apps, schema_editor):
    WebhookDelivery = apps.get_model("wms", "WebhookDelivery")
    WebhookDelivery.objects.filter(sent_at__isnull=False).update(last_attempt_at=F("sent_at"))


class Migration(migrations.Migration):

    dependencies = [
        ('wms', '0005_levels_move_out'),
    ]

    operations = [
        migrations.AddField(
            model_name='webhookdelivery',
            name='attempt_history',
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name='webhookdelivery',
            name='last_attempt_at',
            field=models.DateTimeField(blank=True, help_text='When it was last tried.', null=True),
        ),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Tries since it was queued or retried.'),
        ),
        migrations.AlterField(
            model_name='webhookdelivery',
            name='not_before',
            field=models.DateTimeField(default=django.utils.timezone.now, help_text='Not tried before this time (backoff after a failure).'),
        ),
        migrations.RunPython(backfill_last_attempt, migrations.RunPython.noop),
    ]
