"""Exceptions turned into messages safe to store and log: ids and field names, never row values.

Every job's error path goes through here (SyncRun.error, run notes, a
confirmation's or delivery's last error, the log). A database error's text
can carry the row it failed on (PostgreSQL's "DETAIL: Failing row contains
(...)", "Key (...)=(...)", "invalid input syntax ...: <value>"), and with it a
gift message or an address; an arbitrary exception's text can carry any
value it was raised about. So only messages we know to be free of values are
kept as they are; the rest become their class, where they were raised and,
for database errors, the table, column and constraint the database names.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import traceback
from pathlib import Path

from django.db import DatabaseError

from fulfillment.core.errors import ValueFreeError

_ROOT = Path(__file__).resolve().parents[2]  # the repository
# SQLite's constraint messages name tables and columns only.
_SQLITE_SAFE = re.compile(r"^(UNIQUE|NOT NULL|CHECK|FOREIGN KEY) constraint failed(: [\w., ]+)?$")


def _safe_classes() -> tuple[type[BaseException], ...]:
    # Imported late: these modules import this one (directly or not).
    from connections.amazon import AmazonError

    return (AmazonError, ValueFreeError)


def _where(exc: BaseException) -> str:
    """The innermost frame of our own code the exception went through."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        if _ROOT in path.parents and ".venv" not in path.parts and "site-packages" not in path.parts:
            return f" in {path.relative_to(_ROOT)}:{frame.lineno} ({frame.name})"
    return ""


def _database_error(exc: DatabaseError) -> str:
    cause = exc.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None:  # psycopg: the diagnostics name things, never values
        parts = [type(cause).__name__]
        for label, value in (
            ("table", diag.table_name),
            ("column", diag.column_name),
            ("constraint", diag.constraint_name),
            ("type", diag.datatype_name),
        ):
            if value:
                parts.append(f"{label} {value}")
        return f"{type(exc).__name__}: " + ", ".join(parts)
    if isinstance(cause, sqlite3.Error) and _SQLITE_SAFE.match(str(cause)):
        return f"{type(exc).__name__}: {cause}"
    return f"{type(exc).__name__}"


def safe_error(exc: BaseException) -> str:
    """A message for SyncRun.error, last_error columns and logs: what and where, no row values."""
    if isinstance(exc, _safe_classes()):
        return f"{type(exc).__name__}: {exc}"[:4000]
    if isinstance(exc, DatabaseError):
        return _database_error(exc) + _where(exc)
    return f"{type(exc).__name__}{_where(exc)}"


def safe_traceback(exc: BaseException) -> str:
    """The traceback's frames (file, line, function: no locals, no source text) and the safe message."""
    frames = "".join(
        f'  File "{f.filename}", line {f.lineno}, in {f.name}\n'
        for f in traceback.extract_tb(exc.__traceback__)
    )
    return f"Traceback (most recent call last):\n{frames}{safe_error(exc)}"


def job_failure(logger: logging.Logger, what: str, exc: BaseException) -> str:
    """Log a job's failure (frames and the safe message) and return the safe message to store."""
    message = safe_error(exc)
    logger.warning("%s failed: %s\n%s", what, message, safe_traceback(exc))
    return message
