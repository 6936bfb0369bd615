"""Reads the order download, shipment confirmation and inventory push call.

Each costs one query whatever the number of codes: order download must stay
well under 0.1 queries per order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Case, CharField, F, IntegerField, Q, QuerySet, Value, When

from connections.models import AcceptedCarrier, Store

from .models import OTHER_CARRIER, CarrierMapping, ShippingMethodMapping, SkuMapping


@dataclass(frozen=True)
class Component:
    warehouse_sku: str
    units: int  # warehouse units per Amazon unit


def sku_components_for(*, store: Store, product_codes: Iterable[str]) -> dict[str, list[Component]]:
    """Amazon product code -> the warehouse SKUs it ships as (several for a kit).

    The product code is the Amazon SKU, or the ASIN where the store identifies
    products by ASIN. A code without a mapping ships as itself when the store
    says unmapped SKUs are warehouse SKUs AND the warehouse knows that SKU (it
    names its SKUs in every inventory snapshot: a level row, even at 0);
    otherwise it is absent from the answer (the caller holds the order). One
    query: the mappings and the warehouse's known SKUs are read in one UNION.
    """
    codes = {c for c in product_codes if c}
    if not codes:
        return {}
    by_asin = store.product_code_field == Store.ProductCode.ASIN
    code_field = "asin" if by_asin else "amazon_sku"
    rows = (
        SkuMapping.objects.filter(store=store, **{f"{code_field}__in": codes})
        .values_list(code_field, "amazon_sku", "warehouse_sku", "units")
        .order_by()  # SQLite refuses ORDER BY inside a UNION; sorted below
    )
    if store.unmapped_sku_is_warehouse_sku:
        rows = rows.union(_warehouse_known_skus(store=store, codes=codes), all=True)
    found: dict[str, list[Component]] = {}
    chosen_sku: dict[str, str] = {}
    known: set[str] = set()
    for code, amazon_sku, warehouse_sku, units in sorted(rows):
        if units == _KNOWN_TO_WAREHOUSE:
            known.add(code)
            continue
        # Several Amazon SKUs may share an ASIN; use one of them (the first
        # in SKU order) so a kit is never counted twice.
        if chosen_sku.setdefault(code, amazon_sku) != amazon_sku:
            continue
        found.setdefault(code, []).append(Component(warehouse_sku, units))
    for code in known - found.keys():
        found[code] = [Component(code, 1)]
    return found


# Marks a row of the UNION as "the warehouse knows this SKU" (a mapping has units >= 1).
_KNOWN_TO_WAREHOUSE = 0


def _warehouse_known_skus(*, store: Store, codes: set[str]):
    """The codes the store's warehouse has an inventory level for, shaped like the mapping rows.

    Read through the warehouse's relation to its levels: the inventory package
    sits above this one, its model is not imported here.
    """
    return (
        Store.objects.filter(pk=store.pk)
        .annotate(known_sku=F("warehouse__inventory_levels__sku"))
        .filter(known_sku__in=codes)
        .annotate(
            no_sku=Value("", output_field=CharField()),
            no_warehouse_sku=Value("", output_field=CharField()),
            marker=Value(_KNOWN_TO_WAREHOUSE, output_field=IntegerField()),
        )
        .values_list("known_sku", "no_sku", "no_warehouse_sku", "marker")
        .order_by()
    )


class ShippingMethodTable:
    """A store's shipping-method mappings (its own and its marketplace's defaults), in memory.

    Built once per store per job; `lookup` makes no query.
    """

    def __init__(self, *, store_id: int, rows: Iterable[ShippingMethodMapping]):
        self._rows = {(row.store_id is not None, row.service_level, row.prime): row for row in rows}

    def lookup(self, *, service_level: str, is_prime: bool) -> ShippingMethodMapping | None:
        # Store's own before default; within each, the exact Prime row before
        # the "both" row. A Prime order never matches a prime=False row.
        for own in (True, False):
            for prime in (is_prime, None):
                row = self._rows.get((own, service_level, prime))
                if row is not None:
                    return row
        return None


def shipping_method_table_for(*, store: Store) -> ShippingMethodTable:
    """The store's own rows and its marketplace's defaults; never another marketplace's."""
    rows = ShippingMethodMapping.objects.filter(
        Q(store=store) | Q(store__isnull=True, marketplace_id=store.marketplace_id)
    )
    return ShippingMethodTable(store_id=store.pk, rows=list(rows))


def amazon_carrier_for(*, store: Store, warehouse_carrier: str) -> tuple[str, str]:
    """(carrierCode, carrierName) Amazon accepts for the warehouse's carrier string.

    The store's carrier mapping, else the default mapping, else the accepted
    code that matches the string ignoring case, else ("Other", the string).
    One query: mappings and accepted codes are read in one UNION.
    """
    carrier = (warehouse_carrier or "").strip()
    if not carrier:
        return OTHER_CARRIER, ""
    mappings = (
        CarrierMapping.objects.filter(
            Q(store=store) | Q(store__isnull=True), warehouse_carrier__iexact=carrier
        )
        # The store's own mapping (0) before the default (1) before an accepted code (2).
        .annotate(rank=Case(When(store__isnull=True, then=1), default=0, output_field=IntegerField()))
        .values_list("rank", "amazon_carrier_code", "amazon_carrier_name")
        .order_by()  # SQLite refuses ORDER BY inside a UNION; we sort in Python
    )
    accepted = (
        AcceptedCarrier.objects.filter(marketplace_id=store.marketplace_id, code__iexact=carrier)
        .annotate(rank=Value(2, output_field=IntegerField()), name=Value("", output_field=CharField()))
        .values_list("rank", "code", "name")
        .order_by()
    )
    candidates = sorted(mappings.union(accepted, all=True))
    if not candidates:
        return OTHER_CARRIER, carrier
    _, code, name = candidates[0]
    return code, name or carrier


def inventory_sku_mappings_for(*, store: Store) -> QuerySet[SkuMapping]:
    """The store's rows activated for inventory sync, for the inventory push."""
    return SkuMapping.objects.filter(store=store, sync_inventory=True).order_by("warehouse_sku", "amazon_sku")


def release_mappings_changed_since(*, store: Store, since) -> bool:
    """Whether a SKU or shipping-method mapping that applies to the store was saved since `since`."""
    return (
        SkuMapping.objects.filter(store=store, updated_at__gte=since).exists()
        or ShippingMethodMapping.objects.filter(
            Q(store=store) | Q(store__isnull=True, marketplace_id=store.marketplace_id), updated_at__gte=since
        ).exists()
    )
