"""Send one package to Amazon: claim it, check it, confirm it, record the attempt.

A package is confirmed to Amazon at most once:
- a worker claims a row with a compare-and-set UPDATE, so two workers (the
  on-commit task and the sweep, or two sweeps) never send the same package;
- a claim older than the lease belongs to a crashed worker and may be taken
  again, and a row whose last request may have reached Amazon
  (`outcome_unknown`) first asks Amazon (getOrder with PACKAGES) whether the
  package is there, so a crash between Amazon's acceptance and our commit
  ends `accepted`, not sent twice and not rejected.

Each try is an attempt of the outbound queue base (fulfillment.core.outbound):
Amazon's status code and the duration go into the row's attempt history, in
the UPDATE that records the outcome anyway.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from connections.amazon import (
    AmazonClient,
    AmazonError,
    PermanentAmazonError,
    ReauthorizationRequired,
    TransientAmazonError,
    amazon_client,
)
from connections.services import store_reauthorization_record
from fulfillment.core.outbound import Attempt
from fulfillment.jobs.errors import job_failure
from fulfillment.orders import transitions
from fulfillment.orders.models import Order
from fulfillment.shipments.models import ShipmentConfirmation, ShipmentLine
from fulfillment.shipments.selectors import amazon_package_find, confirmation_check, confirmation_for_send
from fulfillment.shipments.services.alerts import confirmation_email_once
from fulfillment.shipments.services.confirmation_body import amazon_answer, amazon_message, confirmation_body
from fulfillment.shipments.services.tracking_hold import tracking_hold, tracking_hold_reason

logger = logging.getLogger(__name__)

State = ShipmentConfirmation.State
ATTEMPT_FIELDS = ShipmentConfirmation.ATTEMPT_FIELDS
# A store that needs re-authorization: its packages wait without spending attempts.
REAUTHORIZATION_WAIT = dt.timedelta(hours=1)
ALREADY_THERE = "Already confirmed on Amazon (found by getOrder)."


def claim_lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CONFIRMATION_CLAIM_LEASE_SECONDS)


def confirmation_claim(
    *, confirmation_id: int, now: dt.datetime, version: dt.datetime | None = None, **changes
) -> bool:
    """Compare-and-set: take a due row (or a crashed worker's stale one) and count
    the attempt. True if taken. `version`: the row's `updated_at` as read, so a row
    changed since (corrected, retried, resolved) is not taken with what was read of it."""
    return ShipmentConfirmation.objects.filter(
        **({"updated_at": version} if version is not None else {})
    ).claim(
        confirmation_id,
        now=now,
        also=Q(state=State.SENDING, claimed_at__lt=now - claim_lease()),
        state=State.SENDING,
        claimed_at=now,
        updated_at=now,
        **changes,
    )


def _claimable(confirmation: ShipmentConfirmation, now: dt.datetime) -> bool:
    # The claim's own condition, on the row as read: a row not due is left alone without a write.
    if confirmation.state in ShipmentConfirmation.DUE_STATES:
        return confirmation.not_before <= now
    return (
        confirmation.state == State.SENDING
        and confirmation.claimed_at is not None
        and confirmation.claimed_at < now - claim_lease()
    )


def confirmation_send(
    *,
    confirmation_id: int,
    client: AmazonClient | None = None,
    now: dt.datetime | None = None,
    carriers: dict | None = None,
) -> str:
    """Claim one due package and confirm it to Amazon; returns its state afterwards.

    A row another worker holds (or one not due) is left alone and its current
    state returned. `carriers`: the sweep's cache of carrier look-ups (see
    selectors.confirmation_check).

    The usual package costs one read (the row, its package, order, store and
    lines together), the claim, which also records the request about to go
    (`sent_body`, `outcome_unknown`: checked and built from what was read, the
    claim taking the row only if it has not changed since), and the answer:
    two commits. A package that must first ask Amazon (a request that may have
    reached it), fails a check, waits or is held takes the longer way.
    """
    now = now or timezone.now()
    try:
        confirmation, lines = confirmation_for_send(confirmation_id=confirmation_id)
    except Exception as exc:
        # A row that cannot even be read (a value no driver can load) is set
        # aside for a person, never retried in a loop.
        if not confirmation_claim(confirmation_id=confirmation_id, now=now):
            return ShipmentConfirmation.objects.values_list("state", flat=True).get(pk=confirmation_id)
        logger.exception("confirmation %s could not be read", confirmation_id)
        error = f"The package could not be read ({type(exc).__name__}); correct it, then Retry."
        ShipmentConfirmation.objects.filter(pk=confirmation_id).update(
            state=State.REJECTED, last_error=error, amazon_message=error, updated_at=now
        )
        return State.REJECTED
    if confirmation is None:
        raise ShipmentConfirmation.DoesNotExist(f"no confirmation {confirmation_id}")
    if not _claimable(confirmation, now):
        return confirmation.state
    body = _ready_body(confirmation, lines=lines, now=now, carriers=carriers)
    sending = {"outcome_unknown": True, "sent_body": body} if body is not None else {}
    if not confirmation_claim(
        confirmation_id=confirmation_id, now=now, version=confirmation.updated_at, **sending
    ):
        return ShipmentConfirmation.objects.values_list("state", flat=True).get(pk=confirmation_id)
    # What the claim wrote, on the row in hand.
    confirmation.attempts += 1
    for name, value in dict(state=State.SENDING, claimed_at=now, updated_at=now, **sending).items():
        setattr(confirmation, name, value)
    attempt = confirmation.attempt_started(now=now, claimed=True)
    try:
        return _send_claimed(
            confirmation,
            lines=lines,
            body=body,
            attempt=attempt,
            client=client or amazon_client(confirmation.store),
            now=now,
            carriers=carriers,
        )
    except Exception as exc:
        # A bug or a database hiccup must not strand the row in `sending` until
        # the lease expires, nor block the rest of the queue.
        error = job_failure(logger, f"confirmation {confirmation_id}", exc)
        _fail(confirmation, attempt, error=error, retryable=True)
        return confirmation.state


def _ready_body(
    confirmation: ShipmentConfirmation, *, lines: list, now: dt.datetime, carriers: dict | None
) -> dict | None:
    """The request to send right away, or None when this package takes the longer way:
    Amazon may have it already (ask first), a check fails, it waits or it is held."""
    if confirmation.outcome_unknown or confirmation.state == State.SENDING:
        return None
    check = confirmation_check(
        shipment=confirmation.shipment,
        order=confirmation.order,
        store=confirmation.store,
        lines=lines,
        now=now,
        carriers=carriers,
    )
    if check.problems or check.wait_until is not None:
        return None
    if tracking_hold_reason(confirmation=confirmation, carrier_code=check.carrier.code):
        return None
    return confirmation_body(confirmation=confirmation, carrier=check.carrier, lines=lines)


def _save(confirmation: ShipmentConfirmation, *fields: str, **changes) -> None:
    for name, value in changes.items():
        setattr(confirmation, name, value)
    # Workers write only what they decide, never a person's edits.
    confirmation.save(update_fields=[*fields, *changes, "updated_at"])


def _accept(
    confirmation: ShipmentConfirmation,
    attempt: Attempt,
    *,
    now: dt.datetime,
    code: int | None,
    message="",
    **changes,
) -> str:
    confirmation.attempt_succeeded(attempt, code=code)
    accepted = dict(state=State.ACCEPTED, accepted_at=now, outcome_unknown=False, amazon_message=message)
    if not transitions.order_ship_confirmed_may_move(confirmation.order.status):
        # Shipped as read with the package (recording already moved it: Amazon's accepted
        # packages are some of the recorded ones), held or cancelled: nothing to derive.
        _save(confirmation, *ATTEMPT_FIELDS, **accepted, **changes)
        return confirmation.state
    with transaction.atomic():
        _save(confirmation, *ATTEMPT_FIELDS, **accepted, **changes)
        order_status_from_confirmations(order_id=confirmation.order_id)
    return confirmation.state


def _fail(
    confirmation: ShipmentConfirmation,
    attempt: Attempt,
    *,
    error: str,
    retryable: bool,
    code: int | None = None,
    message: str = "",
    **changes,
) -> str:
    """Record a failed attempt: retrying after the backoff if it may, else rejected
    (`message`, or why we gave up, for the admin) and operations alerted."""
    if confirmation.attempt_failed(attempt, error=error, retryable=retryable, code=code):
        _save(confirmation, *ATTEMPT_FIELDS, state=State.RETRYING, **changes)
        return confirmation.state
    if retryable:
        message = f"Gave up after {confirmation.attempts} attempts. Last error: {error}"
    _save(
        confirmation,
        *ATTEMPT_FIELDS,
        state=State.REJECTED,
        amazon_message=(message or error)[:4000],
        **changes,
    )
    confirmation_alert(confirmation=confirmation)
    return confirmation.state


def _wait(confirmation: ShipmentConfirmation, *, until: dt.datetime, error: str | None = None, **changes):
    """Not an attempt: the package waits, its attempts untouched."""
    confirmation.attempt_deferred(until=until, error=error)
    _save(confirmation, *ATTEMPT_FIELDS, state=State.RETRYING, **changes)
    return confirmation.state


def _already_on_amazon(
    client: AmazonClient, confirmation: ShipmentConfirmation
) -> tuple[bool | None, str, int | None]:
    """Is our package among the order's packages on Amazon? (True, False, or None if Amazon
    could not say), a message when the reference is taken by another package, and the
    status code of Amazon's answer."""
    try:
        amazon_order = client.get_order(confirmation.order.amazon_order_id, included_data=["PACKAGES"])
    except AmazonError as exc:
        store_reauthorization_record(store=confirmation.store, error=exc)
        logger.info("getOrder for confirmation %s failed: %s", confirmation.pk, exc)
        return None, "", exc.status
    package = amazon_package_find(amazon_order=amazon_order, package_reference=confirmation.package_reference)
    if package is None:
        return False, "", client.last_status
    ours = confirmation.shipment.tracking_number.strip()
    if str(package.get("trackingNumber") or "").strip() == ours:
        return True, "", client.last_status
    return (
        False,
        (
            f"Amazon already has package reference {confirmation.package_reference} on this order with "
            f"tracking number {package.get('trackingNumber')!r}, not {ours!r}: check it in Seller Central, "
            "then Mark resolved."
        ),
        client.last_status,
    )


