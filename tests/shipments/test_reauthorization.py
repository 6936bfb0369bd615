"""A sweep that meets Amazon refusing the store's authorization marks the store:
the adapter only raises ReauthorizationRequired, the sweep records it. The
package waits, without an attempt counted against it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from connections.models import Store
from fulfillment.shipments.models import ShipmentConfirmation

from .conftest import ITEM_A

State = ShipmentConfirmation.State


def _amazon_refuses_the_token(store: Store) -> None:
    # The sandbox knows no seller with this token: LWA answers invalid_grant.
    Store.objects.filter(pk=store.pk).update(refresh_token="Atzr|no-longer-valid")
    store.refresh_from_db()


@pytest.mark.parametrize("asking_first", [False, True], ids=["confirmShipment", "getOrder"])
def test_a_sweep_meeting_a_refused_authorization_marks_the_store(store, order, ship, sweep, asking_first):
    # given: a due package; with asking_first, a crashed attempt left Amazon to be asked first
    shipment = ship(order, {ITEM_A: 1})
    if asking_first:
        ShipmentConfirmation.objects.filter(pk=shipment.confirmation.pk).update(
            state=State.SENDING,
            attempts=1,
            outcome_unknown=True,
            claimed_at=timezone.now() - dt.timedelta(minutes=30),
        )
    _amazon_refuses_the_token(store)

    # when
    run, _ = sweep()

    # then
    assert not run.ok
    assert ShipmentConfirmation.objects.get().state == State.RETRYING
    store.refresh_from_db()
    assert store.authorization_status == Store.Authorization.NEEDS_REAUTHORIZATION
