"""Stock levels from the warehouse: set them, record each change, hold a risky snapshot."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from fulfillment.core.errors import WmsError
from fulfillment.inventory.models import HeldInventorySnapshot, InventoryChange, InventoryLevel
from fulfillment.inventory.snapshots import snapshot_hold, snapshot_hold_reason, snapshots_replace
from fulfillment.orders.models import Warehouse
from fulfillment.orders.tasks import held_orders_recheck_new_skus


class InventoryRejected(WmsError):
    """`errors` keys: items, and items.<i> for the i-th item (0-based)."""


@dataclass
class InventoryUpdateResult:
    changed: int = 0
    unchanged: int = 0
    zeroed: int = 0
    # Set when a complete snapshot was held for a person instead of applied.
    held: HeldInventorySnapshot | None = None


SKU_MAX_LENGTH = InventoryLevel._meta.get_field("sku").max_length
# PositiveIntegerField's upper bound on PostgreSQL.
AVAILABLE_MAX = 2_147_483_647


def _inventory_errors(items: list[tuple[str, int]]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    first: dict[str, int] = {}
    for i, (sku, available) in enumerate(items):
        key = f"items.{i}"
        if not isinstance(sku, str) or not sku.strip():
            errors[key].append("sku is required")
        elif len(sku) > SKU_MAX_LENGTH:
            errors[key].append(f"sku is longer than {SKU_MAX_LENGTH} characters")
        elif sku in first:
            errors[key].append(f"sku {sku} is listed twice (first as item {first[sku] + 1})")
        else:
            first[sku] = i
        if isinstance(available, bool) or not isinstance(available, int):
            errors[key].append(f"available must be a whole number, not {available!r}")
        elif not 0 <= available <= AVAILABLE_MAX:
            errors[key].append(f"available must be between 0 and {AVAILABLE_MAX}, not {available}")
    return dict(errors)


def inventory_update(
    *,
    warehouse: Warehouse,
    items: list[tuple[str, int]],
    complete: bool,
    guard: bool = True,
    source: str = HeldInventorySnapshot.Source.API,
    sent_by: str = "",
) -> InventoryUpdateResult:
    """Set available quantities; with `complete`, every SKU not listed becomes 0.

    All or nothing. Only SKUs whose quantity changes are written, each with an
    InventoryChange row, so the inventory push can send only what changed. A
    complete snapshot that would zero too much of the warehouse is held for a
    person instead (`result.held`; nothing written): see inventory_snapshots.
    `guard=False` is for a person applying a held snapshot.
    """
    errors = _inventory_errors(items)
    if errors:
        raise InventoryRejected(errors)
    result = InventoryUpdateResult()
    now = timezone.now()
    wanted = dict(items)
    with transaction.atomic():
        # One writer per warehouse at a time: each change's `previous` is then exact.
        Warehouse.objects.select_for_update().filter(pk=warehouse.pk).first()
        levels = InventoryLevel.objects.filter(warehouse=warehouse)
        if not complete:
            levels = levels.filter(sku__in=wanted)
        current = dict(levels.values_list("sku", "available"))
        if complete and guard:
            reason, stocked, zeroing = snapshot_hold_reason(current=current, wanted=wanted)
            if reason:
                result.held = snapshot_hold(
                    warehouse=warehouse,
                    items=items,
                    source=source,
                    sent_by=sent_by,
                    reason=reason,
                    stocked=stocked,
                    zeroing=zeroing,
                )
                return result
        if complete:
            snapshots_replace(warehouse=warehouse)
            for sku, available in current.items():
                if sku not in wanted and available != 0:
                    wanted[sku] = 0
                    result.zeroed += 1
        # (sku, available, previous): plain tuples, 10,000 model instances cost more than the writes.
        changes = [
            (sku, available, current.get(sku))
            for sku, available in wanted.items()
            if current.get(sku) != available
        ]
        result.changed = len(changes) - result.zeroed
        result.unchanged = len(items) - result.changed
        if changes:
            _changes_write(warehouse=warehouse, changes=changes, now=now)
            if any(previous is None for _, _, previous in changes):
                # SKUs the warehouse names for the first time: held orders waiting
                # for them ("unknown to the warehouse") may be released now.
                held_orders_recheck_new_skus(warehouse_id=warehouse.pk)
    return result


# Items per statement: PostgreSQL takes them as two arrays (no per-value parameter
# limit); SQLite binds each value (at most 999 a statement in older builds).
_WRITE_BATCH = 10_000


def _changes_write(*, warehouse: Warehouse, changes: list[tuple[str, int, int | None]], now) -> None:
    """The new levels (upserted) and their change rows: on PostgreSQL one statement for
    both per 10,000 items, the values passed as arrays (unnest), so no per-row SQL is
    built in Python; elsewhere Django's bulk upsert."""
    if connection.vendor != "postgresql":
        InventoryLevel.objects.bulk_create(
            [
                InventoryLevel(warehouse=warehouse, sku=sku, available=available, updated_at=now)
                for sku, available, _ in changes
            ],
            batch_size=2000,
            update_conflicts=True,
            unique_fields=["warehouse", "sku"],
            update_fields=["available", "updated_at"],
        )
        InventoryChange.objects.bulk_create(
            [
                InventoryChange(
                    warehouse=warehouse, sku=sku, available=available, previous=previous, changed_at=now
                )
                for sku, available, previous in changes
            ],
            batch_size=2000,
        )
        return
    levels, history = InventoryLevel._meta.db_table, InventoryChange._meta.db_table
    sql = f"""
        WITH incoming(sku, available, previous) AS (
            SELECT * FROM unnest(%(skus)s::varchar[], %(available)s::integer[], %(previous)s::integer[])
        ), upserted AS (
            INSERT INTO {levels} (warehouse_id, sku, available, updated_at)
            SELECT %(warehouse)s, sku, available, %(now)s FROM incoming
            ON CONFLICT (warehouse_id, sku)
            DO UPDATE SET available = EXCLUDED.available, updated_at = EXCLUDED.updated_at
        )
        INSERT INTO {history} (warehouse_id, sku, available, previous, changed_at)
        SELECT %(warehouse)s, sku, available, previous, %(now)s FROM incoming
    """  # noqa: S608 (table names from model metadata; values are parameters)
    with connection.cursor() as cursor:
        for start in range(0, len(changes), _WRITE_BATCH):
            batch = changes[start : start + _WRITE_BATCH]
            cursor.execute(
                sql,
                {
                    "skus": [sku for sku, _, _ in batch],
                    "available": [available for _, available, _ in batch],
                    "previous": [previous for _, _, previous in batch],
                    "warehouse": warehouse.pk,
                    "now": now,
                },
            )


def snapshot_apply(*, snapshot: HeldInventorySnapshot, user) -> bool:
    """A person applies a held snapshot: the levels become what it says. False if no longer held.

    Compare-and-set, in the same transaction as the levels: applied once.
    """
    with transaction.atomic():
        claimed = HeldInventorySnapshot.objects.filter(
            pk=snapshot.pk, state=HeldInventorySnapshot.State.HELD
        ).update(state=HeldInventorySnapshot.State.APPLIED, decided_at=timezone.now(), decided_by=user)
        if not claimed:
            return False
        result = inventory_update(
            warehouse=snapshot.warehouse,
            items=[(sku, available) for sku, available in snapshot.items],
            complete=True,
            guard=False,
        )
        HeldInventorySnapshot.objects.filter(pk=snapshot.pk).update(
            decision_note=f"Applied: {result.changed} changed, {result.zeroed} set to 0."
        )
    return True
