"""django-q2 tasks: ids in, a short summary without personal data out."""

from __future__ import annotations

from connections.models import Store
from fulfillment.jobs.runner import job_task
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.services.confirmations import ConfirmationSweepJob, confirmation_send


def confirmation_send_task(confirmation_id: int) -> dict:
    """Queued right after a shipment commits: confirm that one package now."""
    row = (
        ShipmentConfirmation.objects.filter(pk=confirmation_id)
        .values("store__is_active", "store__authorization_status")
        .first()
    )
    if row is None:
        return {"skipped": "confirmation missing"}
    if not row["store__is_active"] or row["store__authorization_status"] != Store.Authorization.CONNECTED:
        # The sweep sends it once the store is connected again.
        return {"skipped": "store inactive or not connected"}
    return {"confirmation": confirmation_id, "state": confirmation_send(confirmation_id=confirmation_id)}


def confirmations_sweep_task(store_id: int) -> dict:
    return job_task(ConfirmationSweepJob(), store_id)
