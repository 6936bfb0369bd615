"""What differs between the three mapping tables in a CSV import: their columns,
how one row is parsed and validated (every problem collected, not the first),
its key, and how rows are read and written in bulk. `mappings.imports` drives them."""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from django.db import models
from django.utils import timezone

from connections.models import AcceptedCarrier, Marketplace, Store

from .models import OTHER_CARRIER, CarrierMapping, ImportJob, ShippingMethodMapping, SkuMapping
from .service_levels import service_level_normalize

CHUNK_SIZE = 2000
_INT_RE = re.compile(r"^[+-]?\d+$")
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}


class RowInvalid(Exception):
    """Every problem found in one row (raised once the row is read to its end)."""

    def __init__(self, messages: list[str]):
        self.messages = messages


class RowCells:
    """Parsers for one row's cells that collect every problem instead of stopping at the first."""

    def __init__(self, values: dict[str, str], model: type[models.Model]):
        self.values = values
        self.model = model
        self.problems: list[str] = []

    def text(self, name: str, *, required: bool = False, model_field: str | None = None) -> str:
        value = self.values.get(name, "")
        if required and not value:
            self.problems.append(f"{name} is required")
        max_length = self.model._meta.get_field(model_field or name).max_length
        if max_length and len(value) > max_length:
            self.problems.append(f"{name} is longer than {max_length} characters")
        return value

    def integer(self, name: str, *, default: int, minimum: int) -> int:
        value = self.values.get(name, "")
        if value == "":
            return default
        if not _INT_RE.match(value):
            self.problems.append(f"{name} must be a whole number, not {value!r}")
            return default
        number = int(value)
        if number < minimum:
            self.problems.append(f"{name} must be {minimum} or more, not {number}")
        return number

    def yes_no(self, name: str, *, default: bool | None) -> bool | None:
        value = self.values.get(name, "")
        if value == "":
            return default
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        self.problems.append(f"{name} must be 1/0, true/false or yes/no, not {value!r}")
        return default

    def done(self) -> None:
        if self.problems:
            raise RowInvalid(self.problems)


