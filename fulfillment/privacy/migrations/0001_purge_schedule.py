"""Once created the daily personal data purge schedule.

The schedule registry (fulfillment/jobs/schedules.py) owns every django-q2
schedule now: `manage.py sync_schedules` (run by bin/release and bin/demo
after migrate) and its repair job create and repair them. This migration
already ran on existing databases, so it stays, with its dependencies, and
does nothing.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("fulfillment", "0004_store_schedules_sync_schedule"),
        ("wms", "0001_initial"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
