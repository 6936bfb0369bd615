"""Writes of the confirmation queue: enqueue a package, send one, sweep a store.

A package is confirmed to Amazon at most once:
- one row per package (one-to-one on the shipment, unique per order and
  package reference), created in the shipment's own transaction;
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
from connections.models import Store
from connections.services import store_reauthorization_record
from fulfillment.jobs.errors import job_failure
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext, job_run
from fulfillment.orders import transitions
from fulfillment.orders.models import Order
from fulfillment.shipments.models import Shipment, ShipmentConfirmation
from fulfillment.shipments.selectors import (
    Carrier,
    amazon_package_find,
    confirmation_check,
    confirmations_due,
    confirmed_quantities,
)

logger = logging.getLogger(__name__)

State = ShipmentConfirmation.State
CONFIRM_TASK = "fulfillment.shipments.tasks.confirmation_send_task"
# A store that needs re-authorization: its packages wait without spending attempts.
REAUTHORIZATION_WAIT = dt.timedelta(hours=1)


def _claim_lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.CONFIRMATION_CLAIM_LEASE_SECONDS)


def confirmation_backoff(attempts: int) -> dt.timedelta:
    """1, 2, 4 ... minutes after the 1st, 2nd, 3rd ... failure (at most an hour),
    with jitter so packages that failed together do not come back together."""
    base = min(60.0 * 2 ** (max(attempts, 1) - 1), 3600.0)
    return dt.timedelta(seconds=base * random.uniform(0.5, 1.0))


# --- Enqueue ------------------------------------------------------------------------------


def confirmation_enqueue(*, shipment: Shipment) -> ShipmentConfirmation:
    """Queue the package for confirmation, in the caller's (the shipment's) transaction.

    Idempotent: a package already queued returns its row. The send task is
    queued only once the shipment commits (a rolled-back shipment sends nothing).
    """

    order = shipment.order
    confirmation, created = ShipmentConfirmation.objects.get_or_create(
        shipment=shipment,
        defaults=dict(
            order=order,
            store_id=order.store_id,
            package_reference=shipment.package_reference,
            not_before=timezone.now(),
        ),
    )
    if created:
        _send_after_commit(confirmation.pk)
    return confirmation


def _send_after_commit(confirmation_id: int) -> None:
    from django_q.tasks import async_task

    # Only the id goes into the task: django-q2 stores task arguments. Robust:
    # a broker that is down must not turn a committed shipment into a 500 (the
    # WMS would think nothing was written); the sweep sends the row anyway.
    transaction.on_commit(lambda: async_task(CONFIRM_TASK, confirmation_id), robust=True)


def confirmation_restart(*, shipment: Shipment, now: dt.datetime | None = None) -> ShipmentConfirmation:
    """A corrected package (fulfillment.shipments.services.recording.shipment_correct) is confirmed
    from the start: pending, no attempts, no error, no alert sent yet.

    The caller has checked, under the row's lock, that Amazon has not accepted
    it and that no request of it may have reached Amazon.
    """
    now = now or timezone.now()
    confirmation = ShipmentConfirmation.objects.filter(shipment=shipment).first()
    if confirmation is None:
        return confirmation_enqueue(shipment=shipment)
    _save(
        confirmation,
        state=State.PENDING,
        attempts=0,
        not_before=now,
        claimed_at=None,
        outcome_unknown=False,
        last_error="",
        amazon_message="",
        sent_at=None,
        alerted_at=None,
    )
    _send_after_commit(confirmation.pk)
    return confirmation


# --- Send one -------------------------------------------------------------------------------


def confirmation_claim(*, confirmation_id: int, now: dt.datetime) -> bool:
    """Compare-and-set: take a due row (or a crashed worker's stale one). True if taken."""
    taken = ShipmentConfirmation.objects.filter(
        Q(state__in=ShipmentConfirmation.DUE_STATES, not_before__lte=now)
        | Q(state=State.SENDING, claimed_at__lt=now - _claim_lease()),
        pk=confirmation_id,
    ).update(state=State.SENDING, attempts=F("attempts") + 1, claimed_at=now, updated_at=now)
    return taken == 1


def confirmation_body(*, confirmation: ShipmentConfirmation, carrier: Carrier, lines) -> dict:
    """Orders v0 ConfirmShipmentRequest for the package (only its own items)."""
    shipment = confirmation.shipment
    order = confirmation.order
    detail: dict = {
        "packageReferenceId": str(confirmation.package_reference),
        "carrierCode": carrier.code,
        "trackingNumber": shipment.tracking_number.strip(),
        "shipDate": shipment.ship_date.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "orderItems": [
            {"orderItemId": line.order_line.order_item_id, "quantity": line.quantity} for line in lines
        ],
    }
    if carrier.name:
        detail["carrierName"] = carrier.name
    # Only what the warehouse says it used: the order's planned ship code is
    # another carrier's service as soon as the warehouse ships otherwise.
    shipping_method = shipment.service.strip()
    if shipping_method:
        detail["shippingMethod"] = shipping_method
    return {
        "marketplaceId": order.marketplace_id or confirmation.store.marketplace.marketplace_id,
        "packageDetail": detail,
    }


def _amazon_message(error: AmazonError) -> str:
    parts = []
    for e in error.errors or []:
        if isinstance(e, dict):
            text = " ".join(str(e.get(k) or "") for k in ("code", "message", "details")).strip()
            parts.append(text)
    return "; ".join(p for p in parts if p) or str(error)


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
        store_reauthorization_record(store=confirmation.store, error=exc)
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
        store_reauthorization_record(store=store, error=exc)
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
            message = _amazon_message(exc)
            _save(confirmation, outcome_unknown=False)
            _reject(confirmation, message=" ".join(filter(None, [message, conflict])), error=str(exc))
        return confirmation.state
    except TransientAmazonError as exc:
        _retry_or_give_up(confirmation, error=str(exc), now=now)
        return confirmation.state
    _accept(confirmation, now=now)
    return confirmation.state


# --- Order status --------------------------------------------------------------------------


def order_status_from_confirmations(*, order_id: int) -> Order:
    """Move the order forward to what Amazon has confirmed; never backward.

    The WMS side sets `status` from what the warehouse shipped when a
    package is recorded; Amazon's confirmed quantities can only catch up
    with that, so the order takes the further of the two (the ship moves of
    fulfillment/orders/transitions.py, which record that we shipped it).
    `amazon_status` stays what Amazon last said: the next download reads it.
    """
    order = Order.objects.select_for_update().get(pk=order_id)
    lines = list(order.lines.all())
    confirmed = confirmed_quantities(order_id=order_id)
    if not any(confirmed.values()):
        return order
    everything = all(
        confirmed.get(line.pk, 0) >= line.quantity_ordered - line.quantity_cancelled for line in lines
    )
    transitions.order_ship_confirmed(order, complete=everything)
    return order


# --- Alerts and admin actions ------------------------------------------------------------------


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


def confirmations_retry(*, confirmation_ids: list[int], now: dt.datetime | None = None) -> int:
    """Admin "Retry": rejected (or waiting) packages go again now, with fresh attempts."""
    from django_q.tasks import async_task

    now = now or timezone.now()
    rows = ShipmentConfirmation.objects.filter(
        pk__in=confirmation_ids, state__in=[State.REJECTED, State.RETRYING, State.PENDING]
    )
    ids = list(rows.values_list("pk", flat=True))
    updated = rows.filter(pk__in=ids).update(
        state=State.PENDING, attempts=0, not_before=now, alerted_at=None, updated_at=now
    )
    for pk in ids:
        # Sent at once after the click commits; the sweep would pick them up anyway.
        transaction.on_commit(lambda pk=pk: async_task(CONFIRM_TASK, pk))
    return updated


def confirmations_resolve(*, confirmation_ids: list[int], user: str = "") -> int:
    """Admin "Mark resolved": a person confirmed (or settled) the package in Seller Central."""
    return ShipmentConfirmation.objects.filter(
        pk__in=confirmation_ids, state__in=[State.REJECTED, State.RETRYING, State.PENDING]
    ).update(state=State.RESOLVED, resolved_by=user[:150], updated_at=timezone.now())


# --- The sweep -------------------------------------------------------------------------------


def confirmations_sweep(*, store: Store, now: dt.datetime | None = None, limit: int = 5000) -> SyncRun:
    """Send every due package of one store; returns the run's record (see ConfirmationSweepJob).

    Raises fulfillment.jobs.locks.JobLockBusy (recording nothing) when a sweep of
    this store is already running.
    """
    return job_run(ConfirmationSweepJob(now=now, limit=limit), store=store)


class ConfirmationSweepJob(Job):
    """Send every due package of one store, each claimed on its own.

    The on-commit task may send single packages meanwhile: the per-row claim
    keeps them apart, so the lease only keeps two sweeps of a store from
    walking the same list; it is renewed after every package.
    """

    kind = SyncRun.Kind.SHIPMENT_CONFIRM
    count_keys = ("sent", "accepted", "rejected", "retrying", "skipped", "failed")

    def __init__(self, *, now: dt.datetime | None = None, limit: int = 5000) -> None:
        self.now = now
        self.limit = limit

    def run(self, ctx: JobContext) -> None:
        store, counts = ctx.store, ctx.counts
        client = ctx.amazon_client()
        due = list(
            confirmations_due(
                store_id=store.pk, now=self.now or timezone.now(), lease=_claim_lease()
            ).values_list("pk", flat=True)[: self.limit]
        )
        for confirmation_id in due:
            # Each package at the time it is sent: backoffs and ship dates are against it.
            try:
                state = confirmation_send(confirmation_id=confirmation_id, client=client, now=self.now)
            except Exception:
                # One bad row never stops the store's other packages.
                logger.exception("confirmation %s failed in the sweep of store %s", confirmation_id, store.pk)
                counts["failed"] += 1
                ctx.renew()
                continue
            outcome = _SWEEP_OUTCOMES.get(state)
            if outcome is None:
                counts["skipped"] += 1  # another worker had it
                continue
            counts[outcome] += 1
            counts["sent"] += 1
            ctx.renew()
        if counts["rejected"] or counts["retrying"] or counts["failed"]:
            # The run did its job, but packages need attention: a failed run
            # makes `confirm_shipments` exit non-zero and shows red in the admin.
            error = (
                f"{counts['rejected']} rejected, {counts['retrying']} to retry: see Shipment confirmations."
            )
            if counts["failed"]:
                error += f" {counts['failed']} failed unexpectedly (see the log)."
            ctx.fail(error)


_SWEEP_OUTCOMES = {State.ACCEPTED: "accepted", State.REJECTED: "rejected", State.RETRYING: "retrying"}
