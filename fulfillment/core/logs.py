"""Log lines that say which store and which sync run they are about.

Job code calls `job_context_set()` when a run starts (fulfillment.jobs.runs);
every record logged afterwards in that task or request carries `store_id` and
`run_id` (contextvars: per thread, per task). Requests and django-q2 tasks start
with an empty context. Records carry ids only: nothing here reads buyer data.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

_store_id: ContextVar[int | None] = ContextVar("log_store_id", default=None)
_run_id: ContextVar[int | None] = ContextVar("log_run_id", default=None)
_task_id: ContextVar[str | None] = ContextVar("log_task_id", default=None)


def job_context_set(*, store_id: int | None, run_id: int | None = None) -> None:
    _store_id.set(store_id)
    _run_id.set(run_id)


def job_context_clear(*, task_id: str | None = None) -> None:
    _store_id.set(None)
    _run_id.set(None)
    _task_id.set(task_id)


def job_context_clear_on_request(**kwargs) -> None:
    job_context_clear()


def job_context_clear_on_task(*, task: dict, **kwargs) -> None:
    job_context_clear(task_id=str(task.get("id") or "") or None)


class JobContextFilter(logging.Filter):
    """Adds store_id, run_id and task_id (None when unknown) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.store_id = _store_id.get()
        record.run_id = _run_id.get()
        record.task_id = _task_id.get()
        return True


class TextFormatter(logging.Formatter):
    """`time LEVEL logger [store=.. run=..] message`: ids only when known."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(job)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"{key}={value}"
            for key, value in (
                ("store", getattr(record, "store_id", None)),
                ("run", getattr(record, "run_id", None)),
                ("task", getattr(record, "task_id", None)),
            )
            if value is not None
        ]
        record.job = f" [{' '.join(parts)}]" if parts else ""
        return super().format(record)


_JSON_FIELDS = ("time", "level", "logger", "message", "store_id", "run_id", "task_id", "exc_info")


class _JsonFormatter(JsonFormatter):
    def add_fields(self, log_record: dict, record: logging.LogRecord, message_dict: dict) -> None:
        super().add_fields(log_record, record, message_dict)
        # Only the fields above: an `extra=` or a dict message from a library never
        # reaches the log shipper with whatever it carried.
        for key in [k for k in log_record if k not in _JSON_FIELDS]:
            del log_record[key]


def json_formatter() -> JsonFormatter:
    """One JSON object per line: time, level, logger, message, store_id, run_id, task_id."""
    return _JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s %(store_id)s %(run_id)s %(task_id)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
    )
