"""Confirming packages to Amazon (the sandbox): full, partial, multi-package, carriers."""

from __future__ import annotations

import httpx
import pytest
from django.core import mail
from django.db import connection

from connections.models import Store
from fulfillment.jobs.models import SyncRun
from fulfillment.orders.models import Order
from fulfillment.shipments.models import ShipmentConfirmation
from fulfillment.shipments.services.confirmations import CONFIRM_TASK, confirmation_send
from fulfillment.shipments.tasks import confirmation_send_task
from mappings.models import CarrierMapping
from sandbox.models import SandboxPackage

from .conftest import ITEM_A, ITEM_B

State = ShipmentConfirmation.State


def test_it_confirms_a_full_shipment_once_and_the_order_is_shipped(order, amazon_order, ship, sweep):
    # given
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1}, service="UPS Ground", tracking="1ZFULL0001")
    assert shipment.confirmation.state == State.PENDING

    # when
    run, _ = sweep()
    again, _ = sweep()

    # then
    shipment.confirmation.refresh_from_db()
    assert shipment.confirmation.state == State.ACCEPTED
    assert shipment.confirmation.accepted_at is not None
    package = SandboxPackage.objects.get(order=amazon_order)
    assert package.package_reference_id == str(shipment.package_reference)
    assert package.carrier_code == "UPS"
    assert package.carrier_name == ""
    assert package.shipping_method == "UPS Ground"
    assert package.tracking_number == "1ZFULL0001"
    assert sorted((i["orderItemId"], i["quantity"]) for i in package.items) == [(ITEM_A, 2), (ITEM_B, 1)]
    amazon_order.refresh_from_db()
    assert amazon_order.status == "SHIPPED"
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.shipped_by_us_at is not None
    # Amazon's own word comes with the next download, never ahead of it
    assert order.amazon_status == "UNSHIPPED"
    assert run.ok and run.kind == SyncRun.Kind.SHIPMENT_CONFIRM
    assert run.counts == {
        "sent": 1,
        "accepted": 1,
        "rejected": 0,
        "retrying": 0,
        "held": 0,
        "skipped": 0,
        "failed": 0,
    }
    assert run.api_calls == 1
    # the second run finds nothing to send
    assert again.ok and again.api_calls == 0 and again.counts["sent"] == 0
    assert SandboxPackage.objects.count() == 1


def test_it_confirms_each_package_of_a_partial_shipment_with_its_own_items(order, amazon_order, ship, sweep):
    # given: the warehouse ships one unit of A first
    first = ship(order, {ITEM_A: 1})

    # when
    sweep()

    # then
    order.refresh_from_db()
    amazon_order.refresh_from_db()
    assert order.status == Order.Status.PARTIALLY_SHIPPED and order.shipped_by_us_at is None
    assert order.amazon_status == "UNSHIPPED"
    assert amazon_order.status == "PARTIALLY_SHIPPED"
    assert SandboxPackage.objects.get().items == [{"orderItemId": ITEM_A, "quantity": 1}]

    # when: the rest in a second package, twice over
    second = ship(order, {ITEM_A: 1, ITEM_B: 1})
    sweep()
    sweep()

    # then
    packages = {p.package_reference_id: p for p in SandboxPackage.objects.all()}
    assert set(packages) == {str(first.package_reference), str(second.package_reference)}
    assert sorted(
        (i["orderItemId"], i["quantity"]) for i in packages[str(second.package_reference)].items
    ) == [
        (ITEM_A, 1),
        (ITEM_B, 1),
    ]
    order.refresh_from_db()
    amazon_order.refresh_from_db()
    assert (order.status, amazon_order.status) == ("shipped", "SHIPPED")
    assert order.shipped_by_us_at is not None
    assert set(ShipmentConfirmation.objects.values_list("state", flat=True)) == {State.ACCEPTED}


