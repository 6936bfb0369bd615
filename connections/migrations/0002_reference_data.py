from django.db import migrations


def load(apps, schema_editor):
    from connections.reference_data import reference_data_load

    reference_data_load(apps.get_model("connections", "Marketplace"), apps.get_model("connections", "AcceptedCarrier"))


class Migration(migrations.Migration):
    dependencies = [("connections", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
