"""The daily personal data purge schedule (idempotent: found by its name)."""

from django.db import migrations

NAME = "personal-data-purge"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults=dict(
            func="fulfillment.privacy.tasks.personal_data_purge_task",
            schedule_type="D",  # Schedule.DAILY
            repeats=-1,
        ),
    )


def delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0004_store_schedules_sync_schedule"),
        ("wms", "0001_initial"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(create, delete)]
