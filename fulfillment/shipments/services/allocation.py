"""Which Amazon units a package of warehouse SKUs ships.

A package line by warehouse SKU says "3 of WH-A"; Amazon wants order items and
whole Amazon units. An item maps to one or more warehouse SKUs (a kit: each
component a number of units), and one warehouse SKU may be a single item of
the order and a component of a kit of the same order. Taking items one after
the other (greedy) then refuses valid packages: WH-A x2 + WH-B x1 for an order
of "A" (WH-A x1) and "kit" (WH-A x1 + WH-B x1) is one A and one kit, but a
greedy pass that gives both WH-A units to "A" first is left with a lone WH-B.

The exact question is an integer system: find units x_i ≤ left_i per item with
Σ_i x_i · units_i,s = quantity_s for every warehouse SKU s. An order has a few
items, so a depth-first search with propagation settles it at once: a SKU
left in one undecided item fixes that item's units, and the search branches
only on items sharing every SKU with another. Earlier items (by order item
id) are filled first, as the warehouse would read the order. A search that
would take more than SEARCH_LIMIT steps is refused, asking for lines by
order_item_id, rather than hang a request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

SEARCH_LIMIT = 20_000


@dataclass(frozen=True)
class Item:
    """One order item as the package can use it: its warehouse SKUs per Amazon
    unit and the Amazon units it still has to ship."""

    key: int
    parts: Mapping[str, int]  # warehouse SKU -> units per Amazon unit
    left: int


class SearchTooLarge(Exception):
    pass


def allocate_warehouse_units(
    *, items: Sequence[Item], quantities: Mapping[str, int]
) -> dict[int, int] | None:
    """Amazon units per item key that use up `quantities` exactly, or None when
    no choice of whole units does. Raises SearchTooLarge past SEARCH_LIMIT steps."""
    wanted = {sku: qty for sku, qty in quantities.items() if qty}
    usable = [i for i in items if i.parts and i.left > 0 and set(i.parts) <= set(wanted)]
    steps = [0]
    failed: set[tuple] = set()

    def most(item: Item, rest: Mapping[str, int]) -> int:
        return min(item.left, *(rest[sku] // units for sku, units in item.parts.items()))

    def search(
        undecided: tuple[Item, ...], rest: dict[str, int], chosen: dict[int, int]
    ) -> dict[int, int] | None:
        steps[0] += 1
        if steps[0] > SEARCH_LIMIT:
            raise SearchTooLarge
        # Propagate: a SKU that only one undecided item can take fixes that item.
        undecided, rest, chosen = list(undecided), dict(rest), dict(chosen)
        progress = True
        while progress:
            progress = False
            for sku, qty in rest.items():
                if not qty:
                    continue
                takers = [i for i in undecided if sku in i.parts]
                if not takers:
                    return None
                if len(takers) == 1:
                    item = takers[0]
                    units = item.parts[sku]
                    if qty % units or qty // units > most(item, rest):
                        return None
                    count = qty // units
                    for part, per in item.parts.items():
                        rest[part] -= count * per
                    chosen[item.key] = count
                    undecided.remove(item)
                    progress = True
                    break
        if not any(rest.values()):
            return chosen
        if not undecided:
            return None
        state = (tuple(i.key for i in undecided), tuple(sorted(rest.items())))
        if state in failed:
            return None
        item, others = undecided[0], tuple(undecided[1:])
        for count in range(most(item, rest), -1, -1):
            after = {sku: qty - count * item.parts.get(sku, 0) for sku, qty in rest.items()}
            found = search(others, after, {**chosen, item.key: count} if count else chosen)
            if found is not None:
                return found
        failed.add(state)
        return None

    result = search(tuple(usable), wanted, {})
    if result is None:
        return None
    return {key: count for key, count in result.items() if count}
