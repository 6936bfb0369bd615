"""Repair packages written before ship dates were checked (issue 16.2).

A ship date such as year 1 with a time-zone offset was stored by PostgreSQL as
a BC timestamp that psycopg cannot load: every page and task reading such a
package failed. Each one gets the time it was recorded as its ship date (the
closest thing we know; the true date is unknown) and, unless Amazon already
has it, its confirmation waits for a person: rejected with the reason, so the
warehouse checks it and presses Retry, or the WMS corrects the package.
Only UPDATEs filtered in the database: the broken values are never loaded.
"""

import datetime as dt

from django.db import migrations
from django.db.models import F

# No real package ships before this; a BC timestamp compares below it too.
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
MESSAGE = (
    "The warehouse sent a ship date out of range; it was replaced by the time the package "
    "was recorded. Check the ship date, then Retry (or have the WMS correct the package)."
)


def repair(apps, schema_editor=None):
    Shipment = apps.get_model("wms", "Shipment")
    ShipmentConfirmation = apps.get_model("confirmations", "ShipmentConfirmation")
    broken = Shipment.objects.filter(ship_date__lt=EARLIEST)
    ids = list(broken.values_list("pk", flat=True))
    if not ids:
        return
    ShipmentConfirmation.objects.filter(
        shipment_id__in=ids, state__in=["pending", "retrying", "sending", "rejected"]
    ).update(state="rejected", amazon_message=MESSAGE, last_error=MESSAGE, claimed_at=None)
    Shipment.objects.filter(pk__in=ids).update(ship_date=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("confirmations", "0001_initial"),
        ("wms", "0002_wms_key_creator"),
    ]

    operations = [migrations.RunPython(repair, migrations.RunPython.noop)]
