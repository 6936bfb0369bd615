"""Once created the daily order data purge schedule.

The schedule registry (fulfillment/jobs/schedules.py) owns every django-q2
schedule now: `manage.py sync_schedules` (run by bin/release and bin/demo
after migrate) and its repair job create and repair them. This migration
already ran on existing databases, so it stays, with its dependencies, and
does nothing.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_purge_schedule"),
        ("django_q", "__latest__"),
    ]

    operations = [migrations.RunPython(migrations.RunPython.noop, migrations.RunPython.noop)]