def test_it_confirms_several_packages_of_one_order_in_one_run(order, amazon_order, ship, sweep):
    # given: three packages recorded before any is sent
    ship(order, {ITEM_A: 1})
    ship(order, {ITEM_A: 1})
    ship(order, {ITEM_B: 1})

    # when
    run, _ = sweep()

    # then
    assert run.counts["accepted"] == 3
    assert sorted(SandboxPackage.objects.values_list("package_reference_id", flat=True)) == ["1", "2", "3"]
    amazon_order.refresh_from_db()
    assert amazon_order.status == "SHIPPED"


def test_the_wms_moving_the_order_first_is_never_undone_by_a_partial_acceptance(order, ship):
    # given: both packages recorded, so the warehouse side already says shipped
    first = ship(order, {ITEM_A: 2})
    ship(order, {ITEM_B: 1})
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED

    # when: only the first is confirmed
    confirmation_send(confirmation_id=first.confirmation.pk)

    # then: shipped (by us) stays
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.shipped_by_us_at is not None


def _queued_tasks() -> list[tuple]:
    from django_q.models import OrmQ

    return [(row.task["func"], *row.task["args"]) for row in OrmQ.objects.order_by("pk")]


def test_it_queues_the_send_task_with_the_shipment(order, amazon_order, ship):
    # when: the ORM broker's row is written in the shipment's transaction
    shipment = ship(order, {ITEM_A: 2, ITEM_B: 1})

    # then: the id only, once
    assert _queued_tasks() == [(CONFIRM_TASK, shipment.confirmation.pk)]

    # when: the worker runs it (twice: django-q2 delivers at least once)
    result = confirmation_send_task(shipment.confirmation.pk)
    confirmation_send_task(shipment.confirmation.pk)

    # then
    assert result["state"] == State.ACCEPTED
    assert SandboxPackage.objects.filter(order=amazon_order).count() == 1


def test_a_rolled_back_shipment_queues_nothing(order, ship, django_capture_on_commit_callbacks):
    from django.db import transaction

    def shipment_then_failure():
        with transaction.atomic():
            ship(order, {ITEM_A: 1})
            raise RuntimeError("the WMS request failed after the shipment")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        shipment_then_failure()

    assert _queued_tasks() == []
    assert not ShipmentConfirmation.objects.exists()


def test_a_redis_broker_is_told_only_after_commit(
    order, ship, monkeypatch, django_capture_on_commit_callbacks
):
    from django_q.conf import Conf

    queued = []
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr("django_q.tasks.async_task", lambda func, *args: queued.append((func, *args)))

    with django_capture_on_commit_callbacks() as callbacks:
        shipment = ship(order, {ITEM_A: 1})
    assert queued == []
    for callback in callbacks:
        callback()

    assert queued == [(CONFIRM_TASK, shipment.confirmation.pk)]


def test_the_task_leaves_a_disconnected_stores_package_to_the_sweep(order, store, ship):
    shipment = ship(order, {ITEM_A: 1})
    Store.objects.filter(pk=store.pk).update(authorization_status=Store.Authorization.NEEDS_REAUTHORIZATION)

    result = confirmation_send_task(shipment.confirmation.pk)

    assert "skipped" in result
    shipment.confirmation.refresh_from_db()
    assert shipment.confirmation.state == State.PENDING


