"""Row makers for the confirmations admin (auto-discovered by tests/factories.py)."""

from __future__ import annotations

from django.utils import timezone

from fulfillment.shipments.models import ShipmentConfirmation
from tests.factories import register_row_maker


def make_confirmation(*, shipment=None, **kw) -> ShipmentConfirmation:
    if shipment is None:
        # Imported here: tests.factories imports this module while it loads.
        from tests.wms.factories import make_shipment

        shipment = make_shipment()
    defaults = dict(
        order=shipment.order,
        store_id=shipment.order.store_id,
        package_reference=shipment.package_reference,
        not_before=timezone.now(),
        state=ShipmentConfirmation.State.REJECTED,
        amazon_message="carrierCode 'Pony' is not accepted here; use Other with carrierName.",
    )
    return ShipmentConfirmation.objects.create(shipment=shipment, **{**defaults, **kw})


register_row_maker(ShipmentConfirmation, lambda n: [make_confirmation() for _ in range(n)])
