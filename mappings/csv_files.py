"""Reading an uploaded CSV file: its size limit, its text encoding, its rows, and
the line-numbered error every import reports. Shared by the mapping import and
the WMS shipments/inventory import (fulfillment/wms/imports.py)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class RowError:
    line: int  # line in the file: the header is line 1, the first data row line 2
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


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


def csv_row_count(*, data: bytes | str) -> int:
    """Data rows in a CSV file (not counting the header or blank lines)."""
    reader = csv.reader(io.StringIO(csv_text(data), newline=""))
    next(reader, None)
    return sum(1 for cells in reader if any(c.strip() for c in cells))
