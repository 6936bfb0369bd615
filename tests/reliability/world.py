"""One store against the sandbox, the real jobs, and the invariants they must keep.

`World` drives a full cycle (order download, the WMS shipping every released
order, the confirmation sweep, the inventory push) through the django-q2 task
functions, and checks what the issue promises after any fault:

- every sandbox order is present exactly once (with its items once), and
  what we hold agrees with Amazon's status;
- every package the warehouse shipped is confirmed in the sandbox exactly once;
- the sandbox listing quantities equal what `inventory_quantities_for` computes.
"""

from __future__ import annotations

import collections
import datetime as dt
import itertools
from dataclasses import dataclass, field

from django.db.models import F
from django.utils import timezone

from connections.models import Store
from fulfillment.inventory.models import InventoryFeed, InventoryLevel
from fulfillment.inventory.selectors import inventory_quantities_for
from fulfillment.inventory.tasks import inventory_push_task
from fulfillment.orders.models import Order, OrderLine, StoreSyncState
from fulfillment.orders.tasks import order_pull_task
from fulfillment.shipments.models import Shipment, ShipmentConfirmation
from fulfillment.shipments.tasks import confirmations_sweep_task
from fulfillment.wms.services import ShipmentInput, ShipmentLineInput, shipment_record
from mappings.models import ServiceLevel, ShippingMethodMapping, SkuMapping
from sandbox.listings import sandbox_listing_upsert
from sandbox.models import SandboxFaults, SandboxListing, SandboxOrder, SandboxOrderItem, SandboxPackage
from sandbox.orders import SANDBOX_CATALOG, sandbox_orders_create

INVENTORY_SKUS = [f"INV-{n}" for n in range(1, 7)]


class WorkerKilled(BaseException):
    """A worker dying mid-job: not an Exception, so no `except Exception` records it."""


def kill_after(calls: int, *, before: bool = False):
    """Wrap a function so that its `calls`-th call kills the worker (after doing its work,
    unless `before`: then the call never happens)."""

    def wrap(fn):
        counter = itertools.count(1)

        def wrapper(*args, **kwargs):
            n = next(counter)
            if before and n == calls:
                raise WorkerKilled(f"killed before call {n}")
            result = fn(*args, **kwargs)
            if not before and n == calls:
                raise WorkerKilled(f"killed after call {n}")
            return result

        return wrapper

    return wrap


