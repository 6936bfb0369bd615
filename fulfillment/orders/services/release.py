"""Release to the warehouse, or hold with reasons a person can fix.

One decision, used by the order download (before its bulk upsert, so a page
costs no extra queries) and by "Re-check holds" (after a mapping is fixed).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runner import Job, JobContext
from fulfillment.orders import transitions
from fulfillment.orders.models import Order, OrderLine
from mappings.selectors import (
    Component,
    ShippingMethodTable,
    release_mappings_changed_since,
    shipping_method_table_for,
    sku_components_for,
)

BUYER_CANCELLATION_REASON = "buyer requested cancellation"
ADDRESS_MISSING_REASON = "address missing"
# An order with no items, or only items of quantity 0: nothing to pick, so never released.
NOTHING_TO_SHIP_REASON = "no items to ship"


def unmapped_reason(product_code: str) -> str:
    return f"SKU {product_code} not mapped"


def unknown_to_warehouse_reason(product_code: str) -> str:
    """A store that ships unmapped SKUs as themselves, with a SKU the warehouse never named."""
    return f"SKU {product_code} is unknown to the warehouse"


def no_shipping_method_reason(*, service_level: str, is_prime: bool) -> str:
    return f"no shipping method for {service_level or '(no service level)'}" + (
        " + Prime" if is_prime else ""
    )


def address_present(recipient: dict) -> bool:
    return bool(recipient.get("addressLine1") and recipient.get("countryCode"))


@dataclass
class ReleaseCounts:
    released: int = 0
    held: int = 0


def order_release_decide(
    *,
    order: Order,
    lines: Sequence[OrderLine],
    components: dict[str, list[Component]],
    shipping_table: ShippingMethodTable,
    now,
    unmapped_is_warehouse_sku: bool = False,
) -> bool:
    """Hold or release the order (transitions.py sets its status, reasons, carrier
    and ship code) and set its lines' components, in memory. Returns True when
    released. Saves nothing.

    `unmapped_is_warehouse_sku` is the store's setting: it only words the
    reason (the components already ship known SKUs as themselves)."""
    reasons: list[str] = []
    if order.buyer_cancellation_requested:
        reasons.append(BUYER_CANCELLATION_REASON)
    if not any(line.quantity_ordered > 0 for line in lines):
        reasons.append(NOTHING_TO_SHIP_REASON)
    for line in lines:
        found = components.get(line.product_code)
        if found:
            line.components = [{"warehouse_sku": c.warehouse_sku, "units": c.units} for c in found]
        else:
            line.components = []
            code = line.product_code or line.amazon_sku or line.order_item_id
            reason = (unknown_to_warehouse_reason if unmapped_is_warehouse_sku else unmapped_reason)(code)
            if reason not in reasons:
                reasons.append(reason)
    method = shipping_table.lookup(service_level=order.service_level, is_prime=order.is_prime)
    if method is None:
        reasons.append(no_shipping_method_reason(service_level=order.service_level, is_prime=order.is_prime))
    if not address_present(order.recipient_data):
        reasons.append(ADDRESS_MISSING_REASON)

    if reasons:
        transitions.order_hold(order, reasons=reasons)
        for line in lines:
            line.components = []
        return False
    transitions.order_release(order, carrier=method.carrier, ship_code=method.ship_code, now=now)
    return True


def orders_release_or_hold(*, store, orders: Iterable[Order]) -> ReleaseCounts:
    """Re-decide held orders of one store (e.g. after fixing a mapping).

    Orders not held any more (released meanwhile, cancelled) are left alone:
    the rows are locked and re-read, so a concurrent download or a second
    click cannot release an order twice. A fixed handful of queries whatever
    the number of orders.
    """
    ids = [o.pk for o in orders]
    counts = ReleaseCounts()
    if not ids:
        return counts
    now = timezone.now()
    with transaction.atomic():
        held = list(
            Order.objects.select_for_update()
            .filter(pk__in=ids, store=store, status=Order.Status.HELD)
            .order_by("pk")  # lock in pk order, like every other writer
        )
        if not held:
            return counts
        lines_by_order: dict[int, list[OrderLine]] = {}
        for line in OrderLine.objects.filter(order__in=held).order_by("order_id", "order_item_id"):
            lines_by_order.setdefault(line.order_id, []).append(line)
        components = sku_components_for(
            store=store,
            product_codes={line.product_code for lines in lines_by_order.values() for line in lines},
        )
        table = shipping_method_table_for(store=store)
        for order in held:
            released = order_release_decide(
                order=order,
                lines=lines_by_order.get(order.pk, []),
                components=components,
                shipping_table=table,
                now=now,
                unmapped_is_warehouse_sku=store.unmapped_sku_is_warehouse_sku,
            )
            order.updated_at = now
            counts.released += released
            counts.held += not released
        transitions.orders_write(
            held, fields=["hold_reasons", "carrier", "ship_code", "released_at", "updated_at"]
        )
        all_lines = [line for lines in lines_by_order.values() for line in lines]
        if all_lines:
            OrderLine.objects.bulk_update(all_lines, ["components"])
    return counts


def orders_recheck_holds(*, orders: Iterable[Order]) -> ReleaseCounts:
    """ "Re-check holds" on any selection of orders: held ones are re-decided per store."""
    by_store: dict[int, list[Order]] = {}
    for order in orders:
        if order.status == Order.Status.HELD:
            by_store.setdefault(order.store_id, []).append(order)
    total = ReleaseCounts()
    for store_orders in by_store.values():
        counts = orders_release_or_hold(store=store_orders[0].store, orders=store_orders)
        total.released += counts.released
        total.held += counts.held
    return total


# --- The exceptions queue ------------------------------------------------------

# Held orders re-decided per transaction: the rows are locked while deciding.
RECHECK_BATCH = 500

_SKU_REASON = re.compile(r"^SKU (?P<code>.+?) (?:not mapped|is unknown to the warehouse)$")
_SHIPPING_REASON = re.compile(r"^no shipping method for (?P<level>\S+)(?P<prime> \+ Prime)?$")


@dataclass(frozen=True)
class HoldFix:
    """A hold reason and the mapping that would fix it (None: nothing a mapping fixes).

    `mapping` is "sku" or "shipping_method"; `initial` are the add form's
    fields, prefilled from the order (store, Amazon SKU or ASIN; service level
    and Prime).
    """

    reason: str
    mapping: str | None = None
    initial: tuple[tuple[str, str], ...] = ()


def order_hold_fixes(*, order: Order, by_asin: bool) -> list[HoldFix]:
    """Each of a held order's reasons with the mapping that would release it (no query)."""
    fixes = []
    for reason in order.hold_reasons:
        sku = _SKU_REASON.match(reason)
        shipping = _SHIPPING_REASON.match(reason)
        if sku:
            code_field = "asin" if by_asin else "amazon_sku"
            fixes.append(HoldFix(reason, "sku", (("store", str(order.store_id)), (code_field, sku["code"]))))
        elif shipping and shipping["level"] != "(no":
            fixes.append(
                HoldFix(
                    reason,
                    "shipping_method",
                    (
                        ("store", str(order.store_id)),
                        ("service_level", shipping["level"]),
                        ("prime", "true" if order.is_prime else "false"),
                    ),
                )
            )
        else:
            fixes.append(HoldFix(reason))
    return fixes


