"""Every 5 minutes, bring the per-store order schedules in step with the stores.

Saving a store does it at once (post_save); this catches changes made with
QuerySet.update(), which sends no signal.
"""

from django.db import migrations

NAME = "store-schedules-sync"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults=dict(
            func="fulfillment.orders.tasks.store_schedules_sync_task",
            schedule_type="I",  # Schedule.MINUTES
            minutes=5,
            repeats=-1,
        ),
    )


def delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0003_initial_import_checkpoint"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(create, delete)]
