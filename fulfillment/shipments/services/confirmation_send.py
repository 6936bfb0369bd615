"""Send one package to Amazon: claim it, check it, confirm it.

A package is confirmed to Amazon at most once:
- a worker claims a row with a compare-and-set UPDATE, so two workers (the
  on-commit task and the sweep, or two sweeps) never send the same package;
- a claim older than the lease belongs to a crashed worker and may be taken
  again, and a row whose last request may have reached Amazon
  (`outcome_unknown`) first asks Amazon (getOrder with PACKAGES) whether the
  package is there, so a crash between Amazon's acceptance and our commit
  ends `accepted`, not sent twice and not rejected.
"""

from __future__ import annotations

import datetime as dt
import logging
import random

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone

from connections.amazon import (
    AmazonClient,
    AmazonError,
    PermanentAmazonError,
    ReauthorizationRequired,
    TransientAmazonError,
    amazon_client,
)
from connections.models import OrderStatus
from fulfillment.jobs.errors import job_failure
from fulfillment.orders.models import Order
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.selectors import amazon_package_find, confirmation_check, confirmed_quantities
from fulfillment.shipments.services.confirmation_body import amazon_message, confirmation_body

logger = logging.getLogger(__name__)

State = ShipmentConfirmation.State
# A store that needs re-authorization: its packages wait without spending attempts.
REAUTHORIZATION_WAIT = dt.timedelta(hours=1)


def claim_lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CONFIRMATION_CLAIM_LEASE_SECONDS)


