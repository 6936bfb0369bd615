"""CSV import of shipments and inventory for warehouses without an API integration.

The same rules as the mappings import (mappings/imports.py): every bad row is
reported with its file line (the header is line 1) and nothing is written
unless the whole file is good. Rows go through the same services as the API
(shipment_record, inventory_update); a preview runs them in a transaction
that is rolled back, so it checks exactly what the import would do.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.dateparse import parse_date, parse_datetime

from fulfillment.core.errors import ShipmentRejected
from fulfillment.inventory.levels import InventoryRejected, inventory_update
from fulfillment.inventory.models import HeldInventorySnapshot
from fulfillment.orders.models import Warehouse
from fulfillment.shipments.models import Shipment
from fulfillment.shipments.services.recording import (
    PackageLocked,
    PackageNotFound,
    ShipmentConflict,
    ShipmentInput,
    ShipmentLineInput,
    shipment_correct,
    shipment_record,
)
from mappings.csv_files import CsvUnreadable, RowError, csv_size_problem, csv_text

SHIPMENT_COLUMNS = (
    "amazon_order_id",
    "package_id",
    "carrier",
    "service",
    "tracking_number",
    "ship_date",
    "warehouse_sku",
    "order_item_id",
    "quantity",
)
SHIPMENT_REQUIRED = ("amazon_order_id", "package_id", "carrier", "tracking_number", "ship_date", "quantity")
INVENTORY_COLUMNS = ("sku", "available")
_INT_RE = re.compile(r"^\+?\d+$")
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PACKAGE_FIELDS = ("carrier", "service", "tracking_number", "ship_date")


@dataclass
class CsvImportReport:
    rows: int = 0
    errors: list[RowError] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    written: bool = False
    # A complete inventory snapshot held for a person instead of written (why, and its id once kept).
    held_reason: str = ""
    held_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"{len(self.errors)} error(s) in {self.rows} rows: nothing written"
        return ", ".join(f"{v} {k}" for k, v in self.counts.items())


class _Rollback(Exception):
    pass


def _read(data: bytes | str, *, columns: tuple[str, ...], required: tuple[str, ...], report: CsvImportReport):
    """(line, {column: value}) for each non-blank row, or None when the header is wrong
    (or the file is too large or not readable text: refused before parsing)."""
    too_large = csv_size_problem(data)
    if too_large:
        report.errors.append(RowError(1, too_large))
        return None
    try:
        text = csv_text(data)
    except CsvUnreadable as e:
        report.errors.append(RowError(1, str(e)))
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        headers = [h.strip().lower() for h in next(reader, [])]
        unknown = [h for h in headers if h not in columns]
        missing = [c for c in required if c not in headers]
        if unknown or missing or not headers:
            problems = [f"missing column(s) {', '.join(missing)}"] if missing else []
            problems += [f"unknown column(s) {', '.join(unknown)}"] if unknown else []
            report.errors.append(
                RowError(1, f"{'; '.join(problems) or 'no header'}; the columns are: {', '.join(columns)}")
            )
            return None
        rows = []
        start = reader.line_num + 1
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not any(c.strip() for c in cells):
                continue
            if len(cells) > len(headers):
                report.errors.append(RowError(line, f"{len(cells)} cells but the header has {len(headers)}"))
                continue
            rows.append((line, {h: c.strip() for h, c in zip(headers, cells, strict=False)}))
        report.rows = len(rows) + len(report.errors)
        return rows
    except csv.Error as e:
        report.errors.append(RowError(reader.line_num, f"not valid CSV: {e}"))
        return None


def _ship_date(value: str):
    try:
        return parse_date(value) if _DATE_ONLY.match(value) else parse_datetime(value)
    except ValueError:
        return None


def shipments_csv_import(
    *, warehouse: Warehouse, data: bytes | str, dry_run: bool, correct: bool = False
) -> CsvImportReport:
    """Rows with the same (amazon_order_id, package_id) are one package.

    `correct`: a package recorded before with other data is replaced
    (shipment_correct) while Amazon has not accepted it, instead of refused."""
    report = CsvImportReport()
    rows = _read(data, columns=SHIPMENT_COLUMNS, required=SHIPMENT_REQUIRED, report=report)
    if rows is None:
        return report

    packages: dict[tuple[str, str], list[tuple[int, dict[str, str]]]] = {}
    for line, values in rows:
        problems = [f"{c} is required" for c in SHIPMENT_REQUIRED if not values.get(c)]
        if bool(values.get("warehouse_sku")) == bool(values.get("order_item_id")):
            problems.append("give exactly one of warehouse_sku or order_item_id")
        quantity = values.get("quantity", "")
        if quantity and (not _INT_RE.match(quantity) or int(quantity) < 1):
            problems.append(f"quantity must be a whole number of 1 or more, not {quantity!r}")
        if values.get("ship_date") and _ship_date(values["ship_date"]) is None:
            bad = values["ship_date"]
            problems.append(f"ship_date must be ISO 8601 (2026-05-04 or 2026-05-04T15:30:00Z), not {bad!r}")
        group = packages.setdefault((values.get("amazon_order_id", ""), values.get("package_id", "")), [])
        if group and not problems:
            first_line, first = group[0]
            for name in _PACKAGE_FIELDS:
                if values.get(name, "") != first.get(name, ""):
                    problems.append(f"{name} differs from line {first_line} of the same package")
        report.errors.extend(RowError(line, p) for p in problems)
        group.append((line, values))
    if report.errors:
        report.errors.sort(key=lambda e: e.line)
        return report

    counts = {"packages recorded": 0, "packages already recorded": 0}
    if correct:
        counts["packages corrected"] = 0
    try:
        with transaction.atomic():
            for (order_ref, package_id), group in packages.items():
                first_line, first = group[0]
                data_in = ShipmentInput(
                    order=order_ref,
                    package_id=package_id,
                    carrier=first["carrier"],
                    service=first.get("service", ""),
                    tracking_number=first["tracking_number"],
                    ship_date=_ship_date(first["ship_date"]),
                    lines=[
                        ShipmentLineInput(
                            quantity=int(v["quantity"]),
                            order_item_id=v.get("order_item_id", ""),
                            warehouse_sku=v.get("warehouse_sku", ""),
                        )
                        for _, v in group
                    ],
                )
                try:
                    try:
                        _, created = shipment_record(
                            warehouse=warehouse, data=data_in, source=Shipment.Source.CSV
                        )
                        outcome = "packages recorded" if created else "packages already recorded"
                    except ShipmentConflict:
                        if not correct:
                            raise
                        shipment_correct(warehouse=warehouse, data=data_in, source=Shipment.Source.CSV)
                        outcome = "packages corrected"
                except (PackageLocked, PackageNotFound) as e:
                    report.errors.append(RowError(first_line, str(e)))
                    continue
                except ShipmentConflict as e:
                    differences = "; ".join(
                        f"{name}: stored {d['stored']!r}, sent {d['sent']!r}"
                        for name, d in e.differences.items()
                    )
                    report.errors.append(
                        RowError(
                            first_line,
                            f"package {package_id} was recorded before with other data ({differences}); "
                            'nothing changed (tick "correct packages recorded before" to replace it)',
                        )
                    )
                    continue
                except ShipmentRejected as e:
                    for key, messages in e.errors.items():
                        if key.startswith("lines."):
                            line = group[int(key.split(".")[1])][0]
                            report.errors.extend(RowError(line, m) for m in messages)
                        else:
                            report.errors.extend(RowError(first_line, f"{key}: {m}") for m in messages)
                    continue
                counts[outcome] += 1
            if report.errors or dry_run:
                raise _Rollback
    except _Rollback:
        pass
    report.errors.sort(key=lambda e: e.line)
    report.counts = counts
    report.written = not report.errors and not dry_run
    return report


def inventory_csv_import(
    *, warehouse: Warehouse, data: bytes | str, complete: bool, dry_run: bool, sent_by: str = ""
) -> CsvImportReport:
    report = CsvImportReport()
    rows = _read(data, columns=INVENTORY_COLUMNS, required=INVENTORY_COLUMNS, report=report)
    if rows is None:
        return report
    items: list[tuple[str, int]] = []
    lines: list[int] = []
    first_line: dict[str, int] = {}
    for line, values in rows:
        sku, available = values.get("sku", ""), values.get("available", "")
        if sku in first_line:
            report.errors.append(
                RowError(line, f"sku {sku} is listed twice (first on line {first_line[sku]})")
            )
            continue
        first_line[sku] = line
        if not _INT_RE.match(available):
            report.errors.append(
                RowError(line, f"available must be a whole number of 0 or more, not {available!r}")
            )
            continue
        items.append((sku, int(available)))
        lines.append(line)
    if report.errors:
        return report
    try:
        with transaction.atomic():
            result = inventory_update(
                warehouse=warehouse,
                items=items,
                complete=complete,
                source=HeldInventorySnapshot.Source.CSV,
                sent_by=sent_by,
            )
            if result.held is not None:
                report.held_reason = result.held.reason
                report.held_id = None if dry_run else result.held.pk
            report.counts = {
                "changed": result.changed,
                "unchanged": result.unchanged,
                "zeroed": result.zeroed,
            }
            if dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except InventoryRejected as e:
        for key, messages in e.errors.items():
            line = lines[int(key.split(".")[1])] if key.startswith("items.") else 1
            report.errors.extend(RowError(line, m) for m in messages)
        report.errors.sort(key=lambda e: e.line)
        return report
    report.written = not dry_run and not report.held_reason
    return report
