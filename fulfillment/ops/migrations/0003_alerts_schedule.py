"""Every 5 minutes, run the operations alert checks (fulfillment/ops/tasks.py)."""

from django.db import migrations


def create(apps, schema_editor):
    from fulfillment.ops.schedules import alerts_schedule_ensure

    alerts_schedule_ensure(apps=apps)


def delete(apps, schema_editor):
    from fulfillment.ops.schedules import ALERTS_SCHEDULE_NAME

    apps.get_model("django_q", "Schedule").objects.filter(name=ALERTS_SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0002_roles"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(create, delete)]