@pytest.mark.parametrize(
    ("warehouse_carrier", "mapping", "code", "name"),
    [
        ("UPS Ground", ("store", "UPS"), "UPS", ""),
        ("Fedex Home", ("default", "FedEx"), "FedEx", ""),
        ("fedex", None, "FedEx", ""),
        ("uSpS", None, "USPS", ""),
        ("Pony Express", None, "Other", "Pony Express"),
        ("Our Van", ("store", "Other", "Acme Local Courier"), "Other", "Acme Local Courier"),
    ],
    ids=[
        "store mapping",
        "default mapping",
        "exact lower case",
        "exact mixed case",
        "Other + name",
        "mapped Other",
    ],
)
def test_it_sends_the_carrier_amazon_accepts(
    order, amazon_order, store, ship, sweep, warehouse_carrier, mapping, code, name
):
    # given
    if mapping:
        CarrierMapping.objects.create(
            store=store if mapping[0] == "store" else None,
            warehouse_carrier=warehouse_carrier,
            amazon_carrier_code=mapping[1],
            amazon_carrier_name=mapping[2] if len(mapping) > 2 else "",
        )
    ship(order, {ITEM_A: 1}, carrier=warehouse_carrier)

    # when
    sweep()

    # then
    package = SandboxPackage.objects.get(order=amazon_order)
    assert (package.carrier_code, package.carrier_name) == (code, name)
    assert ShipmentConfirmation.objects.get().state == State.ACCEPTED


def test_the_store_mapping_wins_over_the_default(order, amazon_order, store, ship, sweep):
    CarrierMapping.objects.create(store=None, warehouse_carrier="Ground", amazon_carrier_code="FedEx")
    CarrierMapping.objects.create(store=store, warehouse_carrier="GROUND", amazon_carrier_code="UPS")
    ship(order, {ITEM_A: 1}, carrier="ground")

    sweep()

    assert SandboxPackage.objects.get(order=amazon_order).carrier_code == "UPS"
    assert not mail.outbox


def test_a_package_costs_one_read_and_three_writes_of_ours(order, amazon_order, ship, monkeypatch):
    # given: two packages of the order (the second ships it in full); the first, sent
    # with the same carrier cache, warms the access token, the rate-limit bucket and
    # the carrier look-up (once a sweep)
    first = ship(order, {ITEM_A: 1})
    second = ship(order, {ITEM_A: 1, ITEM_B: 1})
    carriers: dict = {}
    assert confirmation_send(confirmation_id=first.confirmation.pk, carriers=carriers) == State.ACCEPTED
    # The in-process sandbox's own queries are told apart (it answers on this connection).
    in_sandbox = [False]
    serve = httpx.HTTPTransport.handle_request

    def marked(self, request):
        in_sandbox[0] = True
        try:
            return serve(self, request)
        finally:
            in_sandbox[0] = False

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", marked)
    ours: list[str] = []

    def count(execute, sql, params, many, context):
        if not in_sandbox[0]:
            ours.append(sql.split()[0].upper() + " " + next((t for t in _TABLES if t in sql), "?"))
        return execute(sql, params, many, context)

    # when
    with connection.execute_wrapper(count):
        state = confirmation_send(confirmation_id=second.confirmation.pk, carriers=carriers)

    # then: the package with everything a send reads; the claim, which records the request
    # (sent_body); a rate-limit token; Amazon's answer. Each write is its own transaction (no
    # savepoint): in production the claim's and the answer's commits, and the token's. The
    # order was shipped as read: nothing to derive. SQLite takes the token in a transaction.
    assert state == State.ACCEPTED
    token = ["UPDATE connections_ratelimitbucket"]
    if connection.vendor != "postgresql":  # the bucket locked by an UPDATE, read, written
        token = ["SAVEPOINT ?", token[0], "SELECT connections_ratelimitbucket", token[0], "RELEASE ?"]
    assert ours == [
        "SELECT wms_shipmentline",
        "UPDATE confirmations_shipmentconfirmation",
        *token,
        "UPDATE confirmations_shipmentconfirmation",
    ]
    second.confirmation.refresh_from_db()
    assert second.confirmation.sent_body["packageDetail"]["orderItems"] == [
        {"orderItemId": ITEM_A, "quantity": 1},
        {"orderItemId": ITEM_B, "quantity": 1},
    ]
    assert second.confirmation.amazon_response == {"status": 204}
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


_TABLES = ("wms_shipmentline", "confirmations_shipmentconfirmation", "connections_ratelimitbucket")
