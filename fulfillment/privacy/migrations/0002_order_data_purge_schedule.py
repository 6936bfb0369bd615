"""The daily order data purge schedule (idempotent: found by its name)."""

from django.db import migrations

NAME = "order-data-purge"


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.update_or_create(
        name=NAME,
        defaults=dict(
            func="fulfillment.privacy.tasks.order_data_purge_task",
            schedule_type="D",  # Schedule.DAILY
            repeats=-1,
        ),
    )


def delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_purge_schedule"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(create, delete)]
