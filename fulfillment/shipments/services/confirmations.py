"""The confirmation queue's entry points: enqueue a package, restart a corrected one,
and the admin's Retry and Mark resolved.

Sending one package lives in .confirmation_send, the body Amazon gets in
.confirmation_body, the per-store sweep in .confirmation_sweep; their names
stay importable from here. Every row is a queue row of the outbound base
(fulfillment.core.outbound): attempts, backoff, history, manual retry.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import DatabaseError, transaction
from django.utils import timezone

from fulfillment.shipments.models import Shipment, ShipmentConfirmation

# Re-exported: callers and tests import these from here.
from fulfillment.shipments.services.confirmation_body import confirmation_body  # noqa: F401
from fulfillment.shipments.services.confirmation_send import (  # noqa: F401
    confirmation_alert,
    confirmation_claim,
    confirmation_send,
    order_status_from_confirmations,
)
from fulfillment.shipments.services.confirmation_sweep import ConfirmationSweepJob, confirmations_sweep  # noqa: F401

logger = logging.getLogger(__name__)

State = ShipmentConfirmation.State
CONFIRM_TASK = "fulfillment.shipments.tasks.confirmation_send_task"


def confirmation_enqueue(*, shipment: Shipment, new: bool = False) -> ShipmentConfirmation:
    """Queue the package for confirmation, in the caller's (the shipment's) transaction.

    Idempotent: a package already queued returns its row. `new`: the shipment
    was created in this transaction, so it has no row yet (one INSERT instead
    of a look-up and a savepoint). The send task is queued only once the
    shipment commits (a rolled-back shipment sends nothing).
    """

    order = shipment.order
    fields = dict(
        order=order,
        store_id=order.store_id,
        package_reference=shipment.package_reference,
        not_before=timezone.now(),
    )
    if new:
        confirmation, created = ShipmentConfirmation.objects.create(shipment=shipment, **fields), True
    else:
        confirmation, created = ShipmentConfirmation.objects.get_or_create(shipment=shipment, defaults=fields)
    if created:
        _send_after_commit(confirmation.pk)
    return confirmation


def _send_after_commit(confirmation_id: int) -> None:
    """Have a worker send the package as soon as the caller's transaction commits.

    With the ORM broker (the default) its queue is a table of this database:
    the task's row is written in the caller's transaction, committed with the
    shipment and rolled back with it, and without django-q2's broker calling
    close_old_connections(), which it does outside a transaction (and which
    reconnects, twice per shipment, when CONN_MAX_AGE is 0). Any other broker
    (Redis) is told after commit.
    """
    from django_q.conf import Conf
    from django_q.tasks import async_task

    # Only the id goes into the task: django-q2 stores task arguments.
    if Conf.ORM == "default" and not Conf.SYNC and transaction.get_connection().in_atomic_block:
        try:
            async_task(CONFIRM_TASK, confirmation_id)
        except DatabaseError:
            raise  # the transaction itself failed: nothing of the package is kept
        except Exception:
            # Not the database: the package and its row stand; the sweep sends it.
            logger.exception("could not queue the send of confirmation %s", confirmation_id)
        return
    # Robust: a broker that is down must not turn a committed shipment into a
    # 500 (the WMS would think nothing was written); the sweep sends the row anyway.
    transaction.on_commit(lambda: async_task(CONFIRM_TASK, confirmation_id), robust=True)


def confirmation_restart(*, shipment: Shipment, now: dt.datetime | None = None) -> ShipmentConfirmation:
    """A corrected package (fulfillment.shipments.services.recording.shipment_correct) is confirmed
    from the start: pending, no attempts, no error, no alert sent yet. The attempt
    history stays: it tells what happened to the package's earlier data.

    The caller has checked, under the row's lock, that Amazon has not accepted
    it and that no request of it may have reached Amazon.
    """
    now = now or timezone.now()
    confirmation = ShipmentConfirmation.objects.filter(shipment=shipment).first()
    if confirmation is None:
        return confirmation_enqueue(shipment=shipment)
    changes = dict(
        state=State.PENDING,
        attempts=0,
        not_before=now,
        claimed_at=None,
        outcome_unknown=False,
        last_error="",
        amazon_message="",
        last_attempt_at=None,
        alerted_at=None,
        # New data, new check: a number sent anyway before is not this one.
        sent_anyway_by="",
        sent_anyway_at=None,
    )
    for name, value in changes.items():
        setattr(confirmation, name, value)
    confirmation.save(update_fields=[*changes, "updated_at"])
    _send_after_commit(confirmation.pk)
    return confirmation


def confirmations_retry(*, confirmation_ids: list[int], now: dt.datetime | None = None) -> int:
    """Admin "Retry now": rejected (or waiting) packages go again now, with fresh
    attempts and their history kept."""
    now = now or timezone.now()
    rows = ShipmentConfirmation.objects.filter(
        pk__in=confirmation_ids, state__in=[State.REJECTED, State.RETRYING, State.PENDING]
    )
    ids = list(rows.values_list("pk", flat=True))
    updated = rows.filter(pk__in=ids).retry(now=now, state=State.PENDING, alerted_at=None, updated_at=now)
    for pk in ids:
        # Sent at once after the click commits; the sweep would pick them up anyway.
        _send_after_commit(pk)
    return updated


def confirmations_resolve(*, confirmation_ids: list[int], user: str = "") -> int:
    """Admin "Mark resolved": a person confirmed (or settled) the package in Seller Central."""
    return ShipmentConfirmation.objects.filter(
        pk__in=confirmation_ids, state__in=[State.REJECTED, State.RETRYING, State.PENDING, State.HELD]
    ).update(state=State.RESOLVED, resolved_by=user[:150], updated_at=timezone.now())