class MappingTable:
    """What differs between the three mapping tables."""

    model: type[models.Model]
    columns: tuple[str, ...]
    required_columns: tuple[str, ...]
    key_columns: tuple[str, ...]
    compare_fields: tuple[str, ...]  # written on update; unchanged when all equal
    store_required: bool = True

    def __init__(self, stores: dict[str, Store], store_ids: Collection[int] | None, refused: set[str]):
        self.stores = stores
        self.store_ids = store_ids
        self.refused = refused

    def store_of(self, cells: RowCells) -> Store | None:
        """The row's store, checked against the importing user's stores: the scope is
        enforced on the very values this parse writes, never on another reading of the file."""
        name = cells.values.get("store", "")
        scoped = self.store_ids is not None
        if not name:
            if scoped:
                self.refused.add("(empty: every store)")
                cells.problems.append(
                    "store is required: a default for every store is set by the warehouse, "
                    "name one of your stores"
                )
            elif self.store_required:
                cells.problems.append("store is required")
            return None
        store = self.stores.get(name)
        if scoped and (store is None or store.pk not in self.store_ids):
            # Unknown and foreign read the same: a merchant learns nothing of others' stores.
            self.refused.add(name)
            cells.problems.append(f"store {name!r} is not one of your stores")
            return None
        if store is None:
            cells.problems.append(f"unknown store {name!r}")
        return store

    def prepare(self, rows: list[tuple[int, dict[str, str]]]) -> None:
        """Load what validation needs, in a fixed number of queries."""

    def parse(self, cells: RowCells) -> dict[str, Any]:
        raise NotImplementedError

    def key(self, record: dict[str, Any]) -> tuple:
        raise NotImplementedError

    def existing(self, records: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
        """key -> {"pk": ..., compare fields...} for the rows these records would touch."""
        raise NotImplementedError

    def owner_label(self, record: dict[str, Any], store_names: dict[int, str]) -> str:
        """Whose row this is, as the preview names it."""
        return store_names.get(record["store_id"], "every store (default)")

    def preview_row(
        self, status: str, record: dict[str, Any], current: dict[str, Any] | None, store_names: dict[int, str]
    ) -> dict[str, Any]:
        """One row of the preview: its group (the kit's Amazon SKU; "" when rows stand alone),
        how it reads, and each compared column that changes (old → new)."""
        store = self.owner_label(record, store_names)
        changes = []
        if current is not None:
            changes = [
                [name, _shown(current[name]), _shown(record[name])]
                for name in self.compare_fields
                if current[name] != record[name]
            ]
        return {
            "status": status,
            "group": self.preview_group(record, store),
            "item": self.preview_item(record, store),
            "changes": changes,
        }

    def preview_group(self, record: dict[str, Any], store: str) -> str:
        return ""

    def preview_item(self, record: dict[str, Any], store: str) -> str:
        raise NotImplementedError

    def write(self, new: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
        now = timezone.now()
        self.model.objects.bulk_create([self.model(**r) for r in new], batch_size=CHUNK_SIZE)
        objs = [self.model(**r, updated_at=now) for r in changed]
        self.model.objects.bulk_update(objs, [*self.compare_fields, "updated_at"], batch_size=CHUNK_SIZE)


def _shown(value) -> str:
    if value is None:
        return "either"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


class _SkuTable(MappingTable):
    model = SkuMapping
    columns = ("store", "amazon_sku", "asin", "warehouse_sku", "units", "sync_inventory", "buffer")
    required_columns = ("store", "amazon_sku", "warehouse_sku")
    key_columns = ("store", "amazon_sku", "warehouse_sku")
    compare_fields = ("asin", "units", "sync_inventory", "buffer")

    def parse(self, cells: RowCells) -> dict[str, Any]:
        store = self.store_of(cells)
        record = {
            "store_id": store.pk if store else None,
            "amazon_sku": cells.text("amazon_sku", required=True),
            "asin": cells.text("asin"),
            "warehouse_sku": cells.text("warehouse_sku", required=True),
            "units": cells.integer("units", default=1, minimum=1),
            "sync_inventory": cells.yes_no("sync_inventory", default=False),
            "buffer": cells.integer("buffer", default=0, minimum=0),
        }
        cells.done()
        return record

    def key(self, record):
        return (record["store_id"], record["amazon_sku"], record["warehouse_sku"])

    def preview_group(self, record, store):
        # A kit is several rows of one Amazon SKU: the preview shows it as one, with its components.
        asin = f" (ASIN {record['asin']})" if record["asin"] else ""
        return f"{store}: Amazon SKU {record['amazon_sku']}{asin}"

    def preview_item(self, record, store):
        sync = "inventory synced" if record["sync_inventory"] else "inventory not synced"
        buffer = f", buffer {record['buffer']}" if record["buffer"] else ""
        return f"{record['warehouse_sku']} × {record['units']} ({sync}{buffer})"

    def existing(self, records):
        rows = SkuMapping.objects.filter(
            store_id__in={r["store_id"] for r in records},
            amazon_sku__in={r["amazon_sku"] for r in records},
        ).values("pk", "store_id", "amazon_sku", "warehouse_sku", *self.compare_fields)
        return {self.key(row): row for row in rows}

    def write(self, new, changed):
        # One upsert for both: a row another admin created meanwhile is
        # updated, not a unique-constraint failure.
        SkuMapping.objects.bulk_create(
            [SkuMapping(**{k: v for k, v in r.items() if k != "pk"}) for r in [*new, *changed]],
            batch_size=CHUNK_SIZE,
            update_conflicts=True,
            unique_fields=["store", "amazon_sku", "warehouse_sku"],
            update_fields=[*self.compare_fields, "updated_at"],
        )


class _ShippingMethodTable(MappingTable):
    model = ShippingMethodMapping
    # `marketplace` (a country code such as DE) with an empty store: that
    # marketplace's default. There is no default for every store.
    columns = ("store", "marketplace", "service_level", "prime", "carrier", "ship_code")
    required_columns = ("store", "service_level", "carrier", "ship_code")
    key_columns = ("store", "marketplace", "service_level", "prime")
    compare_fields = ("carrier", "ship_code")
    store_required = False

    def prepare(self, rows):
        self.marketplaces = {code.upper(): pk for pk, code in Marketplace.objects.values_list("pk", "code")}

    def parse(self, cells):
        store = self.store_of(cells)
        marketplace_code = cells.values.get("marketplace", "").strip().upper()
        marketplace_id = None
        if marketplace_code:
            marketplace_id = self.marketplaces.get(marketplace_code)
            if marketplace_id is None:
                cells.problems.append(
                    f"unknown marketplace {marketplace_code!r} (use a country code, e.g. DE)"
                )
            elif cells.values.get("store"):
                cells.problems.append(
                    "give a store or a marketplace, not both: a store's row applies to that store"
                )
        elif not cells.values.get("store") and self.store_ids is None:
            cells.problems.append(
                "store or marketplace is required: a default is for the stores of one marketplace"
            )
        service_level = cells.values.get("service_level", "")
        try:
            service_level = service_level_normalize(service_level)
        except ValueError as e:
            cells.problems.append(f"service_level: {e}")
        record = {
            "store_id": store.pk if store else None,
            "marketplace_id": None if cells.values.get("store") else marketplace_id,
            "service_level": service_level,
            "prime": cells.yes_no("prime", default=None),
            "carrier": cells.text("carrier", required=True),
            "ship_code": cells.text("ship_code", required=True),
        }
        cells.done()
        return record

    def key(self, record):
        return (record["store_id"], record["marketplace_id"], record["service_level"], record["prime"])

    def owner_label(self, record, store_names):
        if record["store_id"] is None and record["marketplace_id"] is not None:
            codes = {pk: code for code, pk in self.marketplaces.items()}
            return f"{codes.get(record['marketplace_id'], '?')} marketplace (default)"
        return super().owner_label(record, store_names)

    def preview_item(self, record, store):
        prime = {None: "Prime or not", True: "Prime", False: "not Prime"}[record["prime"]]
        return f"{store}: {record['service_level']}, {prime} → {record['carrier']} {record['ship_code']}"

    def existing(self, records):
        # A small table (a few rows per store): read the service levels concerned.
        rows = ShippingMethodMapping.objects.filter(
            service_level__in={r["service_level"] for r in records}
        ).values("pk", "store_id", "marketplace_id", "service_level", "prime", *self.compare_fields)
        return {self.key(row): row for row in rows}


class _CarrierTable(MappingTable):
    model = CarrierMapping
    columns = ("store", "warehouse_carrier", "amazon_carrier_code", "amazon_carrier_name")
    required_columns = ("store", "warehouse_carrier", "amazon_carrier_code")
    key_columns = ("store", "warehouse_carrier")
    compare_fields = ("warehouse_carrier", "amazon_carrier_code", "amazon_carrier_name")
    store_required = False

    def prepare(self, rows):
        # marketplace id -> {lowercased code: code as Amazon spells it}
        self.accepted: dict[int, dict[str, str]] = {}
        for marketplace_id, code in AcceptedCarrier.objects.values_list("marketplace_id", "code"):
            self.accepted.setdefault(marketplace_id, {})[code.lower()] = code

    def parse(self, cells):
        store = self.store_of(cells)
        code = cells.text("amazon_carrier_code", required=True)
        name = cells.text("amazon_carrier_name")
        if code.lower() == OTHER_CARRIER.lower():
            code = OTHER_CARRIER
            if not name:
                cells.problems.append("amazon_carrier_name is required with the carrier code Other")
        elif code:
            if store is not None:
                known = self.accepted.get(store.marketplace_id, {})
                where = f"the {store.name!r} store's marketplace"
            else:
                known = {k: v for codes in self.accepted.values() for k, v in codes.items()}
                where = "any marketplace"
            if code.lower() in known:
                code = known[code.lower()]
            elif store is not None or not cells.values.get("store"):
                # (an unknown store is reported already; its marketplace is unknown)
                cells.problems.append(
                    f"carrier code {code!r} is not accepted by Amazon in {where}; use an accepted code "
                    "or Other with a carrier name"
                )
        record = {
            "store_id": store.pk if store else None,
            "warehouse_carrier": cells.text("warehouse_carrier", required=True),
            "amazon_carrier_code": code,
            "amazon_carrier_name": name,
        }
        cells.done()
        return record

    def key(self, record):
        return (record["store_id"], record["warehouse_carrier"].lower())

    def preview_item(self, record, store):
        name = f" ({record['amazon_carrier_name']})" if record["amazon_carrier_name"] else ""
        return f"{store}: {record['warehouse_carrier']} → {record['amazon_carrier_code']}{name}"

    def existing(self, records):
        rows = CarrierMapping.objects.values("pk", "store_id", *self.compare_fields)
        return {self.key(row): row for row in rows}


KINDS: dict[str, type[MappingTable]] = {
    ImportJob.Kind.SKU: _SkuTable,
    ImportJob.Kind.SHIPPING_METHOD: _ShippingMethodTable,
    ImportJob.Kind.CARRIER: _CarrierTable,
}


def mapping_columns(*, kind: str) -> tuple[str, ...]:
    return KINDS[kind].columns