def _checked_body(
    confirmation: ShipmentConfirmation,
    *,
    lines: list,
    attempt: Attempt,
    client: AmazonClient,
    now: dt.datetime,
    carriers: dict | None,
) -> dict | str:
    """The longer way: ask Amazon first if a request may have reached it, check, wait or
    hold; the request to send (recorded before it goes), or the state the row was left in."""
    # A previous request may have reached Amazon (crash, timeout, 5xx): ask first.
    if confirmation.outcome_unknown:
        found, conflict, code = _already_on_amazon(client, confirmation)
        if found:
            return _accept(confirmation, attempt, now=now, code=code, message=ALREADY_THERE)
        if conflict:
            return _fail(confirmation, attempt, error=conflict, retryable=False, code=code)
        if found is None:
            error = "Could not ask Amazon whether the package is there."
            return _fail(confirmation, attempt, error=error, retryable=True, code=code)

    check = confirmation_check(
        shipment=confirmation.shipment,
        order=confirmation.order,
        store=confirmation.store,
        lines=lines,
        now=now,
        carriers=carriers,
    )
    if check.problems:
        return _fail(confirmation, attempt, error=" ".join(check.problems), retryable=False)
    if check.wait_until is not None:
        return _wait(confirmation, until=check.wait_until)  # for its ship date to pass
    if tracking_hold(confirmation=confirmation, carrier_code=check.carrier.code):
        return confirmation.state  # held for a person: not its carrier's tracking number

    body = confirmation_body(confirmation=confirmation, carrier=check.carrier, lines=lines)
    _save(confirmation, outcome_unknown=True, sent_body=body)
    return body


