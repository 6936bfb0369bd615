"""SyncRun and JobLock now belong to the jobs app.

Their content types follow them (permissions, admin history, role grants)."""

from django.db import migrations


def content_types_follow(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in ["syncrun", "joblock"]:
        # A content type under the new label can only exist if something created it
        # since; then the old one is left alone rather than clash with it.
        if not ContentType.objects.filter(app_label="jobs", model=model).exists():
            ContentType.objects.filter(app_label="fulfillment", model=model).update(app_label="jobs")


class Migration(migrations.Migration):

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('jobs', '0001_initial'),
        ('fulfillment', '0008_unreadable_order'),
    ]

    operations = [
        # The tables stay where they are: only Django's idea of which app
        # owns the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='syncrun',
                    name='store',
                ),
                migrations.DeleteModel(
                    name='JobLock',
                ),
                migrations.DeleteModel(
                    name='SyncRun',
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]
