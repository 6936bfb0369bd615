"""Each try of a package is an attempt of the outbound queue base: Amazon's status
code and the duration are on the row, and running the job again adds nothing."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from fulfillment.shipments.models import Shipment, ShipmentConfirmation

from .conftest import ITEM_A, ITEM_B


def _history(confirmation: ShipmentConfirmation) -> list[tuple]:
    confirmation.refresh_from_db()
    return [(e["n"], e["outcome"], e["response_code"]) for e in confirmation.attempt_history]


def test_an_accepted_package_records_amazons_code_and_the_duration(order, amazon_order, ship, sweep):
    # given
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1})

    # when: run twice
    run, _ = sweep()
    sweep()

    # then: one attempt, confirmShipment's 204
    confirmation = shipment.confirmation
    assert run.counts["accepted"] == 1
    assert _history(confirmation) == [(1, "ok", 204)]
    (entry,) = confirmation.attempt_history
    assert isinstance(entry["duration_ms"], int) and entry["duration_ms"] >= 0 and entry["error"] == ""
    assert confirmation.last_attempt_at is not None and confirmation.last_error == ""


def test_a_5xx_then_a_success_are_two_attempts(order, amazon_order, ship, sweep, sandbox_faults):
    # given: Amazon fails the first try
    shipment = ship(order, {ITEM_A: 1})
    sandbox_faults(error_rate=1.0)
    sweep()
    confirmation = shipment.confirmation
    confirmation.refresh_from_db()
    (failed,) = confirmation.attempt_history
    assert failed["outcome"] == "retry" and failed["response_code"] >= 500 and failed["error"]
    assert confirmation.not_before > timezone.now()

    # when: Amazon recovers and the backoff has passed, the job runs twice
    sandbox_faults(error_rate=0.0)
    ShipmentConfirmation.objects.filter(pk=confirmation.pk).update(
        not_before=timezone.now() - dt.timedelta(seconds=1)
    )
    sweep()
    sweep()

    # then: asked Amazon first (getOrder, 200), found nothing, confirmed
    assert _history(confirmation) == [(1, "retry", failed["response_code"]), (2, "ok", 204)]


def test_a_rejection_before_sending_is_a_final_attempt_without_a_code(order, ship, sweep):
    shipment = ship(order, {ITEM_A: 1})
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="")

    sweep()
    sweep()

    confirmation = shipment.confirmation
    assert _history(confirmation) == [(1, "failed", None)]
    assert "tracking number is missing" in confirmation.attempt_history[0]["error"]


def test_the_admin_retry_keeps_the_history(order, ship, sweep):
    from fulfillment.shipments.services.confirmations import confirmations_retry

    # given: rejected, then fixed
    shipment = ship(order, {ITEM_A: 1})
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="")
    sweep()
    Shipment.objects.filter(pk=shipment.pk).update(tracking_number="1ZFIXED")

    # when
    confirmations_retry(confirmation_ids=[shipment.confirmation.pk])
    sweep()
    sweep()

    # then: numbered again from 1 (fresh attempts), the rejection kept
    assert _history(shipment.confirmation) == [(1, "failed", None), (1, "ok", 204)]