def confirmation_backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes after the 1st, 2nd, 3rd ... failure (at most an hour),
    with jitter so packages that failed together do not come back together."""
    base = min(60.0 * 2 ** (max(attempts, 1) - 1), 3600.0)
    return dt.timedelta(seconds=base * random.uniform(0.5, 1.0))


def confirmation_claim(*, confirmation_id: int, now: dt.datetime) -> bool:
    """Compare-and-set: take a due row (or a crashed worker's stale one). True if taken."""
    taken = ShipmentConfirmation.objects.filter(
        Q(state__in=ShipmentConfirmation.DUE_STATES, not_before__lte=now)
        | Q(state=State.SENDING, claimed_at__lt=now - claim_lease()),
        pk=confirmation_id,
    ).update(state=State.SENDING, attempts=F("attempts") + 1, claimed_at=now, updated_at=now)
    return taken == 1


def _save(confirmation: ShipmentConfirmation, **changes) -> None:
    for name, value in changes.items():
        setattr(confirmation, name, value)
    # Workers write only what they decide, never a person's edits.
    confirmation.save(update_fields=[*changes, "updated_at"])


def _accept(confirmation: ShipmentConfirmation, *, now: dt.datetime, message: str = "") -> None:
    with transaction.atomic():
        _save(
            confirmation,
            state=State.ACCEPTED,
            accepted_at=now,
            outcome_unknown=False,
            last_error="",
            amazon_message=message,
        )
        order_status_from_confirmations(order_id=confirmation.order_id)


def _reject(confirmation: ShipmentConfirmation, *, message: str, error: str = "") -> None:
    _save(
        confirmation,
        state=State.REJECTED,
        amazon_message=message[:4000],
        last_error=(error or message)[:4000],
    )
    confirmation_alert(confirmation=confirmation)


def _already_on_amazon(client: AmazonClient, confirmation: ShipmentConfirmation) -> tuple[bool | None, str]:
    """Is our package among the order's packages on Amazon? (True, False, or None if Amazon
    could not say), with a message when the reference is taken by another package."""
    try:
        amazon_order = client.get_order(confirmation.order.amazon_order_id, included_data=["PACKAGES"])
    except AmazonError as exc:
        logger.info("getOrder for confirmation %s failed: %s", confirmation.pk, exc)
        return None, ""
    package = amazon_package_find(amazon_order=amazon_order, package_reference=confirmation.package_reference)
    if package is None:
        return False, ""
    ours = confirmation.shipment.tracking_number.strip()
    if str(package.get("trackingNumber") or "").strip() == ours:
        return True, ""
    return False, (
        f"Amazon already has package reference {confirmation.package_reference} on this order with "
        f"tracking number {package.get('trackingNumber')!r}, not {ours!r}: check it in Seller Central, "
        "then Mark resolved."
    )


def confirmation_send(
    *, confirmation_id: int, client: AmazonClient | None = None, now: dt.datetime | None = None
) -> str:
    """Claim one due package and confirm it to Amazon; returns its state afterwards.

    A row another worker holds (or one not due) is left alone and its current
    state returned.
    """
    now = now or timezone.now()
    if not confirmation_claim(confirmation_id=confirmation_id, now=now):
        return ShipmentConfirmation.objects.values_list("state", flat=True).get(pk=confirmation_id)
    try:
        confirmation = ShipmentConfirmation.objects.select_related(
            "shipment", "order", "store__marketplace", "store__warehouse"
        ).get(pk=confirmation_id)
    except Exception as exc:
        # A row that cannot even be read (a value no driver can load) is set
        # aside for a person, never retried in a loop.
        logger.exception("confirmation %s could not be read", confirmation_id)
        error = f"The package could not be read ({type(exc).__name__}); correct it, then Retry."
        ShipmentConfirmation.objects.filter(pk=confirmation_id).update(
            state=State.REJECTED, last_error=error, amazon_message=error, updated_at=now
        )
        return State.REJECTED
    try:
        return _send_claimed(confirmation, client=client or amazon_client(confirmation.store), now=now)
    except Exception as exc:
        # A bug or a database hiccup must not strand the row in `sending` until
        # the lease expires, nor block the rest of the queue.
        error = job_failure(logger, f"confirmation {confirmation_id}", exc)
        _retry_or_give_up(confirmation, error=error, now=now)
        return confirmation.state


def _retry_or_give_up(confirmation: ShipmentConfirmation, *, error: str, now: dt.datetime) -> None:
    if confirmation.attempts >= settings.CONFIRMATION_MAX_ATTEMPTS:
        _reject(
            confirmation,
            message=f"Gave up after {confirmation.attempts} attempts. Last error: {error}",
            error=error,
        )
        return
    _save(
        confirmation,
        state=State.RETRYING,
        last_error=error[:4000],
        not_before=now + confirmation_backoff(confirmation.attempts),
    )


def _send_claimed(confirmation: ShipmentConfirmation, *, client: AmazonClient, now: dt.datetime) -> str:
    shipment, order, store = confirmation.shipment, confirmation.order, confirmation.store
    lines = list(shipment.lines.select_related("order_line").order_by("order_line__order_item_id"))

    # A previous request may have reached Amazon (crash, timeout, 5xx): ask first.
    if confirmation.outcome_unknown:
        found, conflict = _already_on_amazon(client, confirmation)
        if found:
            _accept(confirmation, now=now, message="Already confirmed on Amazon (found by getOrder).")
            return confirmation.state
        if conflict:
            _reject(confirmation, message=conflict)
            return confirmation.state
        if found is None:
            _retry_or_give_up(
                confirmation, error="Could not ask Amazon whether the package is there.", now=now
            )
            return confirmation.state

    check = confirmation_check(shipment=shipment, order=order, store=store, lines=lines, now=now)
    if check.problems:
        _reject(confirmation, message=" ".join(check.problems))
        return confirmation.state
    if check.wait_until is not None:
        # Not an attempt: the package waits for its ship date to pass.
        _save(
            confirmation,
            state=State.RETRYING,
            attempts=confirmation.attempts - 1,
            not_before=check.wait_until,
        )
        return confirmation.state

    body = confirmation_body(confirmation=confirmation, carrier=check.carrier, lines=lines)
    _save(confirmation, outcome_unknown=True, sent_at=now)
    try:
        client.confirm_shipment(order.amazon_order_id, body=body)
    except ReauthorizationRequired as exc:
        # LWA refused before anything reached confirmShipment; not the package's fault.
        _save(
            confirmation,
            state=State.RETRYING,
            attempts=confirmation.attempts - 1,
            outcome_unknown=False,
            last_error=str(exc)[:4000],
            not_before=now + REAUTHORIZATION_WAIT,
        )
        return confirmation.state
    except PermanentAmazonError as exc:
        # After a crash, Amazon refuses the repeat (reference already used,
        # order already shipped): that is our own earlier success.
        found, conflict = _already_on_amazon(client, confirmation)
        if found:
            _accept(confirmation, now=now, message="Already confirmed on Amazon (found by getOrder).")
        else:
            message = amazon_message(exc)
            _save(confirmation, outcome_unknown=False)
            _reject(confirmation, message=" ".join(filter(None, [message, conflict])), error=str(exc))
        return confirmation.state
    except TransientAmazonError as exc:
        _retry_or_give_up(confirmation, error=str(exc), now=now)
        return confirmation.state
    _accept(confirmation, now=now)
    return confirmation.state


# --- Order status --------------------------------------------------------------------------

_PROGRESS = {
    Order.Status.RELEASED: 0,
    Order.Status.ACKNOWLEDGED: 0,
    Order.Status.PARTIALLY_SHIPPED: 1,
    Order.Status.SHIPPED: 2,
}


def order_status_from_confirmations(*, order_id: int) -> Order:
    """Move the order forward to what Amazon has confirmed; never backward.

    The WMS side sets `status` from what the warehouse shipped when a
    package is recorded; Amazon's confirmed quantities can only catch up
    with that, so the order takes the further of the two. `amazon_status`
    becomes what Amazon now reports (PARTIALLY_SHIPPED or SHIPPED), which
    the order download then reads as our own doing, not a shipment elsewhere.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    lines = list(order.lines.all())
    confirmed = confirmed_quantities(order_id=order_id)
    if not any(confirmed.values()):
        return order
    everything = all(
        confirmed.get(line.pk, 0) >= line.quantity_ordered - line.quantity_cancelled for line in lines
    )
    target = Order.Status.SHIPPED if everything else Order.Status.PARTIALLY_SHIPPED
    changed = []
    if order.status in _PROGRESS and _PROGRESS[target] > _PROGRESS[order.status]:
        order.status = target
        changed.append("status")
    amazon_target = OrderStatus.SHIPPED if everything else OrderStatus.PARTIALLY_SHIPPED
    if order.amazon_status not in (OrderStatus.CANCELLED, OrderStatus.SHIPPED, amazon_target):
        order.amazon_status = amazon_target
        changed.append("amazon_status")
    if changed:
        order.save(update_fields=[*changed, "updated_at"])
    return order


# --- Alert ----------------------------------------------------------------------------------


def confirmation_alert(*, confirmation: ShipmentConfirmation) -> bool:
    """Email operations once per confirmation that was rejected. True if sent now."""
    email = confirmation.store.warehouse.operations_email
    if not email:
        return False
    now = timezone.now()
    # Compare-and-set: two workers never email the same rejection twice.
    if not ShipmentConfirmation.objects.filter(pk=confirmation.pk, alerted_at__isnull=True).update(
        alerted_at=now
    ):
        return False
    confirmation.alerted_at = now
    context = {
        "confirmation": confirmation,
        "order": confirmation.order,
        "shipment": confirmation.shipment,
        "store": confirmation.store,
        "base_url": settings.PUBLIC_BASE_URL,
    }
    subject = (
        f"Amazon shipment confirmation rejected: order {confirmation.order.amazon_order_id}, "
        f"package {confirmation.package_reference}"
    )
    body = render_to_string("confirmations/rejected_email.txt", context)
    try:
        send_mail(subject, body, None, [email])
    except Exception:  # a mail outage must not stop the queue; the admin still shows it
        logger.exception("could not email the rejection of confirmation %s", confirmation.pk)
    return True
