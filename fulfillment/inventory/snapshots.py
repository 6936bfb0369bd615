"""Complete inventory snapshots that would zero too much of a warehouse wait for a person.

A complete snapshot (WMS API `complete: true`, the CSV import's "complete
snapshot") sets every SKU it does not list to 0: an empty or truncated file
would zero the whole warehouse, and the inventory push would then zero every
store on Amazon. Such a snapshot is held, whatever the number of SKUs, when
it would set to 0 more than INVENTORY_SNAPSHOT_ZERO_GUARD_PERCENT of the
warehouse's SKUs in stock, or all of them. A person applies or discards it in
the admin; at most one snapshot per warehouse is held (a newer complete
snapshot replaces it).
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from fulfillment.inventory.models import HeldInventorySnapshot, InventoryChange, InventoryLevel
from fulfillment.orders.models import Warehouse


def snapshot_hold_reason(*, current: dict[str, int], wanted: dict[str, int]) -> tuple[str, int, int]:
    """(why a complete snapshot must wait, or "", SKUs in stock now, of which it sets to 0).

    `current` is every level of the warehouse, `wanted` the snapshot's items.
    """
    stocked = [sku for sku, available in current.items() if available > 0]
    zeroing = sum(1 for sku in stocked if wanted.get(sku, 0) == 0)
    limit = settings.INVENTORY_SNAPSHOT_ZERO_GUARD_PERCENT
    if not stocked or not zeroing:
        return "", len(stocked), zeroing
    if zeroing == len(stocked):
        why = f"it would set every one of the warehouse's {len(stocked)} SKUs in stock to 0"
    elif zeroing * 100 > len(stocked) * limit:
        why = (
            f"it would set {zeroing} of the warehouse's {len(stocked)} SKUs in stock to 0 "
            f"({zeroing / len(stocked):.0%}, more than {limit}%)"
        )
    else:
        return "", len(stocked), zeroing
    listed = f"it lists {len(wanted)} SKU(s)" if wanted else "it lists no SKU at all"
    return f"This complete snapshot was held because {why}; {listed}.", len(stocked), zeroing


def snapshot_hold(
    *,
    warehouse: Warehouse,
    items: list[tuple[str, int]],
    source: str,
    sent_by: str,
    reason: str,
    stocked: int,
    zeroing: int,
) -> HeldInventorySnapshot:
    """Keep the snapshot for a person (call inside the warehouse's inventory lock)."""
    snapshots_replace(warehouse=warehouse)
    return HeldInventorySnapshot.objects.create(
        warehouse=warehouse,
        source=source,
        sent_by=sent_by[:150],
        items=[[sku, available] for sku, available in items],
        item_count=len(items),
        stocked=stocked,
        zeroing=zeroing,
        reason=reason,
    )


def snapshots_replace(*, warehouse: Warehouse) -> int:
    """A newer complete snapshot makes the held one stale: it is discarded."""
    return HeldInventorySnapshot.objects.filter(
        warehouse=warehouse, state=HeldInventorySnapshot.State.HELD
    ).update(
        state=HeldInventorySnapshot.State.DISCARDED,
        decided_at=timezone.now(),
        decision_note="Replaced by a newer complete snapshot.",
    )


def snapshot_changes_since(*, snapshot: HeldInventorySnapshot) -> int:
    """Quantity changes the warehouse sent after the snapshot was held (applying overrides them)."""
    return InventoryChange.objects.filter(
        warehouse_id=snapshot.warehouse_id, changed_at__gt=snapshot.created_at
    ).count()


def snapshot_discard(*, snapshot: HeldInventorySnapshot, user) -> bool:
    return bool(
        HeldInventorySnapshot.objects.filter(pk=snapshot.pk, state=HeldInventorySnapshot.State.HELD).update(
            state=HeldInventorySnapshot.State.DISCARDED,
            decided_at=timezone.now(),
            decided_by=user,
            decision_note="Discarded by a person.",
        )
    )


def snapshot_zeroing_skus(*, snapshot: HeldInventorySnapshot, limit: int = 50) -> tuple[list[str], int]:
    """(the first `limit` SKUs in stock now that applying would set to 0, how many in all)."""
    wanted = dict(snapshot.items)
    skus = [
        sku
        for sku in InventoryLevel.objects.filter(warehouse_id=snapshot.warehouse_id, available__gt=0)
        .order_by("sku")
        .values_list("sku", flat=True)
        if wanted.get(sku, 0) == 0
    ]
    return skus[:limit], len(skus)
