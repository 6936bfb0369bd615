"""Every minute, the task cluster touches its heartbeat row (fulfillment/monitoring/tasks.py)."""

from django.db import migrations


def create(apps, schema_editor):
    from fulfillment.monitoring.schedules import heartbeat_schedule_ensure

    heartbeat_schedule_ensure(apps=apps)


def delete(apps, schema_editor):
    from fulfillment.monitoring.schedules import HEARTBEAT_SCHEDULE_NAME

    apps.get_model("django_q", "Schedule").objects.filter(name=HEARTBEAT_SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("monitoring", "0001_initial"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(create, delete)]
