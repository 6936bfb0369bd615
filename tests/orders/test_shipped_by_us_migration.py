"""Migration 0010 records "shipped by us" on the orders today's rules read that way."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from fulfillment.orders.models import Order
from fulfillment.shipments.models import Shipment

from .factories import make_order

S = Order.Status
BEFORE = [("fulfillment", "0009_jobs_move_out")]
AFTER = [("fulfillment", "0010_order_shipped_by_us_at")]


def _migrate(targets) -> None:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


def _package(order: Order, n: int, created_at: dt.datetime) -> None:
    shipment = Shipment.objects.create(
        order=order,
        package_id=f"P{n}",
        package_reference=n,
        carrier="UPS",
        tracking_number=f"1Z000000{n}",
        ship_date=created_at,
        source=Shipment.Source.API,
    )
    Shipment.objects.filter(pk=shipment.pk).update(created_at=created_at)


@pytest.mark.django_db(transaction=True)
def test_the_backfill_gives_the_fact_to_the_orders_read_as_ours_and_only_them(store):
    # given: orders as today's code leaves them
    first, last = timezone.now() - dt.timedelta(days=2), timezone.now() - dt.timedelta(days=1)
    ours = make_order(store=store, status=S.SHIPPED, amazon_status="SHIPPED")
    _package(ours, 1, first)
    _package(ours, 2, last)
    confirmed_ahead = make_order(store=store, status=S.PARTIALLY_SHIPPED, amazon_status="SHIPPED")
    _package(confirmed_ahead, 1, first)
    elsewhere = make_order(store=store, status=S.SHIPPED, amazon_status="SHIPPED", shipped_outside_at=last)
    _package(elsewhere, 1, first)
    arrived_shipped = make_order(store=store, status=S.SHIPPED, amazon_status="SHIPPED")
    partial = make_order(store=store, status=S.PARTIALLY_SHIPPED, amazon_status="PARTIALLY_SHIPPED")
    _package(partial, 1, first)
    cancelled = make_order(store=store, status=S.CANCELLED, amazon_status="CANCELLED")
    _package(cancelled, 1, first)

    # when: the column is dropped and the migration runs again
    try:
        _migrate(BEFORE)
        _migrate(AFTER)
    finally:
        _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    # then
    facts = dict(Order.objects.values_list("pk", "shipped_by_us_at"))
    assert facts[ours.pk] == last
    assert facts[confirmed_ahead.pk] == first
    assert [facts[o.pk] for o in (elsewhere, arrived_shipped, partial, cancelled)] == [None] * 4
    assert Order.objects.count() == 6
