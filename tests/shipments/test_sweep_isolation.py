"""One bad row never stops a store's confirmation sweep from sending the others (issue 16.2)."""

from __future__ import annotations

import pytest
from django.db import connection

from fulfillment.shipments.models import Shipment, ShipmentConfirmation
from fulfillment.shipments.services import confirmation_sweep
from sandbox.models import SandboxPackage

from .conftest import ITEM_A, ITEM_B

pytestmark = pytest.mark.django_db

State = ShipmentConfirmation.State


def test_a_row_whose_send_raises_does_not_stop_the_others(order, ship, sweep, monkeypatch):
    # given: two packages; sending the first raises past every handler
    first = ship(order, {ITEM_A: 1})
    second = ship(order, {ITEM_A: 1, ITEM_B: 1})
    real_send = confirmation_sweep.confirmation_send

    def send(*, confirmation_id, **kw):
        if confirmation_id == first.confirmation.pk:
            raise RuntimeError("a bug in one row")
        return real_send(confirmation_id=confirmation_id, **kw)

    monkeypatch.setattr(confirmation_sweep, "confirmation_send", send)

    # when: run twice
    run, _ = sweep()
    again, _ = sweep()

    # then: the other package went to Amazon once, and the run says one failed
    assert ShipmentConfirmation.objects.get(shipment=second).state == State.ACCEPTED
    assert [p.package_reference_id for p in SandboxPackage.objects.all()] == [str(second.package_reference)]
    assert not run.ok and run.counts["failed"] == 1 and run.counts["accepted"] == 1
    assert "1 failed unexpectedly" in run.error
    assert again.counts["accepted"] == 0


@pytest.mark.postgres(reason="a BC timestamp is a PostgreSQL value")
def test_a_row_no_driver_can_read_is_set_aside_and_the_others_are_sent(order, ship, sweep):
    # given: a package written before ship dates were checked: year 1 with an
    # offset, stored by PostgreSQL as a BC timestamp that psycopg cannot load
    poisoned = ship(order, {ITEM_A: 1})
    good = ship(order, {ITEM_A: 1, ITEM_B: 1})
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Shipment._meta.db_table} SET ship_date = '0001-01-01 00:00:00+05:00' WHERE id = %s",
            [poisoned.pk],
        )

    # when: run twice
    run, _ = sweep()
    again, _ = sweep()

    # then
    states = dict(ShipmentConfirmation.objects.values_list("shipment_id", "state"))
    assert states == {poisoned.pk: State.REJECTED, good.pk: State.ACCEPTED}
    assert "could not be read" in ShipmentConfirmation.objects.get(shipment_id=poisoned.pk).last_error
    assert SandboxPackage.objects.count() == 1
    assert run.counts["accepted"] == 1 and again.counts["sent"] == 0


@pytest.mark.postgres(reason="a BC timestamp is a PostgreSQL value")
def test_the_repair_migration_gives_a_poisoned_package_a_readable_date_and_a_person(order, ship, sweep):
    import importlib

    from django.db.migrations.loader import MigrationLoader

    # The migration's models as they were when it was written (Shipment was wms's then).
    node = ("confirmations", "0002_repair_out_of_range_ship_dates")
    apps = MigrationLoader(connection).project_state(node).apps
    repair = importlib.import_module(
        "fulfillment.shipments.migrations.0002_repair_out_of_range_ship_dates"
    ).repair
    poisoned = ship(order, {ITEM_A: 1})
    good = ship(order, {ITEM_A: 1, ITEM_B: 1})
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Shipment._meta.db_table} SET ship_date = '0001-01-01 00:00:00+05:00' WHERE id = %s",
            [poisoned.pk],
        )

    repair(apps)
    repair(apps)  # run again: nothing more to do
    sweep()

    poisoned = Shipment.objects.get(pk=poisoned.pk)  # readable again
    assert poisoned.ship_date == poisoned.created_at
    confirmation = ShipmentConfirmation.objects.get(shipment=poisoned)
    assert confirmation.state == State.REJECTED and "out of range" in confirmation.amazon_message
    assert ShipmentConfirmation.objects.get(shipment=good).state == State.ACCEPTED
