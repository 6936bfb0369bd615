"""`pull_orders` and `reconcile_orders`: one line per store, non-zero exit on failure."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from fulfillment.jobs.models import SyncRun
from fulfillment.orders.models import Order
from sandbox.orders import sandbox_order_update, sandbox_orders_create
from tests.factories import make_store

pytestmark = pytest.mark.usefixtures("shipping_for_every_level")


def test_pull_orders_prints_one_line_per_store(store, seller):
    sandbox_orders_create(seller=seller, count=3, seed=1, status="UNSHIPPED")
    out = StringIO()

    call_command("pull_orders", "--store", "Acme US", stdout=out)

    assert out.getvalue().strip() == "Acme US: 3 new, 0 updated, 0 cancelled, 0 held, 1 pages, 1 API calls"


def test_pull_orders_exits_non_zero_when_a_store_fails(store, seller):
    # a second store whose refresh token Amazon does not know
    make_store(name="Broken", refresh_token="Atzr|unknown")
    out = StringIO()

    with pytest.raises(CommandError) as failed:
        call_command("pull_orders", stdout=out)

    assert failed.value.returncode == 1
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("Acme US: 0 new")
    assert lines[1].startswith("Broken: ") and "FAILED" in lines[1]
    assert SyncRun.objects.filter(ok=False, store__name="Broken").exists()


def test_pull_orders_refuses_an_unknown_store(db):
    with pytest.raises(CommandError, match="No store named"):
        call_command("pull_orders", "--store", "Nope", stdout=StringIO())


def test_reconcile_imports_missing_orders_and_reports_ones_closed_at_amazon(store, seller):
    # given: one order we lack, one we hold open that Amazon shipped meanwhile
    ours, missing = sandbox_orders_create(seller=seller, count=2, seed=1, status="UNSHIPPED")
    call_command("pull_orders", stdout=StringIO())
    Order.objects.filter(amazon_order_id=missing.order_id).delete()
    sandbox_order_update(order=ours, when=timezone.now() - dt.timedelta(minutes=4), status="SHIPPED")
    out = StringIO()

    # when
    call_command("reconcile_orders", "--store", "Acme US", "--days", "4", stdout=out)

    # then
    assert Order.objects.filter(amazon_order_id=missing.order_id).exists()
    run = SyncRun.objects.get(kind=SyncRun.Kind.RECONCILE)
    assert run.ok and run.counts["missing"] == 1 and run.counts["closed_at_amazon"] == 1
    assert ours.order_id in run.notes
    assert "1 missing imported, 1 open here but closed at Amazon" in out.getvalue()


@pytest.mark.parametrize("command", ["pull_orders", "reconcile_orders"])
def test_a_job_command_that_did_nothing_because_of_a_lease_says_so_and_exits_non_zero(store, seller, command):
    # given: another worker holds the store's download lease
    from fulfillment.jobs.commands import EXIT_LEASE_BUSY
    from fulfillment.jobs.models import JobLock

    sandbox_orders_create(seller=seller, count=2, seed=1, status="UNSHIPPED")
    JobLock.objects.create(
        store=store,
        kind=SyncRun.Kind.ORDER_PULL,
        owner="other",
        locked_until=timezone.now() + dt.timedelta(seconds=50),
    )
    out = StringIO()

    # when
    with pytest.raises(CommandError) as not_run:
        call_command(command, stdout=out)

    # then: it said so, exited non-zero, and did nothing
    assert not_run.value.returncode == EXIT_LEASE_BUSY
    assert "Acme US: NOT RUN:" in out.getvalue() and "already running" in out.getvalue()
    assert "not run" in str(not_run.value)
    assert not SyncRun.objects.exists() and not Order.objects.exists()

    # and once the lease is free, the same command runs
    JobLock.objects.update(locked_until=timezone.now() - dt.timedelta(seconds=1))
    call_command(command, stdout=StringIO())
    assert SyncRun.objects.filter(ok=True).count() == 1