class HoldRecheckJob(Job):
    """Re-decide every held order of a store, after a mapping that can release them changed.

    Needs no Amazon: runs for any active store, connected or not. Reasons are
    recomputed: an order still held shows what is still missing.
    """

    kind = SyncRun.Kind.HOLD_RECHECK
    count_keys = ("rechecked", "released", "held")

    def eligible(self, store) -> bool:
        return store.is_active

    not_eligible = "store missing or inactive"

    # A mapping saved while a pass runs finds this job's lease taken (its own
    # task is skipped): the job passes again, a few times at most.
    max_passes = 3

    def run(self, ctx: JobContext) -> None:
        for _ in range(self.max_passes):
            started = timezone.now()
            ctx.counts["held"] = 0  # what is still held after the last pass
            ctx.counts["passes"] += 1
            self._pass(ctx)
            if not release_mappings_changed_since(store=ctx.store, since=started):
                break

    def _pass(self, ctx: JobContext) -> None:
        after = 0
        while True:
            batch = list(
                Order.objects.held()
                .filter(store=ctx.store, pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[:RECHECK_BATCH]
            )
            if not batch:
                break
            counts = orders_release_or_hold(store=ctx.store, orders=[Order(pk=pk) for pk in batch])
            ctx.counts["rechecked"] += len(batch)
            ctx.counts["released"] += counts.released
            ctx.counts["held"] += counts.held
            after = batch[-1]
            ctx.renew()
