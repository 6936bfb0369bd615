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
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from connections.models import Store

from .csv_files import CsvUnreadable, RowError, csv_size_problem, csv_text
from .import_tables import CHUNK_SIZE, KINDS, RowCells, RowInvalid
from .models import ImportJob
from .signals import release_mappings_changed

# The imports whose rows can release held orders (carrier mappings cannot).
RELEASE_KINDS = {ImportJob.Kind.SKU: "sku", ImportJob.Kind.SHIPPING_METHOD: "shipping_method"}

Progress = Callable[[int], None]
# Rows of each status (new, changed, unchanged) the preview lists; the counts are whole.
PREVIEW_ROWS = 200


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
    # What the file would do, row by row, for the preview page (at most PREVIEW_ROWS
    # of each status): {"status", "group", "item", "changes": [[column, old, new], ...]}.
    # A kit's rows share a group (store and Amazon SKU): one Amazon SKU with its components.
    preview: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        if self.errors:
            return f"{len(self.errors)} error(s) in {self.total} rows: nothing written"
        return f"{self.new} new, {self.changed} changed, {self.unchanged} unchanged"


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
            record = kind_.parse(RowCells(values, kind_class.model))
        except RowInvalid as e:
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
    shown = {"new": 0, "changed": 0, "unchanged": 0}
    store_names = {store.pk: name for name, store in stores.items()}

    def show(status: str, record: dict[str, Any], current: dict[str, Any] | None) -> None:
        if shown[status] >= PREVIEW_ROWS:
            return
        shown[status] += 1
        report.preview.append(kind_.preview_row(status, record, current, store_names))

    for chunk in _chunks(records, CHUNK_SIZE):
        existing = kind_.existing(chunk)
        for record in chunk:
            current = existing.get(kind_.key(record))
            if current is None:
                new.append(record)
                show("new", record, None)
            elif any(current[f] != record[f] for f in kind_.compare_fields):
                changed.append({**record, "pk": current["pk"]})
                show("changed", record, current)
            else:
                report.unchanged += 1
                show("unchanged", record, current)
        done += len(chunk)
        if progress:
            progress(done)
    report.new, report.changed = len(new), len(changed)
    report.preview.sort(key=lambda row: (row["group"], row["item"]))

    if not dry_run and (new or changed):
        with transaction.atomic():
            kind_.write(new, changed)
            if kind in RELEASE_KINDS:
                written = [*new, *changed]
                release_mappings_changed.send(
                    sender=kind_class.model,
                    kind=RELEASE_KINDS[kind],
                    store_ids={r["store_id"] for r in written if r.get("store_id")},
                    marketplace_ids={r["marketplace_id"] for r in written if r.get("marketplace_id")},
                )
        report.written = True
    return report


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
