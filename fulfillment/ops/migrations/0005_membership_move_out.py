"""MerchantMembership now belongs to connections.

Its content type follows it (permissions, admin history, role grants)."""

from django.db import migrations


def content_types_follow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    # A content type under the new label can only exist if something created it
    # since; then the old one is left alone rather than clash with it.
    if not ContentType.objects.filter(app_label="connections", model="merchantmembership").exists():
        ContentType.objects.filter(app_label="ops", model="merchantmembership").update(app_label="connections")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('connections', '0008_membership_move_in'),
        ('ops', '0004_alert_unreadable_order'),
    ]

    operations = [
        # The table stays where it is: only Django's idea of which app
        # owns the model changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(
                    name='MerchantMembership',
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
