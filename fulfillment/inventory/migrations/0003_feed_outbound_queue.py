"""Inventory feeds join the one outbound queue base (fulfillment.core.outbound).

`error` (what went wrong with the feed, or the feed-level issues of Amazon's
report) becomes the base's `last_error`, renamed in place. The new columns
are backfilled from what each feed recorded:
- attempts: 1 for a feed that left PLANNED (uploaded, or patched), else 0
  (polls were not counted before; the lower bound is what is known);
- last_attempt_at: when it was processed, else submitted;
- not_before: when it was submitted, else when its push was planned, so an
  unfinished feed is due at the next run exactly as before.
"""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    InventoryFeed = apps.get_model("inventory", "InventoryFeed")
    InventoryPush = apps.get_model("inventory", "InventoryPush")
    planned_at = Subquery(InventoryPush.objects.filter(pk=OuterRef("push_id")).values("created_at")[:1])
    InventoryFeed.objects.exclude(state="planned").update(attempts=1)
    InventoryFeed.objects.update(
        last_attempt_at=Coalesce(F("processed_at"), F("submitted_at")),
        not_before=Coalesce(F("submitted_at"), planned_at),
    )


class Migration(migrations.Migration):

    dependencies = [
        ('inventory', '0002_levels_move_in'),
    ]

    operations = [
        migrations.RenameField(
            model_name='inventoryfeed',
            old_name='error',
            new_name='last_error',
        ),
        migrations.AddField(
            model_name='inventoryfeed',
            name='attempt_history',
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.AddField(
            model_name='inventoryfeed',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, help_text='Tries since it was queued or retried.'),
        ),
        migrations.AddField(
            model_name='inventoryfeed',
            name='last_attempt_at',
            field=models.DateTimeField(blank=True, help_text='When it was last tried.', null=True),
        ),
        migrations.AddField(
            model_name='inventoryfeed',
            name='not_before',
            field=models.DateTimeField(default=django.utils.timezone.now, help_text='Not tried before this time (backoff after a failure).'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
