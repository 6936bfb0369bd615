"""Attack: make the database fail on a row holding a gift message and an address.

PostgreSQL's error text carries the failing row ("DETAIL: Failing row contains
(...)"), so before issue 16 a refused order copied the buyer's gift message into
SyncRun.error and the log. Errors stored or logged carry ids and field names
only (fulfillment/jobs/errors.py): checked here on the run row, the unreadable
order row and every log record, for a real constraint violation on PostgreSQL
and for an error text carrying buyer data on every job's error path.
"""

from __future__ import annotations

import logging

import pytest
from django.db import IntegrityError, connection

from fulfillment.jobs.errors import safe_error
from fulfillment.jobs.models import SyncRun
from fulfillment.orders.models import Order, UnreadableOrder
from fulfillment.orders.services.download import orders_pull, orders_reconcile
from mappings.models import ServiceLevel, ShippingMethodMapping
from sandbox.models import SandboxOrder, SandboxOrderItem
from sandbox.orders import sandbox_orders_create

GIFT = "Happy birthday Jane, love from 42 Secret Lane"


@pytest.fixture
def gift_orders(store, sandbox_seller):
    for level in ServiceLevel.values:
        ShippingMethodMapping.objects.create(
            store=store, service_level=level, prime=None, carrier="UPS", ship_code="GND"
        )
    placed = sandbox_orders_create(seller=sandbox_seller, count=6, seed=40, status="UNSHIPPED")
    SandboxOrderItem.objects.filter(order__in=placed).update(gift_message=GIFT, gift_wrap_level="Classic")
    SandboxOrder.objects.filter(pk__in=[o.pk for o in placed]).update(service_level="NEXT_DAY")
    return placed


def _buyer_data(placed) -> list[str]:
    values = [GIFT]
    for order in placed:
        address = order.delivery_address
        values += [address["name"], address["addressLine1"], address["phone"]]
    return values


def _assert_nothing_leaked(placed, caplog) -> None:
    stored = [
        *SyncRun.objects.values_list("error", flat=True),
        *SyncRun.objects.values_list("notes", flat=True),
        *UnreadableOrder.objects.values_list("reason", flat=True),
        *UnreadableOrder.objects.values_list("field", flat=True),
    ]
    logged = [r.getMessage() + (r.exc_text or "") for r in caplog.records]
    for value in _buyer_data(placed):
        for text in stored:
            assert value not in text, f"{value!r} stored in {text!r}"
        for text in logged:
            assert value not in text, f"{value!r} logged in {text!r}"
    assert not any("Failing row contains" in t for t in stored + logged)


@pytest.mark.postgres(
    reason="the leak it guards against is PostgreSQL's DETAIL, which carries the failing row"
)
def test_a_real_constraint_violation_on_a_gift_order_leaks_nothing(store, gift_orders, caplog):
    # given: the database refuses every NEXT_DAY order (a constraint we did not write)
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE fulfillment_order ADD CONSTRAINT attack_no_next_day CHECK (service_level <> 'NEXT_DAY')"
        )
    caplog.set_level(logging.DEBUG)

    # when: the download and the reconciliation, each twice
    runs = [orders_pull(store=store), orders_pull(store=store)]
    runs += [orders_reconcile(store=store, days=4), orders_reconcile(store=store, days=4)]

    # then: every order set aside, named by its id and the constraint, nothing of the row
    assert all(r.ok for r in runs), [r.error for r in runs]
    assert not Order.objects.exists()
    rows = list(UnreadableOrder.objects.all())
    assert len(rows) == len(gift_orders)
    assert all("attack_no_next_day" in r.reason and "CheckViolation" in r.reason for r in rows)
    _assert_nothing_leaked(gift_orders, caplog)


def _failing_with_the_row(placed):
    row = ", ".join(_buyer_data(placed))

    def fail(*args, **kwargs):
        raise IntegrityError(f'new row violates check constraint "x"\nDETAIL:  Failing row contains ({row}).')

    return fail


@pytest.mark.parametrize(
    ("job", "target"),
    [
        ("download", "fulfillment.orders.services.download._slice_done"),
        ("reconciliation", "fulfillment.orders.services.download._search_pages"),
        ("confirmation sweep", "fulfillment.shipments.services.confirmation_sweep.confirmations_due"),
        ("inventory push", "fulfillment.jobs.runner.amazon_client"),
    ],
)
def test_a_job_failing_with_buyer_data_in_the_error_stores_and_logs_none_of_it(
    store, gift_orders, caplog, monkeypatch, job, target
):
    # given: the job fails with an error whose text carries a row of buyer data
    from fulfillment.inventory.services import inventory_push_run
    from fulfillment.shipments.services.confirmations import confirmations_sweep

    module, name = target.rsplit(".", 1)
    monkeypatch.setattr(module + "." + name, _failing_with_the_row(gift_orders))
    caplog.set_level(logging.DEBUG)
    run_job = {
        "download": lambda: orders_pull(store=store),
        "reconciliation": lambda: orders_reconcile(store=store, days=4),
        "confirmation sweep": lambda: confirmations_sweep(store=store),
        "inventory push": lambda: inventory_push_run(store=store),
    }[job]

    # when: twice
    first, second = run_job(), run_job()

    # then: the runs failed and say with what and where, nothing of the row
    assert not first.ok and not second.ok
    assert first.error.startswith("IntegrityError in tests/reliability/test_error_leaks.py")
    _assert_nothing_leaked(gift_orders, caplog)


def test_safe_error_keeps_our_own_messages_and_drops_everything_else():
    from connections.amazon import PermanentAmazonError
    from fulfillment.orders.services.parsing import AmazonOrderParseError

    assert safe_error(PermanentAmazonError("Invalid input", code="InvalidInput", status=400)) == (
        "PermanentAmazonError: 400 InvalidInput: Invalid input"
    )
    assert safe_error(
        AmazonOrderParseError("is negative", order_id="1-2-3", field="orderItems[0].quantityOrdered")
    ) == ("AmazonOrderParseError: order 1-2-3: orderItems[0].quantityOrdered: is negative")
    with pytest.raises(ValueError, match="invalid literal") as raised:
        int(GIFT)
    assert GIFT in str(raised.value)
    assert GIFT not in safe_error(raised.value) and safe_error(raised.value).startswith(
        "ValueError in tests/"
    )
