"""The three role groups with their permissions (fulfillment/ops/roles.py).

Later models are added to the groups by the post_migrate hook in OpsConfig.
"""

from django.db import migrations


def create(apps, schema_editor):
    from fulfillment.ops.roles import roles_sync

    roles_sync(apps=apps)


def delete(apps, schema_editor):
    from fulfillment.ops.roles import ROLE_NAMES

    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_NAMES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ops", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("connections", "0005_merchant_store_merchant"),
        ("fulfillment", "0004_store_schedules_sync_schedule"),
        ("wms", "0001_initial"),
        ("inventory", "0001_initial"),
        ("confirmations", "0001_initial"),
        ("mappings", "0001_initial"),
    ]

    operations = [migrations.RunPython(create, delete)]
