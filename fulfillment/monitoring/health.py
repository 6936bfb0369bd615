"""Health checks for a load balancer and a monitor (`/healthz`, `/healthz/web`).

Each check answers ok or not with a figure a person can act on, never a
hostname, a store name or an exception's text (the answer needs no login).
The web scope (database, broker, cache) is what a load balancer should ask: a
stopped task cluster or a late Amazon download must not take the web out of
rotation. The full scope adds the cluster's heartbeat, the order downloads and
the schedules the registry declares (fulfillment/jobs/schedules.py).
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.db import connections
from django.db.models import OuterRef, Subquery

logger = logging.getLogger(__name__)

# A check that has not answered by then (Redis) counts as down.
REDIS_TIMEOUT_SECONDS = 2.0


class CheckFailed(Exception):
    """A check's own verdict, with details safe to show."""

    def __init__(self, **details: Any) -> None:
        super().__init__("check failed")
        self.details = details


@dataclass
class HealthReport:
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(check["ok"] for check in self.checks.values())

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ok" if self.ok else "fail", "checks": self.checks}


def _database(now: dt.datetime) -> dict[str, Any]:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {}


def _broker(now: dt.datetime) -> dict[str, Any]:
    url = settings.Q_CLUSTER.get("redis")
    if url:
        import redis

        client = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()
        return {"kind": "redis"}
    from django_q.models import OrmQ

    OrmQ.objects.using(settings.Q_CLUSTER["orm"]).order_by().values_list("pk")[:1].exists()
    return {"kind": "orm"}


def _cache(now: dt.datetime) -> dict[str, Any]:
    cache = caches["default"]
    key, value = f"healthz:{secrets.token_hex(8)}", secrets.token_hex(8)
    cache.set(key, value, timeout=30)
    try:
        if cache.get(key) != value:
            raise CheckFailed(error="read back a different value")
    finally:
        cache.delete(key)
    return {}


def _task_cluster(now: dt.datetime) -> dict[str, Any]:
    from fulfillment.monitoring.models import Heartbeat
    from fulfillment.monitoring.services import HEARTBEAT_NAME

    beat_at = Heartbeat.objects.filter(name=HEARTBEAT_NAME).values_list("beat_at", flat=True).first()
    if beat_at is None:
        raise CheckFailed(error="no heartbeat yet: is manage.py qcluster running?")
    age = int((now - beat_at).total_seconds())
    if age > settings.HEALTH_HEARTBEAT_MAX_AGE_SECONDS:
        raise CheckFailed(
            heartbeat_age_seconds=age, error="heartbeat too old: is manage.py qcluster running?"
        )
    return {"heartbeat_age_seconds": age}


def stores_late(*, now: dt.datetime) -> tuple[int, int]:
    """(connected stores, those whose last successful download is over two intervals old).

    A store never downloaded yet counts from its authorization (or creation):
    a store connected a minute ago is not late. One query.
    """
    from connections.models import Store
    from fulfillment.jobs.models import SyncRun

    last_ok = (
        SyncRun.objects.filter(store=OuterRef("pk"), kind=SyncRun.Kind.ORDER_PULL, ok=True)
        .order_by("-started_at")
        .values("finished_at")[:1]
    )
    rows = (
        Store.objects.connected()
        .annotate(last_ok=Subquery(last_ok))
        .values_list("order_pull_minutes", "last_ok", "authorized_at", "created_at")
    )
    checked = late = 0
    for minutes, last, authorized_at, created_at in rows:
        checked += 1
        since = last or authorized_at or created_at
        if now - since > dt.timedelta(minutes=2 * minutes):
            late += 1
    return checked, late


def _order_downloads(now: dt.datetime) -> dict[str, Any]:
    checked, late = stores_late(now=now)
    figures = {"stores_connected": checked, "stores_late": late}
    if late:
        raise CheckFailed(**figures, error="order download more than two intervals late (see the dashboard)")
    return figures


def _schedules(now: dt.datetime) -> dict[str, Any]:
    """Every schedule the registry declares is in django-q2's table (3 queries)."""
    from fulfillment.jobs.schedules import schedules_missing

    missing = len(schedules_missing(now=now))
    if missing:
        raise CheckFailed(
            schedules_missing=missing, error="schedules missing: run manage.py sync_schedules (bin/release)"
        )
    return {"schedules_missing": 0}


WEB_CHECKS: dict[str, Callable[[dt.datetime], dict[str, Any]]] = {
    "database": _database,
    "broker": _broker,
    "cache": _cache,
}
ALL_CHECKS = {
    **WEB_CHECKS,
    "task_cluster": _task_cluster,
    "order_downloads": _order_downloads,
    "schedules": _schedules,
}


def health_report(*, now: dt.datetime, web_only: bool = False) -> HealthReport:
    report = HealthReport()
    for name, check in (WEB_CHECKS if web_only else ALL_CHECKS).items():
        try:
            report.checks[name] = {"ok": True, **check(now)}
        except CheckFailed as exc:
            report.checks[name] = {"ok": False, **exc.details}
        except Exception as exc:
            # The exception's text can name hosts or carry a URL: log it, answer its class.
            logger.warning("health check %s failed", name, exc_info=True)
            report.checks[name] = {"ok": False, "error": type(exc).__name__}
    return report
