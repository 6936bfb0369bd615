"""CSV import of the mapping tables: the one code path behind the admin's
import, `manage.py import mappings.resources.<Resource>`, the background
import job and bench/import_skus.py.

Every row is parsed and validated in Python first (stores resolved with one
query, carrier codes checked against the marketplaces' accepted lists with one
query, duplicate keys inside the file found in memory) and EVERY bad row is
reported with its line number (header = line 1). If any row is bad nothing is
written. Otherwise the rows that are new or changed are upserted in chunks in
one transaction; unchanged rows are not written at all, so importing the same
file twice changes nothing.

django-import-export's own row-by-row path costs about 5 queries a row, its
`use_bulk` cannot upsert and loses per-row errors, and its IntegerWidget reads
"2.7" as 2: hence this path.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from connections.models import AcceptedCarrier, Store

from .models import OTHER_CARRIER, CarrierMapping, ImportJob, ShippingMethodMapping, SkuMapping
from .service_levels import service_level_normalize

CHUNK_SIZE = 2000
_INT_RE = re.compile(r"^[+-]?\d+$")
_TRUE = {"1", "true", "yes"}
_FALSE = {"0", "false", "no"}

Progress = Callable[[int], None]


@dataclass(frozen=True)
class RowError:
    line: int  # line in the file: the header is line 1, the first data row line 2
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class ImportReport:
    total: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    # Store names (or "(empty: every store)") the importing user may not write.
    refused_stores: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"{len(self.errors)} error(s) in {self.total} rows: nothing written"
        return f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged"


class _RowInvalid(Exception):
    def __init__(self, messages: list[str]):
        self.messages = messages


class _Cells:
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
            raise _RowInvalid(self.problems)


class _Kind:
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

    def store_of(self, cells: _Cells) -> Store | None:
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

    def parse(self, cells: _Cells) -> dict[str, Any]:
        raise NotImplementedError

    def key(self, record: dict[str, Any]) -> tuple:
        raise NotImplementedError

    def existing(self, records: list[dict[str, Any]]) -> dict[tuple, dict[str, Any]]:
        """key -> {"pk": ..., compare fields...} for the rows these records would touch."""
        raise NotImplementedError

    def write(self, new: list[dict[str, Any]], changed: list[dict[str, Any]]) -> None:
        now = timezone.now()
        self.model.objects.bulk_create([self.model(**r) for r in new], batch_size=CHUNK_SIZE)
        objs = [self.model(**r, updated_at=now) for r in changed]
        self.model.objects.bulk_update(objs, [*self.compare_fields, "updated_at"], batch_size=CHUNK_SIZE)


class _SkuKind(_Kind):
    model = SkuMapping
    columns = ("store", "amazon_sku", "asin", "warehouse_sku", "units", "sync_inventory", "buffer")
    required_columns = ("store", "amazon_sku", "warehouse_sku")
    key_columns = ("store", "amazon_sku", "warehouse_sku")
    compare_fields = ("asin", "units", "sync_inventory", "buffer")

    def parse(self, cells: _Cells) -> dict[str, Any]:
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


class _ShippingMethodKind(_Kind):
    model = ShippingMethodMapping
    columns = ("store", "service_level", "prime", "carrier", "ship_code")
    required_columns = ("store", "service_level", "carrier", "ship_code")
    key_columns = ("store", "service_level", "prime")
    compare_fields = ("carrier", "ship_code")
    store_required = False

    def parse(self, cells):
        store = self.store_of(cells)
        service_level = cells.values.get("service_level", "")
        try:
            service_level = service_level_normalize(service_level)
        except ValueError as e:
            cells.problems.append(f"service_level: {e}")
        record = {
            "store_id": store.pk if store else None,
            "service_level": service_level,
            "prime": cells.yes_no("prime", default=None),
            "carrier": cells.text("carrier", required=True),
            "ship_code": cells.text("ship_code", required=True),
        }
        cells.done()
        return record

    def key(self, record):
        return (record["store_id"], record["service_level"], record["prime"])

    def existing(self, records):
        # A small table (a few rows per store): read the service levels concerned.
        rows = ShippingMethodMapping.objects.filter(
            service_level__in={r["service_level"] for r in records}
        ).values("pk", "store_id", "service_level", "prime", *self.compare_fields)
        return {self.key(row): row for row in rows}


class _CarrierKind(_Kind):
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

    def existing(self, records):
        rows = CarrierMapping.objects.values("pk", "store_id", *self.compare_fields)
        return {self.key(row): row for row in rows}


KINDS: dict[str, type[_Kind]] = {
    ImportJob.Kind.SKU: _SkuKind,
    ImportJob.Kind.SHIPPING_METHOD: _ShippingMethodKind,
    ImportJob.Kind.CARRIER: _CarrierKind,
}


def mapping_columns(*, kind: str) -> tuple[str, ...]:
    return KINDS[kind].columns


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def mapping_rows_import(
    *,
    kind: str,
    headers: Sequence[str],
    rows: Iterable[tuple[int, Sequence[str]]],
    dry_run: bool = False,
    progress: Progress | None = None,
    store_ids: Collection[int] | None = None,
) -> ImportReport:
    """Import (line number, cells) rows under `headers`, all-or-nothing.

    `store_ids`: the stores the importing user may write (a merchant user's);
    None for a warehouse user, who may also write the defaults (empty store).
    `progress(rows_validated)` is called after each chunk of the validation
    pass, outside the write transaction, so a job's progress is visible.
    """
    report = ImportReport()
    kind_class = KINDS[kind]
    headers = [h.strip().lower() for h in headers]

    unknown = [h for h in headers if h not in kind_class.columns]
    missing = [c for c in kind_class.required_columns if c not in headers]
    # Two columns read as one name would leave which cell counts to the reader.
    twice = sorted({h for h in headers if headers.count(h) > 1})
    if unknown or missing or twice or not headers:
        problems = []
        if missing:
            problems.append(f"missing column(s) {', '.join(missing)}")
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
        if twice:
            problems.append(f"column(s) given twice: {', '.join(twice)}")
        expected = ", ".join(kind_class.columns)
        report.errors.append(RowError(1, f"{'; '.join(problems) or 'no header'}; the header is: {expected}"))
        return report

    parsed: list[tuple[int, dict[str, str]]] = []
    for line, cells in rows:
        if not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) > len(headers):
            report.errors.append(RowError(line, f"{len(cells)} cells but the header has {len(headers)}"))
            continue
        parsed.append((line, {h: c.strip() for h, c in zip(headers, cells, strict=False)}))
    report.total = len(parsed) + len(report.errors)

    store_names = {values.get("store", "") for _, values in parsed} - {""}
    stores = {s.name: s for s in Store.objects.filter(name__in=store_names)} if store_names else {}
    kind_ = kind_class(stores, None if store_ids is None else frozenset(store_ids), report.refused_stores)
    kind_.prepare(parsed)

    records: list[dict[str, Any]] = []
    first_line_of: dict[tuple, int] = {}
    for line, values in parsed:
        try:
            record = kind_.parse(_Cells(values, kind_class.model))
        except _RowInvalid as e:
            report.errors.extend(RowError(line, message) for message in e.messages)
            continue
        key = kind_.key(record)
        if key in first_line_of:
            columns = ", ".join(kind_class.key_columns)
            report.errors.append(
                RowError(line, f"duplicate of line {first_line_of[key]} (same {columns}) in this file")
            )
            continue
        first_line_of[key] = line
        records.append(record)
    report.errors.sort(key=lambda e: e.line)
    if report.errors:
        return report

    new: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    done = 0
    for chunk in _chunks(records, CHUNK_SIZE):
        existing = kind_.existing(chunk)
        for record in chunk:
            current = existing.get(kind_.key(record))
            if current is None:
                new.append(record)
            elif any(current[f] != record[f] for f in kind_.compare_fields):
                changed.append({**record, "pk": current["pk"]})
            else:
                report.unchanged += 1
        done += len(chunk)
        if progress:
            progress(done)
    report.new, report.changed = len(new), len(changed)

    if not dry_run and (new or changed):
        with transaction.atomic():
            kind_.write(new, changed)
        report.written = True
    return report


class CsvUnreadable(ValueError):
    """The file is not CSV text we can read: refused before any row is parsed."""


def csv_size_problem(data: bytes | str) -> str | None:
    """Why a file is too large to import, checked before it is decoded or parsed."""
    limit = settings.CSV_IMPORT_MAX_BYTES
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > limit:
        return (
            f"The file is {size:,} bytes; at most {limit:,} are accepted "
            "(CSV_IMPORT_MAX_BYTES). Split it into smaller files."
        )
    return None


def validate_csv_upload(upload) -> None:
    """Form validator: refuse an oversized upload from its declared size, before
    a byte of it is read into memory."""
    limit = settings.CSV_IMPORT_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            "The file is %(size)s bytes; at most %(limit)s are accepted (CSV_IMPORT_MAX_BYTES). "
            "Split it into smaller files.",
            params={"size": f"{upload.size:,}", "limit": f"{limit:,}"},
        )


def csv_text(data: bytes | str) -> str:
    """The file's text: UTF-8 (with or without a BOM) or, as Excel on Windows saves
    it, cp1252. Raises CsvUnreadable rather than guess: a byte that is neither (or a
    NUL, which no text CSV has and PostgreSQL cannot store) would otherwise be
    written into SKUs as a replacement character, or fail deep in the database."""
    if isinstance(data, str):
        text = data.removeprefix("\ufeff")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as exc:
                raise CsvUnreadable(
                    f"The file is not UTF-8 or Windows-1252 text (byte 0x{data[exc.start]:02x} at "
                    f'position {exc.start}): save it as "CSV UTF-8".'
                ) from exc
    if "\x00" in text:
        raise CsvUnreadable('The file contains NUL bytes: it is not a text CSV (save it as "CSV UTF-8").')
    if "\ufffd" in text:
        raise CsvUnreadable(
            "The file contains characters that could not be decoded (shown as \ufffd): "
            'save it as "CSV UTF-8".'
        )
    return text


def mapping_csv_import(
    *,
    kind: str,
    data: bytes | str,
    dry_run: bool = False,
    progress: Progress | None = None,
    store_ids: Collection[int] | None = None,
) -> ImportReport:
    """Import a CSV file's content; see `mapping_rows_import`."""
    too_large = csv_size_problem(data)
    if too_large:
        return ImportReport(errors=[RowError(1, too_large)])
    try:
        text = csv_text(data)
    except CsvUnreadable as e:
        return ImportReport(errors=[RowError(1, str(e))])
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = next(reader, [])
    except csv.Error as e:
        return ImportReport(errors=[RowError(1, f"not a CSV file: {e}")])

    def numbered():
        # line_num counts physical lines, so a quoted cell spanning lines keeps later numbers right.
        start = reader.line_num + 1
        for cells in reader:
            yield start, cells
            start = reader.line_num + 1

    try:
        return mapping_rows_import(
            kind=kind,
            headers=headers,
            rows=numbered(),
            dry_run=dry_run,
            progress=progress,
            store_ids=store_ids,
        )
    except csv.Error as e:
        return ImportReport(errors=[RowError(reader.line_num, f"not valid CSV: {e}")])


def csv_row_count(*, data: bytes | str) -> int:
    """Data rows in a CSV file (not counting the header or blank lines)."""
    reader = csv.reader(io.StringIO(csv_text(data), newline=""))
    next(reader, None)
    return sum(1 for cells in reader if any(c.strip() for c in cells))
