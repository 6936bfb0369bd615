"""/healthz answers a load balancer and a monitor: 200 when every check passes,
503 with the failing check named, nothing sensitive in the answer."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone
from django_q.models import Schedule

from fulfillment.jobs.schedules import schedules_sync
from fulfillment.monitoring.models import Heartbeat
from fulfillment.monitoring.services import HEARTBEAT_NAME
from fulfillment.monitoring.tasks import heartbeat_task
from tests.factories import make_store
from tests.orders.factories import make_sync_run

pytestmark = pytest.mark.django_db


def _beat(seconds_ago: float) -> None:
    Heartbeat.objects.update_or_create(
        name=HEARTBEAT_NAME, defaults={"beat_at": timezone.now() - dt.timedelta(seconds=seconds_ago)}
    )


def _get(client, path="/healthz", **extra) -> tuple[int, dict]:
    response = client.get(path, **extra)
    assert response["Content-Type"] == "application/json"
    assert "no-store" in response["Cache-Control"]
    return response.status_code, json.loads(response.content)


def test_it_answers_200_when_every_check_passes(client):
    _beat(30)
    store = make_store(name="Acme Secret Name")
    make_sync_run(store=store, finished_at=timezone.now() - dt.timedelta(minutes=5))
    schedules_sync()

    status, body = _get(client)

    assert status == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {
        "database",
        "broker",
        "cache",
        "task_cluster",
        "order_downloads",
        "schedules",
    }
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["broker"]["kind"] == "orm"
    assert body["checks"]["task_cluster"]["heartbeat_age_seconds"] == 30
    assert body["checks"]["order_downloads"] == {"ok": True, "stores_connected": 1, "stores_late": 0}
    assert body["checks"]["schedules"] == {"ok": True, "schedules_missing": 0}


def test_a_schedule_missing_fails_it_with_what_to_run(client):
    # given: a fresh install where sync_schedules did not run yet, then one schedule deleted
    _beat(5)
    make_store()
    status, body = _get(client)
    assert status == 503
    assert body["checks"]["schedules"]["ok"] is False
    assert "sync_schedules" in body["checks"]["schedules"]["error"]

    schedules_sync()
    assert _get(client)[0] == 200
    Schedule.objects.filter(name="schedules-repair").delete()

    status, body = _get(client)
    assert status == 503
    assert body["checks"]["schedules"]["schedules_missing"] == 1


def test_it_answers_503_without_a_heartbeat_and_with_an_old_one(client, settings):
    settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS = 300

    status, body = _get(client)
    assert status == 503
    assert body["status"] == "fail"
    assert body["checks"]["task_cluster"]["ok"] is False
    assert "qcluster" in body["checks"]["task_cluster"]["error"]

    _beat(301)
    status, body = _get(client)
    assert status == 503
    assert body["checks"]["task_cluster"]["heartbeat_age_seconds"] == 301
    assert body["checks"]["database"]["ok"] is True


def test_a_download_two_intervals_late_fails_it_without_naming_the_store(client):
    _beat(10)
    late = make_store(name="Acme Secret Name", order_pull_minutes=30)
    make_sync_run(store=late, finished_at=timezone.now() - dt.timedelta(minutes=61))
    # A failed run since does not count as a download.
    make_sync_run(store=late, ok=False, started_at=timezone.now(), finished_at=timezone.now())
    on_time = make_store(order_pull_minutes=30)
    make_sync_run(store=on_time, finished_at=timezone.now() - dt.timedelta(minutes=59))
    # Connected a minute ago and never downloaded yet: not late.
    make_store(authorized_at=timezone.now() - dt.timedelta(minutes=1))
    # Not connected: not checked.
    make_store(authorization_status="needs_reauthorization", order_pull_minutes=5)

    response = client.get("/healthz")
    body = json.loads(response.content)

    assert response.status_code == 503
    assert body["checks"]["order_downloads"]["ok"] is False
    assert body["checks"]["order_downloads"]["stores_connected"] == 3
    assert body["checks"]["order_downloads"]["stores_late"] == 1
    assert b"Acme" not in response.content


def test_a_store_never_downloaded_is_late_two_intervals_after_it_was_connected(client):
    _beat(10)
    make_store(order_pull_minutes=15, authorized_at=timezone.now() - dt.timedelta(minutes=31))

    status, body = _get(client)

    assert status == 503
    assert body["checks"]["order_downloads"]["stores_late"] == 1


def test_the_web_scope_ignores_the_cluster_and_the_downloads(client):
    late = make_store(order_pull_minutes=5)
    make_sync_run(store=late, finished_at=timezone.now() - dt.timedelta(hours=3))

    status, body = _get(client, "/healthz/web")

    assert status == 200
    assert set(body["checks"]) == {"database", "broker", "cache"}


def test_an_unreachable_redis_broker_fails_with_its_class_only(client, settings):
    # Port 9 on loopback (discard) is closed here: the connection is refused at once.
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": "redis://:hunter2@127.0.0.1:9/0"}

    response = client.get("/healthz/web")
    body = json.loads(response.content)

    assert response.status_code == 503
    assert body["checks"]["broker"] == {"ok": False, "error": "ConnectionError"}
    assert b"hunter2" not in response.content and b"127.0.0.1" not in response.content


def test_a_reachable_redis_broker_passes(client, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "redis": "redis://127.0.0.1:6379/15"}

    status, body = _get(client, "/healthz/web")

    assert status == 200
    assert body["checks"]["broker"] == {"ok": True, "kind": "redis"}


def test_a_broken_cache_fails(client, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

    status, body = _get(client, "/healthz/web")

    assert status == 503
    assert body["checks"]["cache"]["ok"] is False


def test_it_answers_any_host_over_plain_http_before_the_host_check_and_redirect(client, settings):
    # A load balancer probes the instance by its address, without TLS.
    settings.SECURE_SSL_REDIRECT = True
    _beat(5)
    schedules_sync()

    response = client.get("/healthz", HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200
    # Every other page still checks the host and redirects to HTTPS.
    assert client.get("/admin/login/", HTTP_HOST="10.1.2.3:8000").status_code == 400
    assert client.get("/admin/login/").status_code == 301


def test_it_refuses_writes(client):
    assert client.post("/healthz").status_code == 405


def test_it_reads_in_a_fixed_number_of_queries(client, django_assert_num_queries):
    _beat(5)
    for _ in range(3):
        make_sync_run(store=make_store())
    schedules_sync()
    # SELECT 1, the ORM broker, the heartbeat, the stores with their last download;
    # the schedules: webhooks, stores, the schedules by name.
    with django_assert_num_queries(7):
        assert client.get("/healthz").status_code == 200
    for _ in range(3):
        make_sync_run(store=make_store())
    schedules_sync()
    with django_assert_num_queries(7):
        assert client.get("/healthz").status_code == 200


def test_the_heartbeat_task_moves_the_heartbeat_forward_only(django_assert_num_queries):
    heartbeat_task()
    first = Heartbeat.objects.get(name=HEARTBEAT_NAME).beat_at
    with django_assert_num_queries(1):
        heartbeat_task()  # a later beat: one UPDATE

    assert Heartbeat.objects.count() == 1
    assert Heartbeat.objects.get().beat_at >= first

    from fulfillment.monitoring.services import heartbeat_record

    heartbeat_record(now=first - dt.timedelta(hours=1))  # a late, delayed task
    assert Heartbeat.objects.get().beat_at >= first


def test_the_heartbeat_runs_every_minute_on_the_registry_s_schedule():
    schedules_sync()
    schedule = Schedule.objects.get(name="monitoring-heartbeat")

    assert schedule.func == "fulfillment.monitoring.tasks.heartbeat_task"
    assert (schedule.schedule_type, schedule.minutes, schedule.repeats) == (Schedule.MINUTES, 1, -1)
    assert not schedule.args and not schedule.kwargs
