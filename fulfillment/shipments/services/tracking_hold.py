"""Hold a package whose tracking number is not its carrier's, and *Send anyway*.

Called at one point of the send (confirmation_send), after the pre-send
checks and before anything goes to Amazon: a held package is not an attempt,
waits in `held` (no worker claims it) with the reason for the admin, and
operations are emailed once. A person corrects the package (its confirmation
starts over and is checked again) or sends it anyway, which is recorded (who,
when) and skips this check for that package only.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.services.alerts import confirmation_email_once
from fulfillment.shipments.tracking_formats import tracking_number_mismatch

logger = logging.getLogger(__name__)

State = ShipmentConfirmation.State
SEND_TASK = "fulfillment.shipments.tasks.confirmation_send_task"


def tracking_hold_reason(*, confirmation: ShipmentConfirmation, carrier_code: str) -> str:
    """Why this package must wait for a person, or "" (it may be sent)."""
    if not settings.TRACKING_NUMBER_CHECK or confirmation.sent_anyway_at is not None:
        return ""
    return tracking_number_mismatch(
        carrier_code=carrier_code, tracking_number=confirmation.shipment.tracking_number
    )


def tracking_hold(*, confirmation: ShipmentConfirmation, carrier_code: str) -> bool:
    """Hold the claimed package if its number is not its carrier's; True if held.

    Not an attempt: the claim's count is given back, and the row leaves the
    queue's waiting states, so neither the sweep nor a retry sends it.
    """
    reason = tracking_hold_reason(confirmation=confirmation, carrier_code=carrier_code)
    if not reason:
        return False
    confirmation.attempt_deferred(until=confirmation.not_before, error=reason)
    confirmation.state = State.HELD
    confirmation.amazon_message = reason
    confirmation.claimed_at = None
    fields = ("state", "amazon_message", "claimed_at", "updated_at")
    confirmation.save(update_fields=[*ShipmentConfirmation.ATTEMPT_FIELDS, *fields])
    tracking_hold_alert(confirmation=confirmation)
    return True


def confirmations_send_anyway(
    *, confirmation_ids: list[int], user: str, now: dt.datetime | None = None
) -> int:
    """*Send anyway*: a person checked the held numbers; they go to Amazon now as they are.

    Only held rows move; who and when is recorded on each.
    """
    from django_q.tasks import async_task

    now = now or timezone.now()
    rows = ShipmentConfirmation.objects.filter(pk__in=confirmation_ids, state=State.HELD)
    ids = list(rows.values_list("pk", flat=True))
    updated = ShipmentConfirmation.objects.filter(pk__in=ids, state=State.HELD).retry(
        now=now,
        state=State.PENDING,
        amazon_message="",
        alerted_at=None,
        sent_anyway_by=user[:150],
        sent_anyway_at=now,
        updated_at=now,
    )
    for pk in ids:
        transaction.on_commit(lambda pk=pk: async_task(SEND_TASK, pk), robust=True)
    return updated


def tracking_hold_alert(*, confirmation: ShipmentConfirmation) -> bool:
    """Email operations once per held package (the same once-only flag as a rejection)."""
    return confirmation_email_once(
        confirmation=confirmation, subject="Tracking number held", template="confirmations/held_email.txt"
    )
