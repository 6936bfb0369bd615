"""Log lines name the store and the sync run a job is working on (text or JSON),
start empty for each request and task, and carry nothing but their fields."""

from __future__ import annotations

import json
import logging

import pytest
from django.core.signals import request_started
from django_q.signals import pre_execute

from fulfillment.core.logs import JobContextFilter, TextFormatter, job_context_set, json_formatter
from fulfillment.jobs.models import SyncRun
from fulfillment.jobs.runs import sync_run_finish, sync_run_start


def _record(message: str = "page %d committed", *args, **extra) -> logging.LogRecord:
    record = logging.getLogger("fulfillment.orders.services.download").makeRecord(
        "fulfillment.orders.services.download",
        logging.INFO,
        __file__,
        1,
        message,
        args or (3,),
        None,
        extra=extra,
    )
    JobContextFilter().filter(record)
    return record


@pytest.mark.django_db
def test_a_run_puts_its_store_and_run_ids_on_every_line(store):
    run = sync_run_start(store=store, kind=SyncRun.Kind.ORDER_PULL)

    line = json.loads(json_formatter().format(_record()))

    assert line["store_id"] == store.pk and line["run_id"] == run.pk
    assert line["message"] == "page 3 committed"
    assert line["level"] == "INFO" and line["logger"] == "fulfillment.orders.services.download"
    assert set(line) == {"time", "level", "logger", "message", "store_id", "run_id", "task_id"}
    assert f"[store={store.pk} run={run.pk}]" in TextFormatter().format(_record())
    sync_run_finish(run=run, ok=True)


def test_json_lines_drop_whatever_a_caller_adds_with_extra():
    job_context_set(store_id=None)
    line = json.loads(json_formatter().format(_record(extra_field="Jane Doe, 1 Main St")))

    assert "Jane Doe" not in json.dumps(line)
    assert line["store_id"] is None


@pytest.mark.django_db
def test_each_request_and_each_task_starts_without_a_store():
    job_context_set(store_id=7, run_id=70)
    request_started.send(sender=None, environ={})
    assert _record().store_id is None
    assert "[" not in TextFormatter().format(_record())

    job_context_set(store_id=7, run_id=70)
    pre_execute.send(sender="django_q", func=print, task={"id": "abc123", "name": "four-word-task-name"})
    record = _record()
    assert (record.store_id, record.run_id, record.task_id) == (None, None, "abc123")


def test_the_settings_switch_to_json_with_log_format():
    from tests.test_settings import PRODUCTION_ENV, _run

    code = "import logging; logging.getLogger('probe').warning('hello %s', 'world')"
    result = _run({**PRODUCTION_ENV, "LOG_FORMAT": "json"}, "shell", "-c", code)

    assert result.returncode == 0, result.stderr
    line = json.loads(result.stderr.strip().splitlines()[-1])
    assert line["message"] == "hello world" and line["logger"] == "probe" and line["level"] == "WARNING"

    refused = _run({**PRODUCTION_ENV, "LOG_FORMAT": "yaml"}, "check")
    assert refused.returncode != 0 and "LOG_FORMAT must be" in refused.stderr