def _send_claimed(
    confirmation: ShipmentConfirmation,
    *,
    lines: list,
    body: dict | None,
    attempt: Attempt,
    client: AmazonClient,
    now: dt.datetime,
    carriers: dict | None = None,
) -> str:
    order, store = confirmation.order, confirmation.store
    if body is None:
        body = _checked_body(
            confirmation, lines=lines, attempt=attempt, client=client, now=now, carriers=carriers
        )
        if isinstance(body, str):
            return body  # the state it was left in
    try:
        client.confirm_shipment(order.amazon_order_id, body=body)
    except ReauthorizationRequired as exc:
        # LWA refused before anything reached confirmShipment; not the package's fault.
        store_reauthorization_record(store=store, error=exc)
        return _wait(confirmation, until=now + REAUTHORIZATION_WAIT, error=str(exc), outcome_unknown=False)
    except PermanentAmazonError as exc:
        # After a crash, Amazon refuses the repeat (reference already used,
        # order already shipped): that is our own earlier success.
        found, conflict, code = _already_on_amazon(client, confirmation)
        if found:
            return _accept(confirmation, attempt, now=now, code=code, message=ALREADY_THERE)
        message = " ".join(filter(None, [amazon_message(exc), conflict]))
        return _fail(
            confirmation,
            attempt,
            error=str(exc),
            retryable=False,
            code=exc.status,
            message=message,
            outcome_unknown=False,
            amazon_response=amazon_answer(status=exc.status, error=exc),
        )
    except TransientAmazonError as exc:
        answer = amazon_answer(status=exc.status, error=exc)
        return _fail(
            confirmation, attempt, error=str(exc), retryable=True, code=exc.status, amazon_response=answer
        )
    answer = amazon_answer(status=client.last_status)
    return _accept(confirmation, attempt, now=now, code=client.last_status, amazon_response=answer)


