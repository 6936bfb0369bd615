"""Order.shipped_by_us_at: "the warehouse shipped it" becomes a recorded fact.

Until now the order download told our shipment from one made elsewhere by
`amazon_status`, which shipment confirmations set to SHIPPED ahead of
Amazon. The backfill gives the fact to every order that today's rules read
as shipped by us, so no existing order changes meaning:
- shipped, with packages of ours, and not reported shipped elsewhere;
- still the warehouse's (released, acknowledged, partially shipped) with
  `amazon_status` SHIPPED and not reported shipped elsewhere: the download
  read that as our own confirmation.
The time is the last package's, else the row's last update.
"""

from django.db import migrations, models
from django.db.models import Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce

WAREHOUSES = ["released", "acknowledged", "partially_shipped"]


def shipped_by_us_backfill(apps, schema_editor):
    Order = apps.get_model("fulfillment", "Order")
    Shipment = apps.get_model("confirmations", "Shipment")
    packages = Shipment.objects.filter(order=OuterRef("pk"))
    last_package = Subquery(packages.order_by("-created_at").values("created_at")[:1])
    unknown = Order.objects.filter(shipped_by_us_at__isnull=True, shipped_outside_at__isnull=True)
    unknown.filter(Exists(packages), status="shipped").update(shipped_by_us_at=last_package)
    unknown.filter(status__in=WAREHOUSES, amazon_status="SHIPPED").update(
        shipped_by_us_at=Coalesce(last_package, "updated_at")
    )


class Migration(migrations.Migration):

    dependencies = [
        ("fulfillment", "0009_jobs_move_out"),
        ("confirmations", "0003_shipments_move_in"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="shipped_by_us_at",
            field=models.DateTimeField(
                blank=True,
                help_text="When the warehouse's packages covered the whole order.",
                null=True,
                verbose_name="shipped by the warehouse at",
            ),
        ),
        # Reversed by dropping the column: nothing to undo.
        migrations.RunPython(shipped_by_us_backfill, migrations.RunPython.noop),
    ]
