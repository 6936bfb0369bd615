"""Every 5 minutes, run the operations alert checks (fulfillment/ops/tasks.py)."""

from django.db import migrations

NAME = "ops-alerts-check"


def create(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.update_or_create(
        name=NAME,
        defaults=dict(
            func="fulfillment.ops.tasks.alerts_check_task",
            schedule_type="I",  # Schedule.MINUTES
            minutes=5,
            repeats=-1,
        ),
    )


def delete(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0002_roles"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(create, delete)]