@dataclass
class World:
    store: Store
    seller: object
    orders: int = 40
    seed: int = 11
    stats: collections.Counter = field(default_factory=collections.Counter)
    _packages: itertools.count = field(default_factory=lambda: itertools.count(1))

    # -- setup

    def build(self) -> World:
        for level in ServiceLevel.values:
            ShippingMethodMapping.objects.create(
                store=self.store, service_level=level, prime=None, carrier="UPS", ship_code="GND"
            )
        sandbox_orders_create(seller=self.seller, count=self.orders, seed=self.seed, status="UNSHIPPED")
        # The warehouse names the catalog's SKUs: unmapped SKUs it knows ship as themselves.
        for sku, *_ in SANDBOX_CATALOG:
            self.stock(sku, 100)
        for n, sku in enumerate(INVENTORY_SKUS, start=1):
            SkuMapping.objects.create(
                store=self.store, amazon_sku=sku, warehouse_sku=f"W-{sku}", units=1, sync_inventory=True
            )
            sandbox_listing_upsert(seller=self.seller, sku=sku, quantity=0)
            self.stock(f"W-{sku}", 10 * n)
        return self

    def stock(self, warehouse_sku: str, available: int) -> None:
        InventoryLevel.objects.update_or_create(
            warehouse=self.store.warehouse,
            sku=warehouse_sku,
            defaults=dict(available=available, updated_at=timezone.now()),
        )

    def restock(self, round_no: int) -> None:
        """The warehouse's stock moves between rounds, so every push has changes to send."""
        for n, sku in enumerate(INVENTORY_SKUS, start=1):
            if (n + round_no) % 2:
                self.stock(f"W-{sku}", (7 * n + 3 * round_no) % 40)

    # -- the jobs, as django-q2 runs them

    def pull(self) -> dict:
        self.stats["order_pull"] += 1
        return order_pull_task(self.store.pk)

    def sweep(self) -> dict:
        self.stats["confirmation_sweep"] += 1
        return confirmations_sweep_task(self.store.pk)

    def push(self) -> dict:
        self.stats["inventory_push"] += 1
        return inventory_push_task(self.store.pk)

    def ship_released(self) -> int:
        """The WMS ships every released order it has not shipped yet, in one package."""
        shipped = 0
        orders = Order.objects.filter(
            store=self.store, status__in=Order.FROZEN_STATUSES, shipments__isnull=True
        )
        for order in orders.prefetch_related("lines"):
            lines = [
                ShipmentLineInput(
                    quantity=line.quantity_ordered - line.quantity_shipped - line.quantity_cancelled,
                    order_item_id=line.order_item_id,
                )
                for line in order.lines.all()
                if line.quantity_ordered - line.quantity_shipped - line.quantity_cancelled > 0
            ]
            n = next(self._packages)
            _, created = shipment_record(
                warehouse=self.store.warehouse,
                data=ShipmentInput(
                    order=str(order.pk),
                    package_id=f"PKG-{n}",
                    carrier="UPS",
                    tracking_number=f"1Z999AA1{n:010d}",
                    ship_date=timezone.now() - dt.timedelta(minutes=1),
                    lines=lines,
                ),
                source="api",
            )
            shipped += created
        self.stats["packages"] += shipped
        return shipped

    def cycle(self, round_no: int = 0) -> None:
        self.restock(round_no)
        self.pull()
        self.ship_released()
        self.sweep()
        self.push()

    # -- time

    def time_passes(self, minutes: int = 10) -> None:
        """Move the sandbox's past (and our watermark) back: the two-minute rule is
        against the real clock, so a test makes time pass by moving the past."""
        delta = dt.timedelta(minutes=minutes)
        SandboxOrder.objects.filter(seller=self.seller).update(
            created_time=F("created_time") - delta, last_updated_time=F("last_updated_time") - delta
        )
        _sync_state_times_pass(self.store, delta)
        Order.objects.filter(store=self.store).update(
            amazon_updated_at=F("amazon_updated_at") - delta, purchased_at=F("purchased_at") - delta
        )
        # Backoffs and stale claims of the confirmation queue run out as time passes too.
        ShipmentConfirmation.objects.filter(store=self.store).update(
            not_before=F("not_before") - delta, claimed_at=F("claimed_at") - delta
        )
        # ... and so do the backoffs of the inventory feeds (the same outbound queue base).
        InventoryFeed.objects.filter(push__store=self.store).update(not_before=F("not_before") - delta)

    def settle(self, rounds: int = 3) -> None:
        """Faults off; run the cycle until the queues are drained and everything is known."""
        faults = SandboxFaults.current()
        faults.error_rate = faults.drop_rate = 0.0
        faults.slow_ms = 0
        faults.throttle_storm = faults.change_order_between_pages = False
        faults.save()  # the page order stays: it is Amazon's right, not a fault
        for _round in range(rounds):
            self.time_passes()
            self.pull()
            self.ship_released()
            self.sweep()
            self.push()
        # A last download reads Amazon's answer to our own confirmations.
        self.time_passes()
        self.pull()

    # -- the invariants

    def check(self) -> None:
        seller_orders = SandboxOrder.objects.filter(seller=self.seller)
        amazon = dict(seller_orders.values_list("order_id", "status"))
        ours = list(Order.objects.filter(store=self.store).values_list("amazon_order_id", "amazon_status"))
        ours_ids = [oid for oid, _ in ours]

        # every sandbox order present exactly once, and no order Amazon does not have
        duplicates = [oid for oid, c in collections.Counter(ours_ids).items() if c > 1]
        assert not duplicates, f"orders imported twice: {duplicates}"
        assert set(ours_ids) == set(amazon), (
            f"missing {sorted(set(amazon) - set(ours_ids))}, extra {sorted(set(ours_ids) - set(amazon))}"
        )
        # ... with every item once
        amazon_items = collections.Counter(
            SandboxOrderItem.objects.filter(order__seller=self.seller).values_list(
                "order__order_id", "order_item_id"
            )
        )
        our_items = collections.Counter(
            OrderLine.objects.filter(order__store=self.store).values_list(
                "order__amazon_order_id", "order_item_id"
            )
        )
        assert our_items == amazon_items
        # ... and in Amazon's latest status
        stale = {oid: (status, amazon[oid]) for oid, status in ours if status != amazon[oid]}
        assert not stale, f"orders whose status we hold differs from Amazon's: {stale}"

        # every package confirmed exactly once
        shipped = collections.Counter(
            (amazon_id, str(ref))
            for amazon_id, ref in Shipment.objects.filter(order__store=self.store).values_list(
                "order__amazon_order_id", "package_reference"
            )
        )
        confirmed = collections.Counter(
            SandboxPackage.objects.filter(order__seller=self.seller).values_list(
                "order__order_id", "package_reference_id"
            )
        )
        assert confirmed == shipped, f"confirmed {confirmed - shipped} extra, {shipped - confirmed} missing"
        assert max(confirmed.values(), default=1) == 1
        states = collections.Counter(
            ShipmentConfirmation.objects.filter(store=self.store).values_list("state", flat=True)
        )
        assert set(states) <= {ShipmentConfirmation.State.ACCEPTED}, states
        # every shipped order is shipped on both sides
        assert not Order.objects.filter(store=self.store).exclude(status=Order.Status.SHIPPED).exists()

        # Amazon's quantities equal what the rules compute
        expected = inventory_quantities_for(store=self.store)
        assert set(expected) == set(INVENTORY_SKUS)
        listed = dict(
            SandboxListing.objects.filter(seller=self.seller, sku__in=list(expected)).values_list(
                "sku", "quantity"
            )
        )
        assert listed == expected, f"Amazon {listed} != rules {expected}"
        self.stats["checks"] += 1
        self.stats["orders_checked"] += len(amazon)
        self.stats["packages_checked"] += sum(confirmed.values())


def _sync_state_times_pass(store, delta) -> None:
    """Every time the download stored (watermark, first-download cursor and end,
    the slice being read) moves back with the sandbox's."""
    state = StoreSyncState.objects.filter(store=store)
    for name in (
        "order_watermark",
        "initial_import_cursor",
        "initial_import_until",
        "slice_after",
        "slice_before",
    ):
        state.filter(**{f"{name}__isnull": False}).update(**{name: F(name) - delta})