# --- Order status --------------------------------------------------------------------------

_confirmed_of_line = (
    ShipmentLine.objects.filter(order_line=OuterRef("pk"), shipment__confirmation__state=State.ACCEPTED)
    .order_by()
    .values("order_line")
    .annotate(total=Sum("quantity"))
    .values("total")[:1]
)


def order_status_from_confirmations(*, order_id: int) -> Order:
    """Move the order forward to what Amazon has confirmed; never backward.

    The WMS side sets `status` from what the warehouse shipped when a
    package is recorded; Amazon's confirmed quantities can only catch up
    with that, so the order takes the further of the two (the ship moves of
    fulfillment/orders/transitions.py, which record that we shipped it).
    `amazon_status` stays what Amazon last said: the next download reads it.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    # Each line with what accepted packages confirmed of it, in one query (under the order's lock).
    lines = list(
        order.lines.order_by()
        .annotate(confirmed=Coalesce(Subquery(_confirmed_of_line), 0))
        # order_id too: the related manager sets each line's order (a deferred id is a query a line).
        .only("order_id", "quantity_ordered", "quantity_cancelled")
    )
    if not any(line.confirmed for line in lines):
        return order
    everything = all(line.confirmed >= line.quantity_ordered - line.quantity_cancelled for line in lines)
    transitions.order_ship_confirmed(order, complete=everything)
    return order


# --- Alert ----------------------------------------------------------------------------------


def confirmation_alert(*, confirmation: ShipmentConfirmation) -> bool:
    """Email operations once per confirmation that was rejected. True if sent now."""
    return confirmation_email_once(
        confirmation=confirmation,
        subject="Amazon shipment confirmation rejected",
        template="confirmations/rejected_email.txt",
    )
